"""The bundled samples in ``data/samples/``: small phantom DICOMs with their truth.

Regenerate them, bit for bit, with::

    python -m hoimg.phantom.samples data/samples

Each sample pins what it must show (lesion kind and stage, transfer syntax, photometric,
spacing tag) and draws everything else from its own (seed, index) stream.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .dataset import truth_document, write_truth
from .generator import generate

SAMPLES_SEED = 20240

#: (file name, overrides). Sizes stay near 1000-1400 px so the folder stays small.
SAMPLES: tuple[tuple[str, dict], ...] = (
    (
        "sample_01_mature_ho.dcm",
        dict(
            rows=1400,
            cols=1150,
            spacing_mm=0.15,
            limb_angle_deg=8.0,
            transfer_syntax="jpeg_ls",
            photometric="MONOCHROME2",
            spacing_source="pixel_spacing",
            lesions=[
                {"kind": "ho", "stage": "mature", "length_mm": 55.0, "gap_mm": 3.0, "u_mm": -20.0}
            ],
        ),
    ),
    (
        "sample_02_intermediate_ho.dcm",
        dict(
            rows=1300,
            cols=1100,
            spacing_mm=0.16,
            limb_angle_deg=-25.0,
            transfer_syntax="jpeg2000",
            photometric="MONOCHROME1",
            spacing_source="imager_corrected",
            lesions=[
                {
                    "kind": "ho",
                    "stage": "intermediate",
                    "length_mm": 45.0,
                    "gap_mm": 2.0,
                    "u_mm": 10.0,
                }
            ],
        ),
    ),
    (
        "sample_03_pos.dcm",
        dict(
            rows=1350,
            cols=1200,
            spacing_mm=0.15,
            limb_angle_deg=15.0,
            transfer_syntax="rle",
            photometric="MONOCHROME2",
            spacing_source="imager_detector_plane",
            lesions=[
                {"kind": "pos", "length_mm": 50.0, "gap_mm": 1.2, "u_mm": 0.0, "density_g_cm3": 1.1}
            ],
        ),
    ),
    (
        "sample_04_mimics.dcm",
        dict(
            rows=1200,
            cols=1200,
            spacing_mm=0.14,
            limb_angle_deg=35.0,
            transfer_syntax="jpeg_lossless_sv1",
            photometric="MONOCHROME1",
            spacing_source="pixel_spacing",
            lesions=[
                {"kind": "vascular", "length_mm": 60.0, "u_mm": -15.0},
                {"kind": "phlebolith", "length_mm": 4.0, "u_mm": 45.0},
            ],
        ),
    ),
    (
        "sample_05_no_lesion.dcm",
        dict(
            rows=1100,
            cols=1300,
            spacing_mm=0.17,
            limb_angle_deg=88.0,
            transfer_syntax="jpeg_ls",
            photometric="MONOCHROME2",
            spacing_source="imager_corrected",
            lesions=[],
        ),
    ),
    (
        "sample_06_immature_ho_punctate.dcm",
        dict(
            rows=1400,
            cols=1100,
            spacing_mm=0.15,
            limb_angle_deg=-5.0,
            transfer_syntax="jpeg2000",
            photometric="MONOCHROME2",
            spacing_source="pixel_spacing",
            lesions=[
                {"kind": "ho", "stage": "immature", "length_mm": 50.0, "gap_mm": 4.0, "u_mm": 20.0},
                {"kind": "punctate", "length_mm": 18.0, "u_mm": -55.0},
            ],
        ),
    ),
    (
        "sample_07_pos_rescaled.dcm",
        dict(
            rows=1250,
            cols=1050,
            spacing_mm=0.18,
            limb_angle_deg=-40.0,
            transfer_syntax="jpeg_ls",
            photometric="MONOCHROME1",
            spacing_source="pixel_spacing",
            modality="DX",
            rescale=(0.5, -1024.0),
            lesions=[{"kind": "pos", "length_mm": 35.0, "gap_mm": 0.8, "u_mm": 0.0}],
        ),
    ),
)


def write_samples(outdir) -> Path:
    """Write the samples and their ``truth.json`` into ``outdir``; returns the truth path."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for index, (name, overrides) in enumerate(SAMPLES):
        ph = generate(SAMPLES_SEED, index, **overrides)
        wanted = len(overrides.get("lesions", []))
        if len(ph.truth["lesions"]) != wanted:  # pragma: no cover - guards edits to SAMPLES
            raise RuntimeError(f"{name}: placed {len(ph.truth['lesions'])} of {wanted} lesions")
        ph.save(out / name)
        cases.append(dict(ph.truth, file=name))
    return write_truth(
        out / "truth.json",
        truth_document(
            cases, seed=SAMPLES_SEED, regenerate="python -m hoimg.phantom.samples data/samples"
        ),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m hoimg.phantom.samples OUTDIR``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m hoimg.phantom.samples OUTDIR", file=sys.stderr)
        return 2
    truth = write_samples(argv[0])
    print(f"wrote {len(SAMPLES)} samples and {truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``generate(seed, index, **overrides) -> Phantom``: one synthetic radiograph with truth."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..radiograph import Radiograph
from .anatomy import Limb
from .placement import HO_STAGES, SAMPLERS
from .processing import sample_processing

#: Transfer syntaxes the generator writes, rotated over case indices.
TRANSFER_SYNTAXES = (
    "explicit_vr_le",
    "rle",
    "jpeg_ls",
    "jpeg2000",
    "implicit_vr_le",
    "jpeg_lossless_sv1",
)
SPACING_SOURCES = ("pixel_spacing", "imager_corrected", "imager_detector_plane")
LESION_KINDS = tuple(SAMPLERS)
_TEXTS = ("STANDING", "AP", "LAT", "PORTABLE", "WEIGHT BEARING", "POST OP", "65 KV 4 MAS", "ERECT")
_FIRST = ("ALEX", "SAM", "ROBIN", "KIM", "JO", "CHRIS", "LEE", "PAT")
_LAST = ("TESTER", "SAMPLE", "PHANTOM", "EXAMPLE", "DUMMY", "MOCK")

_OVERRIDES = {
    "grid_lines",
    "rows",
    "cols",
    "spacing_mm",
    "limb_angle_deg",
    "axis_offset_mm",
    "lesions",
    "kind",
    "stage",
    "n_lesions",
    "noise",
    "scatter",
    "processing",
    "marker",
    "text",
    "collimation",
    "heel",
    "transfer_syntax",
    "photometric",
    "bits_stored",
    "rescale",
    "modality",
    "spacing_source",
    "magnification",
    "dose_per_mm2",
    "effective_kev",
    "spr",
    "limb",
    "mtf50_lp_mm",
}


@dataclass(frozen=True, eq=False)
class Phantom:
    """One synthetic radiograph with its ground truth.

    Attributes
    ----------
    stored : (M, N) ndarray of uint16
        The pixel values exactly as stored in the DICOM file.
    radiograph : Radiograph
        What a correct loader returns: rescale applied, MONOCHROME1 inverted
        (``slope * (2**bits - 1 - stored) + intercept``), higher = denser, spacing per the
        tags a loader should trust.
    truth : dict
        This case's entry of ``truth.json``.
    lesion_labels : (M, N) ndarray of int32
        Projected footprint of truth lesion i at value i (1-based, truth order).
    bone_labels : (M, N) ndarray of int32
        1 where the ray crosses the bone.
    lesion_density : (M, N) ndarray of float32
        Lesion-only hydroxyapatite line integral, mm * g/cm^3.
    dicom : dict
        Everything the DICOM writer needs (tags, transfer syntax, UIDs).
    """

    stored: np.ndarray
    radiograph: Radiograph
    truth: dict
    lesion_labels: np.ndarray
    bone_labels: np.ndarray
    lesion_density: np.ndarray
    dicom: dict = field(repr=False)
    limb: Limb = field(repr=False)
    lesions: tuple = field(repr=False)

    def dataset(self):
        """The phantom as a pydicom Dataset (pixel data encoded in its transfer syntax)."""
        from .dicom_writer import build_dataset

        return build_dataset(self)

    def save(self, path) -> None:
        """Write the phantom as a DICOM Part 10 file."""
        from .dicom_writer import save_dataset

        save_dataset(self.dataset(), path)


def _date(rng: np.random.Generator, first_year: int, last_year: int) -> str:
    y, m, d = rng.integers(first_year, last_year), rng.integers(1, 13), rng.integers(1, 29)
    return f"{int(y)}{int(m):02d}{int(d):02d}"


def _draw_params(rng: np.random.Generator, index: int) -> dict[str, Any]:
    """All scalar parameters of a case, drawn in a fixed order (overrides come later)."""
    p: dict[str, Any] = {}
    p["spacing_mm"] = round(float(rng.uniform(0.1, 0.2)), 3)
    fov_long = rng.uniform(160.0, 350.0)
    cap = 3000 if rng.uniform() < 0.15 else 2000
    long_px = int(np.clip(fov_long / p["spacing_mm"], 800, cap))
    short_px = int(np.clip(long_px * rng.uniform(0.7, 1.0), 800, cap))
    portrait = rng.uniform() < 0.7
    p["rows"], p["cols"] = (long_px, short_px) if portrait else (short_px, long_px)
    if rng.uniform() < 0.85:
        p["limb_angle_deg"] = float(rng.uniform(-45.0, 45.0))
    else:
        p["limb_angle_deg"] = float(rng.uniform(75.0, 105.0) * rng.choice([-1, 1]))
    p["axis_offset_frac"] = (float(rng.uniform(-0.1, 0.1)), float(rng.uniform(-0.12, 0.12)))
    p["effective_kev"] = float(rng.uniform(42.0, 54.0))
    # effective (DQE-weighted) quanta per mm^2 in the open beam: a few uGy at the detector
    # at ~50 keV gives ~1e5-2e6; the low end makes visibly noisy images.
    p["dose_per_mm2"] = float(math.exp(rng.uniform(math.log(1e5), math.log(2e6))))
    p["spr_base"] = float(rng.uniform(0.1, 0.3))
    p["spr_extra"] = float(rng.uniform(0.0, 0.7))
    p["scatter_sigma_mm"] = float(rng.uniform(15.0, 50.0))
    p["mtf50_lp_mm"] = float(rng.uniform(1.5, 2.0))
    p["heel_strength"] = float(rng.uniform(0.03, 0.2))
    p["heel_axis"] = int(rng.integers(4))
    p["collimation_margins"] = tuple(
        float(x) for x in rng.uniform(0.0, 0.09, size=4) * (rng.uniform() < 0.8)
    )
    p["collimator_leak"] = float(rng.uniform(0.02, 0.12))
    p["marker_letter"] = str(rng.choice(["L", "R"]))
    p["marker_corner"] = int(rng.integers(4))
    p["marker_height_mm"] = float(rng.uniform(8.0, 15.0))
    p["marker_inset"] = (float(rng.uniform(0.02, 0.08)), float(rng.uniform(0.02, 0.08)))
    p["text"] = bool(rng.uniform() < 0.4)
    p["text_string"] = str(rng.choice(_TEXTS))
    p["text_height_mm"] = float(rng.uniform(3.0, 6.0))
    p["processing_params"] = sample_processing(rng)
    p["photometric"] = "MONOCHROME1" if rng.uniform() < 0.4 else "MONOCHROME2"
    if rng.uniform() < 0.3:
        p["rescale"] = (
            float(rng.choice([0.25, 0.5, 1.0, 2.0])),
            float(rng.choice([0.0, -1024.0, 1000.0, -500.0])),
        )
    else:
        p["rescale"] = None
    p["modality"] = "CR" if rng.uniform() < 0.5 else "DX"
    p["spacing_source"] = SPACING_SOURCES[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
    p["magnification"] = round(float(rng.uniform(1.03, 1.2)), 4)
    p["transfer_syntax"] = TRANSFER_SYNTAXES[index % len(TRANSFER_SYNTAXES)]
    p["presentation_lut"] = bool(rng.uniform() < 0.6)
    p["window_scale"] = float(rng.uniform(0.8, 1.2))
    p["patient_name"] = f"{rng.choice(_LAST)}^{rng.choice(_FIRST)}"
    p["patient_id"] = f"PH{int(rng.integers(10**6, 10**7))}"
    p["birth_date"] = _date(rng, 1940, 2010)
    p["study_date"] = _date(rng, 2015, 2026)
    p["body_part"] = str(rng.choice(["FEMUR", "HUMERUS", "TIBIA", "FOREARM", "KNEE", "ARM", "LEG"]))
    p["view"] = str(rng.choice(["AP", "PA", "LATERAL"]))
    n_les = int(rng.choice([0, 1, 1, 1, 2, 2]))
    kinds = rng.choice(list(LESION_KINDS), size=2, p=[0.4, 0.3, 0.1, 0.1, 0.1])
    p["lesions"] = [{"kind": str(k)} for k in kinds[:n_les]]
    p["noise_seed"] = int(rng.integers(2**63))
    # rare anisotropic pixels (some CR readers): drawn from a side stream so that adding
    # them moved no other draw
    side = np.random.default_rng([p["noise_seed"], 2])
    ratio, anisotropic = side.uniform(0.9, 1.1), side.uniform() < 0.05
    p["col_spacing_mm"] = round(p["spacing_mm"] * ratio, 4) if anisotropic else p["spacing_mm"]
    for key in ("noise", "scatter", "processing", "marker", "collimation", "heel"):
        p[key] = True
    return p


def _apply_overrides(p: dict, overrides: dict) -> None:
    unknown = set(overrides) - _OVERRIDES
    if unknown:
        raise InvalidInputError(
            f"unknown phantom override(s) {sorted(unknown)}; allowed: {sorted(_OVERRIDES)}"
        )
    ov = dict(overrides)
    if "kind" in ov or "stage" in ov:
        kind = ov.pop("kind", "ho")
        stage = ov.pop("stage", None)
        if kind not in LESION_KINDS:
            raise InvalidInputError(f"kind {kind!r} is not one of {LESION_KINDS}")
        if stage is not None and stage not in HO_STAGES:
            raise InvalidInputError(f"stage {stage!r} is not one of {HO_STAGES}")
        p["lesions"] = [{"kind": kind, "stage": stage}]
    if "n_lesions" in ov:
        n = int(ov.pop("n_lesions"))
        base = [d["kind"] for d in p["lesions"]] + ["ho", "pos"]
        p["lesions"] = [{"kind": k} for k in base[:n]]
    if "lesions" in ov:
        les = ov.pop("lesions")
        for d in les:
            if d.get("kind") not in LESION_KINDS:
                raise InvalidInputError(
                    f"lesion kind {d.get('kind')!r} is not one of {LESION_KINDS}"
                )
        p["lesions"] = [dict(d) for d in les]
    if "transfer_syntax" in ov and ov["transfer_syntax"] not in TRANSFER_SYNTAXES:
        raise InvalidInputError(
            f"transfer_syntax {ov['transfer_syntax']!r} is not one of {TRANSFER_SYNTAXES}"
        )
    if "spacing_source" in ov and ov["spacing_source"] not in SPACING_SOURCES:
        raise InvalidInputError(
            f"spacing_source {ov['spacing_source']!r} is not one of {SPACING_SOURCES}"
        )
    if "bits_stored" in ov:
        p["processing_params"] = dataclasses.replace(
            p["processing_params"], bits_stored=int(ov.pop("bits_stored"))
        )
    if ov.get("processing") is False:
        p["processing_params"] = dataclasses.replace(
            p["processing_params"], usm_gain=0.0, coarse_gain=0.0, gamma=1.0, sigmoid_contrast=0.0
        )
    if "spacing_mm" in ov:
        sp = ov.pop("spacing_mm")
        row, col = (sp, sp) if np.isscalar(sp) else sp
        p["spacing_mm"], p["col_spacing_mm"] = float(row), float(col)
    if "spr" in ov:
        p["spr_base"], p["spr_extra"] = float(ov.pop("spr")), 0.0
    p.update(ov)


def generate(seed: int, index: int = 0, **overrides) -> Phantom:
    """Generate case ``index`` of the phantom dataset ``seed``.

    Parameters
    ----------
    seed, index : int
        The case's random stream is ``default_rng(SeedSequence([seed, index]))``, so any
        case can be regenerated alone and the same pair gives identical bytes.
    **overrides
        Pin parameters (for tests): ``rows``, ``cols``, ``spacing_mm`` (mm, or (row, col)
        mm), ``limb_angle_deg``,
        ``axis_offset_mm`` (row, col mm), ``kind`` and ``stage`` (one lesion), ``lesions``
        (list of dicts with ``kind`` and optional ``stage``, ``side``, ``length_mm``,
        ``gap_mm``, ``u_mm``, ``density_g_cm3``), ``n_lesions``, ``noise``/``scatter``/
        ``processing``/``marker``/``text``/``collimation``/``heel`` (bool), ``transfer_syntax``,
        ``photometric``, ``bits_stored``, ``rescale`` ((slope, intercept) or None),
        ``modality``, ``spacing_source``, ``magnification``, ``dose_per_mm2``,
        ``effective_kev``, ``spr``, ``mtf50_lp_mm``, ``grid_lines`` (bool: anti-scatter grid
        moire, drawn in ~15% of cases), ``limb`` (dict of Limb fields).

    Returns
    -------
    Phantom
    """
    from .render import render_case

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))
    params = _draw_params(rng, index)
    _apply_overrides(params, overrides)
    return render_case(rng, params, seed=int(seed), index=int(index))

"""DICOM round trip for every transfer syntax, and byte-for-byte determinism."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pydicom
import pytest

from hoimg.phantom import TRANSFER_SYNTAXES, generate, write_dataset

TINY = dict(rows=420, cols=380, n_lesions=1)


def _loader_pixels(ds) -> np.ndarray:
    """What a correct loader returns: rescale, then MONOCHROME1 inverted once."""
    arr = ds.pixel_array.astype(np.float64)
    slope = float(ds.get("RescaleSlope", 1.0))
    intercept = float(ds.get("RescaleIntercept", 0.0))
    if ds.PhotometricInterpretation == "MONOCHROME1":
        arr = (2**ds.BitsStored - 1) - arr
    return slope * arr + intercept


@pytest.mark.parametrize("ts", TRANSFER_SYNTAXES)
@pytest.mark.parametrize(
    ("photometric", "spacing_source", "rescale", "bits"),
    [
        ("MONOCHROME1", "imager_corrected", (0.5, -1024.0), 12),
        ("MONOCHROME2", "pixel_spacing", None, 16),
        ("MONOCHROME2", "imager_detector_plane", (2.0, 1000.0), 10),
    ],
)
def test_round_trip(tmp_path, ts, photometric, spacing_source, rescale, bits):
    ph = generate(
        4,
        2,
        **TINY,
        transfer_syntax=ts,
        photometric=photometric,
        spacing_source=spacing_source,
        rescale=rescale,
        bits_stored=bits,
        spacing_mm=0.139,
        magnification=1.12,
    )
    path = tmp_path / "x.dcm"
    ph.save(path)
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == ph.truth["transfer_syntax_uid"]
    assert ds.PhotometricInterpretation == photometric
    assert ds.BitsStored == bits and ds.BitsAllocated == 16 and ds.PixelRepresentation == 0
    np.testing.assert_array_equal(ds.pixel_array, ph.stored)
    assert int(ph.stored.max()) <= 2**bits - 1
    if spacing_source == "pixel_spacing":
        assert [float(x) for x in ds.PixelSpacing] == [0.139, 0.139]
        # detector-plane tags may sit beside Pixel Spacing, consistently with it
        if "ImagerPixelSpacing" in ds:
            ratio = float(ds.ImagerPixelSpacing[0]) / float(ds.PixelSpacing[0])
            assert ratio == pytest.approx(
                float(ds.EstimatedRadiographicMagnificationFactor), rel=1e-4
            )
    else:
        assert "PixelSpacing" not in ds
        assert [float(x) for x in ds.ImagerPixelSpacing] == pytest.approx([0.139 * 1.12] * 2)
        assert ("EstimatedRadiographicMagnificationFactor" in ds) == (
            spacing_source == "imager_corrected"
        )
    expected_spacing = 0.139 * (1.12 if spacing_source == "imager_detector_plane" else 1.0)
    assert ph.radiograph.spacing_mm == pytest.approx((expected_spacing,) * 2, rel=1e-6)
    assert ph.radiograph.spacing_source == spacing_source
    if rescale is None:
        assert "RescaleSlope" not in ds
    else:
        assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == rescale
    np.testing.assert_allclose(_loader_pixels(ds), ph.radiograph.pixels, rtol=0, atol=1e-3)


@pytest.mark.parametrize("spacing_source", ["pixel_spacing", "imager_corrected"])
def test_anisotropic_spacing_round_trip(tmp_path, spacing_source):
    ph = generate(
        4,
        1,
        **TINY,
        spacing_mm=(0.15, 0.135),
        spacing_source=spacing_source,
        magnification=1.1,
        transfer_syntax="jpeg_ls",
    )
    path = tmp_path / "a.dcm"
    ph.save(path)
    ds = pydicom.dcmread(path)
    tag = "PixelSpacing" if spacing_source == "pixel_spacing" else "ImagerPixelSpacing"
    scale = 1.0 if spacing_source == "pixel_spacing" else 1.1
    assert [float(x) for x in ds[tag].value] == pytest.approx([0.15 * scale, 0.135 * scale])
    assert ph.radiograph.spacing_mm == pytest.approx((0.15, 0.135))
    assert "spacing_anisotropic" in ph.radiograph.flags
    assert ph.truth["spacing_mm"] == [0.15, 0.135]


def test_jpeg_lossless_is_selection_value_1(tmp_path):
    ph = generate(4, 0, **TINY, transfer_syntax="jpeg_lossless_sv1")
    ds = ph.dataset()
    from pydicom.encaps import generate_fragmented_frames

    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    i = 2
    while frame[i + 1] != 0xDA:  # walk the marker segments to Start of Scan
        if frame[i + 1] == 0xC3:
            sof3 = True
        i += 2 + int.from_bytes(frame[i + 2 : i + 4], "big")
    n_comp = frame[i + 4]
    assert sof3
    assert frame[i + 5 + 2 * n_comp] == 1  # Ss = predictor selection value 1


def test_denser_tissue_is_higher_after_loading():
    """Bone brighter than soft tissue, soft tissue brighter than air, in both photometrics."""
    for photometric in ("MONOCHROME1", "MONOCHROME2"):
        ph = generate(
            8,
            0,
            **TINY,
            photometric=photometric,
            collimation=False,
            text=False,
            marker=False,
            processing=False,
        )
        px = ph.radiograph.pixels
        bone = np.median(px[ph.bone_labels == 1])
        assert bone > np.median(px[ph.bone_labels == 0])


def test_same_seed_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a.dcm", tmp_path / "b.dcm"
    generate(9, 3, **TINY, transfer_syntax="jpeg2000").save(a)
    generate(9, 3, **TINY, transfer_syntax="jpeg2000").save(b)
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.dcm"
    generate(9, 4, **TINY, transfer_syntax="jpeg2000").save(c)
    assert c.read_bytes() != a.read_bytes()


def test_write_dataset_is_deterministic(tmp_path):
    t1 = write_dataset(tmp_path / "one", n=2, seed=31)
    t2 = write_dataset(tmp_path / "two", n=2, seed=31)
    files = sorted(p.name for p in t1.parent.iterdir())
    assert files == ["case_0000.dcm", "case_0001.dcm", "truth.json"]
    for name in files:
        h1 = hashlib.sha256((t1.parent / name).read_bytes()).hexdigest()
        h2 = hashlib.sha256((t2.parent / name).read_bytes()).hexdigest()
        assert h1 == h2, name
    truth = json.loads(t1.read_text())
    assert [c["file"] for c in truth["cases"]] == ["case_0000.dcm", "case_0001.dcm"]
    ds = pydicom.dcmread(t1.parent / "case_0001.dcm")
    assert ds.file_meta.TransferSyntaxUID == truth["cases"][1]["transfer_syntax_uid"]
    assert str(ds.PatientName) == truth["cases"][1]["patient_name"]

"""PNG, TIFF, NumPy arrays and Radiographs as sources; paths that are not images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _io_factory import grey12

from hoimg import errors
from hoimg.io import load
from hoimg.radiograph import Radiograph, pseudonymous_id


def test_png_8_and_16_bit_grey(tmp_path: Path) -> None:
    import cv2

    img16 = grey12((30, 40), seed=2) * 16
    img8 = (img16 >> 8).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "a16.png"), img16)
    cv2.imwrite(str(tmp_path / "a8.png"), img8)
    got16 = load(tmp_path / "a16.png")
    got8 = load(tmp_path / "a8.png")
    assert np.array_equal(got16.pixels, img16.astype(np.float32))
    assert np.array_equal(got8.pixels, img8.astype(np.float32))
    assert got16.spacing_mm is None and got16.flags == ("spacing_unknown",)
    assert got16.image_id == pseudonymous_id((tmp_path / "a16.png").read_bytes())
    assert load(tmp_path / "a8.png", pixel_spacing_mm=0.1).spacing_source == "user"


def test_rgb_png_is_converted_with_a_warning(tmp_path: Path) -> None:
    import cv2

    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10, 100, 200  # B, G, R
    cv2.imwrite(str(tmp_path / "c.png"), bgr)
    with pytest.warns(UserWarning, match="converted to grey"):
        img = load(tmp_path / "c.png")
    assert "rgb_converted" in img.flags
    np.testing.assert_allclose(img.pixels, 0.299 * 200 + 0.587 * 100 + 0.114 * 10, rtol=1e-6)
    grey_as_rgb = np.repeat(grey12((4, 5)).astype(np.uint8)[..., None], 3, axis=2)
    cv2.imwrite(str(tmp_path / "g.png"), grey_as_rgb)
    plain = load(tmp_path / "g.png")  # no warning: nothing was lost (filterwarnings=error)
    assert "rgb_converted" not in plain.flags
    assert np.array_equal(plain.pixels, grey_as_rgb[..., 0].astype(np.float32))


def test_tiff_16_bit_pages_and_min_is_white(tmp_path: Path) -> None:
    import tifffile

    a, b = grey12((20, 24), seed=1), grey12((20, 24), seed=2)
    tifffile.imwrite(tmp_path / "one.tif", a)
    assert np.array_equal(load(tmp_path / "one.tif").pixels, a.astype(np.float32))
    tifffile.imwrite(tmp_path / "two.tif", np.stack([a, b]))
    with pytest.raises(errors.MultiFrameError):
        load(tmp_path / "two.tif")
    assert np.array_equal(load(tmp_path / "two.tif", frame=1).pixels, b.astype(np.float32))
    tifffile.imwrite(tmp_path / "white.tif", 65535 - a, photometric="miniswhite")
    assert np.array_equal(load(tmp_path / "white.tif").pixels, a.astype(np.float32))


def test_ndarray_source_is_copied_to_float32() -> None:
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    img = load(arr)
    assert img.pixels.dtype == np.float32 and np.array_equal(img.pixels, arr)
    assert not np.shares_memory(img.pixels, arr) and arr.flags.writeable
    assert (
        img.source is None and img.spacing_source == "unknown" and img.flags == ("spacing_unknown",)
    )
    assert img.image_id == load(arr.copy()).image_id  # a hash of the pixels: deterministic
    assert load(arr, pixel_spacing_mm=(0.1, 0.1)).spacing_mm == (0.1, 0.1)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((2, 3, 4)), "2-D"),
        (np.zeros(5), "2-D"),
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.array([[1e300]]), "NaN or infinite"),
        (np.zeros((2, 2), complex), "real numbers"),
        (np.zeros((0, 3)), "empty"),
    ],
)
def test_bad_arrays_are_refused(bad: np.ndarray, match: str) -> None:
    with pytest.raises(errors.InvalidInputError, match=match):
        load(bad)


def test_radiograph_passes_through() -> None:
    rad = Radiograph(pixels=np.ones((2, 2), np.float32))
    assert load(rad) is rad


def test_paths_that_are_not_images(tmp_path: Path) -> None:
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello, this is not DICOM\n" * 20)
    with pytest.raises(errors.NotDicomError, match="empty"):
        load(tmp_path / "empty.dcm")
    with pytest.raises(errors.NotDicomError, match="not a DICOM, PNG or TIFF") as info:
        load(tmp_path / "notes.txt")
    assert str(info.value).startswith(str(tmp_path / "notes.txt") + ": ")
    with pytest.raises(errors.InvalidInputError, match="not found"):
        load(tmp_path / "missing.dcm")
    with pytest.raises(errors.InvalidInputError, match="folder"):
        load(tmp_path)
    with pytest.raises(errors.InvalidInputError, match="source must be"):
        load(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("modality, flagged", [("CT", True), ("MR", True), ("MG", True),
                                               ("DX", False), ("CR", False), ("OT", False)])
def test_dicom_modality_outside_skeletal_radiography_is_flagged(tmp_path: Path, modality, flagged):
    from _io_factory import write_dicom

    img = load(write_dicom(tmp_path / "m.dcm", modality=modality, PixelSpacing=[0.2, 0.2]))
    assert ("modality_out_of_scope" in img.flags) is flagged
    assert img.meta["modality"] == modality

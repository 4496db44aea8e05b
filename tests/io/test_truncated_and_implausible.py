"""Regressions: cut-off compressed files, tiny images, implausible spacings, colour PNGs."""

from pathlib import Path

import numpy as np
import pytest

import hoimg
from hoimg.errors import InvalidInputError, TruncatedPixelDataError

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.mark.parametrize("name", ["sample_01_mature_ho.dcm", "sample_04_mimics.dcm"])
@pytest.mark.parametrize("keep", [0.2, 0.6, 0.95])
def test_file_cut_inside_its_last_fragment_is_truncated_not_ok(tmp_path, name, keep):
    # sample_01 is JPEG-LS, sample_04 JPEG Lossless SV1: both decoders would return a
    # partly filled image from a cut stream
    data = (SAMPLES / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(TruncatedPixelDataError, match=r"fragment at byte \d+ declares") as info:
        hoimg.load(cut)
    assert str(cut) in str(info.value)


def test_too_small_image_is_refused_before_segmentation():
    with pytest.raises(InvalidInputError, match=r"image is 2 x 500 px; hoimg needs at least 64"):
        hoimg.analyze(np.zeros((2, 500), np.float32), pixel_spacing_mm=0.15)


@pytest.mark.parametrize("spacing", [1e-6, 50.0, float("nan"), -0.1])
def test_implausible_user_spacing_is_refused(spacing):
    with pytest.raises(InvalidInputError, match="within 0.005-5.0 mm"):
        hoimg.load(np.zeros((100, 100), np.float32), pixel_spacing_mm=spacing)


def test_colour_png_loads_with_a_flag_even_when_warnings_are_errors(tmp_path):
    import cv2

    rgba = np.zeros((80, 90, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 200, 30, 255  # BGR + alpha
    path = tmp_path / "colour.png"
    cv2.imwrite(str(path), rgba)
    with pytest.warns(UserWarning, match="colour image converted to grey"):
        img = hoimg.load(path)
    assert "rgb_converted" in img.flags and img.shape == (80, 90)


def test_pathologically_nested_sequences_are_a_corrupt_file(tmp_path):
    import io
    import struct

    import pydicom

    from hoimg.errors import CorruptFileError

    fm = pydicom.dataset.FileMetaDataset()
    fm.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    fm.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    fm.MediaStorageSOPInstanceUID = "1.2.3"
    ds = pydicom.Dataset()
    ds.file_meta = fm
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    depth = 5000  # undefined-length sequence inside an item, 5000 deep
    open_ = struct.pack("<HH2s2sI", 0x0008, 0x1140, b"SQ", b"\0\0", 0xFFFFFFFF) + struct.pack(
        "<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    path = tmp_path / "nested.dcm"
    path.write_bytes(buf.getvalue() + open_ * depth + close * depth)
    with pytest.raises(CorruptFileError, match=r"nests sequences too deeply .*RecursionError"):
        hoimg.load(path)

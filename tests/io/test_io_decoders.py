"""Decoder routes: each one bit-exact with pydicom's default decode; missing codecs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _io_factory import grey12, save, write_dicom
from pydicom.pixels import pixel_array

from hoimg import errors
from hoimg.io import _testing, decoders, header, load

# syntax -> the route hoimg must pick for a 12-bit greyscale frame
EXPECTED_ROUTE = {
    "uncompressed": "numpy",
    "rle": "pylibjpeg-rle",
    "jpeg_lossless_sv1": "imagecodecs:jpeg8",
    "jpegls": "imagecodecs:jpegls",
    "j2k": "imagecodecs:jpeg2k",
    "htj2k": "imagecodecs:htj2k",
}


def _decode_with(path: Path, route: str, monkeypatch: pytest.MonkeyPatch, frame: int = 0):
    data = path.read_bytes()
    ds, pixel_data = header.parse_image(data, str(path))
    fmt = header.pixel_format(ds, str(path), max_megapixels=100)
    monkeypatch.setitem(decoders.ROUTES, fmt.transfer_syntax, (route,))
    return decoders.decode_frame(ds, pixel_data, fmt, frame, path=str(path))


@pytest.mark.parametrize("syntax", sorted(EXPECTED_ROUTE))
def test_synthetic_syntaxes_pick_the_fast_route_and_match_pydicom(
    tmp_path: Path, syntax: str
) -> None:
    stored = grey12((70, 90), seed=12)
    path = write_dicom(tmp_path / f"{syntax}.dcm", stored, syntax=syntax)
    img = load(path)
    assert img.meta["decoder"] == EXPECTED_ROUTE[syntax]
    reference = pixel_array(pydicom.dcmread(path))  # pydicom's default plug-in
    assert np.array_equal(reference, stored)
    assert np.array_equal(img.pixels, reference.astype(np.float32))


@pytest.mark.parametrize("syntax", sorted(EXPECTED_ROUTE))
def test_every_listed_route_is_bit_exact(tmp_path: Path, syntax: str, monkeypatch) -> None:
    path = write_dicom(tmp_path / f"{syntax}.dcm", grey12((33, 47), seed=13), syntax=syntax)
    reference = pixel_array(pydicom.dcmread(path))
    ts = _testing.SYNTAXES[syntax]
    for route in decoders.ROUTES[ts]:
        with monkeypatch.context() as m:
            arr, used = _decode_with(path, route, m)
        assert used == route
        assert arr.dtype == reference.dtype and np.array_equal(arr, reference), route


# Real files routed to imagecodecs: JPEG Lossless (SV1 and process 14, signed), JPEG-LS,
# JPEG 2000 with a precision above Bits Stored, 16-bit J2K.
SHARED_IMAGECODECS = [
    "fo-dicom/CT_Cspine_JPLL.dcm",
    "pylibjpeg-data/JPEGLossless_p14_i16_bad.dcm",
    "pylibjpeg-data/JPEGLossless_p14_MR_shoulder.dcm",
    "fo-dicom/MG_biopsy_OutOfBoundsOverlay.dcm",
    "nema_wg04/RG3_JLSL.dcm",
    "pylibjpeg-data/DX_J2K_0Padding_16bit.dcm",
    "pylibjpeg-data/CR_hand_Kakadu44_SOTmarkerincons.dcm",
]


@pytest.mark.parametrize("rel", SHARED_IMAGECODECS)
def test_imagecodecs_route_matches_pydicom_default_on_real_files(
    shared_dicom: Path, rel: str
) -> None:
    path = shared_dicom / rel
    ds, pixel_data = header.parse_image(path.read_bytes(), str(path))
    fmt = header.pixel_format(ds, str(path), max_megapixels=100)
    arr, route = decoders.decode_frame(ds, pixel_data, fmt, 0, path=str(path))
    assert route.startswith("imagecodecs:")
    reference = pixel_array(pydicom.dcmread(path))
    assert arr.dtype == reference.dtype and np.array_equal(arr, reference)


def test_j2k_sign_mismatch_goes_to_pydicom(shared_dicom: Path) -> None:
    img = load(shared_dicom / "pylibjpeg-data/CT_pelvis_TOSHIBA_J2K_PixRep1.dcm")
    assert img.meta["decoder"] == "pydicom:pylibjpeg"


def test_missing_codec_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_dicom(tmp_path / "j2k.dcm", syntax="j2k")
    monkeypatch.setattr(decoders, "_imagecodecs_codec", lambda name: None)
    monkeypatch.setattr(decoders, "_pydicom_plugins", lambda ts: ())
    with pytest.raises(
        errors.UnsupportedCodecError, match="pip install pylibjpeg-openjpeg"
    ) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: (0002,0010) Transfer Syntax UID")
    monkeypatch.undo()
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6.7"  # a private syntax nobody decodes
    with pytest.raises(errors.UnsupportedCodecError, match="convert it to uncompressed DICOM"):
        load(save(ds, tmp_path / "private.dcm"))


def test_a_failing_fast_route_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_dicom(tmp_path / "jll.dcm", grey12((20, 20)), syntax="jpeg_lossless_sv1")

    def broken(frame, **kwargs):
        raise RuntimeError("simulated decoder failure")

    monkeypatch.setattr(decoders, "_imagecodecs_codec", lambda name: broken)
    img = load(path)
    assert img.meta["decoder"] == "pydicom:"
    assert np.array_equal(img.pixels, grey12((20, 20)).astype(np.float32))


@pytest.mark.parametrize(
    "name, route",
    [
        ("image_dfl.dcm", "numpy"),
        ("MR_small_bigendian.dcm", "pydicom:"),
        ("MR_small_RLE.dcm", "pylibjpeg-rle"),
    ],
)
def test_deflated_big_endian_and_rle_match_pydicom(name: str, route: str) -> None:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    img = load(path)
    ds = pydicom.dcmread(path)
    reference = pixel_array(ds).astype(np.float64)
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    assert img.meta["decoder"] == route
    np.testing.assert_array_equal(img.pixels, (slope * reference + intercept).astype(np.float32))

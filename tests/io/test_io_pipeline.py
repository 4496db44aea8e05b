"""The DICOM pixel pipeline: stored bits -> rescale / Modality LUT -> polarity; no VOI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _io_factory import dataset, grey12, save, write_dicom

from hoimg import errors
from hoimg.io import load
from hoimg.radiograph import pseudonymous_id


def test_monochrome1_twin_gives_the_same_pixels(tmp_path: Path) -> None:
    stored = grey12((40, 56), seed=3)
    mono2 = load(write_dicom(tmp_path / "m2.dcm", stored, photometric="MONOCHROME2"))
    mono1 = load(write_dicom(tmp_path / "m1.dcm", 4095 - stored, photometric="MONOCHROME1"))
    assert np.array_equal(mono1.pixels, mono2.pixels)
    assert np.array_equal(mono2.pixels, stored.astype(np.float32))


def test_monochrome1_twin_with_rescale(tmp_path: Path) -> None:
    stored = grey12((40, 56), seed=4)
    tags = dict(RescaleSlope=2, RescaleIntercept=-100)
    mono2 = load(write_dicom(tmp_path / "m2.dcm", stored, **tags))
    mono1 = load(write_dicom(tmp_path / "m1.dcm", 4095 - stored, photometric="MONOCHROME1", **tags))
    assert np.array_equal(mono1.pixels, mono2.pixels)
    assert np.array_equal(mono2.pixels, (2.0 * stored - 100).astype(np.float32))


def test_presentation_lut_inverse_flips_monochrome2_and_is_one_flip_with_monochrome1(
    tmp_path: Path,
) -> None:
    stored = grey12((32, 32), seed=5)
    plain = load(write_dicom(tmp_path / "a.dcm", stored))
    inv2 = load(write_dicom(tmp_path / "b.dcm", 4095 - stored, PresentationLUTShape="INVERSE"))
    inv1 = load(
        write_dicom(
            tmp_path / "c.dcm",
            4095 - stored,
            photometric="MONOCHROME1",
            PresentationLUTShape="INVERSE",
        )
    )
    assert np.array_equal(inv2.pixels, plain.pixels)
    assert np.array_equal(inv1.pixels, plain.pixels)  # PS3.3 C.8.11.6: not a double flip


def test_voi_window_never_touches_pixels_and_is_mirrored_for_monochrome1(tmp_path: Path) -> None:
    stored = grey12((32, 32), seed=6)
    bare = load(write_dicom(tmp_path / "a.dcm", stored))
    windowed = load(write_dicom(tmp_path / "b.dcm", stored, WindowCenter=1500, WindowWidth=800))
    assert np.array_equal(bare.pixels, windowed.pixels)
    assert bare.display_window is None and windowed.display_window == (1500.0, 800.0)
    mono1 = load(
        write_dicom(
            tmp_path / "c.dcm",
            4095 - stored,
            photometric="MONOCHROME1",
            WindowCenter=1500,
            WindowWidth=800,
        )
    )
    assert mono1.display_window == (4095.0 - 1500.0, 800.0)


def test_window_in_rescaled_units_and_untrusted_when_outside_the_data(tmp_path: Path) -> None:
    stored = grey12((32, 32), seed=7)
    ct = load(
        write_dicom(
            tmp_path / "ct.dcm",
            stored,
            modality="CT",
            RescaleIntercept=-1024,
            WindowCenter=40,
            WindowWidth=400,
        )
    )
    assert ct.display_window == (40.0, 400.0)
    assert ct.meta["rescale_type"] == "HU"
    np.testing.assert_array_equal(ct.pixels, stored.astype(np.float32) - 1024)
    far = load(write_dicom(tmp_path / "far.dcm", stored, WindowCenter=60000, WindowWidth=100))
    assert far.display_window is None and "display_window_untrusted" in far.flags


def test_modality_lut_sequence_is_applied(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset

    stored = grey12((32, 32), seed=8)
    ds = dataset(stored)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    item.LUTData = ((3 * np.arange(4096)) % 65536).astype("<u2").tobytes()
    ds.ModalityLUTSequence = [item]
    img = load(save(ds, tmp_path / "lut.dcm"))
    assert np.array_equal(img.pixels, (3 * stored.astype(np.float32)) % 65536)


def test_unused_high_bits_are_masked_or_sign_extended_like_pydicom(tmp_path: Path) -> None:
    from pydicom import dcmread
    from pydicom.pixels import pixel_array

    stored = grey12((16, 16), seed=9)
    dirty = stored | np.uint16(0xF000)  # garbage above Bits Stored = 12
    img = load(write_dicom(tmp_path / "u.dcm", dirty))
    assert np.array_equal(img.pixels, stored.astype(np.float32))
    signed = (stored.astype(np.int16) - 2048) & 0x0FFF  # 12-bit two's complement
    path = write_dicom(tmp_path / "s.dcm", signed.astype(np.int16) | np.int16(0x5000))
    ref = pixel_array(dcmread(path))
    got = load(path).pixels
    assert ref.min() < 0 and np.array_equal(got, ref.astype(np.float32))


def _multiframe(tmp_path: Path, n: int = 3) -> tuple[Path, np.ndarray]:
    from pydicom.dataset import Dataset

    frames = np.stack([grey12((24, 20), seed=20 + k) for k in range(n)])
    ds = dataset(frames[0])
    ds.NumberOfFrames = n
    ds.PixelData = frames.tobytes()
    measures, transform, shared = Dataset(), Dataset(), Dataset()
    measures.PixelSpacing = [0.3, 0.25]
    transform.RescaleSlope, transform.RescaleIntercept = 1, -1000
    shared.PixelMeasuresSequence = [measures]
    shared.PixelValueTransformationSequence = [transform]
    ds.SharedFunctionalGroupsSequence = [shared]
    return save(ds, tmp_path / "multi.dcm"), frames


def test_multiframe_needs_a_frame_and_picks_it(tmp_path: Path) -> None:
    path, frames = _multiframe(tmp_path)
    with pytest.raises(errors.MultiFrameError, match=r"frame=0\.\.2"):
        load(path)
    second = load(path, frame=np.int64(1))
    assert np.array_equal(second.pixels, frames[1].astype(np.float32) - 1000)
    assert second.spacing_mm == (0.3, 0.25) and second.spacing_source == "pixel_spacing"
    assert "spacing_anisotropic" in second.flags
    assert second.meta["frame"] == 1 and second.meta["number_of_frames"] == 3
    assert second.image_id != load(path, frame=0).image_id
    for bad in (3, -1, True, "1"):
        with pytest.raises(errors.InvalidInputError, match="out of range"):
            load(path, frame=bad)


def test_identity_and_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uid = "1.2.826.0.1.3680043.8.498.77"
    write_dicom(
        tmp_path / "x.dcm", sop_instance_uid=uid, BodyPartExamined="KNEE", ViewPosition="AP"
    )
    monkeypatch.chdir(tmp_path)
    img = load("x.dcm")
    assert img.source == "x.dcm"  # as given, never expanded
    assert img.image_id == pseudonymous_id(uid)
    assert img.meta["body_part"] == "KNEE" and img.meta["view"] == "AP"
    text = repr(img) + repr(dict(img.meta))
    for secret in ("SYNTHETIC", "PHANTOM", "SYNTH-0001", "20260101"):
        assert secret not in text


def test_file_without_preamble_or_meta_loads(tmp_path: Path) -> None:
    stored = grey12((20, 30), seed=11)
    ds = dataset(stored)
    del ds.file_meta
    path = tmp_path / "raw.dcm"
    ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert path.read_bytes()[:4] == b"\x08\x00\x05\x00" or path.read_bytes()[:2] == b"\x08\x00"
    img = load(path)
    assert np.array_equal(img.pixels, stored.astype(np.float32))
    assert img.meta["transfer_syntax"] == "1.2.840.10008.1.2"


@pytest.mark.parametrize(
    "sop_class, modality",
    [
        ("1.2.840.10008.5.1.4.1.1.88.11", "SR"),  # Basic Text SR
        ("1.2.840.10008.5.1.4.1.1.481.5", "RTPLAN"),
        ("1.2.840.10008.5.1.4.1.1.9.1.1", "ECG"),  # 12-lead waveform
    ],
)
def test_non_image_objects_are_refused(tmp_path: Path, sop_class: str, modality: str) -> None:
    ds = dataset(modality=modality)
    ds.SOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    with pytest.raises(errors.NotAnImageError, match="not an image"):
        load(save(ds, tmp_path / "obj.dcm"))
    del ds.PixelData
    with pytest.raises(errors.NotAnImageError, match="Pixel Data"):
        load(save(ds, tmp_path / "obj2.dcm"))


@pytest.mark.parametrize("modality", ["CR", "DX", "RG", "MG", "RF", "CT"])
def test_radiograph_modalities_load(tmp_path: Path, modality: str) -> None:
    img = load(write_dicom(tmp_path / "m.dcm", modality=modality))
    assert img.meta["modality"] == modality and img.shape == (48, 64)

"""Every file in ../shared/dicom has an expected outcome (see PROVENANCE.md there).

Reference pixel values were taken from pydicom's own decode (``pixel_array``) followed by
the documented pipeline (``apply_modality_lut``, then ``lo + hi - v`` for MONOCHROME1 /
INVERSE), computed independently of hoimg. Exception, marked below: eCT_Supplemental keeps
its Rescale Intercept only in the functional groups, which ``apply_modality_lut`` ignores,
so its references are pydicom's stored value + (-1024).

Orientation was cross-checked by eye (bones bright in RG2 hip, RG3 tibia, DX chest,
highdicom thorax) and is asserted below with anatomy: in a PA chest the mediastinum is
denser than the lungs; a tibia is denser than the air beside it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from hoimg import errors
from hoimg.io import load

OK = "ok"
# rel path: (frame, outcome) with outcome = error class, or a dict of expectations:
#   shape, inverted (MONOCHROME1 / INVERSE), source (spacing_source), spacing (mm or None),
#   px: [(row, col, value)], flags (exact tuple), decoder (route prefix)
EXPECTED: dict[str, tuple[int | None, object]] = {
    "fo-dicom/CR-MONO1-10-chest.dcm": (
        None,
        dict(  # no file meta, no preamble
            shape=(440, 440),
            inverted=True,
            source="unknown",
            spacing=None,
            px=[(0, 0, 1023.0), (220, 220, 738.0), (146, 293, 334.0)],
            flags=("spacing_unknown",),
            decoder="numpy",
        ),
    ),
    "fo-dicom/CR-ModalitySequenceLUT.dcm": (
        None,
        dict(
            shape=(1576, 1976),
            inverted=True,
            source="pixel_spacing",
            spacing=(0.15, 0.15),
            px=[(0, 0, 64512.0), (788, 988, 65212.0), (525, 1317, 64512.0)],
            flags=(),
            decoder="imagecodecs",
        ),
    ),
    "fo-dicom/CT-MONO2-16-ankle.dcm": (
        None,
        dict(
            shape=(512, 512),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 3056.0), (256, 256, 1408.0), (170, 341, -896.0)],
            flags=("spacing_unknown", "modality_out_of_scope"),
            decoder="numpy",
        ),
    ),
    "fo-dicom/CT_Cspine_JPLL.dcm": (
        None,
        dict(
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.291015625,) * 2,
            px=[(0, 0, 26.0), (256, 256, 21.0), (170, 341, 18.0)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "fo-dicom/CT_Lspine_GH1308.dcm": (
        None,
        dict(
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.253906,) * 2,
            px=[(0, 0, -3024.0), (256, 256, 353.0), (170, 341, 9.0)],
            flags=("modality_out_of_scope",),
            decoder="numpy",
        ),
    ),
    "fo-dicom/DBT_Hologic_GH1376.dcm": (None, errors.TruncatedPixelDataError),
    "fo-dicom/GH177_CT1_undefined_length_corrupt.dcm": (None, errors.CorruptFileError),
    "fo-dicom/MG_GE_GH133.dcm": (
        None,
        dict(  # IPS with magnification factor 1.0
            shape=(3062, 2394),
            inverted=False,
            source="imager_corrected",
            spacing=(0.09409090909091,) * 2,
            px=[(0, 0, 0.0), (1531, 1197, 2197.0), (1020, 1596, 2293.0)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "fo-dicom/MG_biopsy_OutOfBoundsOverlay.dcm": (
        None,
        dict(  # IPS 0.085 / magnification
            shape=(788, 1318),
            inverted=False,
            source="imager_corrected",
            spacing=(0.08146923076923249,) * 2,
            px=[(0, 0, 320.0), (394, 659, 1436.0), (262, 878, 164.0)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "fo-dicom/XA_multiframe_jpeg_96f.dcm": (None, errors.MultiFrameError),
    "fo-dicom/XA_multiframe_jpeg_96f.dcm#0": (
        0,
        dict(
            shape=(512, 512),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 0.0), (256, 256, 73.0), (170, 341, 37.0)],
            flags=("spacing_unknown", "modality_out_of_scope"),
            decoder="pydicom",
        ),
    ),
    "highdicom/highdicom_dx_image.dcm": (
        None,
        dict(  # MONOCHROME1 + INVERSE: one flip
            shape=(169, 211),
            inverted=True,
            source="pixel_spacing",
            spacing=(1.2, 1.201199999999),
            px=[(0, 0, 44.0), (84, 105, 80.0), (56, 140, 88.0)],
            flags=(),
            decoder="numpy",
        ),
    ),
    "nema_wg04/MG1_J2KI.dcm": (
        None,
        dict(
            shape=(4664, 3064),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 4086.0), (2332, 1532, 2213.0), (1554, 2042, 494.0)],
            flags=("spacing_unknown",),
            decoder="imagecodecs",
        ),
    ),
    "nema_wg04/MG1_JPLY.dcm": (None, errors.CorruptFileError),  # SOS Se=0: no decoder can
    "nema_wg04/RG1_J2KI.dcm": (
        None,
        dict(  # Pixel Spacing 0\0
            shape=(1955, 1841),
            inverted=True,
            source="unknown",
            spacing=None,
            px=[(0, 0, 13891.0), (977, 920, 29425.0), (651, 1227, 16029.0)],
            flags=("spacing_invalid", "spacing_unknown"),
            decoder="imagecodecs",
        ),
    ),
    "nema_wg04/RG1_JLSN.dcm": (
        None,
        dict(
            shape=(1955, 1841),
            inverted=True,
            source="unknown",
            spacing=None,
            px=[(0, 0, 13876.0), (977, 920, 29325.0), (651, 1227, 16054.0)],
            flags=("spacing_invalid", "spacing_unknown"),
            decoder="imagecodecs",
        ),
    ),
    **{
        f"nema_wg04/RG2_{kind}.dcm": (
            None,
            dict(
                shape=(2140, 1760),
                inverted=False,
                source="pixel_spacing",
                spacing=(0.2, 0.2),
                px=[(0, 0, 893.0), (1070, 880, 404.0), (713, 1173, 288.0)],
                flags=(),
                decoder=route,
            ),
        )
        for kind, route in (
            ("UNC", "numpy"),
            ("J2KR", "imagecodecs"),
            ("JLSL", "imagecodecs"),
            ("JPLL", "imagecodecs"),
            ("RLE", "pylibjpeg-rle"),
        )
    },
    "nema_wg04/RG2_JPLY.dcm": (None, errors.CorruptFileError),
    **{
        f"nema_wg04/RG3_{kind}.dcm": (
            None,
            dict(  # MONOCHROME1, no spacing at all
                shape=(1760, 1760),
                inverted=True,
                source="unknown",
                spacing=None,
                px=[(0, 0, 1023.0), (880, 880, 717.0), (586, 1173, 11.0)],
                flags=("spacing_unknown",),
                decoder=route,
            ),
        )
        for kind, route in (
            ("UNC", "numpy"),
            ("J2KR", "imagecodecs"),
            ("JLSL", "imagecodecs"),
            ("JPLL", "imagecodecs"),
        )
    },
    "pydicom-data/CT_neck_bad_sequence.dcm": (
        None,
        dict(
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.287109375,) * 2,
            px=[(0, 0, 58.0), (256, 256, 202.0), (170, 341, 37.0)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "pydicom-data/eCT_Supplemental.dcm": (None, errors.MultiFrameError),
    "pydicom-data/eCT_Supplemental.dcm#0": (
        0,
        dict(  # spacing + rescale in functional groups
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.388672, 0.388672),
            px=[(0, 0, -1024.0), (256, 256, 81.0), (170, 341, 67.0)],
            flags=("modality_out_of_scope",),
            decoder="numpy",
        ),
    ),
    "pydicom-data/emri_small_big_endian.dcm": (None, errors.MultiFrameError),
    "pydicom-data/emri_small_big_endian.dcm#0": (
        0,
        dict(
            shape=(64, 64),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 31.0), (32, 32, 110.0), (21, 42, 311.0)],
            flags=("spacing_unknown", "modality_out_of_scope"),
            decoder="pydicom",
        ),
    ),
    # dcmread() gives an empty dataset (no sequence delimiter), but hoimg reads the header
    # before Pixel Data and the fragments directly, so every frame still decodes.
    "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm": (None, errors.MultiFrameError),
    "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm#0": (
        0,
        dict(
            shape=(64, 64),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 31.0), (32, 32, 110.0), (21, 42, 311.0)],
            flags=("spacing_unknown", "modality_out_of_scope"),
            decoder="imagecodecs",
        ),
    ),
    "pydicom-data/mlut_18.dcm": (
        None,
        dict(  # Modality LUT Sequence
            shape=(512, 512),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 32759.0), (256, 256, 31447.0), (170, 341, 39321.0)],
            flags=("spacing_unknown",),
            decoder="numpy",
        ),
    ),
    "pydicom-data/vlut_04.dcm": (
        None,
        dict(  # VOI LUT Sequence: never applied to pixels
            shape=(512, 512),
            inverted=False,
            source="unknown",
            spacing=None,
            px=[(0, 0, 127.0), (256, 256, 122.0), (170, 341, 153.0)],
            flags=("spacing_unknown",),
            decoder="numpy",
        ),
    ),
    "pylibjpeg-data/CR_hand_Kakadu44_SOTmarkerincons.dcm": (
        None,
        dict(
            shape=(2500, 2048),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.115, 0.115),
            px=[(0, 0, 1.0), (1250, 1024, 680.0), (833, 1365, 387.0)],
            flags=(),
            decoder="imagecodecs",
        ),
    ),
    "pylibjpeg-data/CT_pelvis_TOSHIBA_J2K_PixRep1.dcm": (
        None,
        dict(  # J2K sign mismatch
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.656, 0.656),
            px=[(0, 0, -2048.0), (256, 256, 119.0), (170, 341, 230.0)],
            flags=("modality_out_of_scope",),
            decoder="pydicom:pylibjpeg",
        ),
    ),
    "pylibjpeg-data/DX_J2K_0Padding_16bit.dcm": (
        None,
        dict(  # IPS only; window off-range
            shape=(1416, 1420),
            inverted=False,
            source="imager_detector_plane",
            spacing=(0.4, 0.4),
            px=[(0, 0, 46547.0), (708, 710, 33594.0), (472, 946, 34279.0)],
            flags=("display_window_untrusted", "spacing_detector_plane"),
            decoder="imagecodecs",
        ),
    ),
    "pylibjpeg-data/DX_chest_966.dcm": (None, errors.CorruptFileError),  # bad COM marker
    "pylibjpeg-data/DX_chest_966_fixed.dcm": (
        None,
        dict(  # MONOCHROME1 + INVERSE
            shape=(2128, 2000),
            inverted=True,
            source="pixel_spacing",
            spacing=(0.16, 0.16),
            px=[(0, 0, 2122.0), (1064, 1000, 3215.0), (709, 1333, 2691.0)],
            flags=(),
            decoder="imagecodecs",
        ),
    ),
    "pylibjpeg-data/JPEGLossless_p14_MR_shoulder.dcm": (
        None,
        dict(  # slope 3.774114
            shape=(1024, 1024),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.195313,) * 2,
            px=[(0, 0, 6.1e-05), (512, 512, 1139.782489), (341, 682, 184.931647)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "pylibjpeg-data/JPEGLossless_p14_i16_bad.dcm": (
        None,
        dict(  # signed 16-bit
            shape=(512, 512),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.332031,) * 2,
            px=[(0, 0, -3024.0), (256, 256, 89.0), (170, 341, -4125.0)],
            flags=("modality_out_of_scope",),
            decoder="imagecodecs",
        ),
    ),
    "pylibjpeg-data/RG2_JPLY_fixed.dcm": (
        None,
        dict(  # JPEG Extended 12-bit, lossy
            shape=(2140, 1760),
            inverted=False,
            source="pixel_spacing",
            spacing=(0.2, 0.2),
            px=[(0, 0, 894.0), (1070, 880, 410.0), (713, 1173, 287.0)],
            flags=(),
            decoder="pydicom",
        ),
    ),
}


@cache
def _load(root: str, rel: str, frame: int | None):
    return load(Path(root) / rel, frame=frame)


def _rel(key: str) -> str:
    return key.split("#")[0]


def test_table_covers_every_shared_file(shared_dicom: Path) -> None:
    on_disk = {p.relative_to(shared_dicom).as_posix() for p in shared_dicom.rglob("*.dcm")}
    assert on_disk == {_rel(k) for k in EXPECTED}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_shared_file_outcome(shared_dicom: Path, key: str) -> None:
    frame, want = EXPECTED[key]
    path = shared_dicom / _rel(key)
    if isinstance(want, type):
        with pytest.raises(want) as info:
            load(path, frame=frame)
        message = str(info.value)
        assert type(info.value) is want  # the exact class, not just a parent
        assert "\n" not in message and message.startswith(str(path) + ": ")
        return
    assert isinstance(want, dict)
    img = _load(str(shared_dicom), _rel(key), frame)
    assert img.shape == want["shape"]
    assert img.pixels.dtype == np.float32
    assert img.spacing_source == want["source"]
    if want["spacing"] is None:
        assert img.spacing_mm is None
    else:
        np.testing.assert_allclose(img.spacing_mm, want["spacing"], rtol=1e-9)
    assert img.flags == tuple(sorted(want["flags"]))
    inverted = img.meta["photometric"] == "MONOCHROME1"
    assert inverted == want["inverted"]
    for row, col, value in want["px"]:
        assert img.pixels[row, col] == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert str(img.meta["decoder"]).startswith(want["decoder"])
    assert img.source == str(path)
    assert len(img.image_id) == 12


@pytest.mark.parametrize(
    "reference, twins",
    [
        ("nema_wg04/RG2_UNC.dcm", ["RG2_JPLL", "RG2_JLSL", "RG2_J2KR", "RG2_RLE"]),
        ("nema_wg04/RG3_UNC.dcm", ["RG3_JPLL", "RG3_JLSL", "RG3_J2KR"]),
    ],
)
def test_lossless_pairs_are_bit_identical(
    shared_dicom: Path, reference: str, twins: list[str]
) -> None:
    ref = _load(str(shared_dicom), reference, None)
    for twin in twins:
        img = _load(str(shared_dicom), f"nema_wg04/{twin}.dcm", None)
        assert np.array_equal(img.pixels, ref.pixels), twin
        assert img.spacing_mm == ref.spacing_mm and img.flags == ref.flags


@pytest.mark.parametrize(
    "rel",
    [
        "nema_wg04/RG1_J2KI.dcm",
        "fo-dicom/CR-MONO1-10-chest.dcm",
        "pylibjpeg-data/DX_chest_966_fixed.dcm",
    ],
)
def test_chest_pa_mediastinum_denser_than_lungs(shared_dicom: Path, rel: str) -> None:
    px = _load(str(shared_dicom), rel, None).pixels
    rows, cols = px.shape
    band = slice(rows // 4, 3 * rows // 4)
    mediastinum = px[band, int(cols * 0.45) : int(cols * 0.55)].mean()
    lung = px[band, int(cols * 0.15) : int(cols * 0.30)].mean()
    assert mediastinum > lung * 1.15


def test_tibia_denser_than_air_and_hip_femur_denser_than_thigh(shared_dicom: Path) -> None:
    tibia = _load(str(shared_dicom), "nema_wg04/RG3_UNC.dcm", None).pixels  # MONOCHROME1
    assert tibia[430:450, 830:850].mean() > 10 * tibia[430:450, 522:542].mean() + 100
    hip = _load(str(shared_dicom), "nema_wg04/RG2_UNC.dcm", None).pixels  # MONOCHROME2
    assert hip[1220:1240, 1247:1267].mean() > hip[1862:1882, 792:812].mean() + 300


def test_display_window_in_pixel_units(shared_dicom: Path) -> None:
    # RG3: MONOCHROME1 10-bit, header window 550/1024 -> mirrored centre 1023 - 550
    assert _load(str(shared_dicom), "nema_wg04/RG3_UNC.dcm", None).display_window == (473.0, 1024.0)
    assert _load(str(shared_dicom), "nema_wg04/RG2_UNC.dcm", None).display_window == (511.0, 1024.0)
    # window 2725/5310 lies below every stored value (32744..65535): not trusted
    assert (
        _load(str(shared_dicom), "pylibjpeg-data/DX_J2K_0Padding_16bit.dcm", None).display_window
        is None
    )


def test_meta_holds_no_identifiers(shared_dicom: Path) -> None:
    from hoimg.radiograph import SAFE_META_FIELDS

    img = _load(str(shared_dicom), "nema_wg04/RG3_UNC.dcm", None)
    assert set(img.meta) <= set(SAFE_META_FIELDS)
    assert img.meta["modality"] == "CR" and img.meta["body_part"] == "EXTREMITY"
    assert img.meta["transfer_syntax"] == "1.2.840.10008.1.2.1" and img.meta["bits_stored"] == 10

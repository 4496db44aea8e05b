"""The spacing chain (DOMAIN.md order), invalid values, anisotropy and the user override."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _io_factory import write_dicom

from hoimg import errors
from hoimg.io import load
from hoimg.io.spacing import spacing_from_tags


@pytest.mark.parametrize(
    "ps, ips, mag, spacing, source, flags",
    [
        # 1. Pixel Spacing wins over everything
        ([0.2, 0.2], [0.3, 0.3], 1.2, (0.2, 0.2), "pixel_spacing", ()),
        # 2. Imager Pixel Spacing / Estimated Radiographic Magnification Factor
        (None, [0.3, 0.3], 1.2, (0.25, 0.25), "imager_corrected", ()),
        # 3. raw Imager Pixel Spacing: detector plane, flagged
        (
            None,
            [0.15, 0.15],
            None,
            (0.15, 0.15),
            "imager_detector_plane",
            ("spacing_detector_plane",),
        ),
        # 4. nothing: unknown, never 1.0
        (None, None, None, None, "unknown", ("spacing_unknown",)),
        # a zero Pixel Spacing counts as missing, with a flag; the chain continues
        (
            ["0", "0"],
            [0.15, 0.15],
            None,
            (0.15, 0.15),
            "imager_detector_plane",
            ("spacing_invalid", "spacing_detector_plane"),
        ),
        ([0.0, 0.0], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        ([-0.1, 0.1], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        ([math.nan, 0.1], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        ([math.inf, math.inf], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        (["abc"], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        ([0.1, 0.1, 0.1], None, None, None, "unknown", ("spacing_invalid", "spacing_unknown")),
        # a magnification below 1 is impossible: keep the detector-plane value, flag it
        (
            None,
            [0.3, 0.3],
            0.5,
            (0.3, 0.3),
            "imager_detector_plane",
            ("spacing_invalid", "spacing_detector_plane"),
        ),
        # anisotropic spacing is kept as (row, col) and flagged
        ([0.2, 0.1], None, None, (0.2, 0.1), "pixel_spacing", ("spacing_anisotropic",)),
        ([0.2, 0.2015], None, None, (0.2, 0.2015), "pixel_spacing", ()),  # within 1%
        # a single value is malformed but unambiguous
        (0.14, None, None, (0.14, 0.14), "pixel_spacing", ()),
    ],
)
def test_chain(ps, ips, mag, spacing, source, flags) -> None:
    result = spacing_from_tags(ps, ips, mag)
    assert result.source == source
    assert result.flags == flags
    if spacing is None:
        assert result.spacing_mm is None
    else:
        np.testing.assert_allclose(result.spacing_mm, spacing, rtol=1e-12)


def test_chain_through_dicom_files(tmp_path: Path) -> None:
    both = load(
        write_dicom(tmp_path / "a.dcm", PixelSpacing=[0.1, 0.1], ImagerPixelSpacing=[0.12, 0.12])
    )
    assert (both.spacing_mm, both.spacing_source) == ((0.1, 0.1), "pixel_spacing")
    corrected = load(
        write_dicom(
            tmp_path / "b.dcm",
            ImagerPixelSpacing=[0.143, 0.143],
            EstimatedRadiographicMagnificationFactor=1.1,
        )
    )
    np.testing.assert_allclose(corrected.spacing_mm, (0.13, 0.13), rtol=1e-12)
    assert corrected.spacing_source == "imager_corrected" and corrected.flags == ()
    zero = load(write_dicom(tmp_path / "c.dcm", PixelSpacing=["0", "0"]))
    assert zero.spacing_mm is None and zero.flags == ("spacing_invalid", "spacing_unknown")


def test_user_override_wins_and_is_recorded(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "a.dcm", PixelSpacing=["0", "0"])
    img = load(path, pixel_spacing_mm=(0.15, 0.16))
    assert img.spacing_mm == (0.15, 0.16) and img.spacing_source == "user"
    assert img.flags == ("spacing_anisotropic",)
    iso = load(path, pixel_spacing_mm=0.2)
    assert iso.spacing_mm == (0.2, 0.2) and iso.flags == ()
    again = load(load(path), pixel_spacing_mm=0.3)  # override on a Radiograph
    assert again.spacing_mm == (0.3, 0.3) and again.spacing_source == "user" and again.flags == ()


@pytest.mark.parametrize("bad", [0, -1.0, (0.1,), (0.1, 0.2, 0.3), (0.1, math.nan), "0.1", None])
def test_invalid_user_spacing_is_refused(tmp_path: Path, bad) -> None:
    path = write_dicom(tmp_path / "a.dcm")
    if bad is None:
        assert load(path, pixel_spacing_mm=bad).spacing_source == "unknown"
        return
    with pytest.raises(errors.InvalidInputError, match="pixel_spacing_mm"):
        load(path, pixel_spacing_mm=bad)

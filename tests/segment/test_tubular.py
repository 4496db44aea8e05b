"""_is_tubular on analytic projections: a calcified vessel's band against HO and POS shapes."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.segment._grid import WorkGrid, gaussian
from hoimg.segment.lesions import _is_tubular

PX = 0.4  # mm per working pixel
GRID = WorkGrid((300, 300), (PX, PX), PX, (300, 300), False)


def _frame(angle_deg=20.0):
    """Local (along, across) coordinates in mm of every pixel of a 300 x 300 grid."""
    yy, xx = (np.mgrid[:300, :300] - 150.0) * PX
    a = np.deg2rad(angle_deg)
    return yy * np.cos(a) + xx * np.sin(a), -yy * np.sin(a) + xx * np.cos(a)


def _tube(radius_mm, wall_mm=0.5, length_mm=50.0, wave_mm=0.0, wavelength_mm=60.0):
    """Projected wall of a tube along ``along`` (tram lines), blurred by 0.4 mm, and its support."""
    along, across = _frame()
    d = np.abs(across - wave_mm * np.sin(2 * np.pi * along / wavelength_mm))
    r, ri = radius_mm, radius_mm - wall_mm
    wall = 2 * (np.sqrt(np.clip(r * r - d * d, 0, None)) - np.sqrt(np.clip(ri * ri - d * d, 0, None)))
    wall *= np.abs(along) <= length_mm / 2
    return gaussian(wall.astype(np.float32), 0.4 / PX), (d < r + 1.0) & (np.abs(along) <= length_mm / 2 + 1)


@pytest.mark.parametrize("radius_mm", [1.8, 2.5, 3.0])
def test_a_vessel_is_tubular_even_with_a_faint_margin_grown_on_one_side(radius_mm):
    res, mask = _tube(radius_mm)
    assert _is_tubular(res, mask, GRID)
    # growth added a 6 mm margin at a tenth of the walls' density along one side: the
    # outline is now 12-ish mm wide, the dense band is not
    along, across = _frame()
    margin = (across > radius_mm) & (across < radius_mm + 6.0) & (np.abs(along) < 20)
    grown = np.where(margin, np.float32(0.1 * res.max()), res)
    assert _is_tubular(grown, mask | margin, GRID)


def test_a_gently_waving_vessel_is_tubular():
    res, mask = _tube(2.5, wave_mm=2.0, wavelength_mm=60.0)
    assert _is_tubular(res, mask, GRID)


def test_too_short_or_too_wide_a_band_is_not_tubular():
    res, mask = _tube(2.5, length_mm=20.0)  # 18 mm of stations
    assert not _is_tubular(res, mask, GRID)
    res, mask = _tube(5.5)  # an 11 mm tube is wider than a limb artery
    assert not _is_tubular(res, mask, GRID)


def _shell(semi_a=25.0, semi_b=10.0, thickness=3.0):
    """Projection of an ellipsoidal shell (HO): rim-dense, lucent centre."""
    along, across = _frame()
    def chord(a, b):
        q = 1 - (along / a) ** 2 - (across / b) ** 2
        return 2 * b * np.sqrt(np.clip(q, 0, None))
    proj = chord(semi_a, semi_b) - chord(semi_a - thickness, semi_b - thickness)
    return gaussian(proj.astype(np.float32), 0.4 / PX), (along / semi_a) ** 2 + (across / semi_b) ** 2 <= 1


def test_a_whole_shell_or_one_arc_of_its_rim_is_not_tubular():
    res, mask = _shell()
    assert not _is_tubular(res, mask, GRID)  # both rims: 20 mm apart
    # one side of the rim only (the other too faint to be found): a band that curves
    # round the lesion, 7.5 mm off a straight line at its ends
    res, mask = _shell(semi_b=15.0, thickness=2.0)
    along, across = _frame()
    assert not _is_tubular(res, mask & (across > 0), GRID)


def test_a_broad_centre_dense_body_is_not_tubular():
    along, across = _frame()
    q = np.clip(1 - (along / 20.0) ** 2 - (across / 8.0) ** 2, 0, None)
    res = gaussian((q ** 1.5).astype(np.float32), 0.4 / PX)
    assert not _is_tubular(res, q > 0, GRID)

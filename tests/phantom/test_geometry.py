"""Closed-form projections against their analytic answers (issue 2 test list)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hoimg.phantom.geometry import (
    centre_dense_integral_mm,
    ellipse_chord_mm,
    shell_chord_mm,
    sphere_chord_mm,
)
from hoimg.phantom.lesions import LobulatedLesion, ShellLesion


def _radial_profile(image: np.ndarray, centre_rc, spacing_mm, n_bins):
    rr, cc = np.indices(image.shape)
    r = np.hypot(rr - centre_rc[0], cc - centre_rc[1]) * spacing_mm
    edges = np.linspace(0, r.max(), n_bins + 1)
    idx = np.digitize(r.ravel(), edges) - 1
    sums = np.bincount(idx, image.ravel(), minlength=n_bins + 1)[:n_bins]
    counts = np.bincount(idx, minlength=n_bins + 1)[:n_bins]
    return 0.5 * (edges[1:] + edges[:-1]), sums / np.maximum(counts, 1)


@pytest.mark.parametrize(("radius_mm", "wall_mm"), [(20.0, 2.0), (15.0, 3.0), (8.0, 0.8)])
def test_spherical_shell_rim_centre_ratio(radius_mm, wall_mm):
    """A mineral shell projects with rim/centre path ratio sqrt((2R - t) / t) (DOMAIN.md)."""
    spacing = 0.02
    n = int(2 * radius_mm / spacing) + 11
    coords = (np.arange(n) - n // 2) * spacing
    shell = ShellLesion(
        kind="phlebolith",
        centre_uv_mm=(0.0, 0.0),
        semi_axes_mm=(radius_mm,) * 3,
        tilt_rad=0.0,
        thickness_mm=wall_mm,
        rim_density=1.0,
        core_density=0.0,
    )
    image = shell.mineral(coords[:, None], coords[None, :])
    centre = image[n // 2, n // 2]
    expected = math.sqrt((2 * radius_mm - wall_mm) / wall_mm)
    assert centre == pytest.approx(2 * wall_mm, rel=1e-9)
    assert image.max() / centre == pytest.approx(expected, rel=0.05)
    # the maximum sits just inside the outer edge, at r = R - t
    r_peak = np.hypot(*np.unravel_index(image.argmax(), image.shape) - np.array([n // 2, n // 2]))
    assert r_peak * spacing == pytest.approx(radius_mm - wall_mm, abs=2 * spacing)


def test_shell_chord_matches_outer_minus_inner_sphere():
    r = np.linspace(0, 12, 50)
    got = shell_chord_mm(r, 0.0, 10.0, 10.0, 10.0, 2.0)
    want = sphere_chord_mm(r**2, 10.0) - sphere_chord_mm(r**2, 8.0)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_uniform_ball_projects_brightest_at_centre():
    radius = 10.0
    r = np.linspace(0, radius, 101)
    chord = sphere_chord_mm(r**2, radius)
    np.testing.assert_allclose(chord, 2 * np.sqrt(radius**2 - r**2))
    assert chord.argmax() == 0
    assert np.all(np.diff(chord) < 0)


def test_ellipse_chord_is_zero_outside_and_full_depth_on_axis():
    v = np.array([0.0, 30.0, 40.0, 50.0])
    got = ellipse_chord_mm(v, 40.0, 25.0)
    np.testing.assert_allclose(got, [50.0, 2 * 25 * math.sqrt(1 - 0.5625), 0.0, 0.0])


@pytest.mark.parametrize("power", [0.0, 1.0, 1.7, 2.5])
def test_centre_dense_integral_matches_quadrature(power):
    """C q^(p+1/2) K(p) equals a brute-force z integral of (1 - rho^2)^p."""
    semi = (12.0, 7.0, 9.0)
    a, b = 4.0, -2.5
    z = np.linspace(-semi[2], semi[2], 200001)
    rho2 = (a / semi[0]) ** 2 + (b / semi[1]) ** 2 + (z / semi[2]) ** 2
    integrand = np.where(rho2 < 1, np.clip(1 - rho2, 0, None) ** power, 0.0)
    numeric = float(np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(z)))
    got = centre_dense_integral_mm(a, b, *semi, power)
    assert got == pytest.approx(numeric, rel=2e-4)


def test_centre_dense_lesion_projects_centre_bright():
    """A POS-like lobe (density falling from the centre) is brightest at its centre and its
    profile decreases monotonically outwards -- unlike a shell."""

    class _FlatBone:  # cortex far away so the cleft rule never cuts the lobe
        def bone_radius_mm(self, u):
            return np.zeros_like(np.asarray(u, dtype=float))

    lobe = np.array([[0.0, 0.0, 15.0, 10.0, 10.0, 0.3, 0.8]])
    les = LobulatedLesion(
        kind="pos",
        lobes=lobe,
        power=1.5,
        side=1,
        gap_mm=0.0,
        attach_u_mm=(0.0, 0.0),
        base_overlap_mm=0.0,
        bone_offset_mm=-100.0,
        limb=_FlatBone(),
    )
    coords = np.arange(-20, 20.05, 0.1)
    image = les.mineral(coords[:, None], coords[None, :])
    centre = np.unravel_index(image.argmax(), image.shape)
    assert abs(coords[centre[0]]) < 0.11 and abs(coords[centre[1]]) < 0.11
    _, prof = _radial_profile(image, centre, 0.1, 12)
    inside = prof[prof > 0]
    assert np.all(np.diff(inside) < 0)

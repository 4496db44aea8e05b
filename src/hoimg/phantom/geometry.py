"""Closed-form line integrals through analytic solids, for rays along the beam (z).

Every solid here is aligned so that the beam runs along its z axis; in-plane positions are
given in the solid's own (a, b) frame in mm. The functions return path lengths (or
density-weighted path lengths) in mm, so that a whole 3-D solid projects in one vectorised
expression instead of a voxelised volume.
"""

from __future__ import annotations

import math

import numpy as np


def ellipse_chord_mm(v: np.ndarray, half_width_mm, half_depth_mm) -> np.ndarray:
    """Chord along z through an elliptic cylinder whose axis lies in the image plane.

    Parameters
    ----------
    v : ndarray
        Lateral distance from the cylinder axis, mm.
    half_width_mm, half_depth_mm : float or ndarray
        Semi-axes of the elliptic cross-section across the image (v) and along the beam (z).

    Returns
    -------
    ndarray
        ``2 * half_depth * sqrt(1 - (v / half_width)**2)``, zero outside.
    """
    q = 1.0 - np.square(v / half_width_mm)
    return 2.0 * half_depth_mm * np.sqrt(np.maximum(q, 0.0))


def ellipsoid_q(a: np.ndarray, b: np.ndarray, semi_a_mm, semi_b_mm) -> np.ndarray:
    """``1 - (a/A)**2 - (b/B)**2``: positive where a ray at (a, b) meets the ellipsoid."""
    return 1.0 - np.square(a / semi_a_mm) - np.square(b / semi_b_mm)


def ellipsoid_chord_mm(a, b, semi_a_mm, semi_b_mm, semi_c_mm) -> np.ndarray:
    """Chord along z through an ellipsoid with semi-axes (A, B, C), C along the beam."""
    q = ellipsoid_q(a, b, semi_a_mm, semi_b_mm)
    return 2.0 * semi_c_mm * np.sqrt(np.maximum(q, 0.0))


def shell_chord_mm(a, b, semi_a_mm, semi_b_mm, semi_c_mm, thickness_mm) -> np.ndarray:
    """Path length through an ellipsoidal shell of wall ``thickness_mm``.

    The inner surface is the ellipsoid with every semi-axis reduced by the wall thickness.
    For a sphere of radius R the result is ``2 sqrt(t (2R - t))`` at r = R - t and ``2 t``
    at the centre, so the rim/centre ratio is ``sqrt((2R - t) / t)`` (DOMAIN.md).
    """
    outer = ellipsoid_chord_mm(a, b, semi_a_mm, semi_b_mm, semi_c_mm)
    inner = ellipsoid_chord_mm(
        a, b, semi_a_mm - thickness_mm, semi_b_mm - thickness_mm, semi_c_mm - thickness_mm
    )
    return outer - inner


def centre_dense_norm(power: float) -> float:
    """``integral_{-1}^{1} (1 - x^2)^p dx``: the z factor of :func:`centre_dense_integral_mm`."""
    return math.sqrt(math.pi) * math.gamma(power + 1.0) / math.gamma(power + 1.5)


def centre_dense_integral_mm(a, b, semi_a_mm, semi_b_mm, semi_c_mm, power: float) -> np.ndarray:
    """Line integral along z of ``(1 - rho^2)^p`` over an ellipsoid (rho = ellipsoidal radius).

    With ``q = 1 - (a/A)^2 - (b/B)^2`` the integral is ``C q^(p + 1/2) K(p)`` with
    ``K(p) = sqrt(pi) Gamma(p + 1) / Gamma(p + 3/2)``; for p = 0 this is the plain chord.
    A density that peaks at the centre and falls to zero at the surface (``p > 0``) models
    inside-out mineralisation.
    """
    q = np.maximum(ellipsoid_q(a, b, semi_a_mm, semi_b_mm), 0.0)
    return semi_c_mm * centre_dense_norm(power) * np.power(q, power + 0.5)


def sphere_chord_mm(d_sq_mm2: np.ndarray, radius_mm: float) -> np.ndarray:
    """Chord along z through a sphere at squared in-plane distance ``d_sq`` from its centre."""
    return 2.0 * np.sqrt(np.maximum(radius_mm * radius_mm - d_sq_mm2, 0.0))


def rotate_to_local(du, dv, angle_rad: float):
    """Rotate in-plane offsets (du, dv) into a frame turned by ``angle_rad``; returns (a, b)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return du * c + dv * s, -du * s + dv * c

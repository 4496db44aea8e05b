"""Lesions as 3-D mineral density fields, each with a closed-form projection along z.

Every lesion answers three questions about a ray through limb coordinates (u, v) in mm:
``mineral(u, v)`` -- the hydroxyapatite line integral (mm * g/cm^3) along the beam;
``support(u, v)`` -- whether the ray meets the lesion (its projected footprint);
``bounds_uv()`` -- a box (u0, u1, v0, v1) that contains the footprint.
Mineral is added on top of the soft tissue it sits in (DOMAIN.md gives mu per g/cm^3 of
hydroxyapatite), so a lesion never has to be painted into the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .geometry import centre_dense_integral_mm, ellipsoid_q, rotate_to_local

CLASS_OF_KIND = {
    "ho": "heterotopic_ossification",
    "pos": "parosteal_osteosarcoma",
    "phlebolith": "other",
    "vascular": "other",
    "punctate": "other",
}


def _rotated_half_extents(semi_a: float, semi_b: float, tilt: float) -> tuple[float, float]:
    c, s = abs(math.cos(tilt)), abs(math.sin(tilt))
    return math.hypot(semi_a * c, semi_b * s), math.hypot(semi_a * s, semi_b * c)


def _spheres_mineral(u, v, spheres: np.ndarray) -> np.ndarray:
    """Sum of uniform balls; ``spheres`` rows are (u, v, radius_mm, density_g_cm3)."""
    out = np.zeros(np.broadcast(u, v).shape, dtype=np.float64)
    for su, sv, r, rho in spheres:
        d2 = np.square(u - su) + np.square(v - sv)
        inside = d2 < r * r
        if inside.any():
            out[inside] += rho * 2.0 * np.sqrt(r * r - d2[inside])
    return out


def _spheres_support(u, v, spheres: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(u, v).shape, dtype=bool)
    for su, sv, r, _ in spheres:
        out |= (np.square(u - su) + np.square(v - sv)) < r * r
    return out


@dataclass(frozen=True, eq=False)
class ShellLesion:
    """An ellipsoidal mineral shell (HO, or a phlebolith when small and round).

    The shell's inner surface is the ellipsoid with every semi-axis reduced by
    ``thickness_mm``. Rim density may be modulated by a smooth random function of
    direction (patchy, incomplete rims); ``blobs`` add flocculent mineral (immature HO).
    """

    kind: str
    centre_uv_mm: tuple[float, float]
    semi_axes_mm: tuple[float, float, float]  # along the lesion's long axis, across, beam
    tilt_rad: float
    thickness_mm: float
    rim_density: float  # g/cm^3 hydroxyapatite in the shell
    core_density: float  # g/cm^3 inside the shell (0 = lucent centre)
    patch_amplitude: float = 0.0
    patch_waves: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # kx, ky, kz, phase
    blobs: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # u, v, r, rho
    stage: str | None = None

    def _local(self, u, v):
        return rotate_to_local(u - self.centre_uv_mm[0], v - self.centre_uv_mm[1], self.tilt_rad)

    def _modulation(self, x, y, z) -> np.ndarray:
        if self.patch_amplitude <= 0 or len(self.patch_waves) == 0:
            return np.ones(np.broadcast(x, y, z).shape)
        acc = np.zeros(np.broadcast(x, y, z).shape)
        for kx, ky, kz, ph in self.patch_waves:
            acc += np.cos(kx * x + ky * y + kz * z + ph)
        acc *= self.patch_amplitude / math.sqrt(len(self.patch_waves) / 2.0)
        return np.maximum(1.0 + acc, 0.0)

    def mineral(self, u, v) -> np.ndarray:
        """Hydroxyapatite line integral along z, mm * g/cm^3."""
        a, b = self._local(u, v)
        sa, sb, sc = self.semi_axes_mm
        t = self.thickness_mm
        outer_half = sc * np.sqrt(np.maximum(ellipsoid_q(a, b, sa, sb), 0.0))
        inner_half = (sc - t) * np.sqrt(np.maximum(ellipsoid_q(a, b, sa - t, sb - t), 0.0))
        shell = 2.0 * (outer_half - inner_half)
        # The ray crosses the shell twice (front and back); evaluate the 3-D rim
        # modulation at the middle of each crossing and average them.
        zmid = 0.5 * (outer_half + inner_half) / sc
        x, y = a / sa, b / sb
        mod = 0.5 * (self._modulation(x, y, zmid) + self._modulation(x, y, -zmid))
        out = self.rim_density * shell * mod + self.core_density * 2.0 * inner_half
        if len(self.blobs):
            out = out + _spheres_mineral(u, v, self.blobs)
        return out

    def support(self, u, v) -> np.ndarray:
        """Projected footprint: the outer ellipsoid's outline (plus any blobs)."""
        a, b = self._local(u, v)
        inside = ellipsoid_q(a, b, self.semi_axes_mm[0], self.semi_axes_mm[1]) > 0
        if len(self.blobs):
            inside = inside | _spheres_support(u, v, self.blobs)
        return inside

    def bounds_uv(self) -> tuple[float, float, float, float]:
        hu, hv = _rotated_half_extents(self.semi_axes_mm[0], self.semi_axes_mm[1], self.tilt_rad)
        uc, vc = self.centre_uv_mm
        box = [uc - hu, uc + hu, vc - hv, vc + hv]
        for su, sv, r, _ in self.blobs:
            box = [
                min(box[0], su - r),
                max(box[1], su + r),
                min(box[2], sv - r),
                max(box[3], sv + r),
            ]
        return tuple(box)  # type: ignore[return-value]

    def extras(self) -> dict:
        """Kind-specific truth fields."""
        return {
            "shell_thickness_mm": round(self.thickness_mm, 3),
            "rim_density_g_cm3": round(self.rim_density, 4),
            "core_density_g_cm3": round(self.core_density, 4),
            "depth_mm": round(2 * self.semi_axes_mm[2], 3),
        }


@dataclass(frozen=True, eq=False)
class LobulatedLesion:
    """Parosteal osteosarcoma: a union of centre-dense ellipsoidal lobes on the cortex.

    Each lobe's density is ``rho0 (1 - r^2)^p`` (r = ellipsoidal radius), so mineral is
    densest at the lobe centres; the dense base lobe and the body overlap at the base.
    A periosteal cleft of width ``gap_mm`` separates the lesion from the cortex except
    along the attachment interval ``attach_u_mm``, where the lesion reaches
    ``base_overlap_mm`` over the cortex edge. The cleft is a layer around the bone that the
    tumour does not occupy; on the silhouette side it is the band
    ``R(u) < side * (v - v_bone) < R(u) + gap`` for every depth z, so cutting it out of the
    projection is exact.
    """

    kind: str
    lobes: np.ndarray  # rows: u, v, semi_a, semi_b, semi_c, tilt, rho0
    power: float
    side: int
    gap_mm: float
    attach_u_mm: tuple[float, float]
    base_overlap_mm: float
    bone_offset_mm: float
    limb: object  # anatomy.Limb, for the cortex edge
    stage: str | None = None

    def _allowed(self, u, v) -> np.ndarray:
        dist = self.side * (v - self.bone_offset_mm) - self.limb.bone_radius_mm(u)
        attached = (u >= self.attach_u_mm[0]) & (u <= self.attach_u_mm[1])
        return dist >= np.where(attached, -self.base_overlap_mm, self.gap_mm)

    def mineral(self, u, v) -> np.ndarray:
        out = np.zeros(np.broadcast(u, v).shape)
        for lu, lv, sa, sb, sc, tilt, rho in self.lobes:
            a, b = rotate_to_local(u - lu, v - lv, tilt)
            out += rho * centre_dense_integral_mm(a, b, sa, sb, sc, self.power)
        return out * self._allowed(u, v)

    def support(self, u, v) -> np.ndarray:
        inside = np.zeros(np.broadcast(u, v).shape, dtype=bool)
        for lu, lv, sa, sb, _, tilt, _ in self.lobes:
            a, b = rotate_to_local(u - lu, v - lv, tilt)
            inside |= ellipsoid_q(a, b, sa, sb) > 0
        return inside & self._allowed(u, v)

    def bounds_uv(self) -> tuple[float, float, float, float]:
        box = [np.inf, -np.inf, np.inf, -np.inf]
        for lu, lv, sa, sb, _, tilt, _ in self.lobes:
            hu, hv = _rotated_half_extents(sa, sb, tilt)
            box = [
                min(box[0], lu - hu),
                max(box[1], lu + hu),
                min(box[2], lv - hv),
                max(box[3], lv + hv),
            ]
        return tuple(float(x) for x in box)  # type: ignore[return-value]

    def extras(self) -> dict:
        return {
            "peak_density_g_cm3": round(float(self.lobes[:, 6].max()), 4),
            "density_power": round(self.power, 3),
            "n_lobes": len(self.lobes),
            "designed_gap_mm": round(self.gap_mm, 3),
        }


@dataclass(frozen=True, eq=False)
class TubeLesion:
    """Vascular calcification: a calcified vessel wall (tube) running along the limb.

    A ray at distance d from the tube axis crosses the wall over
    ``2 (sqrt(r^2 - d^2) - sqrt((r - w)^2 - d^2))``, which projects as tram lines.
    """

    kind: str
    u_range_mm: tuple[float, float]
    v0_mm: float
    tilt_rad: float
    wave_amp_mm: float
    wavelength_mm: float
    phase: float
    radius_mm: float
    wall_mm: float
    density: float
    stage: str | None = None

    def _dist(self, u, v):
        umid = 0.5 * (self.u_range_mm[0] + self.u_range_mm[1])
        a, b = rotate_to_local(u - umid, v - self.v0_mm, self.tilt_rad)
        k = 2 * math.pi / self.wavelength_mm
        line = self.wave_amp_mm * np.sin(k * a + self.phase)
        slope = self.wave_amp_mm * k * np.cos(k * a + self.phase)
        half = 0.5 * (self.u_range_mm[1] - self.u_range_mm[0])
        return np.abs(b - line) / np.sqrt(1 + slope * slope), np.abs(a) <= half

    def mineral(self, u, v) -> np.ndarray:
        d, inrange = self._dist(u, v)
        r, ri = self.radius_mm, self.radius_mm - self.wall_mm
        wall = 2 * (np.sqrt(np.maximum(r * r - d * d, 0)) - np.sqrt(np.maximum(ri * ri - d * d, 0)))
        return self.density * wall * inrange

    def support(self, u, v) -> np.ndarray:
        d, inrange = self._dist(u, v)
        return (d < self.radius_mm) & inrange

    def bounds_uv(self) -> tuple[float, float, float, float]:
        half = 0.5 * (self.u_range_mm[1] - self.u_range_mm[0])
        hv = self.wave_amp_mm + self.radius_mm
        hu2, hv2 = _rotated_half_extents(half, hv, self.tilt_rad)
        umid = 0.5 * (self.u_range_mm[0] + self.u_range_mm[1])
        return (umid - hu2, umid + hu2, self.v0_mm - hv2, self.v0_mm + hv2)

    def extras(self) -> dict:
        return {"vessel_radius_mm": round(self.radius_mm, 3), "wall_mm": round(self.wall_mm, 3)}


@dataclass(frozen=True, eq=False)
class DotCluster:
    """Punctate calcifications: a cluster of small uniform mineral balls."""

    kind: str
    dots: np.ndarray  # rows: u, v, radius_mm, density
    stage: str | None = None

    def mineral(self, u, v) -> np.ndarray:
        return _spheres_mineral(u, v, self.dots)

    def support(self, u, v) -> np.ndarray:
        return _spheres_support(u, v, self.dots)

    def bounds_uv(self) -> tuple[float, float, float, float]:
        d = self.dots
        return (
            float((d[:, 0] - d[:, 2]).min()),
            float((d[:, 0] + d[:, 2]).max()),
            float((d[:, 1] - d[:, 2]).min()),
            float((d[:, 1] + d[:, 2]).max()),
        )

    def extras(self) -> dict:
        return {
            "n_dots": len(self.dots),
            "max_dot_diameter_mm": round(float(2 * self.dots[:, 2].max()), 3),
        }

"""The limb: skin, subcutaneous fat, muscle and a tubular bone with a metaphyseal flare,
sometimes a second, slimmer parallel bone (forearm, leg) and fat planes between muscle
compartments.

Everything is described in *limb coordinates* (mm): ``u`` along the limb axis, ``v`` across
it in the image plane, ``z`` along the beam. All solids are cylinders along ``u`` whose
cross-sections vary slowly with ``u``, so each ray's path lengths are closed-form chords.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import ellipse_chord_mm


@dataclass(frozen=True)
class Limb:
    """Geometry of one limb segment (all mm).

    Attributes
    ----------
    half_width_mm, half_depth_mm : float
        Outer semi-axes of the limb cross-section (across the image, along the beam).
    taper_per_mm : float
        Relative change of the limb width per mm along ``u`` (limbs taper distally).
    skin_mm, fat_mm : float
        Skin and subcutaneous fat thickness.
    bone_offset_mm : float
        Lateral offset of the bone axis from the limb axis (the bone is rarely central).
    shaft_radius_mm, flare_radius_mm : float
        Outer bone radius at the diaphysis and at the metaphysis.
    flare_centre_mm, flare_width_mm, flare_direction : float
        Where along ``u`` the flare rises, over what length, and towards which end (+1/-1).
    cortex_mm : float
        Diaphyseal cortical thickness; it thins in the flare in proportion to the radius.
    trabecular_density_g_cm3 : float
        Hydroxyapatite in the metaphyseal marrow (trabecular bone), fading into the shaft.
    second_bone : (offset_mm, radius_mm, cortex_mm) or None
        A straight, slimmer bone parallel to the main one (ulna/fibula-like).
    fat_planes : tuple of (v_centre_mm, half_width_mm, half_depth_mm, thickness_mm)
        Elliptic fat sheaths around muscle compartments; seen edge-on they project as
        faint lucent lines along the limb.
    """

    half_width_mm: float
    half_depth_mm: float
    taper_per_mm: float
    skin_mm: float
    fat_mm: float
    bone_offset_mm: float
    shaft_radius_mm: float
    flare_radius_mm: float
    flare_centre_mm: float
    flare_width_mm: float
    flare_direction: float
    cortex_mm: float
    trabecular_density_g_cm3: float
    second_bone: tuple[float, float, float] | None = None
    fat_planes: tuple[tuple[float, float, float, float], ...] = ()

    # -- bone ---------------------------------------------------------------------------
    def flare_fraction(self, u: np.ndarray) -> np.ndarray:
        """0 in the diaphysis, 1 in the metaphysis (a smooth logistic step along ``u``)."""
        x = self.flare_direction * (np.asarray(u) - self.flare_centre_mm)
        return 1.0 / (1.0 + np.exp(-np.clip(x / self.flare_width_mm, -40.0, 40.0)))

    def bone_radius_mm(self, u: np.ndarray) -> np.ndarray:
        """Outer (periosteal) bone radius at ``u``."""
        return self._radius_from_flare(self.flare_fraction(u))

    def marrow_radius_mm(self, u: np.ndarray) -> np.ndarray:
        """Inner (endosteal) radius: the cortex thins where the bone flares."""
        return self._marrow_from_radius(self.bone_radius_mm(u))

    def _radius_from_flare(self, f):
        return self.shaft_radius_mm + (self.flare_radius_mm - self.shaft_radius_mm) * f

    def _marrow_from_radius(self, r):
        return r - self.cortex_mm * (self.shaft_radius_mm / r) ** 1.5

    def cortex_edge_v_mm(self, u: np.ndarray, side: int) -> np.ndarray:
        """``v`` of the projected outer cortex edge on ``side`` (+1 or -1) of the bone."""
        return self.bone_offset_mm + side * self.bone_radius_mm(u)

    # -- soft tissue --------------------------------------------------------------------
    def outer_half_width_mm(self, u: np.ndarray) -> np.ndarray:
        """Limb half width at ``u`` (tapering)."""
        return self.half_width_mm * np.clip(1.0 + self.taper_per_mm * u, 0.6, 1.4)

    def path_lengths_mm(self, u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
        """Path length of each tissue along the ray through (u, v), mm.

        Returns a dict with keys ``skin`` (counted as muscle-like soft tissue), ``fat``,
        ``muscle``, ``cortical_bone``, ``marrow``, ``trabecular_mm_g_cm3`` (the
        hydroxyapatite line integral in the marrow, mm * g/cm^3) and ``bone_mask`` (int32:
        1 on the main bone's projected footprint, 2 on the second bone's).
        """
        scale = np.clip(1.0 + self.taper_per_mm * u, 0.6, 1.4)
        w = self.half_width_mm * scale
        d = self.half_depth_mm * scale
        outer = ellipse_chord_mm(v, w, d)
        below_skin = ellipse_chord_mm(v, w - self.skin_mm, d - self.skin_mm)
        muscle_all = ellipse_chord_mm(
            v, w - self.skin_mm - self.fat_mm, d - self.skin_mm - self.fat_mm
        )
        # the bone radius depends on u only: evaluate it once for the whole grid
        flare = self.flare_fraction(u)
        r_out = self._radius_from_flare(flare)
        r_in = self._marrow_from_radius(r_out)
        dv = v - self.bone_offset_mm
        bone = ellipse_chord_mm(dv, r_out, r_out)
        marrow = ellipse_chord_mm(dv, r_in, r_in)
        trab = self.trabecular_density_g_cm3 * flare * marrow
        mask = (bone > 0).astype(np.int32)
        all_bone, all_marrow = bone, marrow
        if self.second_bone is not None:
            off, r2, c2 = self.second_bone
            bone2 = ellipse_chord_mm(v - off, r2, r2)
            marrow2 = ellipse_chord_mm(v - off, r2 - c2, r2 - c2)
            mask[bone2 > 0] = 2
            all_bone, all_marrow = bone + bone2, marrow + marrow2
        planes = 0.0
        for vc, hw, hd, t in self.fat_planes:
            planes = planes + (
                ellipse_chord_mm(v - vc, hw, hd) - ellipse_chord_mm(v - vc, hw - t, hd - t)
            )
        muscle = np.maximum(muscle_all - all_bone - planes, 0.0)
        return {
            "skin": outer - below_skin,
            "fat": below_skin - muscle_all + (muscle_all - all_bone - muscle).clip(0.0),
            "muscle": muscle,
            "cortical_bone": all_bone - all_marrow,
            "marrow": all_marrow,
            "trabecular_mm_g_cm3": trab,
            "bone_mask": mask,
        }

    def bone_mask(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """True where the ray crosses the main bone (its projected footprint)."""
        return np.abs(v - self.bone_offset_mm) < self.bone_radius_mm(u)

    def bone_intervals_v(self, u: float) -> list[tuple[float, float]]:
        """Lateral (v) extents of every bone at ``u``, main bone first."""
        r = float(self.bone_radius_mm(np.float64(u)))
        out = [(self.bone_offset_mm - r, self.bone_offset_mm + r)]
        if self.second_bone is not None:
            off, r2, _ = self.second_bone
            out.append((off - r2, off + r2))
        return out


def sample_limb(rng: np.random.Generator, half_length_mm: float) -> Limb:
    """Draw a limb from forearm to thigh sizes.

    Sizes are drawn on one "limb scale" so bone and soft tissue stay in proportion, with
    independent jitter so neither can be predicted from the other exactly.
    ``half_length_mm`` is half the image extent along the limb, so the metaphyseal flare
    lands inside the field of view most of the time (and sometimes just outside it).
    """
    flare_dir = float(rng.choice([-1.0, 1.0]))
    scale = rng.uniform(0.0, 1.0)  # 0 = slim forearm, 1 = large thigh
    half_width = 28.0 + 55.0 * scale * rng.uniform(0.8, 1.2)
    half_depth = half_width * rng.uniform(0.8, 1.1)
    shaft_r = (6.0 + 9.0 * scale) * rng.uniform(0.85, 1.15)
    fat = rng.uniform(2.0, 6.0 + 10.0 * scale)
    skin = rng.uniform(1.0, 2.0)
    muscle_half = half_width - skin - fat
    # the bone must sit inside muscle with room for a lesion beside it
    max_off = max(0.0, 0.35 * muscle_half - shaft_r * 0.5)
    offset = rng.uniform(-max_off, max_off)
    # draws for the optional anatomy happen every time, so the stream never shifts
    has_second = rng.uniform() < 0.25
    side2 = float(rng.choice([-1.0, 1.0]))
    r2 = shaft_r * rng.uniform(0.4, 0.7)
    gap2 = rng.uniform(4.0, 20.0)
    n_planes = int(rng.integers(0, 4))
    plane_draws = rng.uniform(size=(3, 4))
    second = None
    if has_second:
        off2 = offset + side2 * (shaft_r + gap2 + r2)
        if abs(off2) + r2 < muscle_half - 3.0:
            second = (float(off2), float(r2), float(r2 * 0.35))
    planes = []
    for k in range(n_planes):
        a, b, c, d = plane_draws[k]
        hw = muscle_half * (0.3 + 0.4 * a)
        vc = (muscle_half - hw) * (2 * b - 1)
        planes.append((float(vc), float(hw), float(half_depth * (0.3 + 0.4 * c)), 1.0 + 2.0 * d))
    return Limb(
        half_width_mm=half_width,
        half_depth_mm=half_depth,
        taper_per_mm=rng.uniform(-0.002, 0.002),
        skin_mm=skin,
        fat_mm=fat,
        bone_offset_mm=offset,
        shaft_radius_mm=shaft_r,
        flare_radius_mm=shaft_r * rng.uniform(1.3, 1.9),
        flare_centre_mm=flare_dir * half_length_mm * rng.uniform(0.2, 1.1),
        flare_width_mm=rng.uniform(6.0, 15.0),
        flare_direction=flare_dir,
        cortex_mm=shaft_r * rng.uniform(0.2, 0.38),
        trabecular_density_g_cm3=rng.uniform(0.05, 0.2),
        second_bone=second,
        fat_planes=tuple(planes),
    )

"""Draw lesions of each kind and place them in the limb (all sizes in mm).

Numbers follow DOMAIN.md: HO 20-80 mm in muscle with a complete 1-5 mm cleft; POS 15-80 mm,
broadly attached (> 1/3 of its length) with a 0.5-2 mm string sign beside the attachment;
phleboliths 2-5 mm, vascular tram lines, punctate clusters of 0.5-2 mm dots.
Every function takes ``spec`` (overrides such as ``length_mm``, ``gap_mm``, ``side``,
``u_mm``, ``stage``, ``density_g_cm3`` -- HO rim or POS peak mineral density) and draws
everything else from ``rng``; pinned values never shift the other draws.
"""

from __future__ import annotations

import math

import numpy as np

from .lesions import DotCluster, LobulatedLesion, ShellLesion, TubeLesion
from .truth_geometry import nearest_gap_mm

HO_STAGES = ("immature", "intermediate", "mature")

# (shell thickness mm, rim density g/cm^3, core density g/cm^3, rim patchiness)
# immature: faint, thin, flocculent; intermediate: thin rim, lucent centre;
# mature: thick dense rim, the centre partly filled (DOMAIN.md time course). Patchiness
# above ~0.5 opens gaps in the rim (DOMAIN.md: rim continuity 0.3-0.8 when intermediate).
_HO_STAGE_RANGES = {
    "immature": ((0.8, 2.0), (0.06, 0.15), (0.0, 0.02), (0.7, 1.0)),
    "intermediate": ((1.0, 2.5), (0.2, 0.45), (0.0, 0.04), (0.35, 0.8)),
    "mature": ((2.0, 5.0), (0.35, 0.8), (0.03, 0.15), (0.05, 0.25)),
}


def _pick(spec: dict, key: str, drawn):
    """``spec[key]`` when pinned, else the drawn value. The draw always happens, so pinning
    one parameter leaves every other draw of the case unchanged."""
    value = spec.get(key)
    return drawn if value is None else value


def _muscle_half_width(limb, u: float) -> float:
    return float(limb.outer_half_width_mm(np.float64(u))) - limb.skin_mm - limb.fat_mm


def lateral_room_mm(limb, u: float, side: int) -> float:
    """Soft tissue between the cortex edge on ``side`` and the next obstacle (the muscle
    boundary, or the second bone when it lies on that side), mm."""
    r = float(limb.bone_radius_mm(np.float64(u)))
    room = _muscle_half_width(limb, u) - side * limb.bone_offset_mm - r
    if limb.second_bone is not None:
        off2, r2, _ = limb.second_bone
        if side * (off2 - limb.bone_offset_mm) > 0:
            room = min(room, abs(off2 - limb.bone_offset_mm) - r - r2)
    return room


def _draw_side(rng, limb, spec: dict) -> int:
    """Which side of the main bone a bone-surface lesion goes: random, but away from a
    second bone (the interosseous space is too narrow for a 1-5 mm cleft and a lesion)."""
    drawn = int(rng.choice([-1, 1]))
    if limb.second_bone is not None:
        drawn = -1 if limb.second_bone[0] > limb.bone_offset_mm else 1
    return int(_pick(spec, "side", drawn))


def _patch_waves(rng, n: int = 6) -> np.ndarray:
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    k = rng.uniform(2.0, 5.0, size=(n, 1))
    return np.hstack([d * k, rng.uniform(0, 2 * math.pi, size=(n, 1))])


def _shift_to_gap(lesion_factory, limb, side: int, target_gap: float, vc: float):
    """Move a lesion across the limb until its nearest footprint point is ``target_gap`` away."""
    les = lesion_factory(vc)
    for _ in range(4):
        g = nearest_gap_mm(les, limb, side)
        if abs(g - target_gap) < 0.01:
            break
        vc += side * (target_gap - g)
        les = lesion_factory(vc)
    return les


def sample_ho(rng, limb, spec: dict) -> ShellLesion:
    """Heterotopic ossification: an ellipsoidal shell elongated along the muscle."""
    stage = _pick(spec, "stage", HO_STAGES[int(rng.integers(3))])
    side = _draw_side(rng, limb, spec)
    u_c = float(spec.get("u_mm", 0.0))
    length = float(_pick(spec, "length_mm", rng.uniform(20.0, 80.0)))
    gap = float(_pick(spec, "gap_mm", rng.uniform(1.0, 5.0)))
    aspect = rng.uniform(0.35, 0.7)
    depth_ratio = rng.uniform(0.8, 1.3)
    tilt = math.radians(rng.uniform(-12.0, 12.0))
    (t_lo, t_hi), rim_r, core_r, patch_r = _HO_STAGE_RANGES[stage]
    t_draw, rim, core, patch = (
        rng.uniform(t_lo, t_hi),
        float(_pick(spec, "density_g_cm3", rng.uniform(*rim_r))),
        rng.uniform(*core_r),
        rng.uniform(*patch_r),
    )
    waves = _patch_waves(rng)
    n_blobs = int(rng.integers(15, 40)) if stage == "immature" else 0
    blob_dirs = rng.normal(size=(n_blobs, 3))
    blob_r = rng.uniform(0.8, 2.5, size=n_blobs)
    blob_rho = rng.uniform(0.05, 0.15, size=n_blobs)

    semi_a = length / 2
    room = lateral_room_mm(limb, u_c, side) - gap
    semi_b = min(semi_a * aspect, max(0.45 * room, 4.0))
    semi_a = max(semi_a, semi_b * 1.1)
    semi_c = semi_b * depth_ratio
    t = min(t_draw, 0.4 * semi_b)

    def make(vc: float) -> ShellLesion:
        blobs = np.zeros((0, 4))
        if n_blobs:
            d = blob_dirs / np.linalg.norm(blob_dirs, axis=1, keepdims=True)
            a = d[:, 0] * (semi_a - t / 2)
            b = d[:, 1] * (semi_b - t / 2)
            du = a * math.cos(tilt) - b * math.sin(tilt)
            dv = a * math.sin(tilt) + b * math.cos(tilt)
            blobs = np.column_stack([u_c + du, vc + dv, np.minimum(blob_r, 0.6 * semi_b), blob_rho])
        return ShellLesion(
            kind="ho",
            centre_uv_mm=(u_c, vc),
            semi_axes_mm=(semi_a, semi_b, semi_c),
            tilt_rad=tilt,
            thickness_mm=t,
            rim_density=rim,
            core_density=core,
            patch_amplitude=patch,
            patch_waves=waves,
            blobs=blobs,
            stage=stage,
        )

    edge = float(limb.cortex_edge_v_mm(np.float64(u_c), side))
    return _shift_to_gap(make, limb, side, gap, edge + side * (gap + semi_b))


def sample_pos(rng, limb, spec: dict) -> LobulatedLesion:
    """Parosteal osteosarcoma: centre-dense lobes with a dense base on the cortex."""
    side = _draw_side(rng, limb, spec)
    u_c = float(spec.get("u_mm", 0.0))
    length = float(_pick(spec, "length_mm", rng.uniform(15.0, 80.0)))
    # The string sign is seen in ~60-70% of POS (Jelinek 1996); without it the tumour
    # meets the cortex wherever it reaches it (gap 0: cleft absent or only at the ends).
    drawn_gap = rng.uniform(0.5, 2.0) if rng.uniform() < 0.7 else 0.0
    gap = float(_pick(spec, "gap_mm", drawn_gap))
    attach_frac = rng.uniform(0.35, 0.8)
    aspect = rng.uniform(0.3, 0.6)
    rho0 = float(_pick(spec, "density_g_cm3", rng.uniform(0.4, 1.3)))
    power = rng.uniform(1.0, 2.5)
    overlap = rng.uniform(0.5, 3.0)
    n_extra = int(rng.integers(2, 5))
    extra = rng.uniform(-1, 1, size=(n_extra, 2))
    extra_size = rng.uniform(0.3, 0.6, size=n_extra)
    extra_rho = rng.uniform(0.3, 0.7, size=n_extra)
    attach_pos = rng.uniform(-1, 1)
    tilt = math.radians(rng.uniform(-8.0, 8.0))
    body_offset = rng.uniform(0.25, 0.5)

    semi_a = length / 2
    room = lateral_room_mm(limb, u_c, side) - gap
    semi_b = min(semi_a * aspect, max(0.6 * room, 4.0))
    semi_a = max(semi_a, semi_b * 1.1)
    edge = float(limb.cortex_edge_v_mm(np.float64(u_c), side))
    # The body's density peak sits close to the cortex (POS is densest at its centre and
    # base); the cleft band cuts through its dense inner part, so the string sign is a thin
    # lucent line between dense tumour and cortex, with no density valley behind it.
    body_v = edge + side * (gap + body_offset * semi_b)
    lobes = [(u_c, body_v, semi_a, semi_b, semi_b * 1.1, tilt, rho0)]
    for (fu, fv), fs, fr in zip(extra, extra_size, extra_rho, strict=True):
        r = fs * semi_b
        lobes.append(
            (
                u_c + fu * 0.7 * semi_a,
                body_v + side * abs(fv) * 0.5 * semi_b,
                r * 1.3,
                r,
                r,
                tilt,
                rho0 * fr,
            )
        )
    att_len = attach_frac * 2 * semi_a
    att_c = u_c + attach_pos * max(0.0, 0.8 * semi_a - att_len / 2)
    # The base lobe runs 30% beyond the attachment at both ends, so that the cleft rule
    # (not the lobe's rounded ends) sets where the attachment stops: a sharp, known length.
    base_b = gap + 0.5 * semi_b
    overlap = min(overlap, 0.4 * base_b)
    # The base wraps round the shaft, so it is as deep along the beam as the body: with
    # the density peak of the body that makes the base project at least as dense.
    base_edge = float(limb.cortex_edge_v_mm(np.float64(att_c), side))
    lobes.append(
        (
            att_c,
            base_edge + side * 0.2 * base_b,
            1.3 * att_len / 2,
            base_b,
            max(base_b, 1.1 * semi_b),
            0.0,
            rho0 * rng.uniform(0.9, 1.2),
        )
    )
    return LobulatedLesion(
        kind="pos",
        lobes=np.array(lobes, dtype=float),
        power=power,
        side=side,
        gap_mm=gap,
        attach_u_mm=(att_c - att_len / 2, att_c + att_len / 2),
        base_overlap_mm=overlap,
        bone_offset_mm=limb.bone_offset_mm,
        limb=limb,
    )


def _soft_tissue_v(rng, limb, u: float, margin_mm: float) -> float:
    """A lateral position in soft tissue, not over any bone."""
    w = _muscle_half_width(limb, u) + limb.fat_mm * 0.8
    bones = limb.bone_intervals_v(u)
    for _ in range(20):
        v = rng.uniform(-w + margin_mm, w - margin_mm)
        if all(v < lo - margin_mm or v > hi + margin_mm for lo, hi in bones):
            return float(v)
    r = float(limb.bone_radius_mm(np.float64(u)))
    return float(limb.bone_offset_mm + (r + margin_mm) * rng.choice([-1, 1]))


def sample_phlebolith(rng, limb, spec: dict) -> ShellLesion:
    """A 2-5 mm round venous calcification, usually with a lucent centre."""
    u_c = float(spec.get("u_mm", 0.0))
    radius = float(_pick(spec, "length_mm", rng.uniform(2.0, 5.0))) / 2
    t = radius * rng.uniform(0.3, 0.5)
    rho = rng.uniform(0.6, 1.4)
    lucent = rng.uniform() < 0.7
    v = _soft_tissue_v(rng, limb, u_c, 4.0)
    return ShellLesion(
        kind="phlebolith",
        centre_uv_mm=(u_c, v),
        semi_axes_mm=(radius, radius, radius),
        tilt_rad=0.0,
        thickness_mm=t,
        rim_density=rho,
        core_density=0.1 * rho if lucent else rho,
    )


def sample_vascular(rng, limb, spec: dict) -> TubeLesion:
    """Calcified vessel wall running roughly along the limb (tram lines)."""
    u_c = float(spec.get("u_mm", 0.0))
    length = float(_pick(spec, "length_mm", rng.uniform(30.0, 80.0)))
    radius = rng.uniform(1.5, 3.0)
    v = _soft_tissue_v(rng, limb, u_c, radius + 3.0)
    return TubeLesion(
        kind="vascular",
        u_range_mm=(u_c - length / 2, u_c + length / 2),
        v0_mm=v,
        tilt_rad=math.radians(rng.uniform(-6, 6)),
        wave_amp_mm=rng.uniform(0.0, 3.0),
        wavelength_mm=rng.uniform(40.0, 120.0),
        phase=rng.uniform(0, 2 * math.pi),
        radius_mm=radius,
        wall_mm=rng.uniform(0.3, 0.7),
        density=rng.uniform(0.4, 1.0),
    )


def sample_punctate(rng, limb, spec: dict) -> DotCluster:
    """A cluster of 0.5-2 mm mineral dots (venous insufficiency, dystrophic calcification)."""
    u_c = float(spec.get("u_mm", 0.0))
    n = int(rng.integers(5, 26))
    extent = float(_pick(spec, "length_mm", rng.uniform(10.0, 30.0))) / 2
    v = _soft_tissue_v(rng, limb, u_c, extent * 0.6 + 2.0)
    offs = rng.normal(size=(n, 2)) * np.array([extent / 2.0, extent / 3.5])
    offs = np.clip(offs, -extent, extent)
    dots = np.column_stack(
        [
            u_c + offs[:, 0],
            v + offs[:, 1],
            rng.uniform(0.25, 1.0, size=n),
            rng.uniform(0.5, 1.2, size=n),
        ]
    )
    return DotCluster(kind="punctate", dots=dots)


SAMPLERS = {
    "ho": sample_ho,
    "pos": sample_pos,
    "phlebolith": sample_phlebolith,
    "vascular": sample_vascular,
    "punctate": sample_punctate,
}

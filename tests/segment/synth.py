"""Small analytic radiographs for the segmentation tests (no dependency on hoimg.phantom).

A limb (circular cylinder of muscle) crosses the image at ``angle_deg``; a tubular bone
(cortex annulus around marrow) runs along its axis. Lesions are 3-D solids integrated in
closed form along the beam: an HO shell (ellipsoidal, lucent centre) with a cleft to the
cortex, a centre-dense POS attached to the cortex, and a phlebolith. A lead marker block
and a collimation border are burned in afterwards, as a detector would record them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hoimg.radiograph import Radiograph

# Linear attenuation at ~50 keV, 1/mm (DOMAIN.md table).
MU_MUSCLE = 0.0238
MU_CORTEX = 0.0815
MU_MARROW = 0.0200


@dataclass
class Lesion:
    """One truth lesion: its kind and its bbox/centroid in pixels (row, col)."""

    kind: str
    center_rc: tuple[float, float]
    bbox_rc: tuple[int, int, int, int]


@dataclass
class Synth:
    radiograph: Radiograph
    lesions: list[Lesion] = field(default_factory=list)
    bone_mask: np.ndarray | None = None
    # (u, v) frame: unit vectors (row, col) along and across the limb, and the bone's
    # outer radius, for edge-accuracy tests.
    axis_rc: tuple[float, float] = (1.0, 0.0)
    across_rc: tuple[float, float] = (0.0, 1.0)
    center_rc: tuple[float, float] = (0.0, 0.0)
    bone_radius_mm: float = 0.0
    cortex_mm: float = 0.0


def _chord_ellipsoid(du, dv, a, b, c):
    """Chord length along the beam through an axis-aligned ellipsoid (semi-axes a, b, c)."""
    q = 1.0 - (du / a) ** 2 - (dv / b) ** 2
    return 2.0 * c * np.sqrt(np.clip(q, 0.0, None))


def make_radiograph(
    *,
    seed: int = 0,
    shape: tuple[int, int] = (900, 900),
    spacing_mm: float | None = 0.15,
    angle_deg: float = 20.0,
    limb_radius_mm: float = 45.0,
    bone_radius_mm: float = 11.0,
    cortex_mm: float = 3.0,
    bone_offset_mm: float = 0.0,
    ho: str | None = "mature",
    ho_gap_mm: float = 3.0,
    ho_side: int = 1,
    pos: bool = True,
    phlebolith: bool = False,
    marker: bool = True,
    collimation_px: int = 30,
    photons: float = 2e4,
    unsharp: float = 0.0,
    with_bone: bool = True,
    interface: float = 0.0,
) -> Synth:
    """Return a seeded synthetic limb radiograph with known lesions (see module docstring)."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    sp = spacing_mm if spacing_mm is not None else 0.15
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    ang = np.deg2rad(angle_deg)
    d = np.array([np.cos(ang), np.sin(ang)])  # along the limb, (row, col)
    n = np.array([-d[1], d[0]])  # across the limb
    ctr = np.array([(rows - 1) / 2, (cols - 1) / 2])
    u = ((rr - ctr[0]) * d[0] + (cc - ctr[1]) * d[1]) * sp
    v = ((rr - ctr[0]) * n[0] + (cc - ctr[1]) * n[1]) * sp

    limb = 2.0 * np.sqrt(np.clip(limb_radius_mm**2 - v**2, 0, None))
    p = MU_MUSCLE * limb
    vb = bone_offset_mm
    ri = bone_radius_mm - cortex_mm
    if with_bone:
        outer = 2.0 * np.sqrt(np.clip(bone_radius_mm**2 - (v - vb) ** 2, 0, None))
        inner = 2.0 * np.sqrt(np.clip(ri**2 - (v - vb) ** 2, 0, None))
        p += (MU_CORTEX - MU_MUSCLE) * (outer - inner) + (MU_MARROW - MU_MUSCLE) * inner

    if interface > 0:
        # A fascial interface along the whole limb, 2 mm wide, through the HO's axis:
        # ``interface`` more attenuation (log units), faint but above the growth level.
        v_if = vb + ho_side * (bone_radius_mm + ho_gap_mm + 10.0)
        p += interface * (np.abs(v - v_if) <= 1.0)

    lesions: list[Lesion] = []

    def add(kind, mu_extra, u0, v0, footprint):
        nonlocal p
        p = p + mu_extra
        ys, xs = np.nonzero(footprint)
        lesions.append(
            Lesion(kind, (float(ys.mean()), float(xs.mean())),
                   (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1))
        )

    if ho is not None:
        # Ellipsoidal shell elongated along the limb, a cleft of ho_gap_mm from the cortex.
        a, b, t = 24.0, 10.0, {"mature": 2.5, "intermediate": 1.2}[ho]
        mu = {"mature": 0.05, "intermediate": 0.018}[ho]
        u0 = -15.0
        v0 = vb + ho_side * (bone_radius_mm + ho_gap_mm + b)
        outer = _chord_ellipsoid(u - u0, v - v0, a, b, b)
        inner = _chord_ellipsoid(u - u0, v - v0, a - t, b - t, b - t)
        add(f"ho_{ho}", (mu - MU_MUSCLE * 0) * (outer - inner), u0, v0, outer > 0)
    if pos:
        # Centre-dense: nested ellipsoids, densest inside; base overlaps the cortex.
        a, b = 14.0, 9.0
        u0 = 30.0
        v0 = vb - (bone_radius_mm + 0.5 * b)
        extra = np.zeros_like(p)
        for scale, mu in ((1.0, 0.012), (0.7, 0.02), (0.4, 0.03)):
            extra += mu * _chord_ellipsoid(u - u0, v - v0, a * scale, b * scale, b * scale)
        # Only the part outside the bone is the lesion's footprint.
        fp = (extra > 0) & (np.abs(v - vb) > bone_radius_mm)
        add("pos", extra, u0, v0, fp)
    if phlebolith:
        u0, v0 = 20.0, vb + bone_radius_mm + 18.0
        extra = 0.06 * _chord_ellipsoid(u - u0, v - v0, 1.8, 1.8, 1.8)
        add("phlebolith", extra, u0, v0, extra > 0)

    # Beer-Lambert, Poisson counts, detector blur, log.
    counts = rng.poisson(photons * np.exp(-p)).astype(np.float64)
    from scipy.ndimage import gaussian_filter

    counts = gaussian_filter(counts, 0.25 / sp)
    img = -np.log(np.clip(counts, 0.5, None) / photons)
    if unsharp > 0:
        img = img + unsharp * (img - gaussian_filter(img, 3.0 / sp))
    top = float(img.max()) * 1.3 + 0.5
    if marker:
        # A lead "L": uniform, denser than anything, sharp-edged, 12 mm tall.
        h, w, s = int(12 / sp), int(8 / sp), int(3 / sp)
        r0 = collimation_px + int(8 / sp)
        c0 = cols - collimation_px - int(20 / sp)
        img[r0 : r0 + h, c0 : c0 + s] = top
        img[r0 + h - s : r0 + h, c0 : c0 + w] = top
    if collimation_px:
        k = collimation_px
        img[:k, :] = top
        img[-k:, :] = top
        img[:, :k] = top
        img[:, -k:] = top
    bone_mask = None
    if with_bone:
        bone_mask = np.abs(v - vb) <= bone_radius_mm
    rad = Radiograph(
        img.astype(np.float32),
        spacing_mm=None if spacing_mm is None else (spacing_mm, spacing_mm),
        spacing_source="unknown" if spacing_mm is None else "pixel_spacing",
    )
    return Synth(rad, lesions, bone_mask, tuple(d), tuple(n), tuple(ctr), bone_radius_mm, cortex_mm)

"""Cleft scan: is there a lucent line between the lesion and the cortex, and where not?

Geometry
    The periosteal edges of the :class:`~hoimg.segment.BoneModel` are resampled every
    ``step_mm`` of edge length. The *interface* is the set of those edge points whose
    outward normal enters the lesion mask within ``reach_mm``. The gap of a normal is the
    distance along it from the edge point to the lesion's nearest-pixel footprint, found by
    marching and bisection (exact to the mask's pixel boundary), converted to mm with the
    (row, col) spacing along that direction.

Edge refinement
    A lesion mask drawn too tight (inside a faint rim, short of a dense base) would invent
    a gap, so from the mask edge each normal walks back towards the cortex until the
    image falls below ``cleft_edge_fraction`` of the lesion's contrast over soft tissue;
    the crossing becomes the lesion edge when it lies more than a pixel before the mask
    edge, and a walk that reaches the cortex means contact.

Intensity
    Bilinear samples on three parallel lines (a band ``step_mm`` wide, so neighbouring
    normals do not overlap) give a cortex level (mean over ``cleft_cortex_mm`` inside the
    edge), a gap level (mean over the middle half of the gap) and a lesion level (mean over
    ``cleft_lesion_mm`` inside the lesion's near edge). ``dip_sigma`` is how far the gap
    level lies below the lower of the two others, in units of the standard error of that
    difference (pixel noise over the square root of half the number of samples averaged:
    neighbouring samples on a blurred detector are correlated).

Decision
    A normal has a cleft when its gap is at least ``cleft_min_gap_mm``, its dip at least
    ``cleft_dip_sigma`` and the gap keeps at most ``1 - cleft_contrast_fraction`` of the
    lesion's contrast over the soft-tissue background plane (a lucent line, not just a
    slightly less dense strip); it is in contact when it has no cleft and its gap is below
    ``cleft_min_gap_mm``. ``cleft_fraction >= cleft_complete_fraction`` is "complete",
    ``< cleft_partial_min_fraction`` "absent", otherwise "partial".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import ProfileConfig
from ..errors import InvalidInputError
from ._common import full_mask, resolve_config, spacing_of
from .radial import radial_profile
from .results import CleftScan, RadialProfile

__all__ = ["cleft_scan"]

N_LATERAL = 3  # parallel lines averaged per normal
DT_PX = 1.0  # sample spacing along a normal (the gap itself comes from the mask, exactly)


@dataclass(frozen=True)
class EdgeSamples:
    """Periosteal edge points resampled every ``step_mm``: the candidate normals."""

    base_rc: np.ndarray  # (K, 2) float64
    normal_rc: np.ndarray  # (K, 2) float64, unit length in pixel space
    edge: np.ndarray  # (K,) int64: which CortexEdge
    seq: np.ndarray  # (K,) int64: sample number along its edge (contiguity)
    arc_mm: np.ndarray  # (K,) float64
    mm_per_px: np.ndarray  # (K,) float64: mm per pixel of travel along the normal


def resample_edges(bone, spacing: tuple[float, float], step_mm: float) -> EdgeSamples:
    """Resample every cortex edge of ``bone`` at ``step_mm`` of arc length (nearest point)."""
    bases, normals, edges, seqs, arcs = [], [], [], [], []
    sp = np.asarray(spacing, dtype=np.float64)
    for i, e in enumerate(bone.edges):
        pts = np.asarray(e.points_rc, dtype=np.float64).reshape(-1, 2)
        nrm = np.asarray(e.normals_rc, dtype=np.float64).reshape(-1, 2)
        if pts.shape[0] == 0:
            continue
        seg = np.sqrt(((np.diff(pts, axis=0) * sp) ** 2).sum(axis=1))
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        targets = np.arange(0.0, arc[-1] + 1e-9, step_mm)
        idx = np.clip(np.searchsorted(arc, targets), 0, pts.shape[0] - 1)
        prev = np.clip(idx - 1, 0, pts.shape[0] - 1)
        idx = np.where(np.abs(arc[prev] - targets) < np.abs(arc[idx] - targets), prev, idx)
        idx = np.unique(idx)
        bases.append(pts[idx])
        normals.append(nrm[idx])
        edges.append(np.full(idx.size, i, dtype=np.int64))
        seqs.append(np.arange(idx.size, dtype=np.int64))
        arcs.append(arc[idx])
    if not bases:
        e2 = np.empty((0, 2), dtype=np.float64)
        e1 = np.empty(0, dtype=np.float64)
        ei = np.empty(0, dtype=np.int64)
        return EdgeSamples(e2, e2.copy(), ei, ei.copy(), e1, e1.copy())
    normal = np.concatenate(normals)
    norm = np.hypot(normal[:, 0], normal[:, 1])
    good = norm > 1e-9
    normal = normal[good] / norm[good, None]
    mm_per_px = np.hypot(normal[:, 0] * sp[0], normal[:, 1] * sp[1])
    return EdgeSamples(
        np.ascontiguousarray(np.concatenate(bases)[good]),
        np.ascontiguousarray(normal),
        np.concatenate(edges)[good],
        np.concatenate(seqs)[good],
        np.concatenate(arcs)[good],
        mm_per_px,
    )


def level_args(spacing: tuple[float, float], step_mm: float, cfg: ProfileConfig) -> tuple:
    """(cortex_px, lesion_px, lateral_px, n_lateral, dt) for the level kernels."""
    px = math.sqrt(spacing[0] * spacing[1])
    return (cfg.cleft_cortex_mm / px, cfg.cleft_lesion_mm / px,
            0.5 * step_mm / px * (N_LATERAL - 1) / N_LATERAL, N_LATERAL, DT_PX)


def scan_lesion(
    image: np.ndarray,
    labels: np.ndarray,
    label_id: int,
    bbox: tuple[int, int, int, int],
    samples: EdgeSamples,
    profile: RadialProfile,
    spacing: tuple[float, float],
    reach_mm: float,
    step_mm: float,
    cfg: ProfileConfig,
    offset_rc: tuple[int, int] = (0, 0),
) -> CleftScan:
    """Cleft scan of the lesion ``labels == label_id`` (tight box ``bbox``) against edges.

    ``labels`` may be a crop whose pixel (0, 0) is image pixel ``offset_rc``; ``bbox`` is
    in image coordinates. ``profile`` (the lesion's radial profile) supplies the noise and
    the soft-tissue background plane used to detrend the dip.
    """
    from . import _cleft_kernels as _kernels

    if samples.base_rc.shape[0] == 0:
        return CleftScan.not_applicable(step_mm=step_mm)
    r0, c0, r1, c1 = bbox
    off = np.array(offset_rc, dtype=np.float64)
    t_hit = _kernels._cast_rays(
        labels, np.int32(label_id), samples.base_rc - off, samples.normal_rc,
        reach_mm / samples.mm_per_px,
        np.array([r0 - off[0], c0 - off[1], r1 - off[0], c1 - off[1]], dtype=np.int64), 0.5,
    )
    idx = np.flatnonzero(np.isfinite(t_hit))
    if idx.size == 0:
        return CleftScan.not_applicable(step_mm=step_mm)
    t_hit = t_hit[idx]
    levels = _kernels._normal_levels(
        image, np.ascontiguousarray(samples.base_rc[idx]),
        np.ascontiguousarray(samples.normal_rc[idx]), t_hit, *level_args(spacing, step_mm, cfg),
    )
    return finish_scan(samples, idx, t_hit, levels, profile, spacing, step_mm, cfg, image)


def finish_scan(samples: EdgeSamples, idx: np.ndarray, t_hit: np.ndarray, levels: np.ndarray,
                profile: RadialProfile, spacing, step_mm: float, cfg: ProfileConfig,
                image: np.ndarray) -> CleftScan:
    """Per-normal gaps, dips and decisions from the hits ``idx`` (into ``samples``)."""
    from . import _cleft_kernels

    base, normal = samples.base_rc[idx], samples.normal_rc[idx]
    largs = level_args(spacing, step_mm, cfg)
    cortex_px, lesion_px = largs[:2]
    # The lesion and gap levels are compared as excesses over the lesion's soft-tissue
    # background plane (the limb's thickness changes across a few mm; a faint rim must
    # not lose its cleft to that trend). The cortex is compared as is: it is far denser.
    cen_r, cen_c = profile.centroid_rc
    slope_r, slope_c = profile.background_slope_rc

    def trend(t):
        return slope_r * (base[:, 0] + t * normal[:, 0] - cen_r) + slope_c * (
            base[:, 1] + t * normal[:, 1] - cen_c)

    # A mask drawn too tight (its edge inside a faint rim or a dense base) would invent a
    # gap: walk back from the mask edge to where the image falls below half the lesion's
    # contrast; where it never does, the lesion reaches the cortex.
    lesion_contrast = levels[:, 2] - trend(t_hit + 0.5 * lesion_px) - profile.background
    with np.errstate(invalid="ignore"):
        threshold = np.where(
            lesion_contrast > 0,
            profile.background + trend(0.5 * t_hit) + cfg.cleft_edge_fraction * lesion_contrast,
            np.nan)
    t_img = _cleft_kernels._edge_back(image, np.ascontiguousarray(base),
                                      np.ascontiguousarray(normal), t_hit, threshold,
                                      largs[2], largs[3], 0.5)
    moved = t_img < t_hit - 1.0
    if moved.any():
        t_hit = np.where(moved, t_img, t_hit)
        levels = levels.copy()
        levels[moved] = _cleft_kernels._normal_levels(
            image, np.ascontiguousarray(base[moved]), np.ascontiguousarray(normal[moved]),
            t_hit[moved], *largs)
    gap_mm = t_hit * samples.mm_per_px[idx]
    # keep the facing interface only: normals within the margin of the closest approach
    face = gap_mm <= gap_mm.min() + cfg.cleft_interface_margin_mm
    idx, t_hit, gap_mm, levels = idx[face], t_hit[face], gap_mm[face], levels[face]
    base, normal = base[face], normal[face]

    gap_excess = levels[:, 1] - trend(0.5 * t_hit)
    lesion_excess = levels[:, 2] - trend(t_hit + 0.5 * lesion_px)
    cortex_excess = levels[:, 0] - trend(-0.5 * cortex_px)
    # noise of (neighbour level - gap level): each level is a mean of n bilinear samples;
    # samples one pixel apart on a blurred detector are correlated, so count half of them
    n_gap = N_LATERAL * (np.floor(0.5 * t_hit / DT_PX + 1e-9) + 1.0)
    n_les = N_LATERAL * (math.floor(lesion_px / DT_PX + 1e-9) + 1.0)
    sigma = profile.noise_sigma * np.sqrt(2.0 / n_gap + 2.0 / n_les)
    # contrast over the soft tissue (the plane itself): a lucent cleft keeps at most
    # (1 - cleft_contrast_fraction) of the lesion's contrast; a gap between two masks that
    # is as dense as the lesion (an under-segmented base) is no cleft however significant
    gap_contrast = gap_excess - profile.background
    lesion_contrast = lesion_excess - profile.background
    keep = 1.0 - cfg.cleft_contrast_fraction
    with np.errstate(invalid="ignore", divide="ignore"):
        dip = (np.minimum(cortex_excess, lesion_excess) - gap_excess) / sigma
        lucent = (lesion_contrast <= 0) | (gap_contrast <= keep * lesion_contrast)
        has_cleft = (gap_mm >= cfg.cleft_min_gap_mm) & (dip >= cfg.cleft_dip_sigma) & lucent
    contact = ~has_cleft & (gap_mm < cfg.cleft_min_gap_mm)
    return summarise(
        base, normal, samples.edge[idx], samples.seq[idx], samples.arc_mm[idx], gap_mm, dip,
        has_cleft, contact, step_mm, cfg,
    )


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of sorted values (NumPy's default), NaN if empty."""
    n = sorted_values.size
    if n == 0:
        return float("nan")
    pos = q * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo]))


def summarise(base, normal, edge, seq, arc_mm, gap_mm, dip, has_cleft, contact, step_mm,
              cfg: ProfileConfig) -> CleftScan:
    """Interface features and category from the per-normal measurements."""
    n = int(gap_mm.size)
    fraction = float(has_cleft.mean())
    cleft_gaps = np.sort(gap_mm[has_cleft])
    if fraction >= cfg.cleft_complete_fraction:
        category = "complete"
    elif fraction < cfg.cleft_partial_min_fraction:
        category = "absent"
    else:
        category = "partial"
    # longest run of contact normals that are neighbours on the same edge
    best = run = 0
    for i in range(n):
        if contact[i]:
            if run and edge[i] == edge[i - 1] and seq[i] == seq[i - 1] + 1 and contact[i - 1]:
                run += 1
            else:
                run = 1
            best = max(best, run)
        else:
            run = 0
    nan = float("nan")
    return CleftScan(
        category=category,
        cleft_fraction=fraction,
        cleft_width_mm=_quantile(cleft_gaps, cfg.cleft_width_quantile),
        median_gap_mm=_quantile(cleft_gaps, 0.5),
        min_gap_mm=float(cleft_gaps[0]) if cleft_gaps.size else nan,
        attachment_mm=best * float(step_mm),
        distance_to_cortex_mm=float(gap_mm.min()),
        n_normals=n,
        base_rc=base,
        normal_rc=normal,
        arc_mm=np.asarray(arc_mm, dtype=np.float64),
        gap_mm=gap_mm,
        dip_sigma=dip,
        has_cleft=has_cleft,
        contact=contact,
        flags=(),
        step_mm=float(step_mm),
    )


def cleft_scan(
    radiograph,
    bone,
    lesion_mask: np.ndarray,
    *,
    bbox_rc: tuple[int, int, int, int] | None = None,
    reach_mm: float | None = None,
    step_mm: float | None = None,
    config=None,
) -> CleftScan:
    """Scan the interface between one lesion and the cortex for a lucent cleft.

    Parameters
    ----------
    radiograph : hoimg.Radiograph
    bone : hoimg.segment.BoneModel
        Its ``edges`` (periosteal curves with outward normals) are scanned; None or no
        edges gives a "not_applicable" scan.
    lesion_mask : (M, N) bool ndarray, or the (r1-r0, c1-c0) crop of ``bbox_rc``
    bbox_rc : (r0, c0, r1, c1), optional
        End-exclusive box that ``lesion_mask`` is the crop of.
    reach_mm, step_mm : float, optional
        How far from the cortex a lesion still faces it (default 15 mm) and the spacing of
        the normals along the cortex (default 0.5 mm); from ``config.profile``.
    config : AnalysisConfig or ProfileConfig, optional

    Returns
    -------
    CleftScan
    """
    cfg, fallback = resolve_config(config)
    reach_mm = float(cfg.cleft_reach_mm if reach_mm is None else reach_mm)
    step_mm = float(cfg.cleft_step_mm if step_mm is None else step_mm)
    if not (reach_mm > 0 and step_mm > 0):
        raise InvalidInputError(f"reach_mm and step_mm must be > 0, got {reach_mm}, {step_mm}")
    shape = radiograph.shape
    crop, bbox = full_mask(lesion_mask, shape, bbox_rc)
    if bone is None or not bone.edges:
        return CleftScan.not_applicable(step_mm=step_mm)
    spacing = spacing_of(radiograph, fallback)
    samples = resample_edges(bone, spacing, step_mm)
    # rays stop at the lesion's box, so the label crop of that box is all they need
    labels = np.ascontiguousarray(crop, dtype=np.int32)
    image = np.ascontiguousarray(radiograph.pixels, dtype=np.float32)
    exclude = bone.labels > 0 if bone.labels.shape == tuple(shape) else None
    profile = radial_profile(radiograph, crop, bbox_rc=bbox, exclude_mask=exclude, config=cfg)
    return scan_lesion(image, labels, 1, bbox, samples, profile, spacing, reach_mm, step_mm, cfg,
                       offset_rc=(bbox[0], bbox[1]))

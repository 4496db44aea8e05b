"""Cleft scan: is there a lucent line between the lesion and the cortex, and where not?

Geometry
    The periosteal edges of the :class:`~hoimg.segment.BoneModel` are resampled every
    ``step_mm`` of edge length. The *interface* is the set of those edge points whose
    outward normal enters the lesion mask within ``reach_mm``. The gap of a normal is the
    distance along it from the edge point to the lesion's nearest-pixel footprint, found by
    marching and bisection (exact to the mask's pixel boundary), converted to mm with the
    (row, col) spacing along that direction.

Edge refinement
    Both edges of the gap are put at ``cleft_edge_fraction`` of their own contrast over
    the soft tissue. The bone model's edge is the cortex's half-maximum, which lies inside
    a projected tube's outline (its thickness rises like a square root there; dev phantoms
    with detected bone: gaps ~0.3 mm too wide), so each normal first walks out from it to
    where the image falls below that fraction of the cortex's contrast (or to the bottom
    of a dip that stays above it, or to the lesion: contact) and starts there. A lesion
    mask drawn too tight (inside a faint rim, short of a dense base) would invent a gap,
    so from the mask edge each normal walks back towards the cortex until the image falls
    below the fraction of the lesion's contrast; the crossing becomes the lesion edge when
    it lies more than a pixel before the mask edge, and a walk that reaches the cortex
    means contact.

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
from ._common import full_mask, kernel_array, resolve_config, spacing_of
from .radial import radial_profile
from .results import CleftScan

__all__ = ["cleft_scan"]

N_LATERAL = 3  # parallel lines averaged per normal
DT_PX = 1.0  # sample spacing along a normal (the gap itself comes from the mask, exactly)
EDGE_DT_PX = 0.5  # step of the edge walk-back from the mask edge


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
    from . import _cleft_kernels

    pts = [np.asarray(e.points_rc, dtype=np.float64).reshape(-1, 2) for e in bone.edges]
    nrm = [np.asarray(e.normals_rc, dtype=np.float64).reshape(-1, 2) for e in bone.edges]
    starts = np.zeros(len(pts) + 1, dtype=np.int64)
    np.cumsum([p.shape[0] for p in pts], out=starts[1:])
    if starts[-1] == 0:
        e2 = np.empty((0, 2), dtype=np.float64)
        e1 = np.empty(0, dtype=np.float64)
        ei = np.empty(0, dtype=np.int64)
        return EdgeSamples(e2, e2.copy(), ei, ei.copy(), e1, e1.copy())
    return EdgeSamples(*_cleft_kernels._resample_edges(
        np.concatenate(pts), np.concatenate(nrm), starts, float(spacing[0]), float(spacing[1]),
        float(step_mm)))


def level_args(spacing: tuple[float, float], step_mm: float, cfg: ProfileConfig) -> tuple:
    """(cortex_px, lesion_px, lateral_px, n_lateral, dt) for the level kernels."""
    px = math.sqrt(spacing[0] * spacing[1])
    return (cfg.cleft_cortex_mm / px, cfg.cleft_lesion_mm / px,
            0.5 * step_mm / px * (N_LATERAL - 1) / N_LATERAL, N_LATERAL, DT_PX)


def profile_plane(profiles) -> np.ndarray:
    """(L, 6) per-lesion background plane for :func:`scan_lesions` from radial profiles:
    background, noise sigma, centroid (row, col), slope per pixel (row, col)."""
    return np.array([[p.background, p.noise_sigma, *p.centroid_rc, *p.background_slope_rc]
                     for p in profiles], dtype=np.float64).reshape(-1, 6)


def scan_lesions(
    image: np.ndarray,
    labels: np.ndarray,
    label_ids: np.ndarray,
    bboxes: np.ndarray,
    samples: EdgeSamples,
    plane: np.ndarray,
    spacing: tuple[float, float],
    reach_mm: float,
    step_mm: float,
    cfg: ProfileConfig,
    offset_rc: tuple[int, int] = (0, 0),
) -> list[CleftScan]:
    """Cleft scans of the lesions ``labels == label_ids[i]`` (tight boxes ``bboxes``, image
    coordinates) against the edge samples, in one kernel call.

    ``labels`` may be a crop whose pixel (0, 0) is image pixel ``offset_rc``. ``plane``
    (:func:`profile_plane`: each lesion's soft-tissue background plane and noise, from its
    radial profile) detrends the dips.
    """
    n_les = len(label_ids)
    # lesions without a facing normal share one (immutable, empty) result
    none = CleftScan.not_applicable(step_mm=step_mm)
    if samples.base_rc.shape[0] == 0:
        return [none] * n_les
    from . import _cleft_kernels

    cortex_px, lesion_px, lateral_px, n_lateral, dt = level_args(spacing, step_mm, cfg)
    res = _cleft_kernels._cleft_batch(
        image, labels, np.asarray(offset_rc, dtype=np.float64),
        np.ascontiguousarray(label_ids, dtype=np.int32), np.ascontiguousarray(bboxes, dtype=np.int64),
        samples.base_rc, samples.normal_rc, reach_mm / samples.mm_per_px, samples.mm_per_px,
        np.ascontiguousarray(plane, dtype=np.float64), 0.5, cortex_px, lesion_px, lateral_px,
        n_lateral, dt, EDGE_DT_PX, float(cfg.cleft_edge_fraction),
        float(cfg.cleft_interface_margin_mm), float(cfg.cleft_min_gap_mm),
        float(cfg.cleft_dip_sigma), float(cfg.cleft_contrast_fraction),
    )
    les = res[:, 0].astype(np.int64)
    smp = res[:, 1].astype(np.int64)
    gap_mm = np.ascontiguousarray(res[:, 2])
    dip = np.ascontiguousarray(res[:, 3])
    has_cleft = res[:, 4] != 0.0
    contact = res[:, 5] != 0.0
    starts = np.searchsorted(les, np.arange(n_les + 1))
    # the per-normal arrays of all lesions, gathered once; each scan holds its slice
    base = samples.base_rc[smp]
    normal = samples.normal_rc[smp]
    arc_mm = samples.arc_mm[smp]
    category, fraction, width, median, min_gap, attach, dist = _summaries(
        les, starts, samples.edge[smp], samples.seq[smp], gap_mm, has_cleft, contact, step_mm,
        cfg)
    out = []
    for i in range(n_les):
        a, b = starts[i], starts[i + 1]
        if a == b:
            out.append(none)
            continue
        out.append(CleftScan(
            category=category[i],
            cleft_fraction=fraction[i],
            cleft_width_mm=width[i],
            median_gap_mm=median[i],
            min_gap_mm=min_gap[i],
            attachment_mm=attach[i],
            distance_to_cortex_mm=dist[i],
            n_normals=int(b - a),
            base_rc=base[a:b],
            normal_rc=normal[a:b],
            arc_mm=arc_mm[a:b],
            gap_mm=gap_mm[a:b],
            dip_sigma=dip[a:b],
            has_cleft=has_cleft[a:b],
            contact=contact[a:b],
            flags=(),
            step_mm=float(step_mm),
        ))
    return out


def _quantiles(sorted_values: np.ndarray, first: np.ndarray, n: np.ndarray, q: float) -> list:
    """Linear-interpolation quantiles (NumPy's default) of the groups ``sorted_values[
    first[i]:first[i] + n[i]]`` (each sorted), NaN for an empty one, as Python floats."""
    pos = q * (n - 1)
    lo = np.floor(pos)
    lo_i = first + np.maximum(lo, 0).astype(np.int64)
    hi_i = first + np.minimum(lo + 1, n - 1).astype(np.int64)
    ok = n > 0
    v = np.full(n.shape, np.nan)
    lo_v = sorted_values[lo_i[ok]]
    v[ok] = lo_v + (pos[ok] - lo[ok]) * (sorted_values[hi_i[ok]] - lo_v)
    return v.tolist()


def _summaries(les, starts, edge, seq, gap_mm, has_cleft, contact, step_mm,
               cfg: ProfileConfig) -> tuple[list, ...]:
    """Interface features and category of every lesion from its normals' measurements,
    vectorised over the lesions (the normals of lesion i are ``starts[i]:starts[i + 1]``,
    ``les`` their lesion): per lesion, the same values (bit for bit) as taken lesion by
    lesion with ``np.sort``, ``np.quantile``'s interpolation and ``gap_mm.min()``, as
    Python lists (meaningless for lesions without normals)."""
    n_les = starts.shape[0] - 1
    n = np.diff(starts)
    n_cleft = np.bincount(les[has_cleft], minlength=n_les)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = n_cleft / n
    category = np.where(fraction >= cfg.cleft_complete_fraction, "complete",
                        np.where(fraction < cfg.cleft_partial_min_fraction, "absent",
                                 "partial")).tolist()
    # the cleft normals' gaps, sorted within each lesion
    c_les = les[has_cleft]
    c_gap = gap_mm[has_cleft]
    cleft_gaps = c_gap[np.lexsort((c_gap, c_les))]
    first = np.zeros(n_les, dtype=np.int64)
    np.cumsum(n_cleft[:-1], out=first[1:])
    width = _quantiles(cleft_gaps, first, n_cleft, cfg.cleft_width_quantile)
    median = _quantiles(cleft_gaps, first, n_cleft, 0.5)
    min_gap = np.full(n_les, np.nan)
    min_gap[n_cleft > 0] = cleft_gaps[first[n_cleft > 0]]
    # longest run of contact normals that are neighbours on the same edge: a run breaks
    # before every normal that is not the contact successor of the one before it in the
    # same lesion
    link = np.zeros(les.shape[0], dtype=bool)
    link[1:] = (contact[1:] & contact[:-1] & (edge[1:] == edge[:-1]) & (seq[1:] == seq[:-1] + 1)
                & (les[1:] == les[:-1]))
    run_id = np.cumsum(contact & ~link)  # every contact normal carries its run's number
    run_len = np.bincount(run_id[contact])
    best = np.zeros(n_les, dtype=np.int64)
    np.maximum.at(best, les[contact], run_len[run_id[contact]])
    attach = (best * float(step_mm)).tolist()
    have = n > 0
    dist = np.full(n_les, np.nan)
    if have.any():
        dist[have] = np.minimum.reduceat(gap_mm, starts[:-1][have])
    # (the fraction stays a NumPy float, as count_nonzero(...) / n gave it)
    return category, list(fraction), width, median, min_gap.tolist(), attach, dist.tolist()


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
    labels = kernel_array(crop, np.int32)
    image = kernel_array(radiograph.pixels, np.float32)
    exclude = bone.labels > 0 if bone.labels.shape == tuple(shape) else None
    profile = radial_profile(radiograph, crop, bbox_rc=bbox, exclude_mask=exclude, config=cfg)
    return scan_lesions(image, labels, np.ones(1, dtype=np.int32), np.array([bbox]), samples,
                        profile_plane([profile]), spacing, reach_mm, step_mm, cfg,
                        offset_rc=(bbox[0], bbox[1]))[0]

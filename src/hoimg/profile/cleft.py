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
    out = []
    for i in range(n_les):
        sl = slice(starts[i], starts[i + 1])
        if starts[i] == starts[i + 1]:
            out.append(none)
            continue
        idx = smp[sl]
        out.append(summarise(samples.base_rc[idx], samples.normal_rc[idx], samples.edge[idx],
                             samples.seq[idx], samples.arc_mm[idx], gap_mm[sl], dip[sl],
                             has_cleft[sl], contact[sl], step_mm, cfg))
    return out


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
    fraction = np.count_nonzero(has_cleft) / n
    cleft_gaps = np.sort(gap_mm[has_cleft])
    if fraction >= cfg.cleft_complete_fraction:
        category = "complete"
    elif fraction < cfg.cleft_partial_min_fraction:
        category = "absent"
    else:
        category = "partial"
    # longest run of contact normals that are neighbours on the same edge: a run breaks
    # before every normal that is not the contact successor of the one before it
    best = 0
    if contact.any():
        link = np.zeros(n, dtype=bool)
        link[1:] = (contact[1:] & contact[:-1] & (edge[1:] == edge[:-1])
                    & (seq[1:] == seq[:-1] + 1))
        run_id = np.cumsum(contact & ~link)  # every contact normal carries its run's number
        best = int(np.bincount(run_id[contact]).max())
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
    labels = kernel_array(crop, np.int32)
    image = kernel_array(radiograph.pixels, np.float32)
    exclude = bone.labels > 0 if bone.labels.shape == tuple(shape) else None
    profile = radial_profile(radiograph, crop, bbox_rc=bbox, exclude_mask=exclude, config=cfg)
    return scan_lesions(image, labels, np.ones(1, dtype=np.int32), np.array([bbox]), samples,
                        profile_plane([profile]), spacing, reach_mm, step_mm, cfg,
                        offset_rc=(bbox[0], bbox[1]))[0]

"""``find_lesions``: soft-tissue mineralisation candidates, whole, with shape flags.

A lesion is soft tissue denser than its *local* surroundings:

1. Residual over the soft-tissue background (a local quadratic fit, 8 mm window, that
   skips bone, air, collimation and dense candidates; :mod:`._prepare`), in units of the
   local robust residual sigma, at two scales: fine (``smoothing_mm``) for edges, coarse
   (``coarse_smoothing_mm``) for faint mineral whose single pixels are lost in noise.
2. Hysteresis: seeds above ``lesion_threshold_sigma`` (fine) or
   ``coarse_threshold_sigma`` (coarse), over both the local background and the soft
   tissue as it runs along the limb (:func:`_seeds`), grow into pixels above
   ``lesion_grow_sigma`` (local background). Seeds are measured against the sigma map
   opened along the limb over ``noise_opening_mm`` (a lesion raises the plain map where
   it lies); growth against the plain map.
   Nothing seeds or grows in bone (plus ``bone_margin_mm``), near the field edge, or on
   markers.
3. Whole lesions: closing at ``rim_closing_mm`` then hole filling, so a faint rim comes
   out as one lesion with its lucent centre. The bone is cut away afterwards, so a
   juxtacortical lesion stops at the fitted periosteal edge.
4. What is not mineral is dropped: lead markers (dense compact plateaus), islands in air
   or collimation, bands along a collimator edge (scatter fall-off) or thin ones along
   the skin, thin strips along a shaft (bone the edge model left out), long thin lines
   along the limb (fat/muscle interfaces), and small faint specks (noise). A component
   longer than ``max_lesion_length_mm`` (growth run along an interface or a cortex) is
   split at its excess over the along-limb tissue, which a lesion has and a strip along
   the limb has not, and its pieces are tested in turn. Once grown, a candidate less
   than ``ring_contrast_sigma`` above the tissue 2-8 mm around it is dropped
   (:func:`_ring_contrast`).
5. Masks are taken back to the input grid by bilinear interpolation of each candidate's
   working-grid mask (smooth outlines), and measured there.
"""

from __future__ import annotations

import math

import numpy as np

from ..radiograph import Radiograph
from ._background import fill_holes, local_sigma, normalized_blur
from ._bone_fit import principal_axes
from ._grid import (
    WorkGrid,
    components_touching,
    ellipse,
    label_with_stats,
    morphology,
    resolve_config,
    robust_sigma,
)
from ._prepare import prepare
from ._refine import refine_masks
from .model import BoneModel, LesionCandidate, LesionCandidates


def find_lesions(radiograph: Radiograph, bone: BoneModel, config=None) -> LesionCandidates:
    """Find mineralised soft-tissue regions of ``radiograph`` outside ``bone``.

    Parameters
    ----------
    radiograph : Radiograph
    bone : BoneModel
        From :func:`hoimg.segment.find_bone` (its ``labels`` are cut out of every lesion).
    config : AnalysisConfig or SegmentConfig, optional

    Returns
    -------
    LesionCandidates
        ``labels`` (input grid, int32, 0 = none) and one record per candidate with bbox
        (end-exclusive), centroid, area and moment-based length/width in mm, and flags
        (``small``, ``linear``, ``round_small``, ``punctate``, ``near_image_edge``,
        ``touches_bone``, ``low_contrast``). Without image spacing, mm values use the
        configured fallback pitch and the bone model carries ``spacing_unknown``.
    """
    import cv2

    seg, load = resolve_config(config)
    prep = prepare(radiograph, seg, load)
    grid = prep.grid
    if bone.labels.shape != grid.input_shape:
        from ..errors import InvalidInputError

        raise InvalidInputError(
            f"bone.labels has shape {bone.labels.shape} but the radiograph is {grid.input_shape}"
        )
    from .bone import WORK_MASKS

    cached = WORK_MASKS.get(bone)
    if cached is not None and cached[0] == grid:
        bone_w = cached[1]
    else:
        bone_w = _to_work(bone.labels > 0, grid)
    # The bone's blurred edge (detector blur, scatter tail) reaches ~1.5 mm into soft
    # tissue above the background: no seeds or growth there.
    # Masks are dilated and eroded through _grid.morphology: the same result on the
    # mask's bounding box, with a disc as a few rectangles (a fraction of the cost).
    bone_near = morphology(bone_w, cv2.MORPH_DILATE,
                           ellipse(grid.px(seg.bone_margin_mm))) > 0
    field = prep.outside | prep.markers

    residual = prep.residual
    z_fine = residual / prep.noise
    weight = prep.valid & ~bone_near
    sig_c = grid.px(seg.coarse_smoothing_mm)
    coarse = normalized_blur(prep.smooth, weight, sig_c, fallback=1.0) - prep.background
    block = max(int(round(grid.px(8.0))), 8)
    seed_sigma_coarse, sigma_coarse = local_sigma(
        coarse, weight & ~prep.dense, block, along=prep.limb_axis,
        opening_px=grid.px(seg.noise_opening_mm), with_plain=True)
    z_coarse = coarse / sigma_coarse

    coarse_map = coarse + prep.background  # the coarse-smoothed image (seeds, refine pass)
    seeds = _seeds(prep.smooth, coarse_map, prep.background, prep.along, prep.seed_noise,
                   seed_sigma_coarse, seg)
    seeds &= weight
    # Growth stays off the bone's blurred edge and off the field margin: both carry a
    # positive residual that would otherwise creep along them as a thin ring.
    grow_fine = (z_fine > seg.lesion_grow_sigma) & weight
    # The coarse map is blurred by sig_c: shrink it back so it cannot bridge a cleft.
    grow_coarse = (z_coarse > seg.lesion_grow_sigma) & weight
    grow_coarse = morphology(grow_coarse, cv2.MORPH_ERODE, ellipse(sig_c)) > 0
    mask = components_touching(grow_fine | grow_coarse, seeds)
    grown = mask.copy()  # before closing: a marker's letter shape, not its filled hull
    # On the candidates' bounding box (the same closing at a fraction of the cost).
    mask = morphology(mask, cv2.MORPH_CLOSE, ellipse(grid.px(seg.rim_closing_mm)))
    mask = fill_holes(mask > 0, seg.max_hole_mm2 / grid.pixel_mm**2) & ~bone_w & ~field
    min_px = seg.min_lesion_area_mm2 / grid.pixel_mm**2
    edge_zone = morphology(field, cv2.MORPH_DILATE, ellipse(grid.px(2.0))) > 0
    edge_zone[[0, -1], :] = True
    edge_zone[:, [0, -1]] = True
    # The cortex's density above soft tissue: a lead marker is denser still.
    bone_peak = float(np.percentile(residual[bone_w], 99.0)) if bone_w.any() else np.inf
    # Distance to the field's edge (collimation, air, markers) and to the collimation,
    # the image border counting as either, is read per candidate (_distance_to) and only
    # against these limits.
    band = grid.px(seg.field_band_mm)
    edge_reach = max(band, grid.px(6.0))
    touch_zone = morphology(bone_w, cv2.MORPH_DILATE,
                            ellipse(grid.px(seg.bone_margin_mm + 1.0))) > 0

    def flags_of(comp, box):
        flags = []
        if np.any(edge_zone[box] & comp):
            flags.append("near_image_edge")
        if np.any(touch_zone[box] & comp):
            flags.append("touches_bone")
        if float(z_fine[box][comp].max()) < 2.0 * seg.lesion_threshold_sigma:
            flags.append("low_contrast")
        return flags

    # What is not mineral is dropped on the first-pass cores, before they grow: growth
    # would widen a sliver or a line and enlarge a noise speck past the tests below.
    accepted = np.zeros_like(mask)
    shaft_rest = np.zeros_like(mask)  # remnants of shafts beyond their masks: bone too
    queue = _components(mask, min_px, seg.lesion_threshold_sigma)
    while queue:
        comp, (y0, x0), level = queue.pop()
        h, w = comp.shape
        box = (slice(y0, y0 + h), slice(x0, x0 + w))
        z_along = None  # the excess over the along-limb tissue, read once if needed
        if level > seg.lesion_threshold_sigma:
            # A piece of a split (below) must stand well above the level that cut it (a
            # strip's noise breaks into pieces just over it): ``_PIECE_RISE`` times its
            # own level, which is twice the cut level. A piece of a big lesion is
            # flat-topped against the local fit, which follows the lesion's broad dome:
            # the marker test reads it against the along-limb tissue instead.
            z_along = prep.z_along(box)
            if float(z_along[comp].max()) < _PIECE_RISE * level:
                continue
            mark_res, mark_z = z_along * prep.noise[box], z_along
        else:
            mark_res, mark_z = residual[box], z_fine[box]
        if _is_marker(mark_res, mark_z, comp & grown[box], grid, seg, bone_peak):
            continue
        if _in_field(comp, (y0, x0), field, grid):
            continue
        if math.hypot(w, h) * grid.pixel_mm > seg.max_lesion_length_mm:
            # Hysteresis can run from a lesion along a fascial interface or a cortex for
            # the limb's length, and the whole was dropped as too long, lesion and all.
            # A lesion stands out of the tissue along the limb (``Prepared.z_along``),
            # which such a strip follows: split at that excess, doubling the level until
            # the pieces are short enough (or gone).
            if z_along is None:
                z_along = prep.z_along(box)
            queue.extend(_components(comp & (z_along > level), min_px, 2.0 * level, (y0, x0)))
            continue
        # Hugging the collimator edge: scatter falls off there, so a band along it looks
        # denser than it is. Along the skin only thin streaks are edge effects (a lesion
        # may well lie under the skin).
        if float(np.mean(_distance_to(prep.collimated, box, 2.0 * band)[comp] < 2.0 * band)) >= 0.7:
            continue
        edge_dist = _distance_to(field, box, edge_reach)[comp]
        if float(np.mean(edge_dist < band)) >= 0.7 and _elongation(comp) > 3.0:
            continue
        flags = flags_of(comp, box)
        # Small and faint is what noise looks like; a real focus is either larger or
        # clearly dense. The bound is low: a faint rim seeds as islands of 20-40 mm2,
        # and once grown the ring test (below) drops what is only clutter. (On dev
        # seeds 12/43/44/45, 40 mm2 lost 4 intermediate HO and 2 POS; 20 mm2 finds them
        # at the same false-positive count; no bound added 7 false positives.)
        if ("low_contrast" in flags
                and np.count_nonzero(comp) * grid.pixel_mm**2 < seg.faint_core_min_area_mm2):
            continue
        if "touches_bone" in flags and _is_bone_sliver(comp, bone, grid):
            continue
        if "touches_bone" in flags and float(edge_dist.min()) <= grid.px(6.0):
            keep = _bone_end_keep(comp, (y0, x0), bone, mask, grid)
            if keep is not None:
                # A remnant: drop it, but what stands out beyond its twin (a lesion on
                # the shaft's last stretch, which stopped the mask) is tested on its own.
                queue.extend(_components(keep, min_px, level, (y0, x0)))
                shaft_rest[box] |= comp & ~keep
                continue
        if _is_anatomical_line(comp, bone, grid):
            continue
        accepted[box] |= comp

    # The first pass finds cores; grow them to whole lesions against a background
    # refitted without them (:mod:`._refine`).
    # (growth stops at the bone, the field and a shaft's remnant: a lesion given back from
    # one would otherwise run along its edge)
    mask = refine_masks(accepted, prep.smooth, coarse_map, sigma_coarse, prep.noise, weight,
                        bone_near & prep.valid, bone_w | field | shaft_rest, grid, seg)
    n, lab, stats = label_with_stats(mask)
    # A cut (bone, field, the zone boundary between cores) can break a grown lesion into
    # pieces: each core keeps its largest piece, so growth adds no candidates.
    _, core_lab = cv2.connectedComponents(accepted.astype(np.uint8), connectivity=8)
    best: dict[int, int] = {}
    for k in range(1, n):
        x0, y0, w, h = (int(v) for v in stats[k, :4])
        box = (slice(y0, y0 + h), slice(x0, x0 + w))
        ids = core_lab[box][lab[box] == k]
        ids = ids[ids > 0]
        if ids.size == 0:
            continue
        c = int(np.bincount(ids).argmax())
        if c not in best or stats[k, cv2.CC_STAT_AREA] > stats[best[c], cv2.CC_STAT_AREA]:
            best[c] = k
    chosen = set(best.values())
    # The soft tissue a lesion is compared with in the ring test: the higher of the two
    # estimates (as for seeds), off the bone's edge, the field and every candidate.
    excess = _TissueExcess(prep.smooth, prep.background, prep.along)
    ring_tissue = prep.valid & ~bone_near & ~(
        morphology(mask, cv2.MORPH_DILATE, ellipse(grid.px(_RING_MM[0]))) > 0)
    labels = np.zeros(grid.input_shape, np.int32)
    records: list[LesionCandidate] = []
    for k in range(1, n):
        if k not in chosen or stats[k, cv2.CC_STAT_AREA] < min_px:
            continue
        x0, y0, w, h = (int(v) for v in stats[k, :4])
        box = (slice(y0, y0 + h), slice(x0, x0 + w))
        comp = lab[box] == k
        flags = flags_of(comp, box) + _fragment_flags(comp & (z_fine[box] > seg.lesion_threshold_sigma), grid)
        # Growth can follow a fat/muscle interface far along the limb: the tests for
        # lines and for size hold for the grown shape as for the core.
        if _grown_line(comp, flags, bone, grid, seg):
            continue
        if _ring_contrast(comp, (y0, x0), excess, ring_tissue, grid) < seg.ring_contrast_sigma:
            continue
        if _is_tubular(residual[box], comp, grid):
            flags.append("tubular")
        rec = _record(labels, comp, (y0, x0), grid, len(records) + 1, flags, seg, bone.labels)
        if rec is not None:
            records.append(rec)
    return LesionCandidates(labels=labels, records=tuple(records))


# The ring a candidate is compared with: from 2 mm outside it (past its blurred edge and
# the growth's halo) to 8 mm (near enough to share its soft tissue).
_RING_MM = (2.0, 8.0)


class _TissueExcess:
    """``smooth - fmax(background, along)`` (``along`` NaN: the background alone), made
    for the window it is sliced with: the ring test reads a few small windows of it, and
    a whole-grid map would be made for nothing on most of the grid."""

    def __init__(self, smooth: np.ndarray, background: np.ndarray, along: np.ndarray | None):
        self.smooth, self.background, self.along = smooth, background, along
        self.shape = smooth.shape

    def __getitem__(self, win) -> np.ndarray:
        bg = self.background[win]
        return self.smooth[win] - (bg if self.along is None else np.fmax(bg, self.along[win]))


def _ring_contrast(comp: np.ndarray, origin: tuple[int, int], excess,
                   tissue: np.ndarray, grid) -> float:
    """A candidate's excess over the soft tissue around it, in that tissue's own sigmas.

    The 90th percentile of ``excess`` over the candidate (its rim, for a lucent-centred
    lesion) minus the median over the ``tissue`` pixels 2-8 mm outside it, divided by
    their robust sigma (1.4826 MAD). A lesion is mineral, clearly denser than the tissue
    beside it; a patch of clutter that passed the noise-map tests is about as dense as
    its surroundings are uneven. Infinite where the ring holds under 10 mm2 of tissue
    (nothing to compare with: the candidate stays).

    Parameters
    ----------
    comp : (h, w) bool ndarray
        The candidate within its bounding box, whose top-left is ``origin`` on the grid.
    origin : (int, int)
    excess : (M, N) ndarray or _TissueExcess
        Excess over the soft-tissue estimate (read in the ring's window only).
    tissue : (M, N) ndarray of bool
        The pixels that may form the ring.
    grid : WorkGrid

    Returns
    -------
    float
    """
    import cv2

    inner, outer = (grid.px(r) for r in _RING_MM)
    pad = int(math.ceil(outer)) + 1
    rows, cols = tissue.shape
    y0, x0 = max(origin[0] - pad, 0), max(origin[1] - pad, 0)
    y1 = min(origin[0] + comp.shape[0] + pad, rows)
    x1 = min(origin[1] + comp.shape[1] + pad, cols)
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    oy, ox = origin[0] - y0, origin[1] - x0
    local[oy : oy + comp.shape[0], ox : ox + comp.shape[1]] = comp
    near = cv2.dilate(local, ellipse(inner)) > 0
    ring = (cv2.dilate(local, ellipse(outer)) > 0) & ~near & tissue[y0:y1, x0:x1]
    if np.count_nonzero(ring) * grid.pixel_mm**2 < 10.0:
        return math.inf
    excess = excess[y0:y1, x0:x1]
    around = excess[ring]
    level = float(np.median(around))
    spread = robust_sigma(around)
    peak = float(np.percentile(excess[local > 0], 90.0))
    return (peak - level) / max(spread, 1e-12)


def _components(mask: np.ndarray, min_px: float, level: float, origin: tuple[int, int] = (0, 0)):
    """Connected components of ``mask`` of at least ``min_px`` pixels, as work items
    ``(component within its bounding box, (row0, col0) of the box, level)``."""
    import cv2

    n, lab, stats = label_with_stats(mask)
    items = []
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] < min_px:
            continue
        x0, y0, w, h = (int(v) for v in stats[k, :4])
        items.append((lab[y0 : y0 + h, x0 : x0 + w] == k, (origin[0] + y0, origin[1] + x0), level))
    return items


def _seeds(
    fine: np.ndarray,
    coarse: np.ndarray,
    background: np.ndarray,
    along: np.ndarray | None,
    noise: np.ndarray,
    sigma_coarse: np.ndarray,
    seg,
) -> np.ndarray:
    """Seed pixels: an excess over the soft tissue at the fine or the coarse scale.

    The soft tissue is the higher of two estimates: the local fit (``background``) and
    the tissue as it runs along the limb (``along``; None when the image has too little
    tissue to tell, then the local fit alone counts). Skin, fat planes and muscle bellies
    change across the limb within millimetres, faster than the local fit follows (it
    leaves positive strips along them), but hardly along it, where a lesion is compact;
    the along-limb estimate follows them and ignores the lesion. Where ``along`` is NaN
    (the limb leaves the field within ~20 mm, so its run is too short to trust) nothing
    seeds: the field's end carries strips of its own (scatter fall-off, the ends of
    bones) that neither estimate can tell from mineral. (On dev seeds 43 and 44, seeding
    there from the local fit alone added FPs and found no lesion.)
    """
    # np.maximum keeps along's NaN, and an excess over NaN is never above a threshold:
    # nothing seeds there (as over an infinite soft tissue) without a pass to mark it.
    top = background if along is None else np.maximum(background, along)
    # The same differences and thresholds (float32 maps), in two reused buffers.
    excess = np.subtract(fine, top)
    limit = np.multiply(noise, seg.lesion_threshold_sigma)
    seeds = excess > limit
    np.subtract(coarse, top, out=excess)
    np.multiply(sigma_coarse, seg.coarse_threshold_sigma, out=limit)
    seeds |= excess > limit
    return seeds


def _distance_to(region: np.ndarray, box: tuple[slice, slice], reach: float) -> np.ndarray:
    """Distance (px) to ``region`` or the image border (0 on them) of the pixels in
    ``box``: the whole grid's value where it is below ``reach``, at least ``reach`` elsewhere.

    OpenCV's 3 x 3 chamfer distance (``DIST_L2``, mask 3) is the length of the shortest
    path of axial (0.955) and diagonal (1.3693) steps, in exact fixed point. A pixel
    nearer than ``reach`` has its nearest region pixel within ``reach / 0.955`` rows and
    columns, so the transform of the box padded by that much (with the image border
    where the padding reaches it) gives its whole-grid distance; a farther pixel sees
    fewer region pixels and comes out at least ``reach``. A candidate's box is a small
    part of the grid.
    """
    import cv2

    rows, cols = region.shape
    pad = int(math.ceil(reach / 0.955)) + 1
    r0, r1 = max(box[0].start - pad, 0), min(box[0].stop + pad, rows)
    c0, c1 = max(box[1].start - pad, 0), min(box[1].stop + pad, cols)
    outside = (~region[r0:r1, c0:c1]).astype(np.uint8)
    if r0 == 0:
        outside[0, :] = 0
    if r1 == rows:
        outside[-1, :] = 0
    if c0 == 0:
        outside[:, 0] = 0
    if c1 == cols:
        outside[:, -1] = 0
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
    return dist[box[0].start - r0 : box[0].stop - r0, box[1].start - c0 : box[1].stop - c0]


def _to_work(mask: np.ndarray, grid: WorkGrid) -> np.ndarray:
    """Area-resample an input-grid bool mask to the working grid (majority vote)."""
    import cv2

    if not mask.any():
        return np.zeros(grid.shape, bool)
    m = cv2.resize(mask.astype(np.float32), (grid.shape[1], grid.shape[0]),
                   interpolation=cv2.INTER_AREA)
    return m >= 0.5


def _is_marker(
    residual: np.ndarray, z: np.ndarray, comp: np.ndarray, grid: WorkGrid, seg, bone_peak: float
) -> bool:
    """A lead marker: a compact plateau or step, very dense and sharp-edged.

    Lead is a step: its edge rises from 30% to 90% of the peak within the blur
    (``_MARKER_EDGE_MM``). A broad mineral body can look like a plateau against the local
    fit, which follows its dome, but its edge rises over millimetres.

    Lesions are not plateaus in projection: a shell peaks near its rim, a solid body near
    its centre (a uniform ball has ~20% of the area above 30% of its peak within 10% of
    the peak). Very dense means denser than the cortex (lead stops nearly everything), or,
    without a bone, 50 local sigmas. A letter-sized (<= 400 mm2) step 1.5 times denser
    than the cortex is a marker too, however uneven its top; so is a letter-sized step
    ``_MARKER_STEP_SIGMA`` local sigmas above the tissue around it, whatever the cortex
    (the cortex may be missing, or brighter than the marker after vendor processing).
    (Known limit: a uniform ball that small and that dense would pass for one; centre-dense
    lesions and shells do not.)
    """
    vals = residual[comp]
    area_mm2 = vals.size * grid.pixel_mm**2
    if area_mm2 > 2000.0 or vals.size < 9:
        return False
    peak = float(vals.max())
    z_peak = float(z[comp].max())
    dense = peak >= bone_peak if np.isfinite(bone_peak) else z_peak >= 50.0
    very_dense = z_peak >= _MARKER_STEP_SIGMA
    if peak <= 0 or not (dense or very_dense):
        return False
    # The object's own extent (above 30% of its peak), not the noise-relative region a
    # very dense object grows into through its blur and scatter halo.
    body = vals[vals >= 0.3 * peak]
    plateau = float(np.mean(body >= 0.9 * peak)) >= 0.45
    if not plateau:
        if area_mm2 > 400.0:
            return False
        # Over soft tissue a marker's top is not flat in the residual (the tissue under it
        # varies), but it is still a step, mostly above 70% of its (robust) peak. A body of
        # mineral projects a dome: a centre-dense one has ~1/3 of its body there, a shell
        # less, and the densest phantom lesions (60-160 sigmas) at most 0.50, where letters
        # give 0.55-0.8.
        robust_peak = float(np.percentile(vals, 98.0))
        step = float(np.mean(body >= 0.7 * robust_peak))
        if not ((np.isfinite(bone_peak) and robust_peak >= 1.5 * bone_peak and step >= 0.45)
                or (very_dense and step >= 0.55)):
            return False
    # A marker's shape; the edge (contours, the costlier test) only for those.
    return _edge_rise_mm(residual, comp, peak, grid) <= _MARKER_EDGE_MM


# A letter-sized step this many local noise sigmas above the tissue is lead, not mineral.
_MARKER_STEP_SIGMA = 60.0
# The widest 30%-90% edge rise (mm) of a lead step on the working grid. A step blurred by
# the 0.5 mm smoothing, the 0.4 mm working pixel and the detector rises over ~1 mm: on
# dev seeds 12 and 44, 51 markers measured 0.35-1.55 mm (thin strokes and corners widen
# it). A broad, very dense POS, flat-topped against the local fit, measured 4.0 mm.
_MARKER_EDGE_MM = 2.5
# A piece split off a too-long component must peak this many times above its own level,
# which is twice the level that cut it: four times the cut level. (On dev seeds 12/43/44,
# 1.5 kept more strip fragments for the same lesions; so did 2.0 against the cut level
# itself: FP 0.145 -> 0.190 on dev 12, +2 mature HO, no POS.)
_PIECE_RISE = 2.0


def _edge_rise_mm(residual: np.ndarray, comp: np.ndarray, peak: float, grid: WorkGrid) -> float:
    """Mean width (mm) of the band where ``residual`` within ``comp`` rises from 30% to
    90% of ``peak``: the band's area over the length of the 60% outline."""
    import cv2

    vals = residual[comp]
    band_px = np.count_nonzero((vals >= 0.3 * peak) & (vals < 0.9 * peak))
    mid = (comp & (residual >= 0.6 * peak)).astype(np.uint8)
    contours, _ = cv2.findContours(mid, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    length_px = sum(cv2.arcLength(c, True) for c in contours)
    return band_px / max(length_px, 1.0) * grid.pixel_mm


def _is_bone_sliver(comp: np.ndarray, bone: BoneModel, grid: WorkGrid) -> bool:
    """A thin strip along a shaft: bone the edge model left out, not mineral on it.

    Thinner than 2.5 mm, at least 6 times longer than wide and within 15 degrees of a shaft
    axis. Parosteal and juxtacortical lesions are broad (10-80 mm) and come out wider.
    """
    if np.count_nonzero(comp) < 5 or not bone.axes:
        return False
    lam, major = _principal_axes(comp)
    width_mm = _moment_extent_mm(lam[0], grid)
    if width_mm >= 2.5 or _axis_ratio(lam) < 6.0:
        return False
    return _along_a_shaft(major, bone, 15.0)


def _bone_end_keep(comp: np.ndarray, origin: tuple[int, int], bone: BoneModel,
                   mask: np.ndarray, grid: WorkGrid) -> np.ndarray | None:
    """The rest of a shaft between the end of its fitted mask and the field edge.

    Where a bone runs out of the field through a metaphysis, its flare and trabecular
    texture may not pair as a shaft, so the fitted mask stops short of the field edge
    and what is left looks like dense soft tissue. A candidate is that remnant when
    (the caller checks) it touches the bone and reaches the field edge, and at least 70%
    of it lies in the shaft's own corridor (a metaphysis up to twice the shaft's width,
    plus 4 mm, around the axis) beyond the last 10 mm of the mask.

    The remnant is the shaft's two edges, one on each side of the axis. A lesion on that
    last stretch (where it often is the reason the mask stopped: its density hides the
    cortex's edge) joins one of them. So when the candidate lies on one side and the
    ``mask`` holds its twin on the other side over the same stretch, the part of the
    candidate more than 1 mm beyond the twin's mirrored reach (its 98th percentile
    distance from the axis) is not the shaft's. A candidate in the corridors of several
    shafts must stand beyond the twins of all of them.

    Returns
    -------
    None when the candidate is not a remnant (or all of it lies beyond its twin), else
    the part of ``comp`` to test on its own (empty: drop it all).
    """
    ys, xs = np.nonzero(comp)
    if ys.size == 0:
        return None
    pts = np.stack([ys + origin[0], xs + origin[1]], axis=1).astype(np.float64)
    sr, sc = grid.scale_rc
    keep = None
    for ax in bone.axes:
        ctr = grid.to_work_rc(np.asarray(ax.center_rc, dtype=np.float64)[None])[0]
        d = np.array([ax.direction_rc[0] * sr, ax.direction_rc[1] * sc])
        d /= max(float(np.hypot(*d)), 1e-12)
        n = np.array([-d[1], d[0]])
        along = (pts - ctr) @ d
        across = (pts - ctr) @ n
        corridor = grid.px(ax.width_mm + 4.0)
        inside = (np.abs(across) <= corridor) & (
            np.abs(along) >= grid.px(0.5 * ax.length_mm - 10.0)
        )
        if float(inside.mean()) < 0.7:
            continue
        side = np.sign(np.median(across))  # the side of the axis the candidate is on
        reach = _twin_reach(pts, across, along, side, (ctr, d, n), corridor, mask, grid)
        beyond = np.zeros(ys.size, dtype=bool)
        if reach is not None:
            beyond = across * side > reach + grid.px(1.0)
        # a remnant of several shafts (a forearm's, a leg's) keeps only what stands
        # beyond the twins of all of them
        keep = beyond if keep is None else keep & beyond
    if keep is None or keep.all():
        return None
    out = np.zeros_like(comp)
    out[ys[keep], xs[keep]] = True
    return out


# A shaft edge's remnant is a strip of tens of mm2 or more: less is no twin.
_TWIN_MIN_MM2 = 20.0


def _twin_reach(pts, across, along, side: float, frame, corridor: float, mask: np.ndarray,
                grid: WorkGrid) -> float | None:
    """How far from the axis the shaft's other edge reaches beside a one-sided remnant.

    The ``mask`` pixels in the corridor on the other side of the axis over the same
    stretch along it (at least ``_TWIN_MIN_MM2`` of them): their 98th
    percentile distance from the axis. None when the remnant straddles the axis or has
    no such twin. ``frame`` is the axis's centre, direction and normal (working grid),
    ``across`` and ``along`` the candidate's ``pts`` in it, ``side`` the sign of their
    median ``across``.
    """
    ctr, d, n = frame
    if side == 0 or float(np.mean(across * side > 0)) < 0.9:
        return None
    mirror = pts - 2.0 * across[:, None] * n[None, :]
    pad = grid.px(2.0)
    r0, c0 = (int(max(v, 0)) for v in np.floor(mirror.min(axis=0) - pad))
    r1 = int(min(np.ceil(mirror[:, 0].max() + pad) + 1, mask.shape[0]))
    c1 = int(min(np.ceil(mirror[:, 1].max() + pad) + 1, mask.shape[1]))
    if r1 <= r0 or c1 <= c0:
        return None
    ty, tx = np.nonzero(mask[r0:r1, c0:c1])
    if ty.size == 0:
        return None
    tp = np.stack([ty + r0, tx + c0], axis=1).astype(np.float64) - ctr
    t_across = tp @ n
    t_along = tp @ d
    twin = ((t_across * side < 0) & (np.abs(t_across) <= corridor)
            & (t_along >= along.min()) & (t_along <= along.max()))
    if np.count_nonzero(twin) * grid.pixel_mm**2 < _TWIN_MIN_MM2:
        return None
    return float(np.percentile(np.abs(t_across[twin]), 98.0))


def _fragment_flags(fragments: np.ndarray, grid: WorkGrid) -> list[str]:
    """Mimic flags read from what the closing joined into one candidate.

    ``fragments`` are the candidate's seed-level pixels (fine residual above
    ``lesion_threshold_sigma``): they show how the mineral is laid out. A cluster of
    punctate foci is three or more separate dots (each under 12 mm2); a vascular
    calcification is one or two long straight thin lines (a "tram-track", which the
    closing fills into a tube that would otherwise read rim-dense). HO and POS are one
    body or the arcs of one rim: arcs are curved, so their second moments are not
    those of a thin line.
    """
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(fragments.astype(np.uint8), connectivity=8)
    if n <= 1:
        return []
    px2 = grid.pixel_mm**2
    areas = stats[1:, cv2.CC_STAT_AREA] * px2
    keep = areas >= 0.5  # single noise pixels are not foci
    if keep.sum() >= 3 and float(areas[keep].max()) < 12.0:
        return ["punctate"]
    thin = 0.0
    longest = 0.0
    for k in range(1, n):
        if areas[k - 1] < 2.0:
            continue
        lam = _principal_axes(lab == k)[0]
        length = _moment_extent_mm(lam[1], grid)
        width = _moment_extent_mm(lam[0], grid)
        if width < 2.5 and length > 6.0 * max(width, 0.4):
            thin += areas[k - 1]
            longest = max(longest, length)
    if longest >= 15.0 and thin >= 0.7 * float(areas.sum()):
        return ["linear"]
    return []


# A calcified vessel's two walls blur into one band 3.4-7 mm wide (limb arteries are 3-8
# mm across; a single rim of HO is thinner) that keeps its width and runs straight, apart
# from a gentle wave, over at least 25 mm.
_TUBE_WIDTH_MM = (3.4, 7.0)
_TUBE_MIN_LENGTH_MM = 25.0
_TUBE_MAX_BEND_MM = 2.0


def _is_tubular(residual: np.ndarray, comp: np.ndarray, grid: WorkGrid) -> bool:
    """A straight band of constant width: a calcified vessel, whatever its outline.

    The mask's own shape is not enough: growth often adds a faint margin on one side of
    a vessel, which makes the outline as wide as a small lesion. The dense part is read
    instead. At stations every millimetre along the mask's major axis, the residual is
    sampled across it; the band is where it is at least half that station's maximum.
    Tubular: over at least ``_TUBE_MIN_LENGTH_MM`` of stations, the band's median width
    lies in ``_TUBE_WIDTH_MM``, nine in ten stations are at most 1 mm wider, and the
    band's centre strays from a straight line by at most ``_TUBE_MAX_BEND_MM`` (RMS).
    The rim of HO curves round the lesion, and a POS is broad at its base.
    """
    import cv2

    if np.count_nonzero(comp) < 10:
        return False
    px = grid.pixel_mm
    ys, xs = np.nonzero(comp)
    (cy, cx), d, n = principal_axes(ys, xs)
    along = (ys - cy) * d[0] + (xs - cx) * d[1]
    across = (ys - cy) * n[0] + (xs - cx) * n[1]
    t = np.arange(along.min() + 1.0, along.max() - 1.0, 1.0 / px)  # a station per mm
    if t.size < _TUBE_MIN_LENGTH_MM:
        return False
    step = 0.25  # px across
    s = np.arange(across.min() - 1.0, across.max() + 1.0 + step, step)
    tt, ss = np.meshgrid(t, s, indexing="ij")
    map_y = (cy + tt * d[0] + ss * n[0]).astype(np.float32)
    map_x = (cx + tt * d[1] + ss * n[1]).astype(np.float32)
    vals = cv2.remap(residual.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inside = cv2.remap(comp.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    vals = np.where(inside, vals, -np.inf)
    peak = vals.max(axis=1)
    ok = np.isfinite(peak) & (peak > 0)
    if np.count_nonzero(ok) < _TUBE_MIN_LENGTH_MM:
        return False
    band = vals[ok] >= 0.5 * peak[ok, None]
    first = band.argmax(axis=1)
    last = band.shape[1] - 1 - band[:, ::-1].argmax(axis=1)
    width = (last - first + 1) * step * px
    centre = 0.5 * (first + last) * step * px
    lo, hi = _TUBE_WIDTH_MM
    if not lo <= float(np.median(width)) <= hi or float(np.percentile(width, 90)) > hi + 1.0:
        return False
    pos = t[ok] * px
    fit = np.polyval(np.polyfit(pos, centre, 1), pos)
    return float(np.sqrt(np.mean((centre - fit) ** 2))) <= _TUBE_MAX_BEND_MM


# A fat/muscle interface (or the skin) runs along the limb for longer than this (mm) and
# within this angle (degrees) of a shaft axis.
_INTERFACE_MIN_MM = 60.0
_INTERFACE_MAX_DEG = 10.0


def _is_anatomical_line(comp: np.ndarray, bone: BoneModel, grid: WorkGrid) -> bool:
    """A long faint line along the limb: a fat/muscle interface or the skin, not mineral.

    Longer than 60 mm, more than 8 times longer than wide, within 10 degrees of a shaft
    axis (the limb's). Lesions are at most ~80 mm and never that thin; a vascular
    calcification can look like this and is given up (it is a mimic, not a sign).
    """
    if np.count_nonzero(comp) < 5 or not bone.axes:
        return False
    lam, major = _principal_axes(comp)
    length_mm = _moment_extent_mm(lam[1], grid)
    if length_mm < _INTERFACE_MIN_MM or _axis_ratio(lam) < 8.0:
        return False
    return _along_a_shaft(major, bone, _INTERFACE_MAX_DEG)


def _grown_line(comp: np.ndarray, flags: list[str], bone: BoneModel, grid: WorkGrid, seg) -> bool:
    """A grown candidate longer than any lesion, or a fat/muscle interface.

    The interface: faint, at least 60 mm long along a shaft, and its dense pixels are
    thin straight lines (``linear`` from :func:`_fragment_flags`). The outline's own
    axis ratio (:func:`_is_anatomical_line`) is no test here: growth widens a line, and
    a faint HO elongated along its muscle, found as a narrow strip, has the ratio of one.
    """
    if np.count_nonzero(comp) < 5:
        return False
    lam, major = _principal_axes(comp)
    length_mm = _moment_extent_mm(lam[1], grid)
    if length_mm > seg.max_lesion_length_mm:
        return True
    return bool("low_contrast" in flags and "linear" in flags and length_mm >= _INTERFACE_MIN_MM
                and bone.axes and _along_a_shaft(major, bone, _INTERFACE_MAX_DEG))


def _moment_extent_mm(eigenvalue: float, grid: WorkGrid) -> float:
    """Full length (mm) along one principal axis: 4 sqrt(second moment), the axis of the
    ellipse with the same moments."""
    return 4.0 * float(np.sqrt(max(eigenvalue, 0.0))) * grid.pixel_mm


def _principal_axes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Second-moment eigenvalues (minor, major; px^2) and the major axis (row, col) of a mask."""
    ys, xs = np.nonzero(mask)
    lam, vec = np.linalg.eigh(np.cov(np.stack([ys, xs]).astype(np.float64)))
    return lam, vec[:, 1]


def _axis_ratio(lam: np.ndarray) -> float:
    """Major/minor axis ratio from second-moment eigenvalues."""
    return float(np.sqrt(max(lam[1], 1e-9) / max(lam[0], 1e-9)))


def _along_a_shaft(major: np.ndarray, bone: BoneModel, degrees: float) -> bool:
    """Whether the direction ``major`` lies within ``degrees`` of a shaft axis."""
    return any(abs(float(major @ np.asarray(ax.direction_rc))) > np.cos(np.deg2rad(degrees))
               for ax in bone.axes)


def _elongation(comp: np.ndarray) -> float:
    """Major/minor axis ratio of a bool mask from its second moments."""
    if np.count_nonzero(comp) < 3:
        return 1.0
    return _axis_ratio(_principal_axes(comp)[0])


def _in_field(comp: np.ndarray, origin: tuple[int, int], field: np.ndarray, grid: WorkGrid) -> bool:
    """True when most of a 3 mm ring around the candidate is air/collimation/markers.

    Mineral in soft tissue has soft tissue around it; something surrounded by air or
    collimation (a lead marker, a letter of burned-in text) does not.
    """
    import cv2

    pad = max(int(round(grid.px(3.0))), 1)
    y0, x0 = origin
    h, w = comp.shape
    r0, c0 = max(y0 - pad, 0), max(x0 - pad, 0)
    r1, c1 = min(y0 + h + pad, field.shape[0]), min(x0 + w + pad, field.shape[1])
    m = np.zeros((r1 - r0, c1 - c0), np.uint8)
    m[y0 - r0 : y0 - r0 + h, x0 - c0 : x0 - c0 + w] = comp
    ring = (cv2.dilate(m, ellipse(pad)) > 0) & (m == 0)
    if not ring.any():
        return False
    return float(field[r0:r1, c0:c1][ring].mean()) > 0.5


def _record(
    labels: np.ndarray,
    comp: np.ndarray,
    origin: tuple[int, int],
    grid: WorkGrid,
    lesion_id: int,
    flags: list[str],
    seg,
    bone_labels: np.ndarray,
) -> LesionCandidate | None:
    """Upsample one working-grid component into ``labels`` and measure it there."""
    import cv2

    y0, x0 = origin
    h, w = comp.shape
    pad = 1
    src = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    src[pad:-pad, pad:-pad] = comp
    rows_in, cols_in = grid.input_shape
    # Input-grid box covering the padded working box.
    corners = grid.to_input_rc(np.array([[y0 - pad - 0.5, x0 - pad - 0.5],
                                         [y0 + h + pad - 0.5, x0 + w + pad - 0.5]]))
    r0, c0 = max(int(math.floor(corners[0, 0])), 0), max(int(math.floor(corners[0, 1])), 0)
    r1, c1 = min(int(math.ceil(corners[1, 0])) + 1, rows_in), min(int(math.ceil(corners[1, 1])) + 1, cols_in)
    if r1 <= r0 or c1 <= c0:
        return None
    rr = np.arange(r0, r1, dtype=np.float64)
    cc = np.arange(c0, c1, dtype=np.float64)
    sr, sc = grid.scale_rc
    map_r = ((rr + 0.5) / sr - 0.5 - (y0 - pad)).astype(np.float32)
    map_c = ((cc + 0.5) / sc - 0.5 - (x0 - pad)).astype(np.float32)
    map_x = np.broadcast_to(map_c[None, :], (rr.size, cc.size))
    map_y = np.broadcast_to(map_r[:, None], (rr.size, cc.size))
    up = cv2.remap(src, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                   interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # Lesions reach the periosteal edge: the upsampled outline must not spill over it
    # (the bone read in this box only, not thresholded over the whole input grid).
    sub = (up >= 0.5) & (labels[r0:r1, c0:c1] == 0) & (bone_labels[r0:r1, c0:c1] <= 0)
    area_px = int(sub.sum())
    if area_px == 0:
        return None
    labels[r0:r1, c0:c1][sub] = lesion_id
    ys, xs = np.nonzero(sub)
    sp_r, sp_c = grid.spacing_mm
    cr, ccn = float(ys.mean()), float(xs.mean())
    dy, dx = (ys - cr) * sp_r, (xs - ccn) * sp_c
    cov = np.array([[np.mean(dy * dy), np.mean(dy * dx)], [np.mean(dy * dx), np.mean(dx * dx)]])
    lam = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    # Full axes of the ellipse with the same second moments (+1 px for pixel extent).
    length_mm = 4.0 * math.sqrt(lam[1] + sp_r * sp_c / 12.0)
    width_mm = 4.0 * math.sqrt(lam[0] + sp_r * sp_c / 12.0)
    area_mm2 = area_px * sp_r * sp_c
    elong = length_mm / max(width_mm, 1e-9)
    if area_mm2 < seg.small_lesion_area_mm2:
        flags.append("small")
    if elong > seg.linear_elongation and width_mm < seg.linear_max_width_mm:
        flags.append("linear")
    elif length_mm < seg.round_small_length_mm and elong < 2.0:
        flags.append("round_small")
    if length_mm < 2.5:
        flags.append("punctate")
    bbox = (r0 + int(ys.min()), c0 + int(xs.min()), r0 + int(ys.max()) + 1, c0 + int(xs.max()) + 1)
    return LesionCandidate(
        id=lesion_id,
        bbox_rc=bbox,
        centroid_rc=(r0 + cr, c0 + ccn),
        area_px=area_px,
        area_mm2=float(area_mm2),
        length_mm=float(length_mm),
        width_mm=float(width_mm),
        flags=tuple(sorted(set(flags))),
    )


__all__ = ["find_lesions"]

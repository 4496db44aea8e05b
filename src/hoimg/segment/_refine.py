"""Grow detected lesion cores out to the whole lesion (working grid).

The first pass of :func:`hoimg.segment.find_lesions` measures density against a
background fitted *before* anything was known about the lesions. A large, smooth,
centre-dense lesion is partly absorbed by that fit (its flanks are fitted as soft
tissue), so only its core clears the threshold, and a faint rim comes out as the few
islands that reach it. Downstream, the radial profile and the cleft scan read a core cut
at about half its peak as "uniform" and its distance to the bone as a cleft that is too
wide.

Here the background is fitted again with every candidate (dilated) left out, so the
lesion's flanks are measured against the soft tissue around it, and each candidate grows
by hysteresis into connected pixels above a low threshold, within a mm-bounded margin,
never into bone (plus its blurred edge) nor the field margin. A closing and hole filling
then make a rim one lesion with its lucent centre.

Lesions fill a small part of the grid, so only the background refit (cheap: it is
solved on a coarse grid) covers the whole grid; everything else runs in windows around
the cores, padded by everything the growth can reach and merged where they would
overlap, which gives the whole-grid result at a fraction of the cost.
"""

from __future__ import annotations

import numpy as np

from ._background import fill_holes, quadratic_background
from ._grid import WorkGrid, ellipse, gaussian, morphology, nonzero_box


def refine_masks(
    cores: np.ndarray,
    smooth: np.ndarray,
    coarse: np.ndarray,
    coarse_sigma: np.ndarray,
    noise: np.ndarray,
    soft: np.ndarray,
    band: np.ndarray,
    hard_stop: np.ndarray,
    grid: WorkGrid,
    seg,
) -> np.ndarray:
    """Grow candidate cores into whole lesions.

    Parameters
    ----------
    cores : (M, N) ndarray of bool
        First-pass candidates (seeds grown, closed and hole-filled).
    smooth, coarse : (M, N) ndarray of float32
        The image at the fine and the coarse (``coarse_smoothing_mm``) smoothing; the
        coarse map is a weighted mean over ``soft`` only.
    coarse_sigma : (M, N) ndarray of float32
        Local robust sigma of the coarse residual (noise units of the growth threshold).
    noise : (M, N) ndarray of float32
        Local robust sigma of the fine residual.
    soft : (M, N) ndarray of bool
        Pixels that may be soft tissue: in the field, off the bone and its blurred edge.
    band : (M, N) ndarray of bool
        The bone's blurred edge (``bone_margin_mm``), where the bone itself raises the
        residual: lesions enter it only by :func:`_creep_band`.
    hard_stop : (M, N) ndarray of bool
        Never part of a lesion (bone, field, markers).
    grid : WorkGrid
    seg : SegmentConfig

    Returns
    -------
    (M, N) ndarray of bool
        The grown masks (a superset of ``cores`` outside ``hard_stop``).
    """
    import cv2

    if not cores.any():
        return cores
    boxes = _core_windows(cores, _window_pad(grid, seg))
    # The fit must not see the lesion's faint flanks either: leave out a margin around
    # each core as well as the core itself. A dilation of each window (not of the whole
    # grid): nothing beyond a window's padding is within reach of its cores.
    excl = np.zeros_like(cores)
    kern = ellipse(grid.px(seg.refine_exclude_mm))
    for r0, c0, r1, c1 in boxes:
        excl[r0:r1, c0:c1] = morphology(cores[r0:r1, c0:c1], cv2.MORPH_DILATE, kern) > 0
    # One fit over the whole grid (its cost is on the coarse grid), read in the windows.
    bg = quadratic_background(smooth, soft & ~excl, grid.px(seg.background_scale_mm))
    out = np.zeros_like(cores)
    hard_band = band & ~hard_stop
    for r0, c0, r1, c1 in boxes:
        win = (slice(r0, r1), slice(c0, c1))
        out[win] = _refine_window(cores[win], smooth[win], coarse[win], coarse_sigma[win],
                                  noise[win], soft[win], hard_band[win], hard_stop[win],
                                  bg[win], grid, seg)
    return out


def _window_pad(grid: WorkGrid, seg) -> int:
    """Padding (working pixels) around a core that holds all of its refinement.

    Growth reaches ``refine_margin_mm`` from a core; the closing (``rim_closing_mm``),
    the creep into the bone band (``bone_margin_mm``) and the smoothing of the peel (a
    few pixels) act beyond that, so nothing the pass reads or writes for a core lies
    farther out. Cores closer than twice this share a window, so a neighbour's peak
    (read over a ``refine_margin_mm`` box) and the zones between cores are the whole
    grid's too.
    """
    reach = grid.px(seg.refine_margin_mm) + grid.px(seg.rim_closing_mm) + grid.px(seg.bone_margin_mm)
    return int(np.ceil(reach)) + 8


def _core_windows(cores: np.ndarray, pad: int) -> list[tuple[int, int, int, int]]:
    """Boxes ``(r0, c0, r1, c1)`` (end-exclusive) around the cores, padded and merged.

    Each core's bounding box grows by ``pad`` (clipped to the grid); boxes that overlap
    are merged into their common bounding box until none do, so no two windows share a
    pixel and every core lies wholly in one window, ``pad`` from its edge (or at the
    grid's edge).
    """
    import cv2

    rows, cols = cores.shape
    box = nonzero_box(cores, 0)
    if box is None:
        return []
    # Labelled with statistics on the cores' bounding box only (on the whole grid the
    # statistics cost ten times the labelling).
    n, _, stats, _ = cv2.connectedComponentsWithStats(cores[box].astype(np.uint8), connectivity=8)
    oy, ox = box[0].start, box[1].start
    boxes = []
    for k in range(1, n):
        x, y, w, h = (int(v) for v in stats[k, :4])
        x, y = x + ox, y + oy
        boxes.append([max(y - pad, 0), max(x - pad, 0), min(y + h + pad, rows), min(x + w + pad, cols)])
    merged = True
    while merged:
        merged = False
        out: list[list[int]] = []
        for b in boxes:
            for o in out:
                if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                    o[0], o[1] = min(o[0], b[0]), min(o[1], b[1])
                    o[2], o[3] = max(o[2], b[2]), max(o[3], b[3])
                    merged = True
                    break
            else:
                out.append(list(b))
        boxes = out
    return [tuple(b) for b in boxes]


def _refine_window(
    cores: np.ndarray,
    smooth: np.ndarray,
    coarse: np.ndarray,
    coarse_sigma: np.ndarray,
    noise: np.ndarray,
    soft: np.ndarray,
    band: np.ndarray,
    hard_stop: np.ndarray,
    bg: np.ndarray,
    grid: WorkGrid,
    seg,
) -> np.ndarray:
    """:func:`refine_masks` in one window: every array cropped to it, ``bg`` the refitted background."""
    import cv2

    core8 = cores.astype(np.uint8)
    residual = smooth - bg
    z = (coarse - bg) / coarse_sigma
    z_fine = residual / noise
    # Thresholds also scale with the nearby core's peak: a dense lesion's flank is far
    # above the background's few-sigma misfit (near the skin, along muscle planes) and
    # its own scatter halo, which would otherwise leak in; a faint lesion grows down to
    # the noise floor. The peak is the core's density (residual) on the fine map, for
    # every map: a small dense object's peak is diluted on the blurred maps, while its
    # halo is not, so a floor relative to each map's own peak let a phlebolith grow
    # tenfold into its halo.
    margin = max(int(round(grid.px(seg.refine_margin_mm))), 1)
    box = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1))
    n, lab = cv2.connectedComponents(core8, connectivity=8)
    floor = seg.refine_peak_fraction * cv2.dilate(_core_peaks(lab, n, cores, residual), box)
    grow = (z > np.maximum(seg.refine_grow_sigma, floor / coarse_sigma)) & soft
    # The coarse map is blurred by coarse_smoothing_mm: shrink it back so it cannot
    # bridge a cleft to the bone or to a neighbour. The fine map restores the edge.
    grow = morphology(grow, cv2.MORPH_ERODE, ellipse(grid.px(seg.coarse_smoothing_mm))) > 0
    grow |= (z_fine > np.maximum(seg.lesion_grow_sigma, floor / noise)) & soft
    # A medium map reaches a smooth body's faint flank without the coarse map's blur of a
    # sharp rim. Its noise: white noise falls with the smoothing width (2-D).
    s_med, s_fine = seg.refine_medium_smoothing_mm, seg.smoothing_mm
    extra = grid.px(np.sqrt(max(s_med**2 - s_fine**2, 0.0)))
    gain = s_med / s_fine
    z_med = gaussian(z_fine, extra) * gain if extra > 0 else z_fine
    grow |= (z_med > np.maximum(seg.lesion_grow_sigma, gain * floor / noise)) & soft
    grow = _gate_growth(grow, cores, residual, grid.px(seg.refine_gate_mm),
                        grid.px(seg.refine_gate_mm + seg.refine_gate_reach_mm), seg.refine_gate_fraction)
    reach = morphology(core8, cv2.MORPH_DILATE, ellipse(grid.px(seg.refine_margin_mm))) > 0
    grow = _rein_in_runaway((grow & reach) | cores, cores, residual,
                            seg.refine_runaway_ratio, seg.refine_runaway_fraction)
    n_g, lab_g = cv2.connectedComponents(grow.astype(np.uint8), connectivity=8)
    keep = np.zeros(n_g, bool)
    keep[np.unique(lab_g[cores])] = True
    keep[0] = False
    mask = keep[lab_g].astype(np.uint8)
    mask = morphology(mask, cv2.MORPH_CLOSE, ellipse(grid.px(seg.rim_closing_mm)))
    mask = fill_holes(mask > 0, seg.max_hole_mm2 / grid.pixel_mm**2) & ~hard_stop
    if n > 2:
        mask = _split_by_core(mask, cores)
    steps = int(np.ceil(grid.px(seg.bone_margin_mm))) + 1
    mask = _creep_band(mask, z_fine, band, steps, seg.lesion_grow_sigma, seg.refine_band_ratio)
    return _peel_halo(mask, z_fine, grid.px(seg.refine_edge_mm), seg.refine_edge_fraction,
                      grid.px(seg.refine_peel_depth_mm))


def _gate_growth(
    grow: np.ndarray, cores: np.ndarray, density: np.ndarray, ring_px: float, level_px: float,
    fraction: float,
) -> np.ndarray:
    """Let growth leave a core only where the core's density carries on outward.

    Growth exists for lesions the first pass cut short: a centre-dense body cut at about
    half its peak, whose flank goes on falling smoothly, and rim fragments, whose rim goes
    on at a fair share of their density. Where a core already holds its whole lesion (a
    mature shell, whose hysteresis core runs out into the blur halo), the density
    ``ring_px`` outside it is the soft tissue's, a small share of the rim's, and whatever
    the growth maps find beyond is background misfit or scatter: blocky lobes and, worst,
    a bridge over the cleft to the bone. A pixel within ``ring_px`` outside a core is
    removed from ``grow`` when its ``density`` is below ``fraction`` of the densest core
    pixel within ``level_px``; growth that can only reach the core through such pixels is
    then cut off from it. ``level_px`` must reach a rim's crest from its halo: a projected
    shell is brightest at its inner surface, a wall's thickness inside its outer edge, and
    a thick wall's outer slope is gentle, so a level read nearer the edge lets a plateau
    of misfit at a tenth or a fifth of the crest pass.
    """
    import cv2

    core8 = cores.astype(np.uint8)
    near = (cv2.dilate(core8, ellipse(ring_px)) > 0) & ~cores
    if not near.any():
        return grow
    dens = density.astype(np.float32)
    level = _densest_within(cores, dens, ellipse(level_px))
    return grow & ~(near & (dens < fraction * level))


def _densest_within(mask: np.ndarray, values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Per pixel, the largest float32 ``values`` of a ``mask`` pixel under ``kernel``
    centred there (-1e9 where there is none): the local level a lesion's edge is judged by."""
    import cv2

    return cv2.dilate(np.where(mask, values, np.float32(-1e9)), kernel)


def _rein_in_runaway(
    grow: np.ndarray, cores: np.ndarray, residual: np.ndarray, ratio: float, fraction: float
) -> np.ndarray:
    """Undo growth that ran from a dense core into a much fainter neighbouring structure.

    A lesion's own flank falls off continuously from its core, so growing a core adds
    less than a few times its area, at a fair share of its density. A small dense object
    (a phlebolith, 10-40 sigmas) next to a broad faint one (a muscle belly, a fold of
    the background fit, 2-3 sigmas) instead grows over the neighbour: many times its
    own area, at a tenth of its density, which hides the small round shape that marks
    it as a mimic. A grown region larger than ``ratio`` times its cores, whose added
    pixels average below ``fraction`` of the cores' peak ``residual``, keeps only what
    is above ``fraction`` of that peak and connected to a core.
    """
    import cv2

    n_g, lab_g, stats, _ = cv2.connectedComponentsWithStats(grow.astype(np.uint8), connectivity=8)
    out = grow.copy()
    for k in np.unique(lab_g[cores]):
        if k == 0:
            continue
        x0, y0, w, h = (int(v) for v in stats[k, :4])
        box = (slice(y0, y0 + h), slice(x0, x0 + w))
        region = lab_g[box] == k
        core = region & cores[box]
        if region.sum() <= ratio * core.sum():
            continue
        res = residual[box]
        floor = fraction * float(res[core].max())
        added = region & ~core
        if float(res[added].mean()) >= floor:
            continue
        strict = ((region & (res >= floor)) | core).astype(np.uint8)
        n_s, lab_s = cv2.connectedComponents(strict, connectivity=8)
        keep = np.zeros(n_s, bool)
        keep[np.unique(lab_s[core])] = True
        keep[0] = False
        out[box] &= ~region | keep[lab_s]
    return out


def _split_by_core(mask: np.ndarray, cores: np.ndarray) -> np.ndarray:
    """Cut ``mask`` along the boundaries between the zones nearest to each core.

    Growth must not merge candidates the first pass kept apart (a lesion and its
    neighbour, or a mimic): each grown pixel belongs to its nearest core, and a one-pixel
    cut separates the zones.
    """
    import cv2

    n = cv2.connectedComponents(cores.astype(np.uint8), connectivity=8)[0]
    if n <= 2:
        return mask
    _, near = cv2.distanceTransformWithLabels((~cores).astype(np.uint8), cv2.DIST_L2, 3,
                                              labelType=cv2.DIST_LABEL_CCOMP)
    lab = near.astype(np.float32)
    k = np.ones((3, 3), np.uint8)
    border = cv2.dilate(lab, k) != cv2.erode(lab, k)
    return mask & (~border | cores)


def _core_peaks(lab: np.ndarray, n: int, cores: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Each core's maximum of ``z`` painted over the core (0 elsewhere).

    ``lab`` and ``n`` are the cores' 8-connected labels and label count.
    """
    peaks = np.zeros(n, np.float32)
    # Over the core pixels only (a labelled maximum over the whole image is slow).
    np.maximum.at(peaks, lab[cores], z[cores].astype(np.float32))
    peaks[0] = 0.0
    return peaks[lab]


def _peel_halo(
    mask: np.ndarray, z: np.ndarray, reach_px: float, fraction: float, depth_px: float
) -> np.ndarray:
    """Move each outline in to where the density falls to ``fraction`` of its local level.

    A threshold in noise units puts the outline of a dense lesion out in its blur halo
    (at 2.5 sigmas of a 50-sigma rim, ~2 blur widths beyond the edge), which dilutes the
    rim of the radial profile. The edge of a blurred step is its half-level point, so an
    outer pixel is peeled off when its residual is below ``fraction`` of the densest mask
    pixel within ``reach_px``. Peeling works from the outside only and at most
    ``depth_px`` deep, so a lucent centre and the bridges of a patchy rim stay.
    """
    import cv2

    steps = max(int(round(depth_px)), 1)
    # Judged on a map smoothed over the reach: the noise maximum of single pixels would
    # otherwise set the level and peel faint flanks.
    zz = gaussian(z.astype(np.float32), 0.5 * reach_px)
    level = _densest_within(mask, zz, ellipse(reach_px))
    weak = mask & (zz < fraction * level)
    if not weak.any():
        return mask
    k = np.ones((3, 3), np.uint8)
    out = mask.copy()
    outside = ~fill_holes(out)
    for _ in range(steps):
        edge = out & (cv2.dilate(outside.astype(np.uint8), k) > 0) & weak
        if not edge.any():
            break
        out &= ~edge
        outside |= edge  # a peeled pixel joins the outside it was peeled from
    return out


def _creep_band(
    mask: np.ndarray, z: np.ndarray, band: np.ndarray, steps: int, floor: float, ratio: float
) -> np.ndarray:
    """Extend ``mask`` into ``band`` one pixel ring at a time while density holds up.

    Next to the bone the bone's own blur raises the residual, so a threshold cannot tell
    lesion from bone edge there. What can: a lesion attached to the cortex keeps its
    density up to the bone, whereas a cleft is a dip. A band pixel joins when it touches
    the mask and its residual ``z`` is above ``floor`` and at least ``ratio`` times the
    densest mask pixel next to it, so growth runs on through a broad attachment and stops
    at the bottom of a cleft (beyond which only the bone's blur rises again).
    """
    import cv2

    if not band.any() or not mask.any():
        return mask
    k = np.ones((3, 3), np.uint8)
    out = mask.copy()
    zz = z.astype(np.float32)
    for _ in range(steps):
        front = (cv2.dilate(out.astype(np.uint8), k) > 0) & band & ~out
        if not front.any():
            break
        near = _densest_within(out, zz, k)
        add = front & (zz > floor) & (zz >= ratio * near)
        if not add.any():
            break
        out |= add
    return out

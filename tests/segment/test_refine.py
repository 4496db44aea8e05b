"""Lesion refinement: per-window growth equals the whole-grid pass; windows and merging."""

from __future__ import annotations

import cv2
import numpy as np

from hoimg.config import SegmentConfig
from hoimg.segment._background import quadratic_background
from hoimg.segment._grid import WorkGrid, ellipse
from hoimg.segment._refine import _core_windows, _refine_window, _window_pad, refine_masks


def _grid(shape):
    return WorkGrid(shape, (0.4, 0.4), 0.4, shape, False)


def _disc(shape, center, radius, amp, blur=1.5):
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    d = np.hypot(r - center[0], c - center[1])
    return amp / (1.0 + np.exp((d - radius) / blur))


def _scene(shape=(500, 600), seed=0):
    """Soft-tissue dome with noise, three dense blobs (two close together), a bone band."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    img = 100.0 + 0.02 * r - 0.01 * c - 1e-4 * (c - 300) ** 2
    img += _disc(shape, (120, 150), 14, 25.0)
    img += _disc(shape, (130, 205), 10, 12.0)  # 55 px from the first: one merged window
    img += _disc(shape, (380, 450), 18, 8.0)
    img += rng.normal(0, 1.0, shape)
    img = img.astype(np.float32)
    bone = np.zeros(shape, bool)
    bone[:, 20:40] = True
    smooth = cv2.GaussianBlur(img, (0, 0), 1.25).astype(np.float32)
    coarse = cv2.GaussianBlur(img, (0, 0), 5.0).astype(np.float32)
    cores = np.zeros(shape, bool)
    for (cr, cc), rad in (((120, 150), 6), ((130, 205), 4), ((380, 450), 8)):
        cores |= np.hypot(r - cr, c - cc) <= rad
    band = (cv2.dilate(bone.astype(np.uint8), ellipse(4)) > 0) & ~bone
    soft = ~bone & ~band
    noise = np.full(shape, 0.6, np.float32)
    coarse_sigma = np.full(shape, 0.3, np.float32)
    return cores, smooth, coarse, coarse_sigma, noise, soft, band, bone


def test_windows_refine_exactly_as_the_whole_grid():
    cores, smooth, coarse, csig, noise, soft, band, hard = _scene()
    grid, seg = _grid(cores.shape), SegmentConfig()
    got = refine_masks(cores, smooth, coarse, csig, noise, soft, band, hard, grid, seg)
    # Twin: the same pass over the whole grid as one window.
    excl = cv2.dilate(cores.astype(np.uint8), ellipse(grid.px(seg.refine_exclude_mm))) > 0
    bg = quadratic_background(smooth, soft & ~excl, grid.px(seg.background_scale_mm))
    ref = _refine_window(cores, smooth, coarse, csig, noise, soft, band & ~hard, hard, bg, grid, seg)
    np.testing.assert_array_equal(got, ref)
    # Each blob grew out of its core, but not into the bone.
    assert got.sum() > 2 * cores.sum()
    assert not (got & hard).any()
    assert (got & cores).sum() == cores.sum()


def test_close_cores_share_a_window_and_far_ones_do_not():
    cores, *_ = _scene()
    pad = _window_pad(_grid(cores.shape), SegmentConfig())
    boxes = _core_windows(cores, pad)
    assert len(boxes) == 2
    # The two close blobs' cores (rows 114..134, cols 144..209) share the first window,
    # padded and clipped to the grid; the far one has its own.
    assert (max(114 - pad, 0), max(144 - pad, 0), 135 + pad, 210 + pad) in boxes
    assert (372 - pad, 442 - pad, min(389 + pad, 500), min(459 + pad, 600)) in boxes


def test_merged_windows_never_overlap():
    rng = np.random.default_rng(5)
    cores = np.zeros((400, 400), bool)
    for r, c in rng.integers(0, 400, size=(25, 2)):
        cores[r : r + 3, c : c + 3] = True
    boxes = _core_windows(cores, 30)
    cover = np.zeros(cores.shape, int)
    for r0, c0, r1, c1 in boxes:
        cover[r0:r1, c0:c1] += 1
    assert cover.max() == 1
    assert (cover[cores] == 1).all()


def test_no_cores_is_returned_unchanged():
    cores, smooth, coarse, csig, noise, soft, band, hard = _scene()
    none = np.zeros_like(cores)
    grid = _grid(none.shape)
    out = refine_masks(none, smooth, coarse, csig, noise, soft, band, hard, grid, SegmentConfig())
    assert not out.any()


def _runaway_scene():
    """A dense 6 px disc (peak 40) touching a broad faint plateau (3) 60 px across."""
    shape = (120, 160)
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    residual = np.zeros(shape, np.float32)
    dot = np.hypot(r - 60, c - 40) <= 6
    residual[dot] = 40.0
    plateau = (np.abs(r - 60) <= 30) & (c >= 46) & (c < 106)
    residual[plateau] = 3.0
    return residual, dot, plateau


def test_runaway_growth_into_a_faint_neighbour_is_undone():
    from hoimg.segment._refine import _rein_in_runaway

    residual, dot, plateau = _runaway_scene()
    grown = dot | plateau  # what a noise-level threshold reaches: 32x the core's area
    out = _rein_in_runaway(grown, dot, residual, ratio=4.0, fraction=0.2)
    # Everything above 20% of the peak (8) connected to the core: exactly the disc.
    assert np.array_equal(out, dot)


def test_a_flank_is_kept_and_so_is_modest_growth():
    from hoimg.segment._refine import _rein_in_runaway

    residual, dot, plateau = _runaway_scene()
    # The same plateau at 10 (25% of the peak) is a flank of fair density: kept.
    residual[plateau] = 10.0
    grown = dot | plateau
    assert np.array_equal(_rein_in_runaway(grown, dot, residual, 4.0, 0.2), grown)
    # Faint but small (under 4x the core's area): kept too.
    residual[plateau] = 3.0
    small = dot | (plateau & (np.abs(np.mgrid[0:120, 0:160][0] - 60) <= 6) & (np.mgrid[0:120, 0:160][1] < 60))
    assert small.sum() < 4 * dot.sum()
    assert np.array_equal(_rein_in_runaway(small, dot, residual, 4.0, 0.2), small)


def test_runaway_keeps_other_grown_regions_untouched():
    from hoimg.segment._refine import _rein_in_runaway

    residual, dot, plateau = _runaway_scene()
    other_core = np.zeros_like(dot)
    other_core[100:110, 140:150] = True
    residual[100:115, 135:155] = 5.0
    other = np.zeros_like(dot)
    other[98:117, 133:157] = True  # ~4.6x its core but at its own density: no runaway
    grown = dot | plateau | other
    out = _rein_in_runaway(grown, dot | other_core, residual, 4.0, 0.2)
    assert np.array_equal(out, dot | other)


def _radius(shape=(100, 100), centre=(50, 50)):
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.hypot(r - centre[0], c - centre[1]), r, c


def test_growth_beyond_a_shell_edge_is_cut_off_at_the_gate():
    from hoimg.segment._refine import _gate_growth

    d, r, c = _radius()
    # A mature shell: rim 40 between radii 18 and 22, lucent centre 10; its core runs a
    # pixel into the halo. A lobe of background misfit (3, 7.5% of the rim) touches it.
    density = np.where(d <= 22, np.where(d >= 18, 40.0, 10.0), 0.0).astype(np.float32)
    core = d <= 23
    lobe = (np.abs(r - 50) <= 4) & (c > 50) & (c < 90) & ~core
    density[lobe] = 3.0
    grow = core | lobe
    out = _gate_growth(grow, core, density, ring_px=2.5, level_px=5.0, fraction=0.25)
    near = (cv2.dilate(core.astype(np.uint8), ellipse(2.5)) > 0) & ~core
    # Exactly the lobe's pixels within the ring go: 3 < 0.25 * 40.
    assert np.array_equal(out, grow & ~(near & lobe))
    # ... so what is left of the lobe no longer touches the core.
    _, lab = cv2.connectedComponents(out.astype(np.uint8), connectivity=8)
    assert not (lab[lobe & out] == lab[50, 50]).any()


def test_the_gate_judges_a_thick_shell_by_its_crest_a_wall_inside_the_edge():
    from hoimg.segment._refine import _gate_growth

    d, r, c = _radius()
    # A projected sphere shell, outer radius 30 px, wall 10 px: the chord peaks at the
    # inner radius (2 sqrt(30^2 - 20^2) = 44.7), a wall's thickness inside the edge, and
    # its outer slope is gentle (at 27 px, 26: 0.58 of the crest).
    chord = 2 * (np.sqrt(np.clip(900.0 - d**2, 0, None)) - np.sqrt(np.clip(400.0 - d**2, 0, None)))
    density = chord.astype(np.float32)
    core = d <= 29.5
    # Soft-tissue misfit beside it at 0.22 of the crest: above a quarter of the densest
    # core pixel within 5 px of any ring pixel (<= 34.3), below a quarter of the crest.
    lobe = (np.abs(r - 50) <= 4) & (c > 50) & ~core
    density[lobe] = np.float32(0.22 * 44.72)
    grow = core | lobe
    near = (cv2.dilate(core.astype(np.uint8), ellipse(2.5)) > 0) & ~core
    # Judged within 5 px (ring 2.5 px, level twice that) the lobe passes ...
    assert np.array_equal(_gate_growth(grow, core, density, ring_px=2.5, level_px=5.0, fraction=0.25), grow)
    # ... judged within the ring plus a wall (12.5 px) the crest sets the level: it goes.
    out = _gate_growth(grow, core, density, ring_px=2.5, level_px=12.5, fraction=0.25)
    assert np.array_equal(out, grow & ~(near & lobe))


def test_a_flank_that_carries_on_passes_the_gate():
    from hoimg.segment._refine import _gate_growth

    d, _, _ = _radius()
    # A centre-dense body 40 (1 - (d/30)^2)^2 cut at 28 (radius 12): 1 to 2.5 px outside
    # the cut the flank is >= 23.5, the densest core pixel within 5 px <= 40 * 0.9^2.
    density = np.where(d < 30, 40.0 * (1 - (d / 30.0) ** 2) ** 2, 0.0).astype(np.float32)
    core = d <= 12
    grow = d < 30
    assert np.array_equal(_gate_growth(grow, core, density, ring_px=2.5, level_px=5.0, fraction=0.25), grow)

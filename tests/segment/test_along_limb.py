"""Along-limb background and shaft-track joining: known answers on constructed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.segment._bone_detect import _join_collinear, _same_shaft, limb_direction, limb_gradients
from hoimg.segment._grid import WorkGrid
from hoimg.segment._prepare import along_limb_background


def _grid(shape, pixel_mm=0.4):
    return WorkGrid(shape, (pixel_mm, pixel_mm), pixel_mm, shape, False)


def _limb(shape=(600, 400)):
    """Vertical limb: sharp fat/muscle bands across it (constant along it), plus strong
    vertical edges so the limb direction is unambiguous."""
    rows, cols = shape
    c = np.arange(cols, dtype=np.float64)
    across = 100.0 + 30.0 * (c > 120) - 20.0 * (c > 180) + 40.0 * (c > 260) + 0.05 * c
    return np.broadcast_to(across, shape).astype(np.float32).copy()


def test_along_limb_background_follows_bands_and_ignores_a_compact_lesion():
    img = _limb()
    r, c = np.mgrid[0:600, 0:400]
    # A 40 mm x 20 mm (100 x 50 px at 0.4 mm) centre-dense lesion straddling a band edge.
    lesion = 25.0 * np.clip(1.0 - ((r - 300) / 50.0) ** 2 - ((c - 170) / 25.0) ** 2, 0.0, None)
    bg = along_limb_background(img + lesion.astype(np.float32), np.ones(img.shape, bool), _grid(img.shape))
    assert bg is not None
    inner = (slice(40, -40), slice(20, -20))
    # Away from the lesion the background is the band structure itself (block means are
    # exact for a profile constant along the limb; bilinear resampling smears each band
    # edge over a pixel or two).
    far = np.ones(img.shape, bool)
    far[230:370, 130:210] = False
    err = np.abs(bg - img)[inner][far[inner]]
    assert np.median(err) < 0.05
    # Under the lesion the background stays at the bands (the lesion is 25 at its peak):
    # the residual keeps nearly all of the lesion.
    assert abs(float(bg[300, 170] - img[300, 170])) < 1.0
    resid = (img + lesion) - bg
    assert float(resid[300, 170]) == pytest.approx(25.0, abs=1.0)


def test_limb_gradients_computed_once_give_the_same_axis_and_background():
    # prepare() computes the gradients once for the field's axis and the soft tissue's;
    # the results must be those of computing them in each call.
    img = _limb()
    img[:, 300:] += np.linspace(0.0, 30.0, 600, dtype=np.float32)[:, None]  # tilt one band
    grid = _grid(img.shape)
    weight = np.ones(img.shape, bool)
    weight[:, 250:] = False
    grads = limb_gradients(img, grid)
    assert np.array_equal(limb_direction(img, weight, grid, grads), limb_direction(img, weight, grid))
    np.testing.assert_array_equal(along_limb_background(img, weight, grid, gradients=grads),
                                  along_limb_background(img, weight, grid))
    # the axis runs along the bands: (1, 0) for this vertical limb
    np.testing.assert_allclose(limb_direction(img, weight, grid, grads), [1.0, 0.0], atol=1e-6)


def test_along_limb_background_declines_without_tissue():
    img = _limb((200, 200))
    assert along_limb_background(img, np.zeros(img.shape, bool), _grid(img.shape)) is None


@pytest.mark.parametrize(
    ("prev", "new", "width", "same"),
    [
        ((100, 130), (102, 131), 30, True),  # slow change
        ((100, 130), (90, 140), 30, True),  # symmetric flare, 1.67x
        ((100, 130), (100, 180), 30, False),  # one edge moved out 50 px: a lesion
        ((100, 140), (130, 135), 40, False),  # 8x narrower, one edge 6x the other: no
        ((113, 151), (124, 146), 38, True),  # both edges in (metaphysis ending)
    ],
)
def test_same_shaft(prev, new, width, same):
    assert _same_shaft(*prev, *new, width) is same


def test_join_collinear_bridges_a_lesion_and_drops_its_widened_block():
    shaft_a = [(b, 100, 130, 50.0) for b in range(0, 5)] + [(5, 100, 175, 30.0)]  # last: + lesion
    shaft_b = [(b, 99, 129, 50.0) for b in range(8, 12)]
    other = [(b, 300, 320, 40.0) for b in range(0, 12)]  # a second bone, untouched
    joined = _join_collinear([shaft_a, shaft_b, other], max_blocks=5)
    assert len(joined) == 2
    shaft = next(t for t in joined if t[0][1] == 100)
    assert [p[0] for p in shaft] == [0, 1, 2, 3, 4, 8, 9, 10, 11]


def test_join_collinear_needs_two_blocks_each_and_a_short_gap():
    lone = [(0, 100, 130, 50.0)]
    later = [(b, 100, 130, 50.0) for b in range(3, 6)]
    far = [(b, 100, 130, 50.0) for b in range(20, 24)]
    joined = _join_collinear([lone, later, far], max_blocks=5)
    assert len(joined) == 3


def _bone_end_scene():
    from hoimg.segment._grid import WorkGrid
    from hoimg.segment.model import BoneModel, ShaftAxis

    # Input grid 0.2 mm, working grid 0.4 mm: a vertical shaft 20 mm wide whose fitted mask
    # spans input rows 500..1500 (200 mm) around column 1000 (working column 500).
    grid = WorkGrid((2000, 2000), (0.2, 0.2), 0.4, (1000, 1000), False)
    axis = ShaftAxis(1, (1000.0, 1000.0), (1.0, 0.0), 200.0, 20.0)
    bone = BoneModel(labels=np.zeros((2000, 2000), np.int32), axes=(axis,))
    return grid, bone


def test_bone_end_remnant_is_told_from_a_lesion_beside_the_shaft():
    from hoimg.segment.lesions import _bone_end_keep

    grid, bone = _bone_end_scene()
    mask = np.zeros(grid.shape, bool)
    # Beyond the mask's end, in the shaft's corridor (a flaring metaphysis 30 mm wide):
    # dropped whole (it straddles the axis, so it has no twin).
    remnant = np.ones((100, 75), bool)
    mask[150:250, 463:538] = remnant
    keep = _bone_end_keep(remnant, (150, 463), bone, mask, grid)
    assert keep is not None and not keep.any()
    # Beside the shaft, half-way along it: a lesion on the cortex, not a remnant.
    beside = np.ones((60, 40), bool)
    assert _bone_end_keep(beside, (470, 525), bone, mask, grid) is None


def test_bone_end_remnant_gives_back_what_stands_beyond_its_twin():
    from hoimg.segment.lesions import _bone_end_keep

    grid, bone = _bone_end_scene()
    # The shaft's two edges run on past the mask's end (working rows 150..250) as strips
    # 10-14 mm from the axis (working columns 525..534 and 466..475); a lesion joins the
    # right-hand strip and reaches 24 mm from the axis (column 560).
    mask = np.zeros(grid.shape, bool)
    mask[150:250, 466:476] = True  # the twin, left
    right = np.zeros((100, 36), bool)  # columns 525..560
    right[:, :10] = True  # the strip, 10..13.6 mm
    right[30:80, 10:] = True  # the lesion, 14..24 mm
    mask[150:250, 525:561] = right
    keep = _bone_end_keep(right, (150, 525), bone, mask, grid)
    # The axis is at working column 499.75 (input pixel centres map to 2 c + 0.5); the
    # twin reaches 33.75 px from it (column 466), so what lies more than 33.75 + 2.5 px
    # (1 mm) from it is kept: columns 537.. (local 12..), all of them lesion.
    cols = np.nonzero(keep.any(axis=0))[0]
    assert keep[30:80, 12:].all() and cols.min() == 12
    assert not keep[:30].any() and not keep[80:].any()
    # Without the twin, the whole strip and lesion are the remnant.
    mask[150:250, 466:476] = False
    keep = _bone_end_keep(right, (150, 525), bone, mask, grid)
    assert keep is not None and not keep.any()
    # A piece that lies wholly beyond the twin is not a remnant (no endless re-test).
    mask[150:250, 466:476] = True
    assert _bone_end_keep(keep_piece := right[30:80, 12:], (180, 537), bone, mask, grid) is None
    assert keep_piece.all()


def test_bone_end_remnant_of_two_shafts_must_stand_beyond_both_twins():
    from hoimg.segment._grid import WorkGrid
    from hoimg.segment.lesions import _bone_end_keep
    from hoimg.segment.model import BoneModel, ShaftAxis

    # A leg: a tibia 30 mm wide (axis at working column 499.75) and a fibula 10 mm wide
    # whose axis runs 28 mm (70 px) to its left (working column 429.75), both fitted over
    # input rows 500..1500. Past their masks' end (working rows 150..249) the tibia's
    # right edge runs on as a strip 15-19 mm from its axis (columns 537..547), and a
    # candidate covers columns 420..470: the fibula's remnant and the tibia's left edge.
    grid = WorkGrid((2000, 2000), (0.2, 0.2), 0.4, (1000, 1000), False)
    tibia = ShaftAxis(1, (1000.0, 1000.0), (1.0, 0.0), 200.0, 30.0)
    fibula = ShaftAxis(2, (1000.0, 860.0), (1.0, 0.0), 200.0, 10.0)
    mask = np.zeros(grid.shape, bool)
    mask[150:250, 537:548] = True
    comp = np.ones((100, 51), bool)
    mask[150:250, 420:471] = comp
    # Against the tibia alone, what lies beyond its twin's reach (47.25 px) plus 1 mm
    # (2.5 px) is given back: columns 420..449.
    alone = BoneModel(labels=np.zeros((2000, 2000), np.int32), axes=(tibia,))
    keep = _bone_end_keep(comp, (150, 420), alone, mask, grid)
    assert keep[:, :30].all() and not keep[:, 30:].any()
    # But that is the fibula's own remnant, which straddles its axis (no twin): all dropped.
    both = BoneModel(labels=np.zeros((2000, 2000), np.int32), axes=(tibia, fibula))
    keep = _bone_end_keep(comp, (150, 420), both, mask, grid)
    assert keep is not None and not keep.any()


def test_marker_over_uneven_tissue_is_a_marker_and_a_dense_dome_is_not():
    from hoimg.config import SegmentConfig
    from hoimg.segment.lesions import _is_marker

    grid = WorkGrid((400, 400), (0.4, 0.4), 0.4, (400, 400), False)
    rng = np.random.default_rng(5)
    r, c = np.mgrid[0:40, 0:40].astype(np.float64)
    # An "L" 12 x 8 mm, strokes 3 mm, blurred by nothing, 60 units over a tissue slope
    # of +-15 units: its top is not a plateau, it is a step.
    letter = np.zeros((40, 40), bool)
    letter[5:35, 5:13] = True
    letter[27:35, 5:25] = True
    tissue = 15.0 * (c - 20.0) / 20.0 + rng.normal(0.0, 1.0, (40, 40))
    residual = np.where(letter, 60.0 + tissue, tissue)
    z = residual / 1.0
    seg = SegmentConfig()
    assert _is_marker(residual, z, letter, grid, seg, bone_peak=30.0)
    # Twice as dense as the cortex but centre-dense (the projection of a body denser at its
    # centre, (1 - rho^2)^1.5, as a POS is): not a marker. (A *uniform* ball projects
    # sqrt(1 - rho^2), which is 56% above 0.7 of its peak: one that dense and small would
    # be taken for a marker; see _is_marker.)
    dome_mask = (r - 20) ** 2 + (c - 20) ** 2 <= 15**2
    dome = 60.0 * np.clip(1.0 - ((r - 20) ** 2 + (c - 20) ** 2) / 15**2, 0.0, None) ** 1.5
    assert not _is_marker(dome, dome, dome_mask, grid, seg, bone_peak=30.0)
    # A letter no denser than the cortex and ~35 noise sigmas above the tissue is left to
    # the other tests (it may be mineral)...
    assert not _is_marker(residual, residual / 2.0, letter, grid, seg, bone_peak=50.0)
    # ... but at 60+ local sigmas it is lead: the cortex may be brighter than the marker
    # after vendor processing, or missing. (Noise sigma 0.5 -> ~120 sigmas.)
    assert _is_marker(residual, 2.0 * residual, letter, grid, seg, bone_peak=50.0)
    assert _is_marker(residual, 2.0 * residual, letter, grid, seg, bone_peak=np.inf)
    # The centre-dense dome as many sigmas above the tissue is still mineral: only ~1/3
    # of its body is above 70% of its peak (a step needs 55%).
    assert not _is_marker(dome, 2.0 * dome, dome_mask, grid, seg, bone_peak=50.0)
    # A ring (an HO shell seen face-on, rim 3 mm) that dense is mineral too.
    rho = np.hypot(r - 20, c - 20)
    shell = 120.0 * (np.sqrt(np.clip(15.0**2 - rho**2, 0, None))
                     - np.sqrt(np.clip(12.0**2 - rho**2, 0, None))) / 15.0
    shell_mask = rho <= 15.0
    assert not _is_marker(shell, shell, shell_mask, grid, seg, bone_peak=50.0)


def _mesa(radius_px: float, ramp_px: float, size: int = 160) -> np.ndarray:
    """A flat top of 100 whose edge falls linearly to 0 over ``ramp_px`` at ``radius_px``."""
    r, c = np.mgrid[0:size, 0:size].astype(np.float64)
    rho = np.hypot(r - size / 2, c - size / 2)
    return 100.0 * np.clip((radius_px - rho) / ramp_px, 0.0, 1.0)


def test_edge_rise_of_a_linear_ramp_is_sixty_percent_of_the_ramp():
    from hoimg.segment.lesions import _edge_rise_mm

    grid = WorkGrid((400, 400), (0.4, 0.4), 0.4, (400, 400), False)
    # 30% -> 90% of a linear ramp is 0.6 of it; on a disc the band's area over the 60%
    # outline's length is exactly that width (the 60% radius is the band's mid-radius).
    mesa = _mesa(60.0, 20.0)
    rise = _edge_rise_mm(mesa, mesa > 0, 100.0, grid)
    assert rise == pytest.approx(0.6 * 20.0 * 0.4, rel=0.05)


def test_a_flat_topped_body_with_a_soft_edge_is_no_marker():
    from hoimg.config import SegmentConfig
    from hoimg.segment.lesions import _is_marker

    grid = WorkGrid((400, 400), (0.4, 0.4), 0.4, (400, 400), False)
    seg = SegmentConfig()
    # A broad POS denser than the cortex whose top the local fit flattened: 32 mm across,
    # 64% of its body within 10% of its peak (a plateau), but its edge rises over 4.8 mm
    # (30% -> 90%: 2.9 mm). Lead rises within the blur: the same disc with a 0.8 mm edge.
    soft = _mesa(40.0, 12.0)
    assert not _is_marker(soft, soft, soft > 0, grid, seg, bone_peak=50.0)
    sharp = _mesa(40.0, 2.0)
    assert _is_marker(sharp, sharp, sharp > 0, grid, seg, bone_peak=50.0)


def test_fragment_flags_tell_foci_and_tram_tracks_from_a_rim():
    from hoimg.segment.lesions import _fragment_flags

    grid = WorkGrid((400, 400), (0.4, 0.4), 0.4, (400, 400), False)
    r, c = np.mgrid[0:120, 0:120]
    # Five dots 2 mm across (~3 mm2 each): a punctate cluster.
    dots = np.zeros((120, 120), bool)
    for y, x in ((20, 20), (40, 70), (60, 30), (80, 90), (100, 50)):
        dots |= (r - y) ** 2 + (c - x) ** 2 <= 2.5**2
    assert _fragment_flags(dots, grid) == ["punctate"]
    # Two straight lines 1.2 mm wide, 40 mm long, 6 mm apart: a vascular tram-track.
    track = np.zeros((120, 120), bool)
    track[10:110, 50:53] = True
    track[10:110, 65:68] = True
    assert _fragment_flags(track, grid) == ["linear"]
    # A ring 2 mm thick, 40 mm across, broken into four arcs: an HO rim, no flag.
    rho = np.hypot(r - 60, c - 60)
    ring = (rho >= 45) & (rho <= 50) & (np.abs(r - 60) > 4) & (np.abs(c - 60) > 4)
    assert _fragment_flags(ring, grid) == []
    # One body: no flag.
    assert _fragment_flags(rho <= 30, grid) == []


def test_grown_line_drops_long_faint_lines_along_the_limb_and_nothing_else():
    from hoimg.config import SegmentConfig
    from hoimg.segment._grid import WorkGrid
    from hoimg.segment.lesions import _grown_line
    from hoimg.segment.model import BoneModel, ShaftAxis

    grid = WorkGrid((2000, 2000), (0.2, 0.2), 0.4, (1000, 1000), False)
    axis = ShaftAxis(1, (1000.0, 1000.0), (1.0, 0.0), 200.0, 20.0)  # vertical shaft
    bone = BoneModel(labels=np.zeros((2000, 2000), np.int32), axes=(axis,))
    seg = SegmentConfig()
    # A 6 mm wide band 70 mm long (175 x 15 working px), along the shaft: moment length
    # 4 * sqrt(175^2 / 12) * 0.4 = 80.8 mm.
    band = np.ones((175, 15), bool)
    assert _grown_line(band, ["low_contrast", "linear"], bone, grid, seg)
    # The same shape dense (not low_contrast), or not made of lines, or across the limb: kept.
    assert not _grown_line(band, ["linear"], bone, grid, seg)
    assert not _grown_line(band, ["low_contrast"], bone, grid, seg)
    assert not _grown_line(band.T.copy(), ["low_contrast", "linear"], bone, grid, seg)
    # 40 mm long (100 px; moment length 46 mm): below the 60 mm of an interface.
    assert not _grown_line(np.ones((100, 15), bool), ["low_contrast", "linear"], bone, grid, seg)
    # Longer than any lesion (moment length 4 * sqrt(300^2 / 12) * 0.4 = 138.6 mm > 120): dropped
    # whatever its flags and direction.
    assert _grown_line(np.ones((15, 300), bool), [], bone, grid, seg)


def test_seeds_stand_out_of_the_tissue_along_the_limb_as_well_as_locally():
    from hoimg.config import SegmentConfig
    from hoimg.segment.lesions import _seeds

    seg = SegmentConfig()
    shape = (3, 4)
    noise = np.ones(shape, np.float32)
    background = np.zeros(shape, np.float32)
    # Column 0: a strip along the limb the local fit left (6 sigmas over it), but which
    # the along-limb run follows (5.5). Column 1: a compact lesion, 5.7+ sigmas over both.
    # Column 2: the same lesion where the run is unknown (NaN, the field's end): no seed.
    # Column 3: 4 sigmas, under the fine threshold (5) at any background.
    fine = np.array([[6.0, 6.0, 6.0, 4.0]] * 3, np.float32)
    along = np.array([[5.5, 0.3, np.nan, -9.0]] * 3, np.float32)
    coarse = np.zeros(shape, np.float32)  # nothing at the coarse scale
    seeds = _seeds(fine, coarse, background, along, noise, noise, seg)
    assert seeds.tolist() == [[False, True, False, False]] * 3
    # Without an along-limb estimate (too little tissue) only the local fit counts.
    local_only = _seeds(fine, coarse, background, None, noise, noise, seg)
    assert local_only.tolist() == [[True, True, True, False]] * 3
    # The coarse scale seeds on its own sigma (threshold 4) against the same tissue.
    coarse = np.array([[4.5, 4.5, 3.5, 4.5]] * 3, np.float32)
    seeds = _seeds(np.zeros(shape, np.float32), coarse, background, along, noise, noise, seg)
    assert seeds.tolist() == [[False, True, False, True]] * 3


def test_along_limb_background_is_nan_where_the_run_is_too_short():
    img = _limb((600, 400))
    weight = np.ones(img.shape, bool)
    weight[:, 300:] = False  # no tissue in these columns: no run to trust
    bg = along_limb_background(img, weight, _grid(img.shape))
    assert np.isnan(bg[300, 350])
    assert abs(float(bg[300, 100] - img[300, 100])) < 0.5

"""Edge-pair rules of bone detection: a bone's own two edges make its band (not one
cortex and a soft-tissue step), and two bones side by side are two bands, not one."""

from __future__ import annotations

import warnings

import numpy as np

from hoimg.segment._bone_detect import (
    EdgePair,
    _along_limb_low,
    _choose_pairs,
    _denser_than_both_sides,
    _envelope_gaps,
    _pair_rank,
    _persistent_gaps,
)


def _profile(*bands, n=80, base=0.0):
    """A block's median profile: ``base`` soft tissue with (start, stop, level) bands."""
    prof = np.full(n, base)
    for a, c, level in bands:
        prof[a : c + 1] = level
    return prof


def test_two_bones_split_at_the_soft_tissue_between_them():
    # Bone 1 spans columns 10-30, bone 2 40-55; the outer edges pair up as (10, 55).
    prof = _profile((10, 30, 1.0), (40, 55, 0.8))
    cands = [EdgePair(1.0, 1.0, 10, 30), EdgePair(0.8, 0.8, 40, 55), EdgePair(0.8, 0.8, 10, 55)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {(10, 55): (30, 40)}


def test_a_tube_is_not_split_into_its_cortices():
    # Cortices 10-15 and 35-40 around a 19-column marrow cavity: the cavity is wider
    # than twice a cortex, so the tube is one bone (even with marrow at soft tissue level).
    prof = _profile((10, 15, 1.0), (35, 40, 1.0), (16, 34, 0.0))
    cands = [EdgePair(1.0, 1.0, 10, 15), EdgePair(1.0, 1.0, 35, 40), EdgePair(0.9, 0.9, 10, 40)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {}


def test_a_shallow_or_narrow_dip_is_not_a_gap():
    # A metaphysis with a trabecular dip to 60% of its density: not soft tissue.
    prof = _profile((10, 60, 1.0), (31, 33, 0.6))
    cands = [EdgePair(1.0, 1.0, 10, 30), EdgePair(1.0, 1.0, 34, 60), EdgePair(0.9, 0.9, 10, 60)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {}
    # A dip to soft tissue one column wide (edges 2 apart) is narrower than min_gap=3;
    # the same dip is a gap when min_gap allows it.
    prof = _profile((10, 60, 1.0), (31, 31, 0.0))
    cands = [EdgePair(1.0, 1.0, 10, 30), EdgePair(1.0, 1.0, 32, 60), EdgePair(0.9, 0.9, 10, 60)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=3) == {}
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {(10, 60): (30, 32)}


def test_only_a_gap_as_long_as_a_bone_drops_the_envelope():
    # Blocks 0-6: the interosseous gap (30, 40) drifting by a column, block 4 missing it;
    # blocks 2-3: a lesion's cleft (60, 63) beside one bone.
    gaps = [{} for _ in range(8)]
    for b in (0, 1, 2, 3, 5, 6):
        gaps[b][(10, 55 + b)] = (30 + b // 3, 40 + b // 3)
    gaps[2][(10, 80)] = (60, 63)
    gaps[3][(10, 81)] = (60, 63)
    keep = _persistent_gaps(gaps, min_blocks=5)
    assert [sorted(k) for k in keep] == [
        [(10, 55)], [(10, 56)], [(10, 57)], [(10, 58)], [], [(10, 60)], [(10, 61)], []
    ]
    # With max_skip=1 the missing block breaks the chain into 4 + 2 blocks.
    assert all(not k for k in _persistent_gaps(gaps, min_blocks=5, max_skip=1))


def _ranked(rises: dict[int, float], falls: dict[int, float], pairs) -> list:
    """Candidates of the given (a, c) pairs, best rank first."""
    return sorted((EdgePair(*_pair_rank(rises[a], falls[c]), a, c) for a, c in pairs), reverse=True)


def test_a_cortex_and_a_soft_tissue_step_lose_to_the_bones_own_pair():
    # Edge strengths measured on phantom block profiles where the limb was taken for bone.
    # A tie on the weaker edge: the bone's rise (178) with its own fall (201) or with the
    # limb's stronger outline (234); strength alone took the wider pair.
    rises, falls = {178: 130.0}, {201: 151.0, 234: 241.0}
    assert _choose_pairs(_ranked(rises, falls, [(178, 201), (178, 234)]), 0.0) == [(178, 201, 130.0)]
    # No tie: a fat plane's rise (141) is stronger than the bone's rise (170), so the
    # fat plane plus the bone's fall (185) was stronger than the bone itself.
    rises, falls = {141: 4051.0, 170: 2763.0}, {185: 2989.0}
    assert _choose_pairs(_ranked(rises, falls, [(141, 185), (170, 185)]), 0.0) == [(170, 185, 2763.0)]


def test_pair_rank_is_the_weaker_edge_weighted_by_the_balance():
    assert _pair_rank(2.0, 2.0) == (2.0, 2.0)
    assert _pair_rank(1.0, 4.0) == (0.25, 1.0)
    assert _pair_rank(4.0, 1.0) == (0.25, 1.0)


def test_chosen_pairs_do_not_overlap_and_weak_ones_are_left_out():
    cands = [EdgePair(5.0, 5.0, 10, 20), EdgePair(4.0, 4.0, 15, 30), EdgePair(3.0, 3.0, 25, 40),
             EdgePair(0.5, 0.5, 50, 60)]
    # (15, 30) overlaps the better (10, 20); (25, 40) does not; (50, 60) is under the floor
    assert _choose_pairs(cands, floor=1.0) == [(10, 20, 5.0), (25, 40, 3.0)]


def test_along_limb_low_is_the_windowed_30th_percentile_and_ignores_a_short_lesion():
    rng = np.random.default_rng(5)
    smed = rng.normal(size=(12, 40))
    smed[rng.random(smed.shape) < 0.3] = np.nan
    smed[:, 7] = np.nan  # a column outside the field in every block
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.array([np.nanpercentile(smed[max(b - 3, 0) : b + 4], 30.0, axis=0)
                         for b in range(12)])
    np.testing.assert_allclose(_along_limb_low(smed, 3), want, rtol=0, atol=1e-12)
    # Soft tissue 1.0 along 12 blocks, a lesion of 4.0 in blocks 5-6: the low at the
    # lesion is the soft tissue's (2 of 7 blocks are under the 30th percentile's reach).
    flat = np.ones((12, 40))
    flat[5:7, 20:30] = 4.0
    assert np.all(_along_limb_low(flat, 3)[5:7, 20:30] == 1.0)


def _muscle_bone_muscle():
    """A block profile as measured on a phantom where muscle bellies flanked the bone:
    fat 1.0 | muscle 1.5 (cols 10-29) | bone 2.2 (30-50) | muscle 1.6 (51-70) | fat 1.0."""
    return _profile((10, 29, 1.5), (30, 50, 2.2), (51, 70, 1.6), base=1.0)


def test_a_band_is_bone_only_when_denser_than_each_side():
    prof = _muscle_bone_muscle()
    band = lambda a, c: prof[a : c + 1]  # noqa: E731
    assert _denser_than_both_sides(band(30, 50), prof, 30, 50, side=3)
    # The muscle beside the bone is denser than the fat beyond it, but not than the bone.
    assert not _denser_than_both_sides(band(51, 70), prof, 51, 70, side=3)
    # The envelope of the bone and the first muscle holds that muscle, less dense than
    # the second muscle on its other side.
    assert not _denser_than_both_sides(band(10, 50), prof, 10, 50, side=3)


def test_a_lesion_beside_the_bone_is_not_its_side():
    # 10 blocks of the bone profile; in blocks 4-5 a lesion denser than the bone lies
    # against its right cortex (cols 51-56).
    smed = np.tile(_profile((30, 50, 2.2), base=1.0), (10, 1))
    smed[4:6, 51:57] = 3.0
    band = smed[4, 30:51]
    # Read from the block itself, the lesion is the bone's right side; along the limb it
    # is not.
    assert not _denser_than_both_sides(band, smed[4], 30, 50, side=3)
    assert _denser_than_both_sides(band, _along_limb_low(smed, 3)[4], 30, 50, side=3)


def test_a_dense_lesion_beside_the_bone_does_not_hide_it():
    # A 320 mm shaft (tube, 20 mm wide) and a lesion 2.5 times denser than the bone's
    # excess over the soft tissue, 40 mm long, against its cortex: the lesion's short,
    # strong track used to set the bar every bone track is measured against, and no bone
    # was left.
    from scipy.ndimage import gaussian_filter

    from hoimg.config import AnalysisConfig
    from hoimg.segment._bone_detect import bone_blobs
    from hoimg.segment._grid import WorkGrid

    px, rows, cols = 0.4, 800, 300
    v = np.arange(cols) * px - 60.0  # mm from the shaft's axis (columns 125-175)
    outer = 2 * np.sqrt(np.clip(10.0**2 - v**2, 0, None))
    inner = 2 * np.sqrt(np.clip(6.5**2 - v**2, 0, None))
    img = np.tile(1.0 + 0.08 * (outer - inner) + 0.01 * inner, (rows, 1))
    img[300:400, 177:205] += 2.5
    img = gaussian_filter(img, 1.0) + np.random.default_rng(0).normal(0, 0.01, img.shape)
    grid = WorkGrid((rows, cols), (px, px), px, (rows, cols), False)
    labels = bone_blobs(img.astype(np.float32), np.ones(img.shape, bool), grid,
                        AnalysisConfig().segment)
    assert labels.max() == 1
    for r in (100, 350, 700):  # above, beside and below the lesion
        on = np.nonzero(labels[r])[0]
        # The band is the shaft plus its 2 mm margin (5 columns; the coarse grid rounds).
        assert 118 <= on.min() <= 125 and 175 <= on.max() <= 182, (r, on.min(), on.max())


def test_small_array_statistics_are_numpys():
    from hoimg.segment._bone_detect import _mean_of, _median_of, _percentile_of

    rng = np.random.default_rng(0)
    for trial in range(3000):
        n = int(rng.integers(1, 80))
        dtype = np.float32 if trial % 4 else np.float64
        if trial % 3 == 0:
            x = (rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 4)).astype(dtype)
        elif trial % 3 == 1:
            x = (rng.integers(-5, 5, n) * 0.1).astype(dtype)  # ties
        else:
            x = (rng.random(n) * 1000 + 500).astype(dtype)
        for got, want in [(_mean_of(x), np.mean(x)), (_median_of(x), np.median(x))] + [
            (_percentile_of(x, q), np.percentile(x, q)) for q in (10.0, 25.0, 50.0, 90.0)
        ]:
            assert got == want and type(got) is type(want)


def test_a_track_riding_along_a_longer_bone_is_dropped():
    from hoimg.segment._bone_detect import _drop_riders

    def track(b0, b1, a, c):
        return [(b, a, c, 1.0) for b in range(b0, b1)]

    bone = track(0, 12, 100, 130)
    rider = track(4, 10, 134, 170)  # two lesions along the cortex, 4 columns off it
    neighbour = track(0, 12, 150, 175)  # a second bone, 20 columns away (interosseous)
    touching = track(1, 11, 131, 160)  # as long as the bone: a second bone, kept
    far = track(2, 6, 300, 330)  # short, but nowhere near: not a rider
    kept = _drop_riders([bone, rider, far], max_gap=8)
    assert kept == [bone, far]
    assert _drop_riders([bone, neighbour], max_gap=8) == [bone, neighbour]
    assert _drop_riders([touching, bone], max_gap=8) == [touching, bone]
    # A rider beside only part of its length (< 80% of its blocks) is left alone.
    half = track(8, 16, 134, 170)
    assert _drop_riders([bone, half], max_gap=8) == [bone, half]

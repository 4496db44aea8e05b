"""Edge-pair rules of bone detection: a bone's own two edges make its band (not one
cortex and a soft-tissue step), and two bones side by side are two bands, not one."""

from __future__ import annotations

import numpy as np

from hoimg.segment._bone_detect import (
    EdgePair,
    _choose_pairs,
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

"""Edge-pair rules of bone detection: two bones side by side are two bands, not one."""

from __future__ import annotations

import numpy as np

from hoimg.segment._bone_detect import _envelope_gaps, _persistent_gaps


def _profile(*bands, n=80, base=0.0):
    """A block's median profile: ``base`` soft tissue with (start, stop, level) bands."""
    prof = np.full(n, base)
    for a, c, level in bands:
        prof[a : c + 1] = level
    return prof


def test_two_bones_split_at_the_soft_tissue_between_them():
    # Bone 1 spans columns 10-30, bone 2 40-55; the outer edges pair up as (10, 55).
    prof = _profile((10, 30, 1.0), (40, 55, 0.8))
    cands = [(1.0, 10, 30), (0.8, 40, 55), (0.8, 10, 55)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {(10, 55): (30, 40)}


def test_a_tube_is_not_split_into_its_cortices():
    # Cortices 10-15 and 35-40 around a 19-column marrow cavity: the cavity is wider
    # than twice a cortex, so the tube is one bone (even with marrow at soft tissue level).
    prof = _profile((10, 15, 1.0), (35, 40, 1.0), (16, 34, 0.0))
    cands = [(1.0, 10, 15), (1.0, 35, 40), (0.9, 10, 40)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {}


def test_a_shallow_or_narrow_dip_is_not_a_gap():
    # A metaphysis with a trabecular dip to 60% of its density: not soft tissue.
    prof = _profile((10, 60, 1.0), (31, 33, 0.6))
    cands = [(1.0, 10, 30), (1.0, 34, 60), (0.9, 10, 60)]
    assert _envelope_gaps(cands, prof, side=3, min_gap=2) == {}
    # A dip to soft tissue one column wide (edges 2 apart) is narrower than min_gap=3;
    # the same dip is a gap when min_gap allows it.
    prof = _profile((10, 60, 1.0), (31, 31, 0.0))
    cands = [(1.0, 10, 30), (1.0, 32, 60), (0.9, 10, 60)]
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

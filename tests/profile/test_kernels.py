"""Every Numba kernel against its plain-NumPy twin (_profile_reference.py), within 1e-6."""

from __future__ import annotations

import _profile_reference as ref
import numpy as np
import pytest

from hoimg.profile import _cleft_kernels as CK
from hoimg.profile import _feature_kernels as FK
from hoimg.profile import _kernels as K
from hoimg.profile.radial import sector_edges


def _blobs(rng, shape=(70, 80), n=3):
    """A label image with a few overlapping random ellipses (ids 1..n) and a noisy image."""
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, dtype=np.int32)
    for i in range(1, n + 1):
        r0, c0 = rng.uniform(15, shape[0] - 15), rng.uniform(15, shape[1] - 15)
        a, b = rng.uniform(4, 14, size=2)
        labels[((rr - r0) / a) ** 2 + ((cc - c0) / b) ** 2 <= 1] = i
    image = rng.normal(100.0, 5.0, size=shape).astype(np.float32)
    image += (labels > 0) * np.float32(30.0)
    return labels, image


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edt_sq_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    feature = (rng.random((23, 31)) < 0.05).astype(np.uint8)
    np.testing.assert_array_equal(K._edt_sq(feature), ref.edt_sq(feature))


def test_edt_sq_no_feature_is_infinite():
    assert np.all(K._edt_sq(np.zeros((4, 5), dtype=np.uint8)) >= 1e29)


def test_diamond_angle_is_monotonic_in_angle():
    theta = np.linspace(0, 2 * np.pi, 721)[:-1]
    a = np.array([K._diamond_angle(np.sin(t), np.cos(t)) for t in theta])
    assert np.all(np.diff(a) > 0) and a[0] == 0.0 and a[-1] < 4.0
    np.testing.assert_allclose(a, ref.diamond_angle(np.sin(theta), np.cos(theta)), atol=1e-12)


@pytest.mark.parametrize(("seed", "f", "grow"), [(0, 1, 0.0), (1, 1, 3.0), (2, 2, 0.0),
                                                 (3, 4, 3.0), (4, 2, 2.0)])
def test_radial_profile_window_matches_numpy(seed, f, grow):
    rng = np.random.default_rng(seed)
    labels, image = _blobs(rng)
    exclude = np.zeros(labels.shape, dtype=np.int32)
    exclude[:, :20] = 1
    edges = sector_edges(8)
    for lid in np.unique(labels[labels > 0]):
        args = (image, labels, np.int32(lid), exclude, 2, 3, 68, 77, 1.5, 6.0, 10, 8, edges, 64, f,
                grow)
        got = K._radial_profile_window(*args)
        want = ref.radial_profile_window(*args)
        np.testing.assert_array_equal(got[1], want[1])  # identical binning, pixel for pixel
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
        assert got[3][10] == f


def test_radial_profile_batch_equals_single_calls():
    rng = np.random.default_rng(5)
    labels, image = _blobs(rng, n=3)
    edges = sector_edges(4)
    ids = np.unique(labels[labels > 0]).astype(np.int32)
    windows = np.array([[0, 0, 70, 80]] * ids.size, dtype=np.int64)
    none = np.zeros((1, 1), dtype=np.int32)
    blocks = np.array([1, 2, 1][: ids.size], dtype=np.int64)
    batch = K._radial_profile_batch(image, labels, ids, none, windows, 1.0, 5.0, 6, 4, edges, 50,
                                    blocks, 3.0)
    for i, lid in enumerate(ids):
        single = K._radial_profile_window(image, labels, lid, none, 0, 0, 70, 80, 1.0, 5.0, 6, 4,
                                          edges, 50, blocks[i], 3.0)
        for b, s in zip(batch, single, strict=True):
            np.testing.assert_array_equal(b[i], s)


def test_cast_rays_matches_dense_sampling():
    rng = np.random.default_rng(7)
    labels, _ = _blobs(rng, n=2)
    lid = np.int32(1)
    rows, cols = np.nonzero(labels == lid)
    window = np.array([rows.min(), cols.min(), rows.max() + 1, cols.max() + 1], dtype=np.int64)
    n = 40
    base = np.column_stack([rng.uniform(0, 70, n), rng.uniform(0, 80, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_max = np.full(n, 60.0)
    got = CK._cast_rays(labels, lid, base, normal, t_max, window, 0.5)
    want = ref.cast_rays(labels, lid, base, normal, t_max)
    # the twin samples every 1e-4 px, the kernel bisects to 0.5/1024 px
    hit = np.isfinite(want)
    assert hit.sum() >= 5
    np.testing.assert_array_equal(np.isfinite(got), hit)
    np.testing.assert_allclose(got[hit], want[hit], atol=6e-4)


def test_bilinear_and_normal_levels_match_map_coordinates():
    rng = np.random.default_rng(11)
    image = rng.normal(0, 1, size=(50, 60)).astype(np.float32)
    for r, c in [(0.0, 0.0), (10.25, 3.5), (49.0, 59.0), (-3.0, 70.0), (20.7, 41.1)]:
        np.testing.assert_allclose(CK._bilinear(image, r, c), ref.bilinear(image, r, c)[0],
                                   atol=1e-6)
    n = 12
    base = np.column_stack([rng.uniform(10, 40, n), rng.uniform(10, 50, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_hit = rng.uniform(0, 8, n)
    t_hit[0] = np.nan
    t_hit[1] = 0.5  # too short for a gap sample
    args = (image, base, normal, t_hit, 4.0, 3.0, 1.2, 3, 1.0)
    got = CK._normal_levels(*args)
    want = ref.normal_levels(*args)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_profile_features_match_numpy():
    rng = np.random.default_rng(13)
    labels, image = _blobs(rng, shape=(90, 90), n=4)
    # give the lesions different radial structure: a bright rim on some, a bright core on others
    image = image + rng.normal(0, 1, image.shape).astype(np.float32)
    ids = np.unique(labels[labels > 0]).astype(np.int32)
    windows = np.array([[0, 0, 90, 90]] * ids.size, dtype=np.int64)
    none = np.zeros((1, 1), dtype=np.int32)
    sums, counts, ref_sums, stats = K._radial_profile_batch(
        image, labels, ids, none, windows, 1.0, 5.0, 8, 6, sector_edges(6), 1024,
        np.ones(ids.size, dtype=np.int64), 0.0)
    sums[0, :, -2:] *= 1.5  # rim-heavy
    sums[1, :, :2] *= 3.0  # core-heavy
    counts[2, 0, 0] = 0  # an empty sector-bin
    sums[2, 0, 0] = 0.0
    args = (sums, counts, ref_sums, stats, 0.8, 0.4, 2.0, 10)
    got = FK._profile_features(*args)
    want = ref.profile_features(*args)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert got[0, 2] > 0 > got[1, 2]


def test_spearman_handles_ties():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    y = np.array([1.0, 1.0, 2.0, 3.0, 2.0])
    assert FK._spearman(x, y) == pytest.approx(ref.spearman(x, y), abs=1e-12)
    assert np.isnan(FK._spearman(x[:2], y[:2]))


def test_cleft_batch_matches_per_lesion_twins():
    rng = np.random.default_rng(17)
    labels, image = _blobs(rng, n=3)
    ids = np.unique(labels[labels > 0]).astype(np.int32)
    bboxes = []
    for lid in ids:
        rows, cols = np.nonzero(labels == lid)
        bboxes.append([rows.min(), cols.min(), rows.max() + 1, cols.max() + 1])
    bboxes = np.array(bboxes, dtype=np.int64)
    n = 60
    base = np.column_stack([rng.uniform(0, 70, n), rng.uniform(0, 80, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_max = rng.uniform(10, 40, n)
    level_args = (3.0, 2.0, 1.0, 3, 1.0)
    les, smp, t_hit, levels = CK._cleft_batch(image, labels, ids, bboxes, base, normal, t_max, 0.5,
                                              *level_args)
    assert np.all(np.diff(les) >= 0) and les.size >= 5
    for i, lid in enumerate(ids):
        want_t = ref.cast_rays(labels, lid, base, normal, t_max)
        hit = np.flatnonzero(np.isfinite(want_t))
        sel = les == i
        np.testing.assert_array_equal(smp[sel], hit)
        np.testing.assert_allclose(t_hit[sel], want_t[hit], atol=6e-4)
        want_lv = ref.normal_levels(image, base[hit], normal[hit], t_hit[sel], *level_args)
        np.testing.assert_allclose(levels[sel], want_lv, atol=1e-6)


def test_block_factor_keeps_enough_blocks_across_the_half_width():
    from hoimg.profile.radial import block_factor

    # a disc of radius 200 px: bound = 2 pi R^2 / (pi 2 sqrt(2) R) = R / sqrt(2) ~ 141
    assert block_factor(np.pi * 200**2, (0, 0, 400, 400), 20.0) == 4
    assert block_factor(np.pi * 60**2, (0, 0, 120, 120), 20.0) == 2
    assert block_factor(np.pi * 30**2, (0, 0, 60, 60), 20.0) == 1
    # a thin oblique ellipse in a big box stays at full resolution
    assert block_factor(np.pi * 300 * 15, (0, 0, 430, 430), 20.0) == 1


def test_edge_back_matches_numpy_and_finds_a_hidden_edge():
    # a bright lesion from col 30 on, but the "mask edge" claimed at col 40 (too tight)
    image = np.full((40, 80), 10.0, dtype=np.float32)
    image[:, 30:] = 100.0
    image[:, :5] = 200.0  # cortex
    base = np.array([[20.0, 4.5], [20.0, 4.5], [10.0, 4.5]])
    normal = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    t_hit = np.array([35.5, 20.0, np.nan])
    thr = np.array([55.0, 55.0, 55.0])
    args = (image, base, normal, t_hit, thr, 1.0, 3, 0.5)
    got = CK._edge_back(*args)
    np.testing.assert_allclose(got, ref.edge_back(*args), atol=1e-9)
    assert abs(got[0] - (29.5 - 4.5)) <= 1.0  # the real edge, 10 px before the mask edge
    assert got[1] == 20.0 and np.isnan(got[2])  # already dark at the mask edge; NaN stays
    # continuous with the cortex: no value below the threshold on the way back -> 0
    image2 = np.full((40, 80), 100.0, dtype=np.float32)
    assert CK._edge_back(image2, base[:1], normal[:1], t_hit[:1], thr[:1], 1.0, 3, 0.5)[0] == 0.0


def test_support_growth_kernel_matches_numpy_on_a_tight_mask():
    rng = np.random.default_rng(21)
    rr, cc = np.mgrid[:90, :90]
    r2 = (rr - 45.0) ** 2 + (cc - 45.0) ** 2
    image = (100.0 + 40.0 * np.clip(1 - r2 / 30.0**2, 0, None) ** 1.5
             + rng.normal(0, 1.0, (90, 90))).astype(np.float32)
    labels = (r2 < 15.0**2).astype(np.int32)  # much tighter than the 30 px footprint
    none = np.zeros((1, 1), dtype=np.int32)
    for f in (1, 2):
        args = (image, labels, np.int32(1), none, 0, 0, 90, 90, 1.5, 6.0, 10, 8,
                sector_edges(8), 256, f, 3.0)
        got = K._radial_profile_window(*args)
        want = ref.radial_profile_window(*args)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
        assert got[1].sum() > 1.1 * np.pi * 15.0**2  # it grew

"""Every Numba kernel against its plain-NumPy twin (_profile_reference.py), within 1e-6."""

from __future__ import annotations

import _profile_reference as ref
import numpy as np
import pytest

from hoimg.profile import _cleft_kernels as CK
from hoimg.profile import _edt_kernels as EK
from hoimg.profile import _feature_kernels as FK
from hoimg.profile import _kernels as K
from hoimg.profile import _median_kernels as MK
from hoimg.profile.radial import sector_edges

NONE = np.zeros((1, 1), dtype=np.int32)  # "exclude nothing"


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


def _profile(image, labels, ids, exclude, windows, blocks, inner, outer, n_bins, n_sectors,
             max_samples, grow=0.0, rim_start=0.8, core_end=0.4, rim_sigma=2.0, min_ppb=10,
             regrow=0.0, band=0.05, rim_peak_min=0.5, halo=0.0, passes=1, shape_band=np.inf):
    """_profile_batch with per-lesion arrays built from lists (no regrowth by default; the
    zonal index alone decides the pattern unless ``shape_band`` is finite)."""
    return K._profile_batch(
        image, labels, np.asarray(ids, dtype=np.int32), exclude,
        np.asarray(windows, dtype=np.int64).reshape(-1, 4), np.asarray(blocks, dtype=np.int64),
        inner, outer, n_bins, n_sectors, sector_edges(n_sectors), max_samples, grow, rim_start,
        core_end, rim_sigma, min_ppb, regrow, passes, band, shape_band, rim_peak_min, halo)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edt_sq_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    feature = (rng.random((23, 31)) < 0.05).astype(np.uint8)
    got = EK._edt_sq(feature, 1, 1, 0, 0, 23, 31, 23 + 31 + 1)
    np.testing.assert_array_equal(got, ref.edt_sq(feature))
    # a sub-region, features by mask bits: 0 where (cls & 5) == 0
    cls = (rng.random((30, 40)) * 8).astype(np.uint8)
    sub = EK._edt_sq(cls, 5, 0, 3, 4, 20, 25, 100)
    np.testing.assert_array_equal(sub, ref.edt_sq((cls[3:23, 4:29] & 5) == 0))


def test_edt_sq_long_and_short_rows_match_brute_force():
    # a disc of radius 80 with holes: its middle rows reach past _SHIFT_MAX (lower
    # envelope), the others do not (shifted minimum)
    rr, cc = np.mgrid[:170, :180]
    inside = (rr - 85) ** 2 + (cc - 88) ** 2 <= 80**2
    inside[[85, 15, 155, 60], [15, 90, 95, 40]] = False
    feature = (~inside).astype(np.uint8)
    got = EK._edt_sq(feature, 1, 1, 0, 0, 170, 180, 170 + 180 + 1)
    assert got.max() > EK._SHIFT_MAX**2
    # brute force over the features with a non-feature neighbour (every nearest one is)
    pad = np.pad(feature, 1, constant_values=1)
    edge = (feature == 1) & ((pad[:-2, 1:-1] == 0) | (pad[2:, 1:-1] == 0) | (pad[1:-1, :-2] == 0)
                             | (pad[1:-1, 2:] == 0))
    pts = np.argwhere(edge)
    for r in range(170):
        d = (r - pts[:, 0]) ** 2 + (np.arange(180)[:, None] - pts[:, 1]) ** 2
        np.testing.assert_array_equal(got[r], np.where(feature[r] == 1, 0, d.min(axis=1)))


def test_edt_sq_cap_is_exact_below_the_cap():
    rng = np.random.default_rng(4)
    feature = (rng.random((60, 70)) < 0.003).astype(np.uint8)
    exact = ref.edt_sq(feature)
    for cap in (3, 6, 11):
        got = EK._edt_sq(feature, 1, 1, 0, 0, 60, 70, cap)
        near = exact < cap * cap
        np.testing.assert_array_equal(got[near], exact[near])
        assert np.all(got[~near] >= exact[~near]) and np.all(got[~near] >= cap * cap)


def test_edt_sq_no_feature_is_max_int32():
    assert np.all(EK._edt_sq(np.zeros((4, 5), dtype=np.uint8), 1, 1, 0, 0, 4, 5, 10) == 2**31 - 1)


@pytest.mark.parametrize("kind", ["normal", "ties", "outlier", "spread", "constant"])
def test_median_equals_numpy(kind):
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 31, 32, 33, 500, 1023, 1024):
        x = {"normal": rng.normal(1000.0, 8.0, n),
             "ties": rng.integers(0, 4, n).astype(np.float64),
             "outlier": np.append(rng.normal(0.0, 1.0, n - 1), 1e12),
             "spread": np.exp(rng.uniform(-300.0, 300.0, n)),
             "constant": np.full(n, 2.5)}[kind]
        before = x.copy()
        assert MK._median(x, n) == np.median(x)
        np.testing.assert_array_equal(x, before)  # left untouched
    assert np.isnan(MK._median(np.array([1.0, np.nan, 2.0]), 3))


@pytest.mark.parametrize(("seed", "f", "grow", "halo"),
                         [(0, 1, 0.0, 0.0), (1, 1, 3.0, 0.0), (2, 2, 0.0, 0.0), (3, 4, 3.0, 0.0),
                          (4, 2, 2.0, 0.0), (5, 3, 0.0, 0.0), (6, 1, 0.0, 3.0), (7, 1, 3.0, 4.4),
                          (8, 2, 0.0, 3.0), (9, 4, 2.0, 6.0), (10, 3, 0.0, 5.0)])
def test_profile_matches_numpy(seed, f, grow, halo):
    rng = np.random.default_rng(seed)
    labels, image = _blobs(rng)
    exclude = np.zeros(labels.shape, dtype=np.int32)
    exclude[:, :20] = 1
    exclude[50:56, 30:60] = 1  # a bar across the middle, so some blobs lie within the halo
    for lid in np.unique(labels[labels > 0]):
        window = (2, 3, 68, 77)  # odd sizes: partial blocks on both edges for f > 1
        sums, counts, ref_sums, stats, feats, _, regrown = _profile(
            image, labels, [lid], exclude, [window], [f], 1.5, 6.0, 10, 8, 64, grow, halo=halo)
        want = ref.radial_profile_window(image, labels, lid, exclude, *window, 1.5, 6.0, 10, 8,
                                         sector_edges(8), 64, f, grow, halo)
        np.testing.assert_array_equal(counts[0], want[1])  # identical binning, pixel for pixel
        for g, w in zip((sums[0], counts[0], ref_sums[0], stats[0]), want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
        assert stats[0, 10] == f and not regrown[0]
        want_f = ref.profile_features(want[0][None], want[1][None], want[2][None], want[3][None],
                                      0.8, 0.4, 2.0, 10)
        np.testing.assert_array_equal(np.isnan(feats), np.isnan(want_f))
        np.testing.assert_allclose(feats, want_f, rtol=1e-6, atol=1e-6)


def test_profile_batch_equals_single_calls():
    rng = np.random.default_rng(5)
    labels, image = _blobs(rng, n=3)
    ids = np.unique(labels[labels > 0])
    windows = [(0, 0, 70, 80)] * ids.size
    blocks = [1, 2, 1][: ids.size]
    batch = _profile(image, labels, ids, NONE, windows, blocks, 1.0, 5.0, 6, 4, 50, 3.0)
    for i, lid in enumerate(ids):
        single = _profile(image, labels, [lid], NONE, windows[:1], [blocks[i]], 1.0, 5.0, 6, 4,
                          50, 3.0)
        for b, s in zip(batch, single, strict=True):
            np.testing.assert_array_equal(b[i], s[0])


def test_many_sectors_bin_like_searchsorted():
    # 360 sectors: sector = searchsorted(edges, diamond angle, "right") - 1 for every pixel
    rng = np.random.default_rng(8)
    labels, image = _blobs(rng, shape=(90, 90), n=1)
    got = _profile(image, labels, [1], NONE, [(0, 0, 90, 90)], [1], 1.0, 5.0, 5, 360, 256)
    want = ref.radial_profile_window(image, labels, 1, NONE, 0, 0, 90, 90, 1.0, 5.0, 5, 360,
                                     sector_edges(360), 256, 1)
    np.testing.assert_array_equal(got[1][0], want[1])
    np.testing.assert_allclose(got[0][0], want[0], rtol=1e-6, atol=1e-6)


def test_cast_one_matches_dense_sampling():
    rng = np.random.default_rng(7)
    labels, _ = _blobs(rng, n=2)
    lid = np.int32(1)
    rows, cols = np.nonzero(labels == lid)
    lo_r, lo_c, hi_r, hi_c = rows.min() - 0.5, cols.min() - 0.5, rows.max() + 0.5, cols.max() + 0.5
    n = 40
    base = np.column_stack([rng.uniform(0, 70, n), rng.uniform(0, 80, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_max = np.full(n, 60.0)
    got = np.array([CK._cast_one(labels, lid, base[i, 0], base[i, 1], normal[i, 0], normal[i, 1],
                                 t_max[i], lo_r, lo_c, hi_r, hi_c, 0.5) for i in range(n)])
    want = ref.cast_rays(labels, lid, base, normal, t_max)
    # the twin samples every 1e-4 px, the kernel bisects to 0.5/1024 px
    hit = np.isfinite(want)
    assert hit.sum() >= 5
    np.testing.assert_array_equal(np.isfinite(got), hit)
    np.testing.assert_allclose(got[hit], want[hit], atol=6e-4)


def test_resample_edges_matches_numpy():
    rng = np.random.default_rng(23)
    pts, nrm = [], []
    for n in (300, 0, 40, 1):  # a curve, an empty edge, a short one, a single point
        t = np.cumsum(rng.uniform(0.2, 1.5, n))
        p = np.column_stack([50 + 30 * np.sin(t / 20), 10 + t])
        q = np.column_stack([np.cos(t / 20), -np.ones(n)]) * rng.uniform(0.5, 2.0, (n, 1))
        pts.append(p)
        nrm.append(q)
    pts[0][10] = pts[0][9]  # a repeated point (zero-length segment)
    nrm[0][50:60] = 0.0  # normals without length are left out
    got = CK._resample_edges(np.concatenate(pts), np.concatenate(nrm),
                             np.array([0, 300, 300, 340, 341], dtype=np.int64), 0.1, 0.15, 0.5)
    want = ref.resample_edges(pts, nrm, (0.1, 0.15), 0.5)
    assert got[0].shape[0] > 50
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_line_mean_and_levels_match_map_coordinates():
    rng = np.random.default_rng(11)
    image = rng.normal(0, 1, size=(50, 60)).astype(np.float32)
    # one sample per point, including clamped ones outside the image
    for r, c in [(0.0, 0.0), (10.25, 3.5), (49.0, 59.0), (-3.0, 70.0), (20.7, 41.1)]:
        got = CK._line_mean(image, r, c, 0.0, 1.0, 0.0, 1, 0.0, 0.0, 1.0)
        np.testing.assert_allclose(got, ref.bilinear(image, r, c)[0], atol=1e-6)
    n = 12
    base = np.column_stack([rng.uniform(10, 40, n), rng.uniform(10, 50, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_hit = rng.uniform(0, 8, n)
    t_hit[1] = 0.5  # too short for a gap sample
    want = ref.normal_levels(image, base, normal, t_hit, 4.0, 3.0, 1.2, 3, 1.0)
    got = np.empty((n, 3))
    for i in range(n):
        CK._levels(image, base[i, 0], base[i, 1], normal[i, 0], normal[i, 1], t_hit[i], 4.0, 3.0,
                   1.2, 3, 1.0, got[i])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_profile_features_match_numpy():
    rng = np.random.default_rng(13)
    labels, image = _blobs(rng, shape=(90, 90), n=4)
    # give the lesions different radial structure: a bright rim on some, a bright core on others
    image = image + rng.normal(0, 1, image.shape).astype(np.float32)
    ids = np.unique(labels[labels > 0])
    sums, counts, ref_sums, stats, _, _, _ = _profile(image, labels, ids, NONE,
                                                   [(0, 0, 90, 90)] * ids.size, [1] * ids.size,
                                                   1.0, 5.0, 8, 6, 1024)
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
    # the shape index is NaN exactly where a radial bin is empty (small blobs, 8 bins)
    np.testing.assert_array_equal(np.isnan(got[:, 7]), (counts.sum(axis=1) == 0).any(axis=1))


def test_spearman_handles_ties():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    y = np.array([1.0, 1.0, 2.0, 3.0, 2.0])
    assert FK._spearman(x, y) == pytest.approx(ref.spearman(x, y), abs=1e-12)
    assert FK._spearman(x, y) == pytest.approx(np.sqrt(5.0 / 8.0), abs=1e-12)  # scipy: 0.79057
    assert np.isnan(FK._spearman(x[:2], y[:2]))


def _cleft_args(image, labels, ids, bboxes, base, normal, t_max, plane, offset=(0.0, 0.0)):
    return (image, labels, np.asarray(offset, dtype=np.float64), np.asarray(ids, dtype=np.int32),
            np.asarray(bboxes, dtype=np.int64), base, normal, t_max, np.full(t_max.size, 0.1),
            plane, 0.5, 3.0, 2.0, 1.0, 3, 1.0, 0.5, 0.5, 3.0, 0.3, 2.0, 0.5)


def _cleft(*args):
    """_cleft_batch's (H, 6) table as (lesion, normal, gap_mm, dip, has_cleft, contact)."""
    res = CK._cleft_batch(*args)
    return (res[:, 0].astype(np.int64), res[:, 1].astype(np.int64), res[:, 2], res[:, 3],
            res[:, 4] != 0, res[:, 5] != 0)


def test_cleft_batch_matches_numpy():
    rng = np.random.default_rng(17)
    labels, image = _blobs(rng, n=3)
    image[:, :8] = 400.0  # a dense "cortex" strip
    ids = np.unique(labels[labels > 0])
    bboxes = []
    for lid in ids:
        rows, cols = np.nonzero(labels == lid)
        bboxes.append([rows.min(), cols.min(), rows.max() + 1, cols.max() + 1])
    n = 60
    base = np.column_stack([rng.uniform(0, 70, n), rng.uniform(0, 80, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_max = rng.uniform(10, 40, n)
    plane = np.column_stack([np.full(ids.size, 100.0), np.full(ids.size, 5.0),
                             rng.uniform(20, 50, (ids.size, 2)), rng.normal(0, 0.05, (ids.size, 2))])
    args = _cleft_args(image, labels, ids, bboxes, base, normal, t_max, plane)
    got = _cleft(*args)
    want = ref.cleft_batch(*args)
    assert got[0].size >= 5 and np.all(np.diff(got[0]) >= 0)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.isnan(g.astype(float)), np.isnan(w.astype(float)))
        np.testing.assert_allclose(g.astype(float), w.astype(float), rtol=1e-9, atol=1e-9)
    # zero noise: IEEE division (an infinite dip), not a ZeroDivisionError
    plane[:, 1] = 0.0
    assert np.isinf(_cleft(*_cleft_args(image, labels, ids, bboxes, base, normal, t_max,
                                        plane))[3]).any()


def test_cleft_batch_on_a_label_crop_equals_the_full_image():
    rng = np.random.default_rng(19)
    labels, image = _blobs(rng, n=2)
    rows, cols = np.nonzero(labels == 2)
    box = (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
    crop = np.ascontiguousarray((labels[box[0]:box[2], box[1]:box[3]] == 2).astype(np.int32))
    n = 50
    base = np.column_stack([rng.uniform(0, 70, n), rng.uniform(0, 80, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    normal = np.column_stack([np.sin(ang), np.cos(ang)])
    t_max = np.full(n, 50.0)
    plane = np.array([[100.0, 5.0, 35.0, 40.0, 0.0, 0.0]])
    full = _cleft(*_cleft_args(image, labels, [2], [box], base, normal, t_max, plane))
    part = _cleft(*_cleft_args(image, crop, [1], [box], base, normal, t_max, plane,
                               offset=box[:2]))
    assert full[0].size >= 3
    for a, b in zip(full, part, strict=True):
        np.testing.assert_array_equal(a, b)


def test_edge_walk_back_finds_a_hidden_edge():
    # a bright lesion from col 30 on, but its mask starts at col 40 (drawn too tight)
    image = np.full((40, 80), 10.0, dtype=np.float32)
    image[:, 30:] = 100.0
    image[:, :5] = 200.0  # cortex
    labels = np.zeros((40, 80), dtype=np.int32)
    labels[5:35, 40:70] = 1
    base = np.array([[20.0, 4.5]])
    normal = np.array([[0.0, 1.0]])
    plane = np.array([[10.0, 1.0, 20.0, 55.0, 0.0, 0.0]])
    args = list(_cleft_args(image, labels, [1], [(5, 40, 35, 70)], base, normal, np.array([60.0]),
                            plane))
    args[8] = np.array([1.0])  # 1 mm per pixel
    _, _, gap_mm, _, _, _ = _cleft(*args)
    want = ref.cleft_batch(*args)[2]
    np.testing.assert_allclose(gap_mm, want, atol=1e-9)
    assert abs(gap_mm[0] - (29.5 - 4.5)) <= 1.0  # the real edge, 10 px before the mask edge
    # continuous with the cortex: no value below the threshold on the way back -> contact
    image[:, 5:30] = 100.0
    _, _, gap_mm, _, has_cleft, contact = _cleft(*args)
    assert gap_mm[0] == 0.0 and contact[0] and not has_cleft[0]


def test_support_growth_kernel_matches_numpy_on_a_tight_mask():
    rng = np.random.default_rng(21)
    rr, cc = np.mgrid[:90, :90]
    r2 = (rr - 45.0) ** 2 + (cc - 45.0) ** 2
    image = (100.0 + 40.0 * np.clip(1 - r2 / 30.0**2, 0, None) ** 1.5
             + rng.normal(0, 1.0, (90, 90))).astype(np.float32)
    labels = (r2 < 15.0**2).astype(np.int32)  # much tighter than the 30 px footprint
    for f in (1, 2):
        got = _profile(image, labels, [1], NONE, [(0, 0, 90, 90)], [f], 1.5, 6.0, 10, 8, 256, 3.0)
        want = ref.radial_profile_window(image, labels, 1, NONE, 0, 0, 90, 90, 1.5, 6.0, 10, 8,
                                         sector_edges(8), 256, f, 3.0)
        for g, w in zip(got[:4], want, strict=True):
            np.testing.assert_allclose(g[0], w, rtol=1e-6, atol=1e-6)
        assert got[1][0].sum() > 1.1 * np.pi * 15.0**2  # it grew


@pytest.mark.parametrize("f", [1, 2])
def test_regrowth_equals_measuring_again_with_growth(f):
    # Tight masks on two centre-dense lesions, a steep one (its grown support reads
    # central: regrown) and a flat-topped one (its grown support still reads uniform:
    # growth showed nothing, its own mask is reported), and a shell (peripheral: kept).
    rng = np.random.default_rng(31)
    rr, cc = np.mgrid[:100, :280]
    r2a = (rr - 50.0) ** 2 + (cc - 50.0) ** 2
    r2b = (rr - 50.0) ** 2 + (cc - 140.0) ** 2
    r2c = (rr - 50.0) ** 2 + (cc - 230.0) ** 2
    image = (100.0 + 40.0 * np.clip(1 - r2a / 30.0**2, 0, None) ** 3.0
             + 30.0 * ((r2b < 30.0**2) & (r2b > 22.0**2))
             + 40.0 * np.clip(1 - r2c / 30.0**2, 0, None) ** 1.5
             + rng.normal(0, 1.0, (100, 280)))
    image = image.astype(np.float32)
    labels = ((r2a < 15.0**2) * 1 + (r2b < 30.0**2) * 2 + (r2c < 15.0**2) * 3).astype(np.int32)
    windows = [(0, 0, 100, 100), (0, 90, 100, 190), (0, 180, 100, 280)]
    band = 0.08
    args = (image, labels, [1, 2, 3], NONE, windows, [f, f, f], 1.5, 6.0, 10, 8, 256)
    got = _profile(*args, regrow=2.0, band=band)
    first = _profile(*args, band=band)  # no growth
    again = _profile(*args, grow=2.0, band=band)  # every lesion grown
    np.testing.assert_array_equal(got[6], [True, False, False])
    # the pattern codes are those of the reported profiles (regrown: the grown one's)
    assert list(got[5]) == [1, 0, 2]
    for i in range(3):
        assert got[5][i] == FK._zonal_pattern(got[4][i, 0], got[4][i, 2], got[4][i, 7], band,
                                              np.inf, 0.5)
    # what the two-step reference does: the twin's first profile and its pattern; for a
    # lesion that did not read peripheral, the twin with growth, kept unless it reads
    # uniform
    for i, lid in enumerate((1, 2, 3)):
        want_first = ref.radial_profile_window(image, labels, lid, NONE, *windows[i], 1.5, 6.0,
                                               10, 8, sector_edges(8), 256, f)
        feats = ref.profile_features(*(w[None] for w in want_first), 0.8, 0.4, 2.0, 10)[0]
        peripheral = feats[2] >= band or (feats[0] >= 0.5 and feats[2] >= 0.5 * band)
        assert peripheral == (i == 1)
        want = want_first
        if not peripheral:
            grown = ref.radial_profile_window(image, labels, lid, NONE, *windows[i], 1.5, 6.0,
                                              10, 8, sector_edges(8), 256, f, 2.0)
            feats = ref.profile_features(*(w[None] for w in grown), 0.8, 0.4, 2.0, 10)[0]
            grown_peripheral = feats[2] >= band or (feats[0] >= 0.5 and feats[2] >= 0.5 * band)
            if grown_peripheral or feats[2] <= -band:  # not uniform
                want = grown
        assert (want is not want_first) == (i == 0)
        if f == 1:  # (f = 2 block means are float32 pair sums: ~1e-5 off the twin's)
            for g, w in zip(got[:4], want, strict=True):
                np.testing.assert_allclose(g[i], w, rtol=1e-6, atol=1e-6)
        # and bit for bit what measuring again with growth (or not at all) gives
        src = again if i == 0 else first
        for g, w in zip(got[:5], src[:5], strict=True):
            np.testing.assert_array_equal(g[i], w[i])
    assert got[1][0].sum() > first[1][0].sum()  # it grew


def test_block_factor_keeps_enough_blocks_across_the_half_width():
    from hoimg.profile.radial import block_factor

    # a disc of radius 200 px: bound = 2 pi R^2 / (pi 2 sqrt(2) R) = R / sqrt(2) ~ 141
    assert block_factor(np.pi * 200**2, (0, 0, 400, 400), 20.0) == 4
    assert block_factor(np.pi * 60**2, (0, 0, 120, 120), 20.0) == 2
    assert block_factor(np.pi * 30**2, (0, 0, 60, 60), 20.0) == 1
    # a thin oblique ellipse in a big box stays at full resolution
    assert block_factor(np.pi * 300 * 15, (0, 0, 430, 430), 20.0) == 1


@pytest.mark.parametrize(("peak", "zonal", "shape", "code"), [
    (0.3, 0.10, np.nan, 0),  # zonal index at the band: peripheral
    (0.3, 0.099, np.nan, 2),  # just below it, no rim peak: uniform
    (0.5, 0.05, np.nan, 0),  # a rim peak (s >= 0.5) lowers the bar to half the band
    (0.5, 0.049, np.nan, 2),
    (0.49, 0.05, np.nan, 2),  # the peak just inside the rim threshold does not
    (np.nan, 0.2, np.nan, 0),  # no peak position: the full band still counts
    (0.3, -0.10, np.nan, 1),  # at minus the band: central
    (0.9, -0.099, np.nan, 2),
    (0.9, np.nan, np.nan, 2),  # no zonal index: uniform
    (0.1, 0.15, -0.019, 0),  # within the shape band (0.02) the zonal index decides
    (0.1, -0.15, 0.019, 1),
    (0.1, 0.05, 0.01, 2),
    (0.1, 0.30, -0.02, 1),  # at minus the shape band: central, whatever the zonal index
    (0.9, 0.30, -0.05, 1),  # (a rim peak included)
    (0.1, -0.30, 0.02, 0),  # at the shape band: peripheral
    (0.1, np.nan, 0.05, 0),
])
def test_zonal_pattern_rule_known_answers(peak, zonal, shape, code):
    # the one definition of the rule (band 0.1, shape band 0.02, rim peak from s = 0.5):
    # the kernel decides regrowth with it and profiles_from_batch reports its codes as
    # ZONAL_PATTERNS names; an infinite shape band is the zonal index's rule alone
    from hoimg.profile.results import ZONAL_PATTERNS

    assert FK._zonal_pattern(peak, zonal, shape, 0.1, 0.02, 0.5) == code
    if not np.isfinite(shape):
        assert FK._zonal_pattern(peak, zonal, 0.3, 0.1, np.inf, 0.5) == code
    assert ZONAL_PATTERNS[code] == ("peripheral", "central", "uniform")[code]


@pytest.mark.parametrize(("shape", "n_sectors"), [("centred_disc", 64), ("blobs", 97)])
def test_sectors_counted_per_row_equal_searchsorted(shape, n_sectors):
    # the kernel counts sector edges per row between the row's end angles; a disc centred
    # on a pixel puts a row and a column exactly through the centroid (dr == 0, dc == 0:
    # angle 0 at the centre, 2 left of it), random blobs give fractional centroids
    rng = np.random.default_rng(41)
    if shape == "centred_disc":
        rr, cc = np.mgrid[:61, :61]
        labels = (((rr - 30) ** 2 + (cc - 30) ** 2) <= 26**2).astype(np.int32)
        image = rng.normal(100.0, 5.0, labels.shape).astype(np.float32) + 30 * labels
        ids, win = [1], (0, 0, 61, 61)
    else:
        labels, image = _blobs(rng, shape=(90, 90), n=3)
        ids, win = np.unique(labels[labels > 0]), (0, 0, 90, 90)
    for lid in ids:
        got = _profile(image, labels, [lid], NONE, [win], [1], 1.0, 5.0, 5, n_sectors, 256)
        want = ref.radial_profile_window(image, labels, lid, NONE, *win, 1.0, 5.0, 5, n_sectors,
                                         sector_edges(n_sectors), 256, 1)
        np.testing.assert_array_equal(got[1][0], want[1])
    if shape == "centred_disc":
        assert got[3][0, 5] == 30.0 and got[3][0, 6] == 30.0  # the centroid is the centre pixel


def test_regrowth_grows_again_while_the_grown_support_reads_uniform():
    # A centre-dense lesion (40 (1 - r^2/40^2)^2 over noise 1) masked at r = 18 px: its
    # first plane is fitted on its flank, so one growth stops short and still reads
    # uniform. The kernel grows again from each refitted plane until a pass reads a
    # pattern: the same as the twin grown k times, with k the first count that reads one.
    rng = np.random.default_rng(31)
    rr, cc = np.mgrid[:120, :120]
    r2 = (rr - 60.0) ** 2 + (cc - 60.0) ** 2
    image = (100.0 + 40.0 * np.clip(1 - r2 / 40.0**2, 0, None) ** 2.0
             + rng.normal(0, 1.0, (120, 120))).astype(np.float32)
    labels = (r2 < 18.0**2).astype(np.int32)
    band = 0.08
    args = (image, labels, [1], NONE, [(0, 0, 120, 120)], [1], 1.5, 6.0, 10, 8, 256)

    def twin(passes):
        out = ref.radial_profile_window(image, labels, 1, NONE, 0, 0, 120, 120, 1.5, 6.0, 10,
                                        8, sector_edges(8), 256, 1, 2.0 if passes else 0.0,
                                        grow_passes=max(passes, 1))
        feats = ref.profile_features(*(w[None] for w in out), 0.8, 0.4, 2.0, 10)[0]
        return out, FK._zonal_pattern(feats[0], feats[2], feats[7], band, np.inf, 0.5)

    codes = [twin(k)[1] for k in range(6)]
    k = next(i for i, c in enumerate(codes) if c != 2)
    assert codes[:k] == [2] * k and k >= 2 and codes[k] == 1  # central after k growths
    got = _profile(*args, regrow=2.0, band=band, passes=8)
    assert got[5][0] == 1 and got[6][0]
    for g, w in zip(got[:4], twin(k)[0], strict=True):
        np.testing.assert_allclose(g[0], w, rtol=1e-6, atol=1e-6)
    # with fewer passes than it needs, growth never reads a pattern: the lesion's own mask
    # is reported (uniform, not regrown), bit for bit the measurement without growth
    short = _profile(*args, regrow=2.0, band=band, passes=k - 1)
    plain = _profile(*args, band=band)
    assert short[5][0] == 2 and not short[6][0]
    for g, w in zip(short[:5], plain[:5], strict=True):
        np.testing.assert_array_equal(g, w)
    # passes = 0 disables regrowth
    off = _profile(*args, regrow=2.0, band=band, passes=0)
    for g, w in zip(off[:5], plain[:5], strict=True):
        np.testing.assert_array_equal(g, w)


def test_shape_index_matches_numpy_and_is_zero_for_a_cut_chord():
    # The kernel against its twin on random profiles (core-dense, rim-dense beyond any
    # offset, flat), and the known answer: the chord of a ball of radius R sampled on a
    # mask of radius R - delta (what the mask's own chord sums and counts would be for a
    # disc) reads 0 for any delta, since the offset outline is found again.
    rng = np.random.default_rng(17)
    n_bins = 10
    for _ in range(30):
        cnt = rng.integers(50, 500, n_bins)
        ref_sums = cnt * np.sqrt(np.linspace(1.0, 0.1, n_bins)) * 20.0
        values = rng.uniform(0.5, 5.0, n_bins) * rng.choice([-1.0, 1.0], n_bins, p=[0.1, 0.9])
        e_max = float(rng.uniform(5.0, 80.0))
        got = FK._shape_index(values, cnt, ref_sums, e_max, 0.4)
        want = ref.shape_index(values, cnt, ref_sums, e_max, 0.4)
        assert np.isnan(got) == np.isnan(want)
        if np.isfinite(want):
            assert got == pytest.approx(want, abs=1e-9)
    # a disc of radius 60 (d_max = 60.5 blocks), its pixels' own chord per bin, and the
    # chord of a ball 15 blocks wider, as a disc holds both (fine quadrature)
    d_max, delta = 60.5, 15.0
    e_max = d_max - 0.5
    s = (np.arange(n_bins) + 0.5) / n_bins
    d = (1.0 - (np.arange(n_bins)[:, None] + (np.arange(400) + 0.5) / 400) / n_bins) * d_max
    e = np.maximum(d - 0.5, 0.0)
    w = d_max - d
    ref_sums = (w * np.sqrt(e * (2 * e_max - e))).sum(axis=1)
    cnt = w.sum(axis=1)
    ed = e + delta
    values = (w * np.sqrt(ed * (2 * (e_max + delta) - ed))).sum(axis=1) / cnt
    assert FK._shape_index(values, cnt, ref_sums, e_max, 0.4) == pytest.approx(0.0, abs=2e-3)
    # the same profile minus a third of its edge: a core denser than the cut chord
    dense = values - np.clip(s - 0.4, 0, None) * values[-1]
    assert FK._shape_index(dense, cnt, ref_sums, e_max, 0.4) < -0.05

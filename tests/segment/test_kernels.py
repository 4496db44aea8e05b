"""Numba kernels of the background and noise maps against their plain-NumPy twins."""

from __future__ import annotations

import numpy as np

from hoimg.segment._kernels import _block_medians, _neighbour_nanmedian, _quadratic_centre

_BASIS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def _moments(rng, rows=40, cols=50):
    """Windowed moments of a sparse random weight map, as quadratic_background builds them."""
    import cv2

    w = (rng.random((rows, cols)) > 0.4).astype(np.float32) * rng.random((rows, cols)).astype(np.float32)
    w[5:15, 10:30] = 0.0  # an excluded region: sparse windows there
    img = (3.0 + rng.normal(0, 0.5, (rows, cols))).astype(np.float32) * w
    sig = 2.5
    d = np.arange(-8, 9, dtype=np.float64) / sig
    g = np.exp(-0.5 * d * d)
    g /= g.sum()
    kern = [(g * d**i).astype(np.float32) for i in range(5)]

    def filt(src, i, j):
        return cv2.sepFilter2D(src, cv2.CV_32F, kern[i], kern[j], borderType=cv2.BORDER_CONSTANT)

    mom = np.zeros((5, 5, rows, cols))
    for i in range(5):
        for j in range(5 - i):
            mom[i, j] = filt(w, i, j)
    rhs = np.stack([filt(img, i, j) for i, j in _BASIS]).astype(np.float64)
    return mom, rhs


def _quadratic_centre_numpy(mom, rhs, ridge):
    n = len(_BASIS)
    a = np.empty(mom.shape[2:] + (n, n))
    for k, (i1, j1) in enumerate(_BASIS):
        for m, (i2, j2) in enumerate(_BASIS):
            a[..., k, m] = mom[i1 + i2, j1 + j2]
    r = ridge * np.maximum(mom[0, 0], 1e-9)
    for k in range(1, n):
        a[..., k, k] += r
    a[..., 0, 0] += 1e-12
    return np.linalg.solve(a, np.moveaxis(rhs, 0, -1)[..., None])[..., 0, 0]


def test_quadratic_centre_matches_a_batched_solve():
    mom, rhs = _moments(np.random.default_rng(1))
    ref = _quadratic_centre_numpy(mom, rhs, 1e-3)
    got = _quadratic_centre(mom, rhs, 1e-3)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_quadratic_centre_of_an_exact_plane_is_its_centre_value():
    # Uniform weight, image 2 + 0.5 x - 0.25 y under the window: the fit at the centre is 2.
    rows, cols = 30, 30
    mom = np.zeros((5, 5, rows, cols))
    d = np.arange(-6, 7, dtype=np.float64)
    g = np.exp(-0.5 * (d / 2.0) ** 2)
    g /= g.sum()
    gx, gy = np.meshgrid(g, g)
    dx, dy = np.meshgrid(d, d)
    for i in range(5):
        for j in range(5 - i):
            mom[i, j] = float(np.sum(gx * gy * dx**i * dy**j))
    val = 2.0 + 0.5 * dx - 0.25 * dy
    rhs = np.stack([np.full((rows, cols), float(np.sum(gx * gy * val * dx**i * dy**j))) for i, j in _BASIS])
    np.testing.assert_allclose(_quadratic_centre(mom, rhs, 0.0), 2.0, rtol=1e-10)


def _block_medians_numpy(values, member, nbr, nbc, bh, bw, min_frac):
    a = np.abs(values).reshape(nbr, bh, nbc, bw).transpose(0, 2, 1, 3).reshape(nbr, nbc, -1)
    m = member.reshape(nbr, bh, nbc, bw).transpose(0, 2, 1, 3).reshape(nbr, nbc, -1)
    srt = np.sort(np.where(m, a, np.inf), axis=2)
    n = m.sum(axis=2)
    mid = np.clip((n - 1) // 2, 0, srt.shape[2] - 1)
    med = np.take_along_axis(srt, mid[..., None], axis=2)[..., 0].astype(np.float64)
    return np.where(m.mean(axis=2) >= min_frac, med, np.nan)


def test_block_medians_match_the_sorted_numpy_twin_exactly():
    rng = np.random.default_rng(2)
    nbr, nbc, bh, bw = 7, 9, 10, 12
    values = rng.normal(0, 2.0, (nbr * bh, nbc * bw)).astype(np.float32)
    member = rng.random(values.shape) > 0.5
    member[:bh, :bw] = False  # an empty block
    member[bh : 2 * bh, :bw] = rng.random((bh, bw)) > 0.8  # a sparse one (under 30%)
    got = _block_medians(values, member, 1, nbr, nbc, bh, bw, 0.3)
    ref = _block_medians_numpy(values, member, nbr, nbc, bh, bw, 0.3)
    np.testing.assert_array_equal(got, ref)
    assert np.isnan(got[0, 0]) and np.isnan(got[1, 0])
    # On every other pixel of a grid twice as fine (plus a ragged last row and column).
    fine = np.zeros((2 * values.shape[0] + 1, 2 * values.shape[1] + 1), np.float32)
    fine_member = np.zeros(fine.shape, bool)
    fine[::2, ::2][: values.shape[0], : values.shape[1]] = values
    fine_member[::2, ::2][: values.shape[0], : values.shape[1]] = member
    fine[1::2] = 1e6  # never read
    np.testing.assert_array_equal(_block_medians(fine, fine_member, 2, nbr, nbc, bh, bw, 0.3), ref)


def test_block_median_is_the_lower_median():
    # One block of four members 1, 2, 3, 4 (and two non-members): the lower median is 2.
    values = np.array([[1.0, -2.0, 9.0], [3.0, -4.0, 9.0]], np.float32)
    member = np.array([[True, True, False], [True, True, False]])
    assert _block_medians(values, member, 1, 1, 1, 2, 3, 0.3)[0, 0] == 2.0


def test_neighbour_nanmedian_matches_numpy_nanmedian():
    rng = np.random.default_rng(3)
    med = rng.random((11, 13))
    med[rng.random(med.shape) > 0.6] = np.nan
    med[:3, :3] = np.nan  # a neighbourhood with no finite value
    rows, cols = med.shape
    padded = np.pad(med, 1, constant_values=np.nan)
    win = np.stack([padded[i : i + rows, j : j + cols] for i in range(3) for j in range(3)])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(win, axis=0)
    got = _neighbour_nanmedian(med)
    np.testing.assert_array_equal(got, ref)
    assert np.isnan(got[0, 0])


def _running_percentile_numpy(means, half, percentile, min_n):
    """The sort-every-window version (as along_limb_background first did it)."""
    padded = np.pad(means, ((half, half), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)
    srt = np.sort(win, axis=2)
    n = np.isfinite(win).sum(axis=2)
    k = np.clip(np.round((n - 1) * percentile / 100.0).astype(int), 0, win.shape[2] - 1)
    low = np.take_along_axis(srt, k[..., None], axis=2)[..., 0]
    return np.where(n >= min_n, low, np.nan).astype(np.float32)


def test_running_percentile_matches_sorting_every_window():
    from hoimg.segment._background import running_percentile

    rng = np.random.default_rng(8)
    means = np.round(rng.normal(100.0, 5.0, (60, 40)), 1).astype(np.float32)  # with ties
    means[rng.random(means.shape) > 0.7] = np.nan
    means[:, 3] = np.nan  # a column with no tissue
    means[10:50, 7] = np.nan  # a long gap
    for half, pct, min_n in ((15, 30.0, 10), (3, 50.0, 3), (0, 30.0, 1), (40, 10.0, 5)):
        np.testing.assert_array_equal(running_percentile(means, half, pct, min_n),
                                      _running_percentile_numpy(means, half, pct, min_n))


def test_running_percentile_of_a_ramp_is_the_known_rank():
    from hoimg.segment._background import running_percentile

    col = np.arange(20, dtype=np.float32)[:, None]
    out = running_percentile(col, 2, 50.0, 5)
    # Full windows (rows 2..17) are the five values around the row: their median is it.
    np.testing.assert_array_equal(out[2:18, 0], np.arange(2, 18, dtype=np.float32))
    assert np.isnan(out[0, 0]) and np.isnan(out[19, 0])  # only 3 values: under min_count


def test_dense_and_lucent_match_the_numpy_expressions():
    from hoimg.segment._kernels import _dense_and_lucent

    rng = np.random.default_rng(10)
    resid = rng.normal(0, 3.0, (80, 90)).astype(np.float32)
    sigma = rng.uniform(0.5, 2.0, resid.shape).astype(np.float32)
    valid = rng.random(resid.shape) > 0.2
    resid[0, 0], sigma[0, 0] = 2.5, 1.0  # exactly at 2.5 sigma: not dense (strict)
    dense, lucent = _dense_and_lucent(resid, sigma, valid, 2.5, -5.0)
    np.testing.assert_array_equal(dense, ((resid > 2.5 * sigma) & valid).astype(np.uint8))
    np.testing.assert_array_equal(lucent, resid < -2.0 * 2.5 * sigma)
    assert dense[0, 0] == 0

"""Numba kernels of the segmentation background and noise maps.

Pure ``@njit(cache=True)`` functions of arrays and scalars: no globals, no I/O, and no
hoimg imports but the shared selection kernel (:mod:`hoimg._select_kernel`). The
wrappers in :mod:`hoimg.segment._background` convert their inputs once (C-contiguous
float32 / float64 arrays, bool masks), so each kernel compiles to one specialisation.
Every kernel has a plain-NumPy twin in ``tests/segment/test_kernels.py`` that it matches.

Conventions: images are indexed (row, col).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The k-th smallest value, shared with the profile kernels.
from .._select_kernel import select_kth as _select


@njit(cache=True, error_model="numpy")
def _quadratic_centre(mom, rhs, ridge):
    """Centre value of the weighted least-squares quadratic at every coarse pixel.

    Solves the 6 x 6 normal equations of the basis ``1, x, y, x^2, xy, y^2`` by Gaussian
    elimination with partial pivoting (as LAPACK's ``gesv``), without building a
    (rows, cols, 6, 6) array: a few hundred flops per pixel instead of a batched call.

    Parameters
    ----------
    mom : (5, 5, M, N) float64 ndarray
        ``mom[i, j]`` is the windowed moment ``sum w g dx^i dy^j`` (only ``i + j <= 4``
        is read).
    rhs : (6, M, N) float64 ndarray
        ``sum w g image phi_k`` for the six basis functions.
    ridge : float
        Added to the slope and curvature diagonal, times ``max(mom[0, 0], 1e-9)``.

    Returns
    -------
    (M, N) float64 ndarray
    """
    ex = (0, 1, 0, 2, 1, 0)
    ey = (0, 0, 1, 0, 1, 2)
    rows, cols = rhs.shape[1], rhs.shape[2]
    out = np.empty((rows, cols))
    a = np.empty((6, 7))
    x = np.empty(6)
    for r in range(rows):
        for c in range(cols):
            for k in range(6):
                for m in range(6):
                    a[k, m] = mom[ex[k] + ex[m], ey[k] + ey[m], r, c]
                a[k, 6] = rhs[k, r, c]
            rg = ridge * max(mom[0, 0, r, c], 1e-9)
            for k in range(1, 6):
                a[k, k] += rg
            a[0, 0] += 1e-12
            for k in range(6):
                p = k
                best = abs(a[k, k])
                for i in range(k + 1, 6):
                    if abs(a[i, k]) > best:
                        best = abs(a[i, k])
                        p = i
                if p != k:
                    for m in range(k, 7):
                        t = a[k, m]
                        a[k, m] = a[p, m]
                        a[p, m] = t
                piv = a[k, k]
                for i in range(k + 1, 6):
                    f = a[i, k] / piv
                    if f != 0.0:
                        for m in range(k + 1, 7):
                            a[i, m] -= f * a[k, m]
            for k in range(5, -1, -1):
                s = a[k, 6]
                for m in range(k + 1, 6):
                    s -= a[k, m] * x[m]
                x[k] = s / a[k, k]
            out[r, c] = x[0]
    return out


@njit(cache=True, error_model="numpy")
def _block_medians(values, member, stride, nbr, nbc, bh, bw, min_frac):
    """Lower median of ``|values|`` over the member pixels of each block of a subsampled grid.

    The grid is every ``stride``-th pixel each way; its block ``(i, j)`` covers grid rows
    ``i * bh`` to ``(i + 1) * bh`` and the matching columns. The lower median is the
    ``(n - 1) // 2``-th smallest of its ``n`` member values; a block whose member
    fraction is below ``min_frac`` is NaN.

    Parameters
    ----------
    values : (M, N) float32 ndarray
    member : (M, N) bool ndarray
    stride, nbr, nbc, bh, bw : int
    min_frac : float

    Returns
    -------
    (nbr, nbc) float64 ndarray
    """
    out = np.empty((nbr, nbc))
    buf = np.empty(bh * bw, np.float32)
    size = bh * bw
    for i in range(nbr):
        for j in range(nbc):
            n = 0
            for r in range(i * bh, (i + 1) * bh):
                for c in range(j * bw, (j + 1) * bw):
                    if member[r * stride, c * stride]:
                        buf[n] = abs(values[r * stride, c * stride])
                        n += 1
            if n == 0 or n / size < min_frac:
                out[i, j] = np.nan
                continue
            out[i, j] = _select(buf, n, (n - 1) // 2)
    return out


@njit(cache=True, error_model="numpy")
def _neighbour_nanmedian(med):
    """Median of the finite values among each pixel's 3 x 3 neighbourhood (itself included).

    As ``np.nanmedian`` over the nine NaN-padded shifts: an even count averages the two
    middle values; no finite value gives NaN.

    Parameters
    ----------
    med : (M, N) float64 ndarray

    Returns
    -------
    (M, N) float64 ndarray
    """
    rows, cols = med.shape
    out = np.empty((rows, cols))
    buf = np.empty(9)
    for r in range(rows):
        for c in range(cols):
            n = 0
            for i in range(max(r - 1, 0), min(r + 2, rows)):
                for j in range(max(c - 1, 0), min(c + 2, cols)):
                    v = med[i, j]
                    if np.isfinite(v):
                        buf[n] = v
                        n += 1
            if n == 0:
                out[r, c] = np.nan
                continue
            # Insertion sort of at most nine values (np.sort costs seconds to compile).
            for a in range(1, n):
                v = buf[a]
                b = a
                while b > 0 and buf[b - 1] > v:
                    buf[b] = buf[b - 1]
                    b -= 1
                buf[b] = v
            if n % 2 == 1:
                out[r, c] = buf[n // 2]
            else:
                out[r, c] = (buf[n // 2 - 1] + buf[n // 2]) / 2.0
    return out


@njit(cache=True, error_model="numpy")
def _running_order_stat(values, half, percentile, min_n):
    """Order statistic of the finite values in a sliding window down each column.

    For row ``i`` of column ``j`` the window is rows ``i - half`` to ``i + half`` (rows
    beyond the array count as missing); with ``n`` finite values in it, the result is
    the ``rint((n - 1) * percentile / 100)``-th smallest, or NaN when ``n < min_n``. The
    window's values are kept sorted as it slides (one insertion and one removal per row)
    instead of sorting every window.

    Parameters
    ----------
    values : (M, N) float32 ndarray
        NaN marks a missing value.
    half, min_n : int
    percentile : float

    Returns
    -------
    (M, N) float32 ndarray
    """
    rows, cols = values.shape
    out = np.empty((rows, cols), np.float32)
    buf = np.empty(2 * half + 1, np.float32)
    for j in range(cols):
        n = 0
        for i in range(-half, rows):
            add = i + half
            if add < rows:
                v = values[add, j]
                if np.isfinite(v):
                    p = n
                    while p > 0 and buf[p - 1] > v:
                        buf[p] = buf[p - 1]
                        p -= 1
                    buf[p] = v
                    n += 1
            rem = i - half - 1
            if rem >= 0:
                v = values[rem, j]
                if np.isfinite(v):
                    p = 0
                    while buf[p] != v:
                        p += 1
                    for q in range(p, n - 1):
                        buf[q] = buf[q + 1]
                    n -= 1
            if i < 0:
                continue
            if n >= min_n:
                k = int(np.rint((n - 1) * percentile / 100.0))
                out[i, j] = buf[min(max(k, 0), 2 * half)]
            else:
                out[i, j] = np.nan
    return out


@njit(cache=True, error_model="numpy")
def _dense_and_lucent(resid, sigma, valid, dense_k, lucent_k):
    """One pass over a residual: where it is dense (``resid > dense_k * sigma`` and valid)
    and where it is lucent (``resid < lucent_k * sigma``).

    ``dense_k * sigma`` and ``lucent_k * sigma`` are float32 products, as NumPy forms
    them from a Python float and a float32 array.

    Parameters
    ----------
    resid, sigma : (M, N) float32 ndarray
    valid : (M, N) bool ndarray
    dense_k, lucent_k : float

    Returns
    -------
    dense : (M, N) uint8 ndarray
    lucent : (M, N) bool ndarray
    """
    rows, cols = resid.shape
    dense = np.empty((rows, cols), np.uint8)
    lucent = np.empty((rows, cols), np.bool_)
    dk = np.float32(dense_k)
    lk = np.float32(lucent_k)
    for r in range(rows):
        for c in range(cols):
            v = resid[r, c]
            s = sigma[r, c]
            dense[r, c] = 1 if (v > dk * s and valid[r, c]) else 0
            lucent[r, c] = v < lk * s
    return dense, lucent

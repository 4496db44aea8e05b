"""Numba kernels of the exact median (``np.median``'s value) used by the radial profile.

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`); tested
against ``np.median`` itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._select_kernel import select_kth


@njit(cache=True, error_model="numpy")
def _median(a, n):
    """Median of ``a[:n]`` as ``np.median`` gives it (mean of the two middle values for
    even n); ``a`` is left untouched. NaN if n == 0 or any value is NaN.

    The upper middle value (rank n // 2) is found by bucket selection: the values are
    histogrammed into equal-width buckets between their minimum and maximum (a monotone
    map, so whole buckets are ordered), only the bucket holding the rank is kept, and that
    repeats until few values are left. Unlike a partition-based select it has almost no
    data-dependent branches, which is what costs on ~1000 noisy values (3x faster). After
    a few rounds without enough progress (pathologically spread values) Hoare's select
    (:func:`hoimg._select_kernel.select_kth`) finishes.
    """
    if n == 0:
        return np.nan
    work = np.empty(n, dtype=np.float64)
    # the copy without a branch (NaN is told after it), which vectorises
    nan = False
    for i in range(n):
        x = a[i]
        nan |= x != x
        work[i] = x
    if nan:
        return np.nan
    half = n // 2
    k = half  # rank sought among work[:m]
    m = n
    n_buckets = 128
    count = np.empty(n_buckets + 1, dtype=np.int64)
    rounds = 0
    upper = np.nan
    while m > 32 and rounds < 4:
        rounds += 1
        # the range: four running minima and maxima (exact in any order), whose
        # dependency chains overlap
        lo0 = lo1 = lo2 = lo3 = hi0 = hi1 = hi2 = hi3 = work[0]
        m4 = m - m % 4
        for i in range(0, m4, 4):
            lo0 = min(lo0, work[i])
            hi0 = max(hi0, work[i])
            lo1 = min(lo1, work[i + 1])
            hi1 = max(hi1, work[i + 1])
            lo2 = min(lo2, work[i + 2])
            hi2 = max(hi2, work[i + 2])
            lo3 = min(lo3, work[i + 3])
            hi3 = max(hi3, work[i + 3])
        for i in range(m4, m):
            lo0 = min(lo0, work[i])
            hi0 = max(hi0, work[i])
        lo = min(min(lo0, lo1), min(lo2, lo3))
        hi = max(max(hi0, hi1), max(hi2, hi3))
        if not hi > lo:  # all left equal
            upper = lo
            break
        scale = n_buckets / (hi - lo)
        for b in range(n_buckets + 1):
            count[b] = 0
        for i in range(m):
            count[int((work[i] - lo) * scale)] += 1
        b = 0
        while k >= count[b]:
            k -= count[b]
            b += 1
        n_b = 0
        for i in range(m):
            x = work[i]
            if int((x - lo) * scale) == b:
                work[n_b] = x
                n_b += 1
        m = n_b
    if np.isnan(upper):
        upper = select_kth(work, m, k)
    if n % 2 == 1:
        return upper
    # the lower middle value (rank half - 1). The values left in work[:m] are those of
    # the buckets kept, and every value dropped below them lies in a lower bucket, so
    # when `upper` is not the smallest of them (k >= 1) it is their rank k - 1 (the
    # select reorders work[:m] but keeps its values): a select among a few dozen values
    # instead of a pass over all n (a third of the median's time for n = 1024)
    if k >= 1:
        return (select_kth(work, m, k - 1) + upper) / 2
    # otherwise `upper` itself when fewer than half the values lie below it, else the
    # largest of those
    below = 0
    lower = -np.inf
    for i in range(n):
        x = a[i]
        if x < upper:
            below += 1
            lower = max(lower, x)
    if below < half:
        lower = upper
    return (lower + upper) / 2

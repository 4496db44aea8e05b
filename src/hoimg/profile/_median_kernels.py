"""Numba kernels of the exact median (``np.median``'s value) used by the radial profile.

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`); tested
against ``np.median`` itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _kth(work, m, k):
    """The k-th smallest (0-based) of ``work[:m]``, which is overwritten. No NaN.

    Bucket selection: the values are histogrammed into equal-width buckets between their
    minimum and maximum (a monotone map, so whole buckets are ordered), only the bucket
    holding rank k is kept, and that repeats until few values are left. Unlike a
    partition-based select it has almost no data-dependent branches, which is what costs
    on ~1000 noisy values (3x faster). After a few rounds without enough progress
    (pathologically spread values) it finishes with Hoare's select.
    """
    n_buckets = 128
    count = np.empty(n_buckets + 1, dtype=np.int64)
    rounds = 0
    while m > 32 and rounds < 4:
        rounds += 1
        lo = work[0]
        hi = work[0]
        for i in range(m):
            x = work[i]
            lo = min(lo, x)
            hi = max(hi, x)
        if not hi > lo:
            return lo
        scale = n_buckets / (hi - lo)
        count[:] = 0
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
    lo = 0
    hi = m - 1
    while lo < hi:
        x = work[lo]
        y = work[(lo + hi) // 2]
        z = work[hi]
        if x > y:  # median of three as the pivot
            x, y = y, x
        pivot = max(x, min(y, z))
        i = lo
        j = hi
        while i <= j:
            while work[i] < pivot:
                i += 1
            while work[j] > pivot:
                j -= 1
            if i <= j:
                t = work[i]
                work[i] = work[j]
                work[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return work[k]


@njit(cache=True, error_model="numpy")
def _median(a, n):
    """Median of ``a[:n]`` as ``np.median`` gives it (mean of the two middle values for
    even n); ``a`` is left untouched. NaN if n == 0 or any value is NaN."""
    if n == 0:
        return np.nan
    work = np.empty(n, dtype=np.float64)
    for i in range(n):
        x = a[i]
        if x != x:
            return np.nan
        work[i] = x
    k = n // 2
    upper = _kth(work, n, k)
    if n % 2 == 1:
        return upper
    # the lower middle value: `upper` itself when fewer than k values lie below it,
    # otherwise the largest of those
    below = 0
    lower = -np.inf
    for i in range(n):
        x = a[i]
        if x < upper:
            below += 1
            lower = max(lower, x)
    if below < k:
        lower = upper
    return (lower + upper) / 2

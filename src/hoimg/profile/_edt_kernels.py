"""Numba kernel of the exact Euclidean distance transform used by the radial profile
(separable, lower envelope of parabolas: Felzenszwalb & Huttenlocher 2012).

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`), with a
brute-force twin in ``tests/profile/_profile_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# "no feature pixel" in _edt_sq's int32 output
_EDT_INF = 2147483647
# a boundary beyond every column (as a fraction over 1)
_NO_BOUND = 1 << 50


@njit(cache=True, error_model="numpy")
def _edt_sq(cls, mask, want, r0, c0, h, w, cap):
    """Squared distance from every pixel of a region to the nearest feature pixel.

    Separable transform: column distances are swept row by row (both passes walk memory
    contiguously), then each row takes the lower envelope of parabolas. The envelope's
    intersections are kept as exact fractions (numerator, denominator) and compared by
    cross-multiplication, so the sweep has no division and no rounding.

    Parameters
    ----------
    cls : (M, N) uint8 ndarray
        Pixel ``(r, c)`` is a feature pixel where ``cls[r, c] & mask == want``.
    mask, want : int
    r0, c0, h, w : int
        The region ``cls[r0:r0 + h, c0:c0 + w]`` (inside ``cls``); nothing outside it
        counts.
    cap : int
        Distances are exact up to ``cap**2``; larger ones may come out too large (or
        ``2**31 - 1``): column distances of ``cap`` or more are left out of the rows'
        envelopes. ``h + w + 1`` or more for an exact transform.

    Returns
    -------
    (h, w) int32 ndarray
        Squared Euclidean distances in pixel units; ``2**31 - 1`` everywhere if the
        region has no feature pixel. Regions up to ~30000 pixels across fit int32.
    """
    big = min(h + w + 1, cap)  # column distances from here on are left out
    g = np.empty((h, w), dtype=np.int32)
    # zero-based row views throughout: Numba then drops its negative-index wraparound
    # test from the inner loops, and they vectorise
    c_row = cls[r0, c0:c0 + w]
    g_row = g[0]
    for c in range(w):
        g_row[c] = 0 if (c_row[c] & mask) == want else big
    for r in range(1, h):
        c_row = cls[r0 + r, c0:c0 + w]
        prev = g[r - 1]
        g_row = g[r]
        for c in range(w):
            v = min(prev[c] + 1, big)
            g_row[c] = 0 if (c_row[c] & mask) == want else v
    for r in range(h - 2, -1, -1):
        nxt = g[r + 1]
        g_row = g[r]
        for c in range(w):
            g_row[c] = min(g_row[c], nxt[c] + 1)
    # the lower envelope: positions, keys f(p) + p^2, and left boundaries zn / zd (k >= 1);
    # the top parabola and the next boundary are kept in registers, which shortens the
    # dependent chain of loads each step waits on
    v = np.empty(w, dtype=np.int64)
    kv = np.empty(w, dtype=np.int64)
    zn = np.empty(w, dtype=np.int64)
    zd = np.empty(w, dtype=np.int64)
    for r in range(h):
        g_row = g[r]
        top = -1
        p_t = 0
        k_t = 0
        zn_t = 0
        zd_t = 1
        for q in range(w):
            gq = np.int64(g_row[q])
            if gq >= big:
                continue
            # inside a run of feature pixels only the run's ends shape the envelope (the
            # run itself is 0, written below): long runs (a lesion row, the outside of
            # a lesion) then cost next to nothing
            if gq == 0 and 0 < q < w - 1 and g_row[q - 1] == 0 and g_row[q + 1] == 0:
                continue
            key = gq * gq + q * q
            if top < 0:
                top = 0
                p_t = q
                k_t = key
                v[0] = q
                kv[0] = key
                continue
            # pop every parabola the new one hides: intersection(top, q) <= boundary(top)
            num = key - k_t
            den = 2 * (q - p_t)
            while top > 0 and num * zd_t <= zn_t * den:
                top -= 1
                p_t = v[top]
                k_t = kv[top]
                zn_t = zn[top]
                zd_t = zd[top]
                num = key - k_t
                den = 2 * (q - p_t)
            top += 1
            v[top] = q
            kv[top] = key
            zn[top] = num
            zd[top] = den
            p_t = q
            k_t = key
            zn_t = num
            zd_t = den
        if top < 0:
            g_row[:] = _EDT_INF
            continue
        k = 0
        p = v[0]
        kp = kv[0]
        nxt_n = zn[1] if top > 0 else _NO_BOUND  # the boundary to the next parabola
        nxt_d = zd[1] if top > 0 else 1
        for q in range(w):
            if g_row[q] == 0:
                continue
            while nxt_n < q * nxt_d:
                k += 1
                p = v[k]
                kp = kv[k]
                nxt_n = zn[k + 1] if k < top else _NO_BOUND
                nxt_d = zd[k + 1] if k < top else 1
            g_row[q] = (q - p) * (q - p) + kp - p * p
    return g

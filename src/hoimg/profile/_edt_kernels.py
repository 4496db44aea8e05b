"""Numba kernel of the exact Euclidean distance transform used by the radial profile
(separable, lower envelope of parabolas: Felzenszwalb & Huttenlocher 2012; short-ranged
rows as a minimum over shifts).

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
# rows whose column distances are all at most this take the shifted-minimum path, in
# int16: squares and sums of two squares up to 2 * 64**2, the pad plus a square, fit
_SHIFT_MAX = 64
# "no column" in that path's padded squares (above any sum of two squares there)
_SQ_PAD = 1 << 14


# inlined into _edt_sq's row loop
@njit(cache=True, error_model="numpy", inline="always")
def _shifted_minimum(g_row, w, big, sq, low):
    """One row of the transform as a minimum over shifts, in place, when it is short-ranged.

    A pixel's nearest feature lies no further along the row than its own column distance
    ``g`` (the feature straight above or below is a candidate), so when every column
    distance of the row is finite (below ``big``) and at most ``_SHIFT_MAX``, the row's
    squared distances are ``min over |t| <= max g of g[q + t]^2 + t^2``: the same exact
    minimum as the lower envelope's, but one shift at a time over the whole row, in int16
    32-lane vectors and without the envelope's data-dependent branches (1.7x faster on
    lesion-sized rows).

    Parameters
    ----------
    g_row : (w,) int32 ndarray
        The row's column distances; overwritten with its squared distances when done.
    w, big : int
    sq : (w + 2 * _SHIFT_MAX + 32,) int16 ndarray
        Scratch; ``_SQ_PAD`` outside ``[_SHIFT_MAX, _SHIFT_MAX + w)`` on entry and exit.
    low : (w + 32,) int16 ndarray
        Scratch.

    Returns
    -------
    bool
        Whether the row was done (False: it is left untouched for the envelope).
    """
    # the largest column distance, an int32 maximum (vectorises), then the row's
    # non-feature span lo .. hi from its ends
    t_max = np.int32(0)
    for q in range(w):
        t_max = max(t_max, g_row[q])
    if t_max >= big or t_max > _SHIFT_MAX:
        return False
    if t_max == 0:  # all features: all zero already
        return True
    lo = 0
    while g_row[lo] == 0:
        lo += 1
    hi = w - 1
    while g_row[hi] == 0:
        hi -= 1
    for q in range(w):
        sq[_SHIFT_MAX + q] = np.int16(g_row[q] * g_row[q])
    # a whole number of 32-lane vectors from lo (the lanes past hi read the pads or
    # features and are not stored); int16 casts keep the vectors int16 (Numba widens
    # int16 sums to int64, which would leave a quarter of the lanes)
    n32 = (hi - lo + 32) // 32 * 32
    out = low[:n32]
    mid = sq[_SHIFT_MAX + lo:_SHIFT_MAX + lo + n32]
    for q in range(n32):
        out[q] = mid[q]
    for t in range(1, t_max + 1):
        t2 = np.int16(t * t)
        right = sq[_SHIFT_MAX + lo + t:_SHIFT_MAX + lo + t + n32]
        left = sq[_SHIFT_MAX + lo - t:_SHIFT_MAX + lo - t + n32]
        for q in range(n32):
            out[q] = min(out[q], np.int16(min(right[q], left[q]) + t2))
    for q in range(hi - lo + 1):
        g_row[lo + q] = out[q]
    return True


@njit(cache=True, error_model="numpy")
def _edt_sq(cls, mask, want, r0, c0, h, w, cap):
    """Squared distance from every pixel of a region to the nearest feature pixel.

    Separable transform: column distances are swept row by row (both passes walk memory
    contiguously), then each row takes the lower envelope of parabolas. The envelope's
    intersections are kept as exact fractions (numerator, denominator) and compared by
    cross-multiplication, so the sweep has no division and no rounding. A row whose
    column distances are all at most ``_SHIFT_MAX`` (every row of a lesion up to ~128
    blocks across) takes the same exact minimum over shifts instead
    (:func:`_shifted_minimum`), which vectorises.

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
    # the shifted-minimum path: a row's squared column distances at [_SHIFT_MAX + c], padded
    # either side (the pads never change), and the minima of its non-feature span
    sq = np.empty(w + 2 * _SHIFT_MAX + 32, dtype=np.int16)
    for c in range(sq.shape[0]):
        sq[c] = _SQ_PAD
    low = np.empty(w + 32, dtype=np.int16)
    for r in range(h):
        g_row = g[r]
        if _shifted_minimum(g_row, w, big, sq, low):
            continue
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

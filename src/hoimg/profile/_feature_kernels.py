"""Numba kernel of the radial-profile features (definitions in :mod:`hoimg.profile.radial`).

Called at the end of :func:`hoimg.profile._kernels._profile_batch`.

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`); each has
a plain-NumPy twin in ``tests/profile/_profile_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --------------------------------------------------------------------------------------
# profile features (see hoimg.profile.radial for their definitions)
# --------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _spearman(x, y):
    """Spearman rank correlation; NaN for fewer than 3 points or a constant input.

    Ties get their average rank. Ranks are counted pairwise (n is the number of radial
    bins, about ten): no sort, which keeps the compiled code small.
    """
    n = x.shape[0]
    if n < 3:
        return np.nan
    rx = np.empty(n, dtype=np.float64)
    ry = np.empty(n, dtype=np.float64)
    for i in range(n):
        lx = 0
        ex = 0
        ly = 0
        ey = 0
        for j in range(n):
            if x[j] < x[i]:
                lx += 1
            elif x[j] == x[i]:
                ex += 1
            if y[j] < y[i]:
                ly += 1
            elif y[j] == y[i]:
                ey += 1
        # a tie group of e values after l smaller ones holds ranks l .. l + e - 1
        rx[i] = lx + 0.5 * (ex - 1)
        ry[i] = ly + 0.5 * (ey - 1)
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += rx[i]
        my += ry[i]
    mx /= n
    my /= n
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for i in range(n):
        sxy += (rx[i] - mx) * (ry[i] - my)
        sxx += (rx[i] - mx) ** 2
        syy += (ry[i] - my) ** 2
    den = np.sqrt(sxx * syy)
    return sxy / den if den > 0 else np.nan


@njit(cache=True, error_model="numpy")
def _offset_chord(e, w, e_max, delta, b):
    """Bin ``b``'s chord of the outline ``delta`` blocks outside the mask, at its
    quadrature nodes ``e[b]`` with weights ``w[b]`` (see :func:`_shape_index`)."""
    acc = 0.0
    for k in range(e.shape[1]):
        ed = e[b, k] + delta
        acc += w[b, k] * np.sqrt(ed * (2.0 * (e_max + delta) - ed))
    return acc


@njit(cache=True, error_model="numpy")
def _scaled_ref(ref_sums, e, w, own, e_max, delta, b):
    """Bin ``b``'s chord sum for the outline ``delta`` blocks outside the mask: the mask's
    own sum scaled by the offset outline's chord over the mask's (unscaled for no offset
    or a bin without chord, where the nodes are not read)."""
    if delta == 0.0 or own[b] <= 0.0:
        return ref_sums[b]
    return ref_sums[b] * (_offset_chord(e, w, e_max, delta, b) / own[b])


@njit(cache=True, error_model="numpy")
def _chord_nodes(n_bins, e_max):
    """Quadrature nodes ``e`` (n_bins, 8), weights ``w`` and the mask's own chord per bin:
    8 distances per bin, weighted by a disc's circumference ``d_max - d`` there."""
    d_max = e_max + 0.5
    e = np.empty((n_bins, 8))
    w = np.empty((n_bins, 8))
    own = np.empty(n_bins)
    for b in range(n_bins):
        acc = 0.0
        for k in range(8):
            d = (1.0 - (b + (k + 0.5) / 8.0) / n_bins) * d_max
            e[b, k] = max(d - 0.5, 0.0)
            w[b, k] = d_max - d
            a = e[b, k] * (2.0 * e_max - e[b, k])
            if a > 0.0:
                acc += w[b, k] * np.sqrt(a)
        own[b] = acc
    return e, w, own


@njit(cache=True, error_model="numpy")
def _edge_core_ratio(ref_sums, cnt, e, w, own, e_max, delta, s, core_end):
    """Edge-bin over core mean of the offset outline's chord (:func:`_shape_index`)."""
    n_bins = cnt.shape[0]
    ref_core = 0.0
    n_core = 0
    for b in range(n_bins):
        if s[b] <= core_end:
            ref_core += _scaled_ref(ref_sums, e, w, own, e_max, delta, b)
            n_core += cnt[b]
    last = n_bins - 1
    return _scaled_ref(ref_sums, e, w, own, e_max, delta, last) / cnt[last] / (ref_core / n_core)


@njit(cache=True, error_model="numpy")
def _shape_index(values, cnt, ref_sums, e_max, core_end):
    """Shape index of one profile: the outer half against the core, each over the chord of
    the uniform body that the mask cuts at the measured edge level (see
    :mod:`hoimg.profile.radial`). NaN without a core, an outer half or a positive core.

    ``values`` and ``cnt`` are the bin means and pixel counts, ``ref_sums`` the chord sums
    of the mask's own outline, ``e_max`` the deepest ``e = d - 1/2`` (blocks). A bin's
    chord sum is scaled by the offset outline's chord over the mask's own, each averaged
    over the bin's distances as a disc holds them (:func:`_chord_nodes`).
    """
    n_bins = cnt.shape[0]
    s = (np.arange(n_bins) + 0.5) / n_bins
    last = n_bins - 1
    core_sum = 0.0
    n_core = 0
    mid_sum = 0.0
    n_mid = 0
    for b in range(n_bins):
        if cnt[b] == 0:
            return np.nan
        if s[b] <= core_end:
            core_sum += values[b] * cnt[b]
            n_core += cnt[b]
        elif s[b] >= 0.5 and b < last:
            mid_sum += values[b] * cnt[b]
            n_mid += cnt[b]
    if n_core == 0 or n_mid == 0 or not e_max > 0.0 or not core_sum > 0.0:
        return np.nan
    target = values[last] / (core_sum / n_core)
    # the offset whose chord falls from the core to the edge bin as the data do; the ratio
    # rises with the offset towards 1 (a flat chord), so a rim denser than the core takes
    # the largest offset, and an edge below the mask's own chord none (and no nodes)
    e = np.empty((0, 8))
    w = np.empty((0, 8))
    own = np.empty(0)
    delta = 0.0
    if target > _edge_core_ratio(ref_sums, cnt, e, w, own, e_max, 0.0, s, core_end):
        e, w, own = _chord_nodes(n_bins, e_max)
        lo = 0.0
        hi = 50.0 * e_max
        if _edge_core_ratio(ref_sums, cnt, e, w, own, e_max, hi, s, core_end) > target:
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if _edge_core_ratio(ref_sums, cnt, e, w, own, e_max, mid, s, core_end) < target:
                    lo = mid
                else:
                    hi = mid
        delta = hi
    ref_core = 0.0
    ref_mid = 0.0
    for b in range(n_bins):
        if s[b] <= core_end:
            ref_core += _scaled_ref(ref_sums, e, w, own, e_max, delta, b)
        elif s[b] >= 0.5 and b < last:
            ref_mid += _scaled_ref(ref_sums, e, w, own, e_max, delta, b)
    if not (ref_core > 0.0 and ref_mid > 0.0):
        return np.nan
    x = max(mid_sum / ref_mid, 0.0)
    y = core_sum / ref_core
    return (x - y) / (x + y)


@njit(cache=True, error_model="numpy")
def _lesion_features(sums, counts, ref_sums, stats, rim_start, core_end, rim_sigma,
                     min_pixels_per_bin, out):
    """The scalar features of one profile into ``out`` (8,): see :func:`_profile_features`
    (``sums``, ``counts`` (n_sectors, n_bins), ``ref_sums`` (n_bins,), ``stats`` (11,))."""
    n_sec, n_bins = sums.shape
    for i in range(8):
        out[i] = np.nan
    s = (np.arange(n_bins) + 0.5) / n_bins
    bg = stats[0]
    noise = stats[1]
    cnt = np.zeros(n_bins, dtype=np.int64)
    tot = np.zeros(n_bins)
    for k in range(n_sec):
        for b in range(n_bins):
            cnt[b] += counts[k, b]
            tot[b] += sums[k, b]
    n_px = cnt.sum()
    few = n_px < min_pixels_per_bin * n_bins or np.isnan(bg)
    values = np.full(n_bins, np.nan)
    for b in range(n_bins):
        if cnt[b] == 0:
            few = True
        else:
            values[b] = tot[b] / cnt[b]
    out[6] = 1.0 if few else 0.0
    # peak position with parabolic refinement
    kbest = -1
    for b in range(n_bins):
        if not np.isnan(values[b]) and (kbest < 0 or values[b] > values[kbest]):
            kbest = b
    if kbest >= 0:
        pos = s[kbest]
        if 0 < kbest < n_bins - 1:
            va = values[kbest - 1]
            vb = values[kbest]
            vc = values[kbest + 1]
            if not (np.isnan(va) or np.isnan(vc)):
                den = va - 2.0 * vb + vc
                if den < 0:
                    pos += 0.5 * (va - vc) / den * (s[1] - s[0])
        out[0] = min(max(pos, 0.0), 1.0)
    # zones
    n_rim = 0
    n_core = 0
    rim_sum = 0.0
    core_sum = 0.0
    ref_rim = 0.0
    ref_core = 0.0
    for b in range(n_bins):
        if s[b] >= rim_start:
            n_rim += cnt[b]
            rim_sum += tot[b]
            ref_rim += ref_sums[b]
        if s[b] <= core_end:
            n_core += cnt[b]
            core_sum += tot[b]
            ref_core += ref_sums[b]
    if n_rim > 0 and n_core > 0 and not np.isnan(bg):
        rim_mean = rim_sum / n_rim
        core_mean = core_sum / n_core
        peak_abs = 0.0
        for b in range(n_bins):
            if not np.isnan(values[b]) and abs(values[b]) > peak_abs:
                peak_abs = abs(values[b])
        se_core = noise / np.sqrt(n_core) if not np.isnan(noise) else 0.0
        floor = max(2.0 * se_core, 0.02 * peak_abs, 1e-12)
        out[1] = rim_mean / max(core_mean, floor)
        ref_rim /= n_rim
        ref_core /= n_core
        x = max(rim_mean, 0.0) / ref_rim if ref_rim > 0 else 0.0
        y = max(core_mean, 0.0) / ref_core if ref_core > 0 else 0.0
        out[2] = (x - y) / (x + y) if x + y > 0 else 0.0
        # rim continuity: per sector, outer-half maximum against the core mean
        if not np.isnan(noise):
            hits = 0
            for k in range(n_sec):
                best = -np.inf
                best_n = 0
                for b in range(n_bins):
                    if s[b] >= 0.5 and counts[k, b] > 0:
                        v = sums[k, b] / counts[k, b]
                        if v > best:
                            best = v
                            best_n = counts[k, b]
                if best_n > 0:
                    se = noise * np.sqrt(1.0 / best_n + 1.0 / n_core)
                    if best - core_mean > rim_sigma * se:
                        hits += 1
            out[3] = hits / n_sec
    if stats[4] > 0:
        out[4] = stats[3] / stats[4]
    m = 0
    for b in range(n_bins):
        if not np.isnan(values[b]):
            m += 1
    xs = np.empty(m)
    ys = np.empty(m)
    j = 0
    for b in range(n_bins):
        if not np.isnan(values[b]):
            xs[j] = s[b]
            ys[j] = values[b]
            j += 1
    out[5] = _spearman(xs, ys)
    if not np.isnan(bg) and stats[10] > 0:
        out[7] = _shape_index(values, cnt, ref_sums, stats[2] / stats[10] - 0.5, core_end)


@njit(cache=True, error_model="numpy")
def _zonal_pattern(peak, zonal, shape, band, shape_band, rim_peak_min):
    """The zonal pattern (see :mod:`hoimg.profile.radial`) as a code, the index into
    :data:`hoimg.profile.results.ZONAL_PATTERNS`.

    A shape index of at least ``shape_band`` is 0 "peripheral", of at most
    ``-shape_band`` 1 "central". Within that band (or when it is NaN) the zonal index
    decides: 0 "peripheral" from ``band``, or from half of it when the profile peaks at
    ``s >= rim_peak_min`` (a projected rim, which no uniform body makes), 1 "central" at
    ``-band`` or below, else 2 "uniform" (NaN included). An infinite ``shape_band`` leaves
    the zonal index alone.

    The one definition of the rule: the profile kernel decides regrowth with it and
    returns its codes, which :func:`hoimg.profile.radial.profiles_from_batch` reports.
    """
    if np.isfinite(shape) and shape >= shape_band:
        return 0
    if np.isfinite(shape) and shape <= -shape_band:
        return 1
    rim_peak = np.isfinite(peak) and peak >= rim_peak_min
    if np.isfinite(zonal) and (zonal >= band or (rim_peak and zonal >= 0.5 * band)):
        return 0
    if np.isfinite(zonal) and zonal <= -band:
        return 1
    return 2


@njit(cache=True, error_model="numpy")
def _profile_features(sums, counts, ref_sums, stats, rim_start, core_end, rim_sigma,
                      min_pixels_per_bin):
    """Scalar features of many profiles at once.

    Parameters
    ----------
    sums, counts : (L, n_sectors, n_bins) ndarray
    ref_sums : (L, n_bins) ndarray
    stats : (L, 11) ndarray
        As filled by :func:`hoimg.profile._kernels._profile_lesion` (background, noise,
        ...); the sums are already background-subtracted.
    rim_start, core_end : float
        Bins whose centre is >= rim_start form the rim, <= core_end the core.
    rim_sigma : float
        Rim-continuity threshold in standard errors.
    min_pixels_per_bin : int
        Fewer pixels than this times n_bins (or any empty bin) sets the few-pixels flag.

    Returns
    -------
    (L, 8) float64 ndarray
        peak_position, rim_core_ratio, zonal_index, rim_continuity, gradient_index,
        spearman_rho, few_pixels (0 or 1), shape_index.
    """
    n_les = sums.shape[0]
    out = np.empty((n_les, 8))
    for li in range(n_les):
        _lesion_features(sums[li], counts[li], ref_sums[li], stats[li], rim_start, core_end,
                         rim_sigma, min_pixels_per_bin, out[li])
    return out

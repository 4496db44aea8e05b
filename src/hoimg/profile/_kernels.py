"""Numba kernels of the radial profile (the cleft and feature kernels have their own modules).

Pure ``@njit(cache=True)`` functions of arrays and scalars: no hoimg imports, no globals,
no I/O. The public wrappers in :mod:`hoimg.profile.radial` and :mod:`hoimg.profile.cleft`
validate and convert their inputs once (C-contiguous float32 images, int32 labels and
masks, float64 geometry) so each kernel compiles to one specialisation.

Every kernel has a plain-NumPy twin in ``tests/profile/`` that it matches within 1e-6.

Conventions: images are indexed (row, col); a "window" is ``(r0, c0, r1, c1)``,
end-exclusive; distances are in pixels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --------------------------------------------------------------------------------------
# exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012)
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _edt_1d(f, n, d, v, z):
    """Lower envelope of parabolas: d[q] = min_p (q - p)^2 + f[p] for q < n."""
    inf = 1e30
    k = 0
    # first finite sample starts the envelope; all-inf lines stay inf
    start = -1
    for q in range(n):
        if f[q] < inf:
            start = q
            break
    if start < 0:
        for q in range(n):
            d[q] = inf
        return
    v[0] = start
    z[0] = -inf
    z[1] = inf
    for q in range(start + 1, n):
        if f[q] >= inf:
            continue
        while True:
            p = v[k]
            s = ((f[q] + q * q) - (f[p] + p * p)) / (2.0 * q - 2.0 * p)
            if s <= z[k]:
                k -= 1
                if k < 0:
                    break
            else:
                break
        k += 1
        v[k] = q
        z[k] = s if k > 0 else -inf
        z[k + 1] = inf
    k = 0
    for q in range(n):
        while z[k + 1] < q:
            k += 1
        p = v[k]
        d[q] = (q - p) * (q - p) + f[p]


@njit(cache=True)
def _edt_sq(feature):
    """Squared distance from every pixel to the nearest nonzero pixel of ``feature``.

    Meijster-style separable transform: the column distances are swept row by row (both
    passes walk memory contiguously), then each row takes the lower envelope of parabolas.

    Parameters
    ----------
    feature : (H, W) uint8 ndarray
        Nonzero marks feature pixels.

    Returns
    -------
    (H, W) float64 ndarray
        Exact squared Euclidean distances in pixel units (integers stored as float64);
        1e30 everywhere if there is no feature pixel.
    """
    h, w = feature.shape
    inf = 1e30
    big = h + w + 1  # larger than any in-image column distance
    g = np.empty((h, w), dtype=np.int64)
    for c in range(w):
        g[0, c] = 0 if feature[0, c] != 0 else big
    for r in range(1, h):
        for c in range(w):
            if feature[r, c] != 0:
                g[r, c] = 0
            else:
                v = g[r - 1, c] + 1
                g[r, c] = v if v < big else big
    for r in range(h - 2, -1, -1):
        for c in range(w):
            v = g[r + 1, c] + 1
            if v < g[r, c]:
                g[r, c] = v
    out = np.empty((h, w), dtype=np.float64)
    f = np.empty(w, dtype=np.float64)
    d = np.empty(w, dtype=np.float64)
    v = np.empty(w, dtype=np.int64)
    z = np.empty(w + 1, dtype=np.float64)
    for r in range(h):
        for c in range(w):
            gv = g[r, c]
            f[c] = inf if gv >= big else float(gv * gv)
        _edt_1d(f, w, d, v, z)
        for c in range(w):
            out[r, c] = d[c] if d[c] < inf else inf
    return out


# --------------------------------------------------------------------------------------
# radial profile of one lesion
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _diamond_angle(dr, dc):
    """Monotonic stand-in for atan2(dr, dc) mapped to [0, 4); exact, and ~10x cheaper."""
    if dr == 0.0 and dc == 0.0:
        return 0.0
    if dr >= 0.0:
        if dc >= 0.0:
            return dr / (dc + dr)
        return 1.0 - dc / (-dc + dr)
    if dc < 0.0:
        return 2.0 - dr / (-dc - dr)
    return 3.0 + dc / (dc - dr)


@njit(cache=True)
def _strided_median(values, n, max_samples):
    """Median of every ``ceil(n / max_samples)``-th of ``values[:n]`` (raster order).

    A median of ~1000 evenly spread band pixels is within a few hundredths of a noise
    sigma of the full one, at a fraction of the cost.
    """
    stride = (n + max_samples - 1) // max_samples
    m = (n + stride - 1) // stride
    sub = np.empty(m, dtype=np.float64)
    for i in range(m):
        sub[i] = values[i * stride]
    return np.median(sub)


@njit(cache=True)
def _solve3(m, v):
    """Solve the 3x3 system m x = v by Cramer's rule; None-like (all NaN) if singular."""
    det = (m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
           - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
           + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]))
    out = np.full(3, np.nan)
    scale = abs(m[0, 0] * m[1, 1] * m[2, 2])
    if scale <= 0.0 or abs(det) <= 1e-9 * scale:
        return out
    for k in range(3):
        t = m.copy()
        for i in range(3):
            t[i, k] = v[i]
        out[k] = (t[0, 0] * (t[1, 1] * t[2, 2] - t[1, 2] * t[2, 1])
                  - t[0, 1] * (t[1, 0] * t[2, 2] - t[1, 2] * t[2, 0])
                  + t[0, 2] * (t[1, 0] * t[2, 1] - t[1, 1] * t[2, 0])) / det
    return out


@njit(cache=True)
def _radial_profile_window(
    image,
    labels,
    label_id,
    exclude,
    r0,
    c0,
    r1,
    c1,
    band_inner_px,
    band_outer_px,
    n_bins,
    n_sectors,
    sector_edges,
    max_samples,
    f,
    grow_sigma,
):
    """Background-subtracted radial profile sums of one lesion inside a window.

    Large lesions are profiled on f x f block means (the caller chooses f, see
    :func:`hoimg.profile.radial.block_factor`): ten radial bins need nowhere near every
    pixel of a 500-pixel lesion, and the cost falls by f^2. Block values are block means;
    a block's class (lesion, other lesion, excluded) is that of its centre pixel
    ``(f // 2, f // 2)`` (nearest-neighbour downsampling of the masks).

    Parameters
    ----------
    image : (M, N) float32 ndarray
    labels : (M, N) int32 ndarray
        The lesion is ``labels == label_id``; other nonzero labels are other lesions and
        are left out of the background band.
    exclude : (M, N) int32 ndarray, or (1, 1) to exclude nothing
        Nonzero pixels (e.g. bone) are left out of the background band and of the profile,
        and a lesion's contact with them is not its boundary (an attached lesion's base
        is not its rim).
    r0, c0, r1, c1 : int
        Window (end-exclusive) containing the lesion and its background band. Pixels
        outside the window count as non-lesion.
    band_inner_px, band_outer_px : float
        The background band is the non-lesion pixels at distance d from the lesion with
        ``band_inner_px < d <= band_outer_px`` (full-resolution pixels).
    n_bins, n_sectors : int
    sector_edges : (n_sectors + 1,) float64 ndarray
        Sector boundaries in :func:`_diamond_angle` units, increasing from 0 to 4.
    max_samples : int
        The band median and MAD and the noise MAD use every ``ceil(n / max_samples)``-th
        of the n band values (or neighbour differences) in raster order.
    f : int
        Block size (1 = full resolution).
    grow_sigma : float
        If > 0, the lesion support is grown once after the first measurement: blocks
        4-connected to it (not excluded, not another lesion) whose value exceeds the
        background plane by more than ``grow_sigma`` times the block noise (pixel noise
        / f) join it, and everything is measured again on the grown support. A mask cut
        at a high iso-level (a segmentation that loses a lesion's faint margin) would
        otherwise make any centre-dense lesion read as uniform. 0 disables.

    Returns
    -------
    sums : (n_sectors, n_bins) float64
        Sum of background-subtracted values per sector and bin, in full-resolution pixel
        units (a block counts f^2 times). The background is a plane fitted by least
        squares to the band values within 3 robust sigmas of the band median (the median
        itself when the band cannot fix a plane).
    counts : (n_sectors, n_bins) int64
        Full-resolution pixels per sector and bin (f^2 per block).
    ref_sums : (n_bins,) float64
        Sum over the bin of the uniform-body chord ``sqrt(e (2 e_max - e))``, ``e = d - 1/2``
        in block units (see :mod:`hoimg.profile.radial`), weighted like ``counts``.
    stats : (11,) float64
        background at the centroid, noise sigma per full-resolution pixel (robust, from
        horizontal neighbour differences in the band; for f > 1 in the first pixel row
        of each band block), d_max (full-resolution px),
        gradient-index numerator and denominator, centroid row and col, number of band
        values in the fit, background slope per pixel along rows and along cols, block
        factor f. All NaN (f aside) when the lesion has no pixel outside ``exclude``.
    """
    rows = labels.shape[0]
    cols = labels.shape[1]
    use_exclude = exclude.shape[0] == rows and exclude.shape[1] == cols
    sums = np.zeros((n_sectors, n_bins), dtype=np.float64)
    counts = np.zeros((n_sectors, n_bins), dtype=np.int64)
    ref_sums = np.zeros(n_bins, dtype=np.float64)
    stats = np.full(11, np.nan)
    h = r1 - r0
    w = c1 - c0
    stats[10] = f
    ff = f * f
    hh = (h + f - 1) // f
    ww = (w + f - 1) // f
    # block means and block classes; `inside` carries a one-block non-lesion border
    img = np.zeros((hh, ww), dtype=np.float64)
    inside = np.zeros((hh + 2, ww + 2), dtype=np.uint8)
    other = np.zeros((hh, ww), dtype=np.uint8)
    excl = np.zeros((hh, ww), dtype=np.uint8)
    if f == 1:  # plain copy: the common case of small lesions, kept free of block loops
        for r in range(h):
            for c in range(w):
                v = labels[r0 + r, c0 + c]
                img[r, c] = image[r0 + r, c0 + c]
                if v == label_id:
                    inside[r + 1, c + 1] = 1
                elif v != 0:
                    other[r, c] = 1
                if use_exclude and exclude[r0 + r, c0 + c] != 0:
                    excl[r, c] = 1
    else:
        # block means stream the rows (each block's run of f pixels summed in a register);
        # block classes come from the block's centre pixel (nearest-neighbour
        # downsampling of the masks: a quarter or a sixteenth of the label reads)
        full = w // f  # blocks with all f columns inside the window
        for r in range(h):
            br = r // f
            rr = r0 + r
            if f == 2:  # the common factors get straight-line inner code
                for bc in range(full):
                    c = c0 + 2 * bc
                    img[br, bc] += image[rr, c] + image[rr, c + 1]
            elif f == 4:
                for bc in range(full):
                    c = c0 + 4 * bc
                    img[br, bc] += (image[rr, c] + image[rr, c + 1]) + (
                        image[rr, c + 2] + image[rr, c + 3])
            else:
                for bc in range(full):
                    acc = 0.0
                    for c in range(c0 + bc * f, c0 + bc * f + f):
                        acc += image[rr, c]
                    img[br, bc] += acc
            for bc in range(full, ww):
                acc = 0.0
                for c in range(c0 + bc * f, c0 + w):
                    acc += image[rr, c]
                img[br, bc] += acc
        for br in range(hh):
            nr_ = min(f, h - br * f)
            rr = r0 + br * f + min(f // 2, nr_ - 1)
            for bc in range(ww):
                nc_ = min(f, w - bc * f)
                img[br, bc] /= nr_ * nc_
                cc = c0 + bc * f + min(f // 2, nc_ - 1)
                v = labels[rr, cc]
                if v == label_id:
                    inside[br + 1, bc + 1] = 1
                elif v != 0:
                    other[br, bc] = 1
                if use_exclude and exclude[rr, cc] != 0:
                    excl[br, bc] = 1
    for it in range(2):
        n_px = 0
        sum_r = 0.0
        sum_c = 0.0
        tr0 = hh
        tc0 = ww
        tr1 = -1
        tc1 = -1
        for br in range(hh):
            for bc in range(ww):
                if inside[br + 1, bc + 1] != 0:
                    tr0 = min(tr0, br)
                    tr1 = max(tr1, br)
                    tc0 = min(tc0, bc)
                    tc1 = max(tc1, bc)
                    if excl[br, bc] == 0:
                        n_px += 1
                        sum_r += br
                        sum_c += bc
        if n_px == 0:
            return sums, counts, ref_sums, stats
        cen_r = sum_r / n_px  # block coordinates
        cen_c = sum_c / n_px
        # inside distances only over the lesion's tight box plus a border; the boundary is
        # every non-lesion block that is not excluded (outside the window counts as boundary)
        th = tr1 - tr0 + 1
        tw = tc1 - tc0 + 1
        feat = np.zeros((th + 2, tw + 2), dtype=np.uint8)
        n_feat = 0
        for r in range(th + 2):
            wr = r + tr0 - 1
            for c in range(tw + 2):
                wc = c + tc0 - 1
                if inside[wr + 1, wc + 1] != 0:
                    continue
                if 0 <= wr < hh and 0 <= wc < ww and excl[wr, wc] != 0:
                    continue
                feat[r, c] = 1
                n_feat += 1
        if n_feat == 0:  # wholly surrounded by excluded blocks: fall back to the plain mask
            for r in range(th + 2):
                for c in range(tw + 2):
                    feat[r, c] = 1 - inside[r + tr0, c + tc0]
        d_in = _edt_sq(feat)  # d_in[r + ir, c + ic] for block (r, c)
        d_out = _edt_sq(inside)  # d_out[r + 1, c + 1]
        ir = 1 - tr0
        ic = 1 - tc0

        q_max = 0.0
        for r in range(tr0, tr1 + 1):
            for c in range(tc0, tc1 + 1):
                if inside[r + 1, c + 1] != 0 and excl[r, c] == 0 and d_in[r + ir, c + ic] > q_max:
                    q_max = d_in[r + ir, c + ic]
        d_max = np.sqrt(q_max)
        # bin lookup on integer squared distances, so every implementation bins identically;
        # the square roots are tabulated too (one table read instead of six sqrt per pixel).
        # The tables cover every distance in d_in: gradient neighbours may be excluded blocks
        # deeper than any profiled one.
        q_top = q_max
        for r in range(th + 2):
            for c in range(tw + 2):
                if d_in[r, c] > q_top:
                    q_top = d_in[r, c]
        n_q = int(q_top) + 1
        lut = np.empty(n_q, dtype=np.int64)
        ref_lut = np.empty(n_q, dtype=np.float64)
        sqrt_lut = np.empty(n_q, dtype=np.float64)
        e_max = d_max - 0.5
        for q in range(n_q):
            d = np.sqrt(q)
            sqrt_lut[q] = d
            k = int((1.0 - d / d_max) * n_bins) if q <= q_max else 0
            if k >= n_bins:
                k = n_bins - 1
            if k < 0:
                k = 0
            lut[q] = k
            e = d - 0.5
            if e < 0.0:
                e = 0.0
            p = e * (2.0 * e_max - e)
            ref_lut[q] = np.sqrt(p) if p > 0.0 else 0.0

        # background band: 2 = usable, 1 = excluded (used only when nothing else is left)
        bval = np.empty(hh * ww, dtype=np.float64)
        in_band = np.zeros((hh, ww), dtype=np.uint8)
        in2 = (band_inner_px / f) ** 2
        out2 = (band_outer_px / f) ** 2
        n_band = 0
        n_any = 0
        for r in range(hh):
            for c in range(ww):
                if inside[r + 1, c + 1] != 0 or other[r, c] != 0:
                    continue
                q = d_out[r + 1, c + 1]
                if q > in2 and q <= out2:
                    n_any += 1
                    if excl[r, c] != 0:
                        in_band[r, c] = 1
                        continue
                    in_band[r, c] = 2
                    bval[n_band] = img[r, c]
                    n_band += 1
        use_level = 2
        if n_band == 0 and n_any > 0:
            use_level = 1
            for r in range(hh):
                for c in range(ww):
                    if in_band[r, c] == 1:
                        bval[n_band] = img[r, c]
                        n_band += 1
        if n_band == 0:
            return sums, counts, ref_sums, stats
        med = _strided_median(bval, n_band, max_samples)
        for i in range(n_band):
            bval[i] = abs(bval[i] - med)
        tol = 3.0 * 1.482602218505602 * _strided_median(bval, n_band, max_samples)
        # least-squares plane through the inlying band values, in units of d_max about the
        # centroid (keeps the normal equations well conditioned)
        scale = d_max if d_max > 1.0 else 1.0
        m = np.zeros((3, 3))
        v = np.zeros(3)
        n_fit = 0
        for r in range(hh):
            for c in range(ww):
                if in_band[r, c] != use_level and not (use_level == 1 and in_band[r, c] == 2):
                    continue
                val = img[r, c]
                if abs(val - med) > tol:
                    continue
                x = (r - cen_r) / scale
                y = (c - cen_c) / scale
                m[0, 0] += 1.0
                m[0, 1] += x
                m[0, 2] += y
                m[1, 1] += x * x
                m[1, 2] += x * y
                m[2, 2] += y * y
                v[0] += val
                v[1] += x * val
                v[2] += y * val
                n_fit += 1
        m[1, 0] = m[0, 1]
        m[2, 0] = m[0, 2]
        m[2, 1] = m[1, 2]
        plane = _solve3(m, v) if n_fit >= 10 else np.full(3, np.nan)
        if np.isnan(plane[0]):
            plane[0] = med
            plane[1] = 0.0
            plane[2] = 0.0
        pa = plane[0]
        pr = plane[1] / scale  # per block
        pc = plane[2] / scale
        # robust noise per full-resolution pixel: MAD of horizontal neighbour differences of
        # pixel pairs whose blocks are both in the band
        diffs = np.empty(n_any * f, dtype=np.float64)
        n_diff = 0
        for br in range(hh):
            for bc in range(ww):
                if in_band[br, bc] == 0:
                    continue
                r = br * f
                for c in range(bc * f, min(bc * f + f, w - 1)):
                    if in_band[br, (c + 1) // f] != 0:
                        diffs[n_diff] = image[r0 + r, c0 + c + 1] - image[r0 + r, c0 + c]
                        n_diff += 1
        if n_diff > 0:
            stride = (n_diff + max_samples - 1) // max_samples
            nd = (n_diff + stride - 1) // stride
            for i in range(nd):
                diffs[i] = diffs[i * stride]
            dmed = np.median(diffs[:nd])
            for i in range(nd):
                diffs[i] = abs(diffs[i] - dmed)
            stats[1] = 1.482602218505602 * np.median(diffs[:nd]) / np.sqrt(2.0)
        if it == 1 or not grow_sigma > 0.0 or not stats[1] > 0.0:
            break
        # grow the support: blocks 4-connected to the lesion that stand more than
        # grow_sigma block-noise sigmas above the background plane join it (a mask cut at a
        # high iso-level would read any centre-dense lesion as uniform), then measure again
        thr = grow_sigma * stats[1] / f
        queue = np.empty(hh * ww, dtype=np.int64)
        nq = 0
        for r in range(hh):
            for c in range(ww):
                if inside[r + 1, c + 1] != 0:
                    queue[nq] = r * ww + c
                    nq += 1
        head = 0
        added = 0
        while head < nq:
            p = queue[head]
            head += 1
            r = p // ww
            c = p - r * ww
            for k in range(4):
                rn = r + 1 if k == 0 else (r - 1 if k == 1 else r)
                cn = c + 1 if k == 2 else (c - 1 if k == 3 else c)
                if rn < 0 or cn < 0 or rn >= hh or cn >= ww:
                    continue
                if inside[rn + 1, cn + 1] != 0 or other[rn, cn] != 0 or excl[rn, cn] != 0:
                    continue
                if img[rn, cn] - (pa + pr * (rn - cen_r) + pc * (cn - cen_c)) <= thr:
                    continue
                inside[rn + 1, cn + 1] = 1
                queue[nq] = rn * ww + cn
                nq += 1
                added += 1
        if added == 0:
            break

    g_num = 0.0
    g_den = 0.0
    for r in range(tr0, tr1 + 1):
        for c in range(tc0, tc1 + 1):
            if inside[r + 1, c + 1] == 0 or excl[r, c] != 0:
                continue
            q = int(d_in[r + ir, c + ic])
            k = lut[q]
            a = _diamond_angle(r - cen_r, c - cen_c)
            sec = np.searchsorted(sector_edges, a, side="right") - 1
            if sec > n_sectors - 1:
                sec = n_sectors - 1
            sums[sec, k] += ff * (img[r, c] - (pa + pr * (r - cen_r) + pc * (c - cen_c)))
            counts[sec, k] += ff
            ref_sums[k] += ff * ref_lut[q]
            # signed radial gradient index: the background-free gradient projected on the
            # outward direction, which is minus the gradient of the inside distance
            if 0 < r < hh - 1 and 0 < c < ww - 1:
                gr = 0.5 * (img[r + 1, c] - img[r - 1, c]) - pr
                gc = 0.5 * (img[r, c + 1] - img[r, c - 1]) - pc
                rd = r + ir
                cd = c + ic
                nr = -0.5 * (sqrt_lut[int(d_in[rd + 1, cd])] - sqrt_lut[int(d_in[rd - 1, cd])])
                nc = -0.5 * (sqrt_lut[int(d_in[rd, cd + 1])] - sqrt_lut[int(d_in[rd, cd - 1])])
                nn = np.sqrt(nr * nr + nc * nc)
                g_den += np.sqrt(gr * gr + gc * gc)
                if nn > 1e-9:
                    g_num += (gr * nr + gc * nc) / nn
    stats[0] = pa
    stats[2] = d_max * f
    stats[3] = g_num
    stats[4] = g_den
    stats[5] = r0 + f * cen_r + 0.5 * (f - 1)
    stats[6] = c0 + f * cen_c + 0.5 * (f - 1)
    stats[7] = n_fit
    stats[8] = pr / f
    stats[9] = pc / f
    return sums, counts, ref_sums, stats


@njit(cache=True)
def _radial_profile_batch(
    image,
    labels,
    label_ids,
    exclude,
    windows,
    band_inner_px,
    band_outer_px,
    n_bins,
    n_sectors,
    sector_edges,
    max_samples,
    blocks,
    grow_sigma,
):
    """:func:`_radial_profile_window` for many lesions of one image in one call.

    ``label_ids`` (L,) int32, ``windows`` (L, 4) int64 and ``blocks`` (L,) int64 (block
    factor per lesion); outputs are stacked along a first axis of length L.
    """
    n = label_ids.shape[0]
    sums = np.zeros((n, n_sectors, n_bins), dtype=np.float64)
    counts = np.zeros((n, n_sectors, n_bins), dtype=np.int64)
    ref_sums = np.zeros((n, n_bins), dtype=np.float64)
    stats = np.full((n, 11), np.nan)
    for i in range(n):
        s, k, rs, st = _radial_profile_window(
            image,
            labels,
            label_ids[i],
            exclude,
            windows[i, 0],
            windows[i, 1],
            windows[i, 2],
            windows[i, 3],
            band_inner_px,
            band_outer_px,
            n_bins,
            n_sectors,
            sector_edges,
            max_samples,
            blocks[i],
            grow_sigma,
        )
        sums[i] = s
        counts[i] = k
        ref_sums[i] = rs
        stats[i] = st
    return sums, counts, ref_sums, stats

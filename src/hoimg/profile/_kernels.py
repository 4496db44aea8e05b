"""Numba kernels of the radial profile: one call measures every lesion of an image.

The distance transform, the median, the features and the cleft scan have their own kernel
modules (:mod:`._edt_kernels`, :mod:`._median_kernels`, :mod:`._feature_kernels`,
:mod:`._cleft_kernels`).

Pure ``@njit(cache=True)`` functions of arrays and scalars: no hoimg imports, no I/O; the
only globals are the block-class bit constants below. The public wrappers in
:mod:`hoimg.profile.radial` and :mod:`hoimg.profile.measure` validate and convert their
inputs once (read-only C-contiguous float32 images, int32 labels and masks, float64
geometry: :func:`hoimg.profile._common.kernel_array`) and both call the one entry point
:func:`_profile_batch`, so it compiles to a single specialisation (a second entry point
would re-optimise the whole per-lesion body: seconds of cold compile each).

Speed notes, measured on ``benchmarks/bench_profile.py``:

* inner loops run over zero-based row views (``a[r, c0:c1]`` then ``row[c]``): Numba then
  drops the negative-index wraparound test and the loops vectorise; an index read from
  an array (a distance, a bin) is cast to an unsigned int where it is known to be >= 0,
  which drops the test too (under a name of its own: Numba unifies a variable that is
  both signed and unsigned to float64);
* reductions over int32 data stay int32 (``np.int32`` casts) and take a select, not a
  branch: Numba widens mixed int32/int64 arithmetic to int64, and either keeps LLVM from
  vectorising them;
* ``error_model="numpy"``: divisions follow IEEE (no ZeroDivisionError branch), which is
  also what lets them vectorise;
* no slice-to-slice array assignment: each compiles Numba's shape-error message
  formatting (seconds of cold compile).

Every kernel has a plain-NumPy twin in ``tests/profile/`` that it matches within 1e-6.

Conventions: images are indexed (row, col); a "window" is ``(r0, c0, r1, c1)``,
end-exclusive; distances are in pixels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._edt_kernels import _EDT_INF, _edt_sq
from ._feature_kernels import _lesion_features, _profile_features, _zonal_pattern
from ._median_kernels import _median
from ._prefetch import _prefetch_row

# Block classes, one uint8 per block (bits): the lesion, another lesion, an excluded (bone)
# block. The background band is kept as lists of blocks, not as class bits.
_INSIDE = 1
_OTHER = 2
_EXCL = 4


@njit(cache=True, error_model="numpy")
def _det3(a, b, c, d, e, f, g, h, i):
    """Determinant of the 3x3 matrix [[a, b, c], [d, e, f], [g, h, i]]."""
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


@njit(cache=True, error_model="numpy")
def _isqrt(x):
    """The largest integer whose square is at most ``x`` (an int >= 0)."""
    r = int(np.sqrt(x))
    while r * r > x:
        r -= 1
    while (r + 1) * (r + 1) <= x:
        r += 1
    return r


# inlined into the lesion kernel (once per dilation and pass)
@njit(cache=True, error_model="numpy", inline="always")
def _dilated_rows(row_lo, row_hi, gap, half, rad, tr0, tr1, r_a, lo, hi, simple):
    """Rows ``r_a .. r_a + len(lo) - 1`` of the lesion dilated by a disc, where each is
    one interval.

    The disc has radius ``rad`` and half-width ``half[dr]`` at row offset ``dr``. Lesion
    row ``rr`` (blocks ``row_lo[rr] .. row_hi[rr]``, -1 for none; longest gap between its
    runs ``gap[rr - tr0]``) widened by ``h`` is the one interval ``[lo - h, hi + h]`` when
    that gap is at most ``2 h``; the widened rows within ``rad`` of a row form one interval
    when each touches the next non-empty one. Lesion row by lesion row, the rows it
    reaches are updated together (vectorised), not band row by band row.

    Outputs, for dilated row ``r_a + i`` (``lo``, ``hi`` and ``simple`` hold ``ww``, -1
    and True on entry): ``lo[i], hi[i]``, its first and last block (unchanged when the row
    is empty; not clipped to the window), and ``simple[i]``, whether it is that one
    interval (else it may have holes, and the caller tests its blocks one by one).
    """
    n_r = lo.shape[0]
    # half-widths by signed offset, hs[pad + rad + dr] = half[|dr|], padded both sides
    # with a width so large that an out-of-reach row never fails the touching test
    far = np.int64(1) << 40
    pad = 2 * rad + 1
    hs = np.empty(2 * pad + 2 * rad + 2, dtype=np.int64)
    for k in range(hs.shape[0]):
        d = k - pad - rad
        hs[k] = half[abs(d)] if abs(d) <= rad else far
    for rr in range(tr0, tr1 + 1):
        if row_hi[rr] < 0:
            continue
        a = row_lo[rr]
        b = row_hi[rr]
        g = gap[rr - tr0]
        nxt = rr + 1  # the next non-empty lesion row (past tr1: none)
        while nxt <= tr1 and row_hi[nxt] < 0:
            nxt += 1
        a1 = row_lo[nxt] if nxt <= tr1 else 0
        b1 = row_hi[nxt] if nxt <= tr1 else 0
        step = min(nxt - rr, pad) if nxt <= tr1 else pad  # pad: never both in reach
        # the dilated rows r = rr + dr, |dr| <= rad, inside r_a .. r_a + n_r - 1
        i_a = max(rr - rad - r_a, 0)
        i_b = min(rr + rad - r_a, n_r - 1)
        m = i_b - i_a + 1
        k0 = pad + rad + (r_a + i_a - rr)  # hs index of the first one's offset
        h_v = hs[k0:k0 + m]
        h1_v = hs[k0 - step:k0 - step + m]  # their offsets from row nxt
        lo_v = lo[i_a:i_a + m]
        hi_v = hi[i_a:i_a + m]
        s_v = simple[i_a:i_a + m]
        for j in range(m):
            h = h_v[j]
            h1 = h1_v[j]
            lo_v[j] = min(lo_v[j], a - h)
            hi_v[j] = max(hi_v[j], b + h)
            s_v[j] &= g <= 2 * h and a1 - h1 <= b + h + 1 and a - h <= b1 + h1 + 1


@njit(cache=True, error_model="numpy")
def _or_of(cls_bytes, n):
    """Bitwise OR of the class bytes ``cls_bytes[:n]``: which classes a row or stretch of
    blocks holds, in a loop that vectorises (a fraction of a per-block test's cost)."""
    acc = np.uint8(0)
    for i in range(n):
        acc |= cls_bytes[i]
    return acc


@njit(cache=True, error_model="numpy", inline="always")
def _put_run(runs, i, r, a, b, n_pairs):
    """Row ``i`` of ``runs`` := (r, a, b, n_pairs): a band run of blocks ``a .. b`` of row r."""
    runs[i, 0] = r
    runs[i, 1] = a
    runs[i, 2] = b
    runs[i, 3] = n_pairs


@njit(cache=True, error_model="numpy")
def _grow_support(cls, img, hh, ww, tr0, tc0, tr1, tc1, pa, pr, pc, cen_r, cen_c, thr):
    """Grow the lesion (``_INSIDE`` blocks of ``cls``, all within rows ``tr0..tr1`` and cols
    ``tc0..tc1``) once into the blocks 4-connected to it (not another lesion, not excluded)
    that stand more than ``thr`` above the background plane ``pa + pr (r - cen_r) + pc (c -
    cen_c)``. Returns the number of blocks added.

    The flood starts from the lesion's border blocks only (a lesion block with a
    non-lesion 4-neighbour): an interior block has nothing to grow into, and the grown set
    does not depend on the order of the flood."""
    queue = np.empty(hh * ww, dtype=np.int64)
    nq = 0
    for r in range(tr0, tr1 + 1):
        c_row = cls[r + 1, tc0 + 1:tc1 + 2]
        c_up = cls[r, tc0 + 1:tc1 + 2]
        c_dn = cls[r + 2, tc0 + 1:tc1 + 2]
        c_lt = cls[r + 1, tc0:tc1 + 1]
        c_rt = cls[r + 1, tc0 + 2:tc1 + 3]
        for j in range(tc1 - tc0 + 1):
            if c_row[j] & _INSIDE and not (c_up[j] & c_dn[j] & c_lt[j] & c_rt[j] & _INSIDE):
                queue[nq] = r * ww + tc0 + j
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
            if cls[rn + 1, cn + 1] & (_INSIDE | _OTHER | _EXCL):
                continue
            if img[rn + 1, cn + 1] - (pa + pr * (rn - cen_r) + pc * (cn - cen_c)) <= thr:
                continue
            cls[rn + 1, cn + 1] |= _INSIDE
            queue[nq] = rn * ww + cn
            nq += 1
            added += 1
    return added


@njit(cache=True, error_model="numpy")
def _exclude_halo(cls, hh, ww, h):
    """Mark as excluded every plain block within ``h`` blocks of an excluded one.

    ``cls`` holds the window's blocks at ``[1:hh + 1, 1:ww + 1]`` (see
    :func:`_profile_lesion`). Within reach means a Euclidean distance of at most ``h``
    blocks (a disc: the exact squared distance transform to the excluded blocks, at most
    ``h**2``). Lesion blocks and other lesions' blocks keep their class. Only the excluded
    blocks' bounding box grown by ``h`` is transformed: most windows hold no bone at all.
    """
    # the excluded blocks' bounding box (a reduction per row, which vectorises), over the
    # rows that hold any (an OR over the row's class bytes tells, at a fraction of the
    # cost: most rows, most windows, hold none)
    r_lo = hh
    r_hi = -1
    c_lo = ww
    c_hi = -1
    for r in range(hh):
        c_row = cls[r + 1, 1:ww + 1]
        if not _or_of(c_row, ww) & _EXCL:
            continue
        first = ww
        last = -1
        for c in range(ww):
            e = (c_row[c] & _EXCL) != 0
            first = min(first, c if e else ww)
            last = max(last, c if e else -1)
        if last >= 0:
            r_lo = min(r_lo, r)
            r_hi = r
            c_lo = min(c_lo, first)
            c_hi = max(c_hi, last)
    if r_hi < 0:
        return
    # every block within reach lies within h of that box
    ra = max(r_lo - h, 0)
    rb = min(r_hi + h + 1, hh)
    ca = max(c_lo - h, 0)
    cb = min(c_hi + h + 1, ww)
    q = _edt_sq(cls, _EXCL, _EXCL, ra + 1, ca + 1, rb - ra, cb - ca, h + 1)
    h2 = h * h
    for r in range(rb - ra):
        c_row = cls[ra + r + 1, 1 + ca:1 + cb]
        q_row = q[r]
        for c in range(cb - ca):
            if q_row[c] <= h2 and (c_row[c] & (_INSIDE | _OTHER)) == 0:
                c_row[c] |= _EXCL


@njit(cache=True, error_model="numpy")
def _profile_lesion(image, labels, label_id, exclude, r0, c0, r1, c1, f, band_inner_px,
                    band_outer_px, n_bins, sector_edges, max_samples, grow_sigma, regrow_sigma,
                    regrow_passes, zonal_band, shape_band, rim_peak_min, rim_start, core_end,
                    rim_sigma, min_pixels_per_bin, exclude_halo_px, sums, counts, ref_sums,
                    stats):
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
    f : int
        Block size (1 = full resolution).
    band_inner_px, band_outer_px : float
        The background band is the non-lesion pixels at distance d from the lesion with
        ``band_inner_px < d <= band_outer_px`` (full-resolution pixels).
    n_bins : int
    sector_edges : (n_sectors + 1,) float64 ndarray
        Sector boundaries in diamond-angle units (a monotone stand-in for the angle, 0..4;
        see :func:`hoimg.profile.radial.sector_edges`), increasing from 0 to 4.
    max_samples : int
        The band median and MAD and the noise MAD use every ``ceil(n / max_samples)``-th
        of the n band values (or neighbour differences) in raster order.
    grow_sigma : float
        If > 0, the lesion support is grown once after the first measurement: blocks
        4-connected to it (not excluded, not another lesion) whose value exceeds the
        background plane by more than ``grow_sigma`` times the block noise (pixel noise
        / f) join it, and everything is measured again on the grown support. A mask cut
        at a high iso-level (a segmentation that loses a lesion's faint margin) would
        otherwise make any centre-dense lesion read as uniform. 0 disables.
    regrow_sigma : float
        If > 0 (and ``grow_sigma`` is not), a lesion whose profile does not read
        peripheral is grown likewise, by ``regrow_sigma`` block-noise sigmas from the
        first measurement's plane and noise, and measured again; a rim-dense lesion keeps
        its mask. The same result as measuring it again with ``grow_sigma =
        regrow_sigma``, without repeating the first measurement, unless the grown support
        reads uniform too: then it is grown again from its own plane and noise and
        measured again, up to ``regrow_passes`` growths, until a pass reads a pattern
        (that pass is reported) or nothing more grows or the passes run out (then the
        first measurement is reported, status 1).
    regrow_passes : int
        Most growths of one lesion under ``regrow_sigma`` (0 disables regrowth). A plane
        fitted on a band that still lies on the lesion's flank stands above the soft
        tissue, so one growth stops short of the lesion's outline; each pass refits the
        plane further out.
    zonal_band, shape_band, rim_peak_min :
        The zonal-pattern thresholds (:func:`._feature_kernels._zonal_pattern`).
    rim_start, core_end, rim_sigma, min_pixels_per_bin :
        As in :func:`._feature_kernels._profile_features`.
    exclude_halo_px : float
        Plain non-lesion blocks within ``h = int(exclude_halo_px / f + 0.5)`` blocks
        (Euclidean) of an excluded one are excluded too: the blurred edge of the bone, where
        the segmentation leaves a thin gap between an attached lesion and the bone, is then
        neither the lesion's boundary nor its background, and support growth does not enter
        it. Rounded to whole blocks, so on 4 x 4 blocks the reach is one block (0.4-0.9 mm
        at 0.1-0.23 mm pixels). 0 disables.
    sums, counts, ref_sums, stats :
        Outputs, filled in place (zeros, zeros, zeros, NaN on entry):

        * sums (n_sectors, n_bins) float64: sum of background-subtracted values per sector
          and bin, in full-resolution pixel units (a block counts f^2 times). The
          background is a plane fitted by least squares to the band values within 3
          robust sigmas of the band median (the median itself when the band cannot fix a
          plane).
        * counts (n_sectors, n_bins) int64: full-resolution pixels per sector and bin.
        * ref_sums (n_bins,) float64: sum over the bin of the uniform-body chord
          ``sqrt(e (2 e_max - e))``, ``e = d - 1/2`` in block units (see
          :mod:`hoimg.profile.radial`), weighted like ``counts``.
        * stats (11,) float64: background at the centroid, noise sigma per
          full-resolution pixel (robust, from horizontal neighbour differences in the
          band; for f > 1 in the first pixel row of each band block), d_max
          (full-resolution px), gradient-index numerator and denominator, centroid row
          and col, number of band values in the fit, background slope per pixel along
          rows and along cols, block factor f. All NaN (f aside) when the lesion has no
          pixel outside ``exclude``.

    Returns
    -------
    int
        2 when the lesion was regrown (its first profile did not read peripheral, and a
        grown one reads a pattern or the first growth added nothing), 1 when it was not,
        0 when it had no profile to decide on (no pixel or no band).
    """
    rows = labels.shape[0]
    cols = labels.shape[1]
    sums_flat = sums.reshape(-1)
    counts_flat = counts.reshape(-1)
    use_exclude = exclude.shape[0] == rows and exclude.shape[1] == cols
    n_sectors = sums.shape[0]
    stats[10] = f
    h = r1 - r0
    w = c1 - c0
    ff = f * f
    hh = (h + f - 1) // f
    ww = (w + f - 1) // f
    # Block means, and one class byte per block with a one-block border of plain
    # non-lesion blocks (the border is boundary for the inside distances). Inner loops
    # run over zero-based row views: Numba then drops its negative-index wraparound test
    # and they vectorise (3-4x on these copies).
    img = np.zeros((hh + 2, ww + 2), dtype=np.float64)  # block (r, c) at [r + 1, c + 1]
    cls = np.zeros((hh + 2, ww + 2), dtype=np.uint8)
    if f == 1:  # plain copy: the common case of small lesions, kept free of block loops
        for r in range(h):
            if r + 1 < h:
                _prefetch_row(image, r0 + r + 1, c0, c1)
                _prefetch_row(labels, r0 + r + 1, c0, c1)
                if use_exclude:
                    _prefetch_row(exclude, r0 + r + 1, c0, c1)
            i_row = image[r0 + r, c0:c1]
            l_row = labels[r0 + r, c0:c1]
            o_row = img[r + 1, 1:ww + 1]
            c_row = cls[r + 1, 1:ww + 1]
            for c in range(w):
                o_row[c] = i_row[c]
                v = l_row[c]
                c_row[c] = _INSIDE if v == label_id else (_OTHER if v != 0 else 0)
            if use_exclude:
                e_row = exclude[r0 + r, c0:c1]
                for c in range(w):
                    if e_row[c] != 0:
                        c_row[c] |= _EXCL
    else:
        # Block means: a block's value is the sum over its rows of each row's run of f
        # pixels (summed in float32 for f = 2, 4, pairwise), divided by its pixel count.
        # Full blocks of f = 2 and 4 are summed straight from their f rows (no
        # accumulator round trips); the others (a partial last block row or column, other
        # f) row by row. Block classes come from the block's centre pixel
        # (nearest-neighbour downsampling of the masks: a quarter or a sixteenth of the
        # label reads).
        full = w // f  # blocks with all f columns inside the window
        n_fast = h // f if f == 2 or f == 4 else 0  # block rows done the fast way
        for br in range(n_fast):
            if br + 1 < n_fast:
                for k in range(f):
                    _prefetch_row(image, r0 + f * (br + 1) + k, c0, c1)
                # and the centre row the classes are read from below: fetched during the
                # sums, not just one short class row ahead (0.3-0.4 ms of the benchmark)
                _prefetch_row(labels, r0 + f * (br + 1) + f // 2, c0, c1)
                if use_exclude:
                    _prefetch_row(exclude, r0 + f * (br + 1) + f // 2, c0, c1)
            o_row = img[br + 1, 1:ww + 1]
            ra = image[r0 + f * br, c0:c1]
            rb = image[r0 + f * br + 1, c0:c1]
            if f == 2:
                for bc in range(full):
                    o_row[bc] = (np.float64(ra[2 * bc] + ra[2 * bc + 1])
                                 + np.float64(rb[2 * bc] + rb[2 * bc + 1])) * 0.25
            else:
                rc = image[r0 + f * br + 2, c0:c1]
                rd = image[r0 + f * br + 3, c0:c1]
                for bc in range(full):
                    c = 4 * bc
                    o_row[bc] = (((np.float64((ra[c] + ra[c + 1]) + (ra[c + 2] + ra[c + 3]))
                                   + np.float64((rb[c] + rb[c + 1]) + (rb[c + 2] + rb[c + 3])))
                                  + np.float64((rc[c] + rc[c + 1]) + (rc[c + 2] + rc[c + 3])))
                                 + np.float64((rd[c] + rd[c + 1]) + (rd[c + 2] + rd[c + 3]))
                                 ) * 0.0625
        for r in range(h):
            br = r // f
            first = full if br < n_fast else 0  # blocks of this row not done above
            i_row = image[r0 + r, c0:c1]
            o_row = img[br + 1, 1:ww + 1]
            for bc in range(first, ww):
                if bc >= full:
                    acc = 0.0
                    for c in range(bc * f, w):
                        acc += i_row[c]
                    o_row[bc] += acc
                elif f == 2:
                    o_row[bc] += i_row[2 * bc] + i_row[2 * bc + 1]
                elif f == 4:
                    o_row[bc] += (i_row[4 * bc] + i_row[4 * bc + 1]) + (
                        i_row[4 * bc + 2] + i_row[4 * bc + 3])
                else:
                    acc = 0.0
                    for c in range(bc * f, bc * f + f):
                        acc += i_row[c]
                    o_row[bc] += acc
        for br in range(hh):
            nr_ = min(f, h - br * f)
            rr = r0 + br * f + min(f // 2, nr_ - 1)
            if br + 1 < hh:  # the next block row's centre row
                rn = r0 + (br + 1) * f + min(f // 2, min(f, h - (br + 1) * f) - 1)
                _prefetch_row(labels, rn, c0, c1)
                if use_exclude:
                    _prefetch_row(exclude, rn, c0, c1)
            l_row = labels[rr, c0:c1]
            o_row = img[br + 1, 1:ww + 1]
            c_row = cls[br + 1, 1:ww + 1]
            first = full if br < n_fast else 0
            for bc in range(first, ww):
                o_row[bc] /= nr_ * min(f, w - bc * f)
            # a full block's centre column is bc f + f // 2, the last, partial one's at
            # most its last column; the full blocks' loops read at a fixed stride (a
            # literal one for f = 2) and vectorise
            cf = f // 2
            if f == 2:
                for bc in range(full):
                    v = l_row[2 * bc + 1]
                    c_row[bc] = _INSIDE if v == label_id else (_OTHER if v != 0 else 0)
            else:
                for bc in range(full):
                    v = l_row[bc * f + cf]
                    c_row[bc] = _INSIDE if v == label_id else (_OTHER if v != 0 else 0)
            for bc in range(full, ww):
                v = l_row[bc * f + min(cf, w - bc * f - 1)]
                c_row[bc] = _INSIDE if v == label_id else (_OTHER if v != 0 else 0)
            if use_exclude:
                e_row = exclude[rr, c0:c1]
                if f == 2:
                    for bc in range(full):
                        c_row[bc] |= _EXCL if e_row[2 * bc + 1] != 0 else 0
                else:
                    for bc in range(full):
                        c_row[bc] |= _EXCL if e_row[bc * f + cf] != 0 else 0
                for bc in range(full, ww):
                    c_row[bc] |= _EXCL if e_row[bc * f + min(cf, w - bc * f - 1)] != 0 else 0
    halo = int(exclude_halo_px / f + 0.5)
    if use_exclude and halo > 0:
        _exclude_halo(cls, hh, ww, halo)
    # the background band as runs of blocks along a row, in raster order: all of it, and
    # the usable (not excluded) part; a run is (row, first col, last col, noise pairs)
    # (at most one run per two blocks of a row)
    all_runs = np.empty((hh * (ww // 2 + 1), 4), dtype=np.int64)
    use_runs = np.empty((hh * (ww // 2 + 1), 4), dtype=np.int64)
    # each block row's first and last lesion block (-1, -1 for none)
    row_lo = np.empty(hh, dtype=np.int64)
    row_hi = np.empty(hh, dtype=np.int64)
    row_n = np.empty(hh, dtype=np.int64)  # lesion blocks per block row
    # regrowth after the first profile (not with grow_sigma, which grows every lesion)
    regrow = regrow_sigma > 0.0 and regrow_passes > 0 and not grow_sigma > 0.0
    feats = np.empty(8, dtype=np.float64)
    # the first measurement, kept while a regrown one is taken (see the end of the loop)
    first_sums = np.empty_like(sums)
    first_counts = np.empty_like(counts)
    first_ref = np.empty_like(ref_sums)
    first_stats = np.empty_like(stats)
    status = 1
    for it in range(1 + max(regrow_passes, 1)):
        # the lesion's tight box and the centroid of its profiled blocks (integer sums:
        # exact in any order, so the row loops vectorise)
        n_px = 0
        sum_r = 0
        sum_c = 0
        tr0 = hh
        tc0 = ww
        tr1 = -1
        tc1 = -1
        for br in range(hh):
            c_row = cls[br + 1, 1:ww + 1]
            # rows without a lesion block (the band's above and below it) are told by an
            # OR over their class bytes, at a fraction of the reductions' cost
            if not _or_of(c_row, ww) & _INSIDE:
                row_lo[br] = -1
                row_hi[br] = -1
                row_n[br] = 0
                continue
            first = ww
            last = -1
            cnt = 0
            n_in = 0
            s_c = 0
            for bc in range(ww):
                k = c_row[bc]
                inside = (k & _INSIDE) != 0
                first = min(first, bc if inside else ww)
                last = max(last, bc if inside else -1)
                use = (k & (_INSIDE | _EXCL)) == _INSIDE
                cnt += use
                n_in += inside
                s_c += bc if use else 0
            row_lo[br] = first if last >= 0 else -1
            row_hi[br] = last
            row_n[br] = n_in
            if last >= 0:
                tr0 = min(tr0, br)
                tr1 = br
                tc0 = min(tc0, first)
                tc1 = max(tc1, last)
            n_px += cnt
            sum_r += br * cnt
            sum_c += s_c
        if n_px == 0:
            return 0 if status == 1 else status
        cen_r = sum_r / n_px  # block coordinates
        cen_c = sum_c / n_px
        # inside distances only over the lesion's tight box plus a border; the boundary is
        # every non-lesion block that is not excluded (outside the window counts as
        # boundary); block (tr0 + i, tc0 + j) is d_in[1 + i, 1 + j]
        nr_t = tr1 - tr0 + 1
        nc_t = tc1 - tc0 + 1
        exact = nr_t + nc_t + 5
        d_in = _edt_sq(cls, _INSIDE | _EXCL, 0, tr0, tc0, nr_t + 2, nc_t + 2, exact)
        if d_in[0, 0] == _EDT_INF:  # wholly surrounded by excluded blocks: plain mask
            d_in = _edt_sq(cls, _INSIDE, 0, tr0, tc0, nr_t + 2, nc_t + 2, exact)

        # (an int32 maximum without branches, which vectorises)
        q_max = np.int32(0)
        for i in range(nr_t):
            c_row = cls[tr0 + 1 + i, tc0 + 1:tc1 + 2]
            d_row = d_in[1 + i, 1:nc_t + 1]
            for j in range(nc_t):
                profiled = (c_row[j] & (_INSIDE | _EXCL)) == _INSIDE
                q_max = max(q_max, d_row[j] if profiled else np.int32(0))
        d_max = np.sqrt(q_max)

        # background band, in raster order: all of it, and its usable (not excluded) part
        # (the excluded part is used only when nothing else is left)
        # A block is in the band when its squared distance q to the nearest lesion block
        # (inside the window) has in2 < q <= out2; for integer q that is q > floor(in2)
        # and q <= floor(out2), i.e. the block lies in the lesion dilated by the disc of
        # squared radius out2_i and not in the one dilated by in2_i. The dilations are
        # built row by row from the lesion's runs, which is exact and far cheaper than a
        # distance transform over the window: a disc row at offset dr widens each run of
        # a lesion row dr away by the disc's half-width there.
        in2_i = int(np.floor((band_inner_px / f) ** 2))
        out2_i = int(np.floor((band_outer_px / f) ** 2))
        rad_o = _isqrt(out2_i)
        rad_i = _isqrt(in2_i)
        half_o = np.empty(rad_o + 1, dtype=np.int64)
        for dr in range(rad_o + 1):
            half_o[dr] = _isqrt(out2_i - dr * dr)
        half_i = np.empty(rad_i + 1, dtype=np.int64)
        for dr in range(rad_i + 1):
            half_i[dr] = _isqrt(in2_i - dr * dr)
        # A lesion row's runs widened by h form the one interval [lo - h, hi + h] when no
        # gap between its runs is longer than 2 h, and the widened rows of a stretch form
        # one interval when each touches the next (_dilated_rows). Then a row of
        # either dilation is an interval and only the band's blocks are visited: the
        # common case (one run per row, each touching the next) and most rows of a grown
        # support. Other rows scan a difference array of the runs' coverage: +1 per outer
        # run, +cover_in per inner one; a block is in the band where the running total is
        # in (0, cover_in) (the inner dilation lies inside the outer one).
        gap = np.zeros(nr_t, dtype=np.int64)  # longest gap between the runs of row tr0 + i
        for i in range(nr_t):
            r = tr0 + i
            if row_hi[r] >= 0 and row_n[r] != row_hi[r] - row_lo[r] + 1:
                c_row = cls[r + 1, 1:ww + 1]
                g_run = 0
                for c in range(row_lo[r], row_hi[r] + 1):
                    g_run = 0 if c_row[c] & _INSIDE else g_run + 1
                    gap[i] = max(gap[i], g_run)
        # the lesion's runs per block row (row tr0 + i holds runs run_at[i] ..
        # run_at[i + 1] - 1), listed when a row first needs them
        have_runs = False
        run_at = np.empty(nr_t + 1, dtype=np.int64)
        run_a = np.empty(0, dtype=np.int64)
        run_b = np.empty(0, dtype=np.int64)
        cover_in = np.int64(1) << 32
        cover = np.empty(ww + 1, dtype=np.int64)
        lo_c = max(tc0 - rad_o, 0)
        hi_c = min(tc1 + rad_o, ww - 1)
        n_all = 0  # runs
        n_use = 0
        n_any = 0  # blocks
        n_band = 0
        n_diff = 0  # noise pairs: within band blocks, and across two neighbouring ones
        pairs_in = min(f, w) - 1  # pairs inside a block not cut by the window's right edge
        # both dilations' rows over the band's rows r_a .. r_b
        r_a = max(tr0 - rad_o, 0)
        r_b = min(tr1 + rad_o, hh - 1)
        dil_lo = np.full((2, r_b - r_a + 1), ww, dtype=np.int64)  # outer, inner
        dil_hi = np.full((2, r_b - r_a + 1), -1, dtype=np.int64)
        dil_simple = np.ones((2, r_b - r_a + 1), dtype=np.bool_)
        _dilated_rows(row_lo, row_hi, gap, half_o, rad_o, tr0, tr1, r_a, dil_lo[0], dil_hi[0],
                      dil_simple[0])
        _dilated_rows(row_lo, row_hi, gap, half_i, rad_i, tr0, tr1, r_a, dil_lo[1], dil_hi[1],
                      dil_simple[1])
        for r in range(r_a, r_b + 1):
            # the row's stretches of blocks to test: the outer dilation's interval left and
            # right of the inner one's, or the whole row span (tested on `cover`)
            simple = dil_simple[0, r - r_a] and dil_simple[1, r - r_a]
            lo_o = dil_lo[0, r - r_a]
            hi_o = dil_hi[0, r - r_a]
            lo_i = dil_lo[1, r - r_a]
            hi_i = dil_hi[1, r - r_a]
            if simple:
                if hi_i < lo_i:  # no inner dilation in this row: one stretch
                    lo_i = hi_o + 1
                    hi_i = hi_o
                lo_o = max(lo_o, 0)
                hi_o = min(hi_o, ww - 1)
                n_seg = 2
            else:
                if not have_runs:
                    have_runs = True
                    run_a = np.empty(nr_t * (nc_t // 2 + 1), dtype=np.int64)
                    run_b = np.empty(nr_t * (nc_t // 2 + 1), dtype=np.int64)
                    n_runs = 0
                    for i in range(nr_t):
                        run_at[i] = n_runs
                        rr = tr0 + i
                        if row_hi[rr] < 0:
                            continue
                        c_row = cls[rr + 1, 1:ww + 1]
                        c = row_lo[rr]
                        while c <= row_hi[rr]:
                            run_a[n_runs] = c
                            while c + 1 <= row_hi[rr] and c_row[c + 1] & _INSIDE:
                                c += 1
                            run_b[n_runs] = c
                            n_runs += 1
                            c += 1
                            while c <= row_hi[rr] and not c_row[c] & _INSIDE:
                                c += 1
                    run_at[nr_t] = n_runs
                for c in range(lo_c, hi_c + 2):
                    cover[c] = 0
                for rr in range(max(tr0, r - rad_o), min(tr1, r + rad_o) + 1):
                    dr = abs(rr - r)
                    h_o = half_o[dr]
                    for m in range(run_at[rr - tr0], run_at[rr - tr0 + 1]):
                        cover[max(run_a[m] - h_o, 0)] += 1
                        cover[min(run_b[m] + h_o + 1, ww)] -= 1
                    if dr <= rad_i:
                        h_i = half_i[dr]
                        for m in range(run_at[rr - tr0], run_at[rr - tr0 + 1]):
                            cover[max(run_a[m] - h_i, 0)] += cover_in
                            cover[min(run_b[m] + h_i + 1, ww)] -= cover_in
                lo_o = lo_c
                hi_o = hi_c
                lo_i = hi_o + 1
                hi_i = hi_o
                n_seg = 1
            c_row = cls[r + 1, 1:ww + 1]
            total = np.int64(0)
            for seg in range(n_seg):
                c_a = lo_o if seg == 0 else hi_i + 1
                c_b = min(lo_i - 1, hi_o) if seg == 0 else hi_o
                a_all = -1  # the first block of the open runs (-1: none open)
                a_use = -1
                k_run = c_row[c_a:]  # zero-based views: no wraparound test
                t_run = cover[c_a:]
                if simple and c_b >= c_a:
                    # a stretch of plain blocks only (no other lesion, nothing excluded:
                    # the common case) is one run of both kinds, as the loop below would
                    # find block by block; an OR over its class bytes (which vectorises)
                    # tells, at a fraction of the loop's cost per block
                    if _or_of(k_run, c_b - c_a + 1) == 0:
                        c = c_b + 1  # the block that closes the runs
                        last = max(min(c * f, w) - (c - 1) * f - 1, 0) if c == ww else pairs_in
                        n_pairs = (c - 1 - c_a) * (pairs_in + 1) + last
                        _put_run(all_runs, n_all, r, c_a, c_b, n_pairs)
                        n_all += 1
                        n_any += c - c_a
                        n_diff += n_pairs
                        _put_run(use_runs, n_use, r, c_a, c_b, 0)
                        n_use += 1
                        n_band += c - c_a
                        continue
                for j in range(c_b - c_a + 2):
                    c = c_a + j
                    in_all = False
                    in_use = False
                    if c <= c_b:  # (one past the stretch closes its runs)
                        k = k_run[j]
                        if not simple:
                            total += t_run[j]
                        in_all = not k & (_INSIDE | _OTHER) and (simple or 0 < total < cover_in)
                        in_use = in_all and not k & _EXCL
                    if in_all and a_all < 0:
                        a_all = c
                    elif not in_all and a_all >= 0:
                        # the run's noise pairs: each block's inside it and the one
                        # across to the next block, the last block's inside it only (cut
                        # by the window's right edge in the last column)
                        last = max(min(c * f, w) - (c - 1) * f - 1, 0) if c == ww else pairs_in
                        n_pairs = (c - 1 - a_all) * (pairs_in + 1) + last
                        _put_run(all_runs, n_all, r, a_all, c - 1, n_pairs)
                        n_all += 1
                        n_any += c - a_all
                        n_diff += n_pairs
                        a_all = -1
                    if in_use and a_use < 0:
                        a_use = c
                    elif not in_use and a_use >= 0:
                        _put_run(use_runs, n_use, r, a_use, c - 1, 0)
                        n_use += 1
                        n_band += c - a_use
                        a_use = -1
        fit_runs = use_runs
        n_fit_runs = n_use
        if n_band == 0:  # the excluded part only when nothing else is left
            if n_any == 0:
                return 0 if status == 1 else status
            fit_runs = all_runs
            n_fit_runs = n_all
            n_band = n_any
        # band median and MAD from every stride-th value
        stride = (n_band + max_samples - 1) // max_samples
        m_s = (n_band + stride - 1) // stride
        sub = np.empty(m_s, dtype=np.float64)
        take = 0  # the next value to read, by its index in the band
        at = 0  # the index of run m's first block
        n = 0
        for m in range(n_fit_runs):
            r = fit_runs[m, 0]
            a = fit_runs[m, 1]
            at_next = at + fit_runs[m, 2] - a + 1
            while take < at_next and n < m_s:
                sub[n] = img[r + 1, a + (take - at) + 1]
                n += 1
                take += stride
            at = at_next
        med = _median(sub, m_s)
        for i in range(m_s):
            sub[i] = abs(sub[i] - med)
        tol = 3.0 * 1.482602218505602 * _median(sub, m_s)
        # least-squares plane through the inlying band values, in units of d_max about the
        # centroid (keeps the normal equations well conditioned)
        scale = d_max if d_max > 1.0 else 1.0
        m00 = 0.0
        m01 = 0.0
        m02 = 0.0
        m11 = 0.0
        m12 = 0.0
        m22 = 0.0
        v0 = 0.0
        v1 = 0.0
        v2 = 0.0
        n_fit = 0
        # x and y tabulated per row and column: the same quotients, without a division
        # per band value (computed only when the row changed, LLVM still divided on every
        # value and selected; ~0.3 ms of the benchmark)
        x_of = np.empty(hh, dtype=np.float64)
        for r in range(hh):
            x_of[r] = (r - cen_r) / scale
        y_of = np.empty(ww, dtype=np.float64)
        for c in range(ww):
            y_of[c] = (c - cen_c) / scale
        for m in range(n_fit_runs):
            a = fit_runs[m, 1]
            b = fit_runs[m, 2]
            x = x_of[fit_runs[m, 0]]
            v_run = img[fit_runs[m, 0] + 1, a + 1:b + 2]  # zero-based views: no wraparound
            y_run = y_of[a:b + 1]
            for j in range(b - a + 1):
                val = v_run[j]
                if abs(val - med) > tol:
                    continue
                y = y_run[j]
                m00 += 1.0
                m01 += x
                m02 += y
                m11 += x * x
                m12 += x * y
                m22 += y * y
                v0 += val
                v1 += x * val
                v2 += y * val
                n_fit += 1
        pa = med
        pr = 0.0
        pc = 0.0
        if n_fit >= 10:  # Cramer's rule; the median alone when (near) singular
            det = _det3(m00, m01, m02, m01, m11, m12, m02, m12, m22)
            mag = abs(m00 * m11 * m22)
            if mag > 0.0 and abs(det) > 1e-9 * mag:
                pa = _det3(v0, m01, m02, v1, m11, m12, v2, m12, m22) / det
                pr = _det3(m00, v0, m02, m01, v1, m12, m02, v2, m22) / det
                pc = _det3(m00, m01, v0, m01, m11, v1, m02, m12, v2) / det
        pr = pr / scale  # per block
        pc = pc / scale
        # robust noise per full-resolution pixel: MAD of horizontal neighbour differences of
        # pixel pairs whose blocks are both in the band (in each band block's first pixel
        # row, raster order); only every stride-th pair is read
        if n_diff > 0:
            stride = (n_diff + max_samples - 1) // max_samples
            nd = (n_diff + stride - 1) // stride
            diffs = np.empty(nd, dtype=np.float64)
            k = 0  # index of the run's first pair among all pairs
            take = 0  # index of the next pair to read
            n = 0
            for m in range(n_all):
                k_next = k + all_runs[m, 3]
                # the run's pairs lie one after the other along its blocks' first pixel row
                # unsigned indices (they are >= 0): no negative-index wraparound test
                row_u = np.uint64(r0 + all_runs[m, 0] * f)
                while take < k_next and n < nd:
                    col_u = np.uint64(c0 + all_runs[m, 1] * f + (take - k))
                    diffs[n] = image[row_u, col_u + np.uint64(1)] - image[row_u, col_u]
                    n += 1
                    take += stride
                k = k_next
            dmed = _median(diffs, nd)
            for i in range(nd):
                diffs[i] = abs(diffs[i] - dmed)
            stats[1] = 1.482602218505602 * _median(diffs, nd) / np.sqrt(2.0)
        # grow_sigma: grow every lesion's support once, then measure again (a mask cut at
        # a high iso-level would read any centre-dense lesion as uniform)
        if it == 0 and grow_sigma > 0.0 and stats[1] > 0.0:
            if _grow_support(cls, img, hh, ww, tr0, tc0, tr1, tc1, pa, pr, pc, cen_r, cen_c,
                             grow_sigma * stats[1] / f) > 0:
                continue

        # bins are looked up on integer squared distances, so every implementation bins
        # identically; bin and uniform-body chord are tabulated per squared distance
        klut = np.empty(q_max + 1, dtype=np.int64)
        ref_lut = np.empty(q_max + 1, dtype=np.float64)
        e_max = d_max - 0.5
        for q in range(q_max + 1):
            d = np.sqrt(q)
            kb = int((1.0 - d / d_max) * n_bins)
            klut[q] = min(kb, n_bins - 1)
            e = max(d - 0.5, 0.0)
            pq = e * (2.0 * e_max - e)
            ref_lut[q] = np.sqrt(pq) if pq > 0.0 else 0.0
        # square roots of the inside distances, for the gradient's outward normal (its
        # neighbours may be excluded blocks deeper than any profiled one)
        sd = np.empty((nr_t + 2, nc_t + 2), dtype=np.float64)
        for i in range(nr_t + 2):
            d_row = d_in[i]
            s_row = sd[i]
            for j in range(nc_t + 2):
                s_row[j] = np.sqrt(d_row[j])
        # Per row, first the arithmetic, which vectorises (diamond angle, sector, bin,
        # background-free value, gradient terms), then the sums.
        ang = np.empty(nc_t, dtype=np.float64)
        bins = np.empty(nc_t, dtype=np.int64)  # sector * n_bins + bin; -1: not profiled
        sec = np.empty(nc_t, dtype=np.int64)
        val = np.empty(nc_t, dtype=np.float64)
        t_num = np.empty(nc_t, dtype=np.float64)
        t_den = np.empty(nc_t, dtype=np.float64)
        # profiled blocks per squared distance: the chord sums come from these counts
        q_count = np.zeros(q_max + 1, dtype=np.int64)
        g_num = 0.0
        g_den = 0.0
        cur_bin = -1  # the bin whose sums are being accumulated in registers
        cur_sum = 0.0
        cur_cnt = 0
        for i in range(nr_t):
            r = tr0 + i
            if row_hi[r] < 0:
                continue
            dr = r - cen_r
            # the row's lesion blocks c = c_lo .. c_hi, j = c - c_lo
            c_lo = row_lo[r]
            c_hi = row_hi[r]
            n_j = c_hi - c_lo + 1
            c_row = cls[r + 1, c_lo + 1:c_hi + 2]
            d_row = d_in[1 + i, c_lo - tc0 + 1:c_hi - tc0 + 2]
            # block (r, c_lo + j) and its neighbours, each at index j + 1 of these rows
            i_row = img[r + 1, c_lo:c_hi + 3]
            i_up = img[r, c_lo:c_hi + 3]
            i_dn = img[r + 2, c_lo:c_hi + 3]
            s_up = sd[i, c_lo - tc0:c_hi - tc0 + 3]
            s_mid = sd[1 + i, c_lo - tc0:c_hi - tc0 + 3]
            s_dn = sd[2 + i, c_lo - tc0:c_hi - tc0 + 3]
            row_in = 0 < r < hh - 1
            for j in range(n_j):
                c = c_lo + j
                dc = c - cen_c
                # the diamond angle (a monotone, exact stand-in for atan2(dr, dc) on [0, 4)),
                # as an offset plus one quotient chosen by quadrant
                if dr >= 0.0:
                    if dc >= 0.0:
                        off, num, den = 0.0, dr, dc + dr
                    else:
                        off, num, den = 1.0, -dc, -dc + dr
                elif dc < 0.0:
                    off, num, den = 2.0, -dr, -dc - dr
                else:
                    off, num, den = 3.0, dc, dc - dr
                at_centre = dr == 0.0 and dc == 0.0
                ang[j] = 0.0 if at_centre else off + num / (den if not at_centre else 1.0)
                val[j] = ff * (i_row[j + 1] - (pa + pr * dr + pc * dc))
                # signed radial gradient index: the background-free gradient projected on the
                # outward direction, which is minus the gradient of the inside distance
                gr = 0.5 * (i_dn[j + 1] - i_up[j + 1]) - pr
                gc = 0.5 * (i_row[j + 2] - i_row[j]) - pc
                nr = -0.5 * (s_dn[j + 1] - s_up[j + 1])
                nc = -0.5 * (s_mid[j + 2] - s_mid[j])
                nn = np.sqrt(nr * nr + nc * nc)
                grad = row_in and 0 < c < ww - 1
                t_den[j] = np.sqrt(gr * gr + gc * gc) if grad else 0.0
                t_num[j] = (gr * nr + gc * nc) / nn if grad and nn > 1e-9 else 0.0
            # sector: the number of inner sector edges at or before the angle (searchsorted(
            # sector_edges, a, "right") - 1). Along a row the angle is monotone (it falls
            # below the centroid and rises above it; each rounded step is monotone too), so
            # every angle of the row lies between those of its ends: the sector is the
            # lower end's plus the count of the inner edges past it, up to the upper end,
            # that the angle reaches, added edge by edge over the row (no branches).
            a_lo = min(ang[0], ang[n_j - 1])
            a_hi = max(ang[0], ang[n_j - 1])
            s_lo = 0
            while s_lo < n_sectors - 1 and sector_edges[s_lo + 1] <= a_lo:
                s_lo += 1
            for j in range(n_j):
                sec[j] = s_lo
            k = s_lo + 1
            while k < n_sectors and sector_edges[k] <= a_hi:
                e_k = sector_edges[k]
                for j in range(n_j):
                    sec[j] += np.int64(e_k <= ang[j])
                k += 1
            for j in range(n_j):
                q_u = np.uint32(min(d_row[j], q_max))  # excluded blocks may lie deeper
                profiled = (c_row[j] & (_INSIDE | _EXCL)) == _INSIDE
                bins[j] = sec[j] * n_bins + klut[q_u] if profiled else -1
            for j in range(n_j):
                b = bins[j]
                if b < 0:
                    continue
                q_count[np.uint32(d_row[j])] += 1
                # the running sums of the current bin stay in registers (the same additions
                # in the same order as straight into the arrays); adding 0.0 for blocks
                # without a gradient term leaves the gradient sums unchanged
                if b != cur_bin:
                    if cur_bin >= 0:
                        sums_flat[cur_bin] = cur_sum
                        counts_flat[cur_bin] = cur_cnt
                    cur_bin = b
                    cur_sum = sums_flat[b]
                    cur_cnt = counts_flat[b]
                cur_sum += val[j]
                cur_cnt += ff
                g_den += t_den[j]
                g_num += t_num[j]
        if cur_bin >= 0:
            sums_flat[cur_bin] = cur_sum
            counts_flat[cur_bin] = cur_cnt
        # the uniform-body chord per bin, from the counts per squared distance (the same
        # sum as pixel by pixel, grouped by distance)
        for q in range(q_max + 1):
            if q_count[q] > 0:
                ref_sums[klut[q]] += (ff * q_count[q]) * ref_lut[q]
        stats[0] = pa
        stats[2] = d_max * f
        stats[3] = g_num
        stats[4] = g_den
        stats[5] = r0 + f * cen_r + 0.5 * (f - 1)
        stats[6] = c0 + f * cen_c + 0.5 * (f - 1)
        stats[7] = n_fit
        stats[8] = pr / f
        stats[9] = pc / f

        if not regrow:  # (grow_sigma grew every lesion above, and measured it again)
            break
        # regrow_sigma: a lesion that does not read peripheral is measured again on its
        # support grown from this pass's plane and noise (a detected mask cuts a smooth
        # centre-dense lesion where it fades into the noise); a rim-dense one keeps its
        # mask. A grown support that reads a pattern is reported; one that still reads
        # uniform is grown again from its own plane (fitted further out, off the lesion's
        # flank). If none ever reads a pattern, what growth added is the lesion's
        # surroundings (blur halo, tissue towards the cortex), which flatten the profile
        # and its features: the lesion's own mask is reported.
        _lesion_features(sums, counts, ref_sums, stats, rim_start, core_end, rim_sigma,
                         min_pixels_per_bin, feats)
        pattern = _zonal_pattern(feats[0], feats[2], feats[7], zonal_band, shape_band,
                                 rim_peak_min)
        if it == 0:
            if pattern == 0:  # peripheral
                break
            status = 2
            first_sums[:, :] = sums
            first_counts[:, :] = counts
            first_ref[:] = ref_sums
            first_stats[:] = stats
        elif pattern != 2:  # a grown support that reads a pattern
            break
        added = 0
        if it < regrow_passes and stats[1] > 0.0:
            added = _grow_support(cls, img, hh, ww, tr0, tc0, tr1, tc1, pa, pr, pc, cen_r,
                                  cen_c, regrow_sigma * stats[1] / f)
        if added == 0:
            if it >= 1:  # grown, but it never read a pattern
                sums[:, :] = first_sums
                counts[:, :] = first_counts
                ref_sums[:] = first_ref
                stats[:] = first_stats
                status = 1
            break
        _clear_measurement(sums, counts, ref_sums, stats)
    return status


@njit(cache=True, error_model="numpy")
def _clear_measurement(sums, counts, ref_sums, stats):
    """Reset one lesion's outputs before it is measured again on a grown support (the
    noise, ``stats[1]``, and the block factor, ``stats[10]``, stay until the next pass
    measures them)."""
    for k in range(sums.shape[0]):
        for b in range(sums.shape[1]):
            sums[k, b] = 0.0
            counts[k, b] = 0
    for b in range(ref_sums.shape[0]):
        ref_sums[b] = 0.0
    for k in range(10):
        if k != 1:
            stats[k] = np.nan


@njit(cache=True, error_model="numpy")
def _profile_batch(image, labels, label_ids, exclude, windows, blocks, band_inner_px,
                   band_outer_px, n_bins, n_sectors, sector_edges, max_samples, grow_sigma,
                   rim_start, core_end, rim_sigma, min_pixels_per_bin, regrow_sigma,
                   regrow_passes, zonal_band, shape_band, rim_peak_min, exclude_halo_px):
    """Radial profiles and their features for L lesions of one image in one call.

    The single-lesion wrapper calls it too, with L = 1 (one compiled specialisation).

    Parameters
    ----------
    image, labels, exclude :
        As in :func:`_profile_lesion`.
    label_ids : (L,) int32 ndarray
    windows : (L, 4) int64 ndarray
        Each lesion's window (r0, c0, r1, c1).
    blocks : (L,) int64 ndarray
        Block factor per lesion.
    band_inner_px, band_outer_px, n_bins, n_sectors, sector_edges, max_samples, grow_sigma :
        As in :func:`_profile_lesion`.
    rim_start, core_end, rim_sigma, min_pixels_per_bin :
        As in :func:`hoimg.profile._feature_kernels._profile_features`.
    regrow_sigma, regrow_passes, zonal_band, shape_band, rim_peak_min, exclude_halo_px :
        As in :func:`_profile_lesion`.

    Returns
    -------
    sums : (L, n_sectors, n_bins) float64
    counts : (L, n_sectors, n_bins) int64
    ref_sums : (L, n_bins) float64
    stats : (L, 11) float64
        See :func:`_profile_lesion`.
    features : (L, 8) float64
        See :func:`hoimg.profile._feature_kernels._profile_features`.
    pattern : (L,) int64
        The zonal pattern of the reported profile as a code (the index into
        :data:`hoimg.profile.results.ZONAL_PATTERNS`; see
        :func:`hoimg.profile._feature_kernels._zonal_pattern`, the rule that also decides
        regrowth).
    regrown : (L,) bool
        The lesion did not read peripheral at first and was measured on a grown support
        (also when nothing grew, or when it had no profile at all).
    """
    n = label_ids.shape[0]
    sums = np.zeros((n, n_sectors, n_bins), dtype=np.float64)
    counts = np.zeros((n, n_sectors, n_bins), dtype=np.int64)
    ref_sums = np.zeros((n, n_bins), dtype=np.float64)
    stats = np.full((n, 11), np.nan)
    status = np.empty(n, dtype=np.int64)
    for i in range(n):
        status[i] = _profile_lesion(
            image, labels, label_ids[i], exclude, windows[i, 0], windows[i, 1], windows[i, 2],
            windows[i, 3], blocks[i], band_inner_px, band_outer_px, n_bins, sector_edges,
            max_samples, grow_sigma, regrow_sigma, regrow_passes, zonal_band, shape_band,
            rim_peak_min, rim_start, core_end, rim_sigma, min_pixels_per_bin, exclude_halo_px,
            sums[i], counts[i], ref_sums[i], stats[i])
    features = _profile_features(sums, counts, ref_sums, stats, rim_start, core_end, rim_sigma,
                                 min_pixels_per_bin)
    regrow = regrow_sigma > 0.0 and regrow_passes > 0 and not grow_sigma > 0.0
    pattern = np.empty(n, dtype=np.int64)
    regrown = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        pattern[i] = _zonal_pattern(features[i, 0], features[i, 2], features[i, 7], zonal_band,
                                    shape_band, rim_peak_min)
        # a lesion without a profile reads "uniform" and counts as regrown (in vain)
        regrown[i] = status[i] == 2 or (status[i] == 0 and regrow and pattern[i] != 0)
    return sums, counts, ref_sums, stats, features, pattern, regrown

"""Numba kernels of the cleft scan: rays from the cortex, bilinear line sampling, decisions.

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`); each has
a plain-NumPy twin in ``tests/profile/_profile_reference.py``. The one entry point,
:func:`_cleft_batch`, serves both :func:`hoimg.profile.measure_lesions` and the
single-lesion :func:`hoimg.profile.cleft_scan`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._prefetch import _prefetch

# normals per chunk in _cleft_batch's reach test
_CHUNK = 32


@njit(cache=True, error_model="numpy")
def _resample_edges(points, normals, starts, sp_r, sp_c, step_mm):
    """Cortex edge points every ``step_mm`` of arc length (the nearest point to each).

    Parameters
    ----------
    points, normals : (P, 2) float64 ndarray
        The points (row, col) and outward normals of all edges, one after the other.
    starts : (E + 1,) int64 ndarray
        Edge e is ``points[starts[e]:starts[e + 1]]``.
    sp_r, sp_c : float
        Pixel spacing (mm) along rows and cols.
    step_mm : float

    Returns
    -------
    base, normal : (K, 2) float64
        Sample points and unit normals (samples whose normal has no length are left out).
    edge, seq : (K,) int64
        Edge of each sample and its number along that edge.
    arc_mm, mm_per_px : (K,) float64
        Arc length at the sample, and mm per pixel of travel along its normal.
    """
    n_edges = starts.shape[0] - 1
    n_max = points.shape[0]
    pick = np.empty(n_max, dtype=np.int64)  # chosen point of each sample
    pick_arc = np.empty(n_max, dtype=np.float64)
    pick_edge = np.empty(n_max, dtype=np.int64)
    pick_seq = np.empty(n_max, dtype=np.int64)
    arc = np.empty(n_max, dtype=np.float64)
    k = 0
    for e in range(n_edges):
        a = starts[e]
        n = starts[e + 1] - a
        if n == 0:
            continue
        arc[0] = 0.0
        for i in range(1, n):
            dr = (points[a + i, 0] - points[a + i - 1, 0]) * sp_r
            dc = (points[a + i, 1] - points[a + i - 1, 1]) * sp_c
            arc[i] = arc[i - 1] + np.sqrt(dr * dr + dc * dc)
        # targets i * step_mm up to the edge's length (np.arange), each to the nearer of
        # the points either side (searchsorted), repeats dropped
        n_t = int(np.ceil((arc[n - 1] + 1e-9) / step_mm))
        j = 0
        last = -1
        seq = 0
        for it in range(n_t):
            t = it * step_mm
            while j < n and arc[j] < t:
                j += 1
            idx = min(j, n - 1)
            prev = max(idx - 1, 0)
            if abs(arc[prev] - t) < abs(arc[idx] - t):
                idx = prev
            if idx == last:
                continue
            last = idx
            pick[k] = a + idx
            pick_arc[k] = arc[idx]
            pick_edge[k] = e
            pick_seq[k] = seq
            seq += 1
            k += 1
    m = 0
    for i in range(k):
        p = pick[i]
        if np.hypot(normals[p, 0], normals[p, 1]) > 1e-9:
            m += 1
    base = np.empty((m, 2), dtype=np.float64)
    normal = np.empty((m, 2), dtype=np.float64)
    edge = np.empty(m, dtype=np.int64)
    seq_out = np.empty(m, dtype=np.int64)
    arc_mm = np.empty(m, dtype=np.float64)
    mm_per_px = np.empty(m, dtype=np.float64)
    m = 0
    for i in range(k):
        p = pick[i]
        norm = np.hypot(normals[p, 0], normals[p, 1])
        if not norm > 1e-9:
            continue
        base[m, 0] = points[p, 0]
        base[m, 1] = points[p, 1]
        normal[m, 0] = normals[p, 0] / norm
        normal[m, 1] = normals[p, 1] / norm
        edge[m] = pick_edge[i]
        seq_out[m] = pick_seq[i]
        arc_mm[m] = pick_arc[i]
        mm_per_px[m] = np.hypot(normal[m, 0] * sp_r, normal[m, 1] * sp_c)
        m += 1
    return base, normal, edge, seq_out, arc_mm, mm_per_px


@njit(cache=True, error_model="numpy")
def _is_label(labels, label_id, r, c):
    """Nearest-pixel lookup of ``labels == label_id`` at a sub-pixel point (False outside)."""
    ri = int(np.floor(r + 0.5))
    ci = int(np.floor(c + 0.5))
    if ri < 0 or ci < 0 or ri >= labels.shape[0] or ci >= labels.shape[1]:
        return False
    return labels[ri, ci] == label_id


@njit(cache=True, error_model="numpy")
def _cast_one(labels, label_id, br, bc, nr, nc, t_max, lo_r, lo_c, hi_r, hi_c, step_px):
    """Distance along one ray to the first pixel of a lesion, or NaN.

    The ray ``(br, bc) + t (nr, nc)``, ``0 <= t <= t_max``, is marched every ``step_px``
    only where it is inside the lesion's box ``[lo_r, hi_r] x [lo_c, hi_c]`` (slab test),
    then the entry is refined by bisection to 1/1024 of a step. Returns the ray parameter
    t (pixels) where the ray enters the lesion's nearest-pixel footprint (0 when it starts
    inside).
    """
    t0 = 0.0
    t1 = t_max
    for axis in range(2):
        b = br if axis == 0 else bc
        n = nr if axis == 0 else nc
        lo = lo_r if axis == 0 else lo_c
        hi = hi_r if axis == 0 else hi_c
        if abs(n) < 1e-12:
            if b < lo or b > hi:
                return np.nan
        else:
            ta = (lo - b) / n
            tb = (hi - b) / n
            if ta > tb:
                ta, tb = tb, ta
            if ta > t0:
                t0 = ta
            if tb < t1:
                t1 = tb
    if t0 > t1:
        return np.nan
    t_prev = t0
    t = t0
    hit = False
    while t <= t1 + 1e-9:
        if _is_label(labels, label_id, br + t * nr, bc + t * nc):
            hit = True
            break
        t_prev = t
        t += step_px
    if not hit:
        return np.nan
    if t == t_prev:  # inside from the first sample: at the ray origin or the box face
        return t
    a = t_prev
    b = t
    for _ in range(10):
        m = 0.5 * (a + b)
        if _is_label(labels, label_id, br + m * nr, bc + m * nc):
            b = m
        else:
            a = m
    return b


@njit(cache=True, error_model="numpy")
def _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, ta, tb, dt):
    """Mean of bilinear samples on ``n_lateral`` parallel lines, t in [ta, tb] every dt.

    The lines are offset along the tangent ``(-nc, nr)`` by up to ``lateral_px`` either
    side; samples are bilinear with coordinates clamped to the image (as
    ``scipy.ndimage.map_coordinates(order=1, mode="nearest")``).
    """
    h, w = image.shape
    total = 0.0
    n = 0
    n_t = int(np.floor((tb - ta) / dt + 1e-9)) + 1
    for j in range(n_lateral):
        off = 0.0 if n_lateral == 1 else lateral_px * (2.0 * j / (n_lateral - 1) - 1.0)
        sr = br - off * nc
        sc = bc + off * nr
        for i in range(n_t):
            t = ta + i * dt
            r = sr + t * nr
            c = sc + t * nc
            if r < 0.0:
                r = 0.0
            if c < 0.0:
                c = 0.0
            if r > h - 1.0:
                r = h - 1.0
            if c > w - 1.0:
                c = w - 1.0
            # clamped, the indices are >= 0: unsigned, they index without Numba's
            # negative-index wraparound
            r0 = np.uint64(np.floor(r))
            c0 = np.uint64(np.floor(c))
            r1 = min(r0 + np.uint64(1), np.uint64(h - 1))
            c1 = min(c0 + np.uint64(1), np.uint64(w - 1))
            fr = r - np.floor(r)
            fc = c - np.floor(c)
            top = image[r0, c0] * (1.0 - fc) + image[r0, c1] * fc
            bot = image[r1, c0] * (1.0 - fc) + image[r1, c1] * fc
            total += top * (1.0 - fr) + bot * fr
            n += 1
    return total / n if n > 0 else np.nan


@njit(cache=True, error_model="numpy")
def _prefetch_normal(image, br, bc, nr, nc, lateral_px, n_lateral, ta, tb):
    """Prefetch the image around the ``n_lateral`` lines of a normal, t in [ta, tb]: the
    two rows of a bilinear sample at steps that advance at most 2 rows and 16 columns
    (one 64-byte line of float32; clamped like :func:`_line_mean`).

    Every cache line a line touches is fetched once or twice: a fixed 2 px step asked for
    each line of a near-horizontal normal (the common case: cortex edges of long bones run
    along the rows or columns) eight times over, which cost more than it saved.
    """
    h, w = image.shape
    step = min(2.0 / max(abs(nr), 1e-3), 16.0 / max(abs(nc), 1e-3))
    n_t = int((tb - ta) / step) + 2
    for j in range(n_lateral):
        off = 0.0 if n_lateral == 1 else lateral_px * (2.0 * j / (n_lateral - 1) - 1.0)
        for i in range(n_t):
            t = min(ta + step * i, tb)
            r = min(max(br - off * nc + t * nr, 0.0), h - 1.0)
            c = min(max(bc + off * nr + t * nc, 0.0), w - 1.0)
            r0 = int(r)
            c0 = int(c)
            _prefetch(image, r0, c0)
            _prefetch(image, min(r0 + 1, h - 1), c0)


@njit(cache=True, error_model="numpy")
def _trend(br, bc, nr, nc, t, cen_r, cen_c, slope_r, slope_c):
    """The background plane's departure from its centroid value at ``(br, bc) + t (nr, nc)``."""
    return slope_r * (br + t * nr - cen_r) + slope_c * (bc + t * nc - cen_c)


@njit(cache=True, error_model="numpy")
def _levels(image, br, bc, nr, nc, th, cortex_px, lesion_px, lateral_px, n_lateral, dt, out):
    """Cortex, gap and lesion levels of one normal entering the lesion at ``th`` into
    ``out[0:3]``: means over [-cortex_px, 0], over the middle half of the gap
    [th/4, 3 th/4] (NaN when th < 2 dt: no gap to sample) and over [th, th + lesion_px]."""
    out[0] = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, -cortex_px, 0.0, dt)
    out[1] = np.nan
    if th >= 2.0 * dt:
        out[1] = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, 0.25 * th, 0.75 * th,
                            dt)
    out[2] = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, th, th + lesion_px, dt)


@njit(cache=True, error_model="numpy")
def _edge_out(image, br, bc, nr, nc, th, threshold, dip_below, lateral_px, n_lateral, dt):
    """Where the cortex's outer slope falls below ``threshold``, walking out from its edge.

    From t = 0 along the normal in steps ``dt`` up to ``th`` (the lesion's near edge), the
    mean of bilinear samples on the ``n_lateral`` lines at t - dt, t and t + dt is
    compared with ``threshold``. Returns 0 when the value at the edge is already below;
    else the first crossing (interpolated linearly), or the step before the first rise
    once the values are below ``dip_below`` (the bottom of a dip that stays above the
    threshold: a narrow blurred cleft; above it a rise is noise on the cortex), or ``th``
    when the slope runs on into the lesion (contact).
    """
    prev = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, -dt, dt, dt)
    if prev < threshold:
        return 0.0
    t = 0.0
    while t < th:
        t_new = min(t + dt, th)
        v = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, t_new - dt, t_new + dt, dt)
        if v < threshold:
            return t + (t_new - t) * (prev - threshold) / (prev - v)
        if v > prev and v < dip_below:
            return t
        prev = v
        t = t_new
    return th


@njit(cache=True, error_model="numpy")
def _cleft_batch(image, labels, label_offset_rc, label_ids, bboxes, base_rc, normal_rc, t_max_px,
                 mm_per_px, plane, step_px, cortex_px, lesion_px, lateral_px, n_lateral, dt,
                 edge_dt, edge_fraction, interface_margin_mm, min_gap_mm, dip_sigma,
                 contrast_fraction):
    """Cleft-scan measurements of the normals facing each of L lesions.

    For each lesion, every candidate normal is cast at it (:func:`_cast_one`). For a hit:

    1. cortex, gap and lesion levels (:func:`_levels`) at the mask edge;
    2. the cortex edge walk-out (:func:`_edge_out`): from the edge point towards the lesion
       to where the image falls below ``background + trend + edge_fraction x cortex
       contrast`` (the cortex level over the background plane; no walk when it is not
       positive); a walk that moved moves the normal's base point out by as much, and
       the levels are sampled again from there;
    3. the edge walk-back: from the mask edge towards the cortex in steps ``edge_dt``,
       the mean of bilinear samples on the ``n_lateral`` lines at t - edge_dt, t and
       t + edge_dt is compared with ``background + trend + edge_fraction x lesion
       contrast`` (lesion contrast over the background plane at the mask edge; no walk
       when it is not positive). The first value below ends the walk and the crossing is
       interpolated linearly; a value at the mask edge already below keeps it; a walk
       that reaches t = 0 gives 0 (contact). A crossing more than a pixel before the mask
       edge replaces it, and the levels are sampled again there;
    4. the gap in mm (``t * mm_per_px``), from the moved base point.

    Of a lesion's hits only the facing interface is kept: gaps within
    ``interface_margin_mm`` of its smallest. For those, with excesses taken over the
    background plane's trend along the normal (the cortex is compared as is: it is far
    denser)::

        dip = (min(cortex, lesion) - gap) / (noise sqrt(2 / n_gap + 2 / n_lesion))
        has_cleft = gap_mm >= min_gap_mm and dip >= dip_sigma and lucent
        contact = not has_cleft and gap_mm < min_gap_mm

    with ``n_gap``, ``n_lesion`` the bilinear samples in each level and ``lucent`` when
    the gap keeps at most ``1 - contrast_fraction`` of the lesion's contrast (or the
    lesion has none).

    Parameters
    ----------
    image : (M, N) float32 ndarray
    labels : (P, Q) int32 ndarray
        Label image, or a crop of one whose pixel (0, 0) is image pixel
        ``label_offset_rc``.
    label_offset_rc : (2,) float64 ndarray
    label_ids : (L,) int32 ndarray
    bboxes : (L, 4) int64 ndarray
        Tight end-exclusive boxes of the lesions, in image coordinates.
    base_rc, normal_rc : (K, 2) float64 ndarray
        Every candidate normal of the image: points on the periosteal edge and outward
        unit normals.
    t_max_px, mm_per_px : (K,) float64 ndarray
        How far each normal reaches (pixels) and mm per pixel of travel along it.
    plane : (L, 6) float64 ndarray
        Per lesion: background at the centroid, noise sigma, centroid row and col,
        background slope per pixel along rows and cols (from the radial profile).
    step_px : float
        Marching step of the rays.
    cortex_px, lesion_px, lateral_px, n_lateral, dt :
        Level windows' depths, half-width of the band of parallel lines and how many,
        sample spacing along a normal.
    edge_dt, edge_fraction :
        Step and contrast fraction of the edge walk-back.
    interface_margin_mm, min_gap_mm, dip_sigma, contrast_fraction :
        Decision thresholds (see :class:`hoimg.config.ProfileConfig`).

    Returns
    -------
    (H, 6) float64 ndarray
        One row per kept hit: lesion index (into ``label_ids``, non-decreasing), normal
        index (into ``base_rc``, increasing within a lesion), gap_mm, dip, has_cleft and
        contact (1.0 or 0.0).
    """
    n_les = label_ids.shape[0]
    k = base_rc.shape[0]
    reach = 0.0
    for j in range(k):
        if t_max_px[j] > reach:
            reach = t_max_px[j]
    # the normals in chunks of _CHUNK consecutive ones (neighbours along a cortex edge),
    # each with the bounding box of its edge points (infinite if one is NaN): a lesion
    # tests the points of the chunks whose box comes within its reach only, not all K
    # (which cost more than the casts where few lesions face a cortex)
    n_chunk = (k + _CHUNK - 1) // _CHUNK
    ch_box = np.empty((n_chunk, 4), dtype=np.float64)  # row min, row max, col min, col max
    for ch in range(n_chunk):
        r_lo = np.inf
        r_hi = -np.inf
        c_lo = np.inf
        c_hi = -np.inf
        for j in range(ch * _CHUNK, min(k, (ch + 1) * _CHUNK)):
            br = base_rc[j, 0]
            bc = base_rc[j, 1]
            if br != br or bc != bc:
                r_lo = -np.inf
                r_hi = np.inf
                c_lo = -np.inf
                c_hi = np.inf
                break
            r_lo = min(r_lo, br)
            r_hi = max(r_hi, br)
            c_lo = min(c_lo, bc)
            c_hi = max(c_hi, bc)
        ch_box[ch, 0] = r_lo
        ch_box[ch, 1] = r_hi
        ch_box[ch, 2] = c_lo
        ch_box[ch, 3] = c_hi
    # kept hits, one row each: lesion, normal, gap_mm, dip, has_cleft, contact (grown by
    # copying in a loop: slice assignment would compile Numba's shape-error formatting)
    res = np.empty((256, 6), dtype=np.float64)
    n = 0
    off_r = label_offset_rc[0]
    off_c = label_offset_rc[1]
    keep = 1.0 - contrast_fraction
    n_lv_les = n_lateral * (np.floor(lesion_px / dt + 1e-9) + 1.0)
    lv = np.empty(3, dtype=np.float64)
    # per-lesion scratch: hits before the facing-interface cut (at most one per normal)
    h_smp = np.empty(k, dtype=np.int64)
    h_t = np.empty(k, dtype=np.float64)
    h_tb = np.empty(k, dtype=np.float64)  # how far the edge walk moved the base out
    h_gap = np.empty(k, dtype=np.float64)
    h_lv = np.empty((k, 3), dtype=np.float64)
    for i in range(n_les):
        lo_r = bboxes[i, 0] - 0.5
        lo_c = bboxes[i, 1] - 0.5
        hi_r = bboxes[i, 2] - 0.5
        hi_c = bboxes[i, 3] - 0.5
        bg = plane[i, 0]
        noise = plane[i, 1]
        cen_r = plane[i, 2]
        cen_c = plane[i, 3]
        slope_r = plane[i, 4]
        slope_c = plane[i, 5]
        # the normals that hit the lesion, first: then the image around the next hit can be
        # fetched while the current one is sampled (those rows are rarely cached)
        n_hit = 0
        for ch in range(n_chunk):
            # a chunk wholly on the far side of one of the reach box's edges: each of its
            # points fails the test below on that edge
            if (ch_box[ch, 1] < lo_r - reach or ch_box[ch, 0] > hi_r + reach
                    or ch_box[ch, 3] < lo_c - reach or ch_box[ch, 2] > hi_c + reach):
                continue
            for j in range(ch * _CHUNK, min(k, (ch + 1) * _CHUNK)):
                br = base_rc[j, 0]
                bc = base_rc[j, 1]
                # no ray from outside the box grown by the reach can get there
                if (br < lo_r - reach or br > hi_r + reach or bc < lo_c - reach
                        or bc > hi_c + reach):
                    continue
                th = _cast_one(labels, label_ids[i], br - off_r, bc - off_c, normal_rc[j, 0],
                               normal_rc[j, 1], t_max_px[j], lo_r - off_r, lo_c - off_c,
                               hi_r - off_r, hi_c - off_c, step_px)
                if not np.isnan(th):
                    h_smp[n_hit] = j
                    h_t[n_hit] = th
                    n_hit += 1
        gap_min = np.inf
        for m in range(n_hit):
            if m + 1 < n_hit:
                jn = h_smp[m + 1]
                _prefetch_normal(image, base_rc[jn, 0], base_rc[jn, 1], normal_rc[jn, 0],
                                 normal_rc[jn, 1], lateral_px, n_lateral, -cortex_px,
                                 h_t[m + 1] + lesion_px)
            j = h_smp[m]
            th = h_t[m]
            br = base_rc[j, 0]
            bc = base_rc[j, 1]
            nr = normal_rc[j, 0]
            nc = normal_rc[j, 1]
            _levels(image, br, bc, nr, nc, th, cortex_px, lesion_px, lateral_px, n_lateral, dt,
                    lv)
            # the edge point is the cortex's half-maximum, which lies inside a projected
            # tube's outline (its thickness rises like a square root there): move it out
            # to where the image falls below edge_fraction of the cortex's contrast over
            # the background plane, the level the lesion's edge is found at below
            h_tb[m] = 0.0
            cortex_contrast = lv[0] - _trend(br, bc, nr, nc, -0.5 * cortex_px, cen_r, cen_c,
                                             slope_r, slope_c) - bg
            if cortex_contrast > 0:
                level = bg + _trend(br, bc, nr, nc, 0.0, cen_r, cen_c, slope_r, slope_c)
                t_b = _edge_out(image, br, bc, nr, nc, th, level + edge_fraction * cortex_contrast,
                                level + 0.5 * cortex_contrast, lateral_px, n_lateral, edge_dt)
                if t_b > 0.0:
                    h_tb[m] = t_b
                    br += t_b * nr
                    bc += t_b * nc
                    th -= t_b
                    _levels(image, br, bc, nr, nc, th, cortex_px, lesion_px, lateral_px,
                            n_lateral, dt, lv)
            # a mask drawn too tight (its edge inside a faint rim or a dense base) would
            # invent a gap: walk back from the mask edge to where the image falls below
            # edge_fraction of the lesion's contrast over the background plane
            trend_les = _trend(br, bc, nr, nc, th + 0.5 * lesion_px, cen_r, cen_c, slope_r,
                               slope_c)
            contrast = lv[2] - trend_les - bg
            if contrast > 0:
                trend_mid = _trend(br, bc, nr, nc, 0.5 * th, cen_r, cen_c, slope_r, slope_c)
                threshold = bg + trend_mid + edge_fraction * contrast
                t = th
                prev = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, t - edge_dt,
                                  t + edge_dt, edge_dt)
                t_img = th
                if not prev < threshold:
                    t_img = 0.0
                    while t > 0.0:
                        t_new = t - edge_dt
                        if t_new < 0.0:
                            t_new = 0.0
                        v = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral,
                                       t_new - edge_dt, t_new + edge_dt, edge_dt)
                        if v < threshold:
                            # crossing between t_new (below) and t (above)
                            t_img = t_new + (t - t_new) * (threshold - v) / (prev - v)
                            break
                        prev = v
                        t = t_new
                if t_img < th - 1.0:
                    th = t_img
                    _levels(image, br, bc, nr, nc, th, cortex_px, lesion_px, lateral_px,
                            n_lateral, dt, lv)
            h_t[m] = th
            h_gap[m] = th * mm_per_px[j]
            h_lv[m, 0] = lv[0]
            h_lv[m, 1] = lv[1]
            h_lv[m, 2] = lv[2]
            if h_gap[m] < gap_min:
                gap_min = h_gap[m]
        # keep the facing interface only: normals within the margin of the closest approach
        for m in range(n_hit):
            g_mm = h_gap[m]
            if not g_mm <= gap_min + interface_margin_mm:
                continue
            j = h_smp[m]
            th = h_t[m]
            br = base_rc[j, 0]
            bc = base_rc[j, 1]
            nr = normal_rc[j, 0]
            nc = normal_rc[j, 1]
            br += h_tb[m] * nr
            bc += h_tb[m] * nc
            gap_excess = h_lv[m, 1] - _trend(br, bc, nr, nc, 0.5 * th, cen_r, cen_c, slope_r,
                                             slope_c)
            lesion_excess = h_lv[m, 2] - _trend(br, bc, nr, nc, th + 0.5 * lesion_px, cen_r,
                                                cen_c, slope_r, slope_c)
            cortex_excess = h_lv[m, 0] - _trend(br, bc, nr, nc, -0.5 * cortex_px, cen_r, cen_c,
                                                slope_r, slope_c)
            # noise of (neighbour level - gap level): each level is a mean of bilinear
            # samples; samples one pixel apart on a blurred detector are correlated, so
            # count half of them
            n_gap = n_lateral * (np.floor(0.5 * th / dt + 1e-9) + 1.0)
            sigma = noise * np.sqrt(2.0 / n_gap + 2.0 / n_lv_les)
            if np.isnan(cortex_excess) or np.isnan(lesion_excess):
                lower = np.nan
            else:
                lower = cortex_excess if cortex_excess < lesion_excess else lesion_excess
            d = (lower - gap_excess) / sigma
            # contrast over the soft tissue: a lucent cleft keeps at most (1 -
            # contrast_fraction) of the lesion's; a gap between two masks as dense as the
            # lesion (an under-segmented base) is no cleft however significant
            lesion_contrast = lesion_excess - bg
            lucent = lesion_contrast <= 0 or gap_excess - bg <= keep * lesion_contrast
            cleft = g_mm >= min_gap_mm and d >= dip_sigma and lucent
            if n == res.shape[0]:
                bigger = np.empty((2 * n, 6), dtype=np.float64)
                for a in range(n):
                    for b in range(6):
                        bigger[a, b] = res[a, b]
                res = bigger
            res[n, 0] = i
            res[n, 1] = j
            res[n, 2] = g_mm
            res[n, 3] = d
            res[n, 4] = 1.0 if cleft else 0.0
            res[n, 5] = 1.0 if not cleft and g_mm < min_gap_mm else 0.0
            n += 1
    return res[:n]

"""Numba kernels of the cleft scan: rays from the cortex and bilinear line sampling.

Pure ``@njit(cache=True)`` functions of arrays and scalars (see :mod:`._kernels`); each has
a plain-NumPy twin in ``tests/profile/_profile_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --------------------------------------------------------------------------------------
# cleft scan: rays from the cortex, bilinear line sampling
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _is_label(labels, label_id, r, c):
    """Nearest-pixel lookup of ``labels == label_id`` at a sub-pixel point (False outside)."""
    ri = int(np.floor(r + 0.5))
    ci = int(np.floor(c + 0.5))
    if ri < 0 or ci < 0 or ri >= labels.shape[0] or ci >= labels.shape[1]:
        return False
    return labels[ri, ci] == label_id


@njit(cache=True)
def _cast_one(labels, label_id, br, bc, nr, nc, t_max, lo_r, lo_c, hi_r, hi_c, step_px):
    """One ray of :func:`_cast_rays`: t of entry into the lesion, or NaN."""
    # slab test against the bbox: march only where the ray is inside it
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


@njit(cache=True)
def _cast_rays(labels, label_id, base_rc, normal_rc, t_max_px, window, step_px):
    """Distance along each ray to the first pixel of a lesion.

    Parameters
    ----------
    labels : (M, N) int32 ndarray
    label_id : int
    base_rc, normal_rc : (K, 2) float64 ndarray
        Ray origins (row, col) and unit directions.
    t_max_px : (K,) float64 ndarray
        How far each ray may go (the reach, in pixels along that ray).
    window : (4,) int64 ndarray
        (r0, c0, r1, c1) bounding box of the lesion: rays that miss it are skipped
        without marching.
    step_px : float
        Marching step; the hit is then refined by bisection to 1/1024 of a step.

    Returns
    -------
    (K,) float64 ndarray
        Ray parameter t (pixels) where the ray enters the lesion's nearest-pixel footprint
        (0 when it starts inside), NaN when it does not within ``t_max_px``.
    """
    k = base_rc.shape[0]
    out = np.full(k, np.nan)
    for i in range(k):
        out[i] = _cast_one(labels, label_id, base_rc[i, 0], base_rc[i, 1], normal_rc[i, 0],
                           normal_rc[i, 1], t_max_px[i], window[0] - 0.5, window[1] - 0.5,
                           window[2] - 0.5, window[3] - 0.5, step_px)
    return out


@njit(cache=True)
def _cleft_batch(image, labels, label_ids, bboxes, base_rc, normal_rc, t_max_px, step_px,
                 cortex_px, lesion_px, lateral_px, n_lateral, dt):
    """:func:`_cast_rays` and :func:`_normal_levels` for many lesions in one call.

    Parameters
    ----------
    image, labels : (M, N) ndarrays (float32, int32)
    label_ids : (L,) int32 ndarray
    bboxes : (L, 4) int64 ndarray
        Tight end-exclusive boxes of the lesions.
    base_rc, normal_rc, t_max_px :
        All candidate normals of the image (see :func:`_cast_rays`).
    step_px, cortex_px, lesion_px, lateral_px, n_lateral, dt :
        As in :func:`_cast_rays` and :func:`_normal_levels`.

    Returns
    -------
    lesion : (H,) int64
        Lesion index (into ``label_ids``) of each hit, non-decreasing.
    sample : (H,) int64
        Index of the hitting normal.
    t_hit : (H,) float64
    levels : (H, 3) float64
    """
    n_les = label_ids.shape[0]
    k = base_rc.shape[0]
    reach = 0.0
    for j in range(k):
        if t_max_px[j] > reach:
            reach = t_max_px[j]
    cap = 256
    les = np.empty(cap, dtype=np.int64)
    smp = np.empty(cap, dtype=np.int64)
    th = np.empty(cap, dtype=np.float64)
    n = 0
    for i in range(n_les):
        lo_r = bboxes[i, 0] - 0.5
        lo_c = bboxes[i, 1] - 0.5
        hi_r = bboxes[i, 2] - 0.5
        hi_c = bboxes[i, 3] - 0.5
        for j in range(k):
            br = base_rc[j, 0]
            bc = base_rc[j, 1]
            # no ray from outside the box grown by the reach can get there
            if br < lo_r - reach or br > hi_r + reach or bc < lo_c - reach or bc > hi_c + reach:
                continue
            t = _cast_one(labels, label_ids[i], br, bc, normal_rc[j, 0], normal_rc[j, 1],
                          t_max_px[j], lo_r, lo_c, hi_r, hi_c, step_px)
            if np.isnan(t):
                continue
            if n == cap:
                cap *= 2
                les2 = np.empty(cap, dtype=np.int64)
                smp2 = np.empty(cap, dtype=np.int64)
                th2 = np.empty(cap, dtype=np.float64)
                les2[:n] = les[:n]
                smp2[:n] = smp[:n]
                th2[:n] = th[:n]
                les, smp, th = les2, smp2, th2
            les[n] = i
            smp[n] = j
            th[n] = t
            n += 1
    base = np.empty((n, 2), dtype=np.float64)
    normal = np.empty((n, 2), dtype=np.float64)
    for h in range(n):
        base[h, 0] = base_rc[smp[h], 0]
        base[h, 1] = base_rc[smp[h], 1]
        normal[h, 0] = normal_rc[smp[h], 0]
        normal[h, 1] = normal_rc[smp[h], 1]
    levels = _normal_levels(image, base, normal, th[:n], cortex_px, lesion_px, lateral_px,
                            n_lateral, dt)
    return les[:n].copy(), smp[:n].copy(), th[:n].copy(), levels


@njit(cache=True)
def _bilinear(image, r, c):
    """Bilinear sample of ``image`` at (r, c); coordinates are clamped to the image."""
    h, w = image.shape
    if r < 0.0:
        r = 0.0
    if c < 0.0:
        c = 0.0
    if r > h - 1.0:
        r = h - 1.0
    if c > w - 1.0:
        c = w - 1.0
    r0 = int(np.floor(r))
    c0 = int(np.floor(c))
    r1 = min(r0 + 1, h - 1)
    c1 = min(c0 + 1, w - 1)
    fr = r - r0
    fc = c - c0
    top = image[r0, c0] * (1.0 - fc) + image[r0, c1] * fc
    bot = image[r1, c0] * (1.0 - fc) + image[r1, c1] * fc
    return top * (1.0 - fr) + bot * fr


@njit(cache=True)
def _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, ta, tb, dt):
    """Mean of bilinear samples on ``n_lateral`` parallel lines, t in [ta, tb] every dt."""
    total = 0.0
    n = 0
    n_t = int(np.floor((tb - ta) / dt + 1e-9)) + 1
    for j in range(n_lateral):
        off = 0.0 if n_lateral == 1 else lateral_px * (2.0 * j / (n_lateral - 1) - 1.0)
        # lateral offsets run along the tangent (-nc, nr)
        sr = br - off * nc
        sc = bc + off * nr
        for i in range(n_t):
            t = ta + i * dt
            total += _bilinear(image, sr + t * nr, sc + t * nc)
            n += 1
    return total / n if n > 0 else np.nan


@njit(cache=True)
def _normal_levels(
    image, base_rc, normal_rc, t_hit, cortex_px, lesion_px, lateral_px, n_lateral, dt
):
    """Cortex, gap and lesion intensity levels along each cortex normal.

    Parameters
    ----------
    image : (M, N) float32 ndarray
    base_rc, normal_rc : (K, 2) float64 ndarray
        Points on the periosteal edge and outward unit normals.
    t_hit : (K,) float64 ndarray
        Where each normal enters the lesion (pixels); NaN rows give NaN levels.
    cortex_px, lesion_px : float
        Depth of the cortex window [-cortex_px, 0] and of the lesion window
        [t_hit, t_hit + lesion_px].
    lateral_px : float
        Half-width of the band of ``n_lateral`` parallel lines averaged together.
    dt : float
        Sample spacing along the normal.

    Returns
    -------
    (K, 3) float64 ndarray
        Mean intensity over the cortex window, over the middle half of the gap
        [t_hit/4, 3 t_hit/4] (NaN when t_hit < 2 dt: no gap to sample), and over the
        lesion window.
    """
    k = base_rc.shape[0]
    out = np.full((k, 3), np.nan)
    for i in range(k):
        th = t_hit[i]
        if np.isnan(th):
            continue
        br = base_rc[i, 0]
        bc = base_rc[i, 1]
        nr = normal_rc[i, 0]
        nc = normal_rc[i, 1]
        out[i, 0] = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, -cortex_px, 0.0, dt)
        if th >= 2.0 * dt:
            out[i, 1] = _line_mean(
                image, br, bc, nr, nc, lateral_px, n_lateral, 0.25 * th, 0.75 * th, dt
            )
        out[i, 2] = _line_mean(
            image, br, bc, nr, nc, lateral_px, n_lateral, th, th + lesion_px, dt
        )
    return out


@njit(cache=True)
def _edge_back(image, base_rc, normal_rc, t_hit, threshold, lateral_px, n_lateral, dt):
    """Where each normal really enters the lesion, found in the image from the mask edge.

    Walks from ``t_hit`` (the mask edge) back towards the cortex (t = 0) in steps ``dt``;
    the value at t is the mean of bilinear samples on ``n_lateral`` parallel lines at
    t - dt, t and t + dt. The first value below ``threshold[i]`` ends the walk and the
    crossing is interpolated linearly between it and the previous step. A value at
    ``t_hit`` already below the threshold returns ``t_hit``; a walk that reaches t = 0
    without falling below it returns 0 (the lesion is continuous with the cortex).

    Returns
    -------
    (K,) float64 ndarray
        The refined entry parameter (pixels), never beyond ``t_hit``; NaN rows stay NaN.
    """
    k = base_rc.shape[0]
    out = np.full(k, np.nan)
    for i in range(k):
        th = t_hit[i]
        if np.isnan(th) or np.isnan(threshold[i]):
            out[i] = th
            continue
        br = base_rc[i, 0]
        bc = base_rc[i, 1]
        nr = normal_rc[i, 0]
        nc = normal_rc[i, 1]
        t = th
        prev = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, t - dt, t + dt, dt)
        if prev < threshold[i]:
            out[i] = th
            continue
        res = 0.0
        while t > 0.0:
            t_new = t - dt
            if t_new < 0.0:
                t_new = 0.0
            v = _line_mean(image, br, bc, nr, nc, lateral_px, n_lateral, t_new - dt,
                           t_new + dt, dt)
            if v < threshold[i]:
                # crossing between t_new (below) and t (above)
                res = t_new + (t - t_new) * (threshold[i] - v) / (prev - v)
                break
            prev = v
            t = t_new
        out[i] = res
    return out

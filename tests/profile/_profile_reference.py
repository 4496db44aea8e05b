"""Plain-NumPy twins of the Numba kernels in hoimg.profile._kernels, ._cleft_kernels and
._feature_kernels (slow, obvious code)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def edt_sq(feature: np.ndarray) -> np.ndarray:
    """Brute-force squared distance to the nearest nonzero pixel (1e30 if none)."""
    h, w = feature.shape
    pts = np.argwhere(feature != 0)
    if pts.size == 0:
        return np.full((h, w), 1e30)
    rr, cc = np.mgrid[:h, :w]
    d = (rr[..., None] - pts[:, 0]) ** 2 + (cc[..., None] - pts[:, 1]) ** 2
    return d.min(axis=-1).astype(np.float64)


def diamond_angle(dr: np.ndarray, dc: np.ndarray) -> np.ndarray:
    dr = np.asarray(dr, dtype=np.float64)
    dc = np.asarray(dc, dtype=np.float64)
    out = np.zeros(np.broadcast(dr, dc).shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = dr / (dc + dr)
        b = 1.0 - dc / (-dc + dr)
        c = 2.0 - dr / (-dc - dr)
        d = 3.0 + dc / (dc - dr)
    out = np.where(dr >= 0, np.where(dc >= 0, a, b), np.where(dc < 0, c, d))
    return np.where((dr == 0) & (dc == 0), 0.0, out)


def strided(values, max_samples):
    stride = -(-values.size // max_samples)
    return values[::stride]


def radial_profile_window(image, labels, label_id, exclude, r0, c0, r1, c1, band_inner,
                          band_outer, n_bins, n_sectors, edges, max_samples, f, grow_sigma=0.0,
                          exclude_halo=0.0, grow_passes=1):
    """Twin of _radial_profile_window (block means, then the same steps array-wise).

    With ``grow_sigma > 0`` the support is grown ``grow_passes`` times, each from the plane
    and noise of the measurement before it (unconditionally; the kernel's regrowth rule
    decides per pass, see the tests)."""
    sums = np.zeros((n_sectors, n_bins))
    counts = np.zeros((n_sectors, n_bins), dtype=np.int64)
    ref_sums = np.zeros(n_bins)
    stats = np.full(11, np.nan)
    stats[10] = f
    full = image.astype(np.float64)
    lab = labels[r0:r1, c0:c1]
    h, w = lab.shape
    if exclude.shape == labels.shape:
        ex_full = exclude[r0:r1, c0:c1] != 0
    else:
        ex_full = np.zeros((h, w), bool)
    hh, ww = -(-h // f), -(-w // f)
    img = np.zeros((hh, ww))
    inside = np.zeros((hh, ww), bool)
    other = np.zeros((hh, ww), bool)
    excl = np.zeros((hh, ww), bool)
    for br in range(hh):
        for bc in range(ww):
            sl = (slice(br * f, min(br * f + f, h)), slice(bc * f, min(bc * f + f, w)))
            img[br, bc] = full[r0:r1, c0:c1][sl].mean()
            nr_, nc_ = lab[sl].shape
            cr, cc = br * f + min(f // 2, nr_ - 1), bc * f + min(f // 2, nc_ - 1)
            v = lab[cr, cc]
            inside[br, bc] = v == label_id
            other[br, bc] = v != label_id and v != 0
            excl[br, bc] = ex_full[cr, cc]
    halo = int(exclude_halo / f + 0.5)
    if halo > 0 and exclude.shape == labels.shape:
        # plain blocks within `halo` blocks (Euclidean) of an excluded one
        yy, xx = np.mgrid[-halo:halo + 1, -halo:halo + 1]
        near = ndi.binary_dilation(excl, structure=yy**2 + xx**2 <= halo**2)
        excl |= near & ~inside & ~other
    for it in range(grow_passes + 1):
        prof = inside & ~excl
        if not prof.any():
            return sums, counts, ref_sums, stats
        pr_, pc_ = np.nonzero(prof)
        cen_r, cen_c = pr_.mean(), pc_.mean()
        ir_, ic_ = np.nonzero(inside)
        tr0, tr1, tc0, tc1 = ir_.min(), ir_.max(), ic_.min(), ic_.max()
        pad_in = np.pad(inside, 1)
        pad_ex = np.pad(excl, 1)
        sub_in = pad_in[tr0:tr1 + 3, tc0:tc1 + 3]
        sub_ex = pad_ex[tr0:tr1 + 3, tc0:tc1 + 3]
        feat = ~sub_in & ~sub_ex
        if not feat.any():
            feat = ~sub_in
        d_in = np.zeros((hh + 2, ww + 2))
        d_in[tr0:tr1 + 3, tc0:tc1 + 3] = edt_sq(feat)
        d_out = edt_sq(pad_in)[1:-1, 1:-1]
        q = d_in[1:-1, 1:-1][prof]
        d_max = np.sqrt(q.max())
        k = np.clip(((1.0 - np.sqrt(q) / d_max) * n_bins).astype(np.int64), 0, n_bins - 1)
        band = ~inside & ~other & (d_out > (band_inner / f) ** 2) & (d_out <= (band_outer / f) ** 2)
        use = band & ~excl
        if not use.any():
            use = band
        if not use.any():
            return sums, counts, ref_sums, stats
        bv = img[use]
        med = np.median(strided(bv, max_samples))
        tol = 3.0 * 1.482602218505602 * np.median(strided(np.abs(bv - med), max_samples))
        br_, bc_ = np.nonzero(use)
        fit = np.abs(bv - med) <= tol
        scale = d_max if d_max > 1.0 else 1.0
        x = (br_[fit] - cen_r) / scale
        y = (bc_[fit] - cen_c) / scale
        a_mat = np.column_stack([np.ones(x.size), x, y])
        m = a_mat.T @ a_mat
        plane = np.array([med, 0.0, 0.0])
        if fit.sum() >= 10 and abs(np.linalg.det(m)) > 1e-9 * abs(m[0, 0] * m[1, 1] * m[2, 2]):
            plane = np.linalg.solve(m, a_mat.T @ bv[fit])
        pa, pr, pc = plane[0], plane[1] / scale, plane[2] / scale
        # noise: full-resolution horizontal pairs whose blocks are both in the band
        diffs = []
        win = full[r0:r1, c0:c1]
        for br in range(hh):
            for bc in range(ww):
                if not band[br, bc]:
                    continue
                r = br * f
                for c in range(bc * f, min(bc * f + f, w - 1)):
                    if band[br, (c + 1) // f]:
                        diffs.append(win[r, c + 1] - win[r, c])
        if diffs:
            d = strided(np.array(diffs), max_samples)
            stats[1] = 1.482602218505602 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)
        if it == grow_passes or not grow_sigma > 0 or not stats[1] > 0:
            break
        thr = grow_sigma * stats[1] / f
        rr_, cc_ = np.mgrid[:hh, :ww]
        resid = img - (pa + pr * (rr_ - cen_r) + pc * (cc_ - cen_c))
        cand = ~inside & ~other & ~excl & (resid > thr)
        grown = inside.copy()
        while True:
            g = np.pad(grown, 1)
            nb = g[:-2, 1:-1] | g[2:, 1:-1] | g[1:-1, :-2] | g[1:-1, 2:]
            new = grown | (nb & cand)
            if (new == grown).all():
                break
            grown = new
        if (grown == inside).all():
            break
        inside = grown
    bg = pa + pr * (pr_ - cen_r) + pc * (pc_ - cen_c)
    a = diamond_angle(pr_ - cen_r, pc_ - cen_c)
    sec = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, n_sectors - 1)
    ff = f * f
    np.add.at(sums, (sec, k), ff * (img[prof] - bg))
    np.add.at(counts, (sec, k), ff)
    e = np.maximum(np.sqrt(q) - 0.5, 0.0)
    e_max = d_max - 0.5
    ref = np.sqrt(np.maximum(e * (2 * e_max - e), 0.0))
    ref_sums = np.bincount(k, weights=ff * ref, minlength=n_bins)
    # gradient index over profiled blocks away from the window's block border
    g_num = g_den = 0.0
    sq = np.sqrt(d_in)
    for i in range(pr_.size):
        r, c = pr_[i], pc_[i]
        if not (0 < r < hh - 1 and 0 < c < ww - 1):
            continue
        gr = 0.5 * (img[r + 1, c] - img[r - 1, c]) - pr
        gc = 0.5 * (img[r, c + 1] - img[r, c - 1]) - pc
        nr = -0.5 * (sq[r + 2, c + 1] - sq[r, c + 1])
        nc = -0.5 * (sq[r + 1, c + 2] - sq[r + 1, c])
        nn = np.hypot(nr, nc)
        g_den += np.hypot(gr, gc)
        if nn > 1e-9:
            g_num += (gr * nr + gc * nc) / nn
    stats[0] = pa
    stats[2] = d_max * f
    stats[3], stats[4] = g_num, g_den
    stats[5] = r0 + f * cen_r + 0.5 * (f - 1)
    stats[6] = c0 + f * cen_c + 0.5 * (f - 1)
    stats[7] = fit.sum()
    stats[8], stats[9] = pr / f, pc / f
    return sums, counts, ref_sums, stats


def is_label(labels, label_id, r, c):
    ri = np.floor(np.asarray(r) + 0.5).astype(np.int64)
    ci = np.floor(np.asarray(c) + 0.5).astype(np.int64)
    ok = (ri >= 0) & (ci >= 0) & (ri < labels.shape[0]) & (ci < labels.shape[1])
    out = np.zeros(ri.shape, dtype=bool)
    out[ok] = labels[ri[ok], ci[ok]] == label_id
    return out


def cast_rays(labels, label_id, base, normal, t_max, fine=1e-4):
    """Twin of _cast_rays: densely sampled rays (no bbox shortcut)."""
    out = np.full(base.shape[0], np.nan)
    for i in range(base.shape[0]):
        t = np.arange(0.0, t_max[i] + fine / 2, fine)
        rr = base[i, 0] + t * normal[i, 0]
        cc = base[i, 1] + t * normal[i, 1]
        hit = is_label(labels, label_id, rr, cc)
        if hit.any():
            out[i] = t[np.argmax(hit)]
    return out


def bilinear(image, r, c):
    """Bilinear sample with clamped coordinates (as scipy map_coordinates order=1 'nearest')."""
    from scipy.ndimage import map_coordinates

    return map_coordinates(image.astype(np.float64), [np.atleast_1d(r), np.atleast_1d(c)],
                           order=1, mode="nearest")


def normal_levels(image, base, normal, t_hit, cortex_px, lesion_px, lateral_px, n_lateral, dt):
    out = np.full((base.shape[0], 3), np.nan)

    def line_mean(i, ta, tb):
        n_t = int(np.floor((tb - ta) / dt + 1e-9)) + 1
        t = ta + dt * np.arange(n_t)
        if n_lateral == 1:
            offs = np.zeros(1)
        else:
            offs = lateral_px * (2.0 * np.arange(n_lateral) / (n_lateral - 1) - 1.0)
        br, bc = base[i]
        nr, nc = normal[i]
        rr = (br - offs[:, None] * nc) + t[None, :] * nr
        cc = (bc + offs[:, None] * nr) + t[None, :] * nc
        return bilinear(image, rr.ravel(), cc.ravel()).mean()

    for i in range(base.shape[0]):
        th = t_hit[i]
        if np.isnan(th):
            continue
        out[i, 0] = line_mean(i, -cortex_px, 0.0)
        if th >= 2 * dt:
            out[i, 1] = line_mean(i, 0.25 * th, 0.75 * th)
        out[i, 2] = line_mean(i, th, th + lesion_px)
    return out


def spearman(x, y):
    """Spearman rank correlation (average ranks for ties); NaN for < 3 points."""
    if x.size < 3:
        return float("nan")

    def ranks(a):
        order = np.argsort(a, kind="mergesort")
        r = np.empty(a.size, dtype=np.float64)
        r[order] = np.arange(a.size, dtype=np.float64)
        for v in np.unique(a):
            sel = a == v
            if sel.sum() > 1:
                r[sel] = r[sel].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = np.sqrt(np.sum(rx * rx) * np.sum(ry * ry))
    return float(np.sum(rx * ry) / den) if den > 0 else float("nan")


def profile_features(sums, counts, ref_sums, stats, rim_start, core_end, rim_sigma, min_ppb):
    """Twin of _profile_features, written bin-array-wise for one lesion at a time."""
    out = np.full((sums.shape[0], 8), np.nan)
    for li in range(sums.shape[0]):
        su, co, rs, st = sums[li], counts[li], ref_sums[li], stats[li]
        n_sec, n_bins = su.shape
        s = (np.arange(n_bins) + 0.5) / n_bins
        bg, noise = st[0], st[1]
        cnt = co.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = su.sum(axis=0) / cnt
        values[cnt == 0] = np.nan
        few = (cnt == 0).any() or cnt.sum() < min_ppb * n_bins or np.isnan(bg)
        out[li, 6] = float(few)
        ok = np.flatnonzero(np.isfinite(values))
        if ok.size:
            k = int(ok[np.argmax(values[ok])])
            pos = s[k]
            if 0 < k < n_bins - 1 and np.isfinite(values[k - 1]) and np.isfinite(values[k + 1]):
                a, b, c = values[k - 1], values[k], values[k + 1]
                den = a - 2 * b + c
                if den < 0:
                    pos += 0.5 * (a - c) / den * (s[1] - s[0])
            out[li, 0] = min(max(pos, 0.0), 1.0)
        rim, core = s >= rim_start, s <= core_end
        n_rim, n_core = cnt[rim].sum(), cnt[core].sum()
        if n_rim and n_core and np.isfinite(bg):
            rim_mean = su[:, rim].sum() / n_rim
            core_mean = su[:, core].sum() / n_core
            peak_abs = np.nanmax(np.abs(values))
            se = noise / np.sqrt(n_core) if np.isfinite(noise) else 0.0
            out[li, 1] = rim_mean / max(core_mean, 2 * se, 0.02 * peak_abs, 1e-12)
            x = max(rim_mean, 0) / (rs[rim].sum() / n_rim)
            y = max(core_mean, 0) / (rs[core].sum() / n_core)
            out[li, 2] = (x - y) / (x + y) if x + y > 0 else 0.0
            if np.isfinite(noise):
                hits = 0
                for k in range(n_sec):
                    sel = (s >= 0.5) & (co[k] > 0)
                    if not sel.any():
                        continue
                    sv = su[k, sel] / co[k, sel]
                    j = int(np.argmax(sv))
                    se_k = noise * np.sqrt(1.0 / co[k, sel][j] + 1.0 / n_core)
                    hits += sv[j] - core_mean > rim_sigma * se_k
                out[li, 3] = hits / n_sec
        if st[4] > 0:
            out[li, 4] = st[3] / st[4]
        fin = np.isfinite(values)
        out[li, 5] = spearman(s[fin], values[fin])
        if np.isfinite(bg) and st[10] > 0:
            out[li, 7] = shape_index(values, cnt, rs, st[2] / st[10] - 0.5, core_end)
    return out


def shape_index(values, cnt, ref_sums, e_max, core_end):
    """Twin of _shape_index: the offset found by bisection on the chord ratio, array-wise."""
    n_bins = cnt.shape[0]
    s = (np.arange(n_bins) + 0.5) / n_bins
    if (cnt == 0).any() or not e_max > 0:
        return np.nan
    core = s <= core_end
    mid = (s >= 0.5) & (np.arange(n_bins) < n_bins - 1)
    if not core.any() or not mid.any():
        return np.nan
    core_mean = (values[core] * cnt[core]).sum() / cnt[core].sum()
    if not core_mean > 0:
        return np.nan
    d_max = e_max + 0.5
    # 8 distances per bin, weighted by a disc's circumference there
    d = (1.0 - (np.arange(n_bins)[:, None] + (np.arange(8) + 0.5) / 8.0) / n_bins) * d_max
    e = np.maximum(d - 0.5, 0.0)
    w = d_max - d
    own = (w * np.sqrt(e * (2 * e_max - e))).sum(axis=1)

    def scaled(delta):
        ed = e + delta
        off = (w * np.sqrt(ed * (2 * (e_max + delta) - ed))).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(own > 0, off / own, 1.0)
        r = ref_sums * scale
        return r, (r[-1] / cnt[-1]) / (r[core].sum() / cnt[core].sum())

    target = values[-1] / core_mean
    r, ratio = scaled(0.0)
    if target > ratio:
        lo, hi = 0.0, 50.0 * e_max
        r, ratio = scaled(hi)
        if ratio > target:
            for _ in range(60):
                m = 0.5 * (lo + hi)
                if scaled(m)[1] < target:
                    lo = m
                else:
                    hi = m
            r, _ = scaled(hi)
    if not (r[core].sum() > 0 and r[mid].sum() > 0):
        return np.nan
    x = max((values[mid] * cnt[mid]).sum() / r[mid].sum(), 0.0)
    y = (values[core] * cnt[core]).sum() / r[core].sum()
    return (x - y) / (x + y)


def _walk_sampler(image, base, normal, lateral_px, n_lateral, dt):
    """value(i, t): mean of bilinear samples at t - dt, t, t + dt on normal i's lines."""
    offs = lateral_px * (2.0 * np.arange(n_lateral) / (n_lateral - 1) - 1.0) if n_lateral > 1 \
        else np.zeros(1)

    def value(i, t):
        br, bc = base[i]
        nr, nc = normal[i]
        ts = np.array([t - dt, t, t + dt])
        rr = (br - offs[:, None] * nc) + ts[None, :] * nr
        cc = (bc + offs[:, None] * nr) + ts[None, :] * nc
        return bilinear(image, rr.ravel(), cc.ravel()).mean()

    return value


def edge_back(image, base, normal, t_hit, threshold, lateral_px, n_lateral, dt):
    """Twin of _edge_back: sample the whole walk at once, then find the first crossing."""
    out = np.full(base.shape[0], np.nan)
    value = _walk_sampler(image, base, normal, lateral_px, n_lateral, dt)

    for i in range(base.shape[0]):
        th = t_hit[i]
        if np.isnan(th) or np.isnan(threshold[i]):
            out[i] = th
            continue
        prev = value(i, th)
        if prev < threshold[i]:
            out[i] = th
            continue
        t, res = th, 0.0
        while t > 0.0:
            t_new = max(t - dt, 0.0)
            v = value(i, t_new)
            if v < threshold[i]:
                res = t_new + (t - t_new) * (threshold[i] - v) / (prev - v)
                break
            prev, t = v, t_new
        out[i] = res
    return out


def edge_out(image, base, normal, t_hit, threshold, dip_below, lateral_px, n_lateral, dt):
    """Twin of _edge_out: sample the walk out from the cortex edge, find its end."""
    out = np.zeros(base.shape[0])
    value = _walk_sampler(image, base, normal, lateral_px, n_lateral, dt)

    for i in range(base.shape[0]):
        if np.isnan(threshold[i]):
            continue
        th, prev = t_hit[i], value(i, 0.0)
        if prev < threshold[i]:
            continue
        t, res = 0.0, th
        while t < th:
            t_new = min(t + dt, th)
            v = value(i, t_new)
            if v < threshold[i]:
                res = t + (t_new - t) * (prev - threshold[i]) / (prev - v)
                break
            if v > prev and v < dip_below[i]:
                res = t
                break
            prev, t = v, t_new
        out[i] = res
    return out


def cast_one(labels, label_id, br, bc, nr, nc, t_max, lo_r, lo_c, hi_r, hi_c, step_px):
    """Plain-Python twin of _cast_one: slab test, march, 10 bisections."""
    t0, t1 = 0.0, t_max
    for b, n, lo, hi in ((br, nr, lo_r, hi_r), (bc, nc, lo_c, hi_c)):
        if abs(n) < 1e-12:
            if b < lo or b > hi:
                return np.nan
        else:
            ta, tb = sorted(((lo - b) / n, (hi - b) / n))
            t0, t1 = max(t0, ta), min(t1, tb)
    if t0 > t1:
        return np.nan

    def hit(t):
        return bool(is_label(labels, label_id, br + t * nr, bc + t * nc))

    t_prev = t = t0
    while t <= t1 + 1e-9:
        if hit(t):
            break
        t_prev, t = t, t + step_px
    else:
        return np.nan
    if t == t_prev:
        return t
    a, b = t_prev, t
    for _ in range(10):
        m = 0.5 * (a + b)
        a, b = (a, m) if hit(m) else (m, b)
    return b


def cleft_batch(image, labels, offset, label_ids, bboxes, base, normal, t_max, mm_per_px, plane,
                step_px, cortex_px, lesion_px, lateral_px, n_lateral, dt, edge_dt, edge_fraction,
                margin_mm, min_gap_mm, dip_sigma, contrast_fraction):
    """Twin of _cleft_batch: per lesion, cast every normal, then the decisions array-wise."""
    out = {k: [] for k in ("lesion", "sample", "gap_mm", "dip", "has_cleft", "contact")}
    for i, lid in enumerate(label_ids):
        lo_r, lo_c, hi_r, hi_c = (float(v) - 0.5 for v in bboxes[i])
        t_hit = np.array([
            cast_one(labels, lid, base[j, 0] - offset[0], base[j, 1] - offset[1], normal[j, 0],
                     normal[j, 1], t_max[j], lo_r - offset[0], lo_c - offset[1],
                     hi_r - offset[0], hi_c - offset[1], step_px)
            for j in range(base.shape[0])])
        idx = np.flatnonzero(np.isfinite(t_hit))
        if idx.size == 0:
            continue
        t_hit = t_hit[idx]
        b, n = base[idx], normal[idx]
        bg, noise, cen_r, cen_c, slope_r, slope_c = plane[i]

        def trend(t, b=b, n=n, cen_r=cen_r, cen_c=cen_c, slope_r=slope_r, slope_c=slope_c):
            return slope_r * (b[:, 0] + t * n[:, 0] - cen_r) + slope_c * (
                b[:, 1] + t * n[:, 1] - cen_c)

        largs = (cortex_px, lesion_px, lateral_px, n_lateral, dt)
        levels = normal_levels(image, b, n, t_hit, *largs)
        cortex_contrast = levels[:, 0] - trend(-0.5 * cortex_px) - bg
        with np.errstate(invalid="ignore"):
            out_thr = np.where(cortex_contrast > 0,
                               bg + trend(0.0) + edge_fraction * cortex_contrast, np.nan)
        dip_below = bg + trend(0.0) + 0.5 * cortex_contrast
        t_b = edge_out(image, b, n, t_hit, out_thr, dip_below, lateral_px, n_lateral, edge_dt)
        if (t_b > 0).any():
            b = b + t_b[:, None] * n
            t_hit = t_hit - t_b
            moved = t_b > 0
            levels[moved] = normal_levels(image, b[moved], n[moved], t_hit[moved], *largs)
        contrast = levels[:, 2] - trend(t_hit + 0.5 * lesion_px, b, n) - bg
        with np.errstate(invalid="ignore"):
            threshold = np.where(contrast > 0,
                                 bg + trend(0.5 * t_hit, b, n) + edge_fraction * contrast, np.nan)
        t_img = edge_back(image, b, n, t_hit, threshold, lateral_px, n_lateral, edge_dt)
        moved = t_img < t_hit - 1.0
        if moved.any():
            t_hit = np.where(moved, t_img, t_hit)
            levels[moved] = normal_levels(image, b[moved], n[moved], t_hit[moved], *largs)
        gap_mm = t_hit * mm_per_px[idx]
        face = gap_mm <= gap_mm.min() + margin_mm
        idx, t_hit, gap_mm, levels, b, n = (idx[face], t_hit[face], gap_mm[face], levels[face],
                                           b[face], n[face])
        gap_x = levels[:, 1] - trend(0.5 * t_hit, b, n)
        les_x = levels[:, 2] - trend(t_hit + 0.5 * lesion_px, b, n)
        cor_x = levels[:, 0] - trend(-0.5 * cortex_px, b, n)
        n_gap = n_lateral * (np.floor(0.5 * t_hit / dt + 1e-9) + 1.0)
        n_les = n_lateral * (np.floor(lesion_px / dt + 1e-9) + 1.0)
        sigma = noise * np.sqrt(2.0 / n_gap + 2.0 / n_les)
        with np.errstate(invalid="ignore", divide="ignore"):
            dip = (np.minimum(cor_x, les_x) - gap_x) / sigma
            lucent = (les_x - bg <= 0) | (gap_x - bg <= (1.0 - contrast_fraction) * (les_x - bg))
            cleft = (gap_mm >= min_gap_mm) & (dip >= dip_sigma) & lucent
        out["lesion"].append(np.full(idx.size, i))
        out["sample"].append(idx)
        out["gap_mm"].append(gap_mm)
        out["dip"].append(dip)
        out["has_cleft"].append(cleft)
        out["contact"].append(~cleft & (gap_mm < min_gap_mm))
    return tuple(np.concatenate(v) if v else np.empty(0) for v in out.values())


def resample_edges(points_list, normals_list, spacing, step_mm):
    """Twin of _resample_edges (per edge: arc length, np.arange targets, nearest point)."""
    sp = np.asarray(spacing, dtype=np.float64)
    out = [[] for _ in range(5)]
    for i, (pts, nrm) in enumerate(zip(points_list, normals_list, strict=True)):
        if pts.shape[0] == 0:
            continue
        seg = np.sqrt(((np.diff(pts, axis=0) * sp) ** 2).sum(axis=1))
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        targets = np.arange(0.0, arc[-1] + 1e-9, step_mm)
        idx = np.clip(np.searchsorted(arc, targets), 0, pts.shape[0] - 1)
        prev = np.clip(idx - 1, 0, pts.shape[0] - 1)
        idx = np.unique(np.where(np.abs(arc[prev] - targets) < np.abs(arc[idx] - targets), prev, idx))
        for lst, val in zip(out, (pts[idx], nrm[idx], np.full(idx.size, i), np.arange(idx.size),
                                  arc[idx]), strict=True):
            lst.append(val)
    base, normal, edge, seq, arc = (np.concatenate(v) for v in out)
    norm = np.hypot(normal[:, 0], normal[:, 1])
    good = norm > 1e-9
    normal = normal[good] / norm[good, None]
    return (base[good], normal, edge[good], seq[good], arc[good],
            np.hypot(normal[:, 0] * sp[0], normal[:, 1] * sp[1]))

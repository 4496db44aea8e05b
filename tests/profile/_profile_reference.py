"""Plain-NumPy twins of the Numba kernels in hoimg.profile._kernels (slow, obvious code)."""

from __future__ import annotations

import numpy as np


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


def radial_profile_window(image, labels, label_id, exclude, r0, c0, r1, c1, band_inner,
                          band_outer, n_bins, n_sectors, edges):
    """Twin of _radial_profile_window."""
    img = image[r0:r1, c0:c1].astype(np.float64)
    lab = labels[r0:r1, c0:c1]
    inside = lab == label_id
    pad = np.pad(inside, 1)
    d_in = edt_sq(~pad)[1:-1, 1:-1]
    d_out = edt_sq(pad)[1:-1, 1:-1]
    rr, cc = np.nonzero(inside)
    cen_r = (rr + r0).mean()
    cen_c = (cc + c0).mean()
    q = d_in[inside]
    d_max = np.sqrt(q.max())
    s = 1.0 - np.sqrt(q) / d_max
    k = np.clip((s * n_bins).astype(np.int64), 0, n_bins - 1)
    a = diamond_angle(rr + r0 - cen_r, cc + c0 - cen_c)
    sec = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, n_sectors - 1)
    vals = img[inside]
    sums = np.zeros((n_sectors, n_bins))
    counts = np.zeros((n_sectors, n_bins), dtype=np.int64)
    np.add.at(sums, (sec, k), vals)
    np.add.at(counts, (sec, k), 1)
    e = np.maximum(np.sqrt(q) - 0.5, 0.0)
    e_max = d_max - 0.5
    ref = np.sqrt(np.maximum(e * (2 * e_max - e), 0.0))
    ref_sums = np.bincount(k, weights=ref, minlength=n_bins)
    band = (~inside) & (d_out > band_inner**2) & (d_out <= band_outer**2) & (lab == 0)
    use = band.copy()
    if exclude.shape == labels.shape:
        use &= exclude[r0:r1, c0:c1] == 0
    if not use.any():
        use = band
    stats = np.full(8, np.nan)
    stats[0] = np.median(img[use])
    pairs = band[:, :-1] & band[:, 1:]
    diffs = (img[:, 1:] - img[:, :-1])[pairs]
    stats[1] = 1.482602218505602 * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2.0)
    # gradient index over inside pixels away from the window border
    inner = inside.copy()
    inner[0, :] = inner[-1, :] = inner[:, 0] = inner[:, -1] = False
    sq = np.sqrt(np.pad(d_in, 1))
    gr = np.zeros_like(img)
    gc = np.zeros_like(img)
    gr[1:-1, :] = 0.5 * (img[2:, :] - img[:-2, :])
    gc[:, 1:-1] = 0.5 * (img[:, 2:] - img[:, :-2])
    nr = -0.5 * (sq[2:, 1:-1] - sq[:-2, 1:-1])
    nc = -0.5 * (sq[1:-1, 2:] - sq[1:-1, :-2])
    nn = np.hypot(nr, nc)
    ok = inner & (nn > 1e-9)
    stats[3] = np.sum((gr * nr + gc * nc)[ok] / nn[ok])
    stats[4] = np.sum(np.hypot(gr, gc)[inner])
    stats[2] = d_max
    stats[5], stats[6] = cen_r, cen_c
    stats[7] = use.sum()
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

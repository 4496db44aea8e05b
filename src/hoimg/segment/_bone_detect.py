"""Candidate bones: long, wide, dense blobs, found before the final background.

In projection a long bone is two bright cortical lines with marrow between them; a local
background at lesion scale follows the marrow, so only the cortices stand out. The
strongly dense pixels are therefore closed across the largest bone width on a ~1 mm grid,
which turns each pair of cortices into one blob; blobs that are long, elongated and wide
enough are bones. Attached or nearby lesions may be swallowed here; the smooth-edge fit
(:mod:`._bone_fit`) separates them again.
"""

from __future__ import annotations

import numpy as np

from ._grid import WorkGrid, ellipse


def shape_of(mask: np.ndarray, px_mm: float) -> tuple[float, float]:
    """(length_mm, mean width_mm) of a blob along its principal axis."""
    rr, cc = np.nonzero(mask)
    if rr.size < 3:
        return 0.0, 0.0
    pts = np.stack([rr, cc], 1).astype(np.float64)
    pts -= pts.mean(0)
    evals, evecs = np.linalg.eigh(np.cov(pts.T))
    proj = pts @ evecs[:, 1]
    length = float(np.ptp(proj) + 1) * px_mm
    return length, rr.size * px_mm**2 / max(length, 1e-9)


def _axis_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Centre, unit direction, half-length and half-width (pixels) of a blob."""
    rr, cc = np.nonzero(mask)
    pts = np.stack([rr, cc], 1).astype(np.float64)
    ctr = pts.mean(0)
    evals, evecs = np.linalg.eigh(np.cov((pts - ctr).T))
    d = evecs[:, 1]
    along = (pts - ctr) @ d
    across = (pts - ctr) @ np.array([-d[1], d[0]])
    return ctr, d, 0.5 * float(np.ptp(along)), 0.5 * float(np.ptp(across))


def _merge_collinear(lab: np.ndarray, ids: list[int], max_offset_px: float) -> list[list[int]]:
    """Group blobs lying on one shaft: similar direction, each centre on the other's axis.

    A lesion on the cortex (or its excluded surroundings) can cut a bone's dense mask in
    two; the pieces are one bone and must be fitted as one.
    """
    info = {k: _axis_of(lab == k) for k in ids}
    parent = {k: k for k in ids}

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            ca, da, la, _ = info[a]
            cb, db, lb, _ = info[b]
            # Short pieces have poorly defined directions; trust the longer one.
            if abs(float(da @ db)) < np.cos(np.deg2rad(12.0)):
                continue
            ref = da if la >= lb else db
            normal = np.array([-ref[1], ref[0]])
            if abs(float((cb - ca) @ normal)) <= max_offset_px:
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for k in ids:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def bone_blobs(
    residual: np.ndarray, z: np.ndarray, valid: np.ndarray, field: np.ndarray, grid: WorkGrid, seg
) -> np.ndarray:
    """Return an int32 label image (working grid) of candidate bones, 0 elsewhere.

    Parameters
    ----------
    residual, z : (M, N) ndarray
        Density over a lesion-scale background, and the same in local sigmas.
    valid : (M, N) bool
        Where tissue may be (not collimation, air, markers).
    field : (M, N) bool
        Collimation/air/markers; a bone that does not reach it must be clearly long.
    """
    import cv2

    rows, cols = z.shape
    if not np.any(valid):
        return np.zeros((rows, cols), np.int32)
    # Cortices are the densest extended structures: seeds within a fraction of the
    # image's top residual (relative, so dose and processing do not matter) and clearly
    # above the local clutter, grown along the continuous cortical line.
    top = float(np.percentile(residual[valid], 99.5))
    seeds = (residual > seg.bone_relative_threshold * top) & (z > seg.bone_threshold_sigma) & valid
    grow = ((residual > 0.3 * seg.bone_relative_threshold * top) & (z > 3.0) & valid).astype(np.uint8)
    n, lab = cv2.connectedComponents(grow, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(lab[seeds])] = True
    keep[0] = False
    strong = keep[lab].astype(np.uint8)
    f = max(int(round(1.0 / grid.pixel_mm)), 1)
    small = (max(cols // f, 1), max(rows // f, 1))
    s = cv2.resize(strong.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0.2
    rad = 0.5 * seg.max_bone_width_mm / (grid.pixel_mm * f)
    # Pad so the closing does not glue blobs to the image border.
    pad = int(np.ceil(rad)) + 1
    sp = np.pad(s.astype(np.uint8), pad)
    closed = cv2.morphologyEx(sp, cv2.MORPH_CLOSE, ellipse(rad))[pad:-pad, pad:-pad]
    closed = cv2.resize(closed, (cols, rows), interpolation=cv2.INTER_NEAREST) > 0
    closed &= ~field
    n, lab, stats, _ = cv2.connectedComponentsWithStats(closed.astype(np.uint8), connectivity=8)
    px_mm = grid.pixel_mm
    min_piece = 0.25 * seg.min_bone_width_mm * seg.min_bone_length_mm / px_mm**2
    ids = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= min_piece]
    edge = cv2.dilate(field.astype(np.uint8), ellipse(grid.px(3.0))) > 0
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    out = np.zeros((rows, cols), np.int32)
    k_out = 0
    for group in _merge_collinear(lab, ids, grid.px(0.5 * seg.max_bone_width_mm)):
        sub = np.isin(lab, group)
        ctr, d, half_len, half_wid = _axis_of(sub)
        length = 2 * half_len * px_mm
        width = sub.sum() * px_mm**2 / max(length, 1e-9)
        if length < seg.min_bone_length_mm or width < seg.min_bone_width_mm:
            continue
        touches = bool(np.any(edge & sub))
        need = seg.min_bone_elongation if touches else 2.0 * seg.min_bone_elongation
        if length / max(width, 1e-9) < need:
            continue
        k_out += 1
        out[sub] = k_out
    return out

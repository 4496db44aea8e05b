"""What is not patient: collimation borders, open-field air, lead markers, burned-in text.

All three are *uniform*: a collimated or unexposed border and burned-in text are flat
(often exactly constant after clipping), open-field air is flat at the low end, and a lead
marker is a plateau far denser than any tissue. None of them may seed a lesion or a bone.
"""

from __future__ import annotations

import numpy as np

from ._grid import WorkGrid, components_touching, ellipse


def constant_mask(work: np.ndarray, value_range: float) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood is flat to 1e-5 of the image range (clipped/burned-in)."""
    import cv2

    k = np.ones((3, 3), np.uint8)
    spread = cv2.dilate(work, k) - cv2.erode(work, k)
    return spread <= 1e-5 * value_range


def _percentile_range(work: np.ndarray) -> float:
    """The 0.1-99.9 percentile range of ``work`` (1.0 if it is empty or flat).

    It only scales the flatness tolerance of :func:`constant_mask`, so every third pixel
    each way is plenty: a ninth of the selection cost of the full image.
    """
    lo, hi = np.percentile(work[::3, ::3], [0.1, 99.9])
    return float(hi - lo) or 1.0


def _pair_noise(img: np.ndarray) -> float:
    """Noise sigma of an image from its neighbour differences (robust to edges)."""
    from ._background import band_median

    # Both differences (np.diff's values) and their magnitudes in one buffer.
    rows, cols = img.shape
    n_down = max(rows - 1, 0) * cols
    d = np.empty(n_down + rows * max(cols - 1, 0), img.dtype)
    np.subtract(img[1:], img[:-1], out=d[:n_down].reshape(max(rows - 1, 0), cols))
    np.subtract(img[:, 1:], img[:, :-1], out=d[n_down:].reshape(rows, max(cols - 1, 0)))
    return float(band_median(np.abs(d, out=d)) / 0.6745 / np.sqrt(2.0)) if d.size else 0.0


def _side_views(img: np.ndarray) -> list[np.ndarray]:
    """The image seen from each border (top, bottom, left, right): row 0 is the border."""
    return [img, img[::-1], img.T, img.T[::-1]]


def collimation_depths(img: np.ndarray, grid: WorkGrid, *, max_frac: float = 0.3) -> list[int]:
    """Depth in working pixels of a collimation band on each side (top, bottom, left, right).

    A collimator edge is a straight line along which the image steps *down* (towards the
    field) almost everywhere: with leakage the collimated side is the anatomy plus a constant
    attenuation offset; blanked by processing it is a constant. Anatomy never steps at the
    same row across the whole image. For each side the step across every candidate line
    (mean over 1 mm on either side) is taken per column; a line is a collimator edge when
    at least 85% of the columns not already inside another side's band step down by more
    than 5 noise sigmas. The deepest such maximum-step line within ``max_frac`` of
    the image is the band's inner edge. 0 means no collimation on that side.
    """
    import cv2

    # On a ~1 mm grid: a collimator edge is located to a millimetre (the field margin is
    # wider), at a sixth of the cost.
    f = max(int(round(1.0 / grid.pixel_mm)), 1)
    full_shape = img.shape
    if f > 1:
        img = cv2.resize(img, (img.shape[1] // f, img.shape[0] // f), interpolation=cv2.INTER_AREA)
    noise = max(_pair_noise(img), 1e-12)
    h = max(int(round(grid.px(1.0) / f)), 2)
    depths = [0, 0, 0, 0]
    # A side's answer depends only on the perpendicular sides' depths: the second pass
    # reuses it where those did not change.
    seen: dict[tuple[int, int, int], int] = {}
    for _ in range(2):
        new = []
        for side, view in enumerate(_side_views(img)):
            n_in, n_across = view.shape
            kmax = int(max_frac * n_in)
            if kmax <= 2 * h + 1:
                new.append(0)
                continue
            # Columns inside the bands of the two perpendicular sides do not step here.
            other = (2, 3) if side < 2 else (0, 1)
            lo_c, hi_c = depths[other[0]], n_across - depths[other[1]]
            if hi_c - lo_c < 10:
                new.append(0)
                continue
            key = (side, lo_c, hi_c)
            if key not in seen:
                seen[key] = _edge_depth(view[: kmax + h + 1, lo_c:hi_c], h, kmax, noise)
            new.append(seen[key])
        if new == depths:
            break
        depths = new
    if f > 1:
        # Back to working pixels (the centre of the coarse edge pixel).
        limits = (full_shape[0], full_shape[0], full_shape[1], full_shape[1])
        depths = [min(d * f + f // 2, lim) if d else 0 for d, lim in zip(depths, limits)]
    return depths


def _edge_depth(view: np.ndarray, h: int, kmax: int, noise: float) -> int:
    """Inner edge (line index + 1) of the collimation band at row 0 of ``view``; 0 if none.

    ``view`` holds the first ``kmax + h + 1`` lines of one side (row 0 at the border) and
    the columns not inside the perpendicular sides' bands. See :func:`collimation_depths`.
    """
    v = view.astype(np.float64)
    cs = np.concatenate([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    ks = np.arange(h, kmax)
    outer = (cs[ks] - cs[ks - h]) / h
    inner = (cs[ks + 1 + h] - cs[ks + 1]) / h
    d = outer - inner
    # Collimated means denser than the field (unexposed or leaky); a border
    # blanked to black is constant and found by the flood in outside_mask.
    frac = np.mean(d > 5 * noise, axis=1)
    # The median step is needed only on lines that step almost everywhere (few).
    med = np.zeros(len(ks))
    steps = frac >= 0.85
    if steps.any():
        med[steps] = np.median(d[steps], axis=1)
    ok = steps & (med > 10 * noise)
    if not ok.any():
        return 0
    # The edge is where the consistent step is largest; a blurred edge spans a few
    # lines, so take the strongest of the qualifying ones.
    cand = np.nonzero(ok)[0]
    best = cand[np.argmax(np.abs(med[cand]))]
    return int(ks[best]) + 1


def _otsu(hist: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    """Otsu threshold and its effectiveness (between / total variance) from the 256-bin
    histogram ``np.histogram(values, bins=256)``."""
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(p)
    mu = np.cumsum(p * centres)
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu_t * w0 - mu) ** 2 / (w0 * (1 - w0))
    between = np.nan_to_num(between)
    i = int(np.argmax(between))
    total = float(np.sum(p * (centres - mu_t) ** 2))
    return float(edges[i + 1]), float(between[i] / total) if total > 0 else 0.0


def _valley_depth(hist: np.ndarray, edges: np.ndarray, threshold: float) -> float:
    """Histogram minimum between the two modes, relative to the smaller mode (0 = empty).

    Read on 64 bins, from the 256-bin histogram: every 4th edge of 256 equal bins over
    the values' range is an edge of 64 such bins (the same float32 linspace values), and
    NumPy places a value between the edges it lies between, so 4 fine bins sum to the
    coarse one exactly (``np.histogram(values, bins=64)``, a second pass, gave the same).
    """
    hist, edges = hist.reshape(64, 4).sum(axis=1), edges[::4]
    h = np.convolve(hist.astype(np.float64), np.ones(3) / 3.0, mode="same")
    centres = 0.5 * (edges[1:] + edges[:-1])
    below = centres < threshold
    if below.all() or not below.any():
        return 1.0
    i_lo = int(np.argmax(np.where(below, h, -1)))
    i_hi = int(np.argmax(np.where(~below, h, -1)))
    peak = min(h[i_lo], h[i_hi])
    return float(h[i_lo : i_hi + 1].min() / peak) if peak > 0 else 1.0


def air_mask(coarse: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Open-field air: the dark class of a clearly bimodal field that reaches its edge.

    Air (direct exposure) is far less dense than any tissue and the skin is a short
    transition, so inside the exposed field the histogram (1st-98th percentile, markers
    and text left out) has two modes with an almost empty valley: Otsu effectiveness
    >= 0.82 and a valley below 20% of the smaller mode. Tissue thickness and bone vary
    continuously, so an image without air fails this test and nothing is returned. The
    dark class counts only where it reaches the field's border.
    """
    import cv2

    vals = coarse[field]
    if vals.size < 100:
        return np.zeros_like(field)
    p1, p98 = np.percentile(vals, [1, 98])
    vals = vals[(vals >= p1) & (vals <= p98)]
    if vals.size < 100 or p98 <= p1:
        return np.zeros_like(field)
    hist, edges = np.histogram(vals, bins=256)
    t, eta = _otsu(hist, edges)
    low = vals < t
    valley = _valley_depth(hist, edges, t)
    # Either clearly two classes, or a little less so with an almost empty valley.
    bimodal = (eta >= 0.82 and valley <= 0.2) or (eta >= 0.78 and valley <= 0.12)
    if not bimodal or low.mean() < 0.02 or low.mean() > 0.85:
        return np.zeros_like(field)
    # Air is far below all tissue, not just below the thicker half of the limb.
    if np.median(vals[~low]) - np.median(vals[low]) < 0.45 * (p98 - p1):
        return np.zeros_like(field)
    rim = field & ~(cv2.erode(field.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    rim[[0, -1], :] |= field[[0, -1], :]
    rim[:, [0, -1]] |= field[:, [0, -1]]
    return components_touching((coarse < t) & field, rim)


def outside_mask(work: np.ndarray, grid: WorkGrid, *, parts: bool = False, flat: np.ndarray | None = None):
    """Return the (working-grid) bool mask of collimation borders and open-field air.

    1. Collimator bands: :func:`collimation_depths` (leaky or blanked, each side).
    2. Exactly constant regions touching the border (blanked/clipped borders of any
       shape).
    3. Open-field air inside the exposed field: :func:`air_mask`.

    With ``parts=True`` returns ``(outside, collimated)``, the second being 1 and 2 only.
    ``flat`` is :func:`flat_mask` of ``work`` when the caller has it already.
    """
    import cv2

    rows, cols = work.shape
    out = np.zeros((rows, cols), bool)
    top, bottom, left, right = collimation_depths(work, grid)
    out[:top, :] = True
    out[rows - bottom :, :] = True
    out[:, :left] = True
    out[:, cols - right :] = True
    # Flat regions that reach the image border: blanked collimation.
    const = flat_mask(work) if flat is None else flat
    border = np.zeros_like(const)
    border[[0, -1], :] = True
    border[:, [0, -1]] = True
    out |= components_touching(const, border)
    collimated = out.copy()
    f = max(int(round(1.0 / grid.pixel_mm)), 1)
    small = (max(cols // f, 1), max(rows // f, 1))
    coarse = cv2.resize(work, small, interpolation=cv2.INTER_AREA)
    field = cv2.resize((~out).astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
    air = air_mask(coarse, field)
    if air.any():
        air = cv2.resize(air.astype(np.uint8), (cols, rows), interpolation=cv2.INTER_NEAREST) > 0
        out |= air
    # A lead marker or a line of text lying in the air or on the collimation is an island
    # inside what is outside: it belongs to it (islands up to ~30 x 30 mm).
    from ._background import fill_holes

    out = fill_holes(out, 900.0 / grid.pixel_mm**2)
    return (out, collimated) if parts else out


def saturated_mask(pixels: np.ndarray, grid: WorkGrid) -> np.ndarray:
    """Burned-in text and overlays: pixels at the image maximum, found at full resolution.

    Text is written into the stored image at the maximum value; its strokes are thinner
    than a working pixel, so they are found before downsampling. Returns a working-grid
    mask (any saturated input pixel marks its working pixel, grown by ~1 mm). Large
    saturated areas (a blanked collimation) are left to :func:`outside_mask`.
    """
    import cv2

    mx = float(pixels.max())
    mn = float(pixels.min())
    sat = pixels >= mx - 1e-6 * max(mx - mn, 1e-12)
    # A count, not a mean: the mean of a full-resolution bool image costs ten times more.
    n_sat = np.count_nonzero(sat)
    if n_sat == 0 or n_sat / sat.size > 0.05:
        return np.zeros(grid.shape, bool)
    small = cv2.resize(sat.astype(np.float32), (grid.shape[1], grid.shape[0]),
                       interpolation=cv2.INTER_AREA) > 0
    return cv2.dilate(small.astype(np.uint8), ellipse(grid.px(1.0))) > 0


def flat_mask(work: np.ndarray) -> np.ndarray:
    """:func:`constant_mask` at the tolerance of ``work``'s own percentile range: what
    both :func:`outside_mask` and :func:`plateau_mask` read, computed once by a caller
    that needs both."""
    return constant_mask(work, _percentile_range(work))


def plateau_mask(work: np.ndarray, outside: np.ndarray, *, flat: np.ndarray | None = None) -> np.ndarray:
    """Exactly flat regions not already outside: burned-in text and clipped markers
    (``flat``: :func:`flat_mask` of ``work`` when the caller has it already)."""
    import cv2

    flat = (flat_mask(work) if flat is None else flat) & ~outside
    # A single flat pixel is chance; text strokes and markers are several pixels wide.
    flat = cv2.morphologyEx(flat.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return flat > 0

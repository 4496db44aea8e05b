"""Local soft-tissue background and local noise, both at mm-defined scales.

The background is a *local quadratic fit* (normalised differential convolution): at every
pixel a quadratic surface is fitted to the soft tissue under a Gaussian window, with
weight 0 on bone, candidates, air and collimation, so it follows the limb's thickness
dome and interpolates the soft tissue underneath dense structures instead of being
pulled up by them. It is computed on a grid about half the window sigma wide (cheap) and
interpolated back. Thresholds are in units of the local robust spread of the residual.
"""

from __future__ import annotations

import numpy as np

from ._grid import WorkGrid, ellipse, gaussian, morphology, nonzero_box


def normalized_blur(
    image: np.ndarray, weight: np.ndarray, sigma_px: float, *, fallback: float = 3.0
) -> np.ndarray:
    """Weighted Gaussian mean of ``image`` with weights ``weight`` (working grid).

    Where the weights within reach are too sparse (a large excluded lesion or bone), the
    estimate falls back to a ``fallback`` times larger blur, so the result is defined
    everywhere a weight exists at all.

    Parameters
    ----------
    image : (M, N) ndarray of float32
    weight : (M, N) ndarray of bool or float
    sigma_px : float
        Gaussian sigma in working pixels.

    Returns
    -------
    (M, N) ndarray of float32
    """
    import cv2

    rows, cols = image.shape
    w = weight.astype(np.float32)
    step = max(int(sigma_px / 3.0), 1)
    small = (max(cols // step, 1), max(rows // step, 1))
    if step > 1:
        img_s = cv2.resize(image * w, small, interpolation=cv2.INTER_AREA)
        w_s = cv2.resize(w, small, interpolation=cv2.INTER_AREA)
    else:
        img_s, w_s = image * w, w
    sig = sigma_px / step
    # Both sums vanish beyond the kernel's reach of every weight: blur only the weights'
    # bounding box grown by that reach (same values there, zeros elsewhere, less work).
    box = nonzero_box(w_s > 0, int(np.ceil(4.0 * sig * max(fallback, 1.0))) + 2)  # None: no weight
    num = _blur_in_box(img_s, sig, box)
    den = _blur_in_box(w_s, sig, box)
    eps = 1e-6
    out = num / np.maximum(den, eps)
    if fallback > 1.0:
        num2 = _blur_in_box(img_s, sig * fallback, box)
        den2 = _blur_in_box(w_s, sig * fallback, box)
        broad = num2 / np.maximum(den2, eps)
        # Full trust in the fine estimate once a fifth of its kernel has weight.
        alpha = np.clip(den / 0.2, 0.0, 1.0)
        out = alpha * out + (1 - alpha) * broad
        den = den2
    if box is None:
        out[:] = float(np.median(image))
    else:
        none = den < eps
        if np.any(none):
            out[none] = float(band_median(image[weight if weight.dtype == bool else weight > 0]))
    if step > 1:
        out = cv2.resize(out, (cols, rows), interpolation=cv2.INTER_LINEAR)
    return out.astype(np.float32, copy=False)


def _blur_in_box(image: np.ndarray, sigma_px: float, box) -> np.ndarray:
    """:func:`gaussian` of ``image`` inside ``box`` (slices), zero outside it.

    ``image`` must be zero outside ``box`` and ``box`` at least the kernel's radius
    (4 sigma) away from its nonzero pixels, so the border reflection only brings in zeros.
    """
    out = np.zeros_like(image)
    if box is not None:
        out[box] = gaussian(image[box], sigma_px)
    return out


# Exponents (of d_col, d_row) of the local quadratic basis 1, x, y, x^2, xy, y^2.
_BASIS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def quadratic_background(
    image: np.ndarray,
    weight: np.ndarray,
    sigma_px: float,
    *,
    min_cover: float = 0.15,
    recurse: bool = True,
) -> np.ndarray:
    """Local weighted quadratic fit of ``image`` (normalised differential convolution).

    At every pixel a quadratic surface is fitted to the weighted pixels under a Gaussian
    window of ``sigma_px``; its value at the centre is the background. A plain weighted
    mean is biased by sigma^2 x curvature / 2 on the limb's thickness dome, which at low
    noise is many sigmas; the quadratic fit is not. Where less than ``min_cover`` of the
    window has weight the fit is blended into a 3x wider weighted mean, which stays
    stable under large excluded lesions.
    """
    import cv2

    rows, cols = image.shape
    w = weight.astype(np.float32)
    # Half a sigma per coarse pixel: the fitted surface is smooth at that scale, and a
    # 6x6 solve per coarse pixel (_kernels._quadratic_centre) is cheap there.
    step = max(int(sigma_px / 2.0), 1)
    small = (max(cols // step, 1), max(rows // step, 1))
    if step > 1:
        ws = cv2.resize(w, small, interpolation=cv2.INTER_AREA)
        # The weighted image overwrites the weights (``w`` is our copy): one full-grid
        # array fewer to allocate.
        wi_full = np.multiply(image, w, out=w) if image.dtype == np.float32 else image * w
        wi = cv2.resize(wi_full, small, interpolation=cv2.INTER_AREA)
    else:
        wi, ws = image * w, w
    sig = sigma_px / step
    rad = max(int(np.ceil(3.0 * sig)), 1)
    d = np.arange(-rad, rad + 1, dtype=np.float64) / sig
    g = np.exp(-0.5 * d * d)
    g /= g.sum()
    kern = [(g * d**i).astype(np.float32) for i in range(5)]

    def filt(src, i, j):
        return cv2.sepFilter2D(src, cv2.CV_32F, kern[i], kern[j], borderType=cv2.BORDER_CONSTANT)

    from ._kernels import _quadratic_centre

    mom = np.zeros((5, 5) + ws.shape)
    for i in range(5):
        for j in range(5 - i):
            mom[i, j] = filt(ws, i, j)
    rhs = np.stack([filt(wi, i, j) for i, j in _BASIS]).astype(np.float64)
    cover = mom[0, 0]
    # Ridge on the slope/curvature terms keeps sparse windows well-posed.
    fit = _quadratic_centre(mom, rhs, 1e-3)
    if min_cover > 0 and recurse:
        # Under a large excluded region, a quadratic fit over a 3x wider window.
        filled = (wi / np.maximum(ws, 1e-9)).astype(np.float32)
        broad = quadratic_background(filled, ws > 1e-6, 3.0 * sig, min_cover=0.0).astype(np.float64)
    else:
        broad = normalized_blur(
            (wi / np.maximum(ws, 1e-9)).astype(np.float32), ws > 1e-6, 3.0 * sig, fallback=3.0
        ).astype(np.float64)
        min_cover = 0.02
    alpha = np.clip((cover - 0.5 * min_cover) / (0.5 * min_cover), 0.0, 1.0)
    out = alpha * fit + (1 - alpha) * broad
    out = out.astype(np.float32)
    if step > 1:
        out = cv2.resize(out, (cols, rows), interpolation=cv2.INTER_LINEAR)
    return out


def band_median(x: np.ndarray):
    """``np.median`` of a 1-D array of finite values, selecting within a narrow band.

    A full selection is slow on large arrays, the more so with many equal values (the
    zero differences of a flat region). The band between the 45th and 55th percentiles
    of every 7th value almost always holds the median: the values below it are counted
    and the median selected inside it, exactly; when it does not, ``np.median`` is used.
    """
    n = x.size
    sample = x[::7]
    if n < 1000:
        return np.median(x)
    i_lo, i_hi = int(0.45 * sample.size), int(0.55 * sample.size)
    lo, hi = np.partition(sample, [i_lo, i_hi])[[i_lo, i_hi]]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return np.median(x)
    below = int(np.count_nonzero(x < lo))
    band = x[(x >= lo) & (x <= hi)]
    k0, k1 = (n - 1) // 2, n // 2
    if k0 < below or k1 >= below + band.size:
        return np.median(x)
    part = np.partition(band, [k0 - below, k1 - below])
    if k0 == k1:
        return part[k0 - below]
    return np.mean(part[[k0 - below, k1 - below]])


def local_sigma(
    values: np.ndarray,
    member: np.ndarray,
    block_px: int,
    *,
    along: np.ndarray | None = None,
    opening_px: float = 0.0,
    opening_floor: float = 0.6,
    with_plain: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Robust local spread of ``values`` about zero: median(|v|) / 0.6745 per block.

    Computed over ``member`` pixels in blocks of ``block_px``; the residual about zero
    counts the background model's local misfit and anatomical clutter along with the
    quantum noise, so thresholds in these units hold at any dose. Blocks with too few
    members take the median of their neighbours (then of all blocks); the block grid is
    smoothed and interpolated back.

    A lesion's own pixels below the exclusion level stay in the blocks it covers and
    inflate them (measured: 1.3-3 times the spread 12-25 mm away), which hides the lesion
    that inflates them. With ``along`` (a unit (row, col) vector along the limb) and
    ``opening_px`` spanning more than one block, the block map is grey-opened with a line
    of that length (in whole blocks) along the limb: a raised patch shorter than the line
    falls to its surroundings, while clutter that runs along the limb (skin, fat planes,
    the bone's blurred edge) is longer and keeps its level. No block falls below
    ``opening_floor`` times its own value.
    ``with_plain`` returns ``(opened, plain)``: the plain map as without the opening.
    """
    values_shape = values.shape
    # Every other pixel is plenty for a median and a quarter of the sorting.
    full_values = np.ascontiguousarray(values, dtype=np.float32)
    full_member = np.ascontiguousarray(member, dtype=bool)
    values, member = values[::2, ::2], member[::2, ::2]
    block_px_full, block_px = block_px, block_px / 2
    rows, cols = values.shape
    b = max(int(block_px), 4)
    nbr, nbc = max(rows // b, 1), max(cols // b, 1)
    hr, hc = min(nbr * b, rows), min(nbc * b, cols)
    bh, bw = hr // nbr, hc // nbc
    hr, hc = nbr * bh, nbc * bw
    from ._kernels import _block_medians, _neighbour_nanmedian

    # Per-block lower median of the member pixels (NaN where under 30% are members).
    med = _block_medians(full_values, full_member, 2, nbr, nbc, bh, bw, 0.3)
    good = np.isfinite(med) & (med > 0)
    if not np.any(good):
        pool = np.abs(values[member]) if np.any(member) else np.abs(values.ravel())
        fill = float(np.median(pool)) if pool.size else 1.0
        med = np.full((nbr, nbc), fill if fill > 0 else 1.0)
    else:
        neigh = _neighbour_nanmedian(np.where(good, med, np.nan))
        med = np.where(good, med, neigh)
        gm = float(np.median(med[good]))
        med = np.where(np.isfinite(med), med, gm)
        # A large lesion can fill a block and inflate its spread; local clutter varies,
        # but not by more than a few times the image's typical level.
        med = np.minimum(med, 3.0 * gm)
    plain = (med / 0.6745).astype(np.float32)
    sig = plain
    opening_blocks = int(round(opening_px / block_px_full))
    if along is not None and opening_blocks > 1 and max(nbr, nbc) >= opening_blocks:
        sig = np.maximum(_line_opening(plain, along, opening_blocks), opening_floor * plain)
    if with_plain:
        return _to_pixels(sig, values_shape), _to_pixels(plain, values_shape)
    return _to_pixels(sig, values_shape)


def _to_pixels(block_sigma: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A block map smoothed over 3 x 3 blocks, interpolated to ``shape`` and kept above a
    fifth of its median (a flat, noiseless patch must not divide by zero)."""
    import cv2

    sig = block_sigma
    if min(sig.shape) >= 3:
        sig = cv2.blur(sig, (3, 3))
    out = cv2.resize(sig, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    floor = max(float(np.median(sig)) * 0.2, 1e-12)
    return np.maximum(out, floor, out=out)


def _line_opening(grid_map: np.ndarray, along: np.ndarray, length: int) -> np.ndarray:
    """Grey opening of a small float32 map with a line of ``length`` cells along ``along``."""
    import cv2

    k = length if length % 2 else length + 1
    half = (k - 1) / 2.0
    kernel = np.zeros((k, k), np.uint8)
    dr, dc = half * along[0], half * along[1]
    cv2.line(kernel, (int(round(half - dc)), int(round(half - dr))),
             (int(round(half + dc)), int(round(half + dr))), 1)
    return cv2.morphologyEx(grid_map, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REPLICATE)


def running_percentile(values: np.ndarray, half: int, percentile: float, min_count: int) -> np.ndarray:
    """Low percentile of the finite values in a window of ``2 * half + 1`` rows, per column.

    What the along-limb background needs (block means in the limb's frame, NaN where a
    block has no tissue): for each row the ``percentile`` (nearest rank,
    ``round((n - 1) * percentile / 100)`` of the ``n`` finite values in the window) of
    its column, NaN where ``n < min_count``. Equal to sorting each window
    (``sliding_window_view`` + ``np.sort``), at a fraction of the cost.

    Parameters
    ----------
    values : (M, N) ndarray of float32
    half : int
    percentile : float
    min_count : int

    Returns
    -------
    (M, N) ndarray of float32
    """
    from ._kernels import _running_order_stat

    if half < 0:
        raise ValueError(f"half must be >= 0, got {half}")
    return _running_order_stat(np.ascontiguousarray(values, dtype=np.float32), int(half),
                               float(percentile), int(min_count))


def fill_holes(mask: np.ndarray, max_hole_px: float | None = None) -> np.ndarray:
    """Fill the holes of a bool mask; only holes up to ``max_hole_px`` pixels if given.

    The limit keeps a ring of dense structures (bone, skin, other lesions) from enclosing
    and swallowing a large stretch of soft tissue.
    """
    import cv2

    m = mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out = m.copy()
    if hierarchy is None:
        return out > 0
    holes = [
        c
        for c, h in zip(contours, hierarchy[0])
        if h[3] >= 0 and (max_hole_px is None or cv2.contourArea(c) <= max_hole_px)
    ]
    if holes:
        cv2.drawContours(out, holes, -1, 1, thickness=cv2.FILLED)
    return out > 0


def soft_tissue_background(
    smooth: np.ndarray,
    valid: np.ndarray,
    grid: WorkGrid,
    *,
    scale_mm: float,
    dense_sigma: float,
    closing_mm: float,
    max_hole_mm2: float,
    exclude: np.ndarray | None = None,
    iterations: int = 3,
    along: np.ndarray | None = None,
    opening_mm: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Iterated local-quadratic background that skips everything dense.

    Each pass excludes pixels more than ``dense_sigma`` local sigmas above the previous
    background, closed at ``closing_mm`` and hole-filled (holes up to ``max_hole_mm2``)
    so a lesion's lucent centre is excluded along with its rim. ``exclude`` (bone
    candidates) is never used as soft tissue. With ``along`` (the limb's direction) and
    ``opening_mm``, the sigma map is opened along the limb over that length
    (:func:`local_sigma`); the opened map decides what is dense.

    Returns
    -------
    background, sigma, seed_sigma, excluded : (M, N) ndarrays
        The background, the local residual sigma (:func:`local_sigma` over the soft tissue
        that was used), the same opened along the limb (``sigma`` without ``along``) and
        the excluded (dense) mask.
    """
    import cv2

    from ._kernels import _dense_and_lucent

    sig_px = grid.px(scale_mm)
    block = max(int(round(grid.px(8.0))), 8)
    opening_px = grid.px(opening_mm)
    grow = ellipse(grid.px(0.8))
    close = ellipse(grid.px(closing_mm))
    max_hole_px = max_hole_mm2 / grid.pixel_mm**2
    excluded = np.zeros_like(valid)
    base = valid if exclude is None else valid & ~exclude
    valid_c = np.ascontiguousarray(valid, dtype=bool)
    w = base
    for it in range(iterations + 1):
        # Only the final fit needs the careful fallback under large exclusions.
        bg = quadratic_background(smooth, w, sig_px, recurse=it == iterations)
        resid = smooth - bg
        if it == iterations:
            sigma, plain = local_sigma(resid, w, block, along=along, opening_px=opening_px,
                                       with_plain=True)
            break
        sigma = local_sigma(resid, w, block, along=along, opening_px=opening_px)
        # Far *below* the fit is not soft tissue either (air the field mask missed, the
        # edge of the collimation): leave it out too, or the skin edge biases the fit.
        # Both tests in one pass over the residual.
        dense, lucent = _dense_and_lucent(resid, sigma, valid_c, dense_sigma, -2.0 * dense_sigma)
        # On the dense pixels' bounding box: the same closing at a fraction of the cost.
        dense = morphology(dense, cv2.MORPH_CLOSE, close)
        dense = morphology(dense, cv2.MORPH_DILATE, grow)
        excluded = fill_holes(dense > 0, max_hole_px)
        w = base & ~excluded & ~lucent
    return bg, plain, sigma, excluded

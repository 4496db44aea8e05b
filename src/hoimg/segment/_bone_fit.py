"""Smooth periosteal edges of one bone, fitted in the bone's own (along, across) frame.

The dense component of a bone is resampled onto a frame whose rows run along the shaft
axis (PCA) and whose columns run across it. In every row the two periosteal edges are the
outermost half-maximum crossings of the bone's residual density (sub-pixel, linear
interpolation). Each edge, as a function of the position along the shaft, is then fitted
by a polynomial with *one-sided* robust trimming: juxtacortical mineral can only push the
apparent edge outwards, so outward bulges are outliers and are replaced by the fit. That
is what keeps a parosteal osteosarcoma (attached to the cortex by definition) out of the
bone.

Before the per-side fits, each row is checked against the shaft's symmetry
(:func:`_cap_asymmetry`): a shaft projects symmetrically about its axis, flares included,
so a row whose one side stands much further from the axis than the other has mineral on
that side, which is replaced by the mirror image of the other. That holds where a
polynomial per side cannot tell: a large lesion bends a cubic out to it. A one-sided
widening that runs on to the end of the measured shaft is left to the per-side fits (it
may be a flare whose other side the edge rule missed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._grid import nonzero_box, robust_sigma

# A metaphyseal flare widens both sides of a shaft alike. Where one side of a bulge run
# stands more than this (mm) further out than the other on over a tenth of its rows, the
# run is mineral on the cortex, flare or not: dev POS on flaring ends stood out 4-15 mm;
# before this test they were drawn into the bone. The edge under such a lump follows the
# flare (the other side's widening, mirrored), not the straight trend, or the flare's rim
# is left outside the bone.
_FLARE_EXCESS_MM = 2.0
# Half-width (mm) of the search for a cortex's steepest fall around its band's edge.
_EDGE_SEARCH_MM = 3.0


@dataclass(frozen=True)
class FrameFit:
    """Edges of one bone in its frame; rows i <-> u = u0 + i, columns j <-> v = v0 + j.

    ``lo``/``hi`` hold column positions (sub-pixel) of the two edges per row, NaN where the
    row has no bone; ``bulge_*`` marks rows whose measured edge was replaced by the fit.
    """

    center_rc: np.ndarray  # (2,) working-grid PCA centre
    along_rc: np.ndarray  # (2,) unit vector along the shaft
    across_rc: np.ndarray  # (2,) unit vector across (points to the "hi" side)
    u0: float
    v0: float
    lo: np.ndarray
    hi: np.ndarray
    bulge_lo: np.ndarray
    bulge_hi: np.ndarray
    thick_lo_px: np.ndarray
    thick_hi_px: np.ndarray

    def to_work_rc(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Frame (row i, col j) -> working-grid (row, col), shape (..., 2)."""
        u = self.u0 + np.asarray(i, dtype=np.float64)
        v = self.v0 + np.asarray(j, dtype=np.float64)
        return (
            self.center_rc
            + u[..., None] * self.along_rc
            + v[..., None] * self.across_rc
        )


def principal_axes(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, major and minor unit vectors (row, col) of a point set, sign-normalised."""
    pts = np.stack([rows, cols], axis=1).astype(np.float64)
    center = pts.mean(axis=0)
    cov = np.cov((pts - center).T)
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, 1]
    # Deterministic sign: along points down the image (or right when horizontal).
    if major[0] < -1e-9 or (abs(major[0]) <= 1e-9 and major[1] < 0):
        major = -major
    minor = np.array([-major[1], major[0]])
    return center, major, minor


def _robust_trend(
    x: np.ndarray, y: np.ndarray, deg: int, tol: float, x_all: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """Polynomial fit of y(x) that ignores outward (positive) bulges.

    Juxtacortical mineral only ever pushes the measured edge outwards, and may cover a
    third of the visible shaft, so an ordinary robust fit can be captured by it. The fit
    first slides to the *lower envelope* (refit on the points at or below the current
    fit, three times), then keeps every point within ``tol`` plus twice the edge's own
    jitter (from row-to-row differences, which a smooth trend does not inflate) above it,
    and anything inward within a generous margin.

    Returns the fit at ``x``, the jitter scale and the fit at ``x_all``.
    """
    x0, span = x.mean(), max(np.ptp(x), 1.0)
    xs = (x - x0) / span
    jitter = float(np.median(np.abs(np.diff(y)))) / 0.6745 / np.sqrt(2.0) if y.size > 2 else tol
    band = tol + 2.0 * jitter
    if y.size <= deg + 2:
        coef = np.array([np.median(y)])
        return np.polyval(coef, xs), jitter, np.polyval(coef, (x_all - x0) / span)
    keep = np.ones_like(x, dtype=bool)
    coef = np.polyfit(xs, y, deg)
    res = y - np.polyval(coef, xs)
    low = res <= 0
    if low.sum() > deg + 2:
        coef = np.polyfit(xs[low], y[low], deg)
    scale = jitter
    for _ in range(8):
        res = y - np.polyval(coef, xs)
        # The model misfit of the kept edge counts as tolerance too (a flare that a
        # cubic does not follow exactly is still bone).
        # ... but no more than the tolerance itself: a large lesion in the kept set must
        # not widen the band that would reject it.
        band = tol + 2.5 * max(jitter, min(scale, tol))
        new = (res < band) & (res > -2.0 * band)
        if new.sum() <= deg + 2 or np.array_equal(new, keep):
            break
        keep = new
        coef = np.polyfit(xs[keep], y[keep], deg)
        r = y[keep] - np.polyval(coef, xs[keep])
        scale = robust_sigma(r)
    jitter = max(jitter, min(scale, tol))
    return np.polyval(coef, xs), jitter, np.polyval(coef, (x_all - x0) / span)


def _widening(x: np.ndarray, y: np.ndarray, central: np.ndarray) -> np.ndarray:
    """How far the edge y(x) lies outward of a line fitted to the central rows."""
    if central.sum() < 3:
        return np.zeros_like(y)
    coef = np.polyfit(x[central], y[central], 1)
    return y - np.polyval(coef, x)


def _symmetric_is_flare(
    bulge_hi: np.ndarray,
    bulge_lo: np.ndarray,
    out_hi: np.ndarray,
    out_lo: np.ndarray,
    wide_hi: np.ndarray,
    wide_lo: np.ndarray,
    max_excess: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep outward bulges as bone where the *other* side widens as much (a flare).

    A metaphysis widens the shaft on both sides by similar amounts; mineral on the cortex
    (POS, HO) bulges one side only, also where it sits on a flare. A bulge run of one side
    is a flare when, over the run, the other side lies outward of the straight central
    shaft by at least half as much as this side does, and alike: this side lies at most
    ``max_excess`` (frame pixels) further out than the other on 90% of the run's rows. A
    lump on a flaring end (a POS on a metaphysis) stands out of that. Returns the outlier
    masks with flare rows cleared, and the rows of such lumps on a flare.
    """
    out_hi, out_lo = out_hi.copy(), out_lo.copy()
    n = bulge_hi.size
    # Metaphyses are at the ends of what is visible of a shaft; a symmetric bulge in its
    # middle third is two lesions, not a flare.
    end_zone = np.zeros(n, bool)
    end_zone[: int(0.3 * n)] = True
    end_zone[n - int(0.3 * n) :] = True
    on_flare_hi = np.zeros(n, bool)
    on_flare_lo = np.zeros(n, bool)
    for bulge, out, on_flare, this, other in ((bulge_hi, out_hi, on_flare_hi, wide_hi, wide_lo),
                                              (bulge_lo, out_lo, on_flare_lo, wide_lo, wide_hi)):
        for a, b in contiguous_runs(bulge, min_len=1):
            if not (end_zone[a:b].mean() >= 0.5
                    and np.median(other[a:b]) >= max(0.5 * np.median(this[a:b]), 1e-9)):
                continue
            if np.percentile(this[a:b] - other[a:b], 90) <= max_excess:
                out[a:b] &= ~bulge[a:b]
            else:
                on_flare[a:b] = bulge[a:b]
    return out_hi, out_lo, on_flare_hi, on_flare_lo


def _running_median(y: np.ndarray, window: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(y, size=max(int(window) | 1, 3), mode="nearest")


def fit_frame(
    residual: np.ndarray,
    component: np.ndarray,
    *,
    px_mm: float,
    tolerance_mm: float,
    reach_mm: float = 12.0,
    extend_mm: float = 40.0,
    edge_level: float = 0.25,
) -> FrameFit | None:
    """Fit the two periosteal edges of the bone ``component`` (bool, working grid).

    Parameters
    ----------
    residual : (M, N) ndarray of float32
        Density above the soft-tissue background.
    component : (M, N) ndarray of bool
        The bone's dense connected component (may include attached lesions).
    px_mm : float
        Working pixel size.
    tolerance_mm : float
        Outward deviation from the smooth edge still counted as bone.
    reach_mm : float
        How far beyond the candidate band a contiguous dense run is followed (a flare
        wider than the band found by edge pairs).
    extend_mm : float
        The fitted edges continue this far beyond the last rows where both cortices were
        measured.
    edge_level : float
        The edge is where the density crosses this fraction of the cortex peak. A tube
        projects with a square-root rise at its outline (chord 2 sqrt(R^2 - v^2)), so the
        half maximum lies ~0.6 mm inside a 22 mm shaft; a quarter lies within ~0.1 mm
        once detector blur is included.
    """
    import cv2

    # The component's pixels, found in its bounding box (a bone is a small part of the
    # grid); same row-major order as over the whole grid.
    box = nonzero_box(component, 0)
    if box is None:
        return None
    rr, cc = np.nonzero(component[box])
    if rr.size < 20:
        return None
    rr += box[0].start
    cc += box[1].start
    center, along, across = principal_axes(rr, cc)
    u = (rr - center[0]) * along[0] + (cc - center[1]) * along[1]
    v = (rr - center[0]) * across[0] + (cc - center[1]) * across[1]
    margin = (reach_mm + 3.0) / px_mm
    u0, u1 = float(u.min()), float(u.max())
    v0, v1 = float(v.min()) - margin, float(v.max()) + margin
    h, w = int(np.ceil(u1 - u0)) + 1, int(np.ceil(v1 - v0)) + 1
    # Inverse map: frame (x=j, y=i) -> image (x=col, y=row).
    m = np.array(
        [
            [across[1], along[1], center[1] + u0 * along[1] + v0 * across[1]],
            [across[0], along[0], center[0] + u0 * along[0] + v0 * across[0]],
        ],
        dtype=np.float64,
    )
    flags = cv2.WARP_INVERSE_MAP
    res_f = cv2.warpAffine(residual, m, (w, h), flags=cv2.INTER_LINEAR | flags,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    comp_f = cv2.warpAffine(component.astype(np.uint8), m, (w, h),
                            flags=cv2.INTER_NEAREST | flags, borderValue=0) > 0
    comp_f = cv2.dilate(comp_f.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    has = comp_f.any(axis=1)
    if has.sum() < 5:
        return None
    idx = np.arange(h)
    # Each side's threshold is a fraction of its own cortex peak, from a long running median
    # along the shaft: a dense lesion on one side must not raise the other side's level,
    # and a lesion shorter than half the window does not move either.
    cols = np.arange(w)
    first = np.where(has, np.argmax(comp_f, axis=1), 0)
    last = np.where(has, w - 1 - np.argmax(comp_f[:, ::-1], axis=1), 0)
    mid = 0.5 * (first + last)
    left = comp_f & (cols[None, :] <= mid[:, None])
    right = comp_f & (cols[None, :] >= mid[:, None])
    window = int(max(60.0, 0.33 * has.sum() * px_mm) / px_mm)
    thr_sides = []
    for side in (left, right):
        pk = np.where(side, res_f, -np.inf).max(axis=1)
        okr = np.isfinite(pk) & has
        if okr.sum() < 3:
            return None
        pk = np.interp(idx, idx[okr], pk[okr])
        thr_sides.append(edge_level * _running_median(pk, window))
    thr_lo, thr_hi = thr_sides
    # The edge is the end of the contiguous above-threshold run that starts inside the
    # band, followed up to reach_mm beyond it: that follows a flare, stops at a cleft.
    reach = max(int(round(reach_mm / px_mm)), 1)
    search = max(int(round(_EDGE_SEARCH_MM / px_mm)), 1)
    wide = cv2.dilate(comp_f.astype(np.uint8), np.ones((1, 2 * reach + 1), np.uint8)) > 0
    above_lo = (res_f >= thr_lo[:, None]) & left
    above_hi = (res_f >= thr_hi[:, None]) & right
    has &= above_lo.any(axis=1) & above_hi.any(axis=1)
    lo = np.full(h, np.nan)
    hi = np.full(h, np.nan)
    rows = np.nonzero(has)[0]
    if rows.size < 5:
        return None
    ext_lo = (res_f >= thr_lo[:, None]) & wide & (cols[None, :] <= mid[:, None])
    ext_hi = (res_f >= thr_hi[:, None]) & wide & (cols[None, :] >= mid[:, None])
    jl = np.argmax(above_lo[rows], axis=1)
    jh = w - 1 - np.argmax(above_hi[rows, ::-1], axis=1)
    # The edge of each side, per row at once (:func:`_side_edges`).
    lo[rows] = _side_edges(res_f, rows, ext_lo[rows], jl, thr_lo[rows], -1, search)
    hi[rows] = _side_edges(res_f, rows, ext_hi[rows], jh, thr_hi[rows], 1, search)

    length_mm = rows.size * px_mm
    deg = 1 if length_mm < 40 else (2 if length_mm < 100 else 3)
    tol = tolerance_mm / px_mm
    x = rows.astype(np.float64)
    # Rows between measured stretches (a lesion cut the dense mask) take the fit too,
    # so the bone continues under the lesion.
    gap = np.zeros(h, bool)
    gap[rows[0] : rows[-1] + 1] = True
    gap[rows] = False
    # ... and so do up to extend_mm beyond the last measured rows: a shaft nearly always
    # continues to the field edge, where the margin hides one of its cortices first.
    ext = int(round(extend_mm / px_mm))
    gap[max(rows[0] - ext, 0) : rows[0]] = True
    gap[rows[-1] + 1 : min(rows[-1] + 1 + ext, h)] = True
    x_gap = np.nonzero(gap)[0].astype(np.float64)
    mirrored_lo, mirrored_hi = _cap_asymmetry(lo, hi, rows, tol, 1 if length_mm < 100 else 2)
    fit_hi, s_hi, gap_hi = _robust_trend(x, hi[rows], deg, tol, x_gap)
    fit_lo, s_lo, gap_lo = _robust_trend(x, -lo[rows], deg, tol, x_gap)
    bulge_hi = np.zeros(h, bool)
    bulge_lo = np.zeros(h, bool)
    # Bulges beyond the tolerance are mineral on the cortex; dips far inside are rows
    # where a lesion hid the cortex from the half-maximum rule.
    dev_hi = hi[rows] - fit_hi
    dev_lo = -lo[rows] - fit_lo
    out_hi = (dev_hi > tol + 2.0 * s_hi) | (dev_hi < -4.0 * (tol + 2.0 * s_hi))
    out_lo = (dev_lo > tol + 2.0 * s_lo) | (dev_lo < -4.0 * (tol + 2.0 * s_lo))
    # Widening against a straight shaft (fitted on the central half of the rows) tells
    # a flare, which widens both sides, from mineral on one side.
    mid_rows = np.abs(x - np.median(x)) <= 0.25 * max(np.ptp(x), 1.0)
    wide_hi = _widening(x, hi[rows], mid_rows)
    wide_lo = _widening(x, -lo[rows], mid_rows)
    out_hi, out_lo, on_flare_hi, on_flare_lo = _symmetric_is_flare(
        out_hi & (dev_hi > 0), out_lo & (dev_lo > 0), out_hi, out_lo, wide_hi, wide_lo,
        _FLARE_EXCESS_MM / px_mm,
    )
    bulge_hi[rows] = out_hi | mirrored_hi
    bulge_lo[rows] = out_lo | mirrored_lo
    # Under a lump on a flaring end the bone still flares: the edge there is the measured
    # one less the lump's excess over the other side's widening (the flare mirrored),
    # never inside the trend.
    flare_hi = np.maximum(fit_hi, hi[rows] - np.maximum(wide_hi - wide_lo, 0.0))
    flare_lo = np.maximum(fit_lo, -lo[rows] - np.maximum(wide_lo - wide_hi, 0.0))
    hi[rows[out_hi]] = np.where(on_flare_hi, flare_hi, fit_hi)[out_hi]
    lo[rows[out_lo]] = -np.where(on_flare_lo, flare_lo, fit_lo)[out_lo]
    if x_gap.size:
        g = x_gap.astype(int)
        hi[g], lo[g] = gap_hi, -gap_lo
        bulge_hi[g] = bulge_lo[g] = True
    rows = np.nonzero(np.isfinite(lo) & np.isfinite(hi))[0]

    # Cortical thickness: a projected tube peaks at the endosteal radius, so the distance
    # from the periosteal edge to the row's inner maximum is the cortex.
    thick_lo = np.full(h, np.nan)
    thick_hi = np.full(h, np.nan)
    a, b = lo[rows], hi[rows]
    half = 0.5 * (b - a)
    wide_enough = half >= 2
    j0, j1 = np.floor(a).astype(np.int64), np.ceil(a + half).astype(np.int64)
    sel = wide_enough & ~bulge_lo[rows] & (j1 > j0)
    thick_lo[rows[sel]] = _argmax_in(res_f, rows[sel], j0[sel], j1[sel]) - a[sel]
    j0, j1 = np.floor(b - half).astype(np.int64), np.ceil(b).astype(np.int64) + 1
    sel = wide_enough & ~bulge_hi[rows] & (j1 > j0)
    thick_hi[rows[sel]] = b[sel] - _argmax_in(res_f, rows[sel], j0[sel], j1[sel])
    thick_lo = np.where(thick_lo >= 0, thick_lo, np.nan)
    thick_hi = np.where(thick_hi >= 0, thick_hi, np.nan)
    return FrameFit(center, along, across, u0, v0, lo, hi, bulge_lo, bulge_hi, thick_lo, thick_hi)


def _cap_asymmetry(lo: np.ndarray, hi: np.ndarray, rows: np.ndarray, tol: float,
                   deg: int) -> tuple[np.ndarray, np.ndarray]:
    """Pull in, in place, the side of a row that stands further from the shaft's axis.

    A shaft projects symmetrically about its axis, flares included (they widen both
    sides alike), whereas mineral on the cortex pushes one side out. The per-side trends
    cannot always tell: a large lesion bends a cubic out to it, and the lesion's dense
    base is drawn into the bone. The axis is a robust polynomial (degree ``deg``)
    through the rows' midpoints, trimmed symmetrically (a lesion shifts the midpoint of
    its rows by half its bulge); in every row whose two half-widths differ by more than
    ``tol`` plus twice the midpoints' scatter, the wider side is set to the mirror image
    of the other, unless its run of such rows reaches an end of the measured ``rows``
    (:func:`_inner_runs`). Returns which of ``rows`` had their lo and their hi side
    mirrored.
    """
    from scipy.stats import siegelslopes

    wide_lo = np.zeros(rows.size, bool)
    wide_hi = np.zeros(rows.size, bool)
    ok = np.isfinite(lo[rows]) & np.isfinite(hi[rows])
    all_rows, rows = rows, rows[ok]
    if rows.size < deg + 4:
        return wide_lo, wide_hi
    x = rows.astype(np.float64)
    x0, span = x.mean(), max(np.ptp(x), 1.0)
    xs = (x - x0) / span
    mid = 0.5 * (lo[rows] + hi[rows])
    # Start from a repeated-median line (robust to a lesion over up to half the rows;
    # a least-squares polynomial bends to one at an end of the shaft), then refit the
    # polynomial on the rows near it, so a bowed shaft is followed and a lesion is not.
    # (On at most ~200 rows: its cost grows with the square of their number.)
    sub = slice(None, None, max(rows.size // 200, 1))
    slope, icpt = siegelslopes(mid[sub], xs[sub])
    coef = np.array([slope, icpt])
    res = mid - np.polyval(coef, xs)
    scale = robust_sigma(res)
    keep = np.abs(res) <= 0.5 * tol + 2.5 * scale
    for _ in range(8):
        if keep.sum() <= deg + 2:
            break
        coef = np.polyfit(xs[keep], mid[keep], deg)
        res = mid - np.polyval(coef, xs)
        scale = robust_sigma(res[keep])
        new = np.abs(res) <= 0.5 * tol + 2.5 * scale
        if np.array_equal(new, keep):
            break
        keep = new
    limit = tol + 2.0 * scale
    # Measured rows only (beyond them both edges are extrapolated trends); a side whose
    # own half-width is implausibly small (an edge lost inside the bone) is no mirror for
    # the other.
    axis = np.polyval(coef, xs)
    out_hi = hi[rows] - axis
    out_lo = axis - lo[rows]
    typical = float(np.median(np.abs(hi[rows] - lo[rows]))) * 0.5
    wide_hi[ok] = _inner_runs((out_hi > out_lo + limit) & (out_lo > 0.5 * typical))
    wide_lo[ok] = _inner_runs((out_lo > out_hi + limit) & (out_hi > 0.5 * typical))
    hi[all_rows[wide_hi]] = axis[wide_hi[ok]] + out_lo[wide_hi[ok]]
    lo[all_rows[wide_lo]] = axis[wide_lo[ok]] - out_hi[wide_lo[ok]]
    return wide_lo, wide_hi


def _inner_runs(mask: np.ndarray) -> np.ndarray:
    """``mask`` less its runs that reach either end.

    A one-sided widening that runs on to the end of the measured shaft may be a flare
    whose other side the half-maximum rule missed (a thin metaphyseal cortex); mineral
    on the cortex is a bump the edge returns from.
    """
    out = mask.copy()
    # Runs a few rows apart (noise on the edge) count as one.
    bridge = max(mask.size // 20, 3)
    runs = contiguous_runs(mask, min_len=1)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= bridge:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    for a, b in merged:
        if a <= bridge or b >= mask.size - bridge:
            out[a:b] = False
    return out


def _side_edges(img: np.ndarray, rows: np.ndarray, ext: np.ndarray, j: np.ndarray, thr: np.ndarray,
                out: int, search: int) -> np.ndarray:
    """Sub-pixel edge of one side (``out``: -1 towards lower columns, +1 higher) in each
    of ``rows``: where the above-threshold run ``ext`` (rows x columns, reach included)
    that holds the band's first dense column ``j`` ends.

    The run ends at its first gap outward of ``j`` (the frame's border if none); the edge
    is the threshold crossing there. A run still above the threshold where the reach ends
    did not end in an edge. On a few rows that is a lesion on the cortex, and the caller's
    trend replaces those rows. On most rows of a side it is tissue as dense as a quarter
    of the cortex (a thick limb, the halo of a large lesion), which would capture the
    trend: there the edge is the steepest outward fall near the band's edge instead.
    """
    w = img.shape[1]
    cols = np.arange(w)
    if out < 0:
        gap = ~ext & (cols[None, :] < j[:, None])
        end = np.where(gap.any(axis=1), w - 1 - np.argmax(gap[:, ::-1], axis=1), -1)
    else:
        gap = ~ext & (cols[None, :] > j[:, None])
        end = np.where(gap.any(axis=1), np.argmax(gap, axis=1), w)
    stop = (end < 0) | (end >= w) | (img[rows, np.clip(end, 0, w - 1)] < thr)
    edge = _crossing(img, rows, end - out, thr, out)
    if stop.mean() <= 0.5:
        edge[~stop] = _steepest_fall(img, rows[~stop], j[~stop], search, out)
    return edge


def _crossing(img: np.ndarray, rows: np.ndarray, j: np.ndarray, thr: np.ndarray, out: int) -> np.ndarray:
    """Sub-pixel column where each row's profile falls through ``thr`` between column ``j``
    (at or above it) and its outward neighbour ``j + out``."""
    j = np.clip(j, 0, img.shape[1] - 1)
    a = img[rows, j]
    b = img[rows, np.clip(j + out, 0, img.shape[1] - 1)]
    return j + out * np.clip((a - thr) / np.maximum(a - b, 1e-12), 0.0, 1.0)


def _steepest_fall(img: np.ndarray, rows: np.ndarray, j: np.ndarray, half: int, out: int) -> np.ndarray:
    """Sub-pixel column of each row's steepest fall in the outward direction ``out``
    (+1: towards higher columns) within ``half`` columns of ``j``: a cortex's outline,
    where a threshold cannot tell the cortex from tissue nearly as dense."""
    w = img.shape[1]
    k = np.arange(-half, half + 1)
    cols = np.clip(j[:, None] + k[None, :], 0, w - 1)
    nxt = np.clip(cols + out, 0, w - 1)
    fall = img[rows[:, None], cols] - img[rows[:, None], nxt]
    return np.clip(j + k[np.argmax(fall, axis=1)], 0, w - 1) + 0.5 * out


def _argmax_in(img: np.ndarray, rows: np.ndarray, j0: np.ndarray, j1: np.ndarray) -> np.ndarray:
    """``j0 + np.argmax(img[r, j0:j1])`` for each row ``r`` of ``rows`` (``j1 > j0``).

    One masked argmax over the rows instead of a slice each: the same column (the first
    of equal maxima; ``img`` is finite, so -inf outside the range never wins). A start
    outside the row (a slice would count a negative one from the row's end) takes the
    slice itself.
    """
    w = img.shape[1]
    out = np.empty(rows.size, np.int64)
    odd = (j0 < 0) | (j0 >= w)
    for n in np.nonzero(odd)[0]:
        out[n] = j0[n] + int(np.argmax(img[rows[n], j0[n] : j1[n]]))
    ok = ~odd
    cols = np.arange(w)
    inside = (cols[None, :] >= j0[ok, None]) & (cols[None, :] < j1[ok, None])
    out[ok] = np.argmax(np.where(inside, img[rows[ok]], -np.inf), axis=1)
    return out


def contiguous_runs(ok: np.ndarray, min_len: int = 2) -> list[tuple[int, int]]:
    """[start, stop) index runs where ``ok`` is True, at least ``min_len`` long."""
    d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    starts = np.nonzero(d == 1)[0]
    stops = np.nonzero(d == -1)[0]
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= min_len]

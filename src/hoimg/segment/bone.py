"""``find_bone``: bone masks, periosteal edges with normals, cortical thickness, shaft axes.

Steps (working grid, see :mod:`._grid`):

1. Residual density over the soft-tissue background, in local noise sigmas (shared with
   lesion finding, :mod:`._prepare`).
2. Candidate bones are bands between two long, parallel, opposite-signed edges that run
   along the limb (:mod:`._bone_detect`): ``min_bone_width_mm`` to ``max_bone_width_mm``
   across, linked block to block into tracks at least ``min_bone_length_mm`` long (and
   ``min_bone_track_mm`` unless they leave the field). A lesion's edges are short and
   curved; markers are removed beforehand.
3. Each bone's two periosteal edges are fitted in its own shaft frame
   (:mod:`._bone_fit`) so juxtacortical mineral stays outside the bone.
4. The bone mask is the polygon between the edges, drawn at the input resolution with
   sub-pixel vertices; edges are resampled about one input pixel apart.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..radiograph import Radiograph
from ._bone_fit import FrameFit, contiguous_runs, fit_frame
from ._grid import WorkGrid, resolve_config
from ._prepare import prepare
from .model import BoneModel, CortexEdge, ShaftAxis


def find_bone(radiograph: Radiograph, config=None) -> BoneModel:
    """Find the bones of ``radiograph``.

    Parameters
    ----------
    radiograph : Radiograph
        Pixels with higher = denser. Without spacing, ``config.load.fallback_spacing_mm``
        is assumed and the model carries the ``spacing_unknown`` flag.
    config : AnalysisConfig or SegmentConfig, optional
        Defaults when None.

    Returns
    -------
    BoneModel
        ``labels`` (input grid, 0 = no bone, 1..n), periosteal ``edges`` (two per shaft,
        outward normals, cortical thickness in mm) and one ``ShaftAxis`` per bone.
        ``no_bone_found`` is flagged when there is none.
    """
    seg, load = resolve_config(config)
    prep = prepare(radiograph, seg, load)
    grid = prep.grid
    residual = prep.residual
    flags = ["spacing_unknown"] if grid.spacing_assumed else []

    fits: list[FrameFit] = []
    for k in range(1, int(prep.bone_blobs.max()) + 1):
        comp = prep.bone_blobs == k
        fit = fit_frame(residual, comp, px_mm=grid.pixel_mm, tolerance_mm=seg.bone_edge_tolerance_mm)
        if fit is None:
            continue
        width_mm = float(np.nanmedian(fit.hi - fit.lo)) * grid.pixel_mm
        if not width_mm >= seg.min_bone_width_mm:
            continue
        fits.append(fit)

    labels = np.zeros(grid.input_shape, np.int32)
    work_mask = np.zeros(grid.shape, bool)
    edges: list[CortexEdge] = []
    axes: list[ShaftAxis] = []
    for bone_id, fit in enumerate(fits, start=1):
        _draw_bone(labels, fit, grid, bone_id)
        _draw_work(work_mask, fit)
        edges.extend(_edges(fit, grid, bone_id))
        axes.append(_axis(fit, grid, bone_id))
    if not fits:
        flags.append("no_bone_found")
    model = BoneModel(labels=labels, edges=tuple(edges), axes=tuple(axes), flags=tuple(sorted(flags)))
    WORK_MASKS[model] = (grid, work_mask)
    return model


# BoneModel -> (grid, working-grid bone mask): find_lesions needs the mask on the working
# grid; keeping it beside the model (weakly) saves resampling the input-size labels.
WORK_MASKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fill_between_edges(shape: tuple[int, int], fit: FrameFit, to_grid=None) -> np.ndarray:
    """The polygon between the fitted edges, filled with sub-pixel vertices (bool mask).

    Vertices are working-grid (row, col), mapped by ``to_grid`` when given (e.g. to the
    input grid).
    """
    import cv2

    ok = np.isfinite(fit.lo) & np.isfinite(fit.hi)
    canvas = np.zeros(shape, np.uint8)
    for a, b in contiguous_runs(ok):
        i = np.arange(a, b, dtype=np.float64)
        lo, hi = fit.to_work_rc(i, fit.lo[a:b]), fit.to_work_rc(i, fit.hi[a:b])
        if to_grid is not None:
            lo, hi = to_grid(lo), to_grid(hi)
        poly = np.concatenate([lo, hi[::-1]])
        pts = np.round(poly[:, ::-1] * 16).astype(np.int32)
        cv2.fillPoly(canvas, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return canvas > 0


def _draw_work(mask: np.ndarray, fit: FrameFit) -> None:
    """Fill the polygon between the fitted edges on the working grid."""
    mask |= _fill_between_edges(mask.shape, fit)


def _draw_bone(labels: np.ndarray, fit: FrameFit, grid: WorkGrid, bone_id: int) -> None:
    """Fill the polygon between the fitted edges at the input resolution (sub-pixel)."""
    labels[_fill_between_edges(labels.shape, fit, grid.to_input_rc)] = bone_id


def _resample(points: np.ndarray, values: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample a polyline (K, 2) and per-point values at ``step`` arc-length spacing."""
    seglen = np.hypot(*np.diff(points, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seglen)])
    if s[-1] <= 0:
        return points, values
    t = np.arange(0.0, s[-1] + 1e-9, step)
    out = np.stack([np.interp(t, s, points[:, 0]), np.interp(t, s, points[:, 1])], axis=1)
    ok = np.isfinite(values)
    if ok.sum() >= 2:
        val = np.interp(t, s[ok], values[ok])
        # Do not invent thickness across long unmeasured stretches (under a lesion).
        near = np.interp(t, s, ok.astype(float)) > 0.5
        val = np.where(near, val, np.nan)
    else:
        val = np.full(t.shape, np.nan)
    return out, val


def _edges(fit: FrameFit, grid: WorkGrid, bone_id: int) -> list[CortexEdge]:
    px_mm = grid.pixel_mm
    out: list[CortexEdge] = []
    for col, thick, sign in ((fit.lo, fit.thick_lo_px, -1.0), (fit.hi, fit.thick_hi_px, 1.0)):
        for a, b in contiguous_runs(np.isfinite(col), min_len=4):
            i = np.arange(a, b, dtype=np.float64)
            work = fit.to_work_rc(i, col[a:b])
            pts = grid.to_input_rc(work)
            thick_mm = thick[a:b] * px_mm
            pts, thick_mm = _resample(pts, thick_mm, 1.0)
            if pts.shape[0] < 2:
                continue
            tangent = np.gradient(pts, axis=0)
            tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-12)[:, None]
            normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
            outward = sign * fit.across_rc
            flip = (normal @ outward) < 0
            normal[flip] *= -1.0
            out.append(CortexEdge(bone_id, pts, normal, thick_mm.astype(np.float64)))
    return out


def _axis(fit: FrameFit, grid: WorkGrid, bone_id: int) -> ShaftAxis:
    ok = np.isfinite(fit.lo) & np.isfinite(fit.hi)
    rows = np.nonzero(ok)[0]
    mid_j = 0.5 * (fit.lo[rows] + fit.hi[rows])
    centre_work = fit.to_work_rc(np.array([rows.mean()]), np.array([mid_j.mean()]))[0]
    centre = grid.to_input_rc(centre_work[None])[0]
    sr, sc = grid.scale_rc
    d = np.array([fit.along_rc[0] / sr, fit.along_rc[1] / sc])
    d /= np.hypot(*d)
    length_mm = float(rows.max() - rows.min() + 1) * grid.pixel_mm
    width_mm = float(np.median(fit.hi[rows] - fit.lo[rows])) * grid.pixel_mm
    return ShaftAxis(
        bone_id,
        (float(centre[0]), float(centre[1])),
        (float(d[0]), float(d[1])),
        length_mm,
        width_mm,
    )

"""Shared first steps of bone and lesion segmentation, computed once per radiograph.

``find_bone`` and ``find_lesions`` both need the working image, its field mask, noise and
soft-tissue background. :func:`prepare` computes them and keeps them in a weak cache keyed
by the radiograph object, so the pipeline's find_bone -> find_lesions pays once, and the
cache entry disappears with the radiograph.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ..config import LoadConfig, SegmentConfig
from ..radiograph import Radiograph
from ._background import soft_tissue_background
from ._bone_detect import bone_blobs
from ._field import outside_mask, plateau_mask, saturated_mask
from ._grid import WorkGrid, downsample, ellipse, gaussian, make_grid


@dataclass(frozen=True, eq=False)
class Prepared:
    """Working-grid maps of one radiograph (all (M, N) arrays on ``grid``)."""

    grid: WorkGrid
    smooth: np.ndarray  # image smoothed at smoothing_mm
    outside: np.ndarray  # collimation / air (bool)
    markers: np.ndarray  # burned-in text and flat markers (bool)
    valid: np.ndarray  # may hold tissue: not outside, not markers, not at their edges
    noise: np.ndarray  # local robust sigma of smooth - background (noise + clutter)
    background: np.ndarray  # soft-tissue background under `smooth`
    dense: np.ndarray  # excluded from the background as dense: candidates (bool)
    bone_blobs: np.ndarray  # int32 labels of bone candidates (marrow included)
    collimated: np.ndarray  # the collimated / blanked part of `outside` (bool)

    @property
    def z(self) -> np.ndarray:
        """Residual over background in noise sigmas."""
        return (self.smooth - self.background) / self.noise


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepare(radiograph: Radiograph, seg: SegmentConfig, load: LoadConfig) -> Prepared:
    """Compute (or fetch from the weak cache) the shared maps of ``radiograph``."""
    key = (seg, load)
    hit = _CACHE.get(radiograph)
    if hit is not None and hit[0] == key:
        return hit[1]
    prep = _compute(radiograph, seg, load)
    _CACHE[radiograph] = (key, prep)
    return prep


def _compute(radiograph: Radiograph, seg: SegmentConfig, load: LoadConfig) -> Prepared:
    import cv2

    grid = make_grid(radiograph, seg, load)
    work = downsample(radiograph.pixels, grid)
    if not np.all(np.isfinite(work)):
        work = np.nan_to_num(work, nan=float(np.nanmedian(work)), posinf=0.0, neginf=0.0)
    smooth = gaussian(work, grid.px(seg.smoothing_mm))
    outside, collimated = outside_mask(work, grid, parts=True)
    markers = plateau_mask(work, outside) | (saturated_mask(radiograph.pixels, grid) & ~outside)
    margin = ellipse(grid.px(seg.field_margin_mm))
    near_field = cv2.dilate((outside | markers).astype(np.uint8), margin) > 0
    valid = ~near_field
    # The outermost pixels of the image carry the blur's border reflection.
    b = max(int(round(grid.px(1.0))), 1)
    valid[:b, :] = valid[-b:, :] = False
    valid[:, :b] = valid[:, -b:] = False
    kw = dict(
        scale_mm=seg.background_scale_mm,
        dense_sigma=seg.lesion_grow_sigma,
        closing_mm=seg.rim_closing_mm,
        max_hole_mm2=seg.max_hole_mm2,
    )
    blobs = bone_blobs(smooth, valid, grid, seg)
    bone_zone = cv2.dilate((blobs > 0).astype(np.uint8), ellipse(grid.px(1.0))) > 0
    exclude = bone_zone | _large_faint(smooth, valid, bone_zone, grid, seg)
    background, noise, dense = soft_tissue_background(
        smooth, valid, grid, exclude=exclude, iterations=2, **kw
    )
    return Prepared(grid, smooth, outside, markers, valid, noise, background, dense, blobs, collimated)


def _large_faint(
    smooth: np.ndarray, valid: np.ndarray, bone_zone: np.ndarray, grid, seg
) -> np.ndarray:
    """Large, faint mineral that a lesion-scale background would fit as soft tissue.

    A smooth centre-dense lesion 30-80 mm across is wider than the background window and
    would be absorbed by it. A background three times wider (where such a lesion is a
    bump) and a residual smoothed over ~2 mm (where its coherent excess beats the noise)
    find it; it is then left out of the lesion-scale fit, like bone.
    """
    import cv2

    from ._background import local_sigma, quadratic_background
    from ._grid import gaussian

    w = valid & ~bone_zone
    wide = quadratic_background(smooth, w, grid.px(3.0 * seg.background_scale_mm))
    resid = gaussian(smooth - wide, grid.px(seg.coarse_smoothing_mm))
    sigma = local_sigma(resid, w, max(int(round(grid.px(16.0))), 8))
    blob = ((resid > seg.large_lesion_sigma * sigma) & w).astype(np.uint8)
    blob = cv2.morphologyEx(blob, cv2.MORPH_OPEN, ellipse(grid.px(3.0)))
    return cv2.dilate(blob, ellipse(grid.px(2.0))) > 0

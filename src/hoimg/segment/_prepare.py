"""Shared first steps of bone and lesion segmentation, computed once per radiograph.

``find_bone`` and ``find_lesions`` both need the working image, its field mask, noise and
soft-tissue background. :func:`prepare` computes them and keeps them in a weak cache keyed
by the radiograph object, so the pipeline's find_bone -> find_lesions pays once, and the
cache entry disappears with the radiograph.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..config import LoadConfig, SegmentConfig
from ..radiograph import Radiograph
from ._background import running_percentile, soft_tissue_background
from ._bone_detect import bone_blobs, limb_direction, limb_gradients
from ._field import flat_mask, outside_mask, plateau_mask, saturated_mask
from ._grid import WorkGrid, components_touching, downsample, ellipse, gaussian, make_grid, morphology


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
    along: np.ndarray | None  # soft tissue along the limb (NaN where unknown; None: no tissue)
    limb_axis: np.ndarray  # unit (row, col) vector along the limb
    # `noise` opened along the limb (SegmentConfig.noise_opening_mm): what seeds are
    # measured against, since a lesion raises the plain map where it lies. Growth and
    # outlines keep the plain map: there the lesion's flanks must stand out of the
    # spread actually measured around them.
    seed_noise: np.ndarray

    @cached_property
    def residual(self) -> np.ndarray:
        """``smooth - background`` (read-only): read by both find_bone and find_lesions."""
        out = self.smooth - self.background
        out.setflags(write=False)
        return out

    @property
    def z(self) -> np.ndarray:
        """Residual over background in noise sigmas."""
        return (self.smooth - self.background) / self.noise

    def z_along(self, box: tuple[slice, slice]) -> np.ndarray:
        """Excess over the tissue along the limb in noise sigmas, within ``box``: 0 where
        that tissue is unknown (NaN), the residual over the local background when the image
        has no along-limb estimate at all."""
        if self.along is None:
            return (self.smooth[box] - self.background[box]) / self.noise[box]
        along = self.along[box]
        return np.where(np.isnan(along), 0.0, (self.smooth[box] - along) / self.noise[box])


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
    flat = flat_mask(work)  # read by both: computed once
    outside, collimated = outside_mask(work, grid, parts=True, flat=flat)
    markers = plateau_mask(work, outside, flat=flat) | (saturated_mask(radiograph.pixels, grid) & ~outside)
    margin = ellipse(grid.px(seg.field_margin_mm))
    # Masks are dilated through _grid.morphology (bounding box, disc as rectangles: exact).
    near_field = morphology(outside | markers, cv2.MORPH_DILATE, margin) > 0
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
    # Bone bands find their axis on a coarser copy (bone_blobs). The limb axis of the
    # whole field (noise blocks) and of the soft tissue alone (the along-limb background:
    # off the bone, the fat planes and the skin set it) come from one set of gradients.
    # Bone detection is sensitive to its axis: a tenth of a degree moves a band's block
    # medians enough to lose a lesion on a cortex (dev seed 45), so each keeps its own.
    blobs = bone_blobs(smooth, valid, grid, seg)
    gradients = limb_gradients(smooth, grid)
    limb_axis = limb_direction(smooth, valid, grid, gradients)
    bone_zone = morphology(blobs > 0, cv2.MORPH_DILATE, ellipse(grid.px(1.0))) > 0
    along = along_limb_background(smooth, valid & ~bone_zone, grid, gradients=gradients)
    exclude = bone_zone | _large_faint(smooth, valid, bone_zone, along, limb_axis, grid, seg)
    background, noise, seed_noise, dense = soft_tissue_background(
        smooth, valid, grid, exclude=exclude, iterations=2, along=limb_axis,
        opening_mm=seg.noise_opening_mm, **kw
    )
    return Prepared(grid, smooth, outside, markers, valid, noise, background, dense, blobs, collimated,
                    along, limb_axis, seed_noise)


def _large_faint(
    smooth: np.ndarray,
    valid: np.ndarray,
    bone_zone: np.ndarray,
    along: np.ndarray | None,
    limb_axis: np.ndarray,
    grid,
    seg,
) -> np.ndarray:
    """Large, faint mineral that a lesion-scale background would fit as soft tissue.

    A smooth centre-dense lesion 30-80 mm across is wider than the background window and
    would be absorbed by it. A background three times wider (where such a lesion is a
    bump) and a residual smoothed over ~2 mm (where its coherent excess beats the noise)
    find it; it is then left out of the lesion-scale fit, like bone.
    """
    import cv2

    from ._background import band_median, local_sigma, quadratic_background

    w = valid & ~bone_zone
    block = max(int(round(grid.px(16.0))), 8)
    wide = quadratic_background(smooth, w, grid.px(3.0 * seg.background_scale_mm))
    resid = gaussian(smooth - wide, grid.px(seg.coarse_smoothing_mm))
    # Blocks and lesions here are twice the lesion-scale ones: so is the opening.
    sigma = local_sigma(resid, w, block, along=limb_axis,
                        opening_px=grid.px(2.0 * seg.noise_opening_mm))
    blob = ((resid > seg.large_lesion_sigma * sigma) & w).astype(np.uint8)
    if along is not None:
        # Where the run is unknown the tissue is taken as it is (no excess).
        resid = gaussian(smooth - np.where(np.isnan(along), smooth, along), grid.px(seg.coarse_smoothing_mm))
        # What is left after the along-limb runs is mostly noise and compact structure:
        # one robust spread for the image (a local one would count the lesion itself).
        sigma_along = float(band_median(np.abs(resid[w]))) / 0.6745 if w.any() else np.inf
        extra = ((resid > seg.large_lesion_sigma * sigma_along) & w).astype(np.uint8)
        # The openings and dilations here go through _grid.morphology: the same result on
        # the mask's bounding box, the disc as a few rectangles (a fraction of the cost).
        extra = morphology(extra, cv2.MORPH_OPEN, ellipse(grid.px(3.0)))
        # Only where it reaches the bone: what a lesion-scale window absorbs is a broad
        # lesion on the cortex (POS); elsewhere a muscle belly between two fat planes
        # looks the same to this test.
        near_bone = morphology(bone_zone, cv2.MORPH_DILATE, ellipse(grid.px(3.0)))
        blob |= components_touching(extra, near_bone > 0)
    blob = morphology(blob, cv2.MORPH_OPEN, ellipse(grid.px(3.0)))
    return morphology(blob, cv2.MORPH_DILATE, ellipse(grid.px(2.0))) > 0


def along_limb_background(
    smooth: np.ndarray,
    weight: np.ndarray,
    grid,
    *,
    window_mm: float = 120.0,
    block_mm: float = 4.0,
    percentile: float = 30.0,
    gradients: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray | None:
    """Soft tissue as it runs along the limb: a low running percentile along the limb axis.

    Nearly everything in a limb that is not a lesion runs along it: skin, fat planes,
    muscle bellies, the bone's blurred edges. Their density changes across the limb
    within millimetres (which a wide isotropic fit cannot follow, so they inflate the
    local spread until a 50 mm centre-dense lesion is a 3-sigma bump), but hardly along it.
    In the limb's frame, the ``percentile`` of ``block_mm`` block means over ``window_mm``
    along the axis follows all of them and ignores a compact lesion shorter than ~70% of
    the window. Returns None when there is too little tissue to tell, and NaN where a
    pixel's run is too short to trust. The limb axis is that of ``weight``'s
    pixels (:func:`limb_direction`; ``gradients`` as there).
    """
    import cv2

    from ._bone_detect import limb_direction, limb_frame

    if weight.sum() < 100:
        return None
    along = limb_direction(smooth, weight, grid, gradients)
    m, (h, w), *_ = limb_frame(smooth.shape, along)
    inv = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    wt = weight.astype(np.float32)
    step = max(int(round(grid.px(block_mm))), 1)
    nb = h // step
    if nb < 3:
        return None
    # Only the frame rows that make whole blocks are read.
    img_f = cv2.warpAffine(smooth * wt, m, (w, nb * step), flags=inv, borderValue=0.0)
    wt_f = cv2.warpAffine(wt, m, (w, nb * step), flags=inv, borderValue=0.0)
    sums = img_f.reshape(nb, step, w).sum(axis=1)
    cnt = wt_f.reshape(nb, step, w).sum(axis=1)
    means = np.where(cnt >= 0.5 * step, sums / np.maximum(cnt, 1e-6), np.nan).astype(np.float32)
    half = max(int(round(window_mm / block_mm / 2)), 1)
    # A column seen in fewer than a third of its window has no trustworthy run.
    low = running_percentile(means, half, percentile, max((2 * half + 1) // 3, 3))
    # Block centres back to frame rows, then to the image grid; holes (no trustworthy
    # run) are NaN. The frame beyond the block rows was zeros, which is what the warp's
    # constant border gives.
    rows_f = cv2.resize(np.nan_to_num(low, nan=0.0), (w, nb * step), interpolation=cv2.INTER_LINEAR)
    ok_f = cv2.resize(np.isfinite(low).astype(np.float32), (w, nb * step), interpolation=cv2.INTER_LINEAR)
    fwd = cv2.invertAffineTransform(m)
    rows, cols = smooth.shape
    bg = cv2.warpAffine(rows_f, fwd, (cols, rows), flags=inv, borderValue=0.0)
    ok = cv2.warpAffine(ok_f, fwd, (cols, rows), flags=inv, borderValue=0.0) > 0.99
    bg[~ok] = np.nan  # bg is the warp's own float32 array
    return bg

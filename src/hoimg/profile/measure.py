"""Measure every lesion candidate of an image in one go: the pipeline's fast path."""

from __future__ import annotations

import numpy as np

from ._common import kernel_array, resolve_config, spacing_of
from .cleft import profile_plane, resample_edges, scan_lesions
from .radial import MAX_BLOCK, _band_px, block_factor, profile_args, profiles_from_batch, window_pad
from .results import CleftScan, RadialProfile

__all__ = ["measure_lesions"]


def measure_lesions(radiograph, bone, candidates, config=None
                    ) -> tuple[tuple[RadialProfile, CleftScan], ...]:
    """Radial profile and cleft scan of every candidate, in the order of ``candidates.records``.

    All profiles (and their features) are computed by one kernel call over the full image
    and label image (no per-lesion copies), and all cleft scans by another after the cortex
    edges have been resampled once. Bone pixels are left out of every lesion's background band and
    profile, and a lesion's contact with bone is not its boundary (so the base of an
    attached lesion is not read as its rim). Big lesions are profiled on 2x2 or 4x4 block
    means (:func:`hoimg.profile.radial.block_factor`, from ``area_px`` and ``bbox_rc``).

    Parameters
    ----------
    radiograph : hoimg.Radiograph
    bone : hoimg.segment.BoneModel or None
    candidates : hoimg.segment.LesionCandidates
        ``labels`` (int label image) and ``records`` with ``id`` and ``bbox_rc``.
    config : AnalysisConfig or ProfileConfig, optional

    Returns
    -------
    tuple of (RadialProfile, CleftScan)
    """
    from . import _kernels

    cfg, fallback = resolve_config(config)
    records = tuple(candidates.records)
    if not records:
        return ()
    shape = radiograph.shape
    spacing = spacing_of(radiograph, fallback)
    image = kernel_array(radiograph.pixels, np.float32)
    labels = kernel_array(candidates.labels, np.int32)
    have_bone = bone is not None and bone.labels.shape == tuple(shape)
    exclude = kernel_array(bone.labels if have_bone else np.zeros((1, 1)), np.int32)
    inner, outer = _band_px(cfg, cfg.background_band_mm, spacing)
    pad = window_pad(outer, cfg)
    ids = np.array([r.id for r in records], dtype=np.int32)
    bboxes = np.array([r.bbox_rc for r in records], dtype=np.int64).reshape(-1, 4)
    windows = np.empty_like(bboxes)  # each box grown by the pad, clipped to the image
    windows[:, :2] = np.maximum(bboxes[:, :2] - pad, 0)
    windows[:, 2:] = np.minimum(bboxes[:, 2:] + pad, shape)
    blocks = np.array([block_factor(r.area_px, r.bbox_rc, cfg.block_radius_px, MAX_BLOCK)
                       for r in records], dtype=np.int64)
    out = _kernels._profile_batch(image, labels, ids, exclude, windows, blocks,
                                  *profile_args(cfg, cfg.n_bins, cfg.n_sectors, inner, outer,
                                                spacing))
    profiles = profiles_from_batch(*out, cfg)
    # the cleft scan reads each lesion's background plane and noise from the profile that
    # is reported (for a regrown lesion: the one on its grown support)
    if bone is None:
        scans = [CleftScan.not_applicable(step_mm=cfg.cleft_step_mm)] * len(records)
    else:
        samples = resample_edges(bone, spacing, cfg.cleft_step_mm)
        scans = scan_lesions(image, labels, ids, bboxes, samples, profile_plane(profiles),
                             spacing, cfg.cleft_reach_mm, cfg.cleft_step_mm, cfg)
    return tuple(zip(profiles, scans, strict=True))

"""Measure every lesion candidate of an image in one go: the pipeline's fast path."""

from __future__ import annotations

import numpy as np

from ._common import grow, resolve_config, spacing_of
from .cleft import finish_scan, level_args, resample_edges
from .radial import (
    BAND_MAX_SAMPLES,
    MAX_BLOCK,
    _band_px,
    block_factor,
    profiles_from_batch,
    sector_edges,
    window_pad,
)
from .results import CleftScan, RadialProfile

__all__ = ["measure_lesions"]


def measure_lesions(radiograph, bone, candidates, config=None
                    ) -> tuple[tuple[RadialProfile, CleftScan], ...]:
    """Radial profile and cleft scan of every candidate, in the order of ``candidates.records``.

    All profiles are computed by one kernel call over the full image and label image (no
    per-lesion copies), and all cleft scans by another after the cortex edges have been
    resampled once. Bone pixels are left out of every lesion's background band and
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
    image = np.ascontiguousarray(radiograph.pixels, dtype=np.float32)
    labels = np.ascontiguousarray(candidates.labels, dtype=np.int32)
    have_bone = bone is not None and bone.labels.shape == tuple(shape)
    exclude = (np.ascontiguousarray(bone.labels, dtype=np.int32) if have_bone
               else np.zeros((1, 1), dtype=np.int32))
    inner, outer = _band_px(cfg, cfg.background_band_mm, spacing)
    pad = window_pad(outer, cfg)
    ids = np.array([r.id for r in records], dtype=np.int32)
    windows = np.array([grow(r.bbox_rc, pad, shape) for r in records], dtype=np.int64)
    blocks = np.array([block_factor(r.area_px, r.bbox_rc, cfg.block_radius_px, MAX_BLOCK)
                       for r in records], dtype=np.int64)
    sums, counts, ref_sums, stats = _kernels._radial_profile_batch(
        image, labels, ids, exclude, windows, inner, outer, cfg.n_bins, cfg.n_sectors,
        sector_edges(cfg.n_sectors), BAND_MAX_SAMPLES, blocks, float(cfg.grow_sigma),
    )
    profiles = profiles_from_batch(sums, counts, ref_sums, stats, cfg)
    samples = resample_edges(bone, spacing, cfg.cleft_step_mm) if bone is not None else None
    if samples is not None and samples.base_rc.shape[0] > 0:
        from . import _cleft_kernels

        bboxes = np.array([r.bbox_rc for r in records], dtype=np.int64)
        hit_lesion, hit_sample, t_hit, levels = _cleft_kernels._cleft_batch(
            image, labels, ids, bboxes, samples.base_rc, samples.normal_rc,
            cfg.cleft_reach_mm / samples.mm_per_px, 0.5,
            *level_args(spacing, cfg.cleft_step_mm, cfg),
        )
        starts = np.searchsorted(hit_lesion, np.arange(len(records) + 1))
    out = []
    for i, prof in enumerate(profiles):
        if samples is None or samples.base_rc.shape[0] == 0 or starts[i] == starts[i + 1]:
            cleft = CleftScan.not_applicable(step_mm=cfg.cleft_step_mm)
        else:
            sl = slice(starts[i], starts[i + 1])
            cleft = finish_scan(samples, hit_sample[sl], t_hit[sl], levels[sl], prof, spacing,
                                cfg.cleft_step_mm, cfg, image)
        out.append((prof, cleft))
    return tuple(out)

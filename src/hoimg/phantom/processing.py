"""Vendor-like "for presentation" processing: log, unsharp masking / multi-scale
enhancement, a tone curve, and quantisation to the stored bit depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .imaging import blur_mm


@dataclass(frozen=True)
class Processing:
    """Parameters of the presentation processing (drawn per image)."""

    usm_sigma_mm: float  # unsharp-mask kernel
    usm_gain: float
    coarse_sigma_mm: float  # second, coarser enhancement band (0 gain = off)
    coarse_gain: float
    gamma: float  # tone curve exponent
    sigmoid_contrast: float  # 0 = pure gamma; >0 adds an S-curve
    low_percentile: float  # input level mapped to 0 (air side)
    high_headroom: float  # fraction of the dynamic range kept above the densest tissue
    bits_stored: int
    used_fraction: float  # share of the stored range the image occupies
    offset_fraction: float


def sample_processing(rng: np.random.Generator) -> Processing:
    """Draw processing parameters over the range seen across vendors."""
    return Processing(
        usm_sigma_mm=float(rng.uniform(1.5, 10.0)),
        usm_gain=float(rng.uniform(0.0, 1.5)),
        coarse_sigma_mm=float(rng.uniform(10.0, 40.0)),
        coarse_gain=float(rng.uniform(0.0, 0.8)) if rng.uniform() < 0.4 else 0.0,
        gamma=float(rng.uniform(0.7, 1.4)),
        sigmoid_contrast=float(rng.uniform(2.0, 6.0)) if rng.uniform() < 0.5 else 0.0,
        low_percentile=float(rng.uniform(0.5, 3.0)),
        high_headroom=float(rng.uniform(0.02, 0.15)),
        bits_stored=int(rng.choice([10, 12, 12, 12, 14, 15, 16])),
        used_fraction=float(rng.uniform(0.6, 1.0)),
        offset_fraction=float(rng.uniform(0.0, 1.0)),
    )


def log_signal(counts: np.ndarray, air_counts: float) -> np.ndarray:
    """``log(air / counts)``: 0 in air, higher = more attenuation (float32)."""
    return np.log(np.float32(air_counts) / np.maximum(counts, np.float32(0.5)))


def present(
    density: np.ndarray, proc: Processing, spacing_mm: float, field: np.ndarray | None = None
) -> np.ndarray:
    """Enhance, tone-map and quantise a log image; returns stored-domain values where higher
    means denser (the caller inverts for MONOCHROME1), as uint16 in [0, 2**bits - 1].

    ``field`` (the open collimator fraction) restricts the percentiles to exposed pixels,
    as vendor auto-ranging does.
    """
    x = density
    if proc.usm_gain > 0:
        x = x + np.float32(proc.usm_gain) * (x - blur_mm(x, proc.usm_sigma_mm, spacing_mm))
    if proc.coarse_gain > 0:
        x = x + np.float32(proc.coarse_gain) * (x - blur_mm(x, proc.coarse_sigma_mm, spacing_mm))
    sample = x[::4, ::4]
    if field is not None:
        sample = sample[field[::4, ::4] > 0.5]
    if sample.size == 0:
        sample = x[::4, ::4].ravel()
    lo = np.percentile(sample, proc.low_percentile)
    hi = np.percentile(sample, 99.9)
    hi = hi + (hi - lo) * proc.high_headroom
    y = np.clip((x - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    y = np.power(y, np.float32(proc.gamma))
    if proc.sigmoid_contrast > 0:
        c = np.float32(proc.sigmoid_contrast)
        s = 1 / (1 + np.exp(-c * (y - 0.5)))
        s0, s1 = 1 / (1 + np.exp(c * 0.5)), 1 / (1 + np.exp(-c * 0.5))
        y = (s - s0) / (s1 - s0)
    maxv = 2**proc.bits_stored - 1
    span = proc.used_fraction * maxv
    offset = proc.offset_fraction * (maxv - span)
    return np.clip(np.rint(offset + y * span), 0, maxv).astype(np.uint16)

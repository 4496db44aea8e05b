"""Radial profile of a lesion: is it denser at the rim (HO) or at the core (POS)?

Normalised radius
    ``s = 1 - d / d_max`` with ``d`` the exact Euclidean distance of a lesion pixel to the
    nearest non-lesion pixel (distance transform of the lesion mask) and ``d_max`` its
    maximum in the lesion. Chosen over a centroid-based polar map because it follows any
    outline (elongated HO, lobulated POS, crescents) and maps a rim of constant wall
    thickness onto a constant band of ``s``. Bins are looked up on the integer squared
    distance, so every implementation puts every pixel into the same bin.

Uniform reference
    A uniform-density body of the same outline projects, per pixel, the chord
    ``sqrt(e (2 e_max - e))`` with ``e = d - 1/2`` the distance to the boundary (exact
    for a ball, the local-thickness model for other outlines). It is averaged over the
    same bins as the data.

Classification rule
    ``zonal_index = (x - y) / (x + y)`` where ``x`` (``y``) is the mean density over the rim
    (core) zone divided by the uniform reference's mean over the same zone. It is 0 for a
    uniform body of any outline, so a centre-bright uniform ball is not "central".
    ``zonal_index >= band`` is "peripheral", ``<= -band`` "central", else "uniform"
    (``band = ProfileConfig.zonal_uniform_band``).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import ProfileConfig
from ..errors import InvalidInputError
from ._common import full_mask, grow, mm_to_px, resolve_config, spacing_of
from .results import RadialProfile

__all__ = ["radial_profile", "sector_edges"]


def sector_edges(n_sectors: int) -> np.ndarray:
    """Sector boundaries in the kernels' diamond-angle units (0..4), equal angles apart."""
    theta = 2.0 * np.pi * np.arange(n_sectors + 1) / n_sectors
    dr, dc = np.sin(theta), np.cos(theta)
    out = np.empty(n_sectors + 1, dtype=np.float64)
    for i in range(n_sectors + 1):
        r, c = float(dr[i]), float(dc[i])
        if abs(r) < 1e-15:
            r = 0.0
        if abs(c) < 1e-15:
            c = 0.0
        if r >= 0.0:
            out[i] = r / (c + r) if c >= 0.0 else 1.0 - c / (-c + r)
        else:
            out[i] = 2.0 - r / (-c - r) if c < 0.0 else 3.0 + c / (c - r)
    out[0], out[-1] = 0.0, 4.0
    return out


def _band_px(cfg: ProfileConfig, band_mm: float, spacing) -> tuple[float, float]:
    inner = mm_to_px(cfg.background_gap_mm, spacing)
    outer = max(mm_to_px(band_mm, spacing), inner + 2.0)
    return inner, outer


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN for < 3 points."""
    if x.size < 3:
        return float("nan")

    def ranks(a):
        order = np.argsort(a, kind="mergesort")
        r = np.empty(a.size, dtype=np.float64)
        r[order] = np.arange(a.size, dtype=np.float64)
        # average the ranks of ties
        for v in np.unique(a):
            sel = a == v
            if sel.sum() > 1:
                r[sel] = r[sel].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = math.sqrt(float(np.sum(rx * rx) * np.sum(ry * ry)))
    return float(np.sum(rx * ry) / den) if den > 0 else float("nan")


def _peak_position(s: np.ndarray, values: np.ndarray) -> float:
    ok = np.flatnonzero(np.isfinite(values))
    if ok.size == 0:
        return float("nan")
    k = int(ok[np.argmax(values[ok])])
    pos = float(s[k])
    # parabolic refinement when both neighbours exist: the bins are 1/n wide
    if 0 < k < s.size - 1 and np.isfinite(values[k - 1]) and np.isfinite(values[k + 1]):
        a, b, c = values[k - 1], values[k], values[k + 1]
        den = a - 2.0 * b + c
        if den < 0:
            pos += float(0.5 * (a - c) / den) * float(s[1] - s[0])
    return float(min(max(pos, 0.0), 1.0))


def profile_from_sums(
    sums: np.ndarray,
    counts: np.ndarray,
    ref_sums: np.ndarray,
    stats: np.ndarray,
    cfg: ProfileConfig,
) -> RadialProfile:
    """Turn one lesion's kernel sums into a :class:`RadialProfile` with its features."""
    n_sectors, n_bins = sums.shape
    s = (np.arange(n_bins) + 0.5) / n_bins
    background, noise, d_max, g_num, g_den = (float(v) for v in stats[:5])
    flags: list[str] = []
    cnt = counts.sum(axis=0)
    n_px = int(cnt.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = sums.sum(axis=0) / cnt
        values = raw - background
        sector_values = sums / counts - background
        ref = ref_sums / cnt
    ref_max = np.nanmax(ref) if np.any(np.isfinite(ref)) else np.nan
    ref = ref / ref_max if ref_max > 0 else np.full(n_bins, np.nan)
    if (cnt == 0).any() or n_px < 10 * n_bins or not math.isfinite(background):
        flags.append("few_pixels_profile")

    rim = s >= cfg.rim_start
    core = s <= cfg.core_end
    n_rim, n_core = int(cnt[rim].sum()), int(cnt[core].sum())
    nan = float("nan")
    if n_rim == 0 or n_core == 0 or not math.isfinite(background):
        rim_mean = core_mean = nan
    else:
        rim_mean = float(sums[:, rim].sum() / n_rim - background)
        core_mean = float(sums[:, core].sum() / n_core - background)

    peak = _peak_position(s, values)
    finite = np.isfinite(values)
    peak_value = float(np.max(np.abs(values[finite]))) if finite.any() else nan
    if math.isfinite(rim_mean) and math.isfinite(core_mean):
        se_core = noise / math.sqrt(n_core) if math.isfinite(noise) else 0.0
        floor = max(2.0 * se_core, 0.02 * peak_value, 1e-12)
        rim_core = rim_mean / max(core_mean, floor)
        ref_rim = float(np.sum(ref_sums[rim]) / n_rim)
        ref_core = float(np.sum(ref_sums[core]) / n_core)
        x = max(rim_mean, 0.0) / ref_rim if ref_rim > 0 else 0.0
        y = max(core_mean, 0.0) / ref_core if ref_core > 0 else 0.0
        zonal = (x - y) / (x + y) if x + y > 0 else 0.0
    else:
        rim_core = zonal = nan

    # rim continuity: per sector, the outer-half maximum against the lesion's core mean
    outer = s >= 0.5
    if math.isfinite(core_mean) and math.isfinite(noise) and n_core > 0:
        hits = 0
        for k in range(n_sectors):
            sv = sector_values[k, outer]
            sc = counts[k, outer]
            ok = sc > 0
            if not ok.any():
                continue
            j = int(np.argmax(np.where(ok, sv, -np.inf)))
            se = noise * math.sqrt(1.0 / sc[j] + 1.0 / n_core)
            if sv[j] - core_mean > cfg.rim_sigma * se:
                hits += 1
        continuity = hits / n_sectors
    else:
        continuity = nan

    gradient = g_num / g_den if g_den > 0 else nan
    rho = _spearman(s[finite], values[finite])
    if math.isfinite(zonal) and zonal >= cfg.zonal_uniform_band:
        pattern = "peripheral"
    elif math.isfinite(zonal) and zonal <= -cfg.zonal_uniform_band:
        pattern = "central"
    else:
        pattern = "uniform"
    return RadialProfile(
        s=s,
        values=values,
        counts=cnt.astype(np.int64),
        sector_values=sector_values,
        background=background,
        noise_sigma=noise,
        uniform_reference=ref,
        peak_position=peak,
        rim_core_ratio=float(rim_core),
        zonal_index=float(zonal),
        rim_continuity=float(continuity),
        gradient_index=float(gradient),
        spearman_rho=rho,
        zonal_pattern=pattern,
        flags=tuple(sorted(set(flags))),
        d_max_px=d_max,
        n_pixels=n_px,
        rim_start=cfg.rim_start,
        core_end=cfg.core_end,
    )


def radial_profile(
    radiograph,
    lesion_mask: np.ndarray,
    *,
    bbox_rc: tuple[int, int, int, int] | None = None,
    n_bins: int | None = None,
    n_sectors: int | None = None,
    background_band_mm: float | None = None,
    exclude_mask: np.ndarray | None = None,
    config=None,
) -> RadialProfile:
    """Measure the radial density profile of one lesion.

    Parameters
    ----------
    radiograph : hoimg.Radiograph
    lesion_mask : (M, N) bool ndarray, or the (r1-r0, c1-c0) crop of ``bbox_rc``
    bbox_rc : (r0, c0, r1, c1), optional
        End-exclusive box that ``lesion_mask`` is the crop of.
    n_bins, n_sectors : int, optional
        Radial bins and angular sectors (default: ``config.profile``, 10 and 16).
    background_band_mm : float, optional
        Outer width of the soft-tissue band whose median is the background (default
        ``config.profile.background_band_mm``, 3 mm).
    exclude_mask : (M, N) bool ndarray, optional
        Pixels left out of the background band, e.g. ``bone.mask``.
    config : AnalysisConfig or ProfileConfig, optional

    Returns
    -------
    RadialProfile

    Raises
    ------
    hoimg.errors.InvalidInputError
        Empty mask, shapes that do not match the image, or bad bin counts.
    """
    from . import _kernels

    cfg, fallback = resolve_config(config)
    n_bins = int(cfg.n_bins if n_bins is None else n_bins)
    n_sectors = int(cfg.n_sectors if n_sectors is None else n_sectors)
    band_mm = float(cfg.background_band_mm if background_band_mm is None else background_band_mm)
    if n_bins < 3 or n_sectors < 1:
        raise InvalidInputError(f"need n_bins >= 3 and n_sectors >= 1, got {n_bins}, {n_sectors}")
    if not band_mm > 0:
        raise InvalidInputError(f"background_band_mm must be > 0, got {band_mm}")
    shape = radiograph.shape
    crop, bbox = full_mask(lesion_mask, shape, bbox_rc)
    spacing = spacing_of(radiograph, fallback)
    inner, outer = _band_px(cfg, band_mm, spacing)
    window = grow(bbox, int(math.ceil(outer)) + 1, shape)
    r0, c0, r1, c1 = window
    labels = np.zeros((r1 - r0, c1 - c0), dtype=np.int32)
    labels[bbox[0] - r0:bbox[2] - r0, bbox[1] - c0:bbox[3] - c0] = crop
    image = np.ascontiguousarray(radiograph.pixels[r0:r1, c0:c1], dtype=np.float32)
    if exclude_mask is None:
        exclude = np.zeros((1, 1), dtype=np.uint8)
    else:
        exclude_mask = np.asarray(exclude_mask)
        if exclude_mask.shape != tuple(shape):
            raise InvalidInputError(
                f"exclude_mask has shape {exclude_mask.shape}, expected the image's {tuple(shape)}"
            )
        exclude = np.ascontiguousarray(exclude_mask[r0:r1, c0:c1], dtype=np.uint8)
    sums, counts, ref_sums, stats = _kernels._radial_profile_window(
        image, labels, np.int32(1), exclude, 0, 0, r1 - r0, c1 - c0,
        inner, outer, n_bins, n_sectors, sector_edges(n_sectors),
    )
    return profile_from_sums(sums, counts, ref_sums, stats, cfg)

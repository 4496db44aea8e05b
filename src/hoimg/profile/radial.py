"""Radial profile of a lesion: is it denser at the rim (HO) or at the core (POS)?

Normalised radius
    ``s = 1 - d / d_max`` with ``d`` the exact Euclidean distance of a lesion pixel to the
    nearest non-lesion pixel (distance transform of the lesion mask) and ``d_max`` its
    maximum in the lesion. Chosen over a centroid-based polar map because it follows any
    outline (elongated HO, lobulated POS, crescents) and maps a rim of constant wall
    thickness onto a constant band of ``s``. Bins are looked up on the integer squared
    distance, so every implementation puts every pixel into the same bin. Non-lesion
    pixels that are excluded (bone) are not boundary: the base of an attached lesion is
    deep inside it, not its rim. Nor is the bone's blurred edge within
    ``ProfileConfig.bone_halo_mm`` (0.5 mm) of it, where segmentation stops a lesion's
    growth and so leaves a thin gap between an attached lesion and the bone; half HO's
    narrowest cleft (1 mm), so a cleft stays boundary (rounded to whole blocks: one 4x4
    block, 0.4-0.9 mm, for the biggest lesions). Lesions wider than ~40 px are
    measured on 2x2 or 4x4 block means (:func:`block_factor`).

Background
    A least-squares plane through the soft-tissue band 0.5-3 mm outside the lesion (bone,
    other lesions and values beyond 3 robust sigmas of the band median left out),
    subtracted pixel by pixel, so a limb-thickness gradient across the lesion does not
    tilt its profile. Excluded (bone) pixels are not profiled; neither they nor the bone's
    blurred edge are background.

Support growth (``ProfileConfig.regrow_sigma``, ``regrow_passes``, ``grow_sigma``)
    A detected mask cuts a smooth centre-dense lesion where it fades into the noise, near
    half its peak, and what is left of it reads uniform. So a lesion whose profile does
    not read peripheral is measured again on its support grown into connected pixels
    standing ``regrow_sigma`` noise sigmas above the background plane (flag
    ``support_regrown``). That plane's band still lies on the lesion's flank, so the plane
    stands above the soft tissue and one growth stops short of the outline: a grown
    support that still reads uniform is grown again from the plane refitted around it,
    up to ``regrow_passes`` growths. A rim-dense lesion keeps its mask: growth would add
    its blur halo and dilute the rim. So does a lesion whose grown support never reads a
    pattern: growth showed none, and the tissue it added (towards the cortex, the halo)
    flattens the profile; on dev phantoms it turned mature HO masks uniform and their
    calls indeterminate or POS. ``grow_sigma > 0`` grows every lesion once instead.

Uniform reference
    A uniform-density body of the same outline projects, per pixel, the chord
    ``sqrt(e (2 e_max - e))`` with ``e = d - 1/2`` the distance to the boundary (exact
    for a ball, the local-thickness model for other outlines). It is averaged over the
    same bins as the data.

Classification rule
    ``zonal_index = (x - y) / (x + y)`` where ``x`` (``y``) is the mean density over the rim
    (core) zone divided by the uniform reference's mean over the same zone. It is 0 for a
    uniform body of the same outline, so a centre-bright uniform ball is not "central".
    But a mask is an iso-line: a segmentation cuts a lesion where it fades into the
    noise, so a body that fades (centre-dense) is cut well above zero, and its cut edge
    stands above the reference, which falls to zero there: the zonal index reads it as
    rim. So the pattern is decided first by the ``shape_index``, the same ratio over the
    outer half (``0.5 <= s``, edge bin left out) and the core, against the chord of the
    uniform body that the mask cuts at the measured edge level: the outline offset
    outwards until its chord falls from the core to the edge bin as the data do (found by
    bisection; on each bin the chord ratio is averaged as a disc holds it). It is 0 for a
    uniform body however deep the mask cuts it, and below 0 when the density falls
    faster towards the edge than such a body's. ``shape_index >= shape_band`` is
    "peripheral", ``<= -shape_band`` "central" (``ProfileConfig.zonal_shape_band``).
    Within that band, the zonal index decides: ``>= band`` "peripheral", ``<= -band``
    "central", else "uniform" (``band = ProfileConfig.zonal_uniform_band``), and a
    profile whose maximum lies at ``s >= zonal_rim_peak_min`` (a projected rim peak,
    which no uniform body produces: its projection peaks at the core) is "peripheral"
    from ``band / 2``. The rule is coded once, in the kernel
    (:func:`hoimg.profile._feature_kernels._zonal_pattern`), which both decides regrowth
    with it and reports it.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import ProfileConfig
from ..errors import InvalidInputError
from ._common import full_mask, grow, kernel_array, mm_to_px, resolve_config, spacing_of
from .results import ZONAL_PATTERNS, RadialProfile

__all__ = ["block_factor", "radial_profile", "sector_edges"]


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


def block_factor(area_px: float, bbox_rc, block_radius_px: float, max_block: int = 4) -> int:
    """Block size (1, 2, 4, ...) on which a lesion's profile is computed.

    ``2 area / (pi * diagonal)`` is a lower bound of the half-width of an elliptical
    outline (its major axis is at most the box diagonal); the largest power of two f up to
    ``max_block`` with ``bound / (2 f) >= block_radius_px`` keeps at least
    ``block_radius_px`` blocks across the half-width.
    """
    r0, c0, r1, c1 = bbox_rc
    diag = math.hypot(r1 - r0, c1 - c0)
    if diag <= 0 or not area_px > 0:
        return 1
    bound = 2.0 * float(area_px) / (math.pi * diag)
    f = 1
    while f < max_block and bound / (2 * f) >= block_radius_px:
        f *= 2
    return f


def window_pad(band_outer_px: float, cfg: ProfileConfig) -> int:
    """Pixels around a lesion's box that its window needs: the band, and when the support
    may grow (``grow_sigma > 0``) room for the grown lesion's own band as well."""
    pad = int(math.ceil(band_outer_px)) + 1
    return 2 * pad if cfg.grow_sigma > 0 else pad


def _band_px(cfg: ProfileConfig, band_mm: float, spacing) -> tuple[float, float]:
    inner = mm_to_px(cfg.background_gap_mm, spacing)
    outer = max(mm_to_px(band_mm, spacing), inner + 2.0)
    return inner, outer


# The band median and noise MAD use at most this many evenly spread band samples: ~1000
# samples put the median within ~0.04 noise sigma of the full one at a tenth of the cost.
BAND_MAX_SAMPLES = 1024
# Largest block (f x f) a big lesion is profiled on; see ProfileConfig.block_radius_px.
MAX_BLOCK = 4
# Fewer lesion pixels than this per bin (or an empty bin) flags few_pixels_profile.
MIN_PIXELS_PER_BIN = 10


def profile_args(cfg: ProfileConfig, n_bins: int, n_sectors: int, band_inner_px: float,
                 band_outer_px: float, spacing) -> tuple:
    """The scalar and table arguments of :func:`hoimg.profile._kernels._profile_batch`
    after ``image, labels, label_ids, exclude, windows, blocks``."""
    return (float(band_inner_px), float(band_outer_px), int(n_bins), int(n_sectors),
            sector_edges(n_sectors), BAND_MAX_SAMPLES, float(cfg.grow_sigma),
            float(cfg.rim_start), float(cfg.core_end), float(cfg.rim_sigma), MIN_PIXELS_PER_BIN,
            float(cfg.regrow_sigma), int(cfg.regrow_passes), float(cfg.zonal_uniform_band),
            float(cfg.zonal_shape_band), float(cfg.zonal_rim_peak_min),
            float(mm_to_px(cfg.bone_halo_mm, spacing)))


def profiles_from_batch(sums, counts, ref_sums, stats, feats, pattern, regrown,
                        cfg: ProfileConfig) -> list[RadialProfile]:
    """Turn the kernel outputs of L lesions (leading axis) into :class:`RadialProfile` objects.

    ``pattern`` (L,) int: the zonal pattern's code, decided in the kernel by the rule that
    also decides regrowth (:func:`hoimg.profile._feature_kernels._zonal_pattern`), an
    index into :data:`hoimg.profile.results.ZONAL_PATTERNS`. ``regrown`` (L,) bool:
    measured on a grown support (flag ``support_regrown``).
    """
    n_les, _, n_bins = sums.shape
    s = (np.arange(n_bins) + 0.5) / n_bins
    cnt = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = sums.sum(axis=1) / cnt
        sector_values = sums / counts
        ref = ref_sums / cnt
        # scale each reference to a maximum of 1 (lesions without pixels stay NaN)
        peak = np.max(np.where(cnt > 0, ref, -np.inf), axis=1, keepdims=True)
        ref = np.where((cnt > 0) & (peak > 0), ref / np.where(peak > 0, peak, 1.0), np.nan)
    # Python floats in one go (per-element NumPy scalars cost more than the rest here),
    # and each lesion's rows as views in one go too
    feats_l = feats.tolist()
    stats_l = stats.tolist()
    n_px = cnt.sum(axis=1).tolist()
    regrown = np.asarray(regrown).tolist()
    pattern = [ZONAL_PATTERNS[k] for k in np.asarray(pattern).tolist()]
    out = []
    for f, st, v, c, sv, rf, pat, rg, npx in zip(feats_l, stats_l, list(values), list(cnt),
                                                 list(sector_values), list(ref), pattern, regrown,
                                                 n_px):
        peak, rim_core, zonal, continuity, gradient, rho, few, shape = f
        out.append(RadialProfile(
            s=s,
            values=v,
            counts=c,
            sector_values=sv,
            background=st[0],
            noise_sigma=st[1],
            uniform_reference=rf,
            peak_position=peak,
            rim_core_ratio=rim_core,
            zonal_index=zonal,
            rim_continuity=continuity,
            gradient_index=gradient,
            spearman_rho=rho,
            zonal_pattern=pat,
            shape_index=shape,
            flags=_FLAGS[bool(few)][rg],
            d_max_px=st[2],
            n_pixels=int(npx),
            centroid_rc=(st[5], st[6]),
            background_slope_rc=(st[8], st[9]),
            rim_start=cfg.rim_start,
            core_end=cfg.core_end,
        ))
    return out


# RadialProfile.flags by (few_pixels_profile, support_regrown)
_FLAGS = {False: {False: (), True: ("support_regrown",)},
          True: {False: ("few_pixels_profile",), True: ("few_pixels_profile", "support_regrown")}}


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
    window = grow(bbox, window_pad(outer, cfg), shape)
    r0, c0, r1, c1 = window
    labels = np.zeros((r1 - r0, c1 - c0), dtype=np.int32)
    labels[bbox[0] - r0:bbox[2] - r0, bbox[1] - c0:bbox[3] - c0] = crop
    labels = kernel_array(labels, np.int32)
    image = kernel_array(radiograph.pixels[r0:r1, c0:c1], np.float32)
    if exclude_mask is None:
        exclude = kernel_array(np.zeros((1, 1)), np.int32)
    else:
        exclude_mask = np.asarray(exclude_mask)
        if exclude_mask.shape != tuple(shape):
            raise InvalidInputError(
                f"exclude_mask has shape {exclude_mask.shape}, expected the image's {tuple(shape)}"
            )
        exclude = kernel_array(exclude_mask[r0:r1, c0:c1], np.int32)
    # the batch kernel on a one-lesion crop: one compiled specialisation serves both paths
    out = _kernels._profile_batch(
        image, labels, np.ones(1, dtype=np.int32), exclude,
        np.array([[0, 0, r1 - r0, c1 - c0]], dtype=np.int64),
        np.array([block_factor(int(crop.sum()), bbox, cfg.block_radius_px, MAX_BLOCK)],
                 dtype=np.int64),
        *profile_args(cfg, n_bins, n_sectors, inner, outer, spacing),
    )
    return profiles_from_batch(*out, cfg)[0]

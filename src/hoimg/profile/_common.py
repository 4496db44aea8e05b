"""Input validation shared by the profile wrappers (private)."""

from __future__ import annotations

import math

import numpy as np

from ..config import AnalysisConfig, LoadConfig, ProfileConfig
from ..errors import InvalidInputError


def resolve_config(config) -> tuple[ProfileConfig, float]:
    """Return ``(ProfileConfig, fallback_spacing_mm)`` from None, a ProfileConfig or an
    AnalysisConfig."""
    if config is None:
        return ProfileConfig(), LoadConfig().fallback_spacing_mm
    if isinstance(config, AnalysisConfig):
        return config.profile, config.load.fallback_spacing_mm
    if isinstance(config, ProfileConfig):
        return config, LoadConfig().fallback_spacing_mm
    raise InvalidInputError(
        f"config must be an AnalysisConfig, a ProfileConfig or None, got {type(config).__name__}"
    )


def spacing_of(radiograph, fallback_mm: float) -> tuple[float, float]:
    """(row, col) spacing in mm; the loader's fallback pitch when the image has none.

    The image then already carries the ``spacing_unknown`` flag, which the pipeline copies
    onto every lesion, so mm features are never silently presented as calibrated.
    """
    if radiograph.spacing_mm is None:
        return (float(fallback_mm), float(fallback_mm))
    return (float(radiograph.spacing_mm[0]), float(radiograph.spacing_mm[1]))


def check_bbox(bbox_rc, shape) -> tuple[int, int, int, int]:
    """Validate an end-exclusive (r0, c0, r1, c1) box inside an image of ``shape``."""
    try:
        r0, c0, r1, c1 = (int(v) for v in bbox_rc)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"bbox_rc must be four integers (r0, c0, r1, c1), got {bbox_rc!r}"
        ) from None
    rows, cols = shape
    if not (0 <= r0 < r1 <= rows and 0 <= c0 < c1 <= cols):
        raise InvalidInputError(
            f"bbox_rc {bbox_rc!r} must satisfy 0 <= r0 < r1 <= {rows} and 0 <= c0 < c1 <= {cols}"
        )
    return r0, c0, r1, c1


def full_mask(lesion_mask, shape, bbox_rc) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Return ``(crop, bbox)``: the lesion mask cropped to its tight bounding box.

    ``lesion_mask`` is either full-image (``bbox_rc`` None) or the crop of ``bbox_rc``.
    """
    mask = np.asarray(lesion_mask)
    if mask.dtype != bool:
        raise InvalidInputError(f"lesion_mask must be a bool array, got dtype {mask.dtype}")
    if bbox_rc is None:
        if mask.shape != tuple(shape):
            raise InvalidInputError(
                f"lesion_mask has shape {mask.shape} but the image is {tuple(shape)}; "
                "pass bbox_rc when the mask is a crop"
            )
        r0, c0 = 0, 0
    else:
        r0, c0, r1, c1 = check_bbox(bbox_rc, shape)
        if mask.shape != (r1 - r0, c1 - c0):
            raise InvalidInputError(
                f"lesion_mask has shape {mask.shape} but bbox_rc {tuple(bbox_rc)} is "
                f"{(r1 - r0, c1 - c0)}"
            )
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise InvalidInputError("lesion_mask is empty; there is no lesion to measure")
    cols = np.flatnonzero(mask.any(axis=0))
    tight = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    crop = mask[tight[0]:tight[2], tight[1]:tight[3]]
    return crop, (r0 + tight[0], c0 + tight[1], r0 + tight[2], c0 + tight[3])


def kernel_array(a, dtype) -> np.ndarray:
    """``a`` as a C-contiguous, read-only array of ``dtype`` (a view when it already is one).

    Numba compiles read-only and writeable arrays as different types: handing every kernel
    read-only image and label arrays keeps one compiled specialisation for all callers
    (a radiograph's pixels are read-only, a crop copy is not).
    """
    out = np.ascontiguousarray(a, dtype=dtype)
    if out.flags.writeable:
        out = out.view()
        out.flags.writeable = False
    return out


def grow(bbox, pad: int, shape) -> tuple[int, int, int, int]:
    """Grow an end-exclusive box by ``pad`` pixels, clipped to the image."""
    r0, c0, r1, c1 = bbox
    return (max(r0 - pad, 0), max(c0 - pad, 0), min(r1 + pad, shape[0]), min(c1 + pad, shape[1]))


def mm_to_px(mm: float, spacing: tuple[float, float]) -> float:
    """A length in mm as pixels of the geometric-mean pixel size."""
    return float(mm) / math.sqrt(spacing[0] * spacing[1])

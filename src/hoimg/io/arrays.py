"""2-D NumPy arrays -> Radiograph (the caller promises higher = denser)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..radiograph import Radiograph
from .spacing import SpacingResult, user_spacing


def unknown_spacing() -> SpacingResult:
    """The spacing of a source that carries none: unknown, flagged."""
    return SpacingResult(None, "unknown", ("spacing_unknown",))


def to_float32(array: np.ndarray, *, what: str = "array") -> np.ndarray:
    """A C-contiguous float32 copy of a real 2-D array with finite values.

    Raises
    ------
    InvalidInputError
        If the array is not 2-D, not real-valued, or holds NaN/inf.
    """
    if array.ndim != 2:
        raise InvalidInputError(
            f"{what} must be 2-D (rows, cols), got shape {array.shape}; pass one grey image"
        )
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidInputError(
            f"{what} must hold real numbers, got dtype {array.dtype}; pass a grey image"
        )
    if 0 in array.shape:
        raise InvalidInputError(f"{what} is empty (shape {array.shape}); pass an image with pixels")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused below
        out = np.array(array, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(out).all():
        raise InvalidInputError(
            f"{what} holds NaN or infinite values (or values beyond float32); replace them first"
        )
    return out


def load_array(array: np.ndarray, *, pixel_spacing_mm: Any = None) -> Radiograph:
    """Wrap a 2-D array (higher = denser) as a Radiograph; ``image_id`` hashes the pixels."""
    pixels = to_float32(np.asarray(array))
    spacing = unknown_spacing() if pixel_spacing_mm is None else user_spacing(pixel_spacing_mm)
    return Radiograph(
        pixels=pixels,
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        flags=spacing.flags,
        meta={"photometric": "MONOCHROME2"},
        source=None,
    )

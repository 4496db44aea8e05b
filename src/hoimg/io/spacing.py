"""Which pixel spacing to trust, in the order DOMAIN.md gives.

1. (0028,0030) Pixel Spacing: calibrated to the patient plane -> ``pixel_spacing``;
   for enhanced multi-frame objects the same tag inside the Pixel Measures functional
   group counts as Pixel Spacing.
2. (0018,1164) Imager Pixel Spacing divided by (0018,1114) Estimated Radiographic
   Magnification Factor -> ``imager_corrected``.
3. Imager Pixel Spacing alone: detector plane, too large by the geometric magnification
   -> ``imager_detector_plane`` plus the ``spacing_detector_plane`` flag.
4. Nothing usable -> ``None``/``unknown`` plus ``spacing_unknown``. Never 1.0 mm.

A tag that is present but zero, negative, not finite or unparseable counts as missing and
adds ``spacing_invalid``. A user value (``pixel_spacing_mm=``) overrides the chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInputError

# Row and column spacing differing by more than this fraction is flagged (flags.py).
_ANISOTROPY_TOLERANCE = 0.01


@dataclass(frozen=True)
class SpacingResult:
    """The outcome of the spacing chain.

    Attributes
    ----------
    spacing_mm : (float, float) or None
        (row, col) spacing in mm.
    source : str
        One of ``hoimg.radiograph.SPACING_SOURCES``.
    flags : tuple of str
        Spacing flags from :mod:`hoimg.flags`.
    """

    spacing_mm: tuple[float, float] | None
    source: str
    flags: tuple[str, ...]


def _pair(value: object) -> tuple[float, float] | None:
    """Parse a DICOM 2-valued DS (row\\col) into floats; None when malformed."""
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        values = [float(v) for v in value]  # type: ignore[union-attr]
    except (TypeError, ValueError, OverflowError):
        try:
            values = [float(value)]  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return None
    if len(values) == 1:  # a single value is malformed but unambiguous: isotropic
        values = values * 2
    if len(values) != 2:
        return None
    return values[0], values[1]


# Plausible pixel pitches for projection radiographs and CT (mm). A value outside is a
# unit error or a broken header (e.g. metres, or 1e-6), and would make every mm-defined filter
# scale absurd, so it counts as invalid rather than being trusted.
SPACING_RANGE_MM = (0.005, 5.0)


def _valid(pair: tuple[float, float] | None) -> bool:
    lo, hi = SPACING_RANGE_MM
    return pair is not None and all(math.isfinite(v) and lo <= v <= hi for v in pair)


def _anisotropy_flags(spacing: tuple[float, float]) -> list[str]:
    row_mm, col_mm = spacing
    if abs(row_mm - col_mm) > _ANISOTROPY_TOLERANCE * min(row_mm, col_mm):
        return ["spacing_anisotropic"]
    return []


def normalise_user_spacing(value: float | Sequence[float]) -> tuple[float, float]:
    """Validate a user-given spacing: one number (isotropic) or (row_mm, col_mm).

    Raises
    ------
    InvalidInputError
        If it is not one or two positive finite numbers.
    """
    try:
        if isinstance(value, (int, float)):
            pair = (float(value), float(value))
        else:
            items = [float(v) for v in value]
            if len(items) != 2:
                raise ValueError
            pair = (items[0], items[1])
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"pixel_spacing_mm must be one number or (row_mm, col_mm), got {value!r}"
        ) from None
    if not _valid(pair):
        raise InvalidInputError(
            f"pixel_spacing_mm must be finite and within {SPACING_RANGE_MM[0]}-"
            f"{SPACING_RANGE_MM[1]} mm, got {pair}; give the pixel pitch in mm, e.g. "
            "pixel_spacing_mm=(0.15, 0.15)"
        )
    return pair


def user_spacing(value: float | Sequence[float]) -> SpacingResult:
    """The spacing result for an explicit ``pixel_spacing_mm`` (source ``user``)."""
    pair = normalise_user_spacing(value)
    return SpacingResult(pair, "user", tuple(_anisotropy_flags(pair)))


def spacing_from_tags(
    pixel_spacing: object | None,
    imager_pixel_spacing: object | None,
    magnification: object | None,
) -> SpacingResult:
    """Run the spacing chain on raw tag values (None = tag absent).

    Parameters
    ----------
    pixel_spacing : object or None
        Value of (0028,0030) Pixel Spacing (or of the Pixel Measures functional group).
    imager_pixel_spacing : object or None
        Value of (0018,1164) Imager Pixel Spacing.
    magnification : object or None
        Value of (0018,1114) Estimated Radiographic Magnification Factor.

    Returns
    -------
    SpacingResult
    """
    flags: list[str] = []
    if pixel_spacing is not None:
        pair = _pair(pixel_spacing)
        if _valid(pair):
            assert pair is not None
            return SpacingResult(pair, "pixel_spacing", tuple(_anisotropy_flags(pair)))
        flags.append("spacing_invalid")
    if imager_pixel_spacing is not None:
        pair = _pair(imager_pixel_spacing)
        if _valid(pair):
            assert pair is not None
            factor = None
            if magnification is not None:
                try:
                    factor = float(magnification)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    factor = None
                # A magnification below 1 is physically impossible for a projection
                # radiograph (the object is between source and detector).
                if factor is None or not (math.isfinite(factor) and factor >= 1.0):
                    flags.append("spacing_invalid")
                    factor = None
            if factor is not None:
                corrected = (pair[0] / factor, pair[1] / factor)
                return SpacingResult(
                    corrected, "imager_corrected", tuple(flags + _anisotropy_flags(corrected))
                )
            return SpacingResult(
                pair,
                "imager_detector_plane",
                tuple(flags + ["spacing_detector_plane"] + _anisotropy_flags(pair)),
            )
        flags.append("spacing_invalid")
    return SpacingResult(None, "unknown", tuple(flags + ["spacing_unknown"]))

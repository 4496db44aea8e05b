"""The :class:`Radiograph`: pixels that mean attenuation, plus how big a pixel is."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .errors import InvalidInputError, MissingSpacingError
from .flags import check as _check_flags

SPACING_SOURCES = (
    "pixel_spacing",
    "imager_corrected",
    "imager_detector_plane",
    "user",
    "unknown",
)

# Fields of `meta` that identify nobody; the loader copies only these.
SAFE_META_FIELDS = (
    "modality",
    "body_part",
    "view",
    "manufacturer",
    "photometric",
    "transfer_syntax",
    "bits_stored",
    "sop_class",
    "rescale_type",
    # added by the loader (issue 8): which frame of how many, and which decoder route
    "number_of_frames",
    "frame",
    "decoder",
)


def pseudonymous_id(text_or_bytes: str | bytes, length: int = 12) -> str:
    """Return a short, stable, non-reversible id (hex SHA-256 prefix).

    Used as ``image_id`` from the SOP Instance UID or, failing that, the file bytes.
    """
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return hashlib.sha256(b"hoimg:" + data).hexdigest()[:length]


@dataclass(frozen=True, eq=False)
class Radiograph:
    """A 2-D radiograph in analysis units.

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
        Higher value = more attenuation. No display window is ever applied.
    spacing_mm : (float, float) or None
        (row, col) pixel spacing in mm, or None when unknown.
    spacing_source : str
        One of ``SPACING_SOURCES``: where the spacing came from.
    display_window : (float, float) or None
        (center, width) in ``pixels`` units, for overlays only.
    image_id : str
        Short pseudonymous hash of the SOP Instance UID or of the file bytes.
    meta : mapping
        Non-identifying fields only (see ``SAFE_META_FIELDS``).
    flags : tuple of str
        Image-level flags from :mod:`hoimg.flags`.
    source : str or None
        The path it was loaded from, as given; None for arrays.
    """

    pixels: np.ndarray
    spacing_mm: tuple[float, float] | None = None
    spacing_source: str = "unknown"
    display_window: tuple[float, float] | None = None
    image_id: str = ""
    meta: Mapping[str, object] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    source: str | None = None

    def __post_init__(self) -> None:
        px = self.pixels
        if not isinstance(px, np.ndarray) or px.ndim != 2:
            raise InvalidInputError(
                f"pixels must be a 2-D ndarray, got {getattr(px, 'shape', type(px))}"
            )
        if px.dtype != np.float32:
            raise InvalidInputError(f"pixels must be float32, got {px.dtype}; use hoimg.load()")
        if self.spacing_source not in SPACING_SOURCES:
            raise InvalidInputError(
                f"spacing_source {self.spacing_source!r} is not one of {SPACING_SOURCES}"
            )
        if self.spacing_mm is not None:
            sp = tuple(float(v) for v in self.spacing_mm)
            if len(sp) != 2 or not all(math.isfinite(v) and v > 0 for v in sp):
                raise InvalidInputError(f"spacing_mm must be two positive numbers, got {sp}")
            object.__setattr__(self, "spacing_mm", sp)
        elif self.spacing_source != "unknown":
            raise InvalidInputError("spacing_source must be 'unknown' when spacing_mm is None")
        px.setflags(write=False)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        object.__setattr__(self, "flags", _check_flags(self.flags))
        if not self.image_id:
            object.__setattr__(self, "image_id", pseudonymous_id(np.ascontiguousarray(px).tobytes()))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the pixel grid."""
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def has_spacing(self) -> bool:
        """True when a physical pixel size is known."""
        return self.spacing_mm is not None

    @property
    def pixel_size_mm(self) -> float | None:
        """Geometric mean of the (row, col) spacing: the isotropic size of one pixel."""
        if self.spacing_mm is None:
            return None
        return math.sqrt(self.spacing_mm[0] * self.spacing_mm[1])

    def require_spacing(self) -> tuple[float, float]:
        """Return ``spacing_mm`` or raise :class:`MissingSpacingError` saying how to give it."""
        if self.spacing_mm is None:
            raise MissingSpacingError(
                "this image has no pixel spacing; pass pixel_spacing_mm=(row_mm, col_mm)",
                path=self.source,
            )
        return self.spacing_mm

    def __repr__(self) -> str:
        sp = "unknown" if self.spacing_mm is None else f"{self.spacing_mm[0]:.4g}x{self.spacing_mm[1]:.4g} mm"
        return (
            f"Radiograph(id={self.image_id!r}, shape={self.shape}, spacing={sp} "
            f"[{self.spacing_source}], modality={self.meta.get('modality')!r})"
        )

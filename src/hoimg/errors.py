"""One error hierarchy for hoimg.

Every error is a :class:`HoimgError`, and also derives from the matching built-in so that
callers who catch ``ValueError`` or ``OSError`` keep working. Messages are one line: the
file (when there is one), what was wrong with the value, and what to do.
"""

from __future__ import annotations

import os

__all__ = [
    "HoimgError",
    "InvalidInputError",
    "NotDicomError",
    "CorruptFileError",
    "TruncatedPixelDataError",
    "ImageTooLargeError",
    "NotAnImageError",
    "MultiFrameError",
    "UnsupportedCodecError",
    "MissingSpacingError",
    "AnalysisTimeoutError",
]


class HoimgError(Exception):
    """Base class of every error hoimg raises on purpose.

    Parameters
    ----------
    message : str
        What was wrong and what to do. Newlines are folded so the message stays one line.
    path : str or os.PathLike, optional
        The file the problem belongs to; it is prefixed to the message.
    """

    def __init__(self, message: str, *, path: str | os.PathLike | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self.reason = " ".join(str(message).split())
        super().__init__(self.reason if self.path is None else f"{self.path}: {self.reason}")


class InvalidInputError(HoimgError, ValueError):
    """The input exists but cannot be analysed as given."""


class NotDicomError(InvalidInputError):
    """The file is not DICOM (and not a supported raster format either)."""


class CorruptFileError(InvalidInputError):
    """The file claims to be DICOM but its header or pixel data cannot be parsed."""


class TruncatedPixelDataError(CorruptFileError):
    """Pixel Data holds fewer bytes than Rows x Columns x Bits Allocated declare."""


class ImageTooLargeError(InvalidInputError):
    """The declared image size exceeds the configured limit (refused before decoding)."""


class NotAnImageError(InvalidInputError):
    """A DICOM object without an image hoimg can analyse (SR, RT plan, waveform, ...)."""


class MultiFrameError(InvalidInputError):
    """A multi-frame object was given without choosing a frame."""


class UnsupportedCodecError(HoimgError, RuntimeError):
    """No installed decoder can read the file's transfer syntax."""


class MissingSpacingError(InvalidInputError):
    """A physical size was asked for but the image has no usable pixel spacing."""


class AnalysisTimeoutError(HoimgError, TimeoutError):
    """One image took longer than the batch's per-image timeout."""

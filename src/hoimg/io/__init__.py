"""Read radiographs: DICOM (any common transfer syntax), PNG/TIFF and NumPy arrays.

>>> from hoimg.io import load, scan
>>> img = load("hip.dcm")                              # doctest: +SKIP
>>> img.spacing_mm, img.spacing_source                 # doctest: +SKIP
((0.2, 0.2), 'pixel_spacing')
>>> [r.path for r in scan("export/") if r.status == "dicom"]   # doctest: +SKIP

``load`` returns a :class:`hoimg.Radiograph` whose pixels mean attenuation (higher =
denser) and whose spacing says where it came from; ``scan`` lists a folder's DICOM files
from their headers alone.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import LoadConfig
from ..errors import InvalidInputError, NotDicomError
from ..radiograph import Radiograph
from ._sniff import sniff
from .scan import ScanRecord, read_header, scan
from .spacing import user_spacing

__all__ = ["load", "scan", "ScanRecord", "read_header"]


def _load_config(config: Any) -> LoadConfig:
    if config is None:
        return LoadConfig()
    if isinstance(config, LoadConfig):
        return config
    section = getattr(config, "load", None)  # an AnalysisConfig
    if isinstance(section, LoadConfig):
        return section
    raise InvalidInputError(
        f"config must be a LoadConfig or AnalysisConfig, got {type(config).__name__}"
    )


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError:
        raise InvalidInputError(
            "is a folder, not an image; use hoimg.io.scan() or the CLI to read folders", path=path
        ) from None
    except FileNotFoundError:
        raise InvalidInputError("file not found; check the path", path=path) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the file ({exc.strerror or exc}); check permissions", path=path
        ) from None


def _override_spacing(image: Radiograph, pixel_spacing_mm: Any) -> Radiograph:
    spacing = user_spacing(pixel_spacing_mm)
    kept = tuple(f for f in image.flags if not f.startswith("spacing_"))
    return dataclasses.replace(
        image,
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        flags=kept + spacing.flags,
    )


def load(
    source: str | os.PathLike | np.ndarray | Radiograph,
    *,
    pixel_spacing_mm: float | Sequence[float] | None = None,
    frame: int | None = None,
    config: LoadConfig | None = None,
) -> Radiograph:
    """Load a radiograph in analysis units: float32, higher = more attenuation.

    Parameters
    ----------
    source : str, os.PathLike, (M, N) ndarray or Radiograph
        A DICOM, PNG or TIFF file (recognised by content, not name), a 2-D array (higher =
        denser), or a Radiograph (returned as is, apart from a spacing override).
    pixel_spacing_mm : float or (float, float), optional
        (row, col) spacing in mm, overriding the header; recorded as source ``user``.
    frame : int, optional
        0-based frame of a multi-frame DICOM (or page of a multi-page TIFF). Required for
        multi-frame files.
    config : LoadConfig or AnalysisConfig, optional
        Loader limits (``max_megapixels``).

    Returns
    -------
    Radiograph
        ``pixels`` after the Modality LUT/rescale and polarity (MONOCHROME1 / INVERSE) but
        never a VOI window; ``spacing_mm`` from the spacing chain (Pixel Spacing, Imager
        Pixel Spacing / magnification, Imager Pixel Spacing, unknown).

    Raises
    ------
    hoimg.errors.HoimgError
        Every failure, as a subclass naming the file and what to do: ``NotDicomError``,
        ``CorruptFileError``, ``TruncatedPixelDataError``, ``ImageTooLargeError``,
        ``NotAnImageError``, ``MultiFrameError``, ``UnsupportedCodecError``,
        ``InvalidInputError``.
    """
    load_config = _load_config(config)
    if isinstance(source, Radiograph):
        return source if pixel_spacing_mm is None else _override_spacing(source, pixel_spacing_mm)
    if isinstance(source, np.ndarray):
        if frame is not None:
            raise InvalidInputError("frame= applies to files only; slice the array yourself")
        from .arrays import load_array

        return load_array(source, pixel_spacing_mm=pixel_spacing_mm)
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidInputError(
            "source must be a file path, a 2-D ndarray or a Radiograph, "
            f"got {type(source).__name__}"
        )
    path = os.fspath(source)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    data = _read_file(path)
    kind = sniff(data[:132])
    if kind == "dicom":
        from .dicom import load_dicom

        return load_dicom(
            data, path, frame=frame, pixel_spacing_mm=pixel_spacing_mm, config=load_config
        )
    if kind in ("png", "tiff"):
        from .raster import load_raster

        return load_raster(
            data, kind, path, frame=frame, pixel_spacing_mm=pixel_spacing_mm, config=load_config
        )
    what = (
        "the file is empty"
        if not data
        else "no 'DICM' marker at byte 128, no leading DICOM group, not PNG/TIFF"
    )
    raise NotDicomError(
        f"not a DICOM, PNG or TIFF file ({what}); export the image as DICOM, PNG or TIFF",
        path=path,
    )

"""PNG and TIFF radiographs (8/16-bit grey; colour converted to grey with a warning).

A raster export is a display image: bright = dense, so no polarity flip, except TIFF
PhotometricInterpretation MinIsWhite, the raster twin of MONOCHROME1. Raster files carry
no trustworthy spacing (TIFF resolution tags are print dpi), so spacing is unknown unless
the caller passes ``pixel_spacing_mm``.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Any

import numpy as np

from ..config import LoadConfig
from ..errors import (
    CorruptFileError,
    HoimgError,
    ImageTooLargeError,
    InvalidInputError,
    MultiFrameError,
)
from ..radiograph import Radiograph, pseudonymous_id
from .arrays import to_float32, unknown_spacing
from .spacing import user_spacing

# cv2 gives BGR order; ITU-R BT.601 luma weights in that order.
_LUMA_BGR = np.array([0.114, 0.587, 0.299], dtype=np.float32)
_LUMA_RGB = _LUMA_BGR[::-1].copy()


def _check_size(rows: int, cols: int, config: LoadConfig, path: str | None) -> None:
    megapixels = rows * cols / 1e6
    if megapixels > config.max_megapixels:
        raise ImageTooLargeError(
            f"the image declares {rows} x {cols} = {megapixels:.0f} megapixels, over the limit "
            f"of {config.max_megapixels:g}; raise AnalysisConfig.load.max_megapixels if genuine",
            path=path,
        )


def _to_grey(img: np.ndarray, weights: np.ndarray, path: str | None) -> tuple[np.ndarray, bool]:
    """Colour (rows, cols, 3|4) -> grey; True when real colour was converted."""
    colour = img[..., :3]
    if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(
        colour[..., 1], colour[..., 2]
    ):
        return colour[..., 0], False  # grey stored as RGB: nothing is lost
    return colour.astype(np.float32) @ weights, True


def _png(data: bytes, config: LoadConfig, path: str | None) -> tuple[np.ndarray, bool]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise CorruptFileError(
            "PNG header (IHDR) is missing; the file is damaged, export it again", path=path
        )
    cols, rows = struct.unpack_from(">II", data, 16)
    _check_size(rows, cols, config, path)
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise CorruptFileError(
            "PNG data cannot be decoded; the file is damaged, export it again", path=path
        )
    if img.ndim == 3:
        return _to_grey(img, _LUMA_BGR, path)
    return img, False


def _tiff(
    data: bytes, frame: int | None, config: LoadConfig, path: str | None
) -> tuple[np.ndarray, bool]:
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        pages = tif.pages
        n = len(pages)
        if n == 0:
            raise CorruptFileError(
                "TIFF has no image pages; the file is damaged, export it again", path=path
            )
        if frame is None and n > 1:
            raise MultiFrameError(f"TIFF has {n} pages: pick one with frame=0..{n - 1}", path=path)
        index = 0 if frame is None else frame
        if not 0 <= index < n:
            raise InvalidInputError(
                f"frame={frame} is out of range: this TIFF has {n} page(s), use 0..{n - 1}",
                path=path,
            )
        page = pages[index]
        shape = page.shape
        if len(shape) < 2:
            raise CorruptFileError(f"TIFF page has shape {shape}, not an image", path=path)
        planar = len(shape) == 3 and shape[0] in (3, 4) and shape[-1] not in (3, 4)
        rows, cols = (shape[1], shape[2]) if planar else (shape[0], shape[1])
        _check_size(rows, cols, config, path)
        img = page.asarray()
        min_is_white = int(page.photometric) == 0
    if planar:
        img = np.moveaxis(img, 0, -1)
    converted = False
    if img.ndim == 3:
        img, converted = _to_grey(img, _LUMA_RGB, path)
    if min_is_white:
        if np.issubdtype(img.dtype, np.integer):
            info = np.iinfo(img.dtype)
            img = (float(info.max) + float(info.min)) - img.astype(np.float64)
        else:
            img = -img
    return img, converted


def load_raster(
    data: bytes,
    kind: str,
    path: str | None,
    *,
    frame: int | None = None,
    pixel_spacing_mm: Any = None,
    config: LoadConfig | None = None,
) -> Radiograph:
    """Load PNG (``kind='png'``) or TIFF (``kind='tiff'``) bytes into a Radiograph."""
    config = config or LoadConfig()
    spacing = unknown_spacing() if pixel_spacing_mm is None else user_spacing(pixel_spacing_mm)
    if kind == "png" and frame not in (None, 0):
        raise InvalidInputError(
            f"frame={frame!r} given, but a PNG has one image; omit frame", path=path
        )
    try:
        img, converted = (
            _png(data, config, path) if kind == "png" else _tiff(data, frame, config, path)
        )
        pixels = to_float32(np.asarray(img), what="image")
    except HoimgError as exc:
        if exc.path is None and path is not None:
            raise type(exc)(exc.reason, path=path) from exc
        raise
    except Exception as exc:  # cv2 / tifffile raise many types on damaged files
        detail = " ".join(str(exc).split())[:120]
        raise CorruptFileError(
            f"{kind.upper()} cannot be decoded ({type(exc).__name__}: {detail}); "
            "the file is damaged, export it again",
            path=path,
        ) from exc
    if converted:
        # warned here, after decoding: under -W error a warning inside the try above would
        # turn a valid colour image into a "cannot be decoded" error
        warnings.warn(f"{path or 'image'}: colour image converted to grey", UserWarning, stacklevel=3)
    flags = spacing.flags + (("rgb_converted",) if converted else ())
    return Radiograph(
        pixels=pixels,
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        image_id=pseudonymous_id(data),
        meta={"photometric": "RGB" if converted else "MONOCHROME2", "transfer_syntax": kind},
        flags=flags,
        source=path,
    )

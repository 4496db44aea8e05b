"""DICOM -> :class:`~hoimg.radiograph.Radiograph`: the pixel pipeline of DOMAIN.md.

In this order:

1. stored values (:mod:`hoimg.io.decoders`, bit-exact with pydicom);
2. Rescale Slope/Intercept (top level or the Pixel Value Transformation functional group),
   or the Modality LUT Sequence;
3. polarity: MONOCHROME1 or Presentation LUT Shape INVERSE means low values are dense, so
   the values are mirrored inside their own range (``lo + hi - v``). Both together are one
   inversion, not two: PS3.3 C.8.11.6 requires INVERSE *because* the image is MONOCHROME1.

The VOI LUT / window is never applied to the pixels; it only becomes ``display_window``,
converted to the same (rescaled, mirrored) units.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pydicom.uid import UID

from ..config import LoadConfig
from ..errors import CorruptFileError, HoimgError
from ..radiograph import Radiograph, pseudonymous_id
from . import header
from .decoders import PixelFormat, decode_frame, missing_codec_error
from .spacing import SpacingResult, user_spacing

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as OpenCV

# (0008,0060) Modality values that are not a projection radiograph of the skeleton:
# cross-sectional images (a CT or MR slice has no projected cortex or cleft), mammograms,
# angiograms and dental films. Their pixels load as usual, flagged, and nothing on them is
# called HO or POS. CR, DX, RG, RF and OT (or no Modality) are read as radiographs.
OUT_OF_SCOPE_MODALITIES = frozenset({"CT", "MR", "US", "NM", "PT", "MG", "XA", "IO", "PX"})


def load_dicom(
    data: bytes,
    path: str | None,
    *,
    frame: int | None = None,
    pixel_spacing_mm: Any = None,
    config: LoadConfig | None = None,
) -> Radiograph:
    """Load DICOM bytes into a Radiograph (see :func:`hoimg.io.load`)."""
    config = config or LoadConfig()
    spacing_override = None if pixel_spacing_mm is None else user_spacing(pixel_spacing_mm)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's tolerance warnings; see header.parse
            ds, pixel_data = header.parse_image(data, path)
            header.check_is_image(ds, path, has_pixels=pixel_data is not None)
            assert pixel_data is not None
            fmt = header.pixel_format(ds, path, max_megapixels=config.max_megapixels)
            if not UID(fmt.transfer_syntax).is_transfer_syntax:  # private / unknown syntax
                raise missing_codec_error(fmt, path)
            index = header.require_frame(fmt, frame, path)
            header.check_pixel_data_length(pixel_data, fmt, path)
            stored, route = decode_frame(ds, pixel_data, fmt, index, path=path)
            pixels, window, flags = _to_analysis_units(stored, ds, fmt, index, path)
            if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
                # (0028,0301): identifiers may be written into the pixels themselves
                flags = [*flags, "burned_in_annotation"]
            if str(ds.get("Modality", "")).strip().upper() in OUT_OF_SCOPE_MODALITIES:
                flags = [*flags, "modality_out_of_scope"]
            spacing = spacing_override or header.spacing_from_dataset(ds, index, path)
            meta = _safe_meta(ds, fmt, route, index)
            image_id = _image_id(ds, data, fmt, index)
    except (HoimgError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any other surprise is a damaged file
        raise CorruptFileError(
            f"the file cannot be read as DICOM ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]}); it is damaged, re-export it",
            path=path,
        ) from exc
    if "rgb_converted" in flags:
        warnings.warn(
            f"{path or 'DICOM'}: colour image ({fmt.photometric}) converted to grey",
            UserWarning,
            stacklevel=3,
        )
    return _build(pixels, spacing, window, image_id, meta, flags, path)


def _build(
    pixels: np.ndarray,
    spacing: SpacingResult,
    window: tuple[float, float] | None,
    image_id: str,
    meta: dict[str, Any],
    flags: list[str],
    path: str | None,
) -> Radiograph:
    return Radiograph(
        pixels=pixels,
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        display_window=window,
        image_id=image_id,
        meta=meta,
        flags=tuple(flags) + spacing.flags,
        source=path,
    )


def _rescale(ds, index: int, path: str | None) -> tuple[float, float]:
    """(slope, intercept) from the top level or the Pixel Value Transformation group."""
    slope_raw = header.value(ds, "RescaleSlope", path)
    intercept_raw = header.value(ds, "RescaleIntercept", path)
    if slope_raw is None and intercept_raw is None:
        item = header.frame_item(ds, index, "PixelValueTransformationSequence")
        if item is not None:
            slope_raw, intercept_raw = item.get("RescaleSlope"), item.get("RescaleIntercept")
    slope = 1.0 if slope_raw is None else header.float_or_none(slope_raw)
    intercept = 0.0 if intercept_raw is None else header.float_or_none(intercept_raw)
    if slope is None or slope == 0 or intercept is None:
        raise CorruptFileError(
            f"(0028,1053) Rescale Slope '{slope_raw}' / (0028,1052) Rescale Intercept "
            f"'{intercept_raw}' is not a usable linear transform; the header is damaged, "
            "re-export the file",
            path=path,
        )
    return slope, intercept


def _stored_range(fmt: PixelFormat) -> tuple[int, int]:
    if fmt.pixel_representation:
        return -(1 << (fmt.bits_stored - 1)), (1 << (fmt.bits_stored - 1)) - 1
    return 0, (1 << fmt.bits_stored) - 1


def _inverted(ds, path: str | None, fmt: PixelFormat) -> bool:
    shape = str(header.value(ds, "PresentationLUTShape", path) or "").strip().upper()
    return fmt.photometric == "MONOCHROME1" or shape == "INVERSE"


def _to_analysis_units(
    stored: np.ndarray, ds, fmt: PixelFormat, index: int, path: str | None
) -> tuple[np.ndarray, tuple[float, float] | None, list[str]]:
    """Stored values -> float32 'higher = denser', plus the display window in those units."""
    if stored.ndim == 3:  # colour: pydicom gave RGB; no rescale/polarity is defined for it
        grey = np.ascontiguousarray(stored[..., :3], dtype=np.float32) @ _LUMA
        return np.ascontiguousarray(grey, dtype=np.float32), None, ["rgb_converted"]
    if "ModalityLUTSequence" in ds:
        from pydicom.pixels import apply_modality_lut

        # LUT output spans 0 .. 2**bits - 1, bits = third LUT Descriptor value (PS3.3 C.11.1.1)
        bits = int(ds.ModalityLUTSequence[0].LUTDescriptor[2])
        if not 1 <= bits <= 16:
            raise CorruptFileError(
                f"(0028,3002) LUT Descriptor bits '{bits}' of the Modality LUT Sequence is not "
                "1..16; the header is damaged, re-export the file",
                path=path,
            )
        lo, hi = 0.0, float((1 << bits) - 1)
        out = np.asarray(apply_modality_lut(stored, ds), dtype=np.float32)
        slope, intercept = 1.0, 0.0
        to_modality = None  # window is already in LUT output units
    else:
        slope, intercept = _rescale(ds, index, path)
        s_lo, s_hi = _stored_range(fmt)
        lo, hi = sorted((slope * s_lo + intercept, slope * s_hi + intercept))
        out = None
        to_modality = (slope, intercept)
    flip = _inverted(ds, path, fmt)
    # One affine pass: v' = a * stored + c, mirrored inside [lo, hi] when inverted.
    if out is None:
        assert to_modality is not None
        a = -slope if flip else slope
        c = (lo + hi - intercept) if flip else intercept
        out = np.empty(stored.shape, dtype=np.float32)
        if a == 1.0:
            out[...] = stored
        else:
            np.multiply(stored, np.float32(a), out=out, casting="unsafe")
        if c != 0.0:
            out += np.float32(c)
    elif flip:
        np.subtract(np.float32(lo + hi), out, out=out)
    window, untrusted = _display_window(ds, out, flip, lo + hi, path)
    return out, window, (["display_window_untrusted"] if untrusted else [])


def _display_window(
    ds, pixels: np.ndarray, flip: bool, mirror_sum: float, path: str | None
) -> tuple[tuple[float, float] | None, bool]:
    """(center, width) in pixel units, or None; the bool says 'header window untrusted'."""
    center = header.float_or_none(header.value(ds, "WindowCenter", path))
    width = header.float_or_none(header.value(ds, "WindowWidth", path))
    if center is None or width is None:
        center, width = _window_from_voi_lut(ds)
    if center is None or width is None or width <= 0:
        return None, False
    if flip:
        center = mirror_sum - center
    # Sub-sampled range: the window is for display only, exact extremes do not matter.
    sample = pixels[::8, ::8]
    lo, hi = float(sample.min()), float(sample.max())
    if not lo <= center <= hi:
        return None, True
    return (float(center), float(width)), False


def _window_from_voi_lut(ds) -> tuple[float | None, float | None]:
    """Approximate (center, width) spanned by the first VOI LUT's input range."""
    try:
        descriptor = ds.VOILUTSequence[0].LUTDescriptor
        entries = int(descriptor[0]) or 65536  # 0 means 2**16 (PS3.3 C.11.2.1.1)
        first = float(descriptor[1])
    except Exception:
        return None, None
    return first + entries / 2.0, float(entries)


def _text(ds, keyword: str) -> str | None:
    try:
        raw = ds.get(keyword)
    except Exception:
        return None
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _safe_meta(ds, fmt: PixelFormat, route: str, index: int) -> dict[str, Any]:
    """Only non-identifying fields (radiograph.SAFE_META_FIELDS); never names, IDs, dates."""
    meta: dict[str, Any] = {
        "modality": _text(ds, "Modality"),
        "body_part": _text(ds, "BodyPartExamined"),
        "view": _text(ds, "ViewPosition"),
        "manufacturer": _text(ds, "Manufacturer"),
        "photometric": fmt.photometric,
        "transfer_syntax": fmt.transfer_syntax,
        "bits_stored": fmt.bits_stored,
        "sop_class": _text(ds, "SOPClassUID"),
        "rescale_type": _text(ds, "RescaleType"),
        "number_of_frames": fmt.number_of_frames,
        "frame": index,
        "decoder": route,
    }
    if meta["rescale_type"] is None and meta["modality"] == "CT" and "RescaleIntercept" in ds:
        meta["rescale_type"] = "HU"  # CT Image module: rescaled values are Hounsfield units
    return meta


def _image_id(ds, data: bytes, fmt: PixelFormat, index: int) -> str:
    uid = _text(ds, "SOPInstanceUID")
    if uid is None:
        return pseudonymous_id(data)
    if fmt.number_of_frames > 1:  # frames of one instance must not share an id
        return pseudonymous_id(f"{uid}/frame{index}")
    return pseudonymous_id(uid)

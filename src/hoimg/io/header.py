"""Parse a DICOM header safely and refuse bad files before any pixel is decoded.

Everything here works on the header alone: parsing (with pydicom, from an in-memory copy
of the file so a lying element length can never make a read allocate more than the file
holds), the checks the issue lists (empty dataset, not an image, Rows/Columns missing,
declared size over the limit, Pixel Data shorter than declared), the safe metadata and
the spacing tags.
"""

from __future__ import annotations

import io
import math
import operator
import struct
import warnings
from typing import Any

from pydicom import dcmread
from pydicom import uid as _uid
from pydicom.dataset import Dataset

from ..errors import (
    CorruptFileError,
    ImageTooLargeError,
    InvalidInputError,
    NotAnImageError,
    TruncatedPixelDataError,
)
from .decoders import PixelFormat, encapsulated_items
from .spacing import SpacingResult, spacing_from_tags

# SOP classes that never hold a radiograph: SR/KOS, waveforms, presentation states,
# encapsulated documents, RT objects (except RT Image .481.1), raw data/registration/SEG,
# and DICOMDIR.
_NON_IMAGE_SOP_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.88.",
    "1.2.840.10008.5.1.4.1.1.9.",
    "1.2.840.10008.5.1.4.1.1.11.",
    "1.2.840.10008.5.1.4.1.1.104.",
    "1.2.840.10008.5.1.4.1.1.66",
    "1.2.840.10008.1.3.10",
)
_RT_PREFIX, _RT_IMAGE = "1.2.840.10008.5.1.4.1.1.481.", "1.2.840.10008.5.1.4.1.1.481.1"
_NON_IMAGE_MODALITIES = frozenset(
    {
        "SR",
        "PR",
        "KO",
        "RTPLAN",
        "RTSTRUCT",
        "RTDOSE",
        "RTRECORD",
        "SEG",
        "REG",
        "ECG",
        "HD",
        "AU",
        "DOC",
        "PLAN",
        "RWV",
        "FID",
        "RESP",
    }
)
# RLE can expand each 2-byte run to at most 128 bytes, so a frame can never decode to more
# than 64x its encoded size: anything claiming more is a lying header.
_RLE_MAX_EXPANSION = 64


def parse(data: bytes, path: str | None, *, stop_before_pixels: bool = False) -> Dataset:
    """Parse DICOM bytes (with or without preamble / file meta) into a Dataset.

    Raises
    ------
    CorruptFileError
        Header parse failures, pathological nesting and empty datasets.
    """
    return _read(io.BytesIO(data), path, stop_before_pixels)


def parse_image(data: bytes, path: str | None) -> tuple[Dataset, memoryview | None]:
    """Parse the header and locate Pixel Data *without copying it*.

    Returns
    -------
    ds : Dataset
        Everything before (7FE0,0010).
    pixel_data : memoryview or None
        The Pixel Data value as a view into ``data`` (to the end of the file when
        encapsulated), or None when there is no Pixel Data element.
    """
    fp = io.BytesIO(data)
    ds = _read(fp, path, stop_before_pixels=True)
    ts = _uid.UID(str(ds.file_meta.TransferSyntaxUID))
    implicit, little = ds.original_encoding
    swapped_or_inflated = ts.is_transfer_syntax and (ts.is_deflated or not ts.is_little_endian)
    if swapped_or_inflated or little is False:
        # Inflated / byte-swapped streams are not views of the file: let pydicom read it.
        # The element stays in the dataset: pydicom needs its VR to byte-swap big-endian data.
        full = _read(io.BytesIO(data), path, stop_before_pixels=False)
        try:
            pixels = full.get("PixelData")
        except Exception:
            pixels = None
        return full, (None if pixels is None else memoryview(pixels))
    return ds, _pixel_data_view(data, fp.tell(), bool(implicit))


# Explicit-VR VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
_LONG_VRS = frozenset(
    {b"OB", b"OW", b"OD", b"OF", b"OL", b"OV", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)


def _pixel_data_view(data: bytes, pos: int, implicit: bool) -> memoryview | None:
    """The value of the (7FE0,0010) element starting at ``pos``, as a view; None if absent."""
    if pos + 8 > len(data) or data[pos : pos + 4] != b"\xe0\x7f\x10\x00":
        return None
    vr = data[pos + 4 : pos + 6]
    if implicit or not vr.isalpha():
        length, start = struct.unpack_from("<I", data, pos + 4)[0], pos + 8
    elif vr in _LONG_VRS:
        if pos + 12 > len(data):
            return memoryview(b"")
        length, start = struct.unpack_from("<I", data, pos + 8)[0], pos + 12
    else:
        length, start = struct.unpack_from("<H", data, pos + 6)[0], pos + 8
    view = memoryview(data)
    if length == 0xFFFFFFFF:  # encapsulated: fragments run to the sequence delimiter
        return view[start:]
    return view[start : start + length]  # shorter than declared if the file is truncated


def _read(fp: io.BytesIO, path: str | None, stop_before_pixels: bool) -> Dataset:
    try:
        with warnings.catch_warnings():
            # pydicom warns about every oddity it tolerates; hoimg reports what matters.
            warnings.simplefilter("ignore")
            ds = dcmread(fp, force=True, stop_before_pixels=stop_before_pixels)
    except RecursionError:
        raise CorruptFileError(
            "the DICOM header nests sequences too deeply to parse (RecursionError); the file "
            "is damaged or malicious, re-export it",
            path=path,
        ) from None
    except MemoryError:
        raise CorruptFileError(
            "the DICOM header declares impossible element sizes; the file is damaged, re-export it",
            path=path,
        ) from None
    except Exception as exc:  # pydicom raises OSError, struct.error, ValueError, KeyError, ...
        raise CorruptFileError(
            f"the DICOM header cannot be parsed ({type(exc).__name__}: {_short(exc)}); the file "
            "is damaged or truncated, copy it again from the archive",
            path=path,
        ) from exc
    if len(ds) == 0:
        raise CorruptFileError(
            "no DICOM data elements could be parsed (empty dataset after the file meta); the "
            "file is truncated or not DICOM, copy it again from the archive",
            path=path,
        )
    _ensure_transfer_syntax(ds)
    return ds


def _short(exc: BaseException, limit: int = 160) -> str:
    return " ".join(str(exc).split())[:limit]


def _ensure_transfer_syntax(ds: Dataset) -> None:
    """Give files without file meta the transfer syntax pydicom detected while parsing."""
    file_meta = getattr(ds, "file_meta", None)
    ts = None if file_meta is None else file_meta.get("TransferSyntaxUID")
    if ts:
        return
    implicit, little = ds.original_encoding
    if implicit is None:  # nothing read at all
        implicit, little = True, True
    if implicit:
        ts = _uid.ImplicitVRLittleEndian
    else:
        ts = _uid.ExplicitVRLittleEndian if little else _uid.ExplicitVRBigEndian
    from pydicom.dataset import FileMetaDataset

    if file_meta is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts


def value(ds: Dataset, keyword: str, path: str | None = None) -> Any:
    """The value of ``keyword`` or None; a value pydicom cannot convert is a corrupt file."""
    try:
        elem = ds.get(keyword)
    except Exception as exc:
        tag = _tag_text(keyword)
        raise CorruptFileError(
            f"{tag} {keyword} cannot be read ({type(exc).__name__}: {_short(exc, 80)}); the "
            "header is damaged, re-export the file",
            path=path,
        ) from exc
    if elem is None or elem == "":
        return None
    return elem


def _tag_text(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    return "(????,????)" if tag is None else f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _int_tag(ds: Dataset, keyword: str, path: str | None, *, default: int | None = None) -> int:
    raw = value(ds, keyword, path)
    if raw is None:
        if default is not None:
            return default
        raise CorruptFileError(
            f"{_tag_text(keyword)} {keyword} is missing, so the image size is unknown; the "
            "header is incomplete, re-export the file",
            path=path,
        )
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise CorruptFileError(
            f"{_tag_text(keyword)} {keyword} '{raw}' is not an integer; the header is damaged, "
            "re-export the file",
            path=path,
        ) from None


def check_is_image(ds: Dataset, path: str | None, *, has_pixels: bool) -> None:
    """Refuse SR, RT plans, waveforms and other objects without a radiograph."""
    sop = str(value(ds, "SOPClassUID", path) or "")
    modality = str(value(ds, "Modality", path) or "").strip().upper()
    non_image_sop = sop.startswith(_NON_IMAGE_SOP_PREFIXES) or (
        sop.startswith(_RT_PREFIX) and sop != _RT_IMAGE
    )
    if non_image_sop or modality in _NON_IMAGE_MODALITIES or not has_pixels:
        what = _uid.UID(sop).name if sop else (modality or "this object")
        why = "it has no (7FE0,0010) Pixel Data" if not has_pixels else f"its SOP class is {what}"
        raise NotAnImageError(
            f"not an image: {why} (modality '{modality or '-'}'); give hoimg radiographs "
            "(CR, DX, RG, MG, RF) or single-slice CT",
            path=path,
        )


def pixel_format(ds: Dataset, path: str | None, *, max_megapixels: float) -> PixelFormat:
    """Validate the Image Pixel module and return its values. Nothing is decoded."""
    rows = _int_tag(ds, "Rows", path)
    cols = _int_tag(ds, "Columns", path)
    if rows <= 0 or cols <= 0:
        raise CorruptFileError(
            f"(0028,0010) Rows x (0028,0011) Columns '{rows} x {cols}' is not positive; the "
            "header is damaged, re-export the file",
            path=path,
        )
    megapixels = rows * cols / 1e6
    if megapixels > max_megapixels:
        raise ImageTooLargeError(
            f"(0028,0010) Rows x (0028,0011) Columns '{rows} x {cols}' is {megapixels:.0f} "
            f"megapixels, over the limit of {max_megapixels:g}; raise "
            "AnalysisConfig.load.max_megapixels if the image is genuine",
            path=path,
        )
    spp = _int_tag(ds, "SamplesPerPixel", path, default=1)
    allocated = _int_tag(ds, "BitsAllocated", path)
    stored = _int_tag(ds, "BitsStored", path, default=allocated)
    pixrep = _int_tag(ds, "PixelRepresentation", path, default=0)
    if (
        spp not in (1, 3)
        or allocated not in (1, 8, 16, 32, 64)
        or not 1 <= stored <= allocated
        or pixrep not in (0, 1)
    ):
        raise CorruptFileError(
            f"(0028,0002) Samples per Pixel {spp}, (0028,0100) Bits Allocated {allocated}, "
            f"(0028,0101) Bits Stored {stored}, (0028,0103) Pixel Representation {pixrep} is "
            "not a valid pixel format; the header is damaged, re-export the file",
            path=path,
        )
    photometric = str(value(ds, "PhotometricInterpretation", path) or "").strip().upper()
    if not photometric:
        photometric = "MONOCHROME2" if spp == 1 else "RGB"
    if photometric == "PALETTE COLOR" or (spp == 1) != photometric.startswith("MONOCHROME"):
        raise NotAnImageError(
            f"(0028,0004) Photometric Interpretation '{photometric}' with {spp} sample(s) per "
            "pixel is not a greyscale radiograph; export the original greyscale image",
            path=path,
        )
    frames_raw = value(ds, "NumberOfFrames", path)
    try:
        n_frames = max(1, int(frames_raw)) if frames_raw is not None else 1
    except (TypeError, ValueError, OverflowError):
        n_frames = 1  # an unreadable count: treat as single frame, the length check decides
    # pydicom's own decoders read these; give them the values hoimg validated.
    ds.BitsStored, ds.PixelRepresentation, ds.SamplesPerPixel = stored, pixrep, spp
    ds.PhotometricInterpretation = photometric
    if n_frames == 1 and "NumberOfFrames" in ds:
        ds.NumberOfFrames = 1
    return PixelFormat(
        rows=rows,
        cols=cols,
        samples_per_pixel=spp,
        bits_allocated=allocated,
        bits_stored=stored,
        pixel_representation=pixrep,
        number_of_frames=n_frames,
        photometric=photometric,
        transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
    )


def _check_fragment_lengths(data: memoryview, ts, path: str | None) -> None:
    """Refuse encapsulated Pixel Data whose last item claims more bytes than the file holds.

    A file cut short inside its last fragment would otherwise be sliced silently, and the
    JPEG decoders return a partly filled image without complaint.
    """
    have = len(data)
    try:
        for pos, length in encapsulated_items(data):
            if pos + 8 + length > have:
                break
        else:
            return
    except ValueError:
        return  # not an item: the decoder reports the damage with its own words
    raise TruncatedPixelDataError(
        f"(7FE0,0010) Pixel Data fragment at byte {pos} declares {length} bytes but only "
        f"{have - pos - 8} remain ({ts.name}); the file is truncated, copy it again from "
        "the archive",
        path=path,
    )


def check_pixel_data_length(data: memoryview, fmt: PixelFormat, path: str | None) -> None:
    """Refuse Pixel Data shorter than the header declares (never decode a lie)."""
    have = len(data)
    ts = _uid.UID(fmt.transfer_syntax)
    if not ts.is_encapsulated:
        need = fmt.frame_bytes * fmt.number_of_frames
        if have < need:
            raise TruncatedPixelDataError(
                f"(7FE0,0010) Pixel Data holds {have} bytes but Rows x Columns x Bits Allocated "
                f"x Frames ({fmt.rows} x {fmt.cols} x {fmt.bits_allocated} bits x "
                f"{fmt.number_of_frames}) need {need}; the file is truncated, copy it again "
                "from the archive",
                path=path,
            )
        return
    # Encapsulated: an item tag, a Basic Offset Table and at least one non-empty fragment.
    if have < 16 or bytes(data[:4]) != b"\xfe\xff\x00\xe0":
        raise TruncatedPixelDataError(
            f"(7FE0,0010) Pixel Data is encapsulated ({ts.name}) but holds only {have} bytes "
            "without a valid item sequence; the file is truncated, copy it again from the archive",
            path=path,
        )
    _check_fragment_lengths(data, ts, path)
    if ts == _uid.RLELossless:
        per_frame = fmt.frame_bytes
        if per_frame * min(fmt.number_of_frames, 1 << 20) > _RLE_MAX_EXPANSION * have:
            raise TruncatedPixelDataError(
                f"(7FE0,0010) Pixel Data holds {have} RLE bytes, too few for "
                f"{fmt.number_of_frames} frame(s) of {fmt.rows} x {fmt.cols}; the file is "
                "truncated, copy it again",
                path=path,
            )


def frame_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """First item of functional-group ``sequence`` for ``frame`` (per-frame, else shared)."""
    for groups_kw, index in (
        ("PerFrameFunctionalGroupsSequence", frame),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        try:
            groups = ds.get(groups_kw)
            if groups is None or index >= len(groups):
                continue
            inner = groups[index].get(sequence)
            if inner:
                return inner[0]
        except Exception:  # a damaged functional group is as good as absent
            continue
    return None


def spacing_from_dataset(ds: Dataset, frame: int, path: str | None) -> SpacingResult:
    """Run the spacing chain on the header (top level, then the Pixel Measures group)."""
    pixel_spacing = _safe(ds, "PixelSpacing")
    if pixel_spacing is None:
        measures = frame_item(ds, frame, "PixelMeasuresSequence")
        if measures is not None:
            pixel_spacing = _safe(measures, "PixelSpacing")
    return spacing_from_tags(
        pixel_spacing,
        _safe(ds, "ImagerPixelSpacing"),
        _safe(ds, "EstimatedRadiographicMagnificationFactor"),
    )


def _safe(ds: Dataset, keyword: str) -> Any:
    """An optional tag's value; unreadable counts as absent-but-present ('' -> invalid)."""
    try:
        elem = ds.get(keyword)
    except Exception:
        return ""  # present but unparseable: the spacing chain flags it invalid
    return elem


def float_or_none(raw: Any) -> float | None:
    """First value of a DS/FD element as a finite float, else None."""
    if raw is None:
        return None
    try:
        if not isinstance(raw, (str, bytes)) and hasattr(raw, "__len__"):
            raw = raw[0]
        out = float(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return out if math.isfinite(out) else None


def require_frame(fmt: PixelFormat, frame: int | None, path: str | None) -> int:
    """Resolve ``frame=`` against Number of Frames; multi-frame files need an explicit one."""
    n = fmt.number_of_frames
    if frame is None:
        if n > 1:
            from ..errors import MultiFrameError

            raise MultiFrameError(
                f"(0028,0008) Number of Frames is {n}: pick one with frame=0..{n - 1} "
                "(e.g. hoimg.load(path, frame=0))",
                path=path,
            )
        return 0
    try:
        index = -1 if isinstance(frame, bool) else operator.index(frame)  # ints, numpy ints
    except TypeError:
        index = -1
    if not 0 <= index < n:
        raise InvalidInputError(
            f"frame={frame!r} is out of range: this file has {n} frame(s), use 0..{n - 1}",
            path=path,
        )
    return index

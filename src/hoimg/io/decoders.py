"""One frame of DICOM pixel data -> stored values, by the fastest bit-exact route per syntax.

Each transfer syntax has an ordered list of routes (fastest first, as measured by
``benchmarks/bench_io.py`` on a 3000 x 3000 12-bit DX):

* ``numpy``: native little-endian data read with :func:`numpy.frombuffer`;
* ``imagecodecs:<codec>``: an imagecodecs decoder run on the encapsulated frame
  (libjpeg-turbo for JPEG Lossless, CharLS for JPEG-LS, OpenJPEG for JPEG 2000 and
  HTJ2K);
* ``pydicom:<plugin>``: :func:`pydicom.pixels.pixel_array` with that plug-in
  (``pydicom:`` = pydicom's default choice).

Every route returns exactly what pydicom's default decode returns (same dtype, same
unused-bit and sign corrections); ``tests/io/test_decoders.py`` checks this bit for bit.
The first applicable route that succeeds wins; a stream one decoder rejects is retried with
the next one. A syntax with no available route raises :class:`UnsupportedCodecError`
naming the package to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from pydicom import uid as _uid

from ..errors import CorruptFileError, UnsupportedCodecError
from ._codestream import CodestreamInfo, j2k_info, jpeg_info


@dataclass(frozen=True)
class PixelFormat:
    """The Image Pixel module values that decoding depends on (already validated)."""

    rows: int
    cols: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    number_of_frames: int
    photometric: str
    transfer_syntax: str

    @property
    def dtype(self) -> np.dtype:
        """The dtype pydicom returns for these stored values."""
        kind = "i" if self.pixel_representation else "u"
        size = max(1, (self.bits_allocated + 7) // 8)
        if size not in (1, 2, 4, 8):
            size = 8
        return np.dtype(f"{kind}{size}")

    @property
    def frame_bytes(self) -> int:
        """Bytes of one native (uncompressed) frame."""
        bits = self.rows * self.cols * self.samples_per_pixel * self.bits_allocated
        return (bits + 7) // 8

    @property
    def monochrome(self) -> bool:
        return self.photometric in ("MONOCHROME1", "MONOCHROME2")


_JPEG_LOSSLESS = (_uid.JPEGLosslessSV1, _uid.JPEGLossless)
_JPEG_LS = (_uid.JPEGLSLossless, _uid.JPEGLSNearLossless)
_J2K = (_uid.JPEG2000Lossless, _uid.JPEG2000)
_HTJ2K = (_uid.HTJ2KLossless, _uid.HTJ2KLosslessRPCL, _uid.HTJ2K)
_CODESTREAM_SYNTAXES = frozenset(
    (*_JPEG_LOSSLESS, *_JPEG_LS, *_J2K, *_HTJ2K, _uid.JPEGBaseline8Bit, _uid.JPEGExtended12Bit)
)
_NATIVE_LE = (
    _uid.ExplicitVRLittleEndian,
    _uid.ImplicitVRLittleEndian,
    _uid.DeflatedExplicitVRLittleEndian,  # dcmread has already inflated it
)

# Routes per transfer syntax, fastest first (see the module docstring). Anything not
# listed goes to pydicom's default plug-in.
ROUTES: dict[str, tuple[str, ...]] = {
    **{ts: ("numpy", "pydicom:") for ts in _NATIVE_LE},
    _uid.ExplicitVRBigEndian: ("pydicom:",),
    # pylibjpeg-rle is ~7x faster than pydicom's pure-Python RLE decoder; called directly
    # it also saves pydicom's two copies of the frame.
    _uid.RLELossless: ("pylibjpeg-rle", "pydicom:pylibjpeg", "pydicom:pydicom"),
    # libjpeg-turbo (imagecodecs.jpeg8) is ~6x faster than pylibjpeg-libjpeg.
    **{ts: ("imagecodecs:jpeg8", "imagecodecs:ljpeg", "pydicom:") for ts in _JPEG_LOSSLESS},
    **{ts: ("imagecodecs:jpegls", "pydicom:pyjpegls", "pydicom:") for ts in _JPEG_LS},
    **{ts: ("imagecodecs:jpeg2k", "pydicom:pylibjpeg", "pydicom:") for ts in _J2K},
    **{ts: ("imagecodecs:htj2k", "imagecodecs:jpeg2k", "pydicom:") for ts in _HTJ2K},
}

# What to install when nothing can decode a syntax (pydicom's plug-in packages).
_PACKAGE_HINT: dict[str, str] = {
    _uid.RLELossless: "pylibjpeg-rle",
    _uid.JPEGBaseline8Bit: "pylibjpeg-libjpeg",
    _uid.JPEGExtended12Bit: "pylibjpeg-libjpeg",
    **{ts: "pylibjpeg-libjpeg (or imagecodecs)" for ts in _JPEG_LOSSLESS},
    **{ts: "pyjpegls (or imagecodecs)" for ts in _JPEG_LS},
    **{ts: "pylibjpeg-openjpeg (or imagecodecs)" for ts in (*_J2K, *_HTJ2K)},
}


# Decoder failures are caught broadly (pylibjpeg-rle's Rust panics derive from
# BaseException), but never these.
_NEVER_CATCH = (KeyboardInterrupt, SystemExit, GeneratorExit)


@cache
def _imagecodecs_codec(name: str) -> Callable[..., np.ndarray] | None:
    """imagecodecs' ``<name>_decode`` if imagecodecs is installed and was built with it."""
    try:
        ic = importlib.import_module("imagecodecs")
    except ImportError:
        return None
    codec = getattr(ic, name.upper(), None)
    if codec is None or not getattr(codec, "available", False):
        return None
    return getattr(ic, f"{name}_decode", None)


@cache
def _rle_decoder() -> Callable[..., bytearray] | None:
    """pylibjpeg-rle's frame decoder, if installed."""
    try:
        from rle.utils import decode_pixel_data
    except ImportError:
        return None
    return decode_pixel_data


@cache
def _pydicom_plugins(transfer_syntax: str) -> tuple[str, ...]:
    """Names of pydicom decoding plug-ins whose dependencies are installed."""
    from pydicom.pixels import get_decoder

    ts = _uid.UID(transfer_syntax)
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        return ()
    if not ts.is_encapsulated:
        return ("",)  # native data: pydicom decodes it itself, no plug-in needed
    return tuple(decoder.available_plugins)


def routes_for(fmt: PixelFormat) -> list[str]:
    """The routes that apply to ``fmt`` and are installed, in the order they are tried."""
    candidates = ROUTES.get(fmt.transfer_syntax, ("pydicom:",))
    grey = fmt.monochrome and fmt.samples_per_pixel == 1
    plugins = _pydicom_plugins(fmt.transfer_syntax)
    usable = []
    for route in candidates:
        kind, _, name = route.partition(":")
        if kind == "numpy":
            if grey and fmt.bits_allocated in (8, 16, 32):
                usable.append(route)
        elif kind == "pylibjpeg-rle":
            if grey and fmt.bits_allocated in (8, 16, 32) and _rle_decoder() is not None:
                usable.append(route)
        elif kind == "imagecodecs":
            # Colour and signed JPEG-LS need pydicom's colour-space / sign handling.
            if not grey or (fmt.transfer_syntax in _JPEG_LS and fmt.pixel_representation):
                continue
            if fmt.bits_allocated not in (8, 16) or _imagecodecs_codec(name) is None:
                continue
            usable.append(route)
        elif (name and name in plugins) or (not name and plugins):
            usable.append(route)
    return usable


def missing_codec_error(fmt: PixelFormat, path: str | None) -> UnsupportedCodecError:
    """The error for a syntax that no installed decoder can read."""
    ts = _uid.UID(fmt.transfer_syntax)
    name = ts.name if ts.is_valid and ts.name != str(ts) else "an unknown syntax"
    hint = _PACKAGE_HINT.get(fmt.transfer_syntax)
    action = (
        f"install {hint} (pip install {hint.split(' ')[0]})"
        if hint
        else "convert it to uncompressed DICOM first (e.g. gdcmconv --raw or dcmdjpeg)"
    )
    return UnsupportedCodecError(
        f"(0002,0010) Transfer Syntax UID '{fmt.transfer_syntax}' ({name}) has no installed "
        f"decoder; {action}",
        path=path,
    )


def _native_frame(pixel_data: memoryview, fmt: PixelFormat, index: int) -> np.ndarray:
    """A frame of native little-endian data, with pydicom's unused-bit correction."""
    start = index * fmt.frame_bytes
    arr = np.frombuffer(
        pixel_data, dtype=fmt.dtype.newbyteorder("<"), count=fmt.rows * fmt.cols, offset=start
    )
    arr = arr.reshape(fmt.rows, fmt.cols)
    if fmt.bits_stored < 8 * fmt.dtype.itemsize:
        arr = _correct_unused_bits(arr, fmt)
    return arr


def _correct_unused_bits(arr: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """Ignore the bits above Bits Stored (PS3.5 8.1.1): mask, or sign-extend if signed."""
    shift = 8 * arr.dtype.itemsize - fmt.bits_stored
    if shift <= 0:
        return arr
    if fmt.pixel_representation:
        out = np.left_shift(arr, shift)
        np.right_shift(out, shift, out=out)
        return out
    return np.bitwise_and(arr, np.array((1 << fmt.bits_stored) - 1, dtype=arr.dtype))


def encapsulated_items(pixel_data: memoryview) -> Iterator[tuple[int, int]]:
    """``(offset, declared length)`` of each item of an encapsulated Pixel Data value.

    Stops at the sequence delimiter or the end of the data. A declared length may run past
    the end (a truncated file): callers decide what that means.

    Raises
    ------
    ValueError
        A tag that is neither an item nor the delimiter, or an undefined-length item.
    """
    pos, end = 0, len(pixel_data)
    while pos + 8 <= end:
        tag = bytes(pixel_data[pos : pos + 4])
        if tag == b"\xfe\xff\xdd\xe0":  # sequence delimiter: the rest is not pixel data
            return
        length = int.from_bytes(pixel_data[pos + 4 : pos + 8], "little")
        if tag != b"\xfe\xff\x00\xe0" or length == 0xFFFFFFFF:
            raise ValueError(f"unexpected tag {tag.hex()} in encapsulated Pixel Data")
        yield pos, length
        pos += 8 + length


def _single_frame(pixel_data: memoryview) -> memoryview | bytes:
    """The frame of a single-frame encapsulated value; a zero-copy view if one fragment."""
    fragments = [pixel_data[pos + 8 : pos + 8 + length] for pos, length in encapsulated_items(pixel_data)]
    fragments = [f for f in fragments[1:] if len(f)]  # item 0 is the Basic Offset Table
    if not fragments:
        raise ValueError("encapsulated Pixel Data holds no fragments")
    return fragments[0] if len(fragments) == 1 else b"".join(fragments)


def _encapsulated_frame(pixel_data: memoryview, fmt: PixelFormat, index: int) -> memoryview | bytes:
    if fmt.number_of_frames == 1 and index == 0:
        return _single_frame(pixel_data)
    from pydicom.encaps import get_frame

    # pydicom parses fragments from bytes or a stream; BytesIO over a memoryview would copy
    # anyway, and the compressed value is small next to the decoded frame.
    return get_frame(bytes(pixel_data), index, number_of_frames=fmt.number_of_frames)


def _rle_frame(frame: memoryview | bytes, fmt: PixelFormat) -> np.ndarray:
    """pylibjpeg-rle on the frame, with pydicom's unused-bit correction."""
    decode = _rle_decoder()
    assert decode is not None
    raw = decode(
        bytes(frame),
        version=2,
        rows=fmt.rows,
        columns=fmt.cols,
        bits_allocated=fmt.bits_allocated,
        byteorder="<",
    )
    arr = np.frombuffer(raw, dtype=fmt.dtype.newbyteorder("<"), count=fmt.rows * fmt.cols)
    arr = arr.reshape(fmt.rows, fmt.cols)
    if fmt.bits_stored < 8 * fmt.dtype.itemsize:
        arr = _correct_unused_bits(arr, fmt)
    return arr


def _codestream_info(frame: bytes | memoryview, fmt: PixelFormat) -> CodestreamInfo | None:
    if fmt.transfer_syntax in (*_J2K, *_HTJ2K):
        return j2k_info(frame)
    return jpeg_info(frame)


def _imagecodecs_frame(
    frame: bytes | memoryview, info: CodestreamInfo | None, fmt: PixelFormat, codec: str
) -> np.ndarray | None:
    """Decode with imagecodecs; None when the stream needs pydicom's corrections instead."""
    is_j2k = codec in ("jpeg2k", "htj2k")
    if info is None or info.components != 1 or info.precision > 8 * fmt.dtype.itemsize:
        return None
    if is_j2k and info.is_signed != bool(fmt.pixel_representation):
        # pydicom re-interprets mismatched J2K signedness (e.g. Toshiba PixRep 1 files);
        # a precision above Bits Stored with matching signedness is returned as decoded.
        return None
    decode = _imagecodecs_codec(codec)
    assert decode is not None
    arr = np.asarray(decode(frame))
    if arr.shape != (fmt.rows, fmt.cols):
        raise ValueError(f"decoded frame has shape {arr.shape}, header says {(fmt.rows, fmt.cols)}")
    target = fmt.dtype
    if arr.dtype.itemsize != target.itemsize:
        arr = arr.astype(np.dtype(f"u{target.itemsize}"))
    if arr.dtype != target:
        arr = arr.view(target)
    if fmt.transfer_syntax in _JPEG_LOSSLESS and fmt.bits_stored < fmt.bits_allocated:
        # pydicom masks / sign-extends JPEG output too; an unsigned stream whose precision
        # fits in Bits Stored has no high bits to clear, so that pass is skipped.
        if fmt.pixel_representation or info.precision > fmt.bits_stored:
            arr = _correct_unused_bits(arr, fmt)
    return arr


def _pydicom_frame(
    ds, pixel_data: memoryview, fmt: PixelFormat, index: int, plugin: str
) -> np.ndarray:
    from pydicom.pixels import pixel_array

    if "PixelData" not in ds:  # header-only parse: hand pydicom its own copy of the value
        encapsulated = _uid.UID(fmt.transfer_syntax).is_encapsulated
        vr = "OB" if encapsulated or fmt.bits_allocated <= 8 else "OW"
        ds.add_new(0x7FE00010, vr, bytes(pixel_data))
        if encapsulated:
            ds["PixelData"].is_undefined_length = True
    return pixel_array(ds, index=index, decoding_plugin=plugin)


def decode_frame(
    ds, pixel_data: memoryview, fmt: PixelFormat, index: int, *, path: str | None = None
) -> tuple[np.ndarray, str]:
    """Decode frame ``index`` of ``ds`` into stored values, as pydicom would.

    Parameters
    ----------
    ds : pydicom.Dataset
        A dataset whose header has been validated against ``fmt`` (sizes, lengths).
    pixel_data : memoryview
        The (7FE0,0010) Pixel Data value (see :func:`hoimg.io.header.parse_image`).
    fmt : PixelFormat
        Its pixel format.
    index : int
        0-based frame number.
    path : str, optional
        For error messages.

    Returns
    -------
    pixels : (rows, cols) or (rows, cols, samples) ndarray
        Stored values with pydicom's dtype and corrections.
    route : str
        The route that decoded it (for tests and benchmarks).

    Raises
    ------
    UnsupportedCodecError
        No installed decoder handles the transfer syntax.
    CorruptFileError
        Every applicable decoder failed on this frame.
    """
    routes = routes_for(fmt)
    if not routes:
        raise missing_codec_error(fmt, path)
    frame: memoryview | bytes = b""
    info = None
    if fmt.transfer_syntax in _CODESTREAM_SYNTAXES or "pylibjpeg-rle" in routes:
        try:
            frame = _encapsulated_frame(pixel_data, fmt, index)
        except Exception as exc:
            raise CorruptFileError(
                f"frame {index} could not be found in the encapsulated (7FE0,0010) Pixel Data "
                f"({type(exc).__name__}); the file is damaged, re-export it",
                path=path,
            ) from exc
        info = None if "pylibjpeg-rle" in routes else _codestream_info(frame, fmt)
        # A codestream declaring another size than the DICOM header must not reach a
        # decoder: it would allocate whatever the stream claims.
        if info is not None and (info.rows, info.cols) != (fmt.rows, fmt.cols):
            raise CorruptFileError(
                f"the compressed frame declares {info.rows} x {info.cols} pixels but (0028,0010) "
                f"Rows / (0028,0011) Columns say {fmt.rows} x {fmt.cols}; the file is damaged, "
                "re-export it",
                path=path,
            )
    failure: BaseException | None = None
    for route in routes:
        kind, _, name = route.partition(":")
        try:
            if kind == "numpy":
                arr = _native_frame(pixel_data, fmt, index)
            elif kind == "pylibjpeg-rle":
                arr = _rle_frame(frame, fmt)
            elif kind == "imagecodecs":
                arr = _imagecodecs_frame(frame, info, fmt, name)
                if arr is None:
                    continue
            else:
                arr = _pydicom_frame(ds, pixel_data, fmt, index, name)
        except _NEVER_CATCH:
            raise
        except BaseException as exc:  # noqa: BLE001 - Rust decoders panic with a BaseException
            failure = exc
            continue
        return arr, route
    if failure is None:  # only imagecodecs routes, and the stream needs pydicom's corrections
        raise missing_codec_error(fmt, path)
    if isinstance(failure, RuntimeError) and "no pixel data decoders" in str(failure).lower():
        raise missing_codec_error(fmt, path) from failure
    detail = " ".join(str(failure).split())[:200]
    raise CorruptFileError(
        f"pixel data could not be decoded as {_uid.UID(fmt.transfer_syntax).name} "
        f"({type(failure).__name__}: {detail}); the file is damaged, re-export it from the archive",
        path=path,
    ) from failure

"""Read the image size and sample format from a JPEG or JPEG 2000 codestream header.

The loader checks these against Rows/Columns *before* decoding, so that a codestream that
declares a huge image cannot make a decoder allocate memory the DICOM header never
promised, and so that JPEG 2000 frames whose signedness disagrees with (0028,0103) Pixel
Representation go to the decoder that knows how to correct them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# JPEG start-of-frame markers (all processes, excluding DHT 0xC4, JPG 0xC8, DAC 0xCC).
_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
# Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
# Never scan further than this into a JPEG stream for its SOF (real headers are a few KB).
_MAX_HEADER_SCAN = 1 << 20


@dataclass(frozen=True)
class CodestreamInfo:
    """Geometry and sample format declared by a codestream."""

    rows: int
    cols: int
    components: int
    precision: int
    is_signed: bool


def jpeg_info(frame: bytes | memoryview) -> CodestreamInfo | None:
    """Parse the SOF segment of a JPEG / JPEG-LS stream; None when it cannot be found."""
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] != 0xD8:
        return None
    pos = 2
    end = min(len(frame), _MAX_HEADER_SCAN)
    while pos + 4 <= end:
        if frame[pos] != 0xFF:
            return None
        marker = frame[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", frame, pos + 2)
        if marker in _SOF_MARKERS or marker == 0xF7:  # 0xF7 = JPEG-LS SOF55
            if pos + 10 > len(frame):
                return None
            precision, rows, cols, ncomp = struct.unpack_from(">BHHB", frame, pos + 4)
            return CodestreamInfo(rows, cols, ncomp, precision, False)
        if marker == 0xDA or length < 2:  # start of scan before any SOF: malformed
            return None
        pos += 2 + length
    return None


def j2k_info(frame: bytes | memoryview) -> CodestreamInfo | None:
    """Parse the SIZ segment of a JPEG 2000 / HTJ2K codestream (raw or JP2-wrapped)."""
    start = bytes(frame[:4096]).find(b"\xff\x4f\xff\x51")
    if start < 0 or start + 42 > len(frame):
        return None
    pos = start + 4
    (_lsiz, _rsiz, xsiz, ysiz, xosiz, yosiz) = struct.unpack_from(">HHIIII", frame, pos)
    (ncomp,) = struct.unpack_from(">H", frame, pos + 36)
    if ncomp < 1 or pos + 38 + 3 > len(frame):
        return None
    ssiz = frame[pos + 38]
    rows, cols = ysiz - yosiz, xsiz - xosiz
    if rows <= 0 or cols <= 0:
        return None
    return CodestreamInfo(rows, cols, ncomp, (ssiz & 0x7F) + 1, bool(ssiz & 0x80))

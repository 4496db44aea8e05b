"""Recognise a file's format from its first bytes (never from its name)."""

from __future__ import annotations

import struct

# How many leading bytes `sniff` needs: the 128-byte preamble plus 'DICM'.
HEAD_BYTES = 132

# First groups a DICOM stream without preamble can start with: file meta (0002) or,
# for the old ACR-NEMA-style files without meta, the identifying group (0008).
_DICOM_FIRST_GROUPS = (0x0002, 0x0008)


def sniff(head: bytes) -> str | None:
    """Return 'dicom', 'png', 'tiff' or None for the first ``HEAD_BYTES`` of a file."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if len(head) >= 8:
        for order in "<>":  # little- or (rare, retired) big-endian without file meta
            group, element = struct.unpack_from(f"{order}HH", head, 0)
            if group in _DICOM_FIRST_GROUPS and element <= 0x0100:
                return "dicom"
    return None

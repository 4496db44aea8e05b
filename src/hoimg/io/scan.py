"""List a folder's DICOM files from their headers alone.

``scan`` walks the tree once with :func:`os.scandir`, sorts the relative paths once, then
reads only the first bytes of each file: a 132-byte sniff rejects non-DICOM files, and a
header parse of a 64 KiB prefix (``stop_before_pixels``) gives the image's size, modality
and syntax. Work is linear in the number of files, so folders of tens of thousands of
files are fine.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import HoimgError, InvalidInputError, NotDicomError
from ..radiograph import pseudonymous_id
from ._sniff import HEAD_BYTES, sniff

# Headers of radiographs are a few KiB; a larger header is re-read in full.
_PREFIX_BYTES = 64 * 1024
_NOT_DICOM = "no 'DICM' marker at byte 128, no leading DICOM group"


@dataclass(frozen=True)
class ScanRecord:
    """One file found by :func:`scan`.

    Attributes
    ----------
    path : str
        Relative to the scanned root, with '/' separators.
    status : str
        'dicom' (load it) or 'skipped' (not DICOM, or a DICOM object without an image).
    reason : str
        Why it was skipped; for 'dicom', non-empty when the header already looks damaged
        (loading it will then raise the precise error).
    image_id, modality, transfer_syntax : str
        From the header ('' when unknown). ``image_id`` matches what ``load`` assigns to a
        single-frame file.
    rows, cols : int
        Declared image size (0 when unknown).
    """

    path: str
    status: str
    reason: str = ""
    image_id: str = ""
    modality: str = ""
    rows: int = 0
    cols: int = 0
    transfer_syntax: str = ""


def _walk(root: str, recursive: bool) -> list[str]:
    """Relative '/'-separated paths of all regular files under ``root``."""
    found: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = os.scandir(os.path.join(root, rel_dir) if rel_dir else root)
        except OSError:
            continue  # unreadable folder: nothing to list
        with entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if recursive:
                            stack.append(rel)
                    elif entry.is_file():
                        found.append(rel)
                except OSError:
                    continue
    found.sort()
    return found


def read_header(path: str | os.PathLike):
    """Parse the header of a DICOM file (no pixel data) into a pydicom Dataset.

    Raises
    ------
    hoimg.errors.NotDicomError, hoimg.errors.CorruptFileError, hoimg.errors.InvalidInputError
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            prefix = fh.read(_PREFIX_BYTES)
            if sniff(prefix[:HEAD_BYTES]) != "dicom":
                raise NotDicomError(
                    "not DICOM (no 'DICM' marker at byte 128, no leading DICOM group)", path=path
                )
            return _header(prefix, fh, path)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the file ({exc.strerror or exc})", path=path
        ) from None


def _header(prefix: bytes, fh: BinaryIO, path: str):
    """The header from a prefix of the file, re-reading it whole only when needed."""
    from .header import parse

    ds = _parse_prefix(prefix, path)
    if ds is None:
        fh.seek(0)
        ds = parse(fh.read(), path, stop_before_pixels=True)
    return ds


def _parse_prefix(prefix: bytes, path: str):
    """Parse a header prefix; None when the header runs past it (caller reads it all)."""
    from pydicom import dcmread

    from .header import _ensure_transfer_syntax, parse

    fp = io.BytesIO(prefix)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(fp, force=True, stop_before_pixels=True)
    except Exception:
        if len(prefix) == _PREFIX_BYTES:
            return None
        return parse(prefix, path, stop_before_pixels=True)  # raises the precise error
    if len(prefix) == _PREFIX_BYTES and fp.tell() >= _PREFIX_BYTES - 16:
        return None  # the header did not end inside the prefix
    if len(ds) == 0:
        return parse(prefix, path, stop_before_pixels=True)  # raises CorruptFileError
    _ensure_transfer_syntax(ds)
    return ds


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword, "")
    return str(value or "").strip()


def _record(root: str, rel: str) -> ScanRecord:
    from .header import _NON_IMAGE_MODALITIES, check_is_image

    full = os.path.join(root, *rel.split("/"))
    try:
        with open(full, "rb") as fh:
            prefix = fh.read(_PREFIX_BYTES)
            kind = sniff(prefix[:HEAD_BYTES])
            if kind != "dicom":
                what = f"a {kind.upper()} image" if kind else _NOT_DICOM
                return ScanRecord(rel, "skipped", f"not DICOM ({what})")
            try:
                ds = _header(prefix, fh, full)
                ts = str(ds.file_meta.get("TransferSyntaxUID", ""))
                modality, uid = _text(ds, "Modality"), _text(ds, "SOPInstanceUID")
                rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
            except HoimgError as exc:
                return ScanRecord(rel, "dicom", exc.reason)
            except Exception as exc:  # a value pydicom cannot convert: load() will say which
                return ScanRecord(rel, "dicom", f"damaged header ({type(exc).__name__})")
            if uid:
                image_id = pseudonymous_id(uid)
            else:  # as load() does: a hash of the file bytes
                fh.seek(0)
                image_id = pseudonymous_id(fh.read())
    except OSError as exc:
        return ScanRecord(rel, "skipped", f"cannot read ({exc.strerror or exc})")
    base = dict(image_id=image_id, modality=modality, rows=rows, cols=cols, transfer_syntax=ts)
    if modality.upper() in _NON_IMAGE_MODALITIES:
        return ScanRecord(rel, "skipped", f"not an image (modality {modality})", **base)
    if rows <= 0 or cols <= 0:
        return ScanRecord(
            rel, "skipped", "no image: (0028,0010) Rows / (0028,0011) Columns missing", **base
        )
    try:
        # header-only read: assume the Pixel Data it stopped before is there
        check_is_image(ds, rel, has_pixels=True)
    except HoimgError as exc:
        return ScanRecord(rel, "skipped", exc.reason, **base)
    return ScanRecord(rel, "dicom", "", **base)


def scan(root: str | os.PathLike, *, recursive: bool = True) -> Iterator[ScanRecord]:
    """Yield one :class:`ScanRecord` per file under ``root``, sorted by relative path.

    Parameters
    ----------
    root : str or os.PathLike
        A folder.
    recursive : bool
        Descend into sub-folders (symlinked folders are not followed, so no loops).

    Raises
    ------
    InvalidInputError
        If ``root`` is not a folder.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise InvalidInputError(
            "is not a folder; pass a folder to scan, or load() a file", path=root
        )
    for rel in _walk(root, recursive):
        yield _record(root, rel)

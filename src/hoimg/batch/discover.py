"""Turn the command line's INPUT paths into the list of files a batch will account for.

Every file found becomes exactly one row of ``images.csv``: a :class:`InputFile` to analyse,
or a skipped row for a non-DICOM file met while walking a folder. A file named explicitly
is always analysed, so a non-DICOM file given by name becomes an error row instead.

The ``file`` label of a row is the path relative to the input root it was found under and
is never expanded to an absolute path (absolute paths carry folder names, and folder names
in clinical exports are often patient names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import InvalidInputError

__all__ = ["InputFile", "SkippedFile", "discover"]

# Bytes 128-131 of a DICOM Part 10 file; files without a preamble are still accepted when
# they start with a group 0x0008 tag (the old ACR-NEMA style "raw" data sets).
_DICM_OFFSET = 128
_RAW_GROUP_PREFIXES = (b"\x08\x00", b"\x02\x00")


@dataclass(frozen=True)
class InputFile:
    """One file to analyse.

    Attributes
    ----------
    path : str
        Where to open it (the input as given joined with the relative path).
    file : str
        The ``file`` cell: relative to the input root, with ``/`` separators.
    explicit : bool
        True when the file was named on the command line rather than found in a folder.
    """

    path: str
    file: str
    explicit: bool = False

    def fingerprint(self) -> tuple[int, int]:
        """(size, mtime_ns): a resumed run re-analyses a file whose fingerprint changed."""
        st = os.stat(self.path)
        return int(st.st_size), int(st.st_mtime_ns)


@dataclass(frozen=True)
class SkippedFile:
    """A file met while walking a folder that is not DICOM (a skipped row)."""

    file: str
    reason: str


def _label(path: str) -> str:
    """The path as given, made relative and '/'-separated; absolute paths keep the name only."""
    norm = os.path.normpath(path)
    if os.path.isabs(norm):
        norm = os.path.basename(norm)
    return norm.replace(os.sep, "/")


def _sniff_dicom(path: str) -> str | None:
    """Return None when ``path`` looks like DICOM, else the reason it is skipped."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_DICM_OFFSET + 4)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if not head:
        return "empty file"
    if head[_DICM_OFFSET:] == b"DICM":
        return None
    if head[:2] in _RAW_GROUP_PREFIXES:
        return None
    return "not DICOM (no 'DICM' marker at byte 128)"


def _walk(root: str, recursive: bool) -> list[str]:
    """Relative paths ('/'-separated) of the regular files under ``root``, sorted."""
    found = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                rel = name if rel_dir == "." else os.path.join(rel_dir, name)
                if os.path.isfile(os.path.join(root, rel)):
                    found.append(rel.replace(os.sep, "/"))
    else:
        with os.scandir(root) as it:
            for entry in it:
                if entry.is_file():
                    found.append(entry.name)
    return sorted(found)


def _scan_folder(root: str, recursive: bool) -> list[tuple[str, str | None]]:
    """(relative path, skip reason or None) for every file under ``root``.

    Uses :func:`hoimg.io.scan` when the loader provides it, so the batch and the loader
    agree on what counts as DICOM; falls back to a preamble sniff otherwise.
    """
    try:
        from ..io import scan  # type: ignore[attr-defined]
    except ImportError:
        scan = None
    if scan is not None:
        out = []
        for rec in scan(root, recursive=recursive):
            rel = os.fspath(rec.path).replace(os.sep, "/")
            out.append((rel, None if rec.status == "dicom" else (rec.reason or "not DICOM")))
        return sorted(out)
    return [(rel, _sniff_dicom(os.path.join(root, rel))) for rel in _walk(root, recursive)]


def _suffix_labels(real_paths: list[str]) -> dict[str, str]:
    """Shortest trailing path parts that tell ``real_paths`` apart (relative, '/'-joined)."""
    parts = {p: p.strip(os.sep).split(os.sep) for p in set(real_paths)}
    labels: dict[str, str] = {}
    for k in range(1, max((len(v) for v in parts.values()), default=0) + 1):
        pending = [p for p in parts if p not in labels]
        if not pending:
            break
        tails = {p: "/".join(parts[p][-k:]) for p in parts}
        for p in pending:
            if sum(t == tails[p] for t in tails.values()) == 1 or k >= len(parts[p]):
                labels[p] = tails[p]
    return labels


def discover(
    inputs: list[str], *, recursive: bool = False, exclude: str | None = None
) -> tuple[list[InputFile], list[SkippedFile]]:
    """Expand INPUT paths into files to analyse and files skipped.

    Parameters
    ----------
    inputs : list of str
        Files and/or folders, as given on the command line.
    recursive : bool
        Descend into sub-folders of folder inputs.
    exclude : str, optional
        A folder whose files are ignored: the batch's own ``--out`` when it lies inside an
        input, so earlier results are not listed as inputs.

    Returns
    -------
    files : list of InputFile
        Sorted by ``file``; a file reached twice (say, a folder and by name) appears once.
    skipped : list of SkippedFile
        Non-DICOM files found in folders.

    Raises
    ------
    InvalidInputError
        If an input does not exist (a usage error: nothing is analysed).
    """
    # (root label, relative path, path to open, named explicitly?, skip reason)
    entries: list[tuple[str, str, str, bool, str | None]] = []
    for given in inputs:
        if os.path.isdir(given):
            root_label = _label(given)
            for rel, skip in _scan_folder(given, recursive):
                entries.append((root_label, rel, os.path.join(given, rel), False, skip))
        elif os.path.exists(given):
            entries.append(("", _label(given), given, True, None))
        else:
            raise InvalidInputError("input does not exist; check the path", path=given)

    # Two folder inputs may both hold "a.dcm": prefix colliding labels with their root so
    # every row stays distinguishable (and the labels do not depend on walk order).
    counts: dict[str, int] = {}
    for _, rel, _, _, _ in entries:
        counts[rel] = counts.get(rel, 0) + 1
    # Files named explicitly carry no root: colliding names keep as many parent folders as
    # it takes to tell them apart ("a/x.dcm", "b/x.dcm"), never an absolute path.
    explicit_labels = _suffix_labels(
        [os.path.realpath(p) for _, rel, p, explicit, _ in entries if explicit and counts[rel] > 1]
    )
    excluded = None if exclude is None else os.path.realpath(exclude) + os.sep
    seen: set[str] = set()
    files: dict[str, InputFile] = {}
    skipped: dict[str, SkippedFile] = {}
    for root_label, rel, path, explicit, skip in entries:
        real = os.path.realpath(path)
        if real in seen or (excluded is not None and real.startswith(excluded)):
            continue
        seen.add(real)
        label = rel
        if counts[rel] > 1 and root_label and root_label != ".":
            label = f"{root_label}/{rel}"
        elif counts[rel] > 1 and explicit:
            label = explicit_labels[real]
        if skip is None:
            files[label] = InputFile(path=path, file=label, explicit=explicit)
        else:
            skipped[label] = SkippedFile(file=label, reason=skip)
    return [files[k] for k in sorted(files)], [skipped[k] for k in sorted(skipped)]

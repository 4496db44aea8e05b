"""The run journal: one JSON line per finished image, appended and fsynced as it arrives.

The journal, not the tables, is the durable record of a batch. Each line is written with a
single ``write`` and ``fsync``-ed before the next image is recorded, so ``kill -9`` loses
at most the images still in flight; a line cut short by the kill is ignored when read
back. The final tables are rebuilt from the journal (see :mod:`hoimg.batch.outputs`), and
``--resume`` reads it to skip images already done under the same key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["JOURNAL_NAME", "Journal", "JournalIndex", "read_index"]

JOURNAL_NAME = os.path.join(".hoimg", "journal.jsonl")


def _dumps(entry: dict[str, Any]) -> bytes:
    # NaN is kept as the non-standard token NaN: the journal is read back only by hoimg.
    return json.dumps(entry, separators=(",", ":"), allow_nan=True).encode() + b"\n"


class Journal:
    """Append-only journal of one output folder.

    Parameters
    ----------
    out_dir : str
        The batch's ``--out`` folder; the journal lives in ``<out>/.hoimg/``.
    fresh : bool
        Start an empty journal (a run without ``--resume``) instead of appending.
    """

    def __init__(self, out_dir: str, *, fresh: bool) -> None:
        self.path = os.path.join(out_dir, JOURNAL_NAME)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if fresh and os.path.exists(self.path):
            os.unlink(self.path)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        # A kill mid-write can leave a last line without its newline; start a new line so
        # the next entry does not get glued onto the fragment.
        if self._fh.tell() > 0:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    self._fh.write(b"\n")

    def append(self, entry: dict[str, Any]) -> None:
        """Write one entry durably (one write, flush, fsync)."""
        self._fh.write(_dumps(entry))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class _Ref:
    offset: int
    length: int
    status: str
    key: dict[str, Any]
    overlay: bool
    image_id: str


class JournalIndex:
    """Where the latest entry of each file sits in the journal, without holding the entries.

    Memory is a few small fields per image, so a rebuild of the tables streams even for
    archives far larger than RAM.
    """

    def __init__(self, path: str, refs: dict[str, _Ref]) -> None:
        self.path = path
        self._refs = refs

    def __contains__(self, file: str) -> bool:
        return file in self._refs

    def __len__(self) -> int:
        return len(self._refs)

    def get(self, file: str) -> _Ref | None:
        return self._refs.get(file)

    def entries(self, files: list[str]) -> Iterator[dict[str, Any]]:
        """Yield the full entries of ``files`` (in that order) that the journal holds."""
        with open(self.path, "rb") as fh:
            for file in files:
                ref = self._refs.get(file)
                if ref is None:
                    continue
                fh.seek(ref.offset)
                yield json.loads(fh.read(ref.length))


def read_index(path: str) -> JournalIndex:
    """Index the journal at ``path`` (an absent journal gives an empty index).

    Lines that do not parse (the fragment a kill leaves behind) are ignored; a later entry
    of a file supersedes an earlier one.
    """
    refs: dict[str, _Ref] = {}
    if not os.path.exists(path):
        return JournalIndex(path, refs)
    offset = 0
    with open(path, "rb") as fh:
        for line in fh:
            length = len(line)
            if line.endswith(b"\n"):
                try:
                    entry = json.loads(line)
                    refs[entry["file"]] = _Ref(
                        offset,
                        length,
                        entry["status"],
                        entry.get("key", {}),
                        bool(entry.get("overlay")),
                        entry.get("image", {}).get("image_id", ""),
                    )
                except (ValueError, KeyError, TypeError, AttributeError):
                    pass
            offset += length
    return JournalIndex(path, refs)

"""Write the batch tables (images and lesions) from the journal, atomically.

Tables are written to a temporary file in the output folder and moved into place with
``os.replace``, so a reader (or a kill) never sees half a table. Rows stream through in
chunks, sorted by ``file`` then ``lesion_id``: the same inputs give the same bytes at any
worker count and with either scheduler. ``images.*`` carries the per-image ``seconds``,
which naturally differs between runs; every other cell is deterministic.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMATS", "table_paths", "write_tables", "atomic_write_text"]

FORMATS = ("csv", "parquet", "jsonl")
# A jsonl lesion row's ``profile``: the radial profile and the shape index that decided its
# zonal pattern (journals written before it was recorded give None).
PROFILE_KEYS = ("s", "values", "counts", "shape_index")
_CHUNK_ROWS = 5000


def table_paths(out_dir: str, fmt: str) -> dict[str, str]:
    """``{"images": path, "lesions": path}`` for format ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return {name: os.path.join(out_dir, f"{name}.{fmt}") for name in ("images", "lesions")}


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


class _TableWriter:
    """Streams chunks of records into one table file of one format."""

    def __init__(self, path: str, fmt: str, schema) -> None:
        self.path, self.fmt, self.schema = path, fmt, schema
        self.tmp = f"{path}.tmp-{os.getpid()}"
        self._buf: list[dict[str, Any]] = []
        self._fh = None
        self._pq = None
        self._header_done = False

    def add(self, record: dict[str, Any]) -> None:
        self._buf.append(record)
        if len(self._buf) >= _CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        from ..report.tables import to_frame

        if self.fmt == "jsonl":
            if self._fh is None:
                self._fh = open(self.tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            for rec in self._buf:
                self._fh.write(json.dumps(_json_safe(rec), allow_nan=False) + "\n")
        elif self.fmt == "csv":
            if self._fh is None:
                self._fh = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
            if self._buf or not self._header_done:
                frame = to_frame(self._buf, self.schema)
                frame.to_csv(self._fh, header=not self._header_done, index=False,
                             lineterminator="\n")
                self._header_done = True
        else:  # parquet
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._pq is None:
                empty = to_frame([], self.schema)
                self._arrow_schema = pa.Schema.from_pandas(empty, preserve_index=False)
                self._pq = pq.ParquetWriter(self.tmp, self._arrow_schema)
            if self._buf:
                frame = to_frame(self._buf, self.schema)
                table = pa.Table.from_pandas(frame, schema=self._arrow_schema,
                                             preserve_index=False)
                self._pq.write_table(table)
        self._buf = []

    def close(self) -> None:
        self._flush()
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        elif self.fmt == "jsonl":  # no rows: an empty file still says "nothing found"
            open(self.tmp, "w").close()
        os.replace(self.tmp, self.path)


def write_tables(
    out_dir: str, fmt: str, entries: Iterable[dict[str, Any]]
) -> dict[str, int]:
    """Write ``images.<fmt>`` and ``lesions.<fmt>`` from journal ``entries``.

    Parameters
    ----------
    out_dir : str
        The output folder.
    fmt : {"csv", "parquet", "jsonl"}
        Table format; ``jsonl`` lesion rows also carry the full radial ``profile``.
    entries : iterable of dict
        Journal entries (``image``, ``lesions``, ``profiles``) already sorted by ``file``.

    Returns
    -------
    dict
        Row counts ``{"images": n, "lesions": m}``.
    """
    from ..report.tables import IMAGE_SCHEMA, LESION_SCHEMA

    paths = table_paths(out_dir, fmt)
    images = _TableWriter(paths["images"], fmt, IMAGE_SCHEMA)
    lesions = _TableWriter(paths["lesions"], fmt, LESION_SCHEMA)
    n_images = n_lesions = 0
    try:
        for entry in entries:
            images.add(entry["image"])
            n_images += 1
            profiles = {p["lesion_id"]: p for p in entry.get("profiles") or ()}
            for row in sorted(entry.get("lesions") or (), key=lambda r: r["lesion_id"]):
                if fmt == "jsonl":
                    prof = profiles.get(row["lesion_id"], {})
                    row = {**row, "profile": {k: prof.get(k) for k in PROFILE_KEYS}}
                lesions.add(row)
                n_lesions += 1
        images.close()
        lesions.close()
    finally:
        for w in (images, lesions):
            if os.path.exists(w.tmp):
                os.unlink(w.tmp)
    return {"images": n_images, "lesions": n_lesions}

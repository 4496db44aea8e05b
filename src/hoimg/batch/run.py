"""`run_batch`: analyse many files into one output folder, resumably.

Flow: discover the inputs -> drop what the journal already holds under the same key
(``--resume``) -> analyse the rest in a process pool or on Dask, journaling each image as it
arrives -> rebuild the tables from the journal -> write ``run.json``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import glob
import json
import logging
import math
import os
import platform
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..config import AnalysisConfig
from ..errors import InvalidInputError
from .discover import InputFile, discover
from .journal import JOURNAL_NAME, Journal, read_index
from .outputs import FORMATS, atomic_write_text, write_tables

__all__ = ["BatchSummary", "run_batch", "usable_cores"]

log = logging.getLogger("hoimg.batch")

EXIT_OK, EXIT_PARTIAL = 0, 1

_DEPENDENCIES = ("numpy", "scipy", "scikit-image", "opencv-python-headless", "pydicom",
                 "pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle",
                 "pyjpegls", "imagecodecs", "numba", "pandas", "pyarrow", "matplotlib",
                 "dask", "distributed")


@dataclass
class BatchSummary:
    """What a batch did. ``exit_code`` is 0 when no image failed, else 1."""

    out_dir: str
    ok: int = 0
    error: int = 0
    skipped: int = 0
    resumed: int = 0
    lesions: int = 0
    interrupted: bool = False
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if (self.error or self.interrupted) else EXIT_OK


def usable_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _dependency_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _run_key(config: AnalysisConfig, pixel_spacing_mm: float | None) -> dict[str, Any]:
    """What must match for a journaled result to be reused by ``--resume``."""
    return {"version": __version__, "config_hash": config.hash(),
            "pixel_spacing_mm": pixel_spacing_mm}


def _reusable(ref, key: dict[str, Any], overlays: bool, overlay_dir: str) -> bool:
    if ref is None or ref.status != "ok" or ref.key != key:
        return False
    if overlays and not os.path.exists(os.path.join(overlay_dir, f"{ref.image_id}.png")):
        return False
    return True


def _skipped_entry(file: str, reason: str) -> dict[str, Any]:
    from ..report.tables import image_record

    image = image_record(file, status="skipped", error=reason, seconds=math.nan)
    return {"file": file, "status": "skipped", "image": image, "lesions": [], "profiles": []}


def run_batch(
    inputs: list[str],
    out_dir: str,
    *,
    config: AnalysisConfig | None = None,
    recursive: bool = False,
    workers: int | None = None,
    overlays: bool = True,
    resume: bool = False,
    scheduler: str | None = None,
    fmt: str = "csv",
    timeout_s: float | None = None,
    pixel_spacing_mm: float | None = None,
    progress: str = "auto",
    verbose: bool = False,
    analyzer: str | None = None,
) -> BatchSummary:
    """Analyse every DICOM file under ``inputs`` into tables and overlays in ``out_dir``.

    Parameters
    ----------
    inputs : list of str
        Files and/or folders. Non-DICOM files found in folders are skipped rows; a file
        named explicitly is always analysed (a non-DICOM one becomes an error row).
    out_dir : str
        Output folder (created). Holds ``images.<fmt>``, ``lesions.<fmt>``,
        ``overlays/<image_id>.png``, ``run.json`` and the journal ``.hoimg/``.
    config : AnalysisConfig, optional
        Defaults to ``AnalysisConfig()``.
    recursive : bool
        Descend into sub-folders.
    workers : int, optional
        Worker processes (default: usable cores); with ``scheduler="local"`` the number of
        Dask workers.
    overlays : bool
        Write one overlay PNG per analysed image.
    resume : bool
        Reuse images the journal holds as ``ok`` under the same version, config hash,
        spacing override and file size/mtime; re-run everything else.
    scheduler : str, optional
        None for the process pool, ``"local"`` or ``"tcp://HOST:PORT"`` for Dask.
    fmt : {"csv", "parquet", "jsonl"}
        Table format.
    timeout_s : float, optional
        Per-image time limit.
    pixel_spacing_mm : float, optional
        Spacing assumed for files without one.
    progress : {"auto", "bar", "log", "quiet"}
        Progress display (see :class:`hoimg.batch.progress.Progress`).
    verbose : bool
        Log one line per image.
    analyzer : str, optional
        ``"module:function"`` used instead of :func:`hoimg.pipeline.analyze` (tests).

    Returns
    -------
    BatchSummary

    Raises
    ------
    InvalidInputError
        Usage problems found before any image is analysed: a missing input, an output
        path that is a file, an unknown format, Dask not installed.
    """
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {FORMATS}, got {fmt!r}")
    if workers is not None and workers < 1:
        raise InvalidInputError(f"workers must be >= 1, got {workers}")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InvalidInputError("--out exists and is not a folder", path=out_dir)
    config = config or AnalysisConfig()
    for given in inputs:  # before any worker starts: a typo must fail at once
        if not os.path.exists(given):
            raise InvalidInputError("input does not exist; check the path", path=given)
    if scheduler is not None:
        from .dask_runner import check_scheduler

        check_scheduler(scheduler)  # a missing extra or bad address fails before any work
        pool_or_none = contextlib.nullcontext()
    else:
        from .pool import ProcessPool

        # Workers start (and warm up) while this process scans the inputs.
        pool_or_none = ProcessPool(workers or usable_cores(), warm_up=analyzer is None)
    with pool_or_none as pool:
        return _run(inputs, out_dir, pool, config=config, recursive=recursive,
                    workers=workers, overlays=overlays, resume=resume, scheduler=scheduler,
                    fmt=fmt, timeout_s=timeout_s, pixel_spacing_mm=pixel_spacing_mm,
                    progress=progress, verbose=verbose, analyzer=analyzer)


def _run(inputs, out_dir, pool, *, config, recursive, workers, overlays, resume, scheduler,
         fmt, timeout_s, pixel_spacing_mm, progress, verbose, analyzer) -> BatchSummary:
    files, skipped = discover(list(inputs), recursive=recursive, exclude=out_dir)

    overlay_dir = os.path.join(out_dir, "overlays")
    os.makedirs(overlay_dir if overlays else out_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(overlay_dir, ".tmp-*")):  # left by a killed run
        os.unlink(stale)

    key = _run_key(config, pixel_spacing_mm)
    index = read_index(os.path.join(out_dir, JOURNAL_NAME)) if resume else None
    todo: list[InputFile] = []
    keys: dict[str, dict[str, Any]] = {}
    summary = BatchSummary(out_dir=out_dir, skipped=len(skipped))
    for item in files:
        try:
            size, mtime_ns = item.fingerprint()
        except OSError:
            size = mtime_ns = -1
        keys[item.file] = dict(key, size=size, mtime_ns=mtime_ns)
        if index is not None and _reusable(index.get(item.file), keys[item.file], overlays,
                                           overlay_dir):
            summary.resumed += 1
        else:
            todo.append(item)

    started = _utc_now()
    run_info = {
        "hoimg_version": __version__,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "pixel_spacing_mm": pixel_spacing_mm,
        "dependencies": _dependency_versions(),
        "scheduler": scheduler or "processes",
        # a remote cluster's size is the cluster's business; "local" defaults to 2 workers
        "workers": workers if scheduler and scheduler != "local" else (
            workers or (2 if scheduler else usable_cores())),
        "format": fmt,
        "timeout_s": timeout_s,
        "overlays": overlays,
        "resume": resume,
        "start": started,
        "end": None,
        "status": "running",
    }
    atomic_write_text(os.path.join(out_dir, "run.json"), json.dumps(run_info, indent=2) + "\n")

    from .progress import Progress

    prog = Progress(len(todo), skipped=len(skipped), resumed=summary.resumed,
                    mode="quiet" if progress == "quiet" else progress, verbose=verbose)
    tasks = _tasks(todo, config, pixel_spacing_mm, overlay_dir if overlays else None, analyzer)
    journal = Journal(out_dir, fresh=not resume)
    # The parent mostly waits while workers run: import the table writers meanwhile, so
    # the final table rebuild does not add their import time to the wall clock.
    threading.Thread(target=_preimport_table_writers, args=(fmt,), daemon=True).start()
    try:
        for entry in _execute(tasks, len(todo), pool, scheduler, workers, timeout_s,
                              warm_up=analyzer is None):
            entry["key"] = keys[entry["file"]]
            entry["overlay"] = overlays and entry["status"] == "ok"
            journal.append(entry)
            img = entry["image"]
            prog.update(entry["file"], entry["status"], img.get("seconds", math.nan),
                        img.get("error", ""))
    except KeyboardInterrupt:
        summary.interrupted = True
        log.error("interrupted: tables hold the images finished so far; "
                  "run again with --resume to finish")
    finally:
        journal.close()
        prog.close()

    summary = _finish(summary, out_dir, fmt, files, skipped, run_info)
    return summary


def _preimport_table_writers(fmt: str) -> None:
    try:
        import pandas  # noqa: F401

        if fmt == "parquet":
            import pyarrow.parquet  # noqa: F401
    except ImportError:  # reported properly when the tables are written
        pass


def _tasks(todo, config, pixel_spacing_mm, overlay_dir, analyzer) -> Iterator[dict[str, Any]]:
    config_json = config.to_json()
    for item in todo:
        yield {"path": item.path, "file": item.file, "config": config_json,
               "pixel_spacing_mm": pixel_spacing_mm, "overlay_dir": overlay_dir,
               "analyzer": analyzer}


def _execute(tasks, n_tasks, pool, scheduler, workers, timeout_s, *, warm_up: bool):
    if n_tasks == 0:
        return iter(())
    if pool is not None:
        return pool.run(tasks, timeout_s=timeout_s)
    from .dask_runner import run_dask

    return run_dask(tasks, address=scheduler, workers=workers, timeout_s=timeout_s,
                    warm_up=warm_up)


def _finish(summary, out_dir, fmt, files, skipped, run_info) -> BatchSummary:
    """Rebuild the tables from the journal and close run.json."""
    index = read_index(os.path.join(out_dir, JOURNAL_NAME))
    skipped_by_file = {s.file: s.reason for s in skipped}
    analysed = {f.file for f in files}
    order = sorted(analysed | set(skipped_by_file))
    counts = {"ok": 0, "error": 0, "skipped": 0, "not_run": 0}

    def entries() -> Iterator[dict[str, Any]]:
        journaled = index.entries([f for f in order if f in analysed])
        nxt = next(journaled, None)
        for file in order:
            if file in skipped_by_file:
                counts["skipped"] += 1
                yield _skipped_entry(file, skipped_by_file[file])
            elif nxt is not None and nxt["file"] == file:
                counts[nxt["status"]] += 1
                yield nxt
                nxt = next(journaled, None)
            else:
                counts["not_run"] += 1  # interrupted before this image finished

    rows = write_tables(out_dir, fmt, entries())
    summary.ok, summary.error, summary.lesions = counts["ok"], counts["error"], rows["lesions"]
    run_info.update(
        end=_utc_now(),
        status="interrupted" if summary.interrupted else "complete",
        counts={**counts, "resumed": summary.resumed, "lesions": rows["lesions"]},
    )
    atomic_write_text(os.path.join(out_dir, "run.json"), json.dumps(run_info, indent=2) + "\n")
    return summary

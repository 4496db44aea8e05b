"""Analyse one image inside a worker process and return its table rows.

The same :func:`analyze_task` runs in the process pool and on Dask workers. It never
raises for a bad image: every failure becomes an ``error`` row with a one-line message.

Threads are pinned to one per worker *before* NumPy/Numba/OpenCV are imported: N workers
each starting N Numba or BLAS threads on N cores would oversubscribe the machine, and the
batch gets its parallelism from processes instead.
"""

from __future__ import annotations

import importlib
import math
import os
import time
from typing import Any

__all__ = ["THREAD_ENV", "DEFAULT_ANALYZER", "init_worker", "analyze_task"]

# Read by numba / OpenMP / MKL / OpenBLAS / numexpr when they are first imported.
THREAD_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

DEFAULT_ANALYZER = "hoimg.pipeline:analyze"

_initialised = False


def init_worker() -> None:
    """Pin numeric libraries to one thread in this process (idempotent).

    Must run before the first import of numba; the pool calls it first thing in every
    worker, and :func:`analyze_task` calls it too so that Dask workers get it as well.
    """
    global _initialised
    if _initialised:
        return
    _initialised = True
    os.environ.update(THREAD_ENV)
    try:  # OpenCV keeps its own thread pool, not governed by the variables above
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - cv2 is a dependency; stay usable without it
        pass


def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _one_line_error(exc: BaseException, task: dict[str, Any]) -> str:
    """An actionable one-line message without the opened path (``file`` names the row)."""
    from ..errors import HoimgError

    if isinstance(exc, HoimgError):
        text = exc.reason
    elif isinstance(exc, MemoryError):
        text = "out of memory while analysing this image; run with fewer --workers"
    else:
        text = (
            f"unexpected {type(exc).__name__}: {exc} "
            "(a hoimg bug; please report it with this row's file and image_id)"
        )
    text = text.replace(task["path"], task["file"])
    return " ".join(text.split())


def _profile_dict(lesion) -> dict[str, Any]:
    from ..pipeline import profile_record

    return {"lesion_id": int(lesion.id), **profile_record(getattr(lesion, "profile", None))}


def analyze_task(task: dict[str, Any]) -> dict[str, Any]:
    """Analyse one file and return its journal entry.

    Parameters
    ----------
    task : dict
        ``path`` (to open), ``file`` (row label), ``config`` (AnalysisConfig JSON),
        ``pixel_spacing_mm`` (float or None), ``overlay_dir`` (str or None: where to write
        ``<image_id>.png``) and optionally ``return_overlay`` (bool: return the PNG bytes
        instead, as ``overlay_png``) and ``analyzer`` ("module:function", default
        :data:`DEFAULT_ANALYZER`).

    Returns
    -------
    dict
        ``file``, ``status`` ("ok" or "error"), ``image`` (the images.csv row),
        ``lesions`` (lesions.csv rows) and ``profiles`` (radial profiles per lesion).
    """
    init_worker()
    start = time.perf_counter()
    file = task["file"]
    try:
        from ..config import AnalysisConfig
        from ..report.tables import image_record, lesion_records

        analyze = _resolve(task.get("analyzer") or DEFAULT_ANALYZER)
        config = AnalysisConfig.from_json(task["config"])
        source, spacing = task["path"], task.get("pixel_spacing_mm")
        if spacing is not None:
            # --pixel-spacing-mm is for files *without* a spacing: load once, and override
            # only when the header gave none (analyze() itself would override every file).
            from ..io import load

            source = load(source, config=config)
            if source.has_spacing:
                spacing = None
        analysis = analyze(source, pixel_spacing_mm=spacing, config=config)
        lesions = lesion_records(analysis, file=file)
        profiles = [_profile_dict(les) for les in analysis.lesions]
        png = None
        if task.get("overlay_dir") or task.get("return_overlay"):
            png = analysis.overlay_png()  # rendered once, in memory
        if task.get("overlay_dir"):
            from ..report.overlay import write_png_atomic

            write_png_atomic(png, os.path.join(task["overlay_dir"], f"{analysis.image.image_id}.png"))
            png = None
        seconds = round(time.perf_counter() - start, 3)
        image = image_record(
            file, status="ok", image=analysis.image, n_lesions=len(lesions), seconds=seconds
        )
        entry = {"file": file, "status": "ok", "image": image, "lesions": lesions,
                 "profiles": profiles}
        if png is not None:
            entry["overlay_png"] = png
        return entry
    except Exception as exc:  # one image's trouble is a row, never a stopped batch
        return error_entry(file, _one_line_error(exc, task), time.perf_counter() - start)


def error_entry(file: str, message: str, seconds: float = math.nan) -> dict[str, Any]:
    """The journal entry of a failed image (also used for timeouts and crashed workers)."""
    from ..report.tables import image_record

    seconds = round(seconds, 3) if math.isfinite(seconds) else math.nan
    image = image_record(file, status="error", error=message, seconds=seconds)
    return {"file": file, "status": "error", "image": image, "lesions": [], "profiles": []}


def _warm_up() -> None:
    """Analyse one small phantom radiograph, read back from a DICOM file.

    This imports the pipeline, loads its Numba kernels from the cache and runs every
    stage's first-call set-up (decoder, segmentation, profiles, classifier) before the
    worker reports ready: the per-image timeout never pays for start-up, and the first
    real image is not a second slower than the rest. Best effort: any failure is left for
    the real images to report.
    """
    import tempfile
    import warnings

    from ..phantom import generate

    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="hoimg-warm-") as tmp:
        warnings.simplefilter("ignore")
        # A healed HO lesion beside a bone, small enough to cost well under a second.
        ph = generate(0, 0, rows=600, cols=500, kind="ho", noise=False)
        path = os.path.join(tmp, "warm-up.dcm")
        ph.save(path)
        _resolve(DEFAULT_ANALYZER)(path)


# A warm-up that takes longer than this is abandoned (a pipeline bug must not keep every
# worker from starting); the real images then report whatever is wrong. On a cold Numba
# cache the warm-up compiles every kernel: about a minute of one core here, and more when
# the cores are shared (a 60 s limit was seen to fire). An abandoned compile is not
# resumed but restarted by the first image, so the limit is set well above it.
_WARM_UP_LIMIT_S = 600


def _bounded_warm_up() -> None:
    """:func:`_warm_up`, abandoned after ``_WARM_UP_LIMIT_S`` (SIGALRM: worker main thread)."""
    import signal

    def _give_up(signum, frame):
        raise TimeoutError("warm-up took too long")

    previous = signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(_WARM_UP_LIMIT_S)
    try:
        _warm_up()
    except Exception:  # noqa: S110 - reported per image by analyze_task instead
        pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def warm_up_worker() -> bool:
    """Pin threads and run :func:`_warm_up` in this process; True when the warm-up worked.

    Dask workers get this through ``Client.run`` before any image is submitted.
    """
    init_worker()
    try:
        _warm_up()
    except Exception:
        return False
    return True


def serve(conn, warm_up: bool = True) -> None:
    """Worker-process main loop of the process pool: receive tasks, send entries back.

    With ``warm_up`` the worker first analyses a synthetic image (:func:`_warm_up`), so
    start-up costs are paid before it reports ready and the timeout clock starts.
    """
    import signal

    # Ctrl-C reaches the whole process group; the parent decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker()
    if warm_up:
        _bounded_warm_up()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except EOFError:  # parent went away
            return
        if task is None:
            return
        conn.send(("done", analyze_task(task)))

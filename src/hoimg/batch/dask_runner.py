"""Run a batch on ``dask.distributed``: a local cluster or an existing scheduler.

The tasks are the same :func:`hoimg.batch.worker.analyze_task` calls as in the process
pool and the journal entries come back to this process, which writes every output, so the
tables are identical to process-pool mode. Overlays come back as PNG bytes and are written
here too. Workers read the input files themselves: every worker must see the inputs under
the same absolute paths as the machine that runs ``hoimg analyze`` (a shared file system);
the ``--out`` folder need not be shared.

Install with ``pip install hoimg[dask]``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import InvalidInputError
from . import worker as _worker

__all__ = ["run_dask", "check_scheduler"]

_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")

log = logging.getLogger("hoimg.batch")


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise InvalidInputError(
            "--scheduler needs dask.distributed, which is not installed; "
            "run: pip install 'hoimg[dask]'"
        ) from exc
    return distributed


def check_scheduler(address: str) -> None:
    """Raise :class:`InvalidInputError` (a usage error) for a bad ``--scheduler`` value or a
    missing ``dask.distributed``, before any image is analysed."""
    _import_distributed()
    if address != "local" and not address.startswith(_SCHEMES):
        raise InvalidInputError(
            f"--scheduler must be 'local' or an address like tcp://HOST:8786, got {address!r}"
        )
    if address.startswith("tcp://"):
        _probe_tcp(address)


def _probe_tcp(address: str, timeout_s: float = 5.0) -> None:
    """Refuse an address nothing listens on, before the output folder is touched."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise InvalidInputError(f"--scheduler {address!r} needs a host and a port, e.g. tcp://HOST:8786")
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise InvalidInputError(
            f"--scheduler {address}: no Dask scheduler answers ({exc.strerror or exc}); start one "
            "with `dask scheduler` or check the address"
        ) from exc


def _connect(address: str, workers: int | None):
    distributed = _import_distributed()
    if address == "local":
        import dask

        # Loopback only: a batch on one machine must not open ports to the network. No
        # dashboard, hence no use for the workers' statistical profiler, which samples
        # every thread's stack 100 times a second. The scheduler still serves its HTTP
        # routes (health, metrics): on a free loopback port, because None would bind
        # :8787 on every interface and clash with any other cluster on the machine.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = distributed.LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                env=dict(_worker.THREAD_ENV),
                silence_logs=logging.ERROR,
            )
        return distributed.Client(cluster), cluster
    check_scheduler(address)
    try:
        client = distributed.Client(address, timeout="30s")
    except OSError as exc:
        raise InvalidInputError(
            f"cannot reach the Dask scheduler at {address}: {exc}; "
            "is `dask scheduler` running there?"
        ) from exc
    return client, None


def _worker_hoimg_version() -> str:
    from .. import __version__

    return __version__


def _check_workers(client) -> None:
    """Fail early, with a usage error, when the cluster cannot run this hoimg."""
    from .. import __version__

    try:
        client.wait_for_workers(1, timeout=60)
    except TimeoutError as exc:
        raise InvalidInputError(
            "the Dask cluster has no workers; start some with `dask worker ADDRESS`"
        ) from exc
    try:
        versions = client.run(_worker_hoimg_version)
    except Exception as exc:
        raise InvalidInputError(
            f"cannot run hoimg on the Dask workers ({type(exc).__name__}: {exc}); install "
            f"hoimg {__version__} in every worker's environment"
        ) from exc
    wrong = {addr: v for addr, v in versions.items() if v != __version__}
    if wrong:
        raise InvalidInputError(
            f"Dask workers run other hoimg versions {sorted(set(wrong.values()))}, this is "
            f"{__version__}; results would mix versions, so install {__version__} on them"
        )


def _failure_message(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return ("the Dask workers analysing this image died repeatedly (a crash in a decoder "
                "or kernel, or out of memory); retry it alone")
    return f"Dask task failed: {name}: {' '.join(str(exc).split())}"


def run_dask(
    tasks: Iterable[dict[str, Any]],
    *,
    address: str,
    workers: int | None = None,
    timeout_s: float | None = None,
    warm_up: bool = True,
) -> Iterator[dict[str, Any]]:
    """Analyse ``tasks`` on a Dask cluster, yielding journal entries as they finish.

    Parameters
    ----------
    tasks : iterable of dict
        Task dicts (see :func:`hoimg.batch.worker.analyze_task`); paths are made absolute
        here because workers do not share this process's working directory.
    address : str
        ``"local"`` (a LocalCluster of ``workers`` single-threaded processes on 127.0.0.1)
        or a scheduler address such as ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Workers of a local cluster (default 2); ignored for a remote scheduler.
    timeout_s : float, optional
        Per-image limit. A late image becomes an error row and its task is cancelled; a
        Dask worker thread cannot be interrupted, so it stays busy until the call returns.
    warm_up : bool
        Have every worker analyse a synthetic image first (imports, Numba cache), so the
        timeout clock and the first real images do not pay for start-up.

    Yields
    ------
    dict
        One journal entry per task, in completion order.
    """
    distributed = _import_distributed()
    client, cluster = _connect(address, workers)
    try:
        _check_workers(client)
        if warm_up:
            client.run(_worker.warm_up_worker)
        n_threads = max(1, sum(client.nthreads().values()))
        # With a timeout only as many tasks as threads are submitted, so a task's clock
        # starts when it can start; otherwise a second task per thread hides the latency.
        window = n_threads if timeout_s is not None else 2 * n_threads
        pending = iter(tasks)
        inflight: dict[Any, tuple[dict[str, Any], float]] = {}
        overlay_dirs: dict[str, str | None] = {}

        def submit_more() -> None:
            while len(inflight) < window:
                task = next(pending, None)
                if task is None:
                    return
                overlay_dir = task.get("overlay_dir")
                task = dict(task, path=os.path.abspath(task["path"]), overlay_dir=None,
                            return_overlay=bool(overlay_dir))
                overlay_dirs[task["file"]] = overlay_dir
                # pure=False: a random key, so two runs sharing a cluster never collide
                fut = client.submit(_worker.analyze_task, task, pure=False)
                inflight[fut] = (task, time.monotonic())

        submit_more()
        while inflight:
            wait_s = None
            if timeout_s is not None:
                oldest = min(t0 for _, t0 in inflight.values())
                wait_s = max(0.01, oldest + timeout_s - time.monotonic())
            try:
                done = distributed.wait(list(inflight), timeout=wait_s,
                                        return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            for fut in done:
                task, t0 = inflight.pop(fut)
                overlay_dir = overlay_dirs.pop(task["file"], None)
                if fut.status == "finished":
                    entry = fut.result()
                    png = entry.pop("overlay_png", None)
                    if png is not None and overlay_dir:
                        from ..report.overlay import write_png_atomic

                        write_png_atomic(png, os.path.join(overlay_dir,
                                                           f"{entry['image']['image_id']}.png"))
                    fut.release()
                    yield entry
                else:
                    yield _worker.error_entry(task["file"], _failure_message(fut.exception()),
                                              time.monotonic() - t0)
            if timeout_s is not None:
                now = time.monotonic()
                for fut, (task, t0) in list(inflight.items()):
                    if now - t0 >= timeout_s:
                        inflight.pop(fut)
                        overlay_dirs.pop(task["file"], None)
                        fut.cancel()
                        log.debug("%s: timed out after %.0f s", task["file"], timeout_s)
                        yield _worker.error_entry(
                            task["file"],
                            f"analysis timed out after {timeout_s:g} s (--timeout); "
                            "the image may be unusually large or trigger a hoimg bug",
                            now - t0,
                        )
            submit_more()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

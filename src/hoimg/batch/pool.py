"""A small process pool that survives crashed and hung workers.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: when one of its workers dies the
whole executor is broken and every queued and in-flight future fails with it, and a
running future cannot be cancelled, so a per-image timeout cannot be enforced. Here each
worker holds exactly one task at a time over its own pipe, so the parent always knows which
image a worker held when it died or overran, fails only that image, and starts a fresh
worker in its place.

Workers are started with the ``spawn`` method: forking a process in which a parallel Numba
kernel has run deadlocks the child (GNU OpenMP threading layer, PERF_NOTES.md).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from typing import Any

from . import worker as _worker

__all__ = ["ProcessPool"]

log = logging.getLogger("hoimg.batch")

# A worker that does not finish starting within this time is treated as crashed: longer
# than the warm-up may take (:data:`hoimg.batch.worker._WARM_UP_LIMIT_S`, a cold compile).
_START_TIMEOUT_S = 660.0
# After the last task, how long workers get to exit before they are killed.
_STOP_GRACE_S = 5.0


class _Slot:
    """One worker process, its pipe and the task it holds."""

    def __init__(self, ctx, serve: Callable, warm_up: bool) -> None:
        parent, child = ctx.Pipe(duplex=True)
        # Numeric thread pins must reach the child's environment before it imports NumPy.
        saved = {k: os.environ.get(k) for k in _worker.THREAD_ENV}
        os.environ.update(_worker.THREAD_ENV)
        try:
            self.proc = ctx.Process(target=serve, args=(child, warm_up), daemon=True)
            self.proc.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        child.close()
        self.conn = parent
        self.ready = False
        self.born = time.monotonic()
        self.task: dict[str, Any] | None = None
        self.started = 0.0

    def assign(self, task: dict[str, Any]) -> None:
        self.task = task
        self.started = time.monotonic()
        self.conn.send(task)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=_STOP_GRACE_S)
        if not self.conn.closed:
            self.conn.close()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        import signal

        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class ProcessPool:
    """``workers`` spawned worker processes, started at construction.

    Creating the pool first and discovering the inputs afterwards lets the workers import
    and warm up while the parent scans the folders.

    Parameters
    ----------
    workers : int
        Number of worker processes (>= 1).
    serve : callable
        Worker main loop ``serve(conn, warm_up)``.
    warm_up : bool
        Let each worker analyse a small phantom before its first task (see
        :func:`hoimg.batch.worker.serve`); off when a test analyzer replaces the pipeline.
    """

    def __init__(self, workers: int, *, serve: Callable = _worker.serve,
                 warm_up: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._ctx = mp.get_context("spawn")
        self._serve, self._warm_up = serve, warm_up
        self._slots = [self._new_slot() for _ in range(workers)]

    def _new_slot(self) -> _Slot:
        return _Slot(self._ctx, self._serve, self._warm_up)

    def close(self) -> None:
        """Stop every worker (a worker still analysing is killed after a grace period)."""
        _stop(self._slots)

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, tasks: Iterable[dict[str, Any]], *,
            timeout_s: float | None = None) -> Iterator[dict[str, Any]]:
        """Analyse ``tasks``, yielding journal entries in completion order.

        Parameters
        ----------
        tasks : iterable of dict
            Task dicts for :func:`hoimg.batch.worker.analyze_task`; consumed lazily, so at
            most one task per worker is in flight and memory stays bounded.
        timeout_s : float, optional
            Per-image limit. An image that overruns becomes an error row and its worker is
            killed and replaced.
        """
        slots = self._slots
        pending = iter(tasks)
        exhausted = False
        strikes = 0  # workers lost without holding an image, since the last finished one

        def refill() -> None:
            nonlocal exhausted
            for slot in slots:
                if slot.ready and slot.task is None and not exhausted:
                    task = next(pending, None)
                    if task is None:
                        exhausted = True
                    else:
                        slot.assign(task)

        while True:
            refill()
            if exhausted and not any(s.task is not None for s in slots):
                return
            busy = [s for s in slots if s.task is not None or not s.ready]
            now = time.monotonic()
            deadlines = [s.born + _START_TIMEOUT_S for s in busy if not s.ready]
            if timeout_s is not None:
                deadlines += [s.started + timeout_s for s in busy if s.task is not None]
            wait_s = max(0.0, min(deadlines) - now) if deadlines else None
            handles = [s.conn for s in busy] + [s.proc.sentinel for s in busy]
            ready = set(wait(handles, timeout=wait_s))
            entries = []
            for i, slot in enumerate(slots):
                entry, replace = _poll_slot(slot, ready, timeout_s)
                if entry is not None:
                    entries.append(entry)
                    strikes = 0
                if replace:
                    if entry is None:
                        strikes += 1
                        if strikes > 3 * len(slots):
                            raise RuntimeError(
                                "batch workers keep dying before they take an image; check "
                                "that `python -c 'import hoimg.pipeline'` works, and that a "
                                "script calling run_batch guards it with "
                                "`if __name__ == '__main__':` (workers are spawned, which "
                                "re-imports the main script)"
                            )
                    slot.kill()
                    slots[i] = self._new_slot()
            # Workers get their next image before the caller journals these results, so
            # they never wait on the caller's disk writes.
            refill()
            yield from entries


def _poll_slot(slot: _Slot, ready: set, timeout_s: float | None):
    """Return (entry or None, replace worker?) for one worker after a wait()."""
    now = time.monotonic()
    if slot.conn in ready:
        try:
            kind, payload = slot.conn.recv()
        except (EOFError, OSError):
            kind, payload = "died", None
        if kind == "ready":
            slot.ready = True
            return None, False
        if kind == "done":
            slot.task = None
            return payload, False
    elif slot.proc.sentinel not in ready:
        task = slot.task
        if task is not None and timeout_s is not None and now - slot.started >= timeout_s:
            log.debug("%s: timed out after %.0f s; worker replaced", task["file"], timeout_s)
            entry = _worker.error_entry(
                task["file"],
                f"analysis timed out after {timeout_s:g} s (--timeout); "
                "the image may be unusually large or trigger a hoimg bug",
                now - slot.started,
            )
            return entry, True
        if not slot.ready and now - slot.born >= _START_TIMEOUT_S:
            log.error("a worker did not start within %.0f s; replacing it", _START_TIMEOUT_S)
            return None, True
        return None, False
    # the worker process is gone
    slot.proc.join(timeout=_STOP_GRACE_S)
    how = _describe_exit(slot.proc.exitcode)
    task = slot.task
    if task is None:
        log.error("a worker %s while idle; replacing it", how)
        return None, True
    log.debug("%s: worker %s; image failed, worker replaced", task["file"], how)
    entry = _worker.error_entry(
        task["file"],
        f"the worker analysing this image {how} (a crash in a decoder or kernel, or the "
        "machine ran out of memory); retry it alone or with fewer --workers",
        now - slot.started,
    )
    return entry, True


def _stop(slots: list[_Slot]) -> None:
    """Stop workers: idle ones exit on a None task, still-starting ones hold nothing and
    are killed at once, busy ones (an interrupted run) get a grace period."""
    for slot in slots:
        if not slot.ready:
            slot.kill()
            continue
        try:
            slot.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
    deadline = time.monotonic() + _STOP_GRACE_S
    for slot in slots:
        if slot.proc.exitcode is None:
            slot.proc.join(timeout=max(0.0, deadline - time.monotonic()))
        slot.kill()

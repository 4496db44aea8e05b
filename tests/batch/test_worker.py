"""Worker helpers: thread pins, bounded warm-up, one-line errors without the opened path."""

from __future__ import annotations

import os
import sys
import time
import types

from hoimg.batch import worker
from hoimg.errors import CorruptFileError


def test_init_worker_pins_numeric_threads(monkeypatch):
    calls = []
    fake_cv2 = types.SimpleNamespace(setNumThreads=calls.append)
    monkeypatch.setitem(sys.modules, "cv2", fake_cv2)  # keep this process's OpenCV as is
    monkeypatch.setattr(worker, "_initialised", False)
    for key in worker.THREAD_ENV:
        monkeypatch.setenv(key, "8")
    worker.init_worker()
    assert all(os.environ[k] == "1" for k in worker.THREAD_ENV)
    assert calls == [1]


def test_a_hanging_warm_up_is_abandoned(monkeypatch):
    monkeypatch.setattr(worker, "_WARM_UP_LIMIT_S", 1)
    monkeypatch.setattr(worker, "_warm_up", lambda: time.sleep(30))
    t0 = time.monotonic()
    worker._bounded_warm_up()
    assert time.monotonic() - t0 < 5


def test_the_pool_waits_for_a_warm_up_as_long_as_it_may_take():
    # A worker still warming up (a cold Numba compile) must not be replaced as crashed,
    # and the warm-up limit must leave room for a cold compile on shared cores (~1-2 min).
    from hoimg.batch import pool

    assert worker._WARM_UP_LIMIT_S >= 300
    assert pool._START_TIMEOUT_S > worker._WARM_UP_LIMIT_S


def test_error_message_is_one_line_and_names_the_row_not_the_path():
    task = {"path": "/data/DOE_JANE/img.dcm", "file": "img.dcm"}
    hoimg_err = CorruptFileError("bad\nheader", path=task["path"])
    assert worker._one_line_error(hoimg_err, task) == "bad header"
    other = worker._one_line_error(ValueError(f"cannot open {task['path']}\nat offset 3"), task)
    assert "DOE_JANE" not in other and "\n" not in other
    assert other.startswith("unexpected ValueError: cannot open img.dcm at offset 3")


def test_error_entry_is_an_error_row():
    entry = worker.error_entry("x.dcm", "broken", 1.23456)
    assert entry["status"] == "error" and entry["lesions"] == []
    assert entry["image"]["error"] == "broken" and entry["image"]["seconds"] == 1.235

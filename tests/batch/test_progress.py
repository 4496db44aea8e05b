"""Progress: counts of ok / failed / skipped in the bar and in the log lines."""

from __future__ import annotations

import logging

from hoimg.batch import progress as progress_mod
from hoimg.batch.progress import Progress


def test_log_mode_reports_counts_and_eta(caplog, monkeypatch):
    monkeypatch.setattr(progress_mod, "_LOG_EVERY_S", 0.0)  # a line per update
    caplog.set_level(logging.INFO, logger="hoimg.batch")
    prog = Progress(3, skipped=2, mode="log")
    prog.update("a.dcm", "ok", 0.1)
    prog.update("b.dcm", "error", 0.1, "not DICOM")
    prog.close()
    text = caplog.text
    assert "analysing 3 images (ok=0 failed=0 skipped=2)" in text
    assert "2/3 images (ok=1 failed=1 skipped=2)" in text and "ETA" in text
    assert "b.dcm: not DICOM" in text
    assert "ok=1 failed=1 skipped=2" in text.splitlines()[-1]


def test_bar_mode_shows_counts(capsys):
    prog = Progress(2, skipped=1, resumed=4, mode="bar")
    prog.update("a.dcm", "ok", 0.1)
    prog.update("b.dcm", "ok", 0.1)
    prog.close()
    err = capsys.readouterr().err
    assert "2/2" in err and "ok=2 failed=0 skipped=1 resumed=4" in err


def test_quiet_mode_logs_nothing(caplog):
    caplog.set_level(logging.INFO, logger="hoimg.batch")
    prog = Progress(1, mode="quiet")
    prog.update("a.dcm", "error", 0.1, "broken")
    prog.close()
    assert caplog.text == ""

"""Batch progress: a tqdm bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["Progress"]

log = logging.getLogger("hoimg.batch")

# Without a terminal (cron, CI, nohup) one line this often keeps the log readable.
_LOG_EVERY_S = 30.0


class Progress:
    """Counts ok / failed / skipped images and shows them with an ETA.

    Parameters
    ----------
    total : int
        Images to analyse in this run (resumed and skipped ones excluded).
    skipped : int
        Files skipped before the run (non-DICOM, shown in the counts).
    resumed : int
        Images taken over from an earlier run (``--resume``).
    mode : {"auto", "bar", "log", "quiet"}
        "auto" picks a bar when stderr is a terminal and log lines otherwise.
    verbose : bool
        Also log one line per image.
    """

    def __init__(self, total: int, *, skipped: int = 0, resumed: int = 0,
                 mode: str = "auto", verbose: bool = False) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        self.mode, self.verbose, self.total = mode, verbose, total
        self.ok = self.failed = 0
        self.skipped, self.resumed = skipped, resumed
        self._start = self._last_log = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="img", dynamic_ncols=True, file=sys.stderr)
            self._bar.set_postfix_str(self._counts(), refresh=False)
        elif mode == "log":
            log.info("analysing %d images (%s)", total, self._counts())

    def _counts(self) -> str:
        text = f"ok={self.ok} failed={self.failed} skipped={self.skipped}"
        return text + (f" resumed={self.resumed}" if self.resumed else "")

    def update(self, file: str, status: str, seconds: float, error: str = "") -> None:
        """Record one finished image."""
        if status == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if self.verbose:
            if status == "ok":
                log.info("%s: ok (%.2f s)", file, seconds)
            else:
                log.info("%s: error: %s", file, error)
        elif status != "ok" and self.mode != "quiet":
            log.warning("%s: %s", file, error)
        if self._bar is not None:
            self._bar.set_postfix_str(self._counts(), refresh=False)
            self._bar.update(1)
        elif self.mode == "log":
            now = time.monotonic()
            if now - self._last_log >= _LOG_EVERY_S:
                self._last_log = now
                done = self.ok + self.failed
                rate = done / max(now - self._start, 1e-9)
                eta = (self.total - done) / rate if rate > 0 else float("nan")
                log.info("%d/%d images (%s), %.1f img/s, ETA %s", done, self.total,
                         self._counts(), rate, _hms(eta))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self.mode != "quiet":
            elapsed = time.monotonic() - self._start
            log.info("done in %s: %s", _hms(elapsed), self._counts())


def _hms(seconds: float) -> str:
    if not seconds == seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"

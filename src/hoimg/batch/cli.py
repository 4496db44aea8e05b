"""``hoimg analyze``: the command-line face of :func:`hoimg.batch.run_batch`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading

__all__ = ["run_analyze"]


def _setup_logging(quiet: bool, verbose: bool) -> None:
    logger = logging.getLogger("hoimg")
    if not any(getattr(h, "_hoimg_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("hoimg: %(message)s"))
        handler._hoimg_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM (a scheduler or `kill` stopping the job) like Ctrl-C: the batch then
    writes the tables of the images finished so far before exiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_analyze(args: argparse.Namespace) -> int:
    """Run ``hoimg analyze`` from parsed arguments and return the exit code.

    0: every image was analysed; 1: some images failed (the others finished) or the run
    was interrupted; usage errors raise :class:`hoimg.errors.HoimgError`, which the
    caller turns into exit code 2.
    """
    from ..config import AnalysisConfig
    from .run import run_batch

    _setup_logging(args.quiet, args.verbose)
    config = AnalysisConfig.from_file(args.config) if args.config else AnalysisConfig()
    with _sigterm_as_interrupt():
        summary = run_batch(
            args.inputs,
            args.out,
            config=config,
            recursive=args.recursive,
            workers=args.workers,
            overlays=not args.no_overlays,
            resume=args.resume,
            scheduler=args.scheduler,
            fmt=args.format,
            timeout_s=args.timeout,
            pixel_spacing_mm=args.pixel_spacing_mm,
            progress="quiet" if args.quiet else "auto",
            verbose=args.verbose,
        )
    return summary.exit_code

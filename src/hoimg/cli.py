"""The ``hoimg`` command line: ``analyze``, ``phantom`` and ``evaluate``.

Argument parsing only; each sub-command's work lives in its own module, imported when the
sub-command runs so that ``hoimg --help`` answers instantly.

Exit codes: 0 success, 1 some images failed (the rest finished), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hoimg",
        description="Measure zonal mineralisation and cortex cleft on radiographs "
        "(heterotopic ossification vs parosteal osteosarcoma). Research use only.",
    )
    parser.add_argument("--version", action="version", version=f"hoimg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("analyze", help="analyse DICOM files and folders into tables and overlays")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="DICOM files and/or folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes (default: usable cores)")
    p.add_argument("--no-overlays", action="store_true", help="do not write overlay PNGs")
    p.add_argument("--resume", action="store_true",
                   help="skip images already done with the same config and version")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run on dask.distributed: 'local' or tcp://HOST:PORT")
    p.add_argument("--config", metavar="FILE", default=None, help="AnalysisConfig JSON/YAML")
    p.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv",
                   help="lesion/image table format (jsonl carries full radial profiles)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                   help="per-image time limit")
    p.add_argument("--pixel-spacing-mm", type=_positive_float, default=None, metavar="MM",
                   help="spacing to assume for files without one (recorded as 'user')")
    verbosity = p.add_mutually_exclusive_group()
    verbosity.add_argument("--quiet", action="store_true", help="errors only")
    verbosity.add_argument("--verbose", action="store_true", help="one line per image")

    p = sub.add_parser("phantom", help="write synthetic radiographs (DICOM) plus truth.json")
    p.add_argument("outdir", metavar="OUTDIR")
    p.add_argument("--n", type=_positive_int, required=True, help="number of images")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed, same bytes)")

    p = sub.add_parser("info", help="show how hoimg reads one file (no patient identifiers)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--frame", type=int, default=None, help="frame of a multi-frame file")

    p = sub.add_parser("evaluate", help="score a results folder against a truth file")
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument("truth", metavar="TRUTH_JSON")
    return parser


def _info(path: str, frame: int | None) -> int:
    """Print what the loader makes of one file: geometry, spacing and its source, flags."""
    from .flags import describe
    from .io import load

    image = load(path, frame=frame)
    rows, cols = image.shape
    print(f"file            {path}")
    print(f"image_id        {image.image_id}")
    print(f"size            {rows} x {cols} px")
    if image.spacing_mm is None:
        print("spacing         unknown")
    else:
        sr, sc = image.spacing_mm
        print(f"spacing         {sr:.4g} x {sc:.4g} mm ({image.spacing_source}); "
              f"field {rows * sr:.0f} x {cols * sc:.0f} mm")
    px = image.pixels
    print(f"pixels          float32, min {float(px.min()):.6g}, max {float(px.max()):.6g} "
          "(higher = denser)")
    window = image.display_window
    print(f"display window  {'none' if window is None else f'centre {window[0]:.6g}, width {window[1]:.6g}'}")
    for key, value in sorted(image.meta.items()):
        print(f"{key:<15} {value}")
    for flag in image.flags:
        print(f"flag            {flag}: {describe(flag)}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hoimg`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)

    from .errors import HoimgError

    try:
        if args.command == "analyze":
            from .batch.cli import run_analyze

            return run_analyze(args)
        if args.command == "phantom":
            from .phantom import write_dataset

            truth = write_dataset(args.outdir, n=args.n, seed=args.seed)
            print(f"wrote {args.n} phantom radiographs and {truth}")
            return EXIT_OK
        if args.command == "info":
            return _info(args.file, args.frame)
        if args.command == "evaluate":
            from .evaluate import run_evaluate

            return run_evaluate(args.results, args.truth)
    except HoimgError as exc:
        print(f"hoimg: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. an output folder that cannot be created or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"hoimg: error: {where}{exc.strerror or exc}; choose a writable folder",
              file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Run every ``benchmarks/bench_*.py`` and write ``benchmarks/RESULTS.md``.

Each benchmark prints its own markdown table (medians and ratios against a baseline measured
in the same run). This script only runs them, one after another so they do not compete for
the two cores, and collects what they printed with the machine description and date. The
numbers in RESULTS.md therefore always come from an actual run.

Usage::

    python benchmarks/run_all.py            # full sizes
    python benchmarks/run_all.py --quick    # smaller inputs, for a smoke run
    python benchmarks/run_all.py --only io,profile
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_description() -> str:
    import numpy

    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:  # pragma: no cover
        mem = "unknown memory"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}; {os.cpu_count()} logical cores; {mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; NumPy {numpy.__version__}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. io,segment")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)

    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{n.strip()}.py" for n in args.only.split(",")}
        scripts = [s for s in scripts if s.name in wanted]
    started = dt.datetime.now(dt.timezone.utc)
    sections = []
    failed = 0
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"running {' '.join(cmd[1:])} ...", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
        took = time.perf_counter() - t0
        body = proc.stdout.strip() or "(no output)"
        if proc.returncode != 0:
            failed += 1
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            body += f"\n\n**FAILED (exit {proc.returncode})**\n\n```\n{tail}\n```"
        sections.append(f"## {script.stem}\n\n`{' '.join(['python', 'benchmarks/' + script.name] + cmd[2:])}`"
                        f" ({took:.0f} s)\n\n{body}\n")
        print(f"  done in {took:.0f} s (exit {proc.returncode})", flush=True)

    header = (
        "# Benchmark results\n\n"
        f"Written by `python benchmarks/run_all.py{' --quick' if args.quick else ''}` on "
        f"{started:%Y-%m-%d %H:%M} UTC. Do not edit by hand: re-run the script.\n\n"
        f"Machine: {machine_description()}\n\n"
        "Times are medians; ratios compare against a baseline measured in the same run, because "
        "the machines are shared and noisy.\n\n"
    )
    Path(args.out).write_text(header + "\n".join(sections))
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

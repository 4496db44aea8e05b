"""Phantom generation speed (issue 2: one 3000x3000 case in <= ~3 s; 200 cases in minutes).

* ``generate``: a full case (3-D lesions, Beer-Lambert at 3 energy bins, scatter, heel,
  collimation, marker, Poisson noise, detector blur, presentation processing) against the
  baseline of the same case with only the projection (noise, scatter, processing and
  artefacts off), measured in the same run; ratio = full / projection only.
* DICOM encoding of a 2000x2000 case per transfer syntax; ratio against the uncompressed
  explicit-VR write.

Medians of ``--repeat`` runs, interleaved. Usage::

    NUMBA_CACHE_DIR=.venv/numba-cache .venv/bin/python benchmarks/bench_phantom.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from hoimg.phantom import TRANSFER_SYNTAXES, generate

_LESIONS = [{"kind": "ho", "stage": "immature"}, {"kind": "pos"}]
_OFF = dict(
    noise=False,
    scatter=False,
    processing=False,
    heel=False,
    marker=False,
    collimation=False,
    text=False,
)


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 5)
    sizes = (1000, 2000) if args.quick else (1000, 2000, 3000)

    generate(1, 0, rows=400, cols=400)  # imports and OpenCV start-up outside the timings
    print(f"\nphantom generate, spacing 0.143 mm, HO + POS, median of {repeat}\n")
    print("| size | full (s) | projection only (s) | ratio |")
    print("|---|---|---|---|")
    for n in sizes:
        kw = dict(rows=n, cols=n, spacing_mm=0.143, lesions=_LESIONS)
        full, base = [], []
        for _ in range(repeat):
            full.append(_seconds(lambda kw=kw: generate(3, 0, **kw)))
            base.append(_seconds(lambda kw=kw: generate(3, 0, **kw, **_OFF)))
        f, b = statistics.median(full), statistics.median(base)
        print(f"| {n}x{n} | {f:.2f} | {b:.2f} | {f / b:.2f} |")

    n = 1000 if args.quick else 2000
    print(f"\nDICOM encode + write to memory, {n}x{n}, median of {repeat}\n")
    print("| transfer syntax | seconds | ratio vs explicit VR |")
    print("|---|---|---|")
    cases = {
        ts: generate(3, 0, rows=n, cols=n, spacing_mm=0.143, transfer_syntax=ts)
        for ts in TRANSFER_SYNTAXES
    }
    times = {ts: [] for ts in TRANSFER_SYNTAXES}
    for _ in range(repeat):
        for ts, ph in cases.items():
            times[ts].append(_seconds(lambda ph=ph: ph.save(io.BytesIO())))
    base = statistics.median(times["explicit_vr_le"])
    for ts in TRANSFER_SYNTAXES:
        m = statistics.median(times[ts])
        print(f"| {ts} | {m:.3f} | {m / base:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

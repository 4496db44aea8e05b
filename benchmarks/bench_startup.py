"""Start-up costs: ``import hoimg``, and ``hoimg analyze`` on one image, cold and warm.

* import: ``python -c "import hoimg"`` against ``python -c "pass"`` (the interpreter floor);
* cold start: ``hoimg analyze`` with an empty Numba cache (every kernel compiles);
* warm start: the same command again, with the cache the cold run left.

The ratio cold/warm is what ``cache=True`` buys each new worker process. Each figure is the
median of several fresh processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd, env, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5

    work = Path(tempfile.mkdtemp(prefix="hoimg-bench-startup-"))
    # a bundled sample with a lesion: without one no profile kernel would run (or compile)
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "sample_01_mature_ho.dcm"
    try:

        env = dict(os.environ, NUMBA_CACHE_DIR=str(work / "numba-cache"), MPLBACKEND="Agg")
        py = sys.executable
        floor = _time([py, "-c", "pass"], env, repeats)
        imp = _time([py, "-c", "import hoimg"], env, repeats)
        heavy = [m for m in ("numpy", "numba", "cv2", "pydicom", "pandas", "matplotlib", "scipy")
                 if m in subprocess.run([py, "-c", "import hoimg, sys; print(' '.join(sys.modules))"],
                                        env=env, capture_output=True, text=True).stdout.split()]
        cmd = [py, "-m", "hoimg", "analyze", str(sample), "--out", str(work / "out"),
               "--workers", "1", "--quiet"]
        colds = []
        for _ in range(max(2, repeats // 2)):
            shutil.rmtree(work / "numba-cache", ignore_errors=True)
            shutil.rmtree(work / "out", ignore_errors=True)
            colds.append(_time(cmd, env, 1))
        cold = statistics.median(colds)
        warm_times = []
        for _ in range(repeats):
            shutil.rmtree(work / "out", ignore_errors=True)
            warm_times.append(_time(cmd, env, 1))
        warm = statistics.median(warm_times)
        n_lesions = (work / "out" / "images.csv").read_text().splitlines()[1].split(",")[4]
        assert int(n_lesions) > 0, "the benchmark image must have a lesion to measure"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| measurement | median (s) | ratio |")
    print("|---|---|---|")
    print(f"| `python -c pass` (floor) | {floor:.3f} | 1.00 |")
    print(f"| `python -c 'import hoimg'` | {imp:.3f} | {imp / floor:.2f} x floor |")
    print(f"| `hoimg analyze` 1 image, cold Numba cache | {cold:.2f} | {cold / warm:.2f} x warm |")
    print(f"| `hoimg analyze` 1 image, warm Numba cache | {warm:.2f} | 1.00 |")
    print(f"\nImage: {sample.name} ({n_lesions} lesion(s) measured). Heavy modules imported by "
          f"`import hoimg`: {', '.join(heavy) or 'none'}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

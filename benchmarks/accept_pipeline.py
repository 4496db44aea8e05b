"""End-to-end acceptance on unseen phantoms, through the user's own commands.

    python benchmarks/accept_pipeline.py --seed 2000 --n 300

runs exactly what a user would::

    hoimg phantom  WORK/phantoms --n N --seed S
    hoimg analyze  WORK/phantoms --out WORK/results --workers 2
    hoimg evaluate WORK/results WORK/phantoms/truth.json

so every encoding, geometry and the batch machinery are part of the measurement. It prints
the evaluation table and the issue figures: label accuracy on detected mature HO and POS,
the indeterminate share of those, and the share of mimics called HO or POS.
Seeds 1000-3999 are evaluation seeds: nothing is fitted or tuned on them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--quick", action="store_true", help="40 images")
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the report to FILE (e.g. benchmarks/ACCEPTANCE.md)")
    args = parser.parse_args(argv)
    n = 40 if args.quick else args.n
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hoimg-accept-"))
    work.mkdir(parents=True, exist_ok=True)
    hoimg = [sys.executable, "-m", "hoimg"]
    try:
        t0 = time.perf_counter()
        if not (work / "phantoms" / "truth.json").exists():
            subprocess.run([*hoimg, "phantom", str(work / "phantoms"), "--n", str(n),
                            "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        t1 = time.perf_counter()
        code = subprocess.run([*hoimg, "analyze", str(work / "phantoms"), "--out",
                               str(work / "results"), "--workers", str(args.workers), "--quiet",
                               "--no-overlays"]).returncode
        t2 = time.perf_counter()
        from hoimg.evaluate import evaluate

        ev = evaluate(work / "results", work / "phantoms" / "truth.json")
        report: list[str] = []
        out = report.append  # the report is printed and, with --markdown, saved
        out(f"seed {args.seed}, {n} phantoms; generate {t1 - t0:.0f} s, analyze {t2 - t1:.0f} s "
              f"(exit {code})\n")
        out("```\n" + ev.to_text() + "\n```\n")
        acc, ind = ev.label_accuracy_by_group, ev.indeterminate_by_group
        keys = ("heterotopic_ossification/mature", "parosteal_osteosarcoma")
        out("| figure | value | goal |\n|---|---|---|")
        for k in keys:
            out(f"| label accuracy, detected {k} | {acc.get(k, float('nan')):.3f} | >= 0.95 |")
            out(f"| indeterminate share, detected {k} | {ind.get(k, float('nan')):.3f} | <= 0.05 |")
        out(f"| mimics called HO or POS | {ev.mimic_called_rate:.3f} | <= 0.10 |")
        out(f"| sensitivity mature HO | {ev.sensitivity.get(keys[0], float('nan')):.3f} | >= 0.95 |")
        out(f"| sensitivity intermediate HO | "
              f"{ev.sensitivity.get('heterotopic_ossification/intermediate', float('nan')):.3f} | >= 0.80 |")
        out(f"| sensitivity POS | {ev.sensitivity.get(keys[1], float('nan')):.3f} | >= 0.95 |")
        out(f"| false positives per image | {ev.false_positives_per_image:.3f} | <= 0.10 |")
        out(f"| zonal accuracy (HO/POS) | {ev.zonal_accuracy:.3f} | >= 0.97 |")
        out(f"| cleft accuracy (HO/POS) | {ev.cleft_accuracy:.3f} | >= 0.90 |")
        out(f"| cleft width MAE (mm) | {ev.cleft_width_mae_mm:.3f} | <= 0.5 |")
        out(f"| Brier score of p(HO given HO or POS), detected HO/POS | {ev.brier_score:.4f} | |")
        text = "\n".join(report) + "\n"
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(
                f"# Acceptance on unseen phantoms\n\nWritten by `python benchmarks/accept_pipeline.py "
                f"--seed {args.seed} --n {n} --markdown {args.markdown}`; do not edit by hand.\n\n"
                + text)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

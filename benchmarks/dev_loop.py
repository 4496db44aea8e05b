"""Development loop for segmentation and the profile/cleft core, on *development* seeds.

    python benchmarks/dev_loop.py --seeds 43,44 --n 200 [--truth-masks] [--jobs 2]
                                  [--save rows.json] [--compare before.json]

For every case of ``hoimg.phantom.generate(seed, index)`` it runs ``find_bone`` and
``find_lesions`` (or, with ``--truth-masks``, takes the phantom's own bone and lesion
labels), measures every candidate with ``measure_lesions`` and matches detections to
truth with the DESIGN.md rule (``hoimg.evaluate.match_lesions``). Per seed it prints the
figures issues 3 and 4 name, and where the cleft and width errors lie:

- sensitivity for mature HO, intermediate HO and POS; false positives per image;
- zonal-pattern accuracy (mature HO and POS), cleft-category accuracy (HO and POS) and
  cleft-width MAE (lesions with a true gap), all on the matched lesions;
- the cleft confusion per group and the width bias per group.

``--save`` keeps one row per truth lesion (and the false positives per image) as JSON;
``--compare`` reads such a file from an earlier run and lists the lesions whose detection
or cleft category changed, which is how a change is judged lesion by lesion.

The acceptance seeds of the issues (1000, 2000, 3000) are refused: a rule tuned while
looking at them would make their figures meaningless. Dev seeds used so far: 12, 43, 44,
45. Cases run in ``--jobs`` spawned processes (a fork after a parallel Numba kernel can
deadlock); 200 cases of one seed take about 2.7 minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter, defaultdict

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_HERE, "..", ".venv", "numba-cache"))

ACCEPTANCE_SEEDS = frozenset({1000, 2000, 3000})


def run_cases(seed: int, indices: list[int], truth_masks: bool) -> dict:
    """Rows (one per truth lesion) and false-positive counts of the given cases."""
    sys.path.insert(0, _HERE)
    from accept_profile import group_of, measure_case

    from hoimg.config import AnalysisConfig
    from hoimg.phantom import generate

    cfg = AnalysisConfig()
    rows, fps = [], []
    for idx in indices:
        pairs, n_fp = measure_case(generate(seed, idx), not truth_masks, cfg)
        fps.append([idx, n_fp])
        for li, (les, res) in enumerate(pairs):
            row = dict(seed=seed, idx=idx, li=li, group=group_of(les), zonal=les.get("zonal"),
                       cleft=les.get("cleft"), gap=les.get("gap_mm"), found=res is not None)
            if res is not None:
                prof, scan = res
                row.update(pattern=prof.zonal_pattern, category=scan.category,
                           width=_finite(scan.cleft_width_mm), fraction=_finite(scan.cleft_fraction))
            rows.append(row)
    return dict(rows=rows, fps=fps)


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def summary(rows: list[dict], fps: list) -> list[str]:
    """The issue figures and the error breakdown of one seed's rows, as text lines."""
    lines = []
    found = defaultdict(Counter)
    for r in rows:
        found[r["group"]][r["found"]] += 1
    parts = []
    for g in ("HO mature", "HO intermediate", "POS"):
        c = found[g]
        n = c[True] + c[False]
        parts.append(f"{g} {c[True] / n:.3f} ({c[True]}/{n})" if n else f"{g} -")
    parts.append(f"FP/img {sum(f[1] for f in fps) / max(len(fps), 1):.3f}")
    lines.append("sensitivity: " + " | ".join(parts))
    hit = [r for r in rows if r["found"]]
    zonal = [r["pattern"] == r["zonal"] for r in hit if r["zonal"] and r["group"] in ("HO mature", "POS")]
    cleft = [r["category"] == r["cleft"] for r in hit if r["cleft"] and r["group"] != "other"]
    errs = defaultdict(list)
    for r in hit:
        if r["group"] != "other" and r["gap"] and r["width"] is not None:
            errs[r["group"]].append(r["width"] - r["gap"])
    all_err = np.abs(np.concatenate([np.asarray(v) for v in errs.values()])) if errs else np.array([])
    lines.append(
        f"zonal {_share(zonal)} | cleft {_share(cleft)} | width MAE "
        + (f"{all_err.mean():.3f} mm (n={all_err.size})" if all_err.size else "-"))
    confusion = defaultdict(Counter)
    for r in hit:
        if r["cleft"] and r["group"] != "other":
            confusion[(r["group"], r["cleft"])][r["category"]] += 1
    for (g, true_cat), c in sorted(confusion.items()):
        lines.append(f"  cleft {g:16s} truth {true_cat:9s} -> {dict(c.most_common())}")
    for g, e in sorted(errs.items()):
        e = np.asarray(e)
        lines.append(f"  width {g:16s} n={e.size:3d} MAE {np.abs(e).mean():.2f} bias {e.mean():+.2f} mm")
    return lines


def _share(flags: list[bool]) -> str:
    return f"{sum(flags) / len(flags):.3f} (n={len(flags)})" if flags else "-"


def changes(before: list[dict], after: list[dict]) -> list[str]:
    """Lesions whose detection or cleft category differs between two runs."""
    old = {(r["seed"], r["idx"], r["li"]): r for r in before}
    out = []
    for r in after:
        o = old.get((r["seed"], r["idx"], r["li"]))
        if o is None or r["group"] == "other":
            continue
        where = f"{r['seed']}/{r['idx']}:{r['li']} {r['group']}"
        if o["found"] != r["found"]:
            out.append(f"{where}: {'found' if r['found'] else 'LOST'}")
        elif r["found"] and r["cleft"] and o.get("category") != r.get("category"):
            mark = "+" if r["category"] == r["cleft"] else ("-" if o["category"] == r["cleft"] else "~")
            out.append(f"{where}: cleft {o['category']} -> {r['category']} (truth {r['cleft']}) {mark}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="43,44", help="comma-separated development seeds")
    ap.add_argument("--n", type=int, default=200, help="cases per seed")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--truth-masks", action="store_true", help="phantom bone and lesion labels")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--save", help="write the rows of this run (JSON)")
    ap.add_argument("--compare", help="rows of an earlier run (JSON) to list changes against")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    refused = sorted(set(seeds) & ACCEPTANCE_SEEDS)
    if refused:
        ap.error(f"seed(s) {refused} are acceptance seeds; develop on others "
                 "(benchmarks/accept_*.py report those)")

    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    indices = list(range(args.start, args.start + args.n))
    chunks = [indices[k :: args.jobs] for k in range(args.jobs) if indices[k :: args.jobs]]
    rows, fps_by_seed = [], defaultdict(list)
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=mp.get_context("spawn")) as pool:
        for seed in seeds:
            futures = [pool.submit(run_cases, seed, c, args.truth_masks) for c in chunks]
            seed_rows = []
            for f in futures:
                part = f.result()
                seed_rows += part["rows"]
                fps_by_seed[seed] += part["fps"]
            seed_rows.sort(key=lambda r: (r["idx"], r["li"]))
            rows += seed_rows
            masks = "truth masks" if args.truth_masks else "detected masks"
            print(f"seed {seed}, cases {indices[0]}..{indices[-1]}, {masks}")
            for line in summary(seed_rows, fps_by_seed[seed]):
                print("  " + line)
            sys.stdout.flush()
    if args.compare:
        with open(args.compare) as fh:
            before = json.load(fh)["rows"]
        diff = changes(before, rows)
        print(f"changes against {args.compare}: {len(diff)}")
        for line in diff:
            print("  " + line)
    if args.save:
        tmp = args.save + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(dict(rows=rows, fps={str(s): v for s, v in fps_by_seed.items()}), fh)
        os.replace(tmp, args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Acceptance figures of segmentation (issue 3) on in-memory phantoms.

    python benchmarks/accept_segment.py --seed 1000 --n 200 [--png DIR]

For every case of ``hoimg.phantom.generate(seed, index)`` it runs ``find_bone`` and
``find_lesions`` and matches detections to truth with the DESIGN.md rule (centroid inside
the truth bbox grown by 2 mm; ``hoimg.evaluate.match_lesions``). Reports detection
sensitivity by class (and HO stage), false positives per image (a detection matching no
truth lesion of any class, mimics included), bone IoU against the phantom's bone
footprint, and lists the failures. ``--png`` writes an overlay of every failing case.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict

import numpy as np

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_ROOT, ".venv", "numba-cache"))


def _group(les: dict) -> str:
    if les["class"] == "heterotopic_ossification":
        return f"HO {les.get('stage') or '?'}"
    if les["class"] == "parosteal_osteosarcoma":
        return "POS"
    return f"other {les.get('kind') or ''}".strip()


def _overlay(path, img, bone, lesions, truth):
    import cv2

    lo, hi = np.percentile(img, [1, 99.5])
    g = np.clip((img - lo) / (hi - lo + 1e-9) * 255, 0, 255).astype(np.uint8)
    rgb = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    t = max(1, img.shape[0] // 500)
    for lab, col in ((bone, (255, 200, 0)), (lesions, (0, 0, 255))):
        cs, _ = cv2.findContours((lab > 0).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(rgb, cs, -1, col, t)
    for les in truth:
        r0, c0, r1, c1 = (int(v) for v in les["bbox_rc"])
        cv2.rectangle(rgb, (c0, r0), (c1, r1), (0, 255, 0), t)
    f = 1000 / max(img.shape)
    cv2.imwrite(str(path), cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--png", default=None, help="folder for overlays of failing cases")
    args = ap.parse_args(argv)

    from hoimg.evaluate import match_lesions
    from hoimg.phantom import generate
    from hoimg.segment import find_bone, find_lesions

    found: Counter = Counter()
    total: Counter = Counter()
    fps = 0
    fp_kinds: Counter = Counter()
    matched_flags: defaultdict = defaultdict(Counter)
    ious = []
    failures = defaultdict(list)
    seg_time = []
    for idx in range(args.start, args.start + args.n):
        ph = generate(args.seed, idx)
        rad = ph.radiograph
        t0 = time.perf_counter()
        bone = find_bone(rad)
        cands = find_lesions(rad, bone)
        seg_time.append(time.perf_counter() - t0)
        truth = ph.truth["lesions"]
        t2d, d2t, dup = match_lesions(
            [r.centroid_rc for r in cands.records], truth, rad.pixel_size_mm
        )
        bad = False
        for les, d in zip(truth, t2d):
            key = _group(les)
            total[key] += 1
            if d is not None:
                found[key] += 1
            else:
                failures[key].append(idx)
                bad = True
        for rec, t in zip(cands.records, d2t):
            if t is not None and t2d[t] is not None and cands.records[t2d[t]] is rec:
                matched_flags[_group(truth[t])].update(rec.flags)
            if t is None:
                fps += 1
                fp_kinds["+".join(rec.flags) or "-"] += 1
                failures["FP"].append((idx, tuple(int(v) for v in rec.bbox_rc), rec.flags))
                bad = True
        true_bone = ph.bone_labels > 0
        union = np.count_nonzero(true_bone | (bone.labels > 0))
        ious.append(np.count_nonzero(true_bone & (bone.labels > 0)) / union if union else 1.0)
        if bad and args.png:
            os.makedirs(args.png, exist_ok=True)
            _overlay(os.path.join(args.png, f"case_{args.seed}_{idx:04d}.png"), rad.pixels,
                     bone.labels, cands.labels, truth)
        print(f"\r{idx - args.start + 1}/{args.n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"seed {args.seed}, cases {args.start}..{args.start + args.n - 1}")
    print("detection sensitivity by class:")
    for key in sorted(total):
        print(f"  {key:<22} {found[key]:4d}/{total[key]:<4d} = {found[key] / total[key]:.3f}")
    for key in sorted(matched_flags):
        print(f"  flags of matched {key}: {dict(matched_flags[key])}")
    print(f"false positives: {fps} in {args.n} images = {fps / args.n:.3f} per image")
    print(f"  FP flags: {dict(fp_kinds.most_common(8))}")
    print(f"bone IoU vs phantom footprint: median {np.median(ious):.3f}, "
          f"10th pct {np.percentile(ious, 10):.3f}")
    print(f"segmentation time per image: median {np.median(seg_time):.3f} s")
    for key, items in sorted(failures.items()):
        print(f"  missed/FP {key}: {items[:30]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

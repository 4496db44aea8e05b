"""Acceptance of the profile stage on phantoms (issue 4).

For every HO and POS lesion of ``--n`` phantoms of dataset ``--seed`` (in memory, via
``hoimg.phantom.generate``), measure the radial profile and the cleft scan

* with truth masks: the phantom's ``lesion_labels`` as candidates and a BoneModel built
  from its ``bone_labels`` (periosteal contours with outward normals, see
  :func:`bone_from_labels`);
* with detected masks (``--detected``): ``hoimg.segment.find_bone`` / ``find_lesions``,
  detections matched to truth by the DESIGN.md rule (centroid inside the truth bbox grown
  by 2 mm).

and report zonal-pattern accuracy on mature HO and POS (targets >= 0.97), cleft category
accuracy on HO and POS (>= 0.90) and cleft-width MAE against the truth ``gap_mm``
(<= 0.5 mm). Usage::

    NUMBA_CACHE_DIR=.venv/numba-cache .venv/bin/python benchmarks/accept_profile.py \\
        --seed 1000 --n 200 [--detected] [--verbose]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict

import numpy as np

from hoimg.config import AnalysisConfig
from hoimg.profile import measure_lesions
from hoimg.segment import BoneModel, CortexEdge, LesionCandidate, LesionCandidates


def bone_from_labels(bone_labels: np.ndarray, smooth: int = 3) -> BoneModel:
    """A BoneModel from a bone footprint: its 0.5 contours, with normals out of the bone.

    Contours come from ``skimage.measure.find_contours`` (points about one pixel apart);
    the tangent is a central difference over ``smooth`` points each side, the normal its
    perpendicular, flipped where a step of two pixels along it lands inside the bone.
    """
    from skimage.measure import find_contours

    labels = (bone_labels > 0).astype(np.int32)
    padded = np.pad(labels.astype(np.float64), 1, mode="edge")  # no contour along the border
    edges = []
    for contour in find_contours(padded, 0.5):
        pts = contour - 1.0
        if pts.shape[0] < 2 * smooth + 2:
            continue
        n = pts.shape[0]
        idx = np.arange(n)
        a = pts[np.clip(idx - smooth, 0, n - 1)]
        b = pts[np.clip(idx + smooth, 0, n - 1)]
        tangent = b - a
        norm = np.hypot(tangent[:, 0], tangent[:, 1])
        ok = norm > 1e-9
        pts, tangent, norm = pts[ok], tangent[ok], norm[ok]
        normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / norm[:, None]
        probe = np.rint(pts + 2.0 * normal).astype(int)
        probe[:, 0] = np.clip(probe[:, 0], 0, labels.shape[0] - 1)
        probe[:, 1] = np.clip(probe[:, 1], 0, labels.shape[1] - 1)
        inside = labels[probe[:, 0], probe[:, 1]] > 0
        normal[inside] *= -1.0
        edges.append(CortexEdge(1, pts, normal, np.full(pts.shape[0], np.nan)))
    return BoneModel(labels=labels, edges=tuple(edges))


def candidates_from_truth(lesion_labels: np.ndarray) -> LesionCandidates:
    records = []
    for lid in range(1, int(lesion_labels.max()) + 1):
        rows, cols = np.nonzero(lesion_labels == lid)
        if rows.size == 0:
            continue
        records.append(LesionCandidate(
            lid, (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1),
            (float(rows.mean()), float(cols.mean())), int(rows.size), math.nan, math.nan,
            math.nan))
    return LesionCandidates(np.ascontiguousarray(lesion_labels, dtype=np.int32), tuple(records))


def group_of(les: dict) -> str:
    """"HO <stage>", "POS" or "other" for a truth lesion."""
    if les["class"] == "heterotopic_ossification":
        return f"HO {les.get('stage')}"
    if les["class"] == "parosteal_osteosarcoma":
        return "POS"
    return "other"


def measure_case(ph, detected: bool, cfg):
    """Profile and cleft scan of each truth lesion of phantom ``ph``.

    With ``detected``, of the candidates ``find_bone`` and ``find_lesions`` found, matched
    to truth by ``hoimg.evaluate.match_lesions``; else of the phantom's own bone and
    lesion labels. Returns ``([(truth lesion, (profile, scan) or None), ...], number of
    candidates matching no truth lesion)``.
    """
    truth = ph.truth["lesions"]
    rg = ph.radiograph
    if detected:
        from hoimg.evaluate import match_lesions
        from hoimg.segment import find_bone, find_lesions

        bone = find_bone(rg, config=cfg)
        cands = find_lesions(rg, bone, config=cfg)
        measured = measure_lesions(rg, bone, cands, config=cfg)
        spacing = math.sqrt(rg.spacing_mm[0] * rg.spacing_mm[1]) if rg.spacing_mm else None
        t2d, d2t, _ = match_lesions([r.centroid_rc for r in cands.records], truth, spacing)
        return ([(les, measured[t2d[i]] if t2d[i] is not None else None)
                 for i, les in enumerate(truth)], sum(1 for d in d2t if d is None))
    bone = bone_from_labels(ph.bone_labels)
    cands = candidates_from_truth(ph.lesion_labels)
    measured = dict(zip([r.id for r in cands.records],
                        measure_lesions(rg, bone, cands, config=cfg), strict=True))
    return [(les, measured.get(i + 1)) for i, les in enumerate(truth)], 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--detected", action="store_true", help="use find_bone/find_lesions masks")
    ap.add_argument("--verbose", action="store_true", help="print every HO/POS lesion")
    args = ap.parse_args(argv)
    from hoimg.phantom import generate

    cfg = AnalysisConfig()
    zonal = defaultdict(Counter)
    cleft = defaultdict(Counter)
    confusion = defaultdict(Counter)
    width_err = defaultdict(list)
    missed = Counter()
    t0 = time.perf_counter()
    for idx in range(args.start, args.start + args.n):
        ph = generate(args.seed, idx)
        for les, res in measure_case(ph, args.detected, cfg)[0]:
            group = group_of(les)
            if group == "other":
                continue
            if res is None:
                missed[group] += 1
                continue
            prof, scan = res
            if les.get("zonal"):
                zonal[group][prof.zonal_pattern == les["zonal"]] += 1
            if les.get("cleft"):
                cleft[group][scan.category == les["cleft"]] += 1
                confusion[les["cleft"]][scan.category] += 1
            g, w = les.get("gap_mm"), scan.cleft_width_mm
            if g is not None and g > 0 and math.isfinite(w):
                width_err[group].append(abs(w - g))
            if args.verbose:
                zonal_t = str(les.get("zonal"))
                print(f"{idx:4d} {group:16s} zonal {zonal_t:10s}->{prof.zonal_pattern:10s}"
                      f" zi {prof.zonal_index:+.2f} rc {prof.rim_core_ratio:6.2f} | cleft "
                      f"{les.get('cleft')!s:8s}->{scan.category:14s} frac {scan.cleft_fraction:.2f}"
                      f" gap {g!s:6s} w {w:5.2f} att {les.get('attachment_mm')!s:6s}/"
                      f"{scan.attachment_mm:5.1f}", flush=True)
    dt = time.perf_counter() - t0

    def acc(counter_by_group, groups):
        ok = sum(counter_by_group[g][True] for g in groups)
        n = ok + sum(counter_by_group[g][False] for g in groups)
        return ok / n if n else math.nan, n

    mode = "detected masks" if args.detected else "truth masks"
    print(f"\nseed {args.seed}, cases {args.start}..{args.start + args.n - 1}, {mode}, "
          f"{dt:.0f} s")
    groups = sorted(set(zonal) | set(cleft) | set(missed))
    for g in groups:
        za, zn = acc(zonal, [g])
        ca, cn = acc(cleft, [g])
        e = width_err[g]
        print(f"  {g:18s} zonal {za:.3f} (n={zn:3d})  cleft {ca:.3f} (n={cn:3d})  "
              f"width MAE {np.mean(e) if e else math.nan:.2f} mm (n={len(e)})  missed {missed[g]}")
    za, zn = acc(zonal, ["HO mature", "POS"])
    ca, cn = acc(cleft, [g for g in groups])
    all_e = [x for g in groups for x in width_err[g]]
    print(f"zonal accuracy, mature HO + POS : {za:.3f} (n={zn}, target >= 0.97)")
    print(f"cleft accuracy, HO + POS        : {ca:.3f} (n={cn}, target >= 0.90)")
    print(f"cleft width MAE                 : {np.mean(all_e) if all_e else math.nan:.3f} mm "
          f"(n={len(all_e)}, target <= 0.5)")
    print("cleft confusion (truth -> measured):")
    for t, row in sorted(confusion.items()):
        print(f"  {t:14s} " + ", ".join(f"{k} {v}" for k, v in sorted(row.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

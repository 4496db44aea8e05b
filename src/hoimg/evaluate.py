"""Score detections against truth: ``hoimg evaluate RESULTS_DIR TRUTH.json``.

Truth format (DESIGN.md; researchers can write it for their own annotated images)::

    {"cases": [{"file": "case_0001.dcm", "spacing_mm": 0.15,
                "lesions": [{"class": "heterotopic_ossification",
                             "centroid_rc": [r, c], "bbox_rc": [r0, c0, r1, c1],
                             "zonal": "peripheral", "cleft": "complete",
                             "gap_mm": 2.1, "attachment_mm": 0.0, "stage": "mature"}]}]}

A detection matches a truth lesion when its centroid lies inside the truth bbox grown by
2 mm. Each truth lesion takes the nearest matching detection; further detections inside it
are *duplicates*; detections inside no truth box are *false positives*.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

TRUTH_CLASSES = ("heterotopic_ossification", "parosteal_osteosarcoma", "other")
PRED_LABELS = ("heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate", "missed")
MATCH_MARGIN_MM = 2.0


def load_truth(truth: str | os.PathLike | dict) -> dict[str, dict]:
    """Read a truth file (or dict) into ``{file: case}`` with validated lesions."""
    path = None
    if not isinstance(truth, dict):
        path = os.fspath(truth)
        try:
            with open(path, encoding="utf-8") as fh:
                truth = json.load(fh)
        except OSError as exc:
            raise InvalidInputError(f"cannot read truth file: {exc.strerror}", path=path) from exc
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"truth file is not JSON: {exc}", path=path) from exc
    cases = truth.get("cases") if isinstance(truth, dict) else None
    if not isinstance(cases, list):
        raise InvalidInputError('truth must be {"cases": [...]} (see hoimg.evaluate)', path=path)
    out: dict[str, dict] = {}
    for i, case in enumerate(cases):
        if "file" not in case:
            raise InvalidInputError(f"truth case {i} has no 'file'", path=path)
        for j, les in enumerate(case.get("lesions", [])):
            for key in ("class", "bbox_rc"):
                if key not in les:
                    raise InvalidInputError(f"truth case {case['file']} lesion {j} has no {key!r}", path=path)
            if les["class"] not in TRUTH_CLASSES:
                raise InvalidInputError(
                    f"truth case {case['file']} lesion {j}: class {les['class']!r} is not one of "
                    f"{TRUTH_CLASSES}",
                    path=path,
                )
        out[str(case["file"]).replace(os.sep, "/")] = case
    return out


def match_lesions(
    det_centroids_rc: list[tuple[float, float]],
    truth_lesions: list[dict],
    spacing_mm: float | None,
    *,
    margin_mm: float = MATCH_MARGIN_MM,
) -> tuple[list[int | None], list[int | None], list[bool]]:
    """Match detections to truth lesions by the DESIGN.md rule.

    Parameters
    ----------
    det_centroids_rc : list of (row, col)
        Detection centroids in pixels.
    truth_lesions : list of dict
        Truth lesions with ``bbox_rc`` (end-exclusive) and optionally ``centroid_rc``.
    spacing_mm : float or None
        Pixel size used to turn ``margin_mm`` into pixels (None: margin of 0 pixels).

    Returns
    -------
    truth_to_det : list of int or None
        For each truth lesion, the index of its matched detection.
    det_to_truth : list of int or None
        For each detection, the truth lesion whose grown box holds its centroid (nearest
        centre when several do), or None for a false positive.
    duplicate : list of bool
        True for detections inside a truth box whose match is another detection.
    """
    margin = margin_mm / spacing_mm if spacing_mm and spacing_mm > 0 else 0.0
    det_to_truth: list[int | None] = []
    for r, c in det_centroids_rc:
        best, best_d = None, math.inf
        for t, les in enumerate(truth_lesions):
            r0, c0, r1, c1 = les["bbox_rc"]
            if r0 - margin <= r < r1 + margin and c0 - margin <= c < c1 + margin:
                tr, tc = les.get("centroid_rc") or ((r0 + r1) / 2, (c0 + c1) / 2)
                d = math.hypot(r - tr, c - tc)
                if d < best_d:
                    best, best_d = t, d
        det_to_truth.append(best)
    truth_to_det: list[int | None] = [None] * len(truth_lesions)
    best_dist = [math.inf] * len(truth_lesions)
    for d, t in enumerate(det_to_truth):
        if t is None:
            continue
        les = truth_lesions[t]
        r0, c0, r1, c1 = les["bbox_rc"]
        tr, tc = les.get("centroid_rc") or ((r0 + r1) / 2, (c0 + c1) / 2)
        dist = math.hypot(det_centroids_rc[d][0] - tr, det_centroids_rc[d][1] - tc)
        if dist < best_dist[t]:
            truth_to_det[t], best_dist[t] = d, dist
    duplicate = [t is not None and truth_to_det[t] != d for d, t in enumerate(det_to_truth)]
    return truth_to_det, det_to_truth, duplicate


def _group_key(les: dict) -> str:
    if les["class"] == "heterotopic_ossification" and les.get("stage"):
        return f"heterotopic_ossification/{les['stage']}"
    if les["class"] == "other" and les.get("kind"):
        return f"other/{les['kind']}"
    return les["class"]


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _ratio(num: float, den: float) -> float:
    return float(num) / den if den else math.nan


@dataclass
class Evaluation:
    """Scores of one results set against one truth set (see module docstring)."""

    n_images: int
    n_truth: int
    n_detections: int
    sensitivity: dict[str, float]
    false_positives_per_image: float
    duplicates_per_image: float
    label_accuracy: float
    indeterminate_rate: float
    mimic_called_rate: float
    zonal_accuracy: float
    cleft_accuracy: float
    cleft_width_mae_mm: float
    confusion: dict[str, dict[str, int]]
    counts: dict[str, int] = field(default_factory=dict)
    label_accuracy_by_group: dict[str, float] = field(default_factory=dict)
    indeterminate_by_group: dict[str, float] = field(default_factory=dict)
    brier_score: float = math.nan
    reliability: list[dict[str, float]] = field(default_factory=list)
    missing_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    def to_text(self) -> str:
        """A table a person can read in a terminal."""
        lines = [
            f"images {self.n_images}, truth lesions {self.n_truth}, detections {self.n_detections}",
            "sensitivity:",
        ]
        for key in sorted(self.sensitivity):
            lines.append(f"  {key:<44} {self.sensitivity[key]:6.3f}  (n={self.counts.get(key, 0)})")
        lines += [
            f"false positives per image        {self.false_positives_per_image:6.3f}",
            f"duplicates per image             {self.duplicates_per_image:6.3f}",
            f"label accuracy (HO/POS)          {self.label_accuracy:6.3f}",
            f"indeterminate rate (HO/POS)      {self.indeterminate_rate:6.3f}",
            f"mimics called HO or POS          {self.mimic_called_rate:6.3f}",
            f"zonal-pattern accuracy (HO/POS)  {self.zonal_accuracy:6.3f}",
            f"cleft accuracy (HO/POS)          {self.cleft_accuracy:6.3f}",
            f"cleft-width MAE (mm)             {self.cleft_width_mae_mm:6.3f}",
            "label accuracy / indeterminate share on detected lesions, by group:",
        ]
        for key in sorted(self.label_accuracy_by_group):
            lines.append(f"  {key:<44} {self.label_accuracy_by_group[key]:6.3f} / "
                         f"{self.indeterminate_by_group[key]:5.3f}")
        lines += [
            f"calibration of p(HO | HO or POS): Brier score {self.brier_score:.4f}",
            *(f"  p {r['lo']:.1f}-{r['hi']:.1f}: n={int(r['n']):<5d} predicted {r['mean_p']:.3f}"
              f"  observed HO {r['observed']:.3f}" for r in self.reliability),
            "confusion (truth -> predicted):",
            "  " + " " * 26 + "".join(f"{p[:12]:>14}" for p in PRED_LABELS),
        ]
        for t in TRUTH_CLASSES:
            row = self.confusion.get(t, {})
            lines.append(f"  {t:<26}" + "".join(f"{row.get(p, 0):>14d}" for p in PRED_LABELS))
        if self.missing_files:
            lines.append(f"truth files without results: {len(self.missing_files)}")
        return "\n".join(lines)


def _read_results(results) -> tuple[list[dict], set[str] | None]:
    """Lesion rows (list of dicts) and the set of files analysed (None if unknown)."""
    import pandas as pd

    if isinstance(results, pd.DataFrame):
        return results.to_dict("records"), None
    root = Path(results)
    for name, reader in (("lesions.csv", pd.read_csv), ("lesions.parquet", pd.read_parquet)):
        if (root / name).exists():
            lesions = reader(root / name)
            break
    else:
        if (root / "lesions.jsonl").exists():
            lesions = pd.read_json(root / "lesions.jsonl", lines=True)
        else:
            raise InvalidInputError("no lesions.csv/parquet/jsonl found; run hoimg analyze first",
                                    path=root)
    files = None
    for name, reader in (("images.csv", pd.read_csv), ("images.parquet", pd.read_parquet)):
        if (root / name).exists():
            kwargs = {"keep_default_na": False} if name.endswith("csv") else {}
            images = reader(root / name, **kwargs)
            files = {str(f) for f, s in zip(images["file"], images["status"]) if s == "ok"}
            break
    return lesions.to_dict("records"), files


def evaluate(results, truth) -> Evaluation:
    """Score analysis results against truth.

    Parameters
    ----------
    results : path or pandas.DataFrame
        A ``hoimg analyze`` output folder, or a lesions table with the ``lesions.csv``
        columns (at least file, centroid_row, centroid_col, label, zonal_pattern, cleft,
        cleft_width_mm).
    truth : path or dict
        A truth file in the format of the module docstring.

    Returns
    -------
    Evaluation
    """
    cases = load_truth(truth)
    rows, analysed = _read_results(results)
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_file[str(row["file"]).replace(os.sep, "/")].append(row)

    hit, total = Counter(), Counter()
    confusion: dict[str, Counter] = {t: Counter() for t in TRUTH_CLASSES}
    n_fp = n_dup = n_det = 0
    label_ok = label_n = indet = 0
    zonal_ok = zonal_n = cleft_ok = cleft_n = 0
    mimic_called = mimic_n = 0
    width_err: list[float] = []
    missing = []
    group_ok, group_ind, group_n = Counter(), Counter(), Counter()
    calib: list[tuple[float, bool]] = []  # (p(HO | HO or POS), truth is HO)
    for file, case in sorted(cases.items()):
        if analysed is not None and file not in analysed:
            missing.append(file)
        dets = sorted(by_file.get(file, []), key=lambda r: r.get("lesion_id", 0))
        n_det += len(dets)
        truth_lesions = case.get("lesions", [])
        spacing = case.get("spacing_mm")
        if isinstance(spacing, (list, tuple)):
            spacing = math.sqrt(spacing[0] * spacing[1])
        t2d, d2t, dup = match_lesions(
            [(float(d["centroid_row"]), float(d["centroid_col"])) for d in dets], truth_lesions, spacing
        )
        n_fp += sum(t is None for t in d2t)
        n_dup += sum(dup)
        for t, les in enumerate(truth_lesions):
            key = _group_key(les)
            for k in {key, les["class"]}:
                total[k] += 1
                hit[k] += t2d[t] is not None
            det = dets[t2d[t]] if t2d[t] is not None else None
            pred = det["label"] if det is not None else "missed"
            confusion[les["class"]][pred] += 1
            if les["class"] == "other":
                if det is not None:
                    mimic_n += 1
                    mimic_called += pred in ("heterotopic_ossification", "parosteal_osteosarcoma")
                continue
            if det is None:
                continue
            label_n += 1
            label_ok += pred == les["class"]
            indet += pred == "indeterminate"
            p_ho, p_pos = det.get("p_heterotopic_ossification"), det.get("p_parosteal_osteosarcoma")
            if _finite(p_ho) and _finite(p_pos) and p_ho + p_pos > 0:
                calib.append((p_ho / (p_ho + p_pos), les["class"] == "heterotopic_ossification"))
            for k in {key, les["class"]}:
                group_n[k] += 1
                group_ok[k] += pred == les["class"]
                group_ind[k] += pred == "indeterminate"
            if les.get("zonal"):
                zonal_n += 1
                zonal_ok += det.get("zonal_pattern") == les["zonal"]
            if les.get("cleft"):
                cleft_n += 1
                cleft_ok += det.get("cleft") == les["cleft"]
            w, g = det.get("cleft_width_mm"), les.get("gap_mm")
            if _finite(w) and _finite(g) and g > 0:
                width_err.append(abs(float(w) - float(g)))
    n_images = len(cases)
    return Evaluation(
        n_images=n_images,
        n_truth=sum(len(c.get("lesions", [])) for c in cases.values()),
        n_detections=n_det,
        sensitivity={k: _ratio(hit[k], total[k]) for k in total},
        false_positives_per_image=_ratio(n_fp, n_images),
        duplicates_per_image=_ratio(n_dup, n_images),
        label_accuracy=_ratio(label_ok, label_n),
        indeterminate_rate=_ratio(indet, label_n),
        mimic_called_rate=_ratio(mimic_called, mimic_n),
        zonal_accuracy=_ratio(zonal_ok, zonal_n),
        cleft_accuracy=_ratio(cleft_ok, cleft_n),
        cleft_width_mae_mm=sum(width_err) / len(width_err) if width_err else math.nan,
        confusion={t: dict(c) for t, c in confusion.items()},
        counts=dict(total),
        label_accuracy_by_group={k: _ratio(group_ok[k], n) for k, n in group_n.items()},
        indeterminate_by_group={k: _ratio(group_ind[k], n) for k, n in group_n.items()},
        missing_files=tuple(missing),
        brier_score=(sum((p - y) ** 2 for p, y in calib) / len(calib)) if calib else math.nan,
        reliability=_reliability(calib),
    )


def _reliability(pairs: list[tuple[float, bool]], bins: int = 5) -> list[dict[str, float]]:
    """Reliability table: per probability bin, mean predicted p(HO) and observed HO share."""
    rows = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        sel = [(p, y) for p, y in pairs if lo <= p < hi or (i == bins - 1 and p == 1.0)]
        if sel:
            rows.append({"lo": lo, "hi": hi, "n": float(len(sel)),
                         "mean_p": sum(p for p, _ in sel) / len(sel),
                         "observed": sum(y for _, y in sel) / len(sel)})
    return rows


def run_evaluate(results_dir: str, truth_path: str) -> int:
    """CLI body of ``hoimg evaluate``: print the table, write ``evaluation.json``."""
    result = evaluate(results_dir, truth_path)
    print(result.to_text())
    out = Path(results_dir) / "evaluation.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0

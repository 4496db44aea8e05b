"""Fit the HO-versus-POS logistic model on phantoms of a training seed.

    python tools/fit_classifier.py fit --seed 500 --n 300          # writes coefficients.json

Calibration (Brier score, reliability table) is reported by ``hoimg evaluate`` on held-out
data, e.g. ``python benchmarks/accept_pipeline.py --seed 2000 --n 300``.

Training and evaluation use different phantom seeds (the dataset seed; case i of seed S is
``hoimg.phantom.generate(S, i)``). Lesions are *detected* by the real pipeline, matched to
truth by the DESIGN.md rule, and only matched HO and POS lesions are used, so the model
learns from the features it will see in use.

The model is deliberately small: 7 standardised features, L2-penalised logistic regression
(scipy.optimize) with each weight's sign fixed to its radiological direction, so each weight
can be read and questioned.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COEFFS = ROOT / "src" / "hoimg" / "classify" / "coefficients.json"


def _case_features(args):
    seed, index = args
    from hoimg.classify.model import feature_vector
    from hoimg.evaluate import match_lesions
    from hoimg.phantom import generate
    from hoimg.pipeline import analyze

    ph = generate(seed, index)
    res = analyze(ph.radiograph)
    truth = ph.truth["lesions"]
    t2d, _, _ = match_lesions([les.centroid_rc for les in res.lesions], truth,
                              ph.radiograph.pixel_size_mm)
    rows = []
    for t, d in enumerate(t2d):
        cls = truth[t]["class"]
        if d is None:
            continue
        les = res.lesions[d]
        f = les.features  # exactly what the classifier read
        rows.append({
            "seed": seed, "index": index, "class": cls, "stage": truth[t].get("stage"),
            "x": feature_vector(f), "label": les.label,
        })
    return rows


def collect(seed: int, n: int, workers: int) -> list[dict]:
    jobs = [(seed, i) for i in range(n)]
    if workers > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_case_features, jobs, chunksize=4)
    else:
        parts = [_case_features(j) for j in jobs]
    return [row for part in parts for row in part]


def fit(rows: list[dict], l2: float) -> dict:
    from scipy.optimize import minimize

    from hoimg.classify.model import FEATURES

    names = [n for n, _ in FEATURES]
    data = [r for r in rows if r["class"] in ("heterotopic_ossification", "parosteal_osteosarcoma")]
    X = np.array([[r["x"][n] for n in names] for r in data], dtype=np.float64)
    y = np.array([r["class"] == "heterotopic_ossification" for r in data], dtype=np.float64)
    means = X.mean(axis=0)
    scales = X.std(axis=0)
    scales[scales < 1e-6] = 1.0  # a constant feature carries no information; keep weight ~0
    Z = (X - means) / scales

    def loss(theta):
        b, w = theta[0], theta[1:]
        z = b + Z @ w
        # log(1 + exp(-t)) stably, for t = +z (y=1) or -z (y=0)
        t = np.where(y == 1, z, -z)
        nll = np.logaddexp(0.0, -t).sum()
        grad_z = np.where(y == 1, -1.0, 1.0) / (1.0 + np.exp(t))
        g = np.concatenate([[grad_z.sum()], Z.T @ grad_z + 2 * l2 * w])
        return nll + l2 * (w @ w), g

    # Each weight may only point the way the radiology says (DOMAIN.md): more rim, later
    # peak, more continuity and more cleft favour HO; more attachment favours POS. A fit on
    # phantoms cannot then learn a generator artefact with the opposite sign, which would not
    # carry over to radiographs from elsewhere. Lack of a cortex is left free.
    signs = {"zonal_index": 1, "peak_position": 1, "log_rim_core_ratio": 1, "rim_continuity": 1,
             "cleft_fraction": 1, "attachment_fraction": -1, "cleft_not_applicable": 0}
    bounds = [(None, None)] + [
        (0.0, None) if signs[n] > 0 else (None, 0.0) if signs[n] < 0 else (None, None) for n in names
    ]
    theta = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    acc = float((((theta[0] + Z @ theta[1:]) > 0) == (y == 1)).mean())
    return {
        "intercept": float(theta[0]),
        "weights": {n: float(w) for n, w in zip(names, theta[1:])},
        "means": {n: float(m) for n, m in zip(names, means)},
        "scales": {n: float(s) for n, s in zip(names, scales)},
        "training_accuracy": acc,
        "n_ho": int(y.sum()),
        "n_pos": int((1 - y).sum()),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("fit",))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty on standardised weights")
    args = parser.parse_args(argv)
    if args.seed in range(1000, 4000):
        print("refusing to fit on an evaluation seed (1000-3999 are kept for evaluation)", file=sys.stderr)
        return 2
    rows = collect(args.seed, args.n, args.workers)
    result = fit(rows, args.l2)
    payload = {k: result[k] for k in ("intercept", "weights", "means", "scales")}
    payload["provenance"] = {
        "method": "L2-penalised logistic regression on standardised features, weight signs "
                  "constrained to the radiological direction",
        "script": "tools/fit_classifier.py",
        "command": f"python tools/fit_classifier.py fit --seed {args.seed} --n {args.n} --l2 {args.l2}",
        "training_seed": args.seed, "n_cases": args.n,
        "n_ho": result["n_ho"], "n_pos": result["n_pos"],
        "training_accuracy": round(result["training_accuracy"], 4),
    }
    COEFFS.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    print(json.dumps(payload, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The logistic model behind the HO-versus-POS probability, read from ``coefficients.json``.

Features are grouped by the sign they carry ("zonal" or "cleft"), so the classifier can tell
when the two signs disagree. The coefficients are data, written by
``tools/fit_classifier.py`` from phantoms of a training seed range (see that script), and
the file records how they were obtained.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

FEATURES = (
    # name, group
    ("zonal_index", "zonal"),
    ("peak_position", "zonal"),
    ("log_rim_core_ratio", "zonal"),
    ("rim_continuity", "zonal"),
    ("cleft_fraction", "cleft"),
    ("attachment_fraction", "cleft"),
    ("cleft_not_applicable", "cleft"),
)


def feature_vector(f) -> dict[str, float]:
    """Model inputs from :class:`~hoimg.classify.LesionFeatures`; undefined values become the
    neutral value 0 after centring, so they carry no evidence."""

    def val(x, default):
        return x if x is not None and math.isfinite(x) else default

    rc = val(f.rim_core_ratio, 1.0)
    length = val(f.length_mm, math.nan)
    attach = val(f.attachment_mm, 0.0)
    na = f.cleft == "not_applicable" or not math.isfinite(val(f.cleft_fraction, math.nan))
    return {
        "zonal_index": val(f.zonal_index, 0.0),
        "peak_position": val(f.peak_position, 0.5) - 0.5,
        "log_rim_core_ratio": max(-3.0, min(3.0, math.log(rc))) if rc > 0 else 0.0,
        "rim_continuity": val(f.rim_continuity, 0.5) - 0.5,
        "cleft_fraction": 0.0 if na else val(f.cleft_fraction, 0.5) - 0.5,
        "attachment_fraction": 0.0 if na or not length > 0 else min(attach / length, 1.0),
        "cleft_not_applicable": 1.0 if na else 0.0,
    }


@dataclass(frozen=True)
class LogisticModel:
    """``logit p(HO | HO or POS) = intercept + sum_i w_i * (x_i - mean_i) / scale_i``."""

    intercept: float
    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    provenance: dict

    def group_logits(self, x: dict[str, float]) -> dict[str, float]:
        """Log-odds contributed by each sign's features (intercept not included)."""
        out = {"zonal": 0.0, "cleft": 0.0}
        for name, group in FEATURES:
            out[group] += self.weights[name] * (x[name] - self.means[name]) / self.scales[name]
        return out

    def to_dict(self) -> dict:
        return {
            "intercept": self.intercept,
            "weights": self.weights,
            "means": self.means,
            "scales": self.scales,
            "provenance": self.provenance,
        }


@lru_cache(maxsize=1)
def default_model() -> LogisticModel:
    """The committed model (``hoimg/classify/coefficients.json``)."""
    text = resources.files("hoimg.classify").joinpath("coefficients.json").read_text()
    data = json.loads(text)
    names = [n for n, _ in FEATURES]
    for key in ("weights", "means", "scales"):
        missing = set(names) - set(data[key])
        if missing:
            raise ValueError(f"coefficients.json {key} lacks {sorted(missing)}")
    return LogisticModel(
        intercept=float(data["intercept"]),
        weights={n: float(data["weights"][n]) for n in names},
        means={n: float(data["means"][n]) for n in names},
        scales={n: float(data["scales"][n]) for n in names},
        provenance=data.get("provenance", {}),
    )

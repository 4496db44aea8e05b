"""A transparent, calibrated-rules classifier for HO versus parosteal osteosarcoma.

The model adds two pieces of evidence on a log-odds scale, each from one radiological sign
(DOMAIN.md):

* **zonal evidence** from the zonal index (rim denser than a uniform body of the same outline
  would project: HO; centre denser: POS), scaled by how far it is from zero in units of its
  measurement noise;
* **cleft evidence** from the cleft fraction and the attachment length relative to the
  lesion length (complete cleft: HO; broad attachment: POS).

``p(HO | HO or POS) = sigmoid(zonal + cleft)``. An *indeterminate* share is then reserved for
(a) conflicting signs (both strong, opposite directions), (b) likely mimics (small, linear,
round-small, punctate), (c) a central pattern with no bone attachment (looks like neither
pattern), and (d) unknown spacing where a size threshold matters. The label is the most
probable class if its probability reaches ``min_confidence``, else indeterminate.

Every weight is a named argument with a default; none is fitted to phantoms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HO, POS, IND = "heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate"
MIMIC_FLAGS = ("small", "linear", "round_small", "punctate")


@dataclass(frozen=True)
class LesionFeatures:
    """The measurements the classifier reads (NaN where not defined)."""

    zonal_index: float
    rim_core_ratio: float
    peak_position: float
    rim_continuity: float
    zonal_pattern: str
    cleft: str
    cleft_fraction: float
    cleft_width_mm: float
    attachment_mm: float
    distance_to_cortex_mm: float
    length_mm: float
    flags: tuple[str, ...] = ()
    spacing_known: bool = True


@dataclass(frozen=True)
class Classification:
    """Label, probabilities over the three labels (summing to 1) and human reasons."""

    label: str
    probabilities: dict[str, float]
    reasons: tuple[str, ...]
    zonal_evidence: float
    cleft_evidence: float


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def _zonal_evidence(f: LesionFeatures, zonal_scale: float, max_abs: float) -> tuple[float, list[str]]:
    if not _finite(f.zonal_index):
        return 0.0, ["radial profile could not be measured"]
    e = max(-max_abs, min(max_abs, f.zonal_index / zonal_scale))
    rc = f"rim/core {f.rim_core_ratio:.1f}" if _finite(f.rim_core_ratio) else "rim/core n/a"
    if f.zonal_pattern == "peripheral":
        cont = f", rim continuity {f.rim_continuity:.0%}" if _finite(f.rim_continuity) else ""
        return e, [f"dense peripheral rim ({rc}{cont})"]
    if f.zonal_pattern == "central":
        pk = f", peak at s={f.peak_position:.2f}" if _finite(f.peak_position) else ""
        return e, [f"densest at the centre ({rc}{pk})"]
    return e, [f"no zonal pattern: mineral as a uniform body would project ({rc})"]


def _cleft_evidence(
    f: LesionFeatures, cleft_weight: float, attach_weight: float
) -> tuple[float, list[str], bool]:
    """Return (evidence, reasons, attached)."""
    if f.cleft == "not_applicable" or not _finite(f.cleft_fraction):
        return 0.0, ["no cortex within reach: cleft not applicable"], False
    reasons = []
    frac = f.cleft_fraction
    e = cleft_weight * (2.0 * frac - 1.0)
    attached = False
    if _finite(f.attachment_mm) and f.attachment_mm > 0 and _finite(f.length_mm) and f.length_mm > 0:
        rel = min(f.attachment_mm / f.length_mm, 1.0)
        # DOMAIN.md: POS attachment > 1/3 of lesion length; below ~1/10 it is a touch point.
        e -= attach_weight * max(0.0, rel - 0.1) / (1 / 3 - 0.1)
        attached = rel >= 0.1
        if attached:
            reasons.append(f"broad attachment {f.attachment_mm:.0f} mm ({rel:.0%} of length)")
    if f.cleft == "complete":
        w = f", {f.cleft_width_mm:.1f} mm" if _finite(f.cleft_width_mm) else ""
        reasons.insert(0, f"complete cleft to cortex{w}")
    elif f.cleft == "partial":
        reasons.insert(0, f"partial cleft ({frac:.0%} of the interface)")
    else:
        reasons.insert(0, "no cleft to the cortex")
    return e, reasons, attached


def classify(
    features: LesionFeatures,
    *,
    min_confidence: float = 0.6,
    zonal_scale: float = 0.1,
    max_zonal_evidence: float = 4.0,
    cleft_weight: float = 2.0,
    attach_weight: float = 2.5,
    conflict_scale: float = 1.5,
) -> Classification:
    """Classify one lesion.

    Parameters
    ----------
    features : LesionFeatures
    min_confidence : float
        A label needs at least this probability; otherwise indeterminate.
    zonal_scale : float
        Zonal index worth one unit of log-odds (0.1 is about the index's spread on a
        noiseless uniform body, i.e. its no-information width).
    max_zonal_evidence, cleft_weight, attach_weight : float
        Caps and weights of the two signs on the log-odds scale.
    conflict_scale : float
        Evidence (log-odds) at which two opposite signs make the call 63% indeterminate.

    Returns
    -------
    Classification
    """
    zonal_e, reasons = _zonal_evidence(features, zonal_scale, max_zonal_evidence)
    cleft_e, cleft_reasons, attached = _cleft_evidence(features, cleft_weight, attach_weight)
    reasons += cleft_reasons

    p_ho_vs_pos = _sigmoid(zonal_e + cleft_e)
    indeterminate = []  # independent reasons to withhold a call, each with a strength in [0, 1]
    if zonal_e * cleft_e < 0:
        strength = 1.0 - math.exp(-min(abs(zonal_e), abs(cleft_e)) / conflict_scale)
        indeterminate.append(strength)
        reasons.append("the two signs disagree")
    mimic = [f for f in MIMIC_FLAGS if f in features.flags]
    if mimic:
        indeterminate.append(0.95)
        reasons.append(f"likely mimic ({', '.join(mimic).replace('_', ' ')}), not a HO/POS pattern")
    if features.zonal_pattern == "central" and features.cleft == "not_applicable":
        indeterminate.append(0.7)
        reasons.append("central mineral away from bone: neither the HO nor the POS pattern")
    if not features.spacing_known and mimic:
        indeterminate.append(0.5)
        reasons.append("pixel spacing unknown, so the size criteria are unreliable")
    p_keep = 1.0
    for s in indeterminate:
        p_keep *= 1.0 - s
    probs = {
        HO: p_keep * p_ho_vs_pos,
        POS: p_keep * (1.0 - p_ho_vs_pos),
        IND: 1.0 - p_keep,
    }
    best = max((HO, POS), key=probs.__getitem__)
    label = best if probs[best] >= min_confidence else IND
    return Classification(
        label=label,
        probabilities=probs,
        reasons=tuple(reasons),
        zonal_evidence=zonal_e,
        cleft_evidence=cleft_e,
    )

"""Classify one lesion: a transparent logistic model plus explicit abstention rules.

``p(HO | HO or POS)`` comes from a logistic model over the measured features (see
:mod:`hoimg.classify.model`; coefficients are data in ``coefficients.json``). The features
are grouped by the radiological sign they carry (DOMAIN.md):

* **zonal**: zonal index, peak position, rim/core ratio, rim continuity (rim-dense: HO;
  centre-dense: POS);
* **cleft**: cleft fraction and attachment length relative to lesion length (complete cleft:
  HO; broad attachment: POS).

A share of probability is then reserved for *indeterminate*, each for a stated reason:
(a) the two signs disagree, both with conviction (a pattern that reads uniform carries no
zonal sign: its lean against the cleft is then no conflict, and the cleft alone makes the
call, unless the lesion is narrow enough to be a vessel beside the cortex or its width is
unknown); (b) the lesion looks like a mimic (small, linear, tubular, round-small, punctate;
small or tubular not when fused to the cortex along half its length: a small or slender
juxtacortical lesion, since a vessel does not fuse with the cortex); (c) a central pattern with no bone
within reach (neither the HO nor the POS pattern); (d) unknown spacing where a size criterion
matters; (e) a lesion too short to show HO's zoning (under half HO's smallest typical size,
DOMAIN.md: 3-6 cm) and not attached to the cortex, so that neither sign can carry a call;
(f) faint, narrow mineral with no cortex within reach: the cleft sign cannot be read, and
the zonal sign alone cannot tell HO's rim from a calcified vessel, whose two thin walls
project as parallel lines along both long sides (tram lines) and so read rim-dense;
(g) a uniform pattern with no cortex within reach: neither sign can be read; (h) the image
is not a projection radiograph of the skeleton (flag ``modality_out_of_scope``: a CT or MR
slice, a mammogram), where neither sign is defined.
The label is the more probable of HO and POS if it reaches ``min_confidence``, else
indeterminate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import LogisticModel, default_model, feature_vector

HO, POS, IND = "heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate"
MIMIC_FLAGS = ("small", "linear", "tubular", "round_small", "punctate")
# Shapes that are no mimic sign in mineral fused to the cortex (see :func:`classify`).
_ATTACHED_SHAPES = ("small", "tubular")


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
    width_mm: float = math.nan
    shape_index: float = math.nan


@dataclass(frozen=True)
class Classification:
    """Label, probabilities over the three labels (summing to 1) and human reasons."""

    label: str
    probabilities: dict[str, float]
    reasons: tuple[str, ...]
    zonal_evidence: float
    cleft_evidence: float


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _fused_to_cortex(f: LesionFeatures) -> bool:
    """Attached to the cortex (cleft absent or partial) along at least half its length.

    The zonal pattern is not asked: a lesion a few millimetres across has too few pixels per
    radial bin to show one, and its profile reads noise; the attachment holds at any size.
    """
    return (f.cleft in ("absent", "partial") and _finite(f.attachment_mm)
            and _finite(f.length_mm) and f.length_mm > 0
            and f.attachment_mm >= 0.5 * f.length_mm)


def _faint_narrow_away_from_bone(f: LesionFeatures, max_width_mm: float) -> bool:
    """Low-contrast mineral narrower than ``max_width_mm`` with no cortex within reach.

    Needs the spacing: the width is a size criterion.
    """
    return ("low_contrast" in f.flags and f.cleft == "not_applicable" and f.spacing_known
            and _finite(f.width_mm) and f.width_mm < max_width_mm)


def _one_sign_suffices(f: LesionFeatures, min_width_mm: float) -> bool:
    """The zonal pattern reads uniform, and the lesion is too wide to be a vessel.

    A uniform pattern carries no zonal sign of its own, so a lean of the continuous zonal
    features against the cleft is no conflict of signs; the cleft alone may carry the call,
    but only for a lesion wider than a calcified vessel running beside the cortex.
    """
    return (f.zonal_pattern == "uniform" and f.cleft != "not_applicable" and f.spacing_known
            and _finite(f.width_mm) and f.width_mm >= min_width_mm)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def _zonal_reason(f: LesionFeatures) -> str:
    # The shape and zonal indices (each against a uniform body: the one the mask cuts at
    # its edge level, and the one of the mask's outline) decide the pattern; the raw
    # rim/core ratio is below 1 even for many rims, because projection makes every solid
    # body centre-bright, so it is not quoted here.
    if not _finite(f.zonal_index):
        return "radial profile could not be measured"
    zi = f"zonal index {f.zonal_index:+.2f}"
    if _finite(f.shape_index):
        zi += f", shape index {f.shape_index:+.2f}"
    if f.zonal_pattern == "peripheral":
        cont = f", rim continuity {f.rim_continuity:.0%}" if _finite(f.rim_continuity) else ""
        return f"dense peripheral rim ({zi}{cont})"
    if f.zonal_pattern == "central":
        pk = f", peak at s={f.peak_position:.2f}" if _finite(f.peak_position) else ""
        return f"densest at the centre ({zi}{pk})"
    return f"no zonal pattern: density as a uniform body would project ({zi})"


def _cleft_reasons(f: LesionFeatures) -> list[str]:
    if f.cleft == "not_applicable" or not _finite(f.cleft_fraction):
        return ["no cortex within reach: cleft not applicable"]
    if f.cleft == "complete":
        w = f", {f.cleft_width_mm:.1f} mm" if _finite(f.cleft_width_mm) and f.spacing_known else ""
        reasons = [f"complete cleft to cortex{w}"]
    elif f.cleft == "partial":
        reasons = [f"partial cleft ({f.cleft_fraction:.0%} of the interface)"]
    else:
        reasons = ["no cleft to the cortex"]
    if _finite(f.attachment_mm) and f.attachment_mm > 0 and _finite(f.length_mm) and f.length_mm > 0:
        rel = min(f.attachment_mm / f.length_mm, 1.0)
        if rel >= 0.1:
            size = f"{f.attachment_mm:.0f} mm, " if f.spacing_known else ""
            reasons.append(f"broad attachment ({size}{rel:.0%} of length)")
    return reasons


def classify(
    features: LesionFeatures,
    *,
    min_confidence: float = 0.6,
    conflict_scale: float = 1.5,
    min_pattern_length_mm: float = 15.0,
    max_vessel_width_mm: float = 12.0,
    min_single_sign_width_mm: float = 15.0,
    model: LogisticModel | None = None,
) -> Classification:
    """Classify one lesion.

    Parameters
    ----------
    features : LesionFeatures
    min_confidence : float
        A label needs at least this probability; otherwise indeterminate.
    conflict_scale : float
        Log-odds at which two opposite signs make the call 63% indeterminate.
    min_pattern_length_mm : float
        A lesion shorter than this, with no attachment to a cortex (cleft complete or not
        applicable), is withheld: mineral that small (a cluster of punctate foci, a
        fragment) shows no zoning to read, and HO is typically 30-60 mm long.
    max_vessel_width_mm : float
        Low-contrast mineral narrower than this with no cortex within reach (cleft not
        applicable) is withheld: a limb vessel is under 1 cm across, and blur and growth add
        about a millimetre on each side.
    min_single_sign_width_mm : float
        A lesion whose zonal pattern reads uniform may be called on its cleft sign alone
        only if it is at least this wide; narrower, it could be a calcified vessel running
        beside the cortex, and a lean of the zonal features against the cleft then counts
        as a conflict.
    model : LogisticModel, optional
        Defaults to the committed coefficients.

    Returns
    -------
    Classification
    """
    model = model or default_model()
    groups = model.group_logits(feature_vector(features))
    zonal_e, cleft_e = groups["zonal"], groups["cleft"]
    reasons = [_zonal_reason(features), *_cleft_reasons(features)]

    p_ho_vs_pos = _sigmoid(model.intercept + zonal_e + cleft_e)
    withhold = []  # independent reasons to withhold a call, each a strength in [0, 1]
    if zonal_e * cleft_e < 0 and min(abs(zonal_e), abs(cleft_e)) > 0.5:
        if _one_sign_suffices(features, min_single_sign_width_mm):
            # no zonal sign to weigh: the lean of the continuous zonal features is left out
            p_ho_vs_pos = _sigmoid(model.intercept + cleft_e)
            reasons.append("the density reads uniform: the call rests on the cleft sign alone")
        else:
            withhold.append(1.0 - math.exp(-min(abs(zonal_e), abs(cleft_e)) / conflict_scale))
            reasons.append("the two signs disagree")
    mimic = [f for f in MIMIC_FLAGS if f in features.flags]
    if _fused_to_cortex(features):
        # Small or tubular is no mimic sign when the mineral is fused to the cortex over
        # half its length: that is a small or slender juxtacortical lesion (a phlebolith is
        # round_small and lies in the soft tissue; a calcified vessel runs beside the
        # cortex, never fused with it).
        mimic = [f for f in mimic if f not in _ATTACHED_SHAPES]
    if mimic:
        withhold.append(0.95)
        reasons.append(f"likely mimic ({', '.join(mimic).replace('_', ' ')}), not a HO/POS pattern")
    if (not mimic and _finite(features.length_mm) and features.length_mm < min_pattern_length_mm
            and features.cleft in ("complete", "not_applicable")):
        # An attached short lesion keeps its call: the attachment is POS's sign whatever
        # the size. A detached one would rest on its zoning alone.
        withhold.append(0.95)
        size = f"{features.length_mm:.0f} mm" if features.spacing_known else "few pixels"
        reasons.append(f"too small ({size}) to show a zonal pattern; HO is typically 3-6 cm")
    if not mimic and _faint_narrow_away_from_bone(features, max_vessel_width_mm):
        # With no cortex there is no cleft sign; faint tram lines of a calcified vessel
        # read as a rim, so the zonal sign alone would call them HO.
        withhold.append(0.95)
        reasons.append(f"faint and narrow ({features.width_mm:.0f} mm) with no cortex within reach: "
                       "a calcified vessel's walls read as a rim")
    if features.zonal_pattern == "uniform" and features.cleft == "not_applicable":
        withhold.append(0.95)
        density = "uniform density" if _finite(features.zonal_index) else "no radial profile"
        reasons.append(f"neither sign can be read: {density} and no cortex within reach")
    if features.zonal_pattern == "central" and features.cleft == "not_applicable":
        withhold.append(0.7)
        reasons.append("central mineral away from bone: neither the HO nor the POS pattern")
    if not features.spacing_known and mimic:
        withhold.append(0.5)
        reasons.append("pixel spacing unknown, so the size criteria are unreliable")
    if "modality_out_of_scope" in features.flags:
        withhold.append(1.0)
        reasons.append("the image is not a radiograph of the skeleton (its DICOM Modality): "
                       "HO and POS are not called on it")
    p_keep = 1.0
    for strength in withhold:
        p_keep *= 1.0 - strength
    probs = {HO: p_keep * p_ho_vs_pos, POS: p_keep * (1.0 - p_ho_vs_pos), IND: 1.0 - p_keep}
    best = max((HO, POS), key=probs.__getitem__)
    label = best if probs[best] >= min_confidence else IND
    return Classification(
        label=label,
        probabilities=probs,
        reasons=tuple(reasons),
        zonal_evidence=zonal_e,
        cleft_evidence=cleft_e,
    )

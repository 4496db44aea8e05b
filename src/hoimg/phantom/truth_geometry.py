"""Cleft truth from the geometry: gap to the cortex and attachment length.

Definitions (all in the image plane, mm, measured perpendicular to the shaft axis):

* For each position ``u`` along the shaft where the lesion's projected footprint exists,
  ``gap(u) = max(0, side * (v_near(u) - v_bone) - R(u))``: the distance from the projected
  outer cortex edge ``v_bone + side * R(u)`` to the nearest footprint point on that row, on
  the lesion's side of the bone. A footprint that reaches or overlaps the cortex has zero gap.
* ``distance_to_cortex_mm`` = the smallest gap over the lesion.
* The *facing interface* is the set of rows with ``gap(u) <= distance_to_cortex + 3 mm``
  where the footprint is at least half as wide (across the shaft) as at its widest: the
  body of the lesion facing the cortex, not its tapering ends, whose outline curves away
  from the cortex in a wedge that no reader would call a cleft.
* ``attachment_mm`` = the longest run of zero-gap rows along the interface.
* ``gap_mm`` = the narrowest positive gap on the interface: the cleft width of an HO
  (closest approach), the "string sign" width of a POS beside its attachment; None when
  the cleft is absent (only slivers where the outline curves away from the cortex).
* ``cleft_fraction`` = share of interface rows with a positive gap.
* ``cleft`` = "not_applicable" when the lesion is farther than ``reach_mm`` from the
  cortex; else "complete" with no attachment, "absent" when the cleft fraction is below
  0.1, otherwise "partial".
"""

from __future__ import annotations

import math

import numpy as np

INTERFACE_MARGIN_MM = 3.0
BODY_FRACTION = 0.5


def _longest_run(mask: np.ndarray) -> int:
    best = run = 0
    for m in mask:
        run = run + 1 if m else 0
        best = max(best, run)
    return best


def cleft_truth(
    lesion, limb, *, step_u_mm: float = 0.1, step_v_mm: float = 0.02, reach_mm: float = 15.0
) -> dict:
    """Measure the cleft of ``lesion`` against ``limb``'s bone, exactly from the geometry.

    Returns a dict with ``side`` (+1/-1), ``distance_to_cortex_mm``, ``gap_mm``,
    ``attachment_mm``, ``cleft_fraction``, ``cleft`` (see the module docstring) and the
    footprint's ``length_mm`` / ``width_mm`` along / across the shaft axis.
    """
    u0, u1, v0, v1 = lesion.bounds_uv()
    us = np.arange(u0, u1 + step_u_mm, step_u_mm)
    vs = np.arange(v0, v1 + step_v_mm, step_v_mm)
    side = 1 if 0.5 * (v0 + v1) >= limb.bone_offset_mm else -1
    sup = lesion.support(us[:, None], vs[None, :])
    rows = sup.any(axis=1)
    if not rows.any():
        raise ValueError("lesion has an empty footprint")
    dist = side * (vs[None, :] - limb.bone_offset_mm) - limb.bone_radius_mm(us)[:, None]
    near = np.where(sup, dist, np.inf).min(axis=1)[rows]
    gap = np.maximum(near, 0.0)
    dmin = float(gap.min())
    cols = sup.any(axis=0)
    out = {
        "side": side,
        "distance_to_cortex_mm": round(dmin, 3),
        # footprint extent along / across the shaft axis
        "length_mm": round(float(np.ptp(us[rows])) + step_u_mm, 3),
        "width_mm": round(float(np.ptp(vs[cols])) + step_v_mm, 3),
    }
    if dmin > reach_mm:
        out.update(gap_mm=None, attachment_mm=0.0, cleft_fraction=None, cleft="not_applicable")
        return out
    extent = sup[rows].sum(axis=1)
    near_face = gap <= dmin + INTERFACE_MARGIN_MM
    face = near_face & (extent >= BODY_FRACTION * extent.max())
    if not face.any():
        # the closest approach is at a tapering end only: measure there rather than nowhere
        face = near_face
    g = gap[face]
    open_ = g > 1.5 * step_v_mm  # beyond the v-grid quantisation
    attach = _longest_run(~open_) * step_u_mm
    frac = float(open_.mean())
    gap_mm = float(g[open_].min()) if open_.any() else None
    if attach == 0:
        cleft = "complete"
    elif frac < 0.1:
        cleft = "absent"
        gap_mm = None  # only sliver gaps where the outline curves away: no cleft to measure
    else:
        cleft = "partial"
    out.update(
        gap_mm=None if gap_mm is None else round(gap_mm, 3),
        attachment_mm=round(attach, 3),
        cleft_fraction=round(frac, 4),
        cleft=cleft,
    )
    return out


def nearest_gap_mm(
    lesion, limb, side: int, *, step_u_mm: float = 0.2, step_v_mm: float = 0.02
) -> float:
    """Smallest signed distance (mm) from the cortex edge on ``side`` to the footprint."""
    u0, u1, v0, v1 = lesion.bounds_uv()
    us = np.arange(u0, u1 + step_u_mm, step_u_mm)
    vs = np.arange(v0, v1 + step_v_mm, step_v_mm)
    sup = lesion.support(us[:, None], vs[None, :])
    dist = side * (vs[None, :] - limb.bone_offset_mm) - limb.bone_radius_mm(us)[:, None]
    d = np.where(sup, dist, np.inf).min()
    return float(d) if math.isfinite(d) else math.inf

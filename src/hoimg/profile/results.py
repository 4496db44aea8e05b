"""Result objects of the profile stage: :class:`RadialProfile` and :class:`CleftScan`.

Small frozen dataclasses in the spirit of photutils' ``RadialProfile``: the measured
arrays, the scalar features derived from them, ``to_dict()`` for tables and JSON, and a
``plot(ax=None)`` that imports matplotlib only when called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ZONAL_PATTERNS = ("peripheral", "central", "uniform")
CLEFT_CATEGORIES = ("complete", "partial", "absent", "not_applicable")


def _scalar(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _array(values: np.ndarray) -> list:
    out = []
    for v in np.asarray(values).tolist():
        if isinstance(v, float) and not math.isfinite(v):
            out.append(None)
        else:
            out.append(v)
    return out


@dataclass(frozen=True, eq=False)
class RadialProfile:
    """Background-subtracted density of one lesion against normalised radius.

    The normalised radius of a lesion pixel is ``s = 1 - d / d_max``, where ``d`` is its
    exact Euclidean distance (pixels) to the nearest non-lesion pixel and ``d_max`` the
    largest such distance in the lesion: ``s = 0`` at the core (the pixel deepest inside)
    and ``s -> 1`` at the boundary. For a disc this is ``r / R``; for an elongated or
    irregular outline it follows the outline, so a rim of constant wall thickness maps to
    a constant band of ``s``.

    Attributes
    ----------
    s : (n_bins,) ndarray
        Bin centres; bin ``k`` holds ``k/n <= s < (k+1)/n``.
    values : (n_bins,) ndarray
        Mean background-subtracted density per bin (NaN for empty bins).
    counts : (n_bins,) ndarray of int
        Pixels per bin.
    sector_values : (n_sectors, n_bins) ndarray
        The same per angular sector around the lesion centroid (NaN where empty).
    background : float
        Soft-tissue level at the lesion centroid: a plane is fitted to the band just
        outside the lesion (bone and other lesions left out; pixels beyond 3 robust sigmas
        of the band median ignored) and subtracted pixel by pixel.
    background_slope_rc : (float, float)
        That plane's slope per pixel along rows and columns.
    centroid_rc : (float, float)
        Centroid of the profiled pixels.
    noise_sigma : float
        Robust per-pixel noise of that band (MAD of neighbour differences / sqrt 2).
    uniform_reference : (n_bins,) ndarray
        What a uniform-density body of the same outline would project, scaled to a
        maximum of 1: per pixel the chord ``sqrt(e (2 e_max - e))`` with ``e = d - 1/2``
        (distance to the boundary) -- exact for a ball, the local-thickness model
        otherwise -- averaged over the same bins.
    peak_position : float
        s of the profile maximum (parabolic refinement around the maximal bin).
    rim_core_ratio : float
        Mean density over s >= rim_start divided by that over s <= core_end (the core
        mean is floored at 2 % of the peak so a lucent core gives a large, finite ratio).
    zonal_index : float
        In [-1, 1]: ``(x - y) / (x + y)`` with ``x``, ``y`` the rim and core densities each
        divided by the uniform reference over the same zone (negatives clipped to 0).
        0 for a uniform body of any outline; > 0 rim denser, < 0 core denser.
    rim_continuity : float
        Share of sectors whose maximum over the outer half (s >= 0.5) exceeds the core
        mean by more than ``rim_sigma`` standard errors of the noise.
    gradient_index : float
        Signed radial gradient index (after Kupinski & Giger 1998): sum of the image
        gradient projected on the outward direction over the sum of its magnitude,
        inside the lesion. > 0 means density rises towards the boundary.
    spearman_rho : float
        Spearman rank correlation of ``values`` with ``s``.
    zonal_pattern : str
        "peripheral", "central" or "uniform", decided by ``shape_index`` and, within its
        band, ``zonal_index`` (the rule: :mod:`hoimg.profile.radial`).
    shape_index : float
        In [-1, 1]: ``(x - y) / (x + y)`` with ``x``, ``y`` the outer-half (0.5 <= s, edge
        bin left out) and core densities each divided by the chord of the uniform body
        that the mask cuts at its edge level (its outline offset outwards until that
        chord falls from the core to the edge bin as the data do). 0 for a uniform body
        however deep the mask cuts it; < 0 a core denser than that, > 0 an outer half.
    flags : tuple of str
    """

    s: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    sector_values: np.ndarray
    background: float
    noise_sigma: float
    uniform_reference: np.ndarray
    peak_position: float
    rim_core_ratio: float
    zonal_index: float
    rim_continuity: float
    gradient_index: float
    spearman_rho: float
    zonal_pattern: str
    shape_index: float = float("nan")
    flags: tuple[str, ...] = ()
    d_max_px: float = float("nan")
    n_pixels: int = 0
    centroid_rc: tuple[float, float] = (float("nan"), float("nan"))
    background_slope_rc: tuple[float, float] = (0.0, 0.0)
    rim_start: float = 0.8
    core_end: float = 0.4

    @property
    def n_bins(self) -> int:
        return int(self.s.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (lists for arrays, None for NaN)."""
        out: dict[str, Any] = {
            "s": _array(self.s),
            "values": _array(self.values),
            "counts": [int(v) for v in self.counts],
            "uniform_reference": _array(self.uniform_reference),
            "sector_values": [_array(row) for row in self.sector_values],
        }
        for name in (
            "background",
            "noise_sigma",
            "peak_position",
            "rim_core_ratio",
            "zonal_index",
            "shape_index",
            "rim_continuity",
            "gradient_index",
            "spearman_rho",
            "d_max_px",
        ):
            out[name] = _scalar(getattr(self, name))
        out.update(zonal_pattern=self.zonal_pattern, n_pixels=int(self.n_pixels),
                   centroid_rc=[_scalar(v) for v in self.centroid_rc],
                   background_slope_rc=[_scalar(v) for v in self.background_slope_rc],
                   flags=list(self.flags))
        return out

    def plot(self, ax=None):
        """Plot P(s) with the rim and core zones shaded and the uniform reference dashed.

        The reference is scaled to the profile's least-squares amplitude so the two
        shapes can be compared. Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        ax.axvspan(0.0, self.core_end, color="tab:blue", alpha=0.12, label="core")
        ax.axvspan(self.rim_start, 1.0, color="tab:orange", alpha=0.15, label="rim")
        ok = np.isfinite(self.values)
        ax.plot(self.s[ok], self.values[ok], "o-", color="k", label="P(s)")
        ref = self.uniform_reference
        good = ok & np.isfinite(ref)
        denom = float(np.sum(ref[good] ** 2))
        if denom > 0:
            scale = float(np.sum(ref[good] * self.values[good])) / denom
            ax.plot(self.s[good], scale * ref[good], "--", color="0.4", label="uniform body")
        ax.set_xlim(0, 1)
        ax.set_xlabel("normalised radius s (0 core, 1 boundary)")
        ax.set_ylabel("density above background")
        ax.set_title(f"{self.zonal_pattern}, zonal index {self.zonal_index:+.2f}, "
                     f"shape index {self.shape_index:+.2f}", fontsize=9)
        ax.legend(fontsize=7, loc="best")
        return ax


@dataclass(frozen=True, eq=False)
class CleftScan:
    """Lucent cleft between one lesion and the nearest cortex, sampled along normals.

    The interface is the part of the periosteal edge whose outward normal enters the
    lesion within the reach, and whose gap is within ``cleft_interface_margin_mm`` of the
    smallest one (the facing part); it is sampled every ``step_mm`` of edge length. Per normal,
    the gap is the distance along the normal from the periosteal edge to where it enters
    the lesion mask; the dip is how far the mean intensity over the middle half of the gap
    lies below the lower of the cortex level (mean over the outer cortex) and the lesion
    level (mean just inside the lesion's near edge), in noise units.

    Attributes
    ----------
    category : str
        "complete" (cleft_fraction >= complete threshold), "partial", "absent" (below the
        partial threshold) or "not_applicable" (no cortex within reach, or no bone).
    cleft_fraction : float
        Share of interface normals with a cleft.
    cleft_width_mm : float
        Width of the cleft at its narrowest part: the ``cleft_width_quantile`` (0.1)
        quantile of the gap over the normals with a cleft (NaN if none). This is what the
        phantom truth's ``gap_mm`` (closest approach / string-sign width) measures.
    median_gap_mm : float
        Median gap over the normals with a cleft (NaN if none).
    min_gap_mm : float
        Narrowest gap among the normals with a cleft (NaN if none).
    attachment_mm : float
        Longest contiguous run of contact normals times the step (0 if none).
    distance_to_cortex_mm : float
        Smallest gap over all interface normals (0 when the lesion touches the cortex).
    n_normals : int
    base_rc, normal_rc : (K, 2) ndarray
        Edge points and outward unit normals of the interface normals.
    arc_mm : (K,) ndarray
        Position of each normal along its cortex edge (mm).
    gap_mm, dip_sigma : (K,) ndarray
    has_cleft, contact : (K,) ndarray of bool
        A cleft is a gap of at least ``cleft_min_gap_mm`` with a dip of at least
        ``cleft_dip_sigma`` that keeps at most ``1 - cleft_contrast_fraction`` of the
        lesion's contrast over soft tissue; contact is no cleft and a gap below
        ``cleft_min_gap_mm``.
    flags : tuple of str
    step_mm : float
    """

    category: str
    cleft_fraction: float
    cleft_width_mm: float
    min_gap_mm: float
    attachment_mm: float
    distance_to_cortex_mm: float
    n_normals: int
    base_rc: np.ndarray = field(repr=False)
    normal_rc: np.ndarray = field(repr=False)
    arc_mm: np.ndarray = field(repr=False)
    gap_mm: np.ndarray = field(repr=False)
    dip_sigma: np.ndarray = field(repr=False)
    has_cleft: np.ndarray = field(repr=False)
    contact: np.ndarray = field(repr=False)
    flags: tuple[str, ...] = ()
    step_mm: float = 0.5
    median_gap_mm: float = float("nan")

    @classmethod
    def not_applicable(cls, flags: tuple[str, ...] = ("cleft_not_measurable",),
                       step_mm: float = 0.5) -> CleftScan:
        """The result when there is no cortex within reach (all features NaN)."""
        e2 = np.empty((0, 2), dtype=np.float64)
        e1 = np.empty(0, dtype=np.float64)
        b1 = np.empty(0, dtype=bool)
        nan = float("nan")
        return cls("not_applicable", nan, nan, nan, nan, nan, 0, e2, e2.copy(), e1, e1.copy(),
                   e1.copy(), b1, b1.copy(), tuple(sorted(set(flags))), step_mm)

    def to_dict(self, *, per_normal: bool = False) -> dict[str, Any]:
        """Plain-Python dict; with ``per_normal`` the per-normal arrays are included."""
        out: dict[str, Any] = {"category": self.category}
        for name in ("cleft_fraction", "cleft_width_mm", "median_gap_mm", "min_gap_mm",
                     "attachment_mm", "distance_to_cortex_mm", "step_mm"):
            out[name] = _scalar(getattr(self, name))
        out["n_normals"] = int(self.n_normals)
        out["flags"] = list(self.flags)
        if per_normal:
            out.update(
                base_rc=_array(self.base_rc),
                normal_rc=_array(self.normal_rc),
                arc_mm=_array(self.arc_mm),
                gap_mm=_array(self.gap_mm),
                dip_sigma=_array(self.dip_sigma),
                has_cleft=[bool(v) for v in self.has_cleft],
                contact=[bool(v) for v in self.contact],
            )
        return out

    def plot(self, ax=None):
        """Plot the gap width along the interface; cleft, contact and other normals coloured.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        if self.n_normals == 0:
            ax.text(0.5, 0.5, "no cortex within reach", ha="center", va="center",
                    transform=ax.transAxes)
        else:
            x = self.arc_mm
            other = ~(self.has_cleft | self.contact)
            ax.plot(x, self.gap_mm, "-", color="0.7", lw=0.8)
            ax.plot(x[self.has_cleft], self.gap_mm[self.has_cleft], "o", ms=3,
                    color="tab:blue", label="cleft")
            ax.plot(x[self.contact], self.gap_mm[self.contact], "s", ms=3,
                    color="tab:red", label="contact")
            if other.any():
                ax.plot(x[other], self.gap_mm[other], "x", ms=3, color="0.4",
                        label="gap without dip")
            ax.set_xlabel("position along cortex (mm)")
            ax.set_ylabel("gap (mm)")
            ax.legend(fontsize=7, loc="best")
        ax.set_title(f"cleft {self.category}, fraction {self.cleft_fraction:.2f}", fontsize=9)
        return ax

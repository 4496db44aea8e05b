"""`analyze()`: one radiograph in, lesions with labels, measurements and reasons out.

Chains the stages (io -> segment -> profile -> classify) and wraps the result in an
:class:`Analysis` that renders as a table, a dict, an overlay PNG or a notebook view.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .config import AnalysisConfig
from .errors import InvalidInputError
from .radiograph import Radiograph

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from .classify import LesionFeatures
    from .profile import CleftScan, RadialProfile
    from .segment import BoneModel

# LesionFeatures fields that a Lesion reports as they are.
_FEATURES_ON_LESION = (
    "zonal_index", "rim_core_ratio", "peak_position", "rim_continuity", "cleft_width_mm",
    "cleft_fraction", "attachment_mm", "distance_to_cortex_mm",
)

# Those of them in mm: NaN in the results when the spacing is unknown.
_MM_ON_LESION = ("cleft_width_mm", "attachment_mm", "distance_to_cortex_mm")

# Smaller images cannot hold a bone and a lesion at any plausible pixel pitch.
MIN_IMAGE_PX = 64

# Image-level flags copied onto every lesion, because they change how its mm values read
# or whether it may be called at all.
_IMAGE_FLAGS_ON_LESIONS = ("spacing_detector_plane", "spacing_unknown", "spacing_invalid",
                           "modality_out_of_scope")


@dataclass(frozen=True, eq=False)
class Lesion:
    """One soft-tissue mineralisation with its measurements and classification.

    Attributes follow DESIGN.md; mm values are NaN where not defined. ``profile`` is the
    :class:`hoimg.profile.RadialProfile` and ``cleft_scan`` the
    :class:`hoimg.profile.CleftScan` they were read from.
    """

    id: int
    centroid_rc: tuple[float, float]
    bbox_rc: tuple[int, int, int, int]
    area_mm2: float
    length_mm: float
    width_mm: float
    profile: RadialProfile
    zonal_pattern: str
    zonal_index: float
    rim_core_ratio: float
    peak_position: float
    rim_continuity: float
    cleft: str
    cleft_width_mm: float
    cleft_fraction: float
    attachment_mm: float
    distance_to_cortex_mm: float
    label: str
    probabilities: dict[str, float]
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    cleft_scan: CleftScan | None = field(default=None, repr=False)
    # exactly what the classifier read (mm values as measured, also with unknown spacing)
    features: LesionFeatures | None = field(default=None, repr=False)

    @property
    def probability(self) -> float:
        """Probability of the label given."""
        return float(self.probabilities[self.label])

    def to_dict(self, *, profiles: bool = True) -> dict[str, Any]:
        """Plain-Python dict; with ``profiles`` the radial profile arrays are included."""
        out: dict[str, Any] = {
            "id": self.id,
            "centroid_rc": [float(v) for v in self.centroid_rc],
            "bbox_rc": [int(v) for v in self.bbox_rc],
        }
        for name in (
            "area_mm2", "length_mm", "width_mm", "zonal_index", "rim_core_ratio", "peak_position",
            "rim_continuity", "cleft_width_mm", "cleft_fraction", "attachment_mm",
            "distance_to_cortex_mm",
        ):
            value = float(getattr(self, name))
            out[name] = value if math.isfinite(value) else None
        out.update(
            zonal_pattern=self.zonal_pattern,
            cleft=self.cleft,
            label=self.label,
            probabilities={k: float(v) for k, v in self.probabilities.items()},
            reasons=list(self.reasons),
            flags=list(self.flags),
        )
        if profiles:
            out["profile"] = profile_record(self.profile)
        return out

    def plot_profile(self, ax=None):
        """Plot the radial profile: P(s), rim and core zones, zonal index and label.

        Returns the matplotlib Axes.
        """
        ax = self.profile.plot(ax=ax)
        ax.set_title(
            f"lesion {self.id}: {self.zonal_pattern}, zonal index {self.zonal_index:+.2f}, "
            f"shape index {self.profile.shape_index:+.2f}\n"
            f"{self.label.replace('_', ' ')} (p={self.probability:.2f})",
            fontsize=9,
        )
        return ax

    def plot_cleft(self, ax=None):
        """Plot the cleft scan along the cortex (gap width per normal). Returns the Axes."""
        if self.cleft_scan is None:
            raise InvalidInputError(f"lesion {self.id} has no cleft scan")
        ax = self.cleft_scan.plot(ax=ax)
        ax.set_title(f"lesion {self.id}: cleft {self.cleft}", fontsize=9)
        return ax


@dataclass(frozen=True, eq=False)
class Analysis:
    """Result of :func:`analyze` for one image.

    Attributes
    ----------
    image : Radiograph
    bone : BoneModel
    lesions : tuple of Lesion
    lesion_labels : (M, N) ndarray of int32
        Label image of the lesions (ids match ``Lesion.id``).
    config : AnalysisConfig
    """

    image: Radiograph
    bone: BoneModel
    lesions: tuple[Lesion, ...]
    lesion_labels: np.ndarray = field(repr=False)
    config: AnalysisConfig = field(default_factory=AnalysisConfig, repr=False)

    def to_frame(self, *, file: str | None = None) -> pd.DataFrame:
        """One row per lesion with the ``lesions.csv`` columns (typed, also when empty)."""
        from .report.tables import LESION_SCHEMA, lesion_records, to_frame

        return to_frame(lesion_records(self, file=file), LESION_SCHEMA)

    def to_dict(self, *, profiles: bool = True) -> dict[str, Any]:
        """The whole analysis as plain Python (JSON-serialisable)."""
        from . import __version__

        img = self.image
        return {
            "hoimg_version": __version__,
            "config_hash": self.config.hash(),
            "image": {
                "image_id": img.image_id,
                "rows": img.shape[0],
                "cols": img.shape[1],
                "spacing_mm": list(img.spacing_mm) if img.spacing_mm else None,
                "spacing_source": img.spacing_source,
                "flags": list(img.flags),
                "meta": dict(img.meta),
            },
            "bone": {"n_bones": self.bone.n_bones, "flags": list(self.bone.flags)},
            "lesions": [les.to_dict(profiles=profiles) for les in self.lesions],
        }

    def overlay_png(self) -> bytes:
        """The overlay picture as PNG bytes (see :mod:`hoimg.report.overlay`)."""
        from .report.overlay import render_png

        return render_png(self)

    def save_overlay(self, path: str | os.PathLike) -> None:
        """Write the overlay PNG a radiologist reads, atomically (see :mod:`hoimg.report.overlay`)."""
        from .report.overlay import save_overlay

        save_overlay(self, path)

    def plot(self, ax=None):
        """Draw the overlay into a matplotlib Axes (new figure if None); returns the Axes."""
        from .report.overlay import plot_overlay

        return plot_overlay(self, ax=ax)

    @cached_property
    def _thumbnail_png(self) -> bytes:
        from .report.overlay import render_png

        return render_png(self, max_px=640)

    def _repr_html_(self) -> str:
        import base64
        import html

        img = self.image
        sp = "unknown" if img.spacing_mm is None else f"{img.pixel_size_mm:.3f} mm ({img.spacing_source})"
        head = (
            f"<b>hoimg analysis</b> {html.escape(img.image_id)} &middot; {img.shape[0]}&times;"
            f"{img.shape[1]} px &middot; spacing {html.escape(sp)} &middot; {len(self.lesions)} lesion(s)"
        )
        thumb = base64.b64encode(self._thumbnail_png).decode()
        cols = ["lesion_id", "label", "p_heterotopic_ossification", "p_parosteal_osteosarcoma",
                "zonal_pattern", "zonal_index", "cleft", "cleft_width_mm", "attachment_mm",
                "length_mm", "flags"]
        table = self.to_frame()[cols].to_html(index=False, float_format=lambda v: f"{v:.2f}",
                                              na_rep="")
        reasons = "".join(
            f"<li>lesion {les.id}: {html.escape('; '.join(les.reasons))}</li>" for les in self.lesions
        )
        return (
            f"<div>{head}<div style='display:flex;gap:1em;align-items:flex-start'>"
            f"<img src='data:image/png;base64,{thumb}' style='max-width:420px'/>"
            f"<div>{table}<ul>{reasons}</ul></div></div></div>"
        )

    def __repr__(self) -> str:
        labels = ", ".join(f"{les.id}:{les.label}" for les in self.lesions) or "no lesions"
        return f"Analysis({self.image!r}, {labels})"


def profile_record(profile) -> dict[str, Any]:
    """The JSON form of a radial profile, shared by ``Lesion.to_dict`` and the batch
    journal: ``s``, ``values`` (NaN as None), ``counts`` and the ``shape_index`` that
    decided the zonal pattern along with the zonal index; None for what ``profile`` (which
    may be None) does not carry."""

    def number(v):
        v = float(v)
        return v if math.isfinite(v) else None

    def listed(name, cast):
        value = getattr(profile, name, None)
        return None if value is None else [cast(v) for v in value]

    shape = getattr(profile, "shape_index", None)
    return {
        "s": listed("s", float),
        "values": listed("values", number),
        "counts": listed("counts", int),
        "shape_index": None if shape is None else number(shape),
    }


def _coerce_config(config) -> AnalysisConfig:
    if config is None:
        return AnalysisConfig()
    if isinstance(config, AnalysisConfig):
        return config
    if isinstance(config, dict):
        return AnalysisConfig.from_dict(config)
    if isinstance(config, (str, os.PathLike)):
        return AnalysisConfig.from_file(config)
    raise InvalidInputError(
        f"config must be an AnalysisConfig, dict or path, got {type(config).__name__}"
    )


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def analyze(source, *, pixel_spacing_mm=None, config=None) -> Analysis:
    """Analyse one radiograph.

    Parameters
    ----------
    source : str, os.PathLike, (M, N) ndarray or Radiograph
        A DICOM file, a PNG/TIFF, a 2-D array (higher = denser) or a loaded Radiograph.
    pixel_spacing_mm : float or (float, float), optional
        Overrides the file's spacing (recorded as ``user``); needed for mm features of
        PNG/TIFF/arrays.
    config : AnalysisConfig, dict or path, optional
        Tunables; defaults are documented in :mod:`hoimg.config`.

    Returns
    -------
    Analysis

    Raises
    ------
    hoimg.errors.HoimgError
        With a one-line message naming the file and the problem.
    """
    from .io import load
    from .segment import find_bone, find_lesions

    config = _coerce_config(config)
    image = load(source, pixel_spacing_mm=pixel_spacing_mm, config=config.load)
    if min(image.shape) < MIN_IMAGE_PX:
        raise InvalidInputError(
            f"image is {image.shape[0]} x {image.shape[1]} px; hoimg needs at least "
            f"{MIN_IMAGE_PX} px per side to find bone and lesions",
            path=image.source,
        )
    bone = find_bone(image, config=config)
    candidates = find_lesions(image, bone, config=config)
    return analyze_segmented(image, bone, candidates, config=config)


def analyze_segmented(image: Radiograph, bone, candidates, *, config=None) -> Analysis:
    """Measure and classify lesions whose segmentation is already known.

    Use this to analyse your own masks (e.g. expert outlines, or a phantom's truth masks):
    build :class:`hoimg.segment.LesionCandidates` from a label image and pass it with a
    :class:`hoimg.segment.BoneModel`.

    Parameters
    ----------
    image : Radiograph
    bone : hoimg.segment.BoneModel
    candidates : hoimg.segment.LesionCandidates
    config : AnalysisConfig, dict or path, optional

    Returns
    -------
    Analysis
    """
    from .classify import LesionFeatures, classify
    from .flags import check
    from .profile import measure_lesions

    config = _coerce_config(config)
    measured = measure_lesions(image, bone, candidates, config=config)

    image_flags = tuple(f for f in image.flags if f in _IMAGE_FLAGS_ON_LESIONS)
    lesions = []
    for rec, (prof, cleft) in zip(candidates.records, measured):
        flags = check(tuple(rec.flags) + tuple(prof.flags) + tuple(cleft.flags) + image_flags)
        features = LesionFeatures(
            zonal_index=_nan(prof.zonal_index),
            rim_core_ratio=_nan(prof.rim_core_ratio),
            peak_position=_nan(prof.peak_position),
            rim_continuity=_nan(prof.rim_continuity),
            zonal_pattern=prof.zonal_pattern,
            cleft=cleft.category,
            cleft_fraction=_nan(cleft.cleft_fraction),
            cleft_width_mm=_nan(cleft.cleft_width_mm),
            attachment_mm=_nan(cleft.attachment_mm),
            distance_to_cortex_mm=_nan(cleft.distance_to_cortex_mm),
            length_mm=_nan(rec.length_mm),
            flags=flags,
            spacing_known=image.has_spacing,
            width_mm=_nan(rec.width_mm),
            shape_index=_nan(prof.shape_index),
        )
        # Every ClassifyConfig field is a keyword of classify() (a test holds them equal).
        result = classify(features, **asdict(config.classify))
        reported = {name: getattr(features, name) for name in _FEATURES_ON_LESION}
        sizes = {"area_mm2": _nan(rec.area_mm2), "length_mm": _nan(rec.length_mm),
                 "width_mm": _nan(rec.width_mm)}
        if not image.has_spacing:
            # Segmentation and profiles ran on an assumed pitch (config.load.fallback_spacing_mm)
            # so their scales made sense; ratios stay valid, but no millimetre is reported.
            reported.update(dict.fromkeys(_MM_ON_LESION, math.nan))
            sizes = dict.fromkeys(sizes, math.nan)
        lesions.append(
            Lesion(
                id=rec.id,
                centroid_rc=tuple(float(v) for v in rec.centroid_rc),
                bbox_rc=tuple(int(v) for v in rec.bbox_rc),
                **sizes,
                profile=prof,
                zonal_pattern=prof.zonal_pattern,
                cleft=cleft.category,
                **reported,
                label=result.label,
                probabilities=result.probabilities,
                reasons=result.reasons,
                flags=flags,
                cleft_scan=cleft,
                features=features,
            )
        )
    return Analysis(
        image=image, bone=bone, lesions=tuple(lesions), lesion_labels=candidates.labels, config=config
    )

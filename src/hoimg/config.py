"""`AnalysisConfig`: every tunable of the pipeline, in physical units, with its default.

The config is a frozen tree of dataclasses, one section per stage. It round-trips through
JSON and YAML, and its :meth:`AnalysisConfig.hash` is recorded with every result so a
``--resume`` never mixes outputs of two configurations.

Each stage owns its section; add a parameter there, with a comment saying why the default
is what it is. Parameters are passed into kernels as arguments, never read as globals.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInputError


@dataclass(frozen=True)
class LoadConfig:
    """Loader limits."""

    # Refuse images declared larger than this before decoding anything (a lying header
    # must not make us allocate gigabytes).
    max_megapixels: float = 100.0
    # Used only when no spacing is known: a typical DR/CR pitch (DOMAIN.md: 0.1-0.2 mm),
    # so that mm-defined filter scales stay sensible. Results carry `spacing_unknown`.
    fallback_spacing_mm: float = 0.15


@dataclass(frozen=True)
class SegmentConfig:
    """Bone and lesion segmentation scales (mm) and thresholds (noise units).

    Noise units: the robust sigma (1.4826 x local MAD) of a fine high-pass of the smoothed
    working image, so thresholds do not depend on dose, bit depth or tone curve.
    """

    # Most work happens on an isotropic grid of this pitch: fine enough for 1 mm clefts and
    # 2 mm phleboliths (5 px), coarse enough that a 3000 px image costs ~1 Mpx per filter.
    working_pixel_mm: float = 0.4
    # Soft-tissue background: Gaussian window (sigma) of a local quadratic fit that skips
    # bone, air, collimation and candidates. The quadratic follows the limb's thickness
    # dome at any window; the window must be wide against lesions (10-80 mm) so that a
    # smooth, centre-dense lesion is not fitted as background.
    background_scale_mm: float = 8.0
    # Smoothing before thresholding; about the detector blur (MTF 0.5 at 1.5-2 lp/mm).
    smoothing_mm: float = 0.5
    # Second, coarse smoothing that lifts a faint rim's lucent interior (a thin shell still
    # projects 2t of mineral at its centre) above noise, so the lesion comes out whole.
    coarse_smoothing_mm: float = 2.0
    # Lesion seed threshold, in robust noise sigmas above the local background.
    lesion_threshold_sigma: float = 5.0
    # Hysteresis: grow seeds into pixels above this many sigmas.
    lesion_grow_sigma: float = 2.5
    # Seeds must also reach this many sigmas on the coarse map (white noise averages out
    # there, real mineral does not), which keeps the false-positive rate per image low.
    coarse_threshold_sigma: float = 4.0
    # The local noise map is opened along the limb over this length (mm): a compact lesion
    # inflates the noise estimate where it lies (its own faint pixels count as spread),
    # clutter that runs along the limb is longer than this and keeps its level. 0: off.
    noise_opening_mm: float = 40.0
    # Large faint lesions: excess over a 3x wider background, smoothed at
    # coarse_smoothing_mm, above this many local sigmas, is kept out of the lesion-scale
    # background fit (else a 50 mm centre-dense POS is fitted as soft tissue).
    large_lesion_sigma: float = 3.0
    # A lesion stands out of the soft tissue around it: the 90th percentile of its excess
    # over the background, minus the median excess in a ring 2-8 mm outside it, must be at
    # least this many of the ring's own robust sigmas. Measured against the lesion's
    # surroundings, not against a noise map the lesion itself may have raised or lowered.
    ring_contrast_sigma: float = 4.0
    # Lesions smaller than this area are dropped as noise.
    min_lesion_area_mm2: float = 2.0
    # A faint first-pass core (its fine peak under twice lesion_threshold_sigma) smaller
    # than this is dropped as noise before it grows. Larger faint cores grow and face the
    # ring test (ring_contrast_sigma), which judges a faint lesion's grown shape better
    # than its core's size does: the seeds of a faint rim are 20-40 mm2 islands.
    faint_core_min_area_mm2: float = 20.0
    # Longer than this (mm, first-pass extent) is not one lesion (HO and POS are at most
    # ~80 mm): a band of soft tissue, air the field mask missed, or a bone left unmodelled.
    max_lesion_length_mm: float = 120.0
    # Below this area a candidate is flagged `small`.
    small_lesion_area_mm2: float = 40.0
    # Round and below this length (mm): `round_small` (phleboliths are 2-5 mm).
    round_small_length_mm: float = 6.0
    # Elongation (major/minor axis) above which a thin candidate is `linear`.
    linear_elongation: float = 5.0
    # ...and it must also be thinner than this: calcified limb arteries and tram lines are at
    # most ~8 mm across even when they meander, while HO and POS are >= 10 mm across (typically
    # 3-6 cm). Without it, HO -- elongated along its muscle by nature -- was flagged `linear`.
    linear_max_width_mm: float = 8.0
    # Closing radius that joins a faint rim into one lesion with its centre. Immature and
    # intermediate rims are patchy (gaps of several mm between mineral islands), so the
    # radius is 4 mm: gaps up to 8 mm close. HO lies >= 1 mm from the cortex, and the bone
    # is cut out after the closing, so the closing cannot glue a lesion to the bone.
    rim_closing_mm: float = 4.0
    # Holes up to this area (mm^2) are filled into a lesion: the largest lesions (80 mm
    # long, DOMAIN.md) fit; larger "holes" are soft tissue enclosed by other structures.
    max_hole_mm2: float = 4000.0
    # Second pass (whole lesions): the background is refitted with each first-pass
    # candidate plus this margin (mm) left out, so a lesion's faint flanks are measured
    # against the soft tissue around it rather than absorbed by the fit ...
    refine_exclude_mm: float = 3.0
    # ... and each candidate grows into connected pixels above this many coarse-map
    # sigmas. Low, because growth only continues a lesion already found (white noise
    # averages out on the coarse map) and is bounded by refine_margin_mm.
    refine_grow_sigma: float = 1.5
    # Growth reaches at most this far (mm) beyond the first-pass candidate: lesions are
    # 10-80 mm and the first pass finds at least their dense core or rim.
    refine_margin_mm: float = 10.0
    # ... and above this fraction of the candidate's peak: a dense lesion's own flank is
    # far above the background's few-sigma misfit, which must not leak in, while a
    # thickness-weighted (sqrt-shaped) edge is at 5% of the peak within 0.2% of its radius.
    refine_peak_fraction: float = 0.05
    # A core that grows to more than refine_runaway_ratio times its area with pixels
    # averaging below refine_runaway_fraction of its peak has run into a fainter
    # neighbouring structure (a phlebolith into a muscle belly): it keeps only what is
    # above that fraction. A body's own flank adds less area at a fair share of its peak.
    refine_runaway_ratio: float = 4.0
    refine_runaway_fraction: float = 0.2
    # Growth leaves a core only through pixels within refine_gate_mm outside it whose
    # density (fine map) keeps this fraction of the densest core pixel within
    # refine_gate_mm + refine_gate_reach_mm: a flank cut short or a rim going on does (dev
    # POS: median 0.6, read within 2 mm), while beyond a mature shell's edge the density
    # falls to the soft tissue's (95th percentile 0.15-0.22 within 2 mm), where misfit and
    # scatter would otherwise grow lobes and bridge the cleft to the bone. The reach is the
    # thickest wall expected: a projected shell is brightest a wall's thickness inside its
    # edge (DOMAIN.md), mature walls run to ~5 mm, and read within 2 mm a thick wall's
    # gentle outer slope set the level, so a misfit plateau beside it passed (dev 45/1,
    # 12/26: the mask grew a lobe and the shell read central).
    refine_gate_mm: float = 1.0
    refine_gate_fraction: float = 0.25
    refine_gate_reach_mm: float = 4.0
    refine_gate_reach_mm: float = 4.0
    # Growth also runs on a map smoothed to this width (mm): between the fine map (a faint
    # flank lost in noise) and the coarse one (a sharp rim blurred 2 mm outwards).
    refine_medium_smoothing_mm: float = 1.0
    # Within bone_margin_mm of the bone a lesion grows only while its residual stays
    # above this fraction of the adjacent lesion pixel's: a broad attachment keeps its
    # density up to the cortex, a cleft is a dip (0.8 leaves room for ~1 sigma of noise
    # on a lesion 5 sigmas above background).
    refine_band_ratio: float = 0.8
    # Outlines sit at the half-level point of the edge (a blurred step's true edge): outer
    # pixels below this fraction of the densest lesion pixel within refine_edge_mm are
    # peeled off, at most refine_edge_mm deep (the blur halo of a dense rim is < 1 mm; a
    # thickness-weighted body edge, sqrt-shaped, is then cut < 0.5 mm inside).
    refine_edge_fraction: float = 0.5
    refine_edge_mm: float = 0.75
    # Peel at most this deep (mm): the halo the medium/coarse growth maps add to a sharp
    # dense edge (~2 smoothing widths of refine_medium_smoothing_mm).
    refine_peel_depth_mm: float = 2.0
    # Minimum bone width; narrower dense structures are not bone.
    min_bone_width_mm: float = 5.0
    # Widest shaft expected (an adult femoral shaft is ~30 mm): the two cortices of a
    # shaft up to this wide are paired into one bone candidate (wider flares are followed
    # by the edge fit, not by the pairing).
    max_bone_width_mm: float = 45.0
    # A bone is long: at least this length (mm).
    min_bone_length_mm: float = 30.0
    # A dense band shorter than this must leave the field to be a bone: a mature HO is a
    # dense elongated shell up to 80 mm long, a shaft crosses the image.
    min_bone_track_mm: float = 100.0
    # One-sided tolerance (mm) of the smooth periosteal edge model: the edge may bulge out
    # this much before the bulge counts as juxtacortical mineral rather than bone.
    bone_edge_tolerance_mm: float = 1.0
    # Soft tissue within this distance (mm) of the fitted bone edge neither seeds nor
    # grows a lesion: detector blur and scatter put the bone's own edge there.
    bone_margin_mm: float = 1.5
    # Pixels within this distance (mm) of the field edge (image, collimation, air) do not
    # seed lesions: the edge's own blur and processing halo would.
    field_margin_mm: float = 2.0
    # A thin candidate with 70% of its area within this distance (mm) of the skin, or any
    # candidate within twice this distance of a collimator edge (scatter falls off over
    # ~15 mm there), is an edge effect, not a lesion.
    field_band_mm: float = 8.0


@dataclass(frozen=True)
class ProfileConfig:
    """Radial profile and cleft scan parameters."""

    n_bins: int = 10
    n_sectors: int = 16
    # Band just outside the lesion used as its local soft-tissue background.
    background_band_mm: float = 3.0
    # s >= rim_start is the rim, s <= core_end is the core (DOMAIN.md feature table).
    rim_start: float = 0.8
    core_end: float = 0.4
    # Search for a cortex within this distance of the lesion (issue: default 15 mm).
    cleft_reach_mm: float = 15.0
    # Spacing of the normals along the facing interface.
    cleft_step_mm: float = 0.5
    # A dip deeper than this many noise sigmas below both neighbours is a cleft.
    cleft_dip_sigma: float = 2.0
    # cleft_fraction at or above this is "complete"; below partial_min it is "absent".
    cleft_complete_fraction: float = 0.9
    cleft_partial_min_fraction: float = 0.1
    # The background band starts this far out: skips the detector blur (MTF 0.5 at
    # ~1.5-2 lp/mm, i.e. ~0.3 mm) and the first part of any edge-enhancement halo.
    background_gap_mm: float = 0.5
    # Soft tissue within this distance (mm) of the bone is the bone's blurred edge: it is
    # left out of every profile's background band, and an attached lesion's thin gap to
    # the bone there (where segmentation stops growth) is not the lesion's boundary, so
    # its dense base is not read as rim. Half HO's narrowest cleft (1 mm, DOMAIN.md), so
    # a cleft stays boundary; rounded to whole blocks, so a big lesion measured on 4x4
    # blocks gets one block (0.4-0.9 mm). 0 disables.
    bone_halo_mm: float = 0.5
    # |zonal_index| below this reads "uniform": 0.2 means rim and core differ by a factor
    # 1.5 after dividing each by what a uniform body of the same outline projects.
    zonal_uniform_band: float = 0.2
    # |shape_index| below this reads "uniform" (then the zonal index above decides a
    # rim): the outer half and the core differ by less than a factor 1.1 after dividing
    # each by the chord of the uniform body the mask cuts at its edge level. A detected
    # mask cuts a centre-dense lesion where it fades into the noise, so its edge stands
    # well above zero, which the zonal index reads as rim; the shape index does not (dev
    # seeds 43/44/45/12, 150 phantoms each, detected masks: POS zonal accuracy
    # 0.92/0.81/0.86/0.89 -> 1.00/0.97/0.96/0.92, mature HO unchanged but one of 34 on
    # seed 12; truth masks unchanged). Uniform balls with detector blur, cut anywhere
    # between their outline and 3 noise sigmas, stay within about +-0.035.
    zonal_shape_band: float = 0.05
    # A profile maximum at s >= this is a projected rim peak (a shell of wall t peaks at
    # s = 1 - t/R; a uniform body peaks at the core), so half the band then suffices.
    zonal_rim_peak_min: float = 0.5
    # Big lesions are profiled on 2x2 or 4x4 block means, keeping at least this many
    # blocks across the half-width: 10 bins then still hold >= 2 blocks each, thin rims
    # (>= 1 mm) stay resolved, and the cost falls by the block area.
    block_radius_px: float = 20.0
    # Opt-in (0 = off): grow a lesion's support once into 4-connected pixels standing this
    # many noise sigmas above the background plane, for segmentations that cut lesions at
    # a high iso-level (a centre-dense lesion cut at half its peak reads uniform). Off by
    # default: on accurate (truth) masks growth adds the blur halo and costs mature HO
    # their rim (phantom seed 7: zonal 1.00 -> 0.56). regrow_sigma below grows only the
    # lesions that need it.
    grow_sigma: float = 0.0
    # Conditional growth (0 = off): a lesion whose profile does not read peripheral is
    # profiled again on its support grown into pixels this many noise sigmas above the
    # background plane. Detection cuts a smooth centre-dense lesion where it fades into
    # noise, near half its peak, and the rest of it then reads uniform; a rim-dense
    # lesion already reads peripheral and keeps its mask (growth would add its blur halo).
    # Phantom seed 500 (dev), detected masks: POS zonal accuracy 0.00 -> 0.79, HO unchanged.
    regrow_sigma: float = 2.0
    # ... grown again, each time from the plane refitted around the last growth, while it
    # still reads uniform, up to this many growths (0 disables regrowth; 1 was the rule
    # before). The first plane is fitted on a band that lies on the flank of a lesion cut
    # at half its peak, so one growth stops short of the outline (dev seeds 43/44 with
    # detected masks: POS zonal accuracy 0.82 -> 0.90 and 0.73 -> 0.81 with 4 growths,
    # HO unchanged; 10 growths added one immature and one intermediate HO on seed 44).
    regrow_passes: int = 8
    # Rim continuity counts a sector when its rim maximum beats the core by this many
    # standard errors (issue 4: "more than 2 sigma of noise").
    rim_sigma: float = 2.0
    # Narrowest gap that counts as a cleft: about the detector blur (~0.3 mm); narrower
    # mask gaps are segmentation jitter, not a resolvable lucent line.
    cleft_min_gap_mm: float = 0.3
    # Cortex level = mean over this depth inside the periosteal edge; lesion level = mean
    # over this depth inside the lesion's near edge (about one thin HO rim / cortex wall).
    cleft_cortex_mm: float = 1.0
    cleft_lesion_mm: float = 1.0
    # The facing interface is the normals whose gap is within this of the lesion's
    # closest approach: the part of the outline that faces the cortex, not its far ends
    # curving away (the phantom truth uses the same 3 mm margin).
    cleft_interface_margin_mm: float = 3.0
    # A cleft must lose at least this share of the lesion's contrast over soft tissue:
    # a lucent line is closer to soft tissue than to the lesion. Without it, a dense strip
    # between an under-segmented lesion and the cortex passes the (very sensitive) noise
    # test on low-noise processed images.
    cleft_contrast_fraction: float = 0.5
    # The lesion's near edge along a normal is where the image falls below this share of
    # the lesion's contrast over soft tissue; it replaces the mask edge when the mask was
    # drawn too tight. A quarter, not half: a projected rim rises like a square root at its
    # outline, so its half level lies inside it (dev seed 500, detected masks: cleft width
    # MAE 0.78 -> 0.63 mm; truth masks unchanged at 0.13-0.14 mm). The cortex's outer edge
    # is found at the same share of the cortex's contrast, walking out from the bone
    # model's half-maximum edge (dev seeds 43/44, detected bone and masks: width MAE
    # 0.83 -> 0.73 and 1.00 -> 0.91 mm; POS median bias 0.11 -> 0.01 mm).
    cleft_edge_fraction: float = 0.25
    # cleft_width_mm is this quantile of the gap over cleft normals: the width at the
    # cleft's narrowest part, robust to a single ragged mask pixel (the median is kept as
    # CleftScan.median_gap_mm).
    cleft_width_quantile: float = 0.1


@dataclass(frozen=True)
class ClassifyConfig:
    """Classifier decision parameters."""

    # A label is given only when its probability exceeds this; else indeterminate.
    min_confidence: float = 0.6
    # Detached lesions shorter than this (mm) are indeterminate: too small to show HO's
    # zoning (half of HO's smallest typical size, 3 cm; DOMAIN.md).
    min_pattern_length_mm: float = 15.0
    # Low-contrast mineral narrower than this (mm) with no cortex within reach is
    # indeterminate: zoning alone cannot tell HO's rim from a calcified vessel's tram lines.
    max_vessel_width_mm: float = 12.0
    # A lesion whose zonal pattern reads uniform is called on its cleft alone only if at
    # least this wide (mm); narrower, it could be a vessel beside the cortex.
    min_single_sign_width_mm: float = 15.0


@dataclass(frozen=True)
class ReportConfig:
    """Overlay rendering."""

    overlay_max_px: int = 2048
    # Images flagged burned_in_annotation may carry names or dates in their pixels: the
    # overlay then shows only the measurements on a blank film unless this is set.
    show_burned_in: bool = False


# Values that are shares or probabilities; every other number must be finite and >= 0, and
# these must also be > 0 because a zero would make a scale or a limit meaningless.
_UNIT_INTERVAL = {
    "rim_start", "core_end", "min_confidence", "zonal_uniform_band", "zonal_shape_band",
    "zonal_rim_peak_min", "cleft_complete_fraction", "cleft_partial_min_fraction",
    "cleft_contrast_fraction", "cleft_edge_fraction", "cleft_width_quantile",
    "refine_peak_fraction", "refine_runaway_fraction", "refine_gate_fraction",
}
_STRICTLY_POSITIVE = {
    "max_megapixels", "fallback_spacing_mm", "working_pixel_mm", "background_scale_mm",
    "cleft_reach_mm", "cleft_step_mm", "n_bins", "n_sectors", "overlay_max_px",
    "max_lesion_length_mm",
}


def _check_value(section: str, key: str, default: Any, value: Any) -> None:
    """Refuse a value of the wrong type or outside its meaningful range, naming the key."""
    where = f"config {section}.{key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InvalidInputError(f"{where} must be true or false, got {value!r}")
        return
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"{where} must be a whole number, got {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"{where} must be a number, got {value!r}")
    else:
        return
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{where} must be finite and >= 0, got {value!r}")
    if key in _STRICTLY_POSITIVE and value <= 0:
        raise InvalidInputError(f"{where} must be > 0, got {value!r}")
    if key in _UNIT_INTERVAL and value > 1:
        raise InvalidInputError(f"{where} is a share and must lie in [0, 1], got {value!r}")


# Keys that configured steps hoimg no longer has: a config file that sets them still
# loads (they are ignored, with a FutureWarning naming them), so it keeps working.
_RETIRED = {
    ("segment", "bone_threshold_sigma"): "bone seeds by threshold were replaced by cortex edge pairs",
    ("segment", "min_bone_elongation"): "bones are recognised by their paired cortices, not by shape",
}

_SECTIONS = {
    "load": LoadConfig,
    "segment": SegmentConfig,
    "profile": ProfileConfig,
    "classify": ClassifyConfig,
    "report": ReportConfig,
}


@dataclass(frozen=True)
class AnalysisConfig:
    """All tunables of one analysis, grouped by stage.

    Examples
    --------
    >>> cfg = AnalysisConfig().replace(profile={"cleft_reach_mm": 20.0})
    >>> cfg.profile.cleft_reach_mm
    20.0
    >>> AnalysisConfig.from_json(cfg.to_json()) == cfg
    True
    """

    load: LoadConfig = field(default_factory=LoadConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain dict, JSON-serialisable."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AnalysisConfig:
        """Build from a (possibly partial) nested dict; unknown keys are errors."""
        return cls().replace(**(data or {}))

    def replace(self, **sections: dict[str, Any]) -> AnalysisConfig:
        """Return a copy with some fields of some sections changed."""
        updated = {}
        for name, values in sections.items():
            if name not in _SECTIONS:
                raise InvalidInputError(
                    f"unknown config section {name!r}; expected one of {sorted(_SECTIONS)}"
                )
            if not isinstance(values, dict):
                raise InvalidInputError(f"config section {name!r} must be a mapping")
            section_cls = _SECTIONS[name]
            known = {f.name: f for f in dataclasses.fields(section_cls)}
            values = dict(values)
            for key in [k for k in values if (name, k) in _RETIRED]:
                warnings.warn(
                    f"config {name}.{key} is no longer used and is ignored "
                    f"({_RETIRED[(name, key)]})", FutureWarning, stacklevel=3)
                del values[key]
            for key, value in values.items():
                if key not in known:
                    raise InvalidInputError(
                        f"unknown config key {name}.{key}; known keys: {sorted(known)}"
                    )
                _check_value(name, key, getattr(section_cls(), key), value)
            updated[name] = dataclasses.replace(getattr(self, name), **values)
        result = dataclasses.replace(self, **updated)
        if not result.profile.core_end < result.profile.rim_start:
            raise InvalidInputError(
                f"config profile.core_end ({result.profile.core_end}) must be below "
                f"profile.rim_start ({result.profile.rim_start})"
            )
        return result

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the input of :meth:`hash`."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AnalysisConfig:
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=True)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> AnalysisConfig:
        """Read a JSON (``.json``) or YAML (anything else) config file."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InvalidInputError(f"cannot read config: {exc.strerror}", path=path) from exc
        try:
            if path.endswith(".json"):
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as exc:  # json/yaml syntax errors have many types
            raise InvalidInputError(f"config is not valid JSON/YAML: {exc}", path=path) from exc
        try:
            return cls.from_dict(data)
        except InvalidInputError as exc:
            raise InvalidInputError(exc.reason, path=path) from exc

    def hash(self) -> str:
        """Short SHA-256 of the canonical JSON: equal configs give equal hashes."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

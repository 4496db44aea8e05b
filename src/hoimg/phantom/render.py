"""Turn a case's parameters into pixels and truth (the body of :func:`generate`)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..radiograph import Radiograph
from . import imaging
from .anatomy import sample_limb
from .lesions import CLASS_OF_KIND
from .processing import log_signal, present
from .truth_geometry import cleft_truth

_PLACEMENT_TRIES = 30
_STRIP_ROWS = 128
_LESION_CLEARANCE_MM = 5.0


def _visible_half_length_mm(grid: imaging.Grid) -> float:
    h = 0.5 * grid.rows * grid.spacing_mm[0]
    w = 0.5 * grid.cols * grid.spacing_mm[1]
    a = math.radians(grid.angle_deg)
    # half length of the limb axis inside the image rectangle
    ca, sa = abs(math.cos(a)), abs(math.sin(a))
    return min(h / ca if ca > 1e-6 else math.inf, w / sa if sa > 1e-6 else math.inf)


def _place_lesions(rng, limb, grid, specs, margins_px, keep_out=()):
    """Draw each lesion, retrying its position until it sits inside the open field and
    clear of the lesions already placed and of ``keep_out`` boxes (marker, text); lesions
    that cannot be placed are dropped."""
    placed, boxes = [], list(keep_out)
    half_len = _visible_half_length_mm(grid)
    pad_r = _LESION_CLEARANCE_MM / grid.spacing_mm[0]
    pad_c = _LESION_CLEARANCE_MM / grid.spacing_mm[1]
    top, bottom, left, right = margins_px
    for spec in specs:
        from .placement import SAMPLERS

        sampler = SAMPLERS[spec["kind"]]
        for _ in range(_PLACEMENT_TRIES):
            s = dict(spec)
            if s.get("u_mm") is None:
                s["u_mm"] = float(rng.uniform(-0.6, 0.6) * half_len)
            les = sampler(rng, limb, s)
            r0, r1, c0, c1 = grid.pixel_window(les.bounds_uv(), pad_px=0)
            inside = (
                r0 > top + pad_r
                and r1 < grid.rows - bottom - pad_r
                and c0 > left + pad_c
                and c1 < grid.cols - right - pad_c
            )
            clear = all(
                r1 + pad_r < b[0] or b[1] + pad_r < r0 or c1 + pad_c < b[2] or b[3] + pad_c < c0
                for b in boxes
            )
            if (inside and clear) or spec.get("u_mm") is not None:
                placed.append(les)
                boxes.append((r0, r1, c0, c1))
                break
    return placed


def _keep_out_boxes(grid, params, margins_px) -> list[tuple[int, int, int, int]]:
    """Pixel boxes (r0, r1, c0, c1) of the lead marker and the burned-in text."""
    boxes = []
    if params["marker"]:
        r0, c0, mask = _marker(grid, params, margins_px)
        boxes.append((r0, r0 + mask.shape[0], c0, c0 + mask.shape[1]))
    if params["text"]:
        boxes.append(_text_layout(params, grid, margins_px)[4])
    return boxes


def _cortex_side_name(grid, side: int) -> tuple[str, tuple[float, float]]:
    a = math.radians(grid.angle_deg)
    vec = (-math.sin(a) * side, math.cos(a) * side)  # (row, col) of +v times side
    if abs(vec[1]) >= abs(vec[0]):
        name = "right" if vec[1] > 0 else "left"
    else:
        name = "bottom" if vec[0] > 0 else "top"
    return name, (round(vec[0], 4), round(vec[1], 4))


def _lesion_truth(les, limb, grid, window) -> dict:
    r0, r1, c0, c1 = window
    u, v = grid.uv(r0, r1, c0, c1)
    sup = les.support(u.astype(np.float64), v.astype(np.float64))
    rr, cc = np.nonzero(sup)
    if rr.size == 0:
        return {}
    geo = cleft_truth(les, limb)
    kind = les.kind
    side_name, side_vec = _cortex_side_name(grid, geo["side"])
    truth = {
        "class": CLASS_OF_KIND[kind],
        "kind": kind,
        "centroid_rc": [round(float(rr.mean() + r0), 3), round(float(cc.mean() + c0), 3)],
        "bbox_rc": [
            int(rr.min() + r0),
            int(cc.min() + c0),
            int(rr.max() + r0 + 1),
            int(cc.max() + c0 + 1),
        ],
        "zonal": {"ho": "peripheral", "pos": "central"}.get(kind),
        "cleft": geo["cleft"],
        "gap_mm": geo["gap_mm"],
        "attachment_mm": geo["attachment_mm"],
        "stage": les.stage if kind == "ho" else None,
        "cleft_fraction": geo["cleft_fraction"],
        "distance_to_cortex_mm": geo["distance_to_cortex_mm"],
        "length_mm": geo["length_mm"],
        "width_mm": geo["width_mm"],
        "area_mm2": round(float(rr.size * grid.spacing_mm[0] * grid.spacing_mm[1]), 3),
        "cortex_side": side_name,
        "cortex_side_rc": list(side_vec),
    }
    truth.update(les.extras())
    return truth


def _marker(grid, params, field_margins):
    h_px = params["marker_height_mm"] / grid.spacing_mm[0]
    mask = imaging.letter_mask(params["marker_letter"], int(h_px))
    top, bottom, left, right = field_margins
    ir = int(params["marker_inset"][0] * grid.rows)
    ic = int(params["marker_inset"][1] * grid.cols)
    corner = params["marker_corner"]
    r0 = top + ir if corner in (0, 1) else grid.rows - bottom - ir - mask.shape[0]
    c0 = left + ic if corner in (0, 2) else grid.cols - right - ic - mask.shape[1]
    r0 = int(np.clip(r0, 0, grid.rows - mask.shape[0]))
    c0 = int(np.clip(c0, 0, grid.cols - mask.shape[1]))
    return r0, c0, mask


def render_case(rng, params, *, seed: int, index: int):
    """Render one case; see :func:`hoimg.phantom.generate`."""
    from .dicom_writer import dicom_params
    from .generator import Phantom

    rows, cols = int(params["rows"]), int(params["cols"])
    s_r, s_c = float(params["spacing_mm"]), float(params["col_spacing_mm"])
    s = math.sqrt(s_r * s_c)  # for isotropic operations (blurs, text size)
    axis_off = params.get("axis_offset_mm") or (
        params["axis_offset_frac"][0] * rows * s_r,
        params["axis_offset_frac"][1] * cols * s_c,
    )
    grid = imaging.Grid(rows, cols, (s_r, s_c), float(params["limb_angle_deg"]), tuple(axis_off))
    limb = sample_limb(rng, _visible_half_length_mm(grid))
    if params.get("limb"):
        limb = dataclasses.replace(limb, **params["limb"])
    m = params["collimation_margins"] if params["collimation"] else (0.0, 0.0, 0.0, 0.0)
    margins_px = (int(m[0] * rows), int(m[1] * rows), int(m[2] * cols), int(m[3] * cols))
    keep_out = _keep_out_boxes(grid, params, margins_px)
    lesions = _place_lesions(rng, limb, grid, params["lesions"], margins_px, keep_out)

    # -- projection --------------------------------------------------------------------
    mineral, labels, windows = imaging.project_lesions(grid, lesions)
    # Texture and grid-line draws come from their own stream (derived from the noise seed),
    # so they never shift the geometry draws.
    arng = np.random.default_rng([params["noise_seed"], 1])
    texture_amp, feature_mm = arng.uniform(0.15, 0.35), arng.uniform(0.6, 1.5)
    texture = imaging.smooth_random_field(arng, (rows, cols), s, feature_mm)
    texture = np.clip(1 + np.float32(texture_amp) * texture, 0.2, None)
    grid_lines = arng.uniform() < 0.15
    grid_freq, grid_depth, grid_axis = (
        arng.uniform(4, 8),
        arng.uniform(0.01, 0.03),
        arng.integers(2),
    )
    if params.get("grid_lines") is not None:
        grid_lines = bool(params["grid_lines"])
    transmission = np.empty((rows, cols), np.float32)
    bone_labels = np.empty((rows, cols), np.int32)
    # strips of rows keep the many per-tissue temporaries in cache (about 2x faster at 3000^2)
    for r0 in range(0, rows, _STRIP_ROWS):
        r1 = min(r0 + _STRIP_ROWS, rows)
        u, v = grid.uv(r0, r1)
        t, bone = imaging.transmitted_fraction(
            limb, u, v, mineral[r0:r1], params["effective_kev"], texture[r0:r1]
        )
        transmission[r0:r1] = t
        bone_labels[r0:r1] = bone
    # incident beam: heel effect along one axis, collimator leakage outside the field
    incident = (
        imaging.collimation_field(rows, cols, margins_px, 0.6 / s)
        if params["collimation"]
        else np.ones((rows, cols), np.float32)
    )
    field = incident.copy()
    incident += np.float32(params["collimator_leak"]) * (1 - field)
    if params["heel"]:
        axis = params["heel_axis"]
        n = rows if axis < 2 else cols
        ramp = 1 + np.linspace(-1, 1, n, dtype=np.float32) * np.float32(
            params["heel_strength"] * (1 if axis % 2 else -1)
        )
        incident *= ramp[:, None] if axis < 2 else ramp[None, :]
    primary = incident * transmission
    if grid_lines:
        primary *= imaging.grid_line_pattern((rows, cols), s, grid_freq, grid_depth, int(grid_axis))
    if params["marker"]:
        r0, c0, mask = _marker(grid, params, margins_px)
        sub = primary[r0 : r0 + mask.shape[0], c0 : c0 + mask.shape[1]]
        sub[mask] *= np.float32(0.004)  # lead: almost nothing gets through
    if params["scatter"]:
        # Scatter arises where photons interact in the patient (source ~ incident * (1 - T)),
        # spreads over tens of mm, and is scaled to the drawn scatter-to-primary ratio in
        # soft tissue (DOMAIN.md: ~0.1-0.3 hand, 0.4-1 knee).
        limb_frac = min(1.0, limb.half_width_mm / 80.0)
        spr = params["spr_base"] + params["spr_extra"] * limb_frac
        broad = imaging.blur_mm(incident * (1 - transmission), params["scatter_sigma_mm"], s)
        sub_t = transmission[::8, ::8]
        soft = (sub_t < 0.7) & (bone_labels[::8, ::8] == 0) & (field[::8, ::8] > 0.5)
        if soft.any():
            k = (
                spr
                * float(np.median(primary[::8, ::8][soft]))
                / max(float(np.median(broad[::8, ::8][soft])), 1e-6)
            )
        else:
            k = spr
        primary = primary + np.float32(k) * broad
    air = params["dose_per_mm2"] * s_r * s_c
    expected = primary * np.float32(air)
    if params["noise"]:
        nrng = np.random.default_rng(params["noise_seed"])
        counts = nrng.poisson(expected).astype(np.float32)
    else:
        counts = expected
    counts = imaging.blur_mm(counts, imaging.detector_sigma_mm(params["mtf50_lp_mm"]), s)
    density = log_signal(counts, air)

    # -- presentation ------------------------------------------------------------------
    proc = params["processing_params"]
    dense_up = present(density, proc, s, field)
    maxv = 2**proc.bits_stored - 1
    if params["text"]:
        _burn_text(dense_up, params, grid, margins_px, maxv)
    stored = (
        (maxv - dense_up).astype(np.uint16) if params["photometric"] == "MONOCHROME1" else dense_up
    )
    dcm = dicom_params(params, stored, seed=seed, index=index)
    slope, intercept = params["rescale"] or (1.0, 0.0)
    pixels = (np.float32(slope) * dense_up.astype(np.float32) + np.float32(intercept)).astype(
        np.float32
    )

    # -- truth ---------------------------------------------------------------------------
    les_truth = [
        _lesion_truth(les, limb, grid, win) for les, win in zip(lesions, windows, strict=True)
    ]
    keep = [i for i, t in enumerate(les_truth) if t]
    relabel = np.zeros(len(lesions) + 1, np.int32)
    for new, old in enumerate(keep, start=1):
        relabel[old + 1] = new
    labels = relabel[labels]
    truth = {
        "file": f"case_{index:04d}.dcm",
        "spacing_mm": [s_r, s_c],
        "spacing_source": params["spacing_source"],
        "spacing_tag_mm": list(dcm["loader_spacing_mm"]),
        "photometric": params["photometric"],
        "transfer_syntax": params["transfer_syntax"],
        "transfer_syntax_uid": dcm["transfer_syntax_uid"],
        "rows": rows,
        "cols": cols,
        "bits_stored": proc.bits_stored,
        "rescale": list(params["rescale"]) if params["rescale"] else None,
        "modality": params["modality"],
        "limb_angle_deg": round(float(params["limb_angle_deg"]), 3),
        "patient_name": params["patient_name"],
        "burned_in_text": bool(params["text"]),
        "marker": params["marker_letter"] if params["marker"] else None,
        "seed": seed,
        "index": index,
        "lesions": [les_truth[i] for i in keep],
    }
    radiograph = Radiograph(
        pixels=pixels,
        spacing_mm=dcm["loader_spacing_mm"],
        spacing_source=params["spacing_source"],
        display_window=dcm["display_window"],
        image_id=dcm["image_id"],
        meta={
            "modality": params["modality"],
            "photometric": params["photometric"],
            "transfer_syntax": dcm["transfer_syntax_uid"],
            "bits_stored": proc.bits_stored,
            "body_part": params["body_part"],
            "view": params["view"],
        },
        flags=_image_flags(params["spacing_source"], dcm["loader_spacing_mm"]),
    )
    return Phantom(
        stored=stored,
        radiograph=radiograph,
        truth=truth,
        lesion_labels=labels,
        bone_labels=bone_labels,
        lesion_density=mineral,
        dicom=dcm,
        limb=limb,
        lesions=tuple(lesions[i] for i in keep),
    )


def _image_flags(spacing_source: str, spacing_mm) -> tuple[str, ...]:
    """The spacing flags a correct loader attaches (DOMAIN.md spacing chain)."""
    flags = []
    if spacing_source == "imager_detector_plane":
        flags.append("spacing_detector_plane")
    row, col = spacing_mm
    if abs(row - col) > 0.01 * min(row, col):
        flags.append("spacing_anisotropic")
    return tuple(flags)


def _text_layout(params, grid, margins_px):
    """Where burned-in text goes: (org_col, org_row, scale, thickness, box r0, r1, c0, c1),
    opposite the marker corner, inside the open field."""
    import cv2

    h_px = params["text_height_mm"] / grid.spacing_mm[0]
    scale = h_px / 22.0
    thick = max(1, int(round(h_px / 8)))
    top, bottom, left, right = margins_px
    corner = 3 - params["marker_corner"]
    (w, h), base = cv2.getTextSize(params["text_string"], cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    r = (
        top + int(0.03 * grid.rows) + h
        if corner in (0, 1)
        else grid.rows - bottom - int(0.03 * grid.rows) - base
    )
    c = (
        left + int(0.03 * grid.cols)
        if corner in (0, 2)
        else grid.cols - right - int(0.03 * grid.cols) - w
    )
    r, c = max(r, h), max(c, 0)
    return c, r, scale, thick, (r - h - thick, r + base + thick, c - thick, c + w + thick)


def _burn_text(img: np.ndarray, params, grid, margins_px, value: int) -> None:
    """Burn annotation text into the image at display white (the densest value)."""
    import cv2

    c, r, scale, thick, _ = _text_layout(params, grid, margins_px)
    canvas = np.zeros(img.shape, np.uint8)
    cv2.putText(
        canvas,
        params["text_string"],
        (c, r),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        255,
        thick,
        cv2.LINE_AA,
    )
    img[canvas > 127] = value

"""The overlay picture a radiologist reads: lesions, zones, cleft and attachment on the film.

Drawn with OpenCV into an RGB array (fast enough for batch runs, byte-for-byte
deterministic, and its colours can be tested in pixels); :func:`plot_overlay` shows the
same array in matplotlib with input-pixel axes.

What is drawn:

* the radiograph, bone white, with the DICOM window when there is one (else the 1st-99.5th
  percentiles), downsampled to at most ``max_px`` on the long side (aspect kept);
* each lesion's outline coloured by its label, its rim zone (s >= 0.8) and core zone
  (s <= 0.4) boundaries dotted, and a tag "HO 0.87";
* the cortex normals the cleft scan used: a cleft in one colour, attachment in another;
* a scale bar in mm (or a "spacing unknown" notice), a legend and the hoimg version.

No patient name, ID or date is ever drawn: only the pseudonymous ``image_id``. An image whose
header says Burned In Annotation = YES may show identifiers in its own pixels, so its overlay
draws the measurements on a blank film unless ``config.report.show_burned_in`` is set.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import Analysis

# Okabe-Ito colours (colour-blind safe), RGB.
LABEL_COLOURS = {
    "heterotopic_ossification": (0, 158, 115),
    "parosteal_osteosarcoma": (213, 94, 0),
    "indeterminate": (240, 228, 66),
}
LABEL_SHORT = {
    "heterotopic_ossification": "HO",
    "parosteal_osteosarcoma": "POS",
    "indeterminate": "indet.",
}
CLEFT_COLOUR = (86, 180, 233)
ATTACH_COLOUR = (204, 121, 167)
RIM_COLOUR = (255, 255, 255)
CORE_COLOUR = (150, 150, 150)
TEXT_BG = (0, 0, 0)
_NICE_MM = (1, 2, 5, 10, 20, 25, 50, 100, 200)


def display_scale(shape: tuple[int, int], max_px: int) -> float:
    """Factor from input pixels to overlay pixels (<= 1, same on both axes)."""
    return min(1.0, max_px / max(shape))


def _display_hw(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def _windowed_grey(image, scale: float) -> np.ndarray:
    import cv2

    px = image.pixels
    out_hw = _display_hw(px.shape, scale)[::-1]  # cv2 wants (width, height)
    small = cv2.resize(px, out_hw, interpolation=cv2.INTER_AREA) if scale < 1 else px
    if image.display_window is not None and "display_window_untrusted" not in image.flags:
        center, width = image.display_window
        lo, hi = center - width / 2, center + width / 2
    else:
        step = max(1, small.size // 250_000)
        lo, hi = np.percentile(small.ravel()[::step], [1.0, 99.5])
    if not hi > lo:
        hi = lo + 1.0
    grey = np.clip((small - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([grey, grey, grey]))


def _contours(mask: np.ndarray):
    import cv2

    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return found


def _to_display(contour: np.ndarray, offset_rc, scale: float) -> np.ndarray:
    # cv2 contours are (x=col, y=row); shift by the crop offset, then scale.
    pts = contour.reshape(-1, 2).astype(np.float64)
    pts[:, 0] = (pts[:, 0] + offset_rc[1] + 0.5) * scale - 0.5
    pts[:, 1] = (pts[:, 1] + offset_rc[0] + 0.5) * scale - 0.5
    return np.round(pts).astype(np.int32).reshape(-1, 1, 2)


def _draw_dotted(canvas, contour, colour, step: int = 6) -> None:
    import cv2

    pts = contour.reshape(-1, 2)
    for p in pts[:: max(1, step)]:
        cv2.circle(canvas, (int(p[0]), int(p[1])), 1, colour, -1, lineType=cv2.LINE_8)


def _text(canvas, text: str, org_xy, size: float, colour=(255, 255, 255)) -> None:
    import cv2

    thick = max(1, round(size * 2))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, thick)
    x, y = int(org_xy[0]), int(org_xy[1])
    x = min(max(x, 0), max(canvas.shape[1] - w - 2, 0))
    y = min(max(y, h + 2), canvas.shape[0] - base - 2)
    cv2.rectangle(canvas, (x - 2, y - h - 3), (x + w + 2, y + base + 1), TEXT_BG, -1)
    cv2.putText(canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, size, colour, thick, cv2.LINE_AA)


def scale_bar_mm(width_px: int, mm_per_display_px: float) -> float:
    """A round bar length (mm) of about a fifth of the picture width."""
    target = width_px * mm_per_display_px / 5
    return max((v for v in _NICE_MM if v <= target), default=_NICE_MM[0])


def render(analysis: Analysis, *, max_px: int | None = None) -> np.ndarray:
    """Render the overlay as an (H, W, 3) uint8 RGB array.

    Parameters
    ----------
    analysis : hoimg.Analysis
    max_px : int, optional
        Longest side of the picture; defaults to ``config.report.overlay_max_px``.
    """
    import cv2
    from scipy import ndimage

    image = analysis.image
    max_px = max_px or analysis.config.report.overlay_max_px
    scale = display_scale(image.shape, max_px)
    hide = "burned_in_annotation" in image.flags and not analysis.config.report.show_burned_in
    if hide:
        canvas = np.full((*_display_hw(image.shape, scale), 3), 64, np.uint8)
    else:
        canvas = _windowed_grey(image, scale)
    h, w = canvas.shape[:2]
    font = max(0.35, min(h, w) / 1400)
    line = max(2, round(min(h, w) / 500))
    rim_start = analysis.config.profile.rim_start
    core_end = analysis.config.profile.core_end

    for les in analysis.lesions:
        colour = LABEL_COLOURS[les.label]
        r0, c0, r1, c1 = les.bbox_rc
        mask = analysis.lesion_labels[r0:r1, c0:c1] == les.id
        if mask.any():
            # scipy's exact EDT, not cv2.distanceTransform: OpenCV's precise mode gives
            # thread-count-dependent results, and overlays must be identical at any --workers
            dist = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
            dmax = float(dist.max())
            for s_edge, zcol in ((rim_start, RIM_COLOUR), (core_end, CORE_COLOUR)):
                inner = dist >= (1.0 - s_edge) * dmax
                for cnt in _contours(inner):
                    if len(cnt) > 4:
                        _draw_dotted(canvas, _to_display(cnt, (r0, c0), scale), zcol)
            for cnt in _contours(mask):
                cv2.polylines(canvas, [_to_display(cnt, (r0, c0), scale)], True, colour, line,
                              lineType=cv2.LINE_8)
        scan = les.cleft_scan
        if scan is not None and getattr(scan, "n_normals", 0):
            base = np.asarray(scan.base_rc, dtype=np.float64)
            for k in range(base.shape[0]):
                if scan.contact[k]:
                    col = ATTACH_COLOUR
                elif scan.has_cleft[k]:
                    col = CLEFT_COLOUR
                else:
                    continue
                x = int(round((base[k, 1] + 0.5) * scale - 0.5))
                y = int(round((base[k, 0] + 0.5) * scale - 0.5))
                cv2.circle(canvas, (x, y), line, col, -1, lineType=cv2.LINE_8)
        tag = f"{les.id} {LABEL_SHORT[les.label]} {les.probability:.2f}"
        _text(canvas, tag, (c0 * scale, r0 * scale - 2 * line), font, colour)

    _draw_furniture(canvas, analysis, scale, font, line, hide)
    return canvas


LEGEND = (
    ("HO", LABEL_COLOURS["heterotopic_ossification"]),
    ("POS", LABEL_COLOURS["parosteal_osteosarcoma"]),
    ("indeterminate", LABEL_COLOURS["indeterminate"]),
    ("rim zone s>=0.8", RIM_COLOUR),
    ("core zone s<=0.4", CORE_COLOUR),
    ("cleft", CLEFT_COLOUR),
    ("attachment", ATTACH_COLOUR),
)


def _pad(h: int, w: int) -> int:
    """Margin (px) of the furniture from the picture's edges."""
    return max(8, round(min(h, w) / 60))


def legend_box(shape, font: float) -> tuple[int, int, int, int]:
    """The legend's background rectangle (x0, y0, x1, y1) in the top-right corner."""
    return _legend_layout(shape, font)[0]


def _legend_layout(shape, font: float) -> tuple[tuple[int, int, int, int], int]:
    """The legend's rectangle and its text height (px): a row is the height plus 8."""
    import cv2

    h, w = shape[:2]
    pad = _pad(h, w)
    (_, th), _ = cv2.getTextSize("Hg", cv2.FONT_HERSHEY_SIMPLEX, font, 1)
    x0 = w - round(16 * th) - pad
    return (x0 - 4, pad - 4, w - pad + 4, pad + (th + 8) * len(LEGEND) + 4), th


def _draw_furniture(canvas, analysis, scale, font, line, hide: bool) -> None:
    import cv2

    from .. import __version__

    h, w = canvas.shape[:2]
    image = analysis.image
    pad = _pad(h, w)
    label_y = h - pad - 3 * line - 4  # baseline of the scale bar's label
    if image.spacing_mm is not None:
        mm_per_px = image.spacing_mm[1] / scale
        bar_mm = scale_bar_mm(w, mm_per_px)
        bar_px = round(bar_mm / mm_per_px)
        y = h - pad
        cv2.rectangle(canvas, (pad - 2, y - line - 2), (pad + bar_px + 1, y + line + 1), TEXT_BG, -1)
        cv2.rectangle(canvas, (pad, y - line), (pad + bar_px - 1, y + line - 1), (255, 255, 255), -1)
        note = f"{bar_mm:g} mm"
        if image.spacing_source == "imager_detector_plane":
            note += " (detector plane)"
        _text(canvas, note, (pad, label_y), font)
    else:
        _text(canvas, "spacing unknown: sizes assume a typical detector", (pad, h - pad), font,
              (240, 228, 66))
    (bx0, by0, bx1, by1), th = _legend_layout(canvas.shape, font)
    row_h = th + 8
    x0, y0 = bx0 + 4, by0 + 4
    cv2.rectangle(canvas, (bx0, by0), (bx1, by1), TEXT_BG, -1)
    for i, (name, colour) in enumerate(LEGEND):
        y = y0 + i * row_h
        cv2.rectangle(canvas, (x0, y + 2), (x0 + th, y + th + 2), colour, -1)
        cv2.putText(canvas, name, (x0 + th + 6, y + th + 1), cv2.FONT_HERSHEY_SIMPLEX, font,
                    (255, 255, 255), 1, cv2.LINE_AA)
    _text(canvas, f"hoimg {__version__}  id {image.image_id}  research use only",
          (pad, pad + th + 4), font * 0.9)
    if hide:
        # bottom right, opposite the scale bar, one line above its label with a gap that
        # scales with the font: clear of the legend and the version line (under the
        # version line it ran into the legend on portrait films) and of the lesions, which
        # lie over the limb in the middle of the film
        notice = "pixels hidden: burned-in annotation (set report.show_burned_in to show)"
        (tw, nh), base = cv2.getTextSize(notice, cv2.FONT_HERSHEY_SIMPLEX, font,
                                         max(1, round(font * 2)))
        label_top = label_y - nh - 3
        _text(canvas, notice, (w - pad - tw, label_top - (base + 1) - max(4, nh // 2)), font,
              (240, 228, 66))


def render_png(analysis: Analysis, *, max_px: int | None = None) -> bytes:
    """The overlay encoded as PNG bytes (no metadata chunks)."""
    import cv2

    rgb = render(analysis, max_px=max_px)
    # zlib level 3: measured 86 ms vs 217 ms at level 6 for a 1300x1100 overlay, 2% larger.
    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - cv2 only fails on invalid arrays
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def save_overlay(analysis: Analysis, path: str | os.PathLike) -> None:
    """Write the overlay PNG atomically (a temporary file renamed into place)."""
    write_png_atomic(render_png(analysis), path)


def write_png_atomic(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to ``path`` via a temporary file, so a kill never leaves half a PNG.

    Parameters
    ----------
    data : bytes
        The encoded PNG (e.g. from :func:`render_png`).
    path : str or os.PathLike
        Final file name.
    """
    path = os.fspath(path)
    # hidden ".tmp-" name in the same folder: os.replace stays atomic, and the batch runner
    # sweeps ".tmp-*" files a killed run left behind
    head, tail = os.path.split(path)
    tmp = os.path.join(head, f".tmp-{os.getpid()}-{tail}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def plot_overlay(analysis: Analysis, ax=None):
    """Show the overlay in a matplotlib Axes, with axes in input pixel (row, col)."""
    import matplotlib.pyplot as plt

    rgb = render(analysis)
    if ax is None:
        rows, cols = analysis.image.shape
        _, ax = plt.subplots(figsize=(8, 8 * rows / cols if cols else 8))
    rows, cols = analysis.image.shape
    ax.imshow(rgb, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5), interpolation="antialiased")
    ax.set_xlabel("column (px)")
    ax.set_ylabel("row (px)")
    return ax

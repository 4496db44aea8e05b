import numpy as np
import pytest

from hoimg.report import overlay
from hoimg.report.overlay import LABEL_COLOURS, render, render_png


def _has_colour(rgb, colour, where):
    hits = np.all(rgb[where] == np.asarray(colour, np.uint8), axis=-1)
    return hits.mean()


def test_label_colour_lies_on_the_lesion_boundary(truth_analysis):
    import cv2

    (les,) = truth_analysis.lesions
    rgb = render(truth_analysis)
    assert rgb.shape[:2] == truth_analysis.image.shape  # 900 px < 2048: no downsampling
    mask = (truth_analysis.lesion_labels == les.id).astype(np.uint8)
    ring = cv2.dilate(mask, np.ones((3, 3), np.uint8)) - cv2.erode(mask, np.ones((3, 3), np.uint8))
    on_boundary = _has_colour(rgb, LABEL_COLOURS[les.label], ring.astype(bool))
    assert on_boundary > 0.5
    # and that colour is not painted over the lesion interior
    interior = cv2.erode(mask, np.ones((9, 9), np.uint8)).astype(bool)
    assert _has_colour(rgb, LABEL_COLOURS[les.label], interior) < 0.05


def test_scale_bar_length_matches_spacing(truth_analysis):
    rgb = render(truth_analysis)
    h, w = rgb.shape[:2]
    spacing_col = truth_analysis.image.spacing_mm[1]
    bar_mm = overlay.scale_bar_mm(w, spacing_col)
    pad = max(8, round(min(h, w) / 60))
    row = rgb[h - pad - 1, :, :]
    white = np.all(row == 255, axis=-1)
    run = np.flatnonzero(white[pad:])  # bar starts at x = pad
    length_px = run[np.flatnonzero(np.diff(run) != 1)[0]] + 1 if np.any(np.diff(run) != 1) else run[-1] + 1
    assert length_px == pytest.approx(bar_mm / spacing_col, abs=1.0)


def test_downsampled_to_the_limit_without_distortion(truth_analysis):
    rgb = render(truth_analysis, max_px=450)
    rows, cols = truth_analysis.image.shape
    assert max(rgb.shape[:2]) == 450
    assert rgb.shape[0] / rgb.shape[1] == pytest.approx(rows / cols, abs=0.01)


def test_no_patient_identifier_is_drawn(truth_analysis, ho_phantom, monkeypatch):
    drawn = []
    real = overlay._text
    monkeypatch.setattr(overlay, "_text", lambda c, t, *a, **k: (drawn.append(t), real(c, t, *a, **k)))
    png = render_png(truth_analysis)
    name = ho_phantom.truth["patient_name"]
    assert drawn and any(truth_analysis.image.image_id in t for t in drawn)
    for part in name.replace("^", " ").split():
        assert all(part.lower() not in t.lower() for t in drawn)
        assert part.encode() not in png


def test_spacing_unknown_notice(ho_phantom, monkeypatch):
    import hoimg

    res = hoimg.analyze(ho_phantom.radiograph.pixels.copy())  # an array: no spacing
    drawn = []
    real = overlay._text
    monkeypatch.setattr(overlay, "_text", lambda c, t, *a, **k: (drawn.append(t), real(c, t, *a, **k)))
    render(res)
    assert res.image.spacing_source == "unknown"
    assert any(t.startswith("spacing unknown") for t in drawn)


def test_burned_in_annotation_hides_the_pixels_unless_asked(ho_phantom, tmp_path):
    import dataclasses

    import hoimg

    ds = ho_phantom.dataset()
    ds.BurnedInAnnotation = "YES"
    path = tmp_path / "burned.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = hoimg.load(path)
    assert "burned_in_annotation" in image.flags
    blank = truth_like(image, ho_phantom)
    rgb = render(blank)
    import cv2

    # the bone's interior, away from its edges (cleft dots) and the lesion, shows no film
    bone = cv2.erode((ho_phantom.bone_labels > 0).astype(np.uint8), np.ones((31, 31), np.uint8))
    r0, c0, r1, c1 = blank.lesions[0].bbox_rc
    bone[max(r0 - 40, 0) : r1 + 40, max(c0 - 40, 0) : c1 + 40] = 0
    probe = bone.astype(bool)
    assert probe.sum() > 1000
    # (the "pixels hidden" notice crosses the middle of the picture; everything else is flat)
    assert np.all(rgb[probe] == 64, axis=-1).mean() > 0.95
    shown = render(dataclasses.replace(blank, config=blank.config.replace(report={"show_burned_in": True})))
    assert np.unique(shown[probe]).size > 10
    # the notice sits clear of the legend: the legend's pixels are those of the shown film
    font = max(0.35, min(rgb.shape[:2]) / 1400)
    x0, y0, x1, y1 = overlay.legend_box(rgb.shape, font)
    np.testing.assert_array_equal(rgb[y0:y1 + 1, x0:x1 + 1], shown[y0:y1 + 1, x0:x1 + 1])
    notice = np.all(rgb == (240, 228, 66), axis=-1) & ~np.all(shown == (240, 228, 66), axis=-1)
    rows = np.nonzero(notice.any(axis=1))[0]
    assert rows.size and rows.min() > y1  # drawn, below the legend
    assert rows.max() > 0.85 * rgb.shape[0]  # at the bottom of the film


def truth_like(image, phantom):
    from hoimg.pipeline import analyze_segmented
    from hoimg.segment import BoneModel

    from .conftest import candidates_from_labels

    bone = BoneModel(labels=phantom.bone_labels.astype(np.int32))
    return analyze_segmented(image, bone, candidates_from_labels(phantom.lesion_labels, image.pixel_size_mm))


def test_the_dicom_window_sets_the_grey_levels_else_robust_percentiles():
    from hoimg.radiograph import Radiograph

    ramp = np.tile(np.linspace(0.0, 2000.0, 201, dtype=np.float32), (10, 1))  # 10 units a column
    windowed = Radiograph(ramp, spacing_mm=(0.1, 0.1), spacing_source="user",
                          display_window=(1000.0, 400.0))
    grey = overlay._windowed_grey(windowed, 1.0)[0, :, 0]
    assert grey[80] == 0 and grey[120] == 255  # 800 and 1200: the window's ends
    assert grey[100] == 127  # the centre: (1000 - 800) * 255 / 400 = 127.5, truncated
    # no window: the 1st and 99.5th percentiles of the picture are black and white
    plain = overlay._windowed_grey(Radiograph(ramp, spacing_mm=(0.1, 0.1), spacing_source="user"), 1.0)
    lo, hi = np.percentile(ramp, [1.0, 99.5])
    col = int(np.searchsorted(ramp[0], (lo + hi) / 2))
    assert plain[0, 0, 0] == 0 and plain[0, -1, 0] == 255
    assert abs(int(plain[0, col, 0]) - 128) <= 2


def test_zones_cleft_tag_legend_and_version_are_drawn(monkeypatch):
    from pathlib import Path

    import hoimg

    sample = Path(__file__).resolve().parents[2] / "data" / "samples" / "sample_01_mature_ho.dcm"
    res = hoimg.analyze(sample)  # detected bone: the cleft is scanned
    (les,) = res.lesions
    assert les.cleft == "complete"
    drawn = []
    real = overlay._text
    monkeypatch.setattr(overlay, "_text", lambda c, t, *a, **k: (drawn.append(t), real(c, t, *a, **k)))
    rgb = render(res, max_px=max(res.image.shape))
    assert rgb.shape[:2] == res.image.shape  # no downsampling: display = image pixels
    inside = res.lesion_labels == les.id
    # the rim zone (s >= 0.8, white) and core zone (s <= 0.4, grey) are dotted along their
    # inner edges: every 6th point of each edge's contour
    import cv2
    from scipy import ndimage

    dist = ndimage.distance_transform_edt(inside)
    for s_edge, colour in ((res.config.profile.rim_start, overlay.RIM_COLOUR),
                           (res.config.profile.core_end, overlay.CORE_COLOUR)):
        zone = (dist >= (1.0 - s_edge) * dist.max()).astype(np.uint8)
        (edge,), _ = cv2.findContours(zone, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        dots = edge.reshape(-1, 2)[::6]
        at_dots = np.zeros(inside.shape, bool)
        at_dots[dots[:, 1], dots[:, 0]] = True
        assert _has_colour(rgb, colour, at_dots) > 0.9
    # each cleft normal's base on the cortex is a dot of the cleft colour (a complete cleft)
    base = np.rint(np.asarray(les.cleft_scan.base_rc)[np.asarray(les.cleft_scan.has_cleft)]).astype(int)
    assert base.size
    at_base = np.zeros(inside.shape, bool)
    at_base[base[:, 0], base[:, 1]] = True
    assert _has_colour(rgb, overlay.CLEFT_COLOUR, at_base) > 0.9
    assert f"{les.id} {overlay.LABEL_SHORT[les.label]} {les.probability:.2f}" in drawn
    assert any(t.startswith(f"hoimg {hoimg.__version__}") for t in drawn)
    # the legend's swatches, in its box
    font = max(0.35, min(rgb.shape[:2]) / 1400)
    x0, y0, x1, y1 = overlay.legend_box(rgb.shape, font)
    box = rgb[y0:y1 + 1, x0:x1 + 1].reshape(-1, 3)
    for _, colour in overlay.LEGEND:
        assert np.all(box == np.asarray(colour, np.uint8), axis=-1).any()

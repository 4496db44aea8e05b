"""Working grid: pitch, shape, coordinate mapping and config resolution."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.config import AnalysisConfig, LoadConfig, SegmentConfig
from hoimg.errors import InvalidInputError
from hoimg.radiograph import Radiograph
from hoimg.segment._grid import make_grid, resolve_config


def _rad(shape, spacing):
    return Radiograph(
        np.zeros(shape, np.float32),
        spacing_mm=spacing,
        spacing_source="unknown" if spacing is None else "pixel_spacing",
    )


def test_grid_is_isotropic_at_the_working_pitch():
    g = make_grid(_rad((3000, 2000), (0.1, 0.2)), SegmentConfig(), LoadConfig())
    # 3000 x 0.1 = 300 mm and 2000 x 0.2 = 400 mm at 0.4 mm per working pixel.
    assert g.shape == (750, 1000)
    assert g.pixel_mm == 0.4
    assert not g.spacing_assumed


def test_grid_never_upsamples_a_coarse_image():
    g = make_grid(_rad((800, 800), (0.5, 0.5)), SegmentConfig(), LoadConfig())
    assert g.pixel_mm == 0.5 and g.shape == (800, 800)


def test_unknown_spacing_uses_the_documented_fallback():
    g = make_grid(_rad((1500, 1500), None), SegmentConfig(), LoadConfig(fallback_spacing_mm=0.2))
    assert g.spacing_assumed
    assert g.spacing_mm == (0.2, 0.2)
    assert g.shape == (750, 750)


def test_coordinate_mapping_round_trips_and_maps_centres():
    g = make_grid(_rad((1000, 1200), (0.15, 0.15)), SegmentConfig(), LoadConfig())
    pts = np.array([[0.0, 0.0], [123.4, 567.8], [999.0, 1199.0]])
    back = g.to_input_rc(g.to_work_rc(pts))
    np.testing.assert_allclose(back, pts, atol=1e-9)
    # The centre of the first working pixel is the centre of its input block.
    sr, sc = g.scale_rc
    np.testing.assert_allclose(g.to_input_rc(np.array([0.0, 0.0])), [sr / 2 - 0.5, sc / 2 - 0.5])


def test_config_accepts_both_levels_and_rejects_others():
    seg = SegmentConfig(working_pixel_mm=0.5)
    assert resolve_config(seg)[0] is seg
    full = AnalysisConfig().replace(segment={"working_pixel_mm": 0.3})
    assert resolve_config(full)[0].working_pixel_mm == 0.3
    assert resolve_config(None)[0] == SegmentConfig()
    with pytest.raises(InvalidInputError, match="AnalysisConfig"):
        resolve_config({"segment": {}})


@pytest.mark.parametrize("op", ["dilate", "erode", "open", "close"])
def test_morphology_on_the_bounding_box_equals_the_whole_grid(op):
    import cv2

    from hoimg.segment._grid import ellipse, morphology

    code = {"dilate": cv2.MORPH_DILATE, "erode": cv2.MORPH_ERODE,
            "open": cv2.MORPH_OPEN, "close": cv2.MORPH_CLOSE}[op]
    rng = np.random.default_rng(7)
    m = np.zeros((300, 400), np.uint8)
    m[100:180, 150:260] = rng.random((80, 110)) > 0.3  # patchy: closing fills, opening cuts
    m[0:12, 380:400] = 1  # touching the grid's corner: the box is clipped there
    for k in (ellipse(2), ellipse(4), ellipse(9), ellipse(25), np.ones((5, 11), np.uint8)):
        np.testing.assert_array_equal(morphology(m, code, k), cv2.morphologyEx(m, code, k))
    assert not morphology(np.zeros_like(m), code, ellipse(9)).any()


@pytest.mark.parametrize("radius", [4, 5, 10, 17, 25, 40])
def test_a_disc_is_the_union_of_its_rectangles(radius):
    from hoimg.segment._grid import _rectangles, ellipse

    disc = ellipse(radius)
    n = disc.shape[0]
    union = np.zeros_like(disc)
    for r in _rectangles(disc):
        h, w = r.shape
        union[n // 2 - h // 2 : n // 2 + h // 2 + 1, n // 2 - w // 2 : n // 2 + w // 2 + 1] |= r
    np.testing.assert_array_equal(union, disc)


def test_kernels_that_are_not_discs_are_left_to_opencv():
    from hoimg.segment._grid import _rectangles

    cross = np.zeros((11, 11), np.uint8)
    cross[5, :] = cross[:, 5] = 1
    cross[0, 5] = 0  # not symmetric
    assert _rectangles(cross) is None
    ring = np.ones((11, 11), np.uint8)
    ring[5, 5] = 0  # a row that is not one run
    assert _rectangles(ring) is None
    assert _rectangles(np.ones((5, 5), np.uint8)) is None  # small: OpenCV is fast enough


def test_nonzero_box_is_the_padded_clipped_bounding_box():
    from hoimg.segment._grid import nonzero_box

    m = np.zeros((50, 60), bool)
    assert nonzero_box(m, 3) is None
    m[10:20, 55:58] = True
    assert nonzero_box(m, 3) == (slice(7, 23), slice(52, 60))


def test_label_with_stats_numbers_components_as_on_the_whole_grid():
    import cv2

    from hoimg.segment._grid import label_with_stats

    rng = np.random.default_rng(3)
    for trial in range(200):
        m = np.zeros((120, 140), np.uint8)
        # Sparse specks at an odd or even offset: labels follow OpenCV's 2 x 2 block
        # order, which a box at an odd offset would change.
        y, x = rng.integers(0, 80), rng.integers(0, 90)
        m[y : y + 37, x : x + 45] = rng.random((37, 45)) < rng.uniform(0.05, 0.5)
        n, lab, stats = label_with_stats(m > 0 if trial % 2 else m)
        n_ref, lab_ref, stats_ref, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        assert n == n_ref
        np.testing.assert_array_equal(lab, lab_ref)
        np.testing.assert_array_equal(stats[1:], stats_ref[1:])
    n, lab, _ = label_with_stats(np.zeros((5, 6), bool))
    assert n == 1 and not lab.any()


def test_members_is_a_lookup_of_the_labels():
    from hoimg.segment._grid import members

    rng = np.random.default_rng(2)
    for n in (1, 5, 256, 257, 3000):
        lab = rng.integers(0, n, (40, 50)).astype(np.int32)
        keep = rng.choice(n, size=min(n, 7), replace=False)
        np.testing.assert_array_equal(members(lab, n, keep), np.isin(lab, keep))


def test_components_touching_keeps_whole_components_with_a_marker_pixel():
    from hoimg.segment._grid import components_touching

    mask = np.zeros((8, 10), bool)
    mask[1:3, 1:4] = True  # component A
    mask[5:7, 6:9] = True  # component B
    mask[3, 4] = True  # joins A diagonally (8-connected)
    marker = np.zeros_like(mask)
    marker[3, 4] = True  # on A's diagonal pixel
    marker[0, 9] = True  # outside every component: selects nothing
    want = mask.copy()
    want[5:7, 6:9] = False
    np.testing.assert_array_equal(components_touching(mask, marker), want)
    np.testing.assert_array_equal(components_touching(mask.astype(np.uint8), marker), want)
    assert not components_touching(mask, np.zeros_like(mask)).any()

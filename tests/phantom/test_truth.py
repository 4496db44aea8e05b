"""Truth computed from the 3-D geometry agrees with the projected pixels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hoimg.phantom import generate

SMALL = dict(rows=600, cols=520, spacing_mm=0.1, collimation=False, marker=False, text=False)


def _pixel_gap_mm(ph, k: int) -> float:
    """Smallest distance between lesion k's footprint and the bone footprint, from pixels."""
    dist_px = ndimage.distance_transform_edt(ph.bone_labels == 0)
    return float(dist_px[ph.lesion_labels == k].min()) * ph.truth["spacing_mm"][0]


@pytest.mark.parametrize(("angle", "gap"), [(0.0, 3.0), (30.0, 1.2), (-80.0, 4.5)])
def test_ho_gap_matches_geometry(angle, gap):
    ph = generate(
        11,
        0,
        **SMALL,
        limb_angle_deg=angle,
        axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "ho", "stage": "mature", "length_mm": 30.0, "gap_mm": gap, "u_mm": 0.0}],
    )
    (les,) = ph.truth["lesions"]
    assert les["cleft"] == "complete"
    assert les["attachment_mm"] == 0.0
    assert les["gap_mm"] == pytest.approx(gap, abs=0.05)
    # independent check on the pixel grid: pixel centres resolve the gap to about a pixel
    assert _pixel_gap_mm(ph, 1) == pytest.approx(gap, abs=1.5 * ph.truth["spacing_mm"][0])


def test_gap_with_anisotropic_pixels():
    kw = dict(SMALL, spacing_mm=(0.1, 0.12))
    ph = generate(
        11,
        1,
        **kw,
        limb_angle_deg=20.0,
        axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "ho", "length_mm": 30.0, "gap_mm": 2.5, "u_mm": 0.0}],
    )
    (les,) = ph.truth["lesions"]
    assert les["gap_mm"] == pytest.approx(2.5, abs=0.05)
    dist_mm = ndimage.distance_transform_edt(ph.bone_labels == 0, sampling=(0.1, 0.12))
    assert float(dist_mm[ph.lesion_labels == 1].min()) == pytest.approx(2.5, abs=0.2)


def test_pos_partial_cleft_and_broad_attachment():
    ph = generate(
        12,
        0,
        **SMALL,
        limb_angle_deg=10.0,
        axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "pos", "length_mm": 40.0, "gap_mm": 1.5, "u_mm": 0.0}],
    )
    (les,) = ph.truth["lesions"]
    assert les["class"] == "parosteal_osteosarcoma"
    assert les["zonal"] == "central"
    assert les["cleft"] == "partial"
    assert les["gap_mm"] == pytest.approx(1.5, abs=0.03)
    assert les["attachment_mm"] > les["length_mm"] / 3
    assert 0.1 < les["cleft_fraction"] < 0.9
    # the footprint touches the bone somewhere (zero pixel gap)
    assert _pixel_gap_mm(ph, 1) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("index", range(4))
def test_truth_bboxes_contain_projected_footprint(index):
    ph = generate(5, index, rows=700, cols=640, n_lesions=2)
    assert ph.lesion_labels.max() == len(ph.truth["lesions"])
    covered = np.zeros(ph.lesion_labels.shape, bool)
    for k, les in enumerate(ph.truth["lesions"], start=1):
        r0, c0, r1, c1 = les["bbox_rc"]
        rr, cc = np.nonzero(ph.lesion_labels == k)
        if rr.size:  # a later lesion may cover an earlier one entirely
            assert rr.min() >= r0 and rr.max() < r1 and cc.min() >= c0 and cc.max() < c1
        assert r0 <= les["centroid_rc"][0] < r1 and c0 <= les["centroid_rc"][1] < c1
        covered[r0:r1, c0:c1] = True
    # every pixel that carries lesion mineral lies inside some truth bbox
    assert not np.any((ph.lesion_density > 0) & ~covered)


def test_truth_fields_follow_design_contract():
    ph = generate(3, 1, rows=640, cols=640, lesions=[{"kind": "ho"}, {"kind": "punctate"}])
    case = ph.truth
    for key in (
        "file",
        "spacing_mm",
        "lesions",
        "spacing_source",
        "photometric",
        "transfer_syntax",
        "rows",
        "cols",
        "limb_angle_deg",
        "patient_name",
    ):
        assert key in case
    classes = {"ho": "heterotopic_ossification", "pos": "parosteal_osteosarcoma"}
    for les in case["lesions"]:
        assert les["class"] == classes.get(les["kind"], "other")
        assert les["cleft"] in ("complete", "partial", "absent", "not_applicable")
        if les["kind"] == "ho":
            assert les["zonal"] == "peripheral" and les["stage"] in (
                "immature",
                "intermediate",
                "mature",
            )
        else:
            assert les["zonal"] is None and les["stage"] is None


def test_ho_mineral_is_rim_dense_in_the_image():
    """Noise and processing off: background-subtracted HO density peaks near the rim."""
    ph = generate(
        21,
        0,
        **SMALL,
        noise=False,
        processing=False,
        limb_angle_deg=0.0,
        axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "ho", "stage": "intermediate", "length_mm": 35.0, "u_mm": 0.0}],
    )
    les = ph.truth["lesions"][0]
    rc = np.round(les["centroid_rc"]).astype(int)
    centre = ph.lesion_density[rc[0], rc[1]]
    assert ph.lesion_density[ph.lesion_labels == 1].max() > 1.5 * centre


def test_pos_without_string_sign_has_absent_cleft():
    ph = generate(
        12,
        0,
        **SMALL,
        limb_angle_deg=10.0,
        axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "pos", "length_mm": 40.0, "gap_mm": 0.0, "u_mm": 0.0}],
    )
    (les,) = ph.truth["lesions"]
    assert les["cleft"] == "absent"
    assert les["gap_mm"] is None
    assert les["attachment_mm"] > 0.5 * les["length_mm"]


def test_second_bone_is_labelled_and_lesions_avoid_it():
    limb_kw = {
        "second_bone": (25.0, 5.0, 1.5),
        "bone_offset_mm": 0.0,
        "shaft_radius_mm": 9.0,
        "flare_radius_mm": 9.0,
        "half_width_mm": 60.0,
        "half_depth_mm": 55.0,
    }
    ph = generate(
        13,
        0,
        **SMALL,
        limb_angle_deg=0.0,
        axis_offset_mm=(0.0, 0.0),
        limb=limb_kw,
        lesions=[{"kind": "ho", "stage": "mature", "length_mm": 30.0, "u_mm": 0.0}],
    )
    assert set(np.unique(ph.bone_labels)) == {0, 1, 2}
    # limb vertical: +v is +col; the second bone is right of the main one, the HO left
    cols_main = np.nonzero(ph.bone_labels[300] == 1)[0]
    cols_second = np.nonzero(ph.bone_labels[300] == 2)[0]
    assert cols_second.min() > cols_main.max()
    les = ph.truth["lesions"][0]
    assert les["cortex_side"] == "left"
    assert les["bbox_rc"][3] <= cols_main.min()


def test_pinning_output_options_keeps_the_geometry():
    a = generate(14, 3, rows=640, cols=640)
    b = generate(
        14, 3, rows=640, cols=640, noise=False, processing=False, photometric="MONOCHROME1"
    )
    assert a.truth["lesions"] == b.truth["lesions"]
    np.testing.assert_array_equal(a.lesion_labels, b.lesion_labels)
    np.testing.assert_array_equal(a.bone_labels, b.bone_labels)

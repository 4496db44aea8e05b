"""cleft_scan on synthetic cortex/lesion geometry with known gaps and stalks."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.profile import CleftScan, cleft_scan, measure_lesions, radial_profile
from hoimg.radiograph import Radiograph
from hoimg.segment import BoneModel, CortexEdge, LesionCandidate, LesionCandidates

SPACING = 0.1  # mm per pixel
EDGE_ROW = 99.5  # bone occupies rows 0..99: the periosteal edge lies between rows 99 and 100


def _scene(gap_px, stalk_cols=None, noise=3.0, seed=0, shape=(320, 360), edge_row=EDGE_ROW):
    """Bone (rows < 100) with a dense cortex, a dense lesion below it, soft tissue elsewhere.

    The lesion occupies rows ``100 + gap_px`` .. 199 and cols 100..259; ``stalk_cols``
    (c0, c1) fills the gap there (attachment).
    """
    rng = np.random.default_rng(seed)
    image = np.full(shape, 50.0)
    bone = np.zeros(shape, dtype=np.int32)
    bone[:100] = 1
    image[:100] = 120.0
    image[75:100] = 220.0  # cortex
    lesion = np.zeros(shape, dtype=bool)
    lesion[100 + gap_px:200, 100:260] = True
    if stalk_cols is not None:
        lesion[100:200, stalk_cols[0]:stalk_cols[1]] = True
    image[lesion] = 160.0
    image += rng.normal(0.0, noise, shape)
    cols = np.arange(10.0, shape[1] - 10.0)
    edge = CortexEdge(
        bone_id=1,
        points_rc=np.column_stack([np.full(cols.size, edge_row), cols]),
        normals_rc=np.tile([1.0, 0.0], (cols.size, 1)),
        thickness_mm=np.full(cols.size, 2.5),
    )
    model = BoneModel(labels=bone, edges=(edge,))
    rg = Radiograph(image.astype(np.float32), spacing_mm=(SPACING, SPACING), spacing_source="user")
    return rg, model, lesion


@pytest.mark.parametrize("gap_px", [5, 12, 30])
def test_complete_cleft_width_within_one_pixel(gap_px):
    rg, bone, lesion = _scene(gap_px)
    scan = cleft_scan(rg, bone, lesion)
    assert scan.category == "complete"
    assert scan.cleft_fraction == 1.0
    assert abs(scan.cleft_width_mm - gap_px * SPACING) <= SPACING
    assert abs(scan.min_gap_mm - gap_px * SPACING) <= SPACING
    assert scan.attachment_mm == 0.0
    # normals every 0.5 mm over the 16 mm-wide facing interface
    assert abs(scan.n_normals - 16.0 / 0.5) <= 2
    assert np.all(scan.dip_sigma > 10)


@pytest.mark.parametrize("inset_px", [3, 8])
def test_an_edge_fitted_inside_the_cortex_is_walked_out_to_it(inset_px):
    # A bone model whose periosteal edge lies inside the cortex (a half-maximum fit of a
    # projected tube does): the walk-out moves each normal's base to where the image falls
    # to a quarter of the cortex's contrast, the cortex's outline (row 99.5) within a
    # pixel, so the 1.2 mm gap is measured as such, not inset_px wider.
    rg, bone, lesion = _scene(12, edge_row=EDGE_ROW - inset_px)
    scan = cleft_scan(rg, bone, lesion)
    assert scan.category == "complete"
    assert abs(scan.cleft_width_mm - 12 * SPACING) <= SPACING
    # attached by a stalk: contact where the stalk is, as with the exact edge
    rg, bone, lesion = _scene(12, stalk_cols=(150, 170), edge_row=EDGE_ROW - inset_px)
    rg0, bone0, lesion0 = _scene(12, stalk_cols=(150, 170))
    inset, exact = cleft_scan(rg, bone, lesion), cleft_scan(rg0, bone0, lesion0)
    assert inset.category == exact.category == "partial"
    assert abs(inset.attachment_mm - exact.attachment_mm) <= 0.5


def test_stalk_length_within_one_mm_and_partial_cleft():
    rg, bone, lesion = _scene(8, stalk_cols=(140, 190))  # 50 px = 5 mm stalk
    scan = cleft_scan(rg, bone, lesion)
    assert scan.category == "partial"
    assert abs(scan.attachment_mm - 5.0) <= 1.0
    assert scan.distance_to_cortex_mm == 0.0
    assert abs(scan.cleft_width_mm - 0.8) <= SPACING
    assert scan.cleft_fraction == pytest.approx(11.0 / 16.0, abs=0.07)


def test_broad_attachment_is_absent():
    rg, bone, lesion = _scene(0)
    scan = cleft_scan(rg, bone, lesion)
    assert scan.category == "absent"
    assert scan.cleft_fraction == 0.0
    assert abs(scan.attachment_mm - 16.0) <= 1.0
    assert np.isnan(scan.cleft_width_mm)


def test_gap_without_lucency_is_contact_not_a_cleft():
    # the mask says 1 mm gap, but the image is as dense there as the lesion: the mask was
    # drawn too tight, and the image edge (half contrast) lies on the cortex
    rg, bone, lesion = _scene(10, noise=1.0)
    pixels = rg.pixels.copy()
    pixels[100:110, 100:260] = 160.0
    rg2 = Radiograph(pixels, spacing_mm=rg.spacing_mm, spacing_source="user")
    scan = cleft_scan(rg2, bone, lesion)
    assert scan.cleft_fraction == 0.0 and scan.contact.all()
    assert scan.category == "absent"
    assert abs(scan.attachment_mm - 16.0) <= 1.0


def test_too_tight_mask_keeps_the_true_gap_width():
    # the real lesion starts 0.5 mm from the cortex; the mask starts 2 mm out
    rg, bone, lesion = _scene(5, noise=1.0)
    tight = lesion.copy()
    tight[100:120] = False
    scan = cleft_scan(rg, bone, tight)
    assert scan.category == "complete"
    assert abs(scan.cleft_width_mm - 0.5) <= 2 * SPACING


def test_out_of_reach_or_no_bone_is_not_applicable():
    rg, bone, lesion = _scene(12)
    far = cleft_scan(rg, bone, lesion, reach_mm=1.0)
    assert far.category == "not_applicable" and "cleft_not_measurable" in far.flags
    assert np.isnan(far.cleft_fraction) and far.n_normals == 0
    none = cleft_scan(rg, None, lesion)
    assert none.category == "not_applicable"
    assert none.to_dict()["cleft_fraction"] is None


def test_measure_lesions_matches_single_calls():
    rg, bone, lesion = _scene(12, stalk_cols=(150, 170))
    labels = lesion.astype(np.int32)
    labels[270:310, 40:90] = 2  # a second lesion, beyond reach of the cortex
    recs = (
        LesionCandidate(1, (100, 100, 200, 260), (150.0, 180.0), int((labels == 1).sum()), 1.0,
                        1.0, 1.0),
        LesionCandidate(2, (270, 40, 310, 90), (290.0, 65.0), 2000, 1.0, 1.0, 1.0),
    )
    out = measure_lesions(rg, bone, LesionCandidates(labels, recs))
    assert len(out) == 2
    (p1, c1), (p2, c2) = out
    single = radial_profile(rg, labels == 1, exclude_mask=bone.mask)
    np.testing.assert_allclose(p1.values, single.values, rtol=1e-9)
    assert p1.zonal_index == pytest.approx(single.zonal_index, abs=1e-9)
    s1 = cleft_scan(rg, bone, labels == 1)
    assert c1.category == s1.category == "partial"
    # the cortex edge walk-out crosses a level set by the profile's background plane,
    # which the batch and the single call fit to ~1e-9 of each other (summation order)
    np.testing.assert_allclose(c1.gap_mm, s1.gap_mm, rtol=0, atol=1e-6)
    assert c1.attachment_mm == s1.attachment_mm
    assert c2.category == "not_applicable"
    assert isinstance(c2, CleftScan)


def test_cleft_plot_and_dict():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rg, bone, lesion = _scene(8, stalk_cols=(140, 190))
    scan = cleft_scan(rg, bone, lesion)
    d = scan.to_dict(per_normal=True)
    assert d["category"] == "partial" and len(d["gap_mm"]) == scan.n_normals
    ax = scan.plot()
    assert ax.get_title().startswith("cleft partial")
    plt.close(ax.figure)


def test_edge_cases_do_not_raise_and_are_flagged():
    # no spacing (fallback pitch), a lesion cut by the image corner, one wholly inside bone
    rg, bone, lesion = _scene(12)
    rg = Radiograph(rg.pixels, spacing_mm=None)
    labels = np.zeros(rg.shape, dtype=np.int32)
    labels[0:15, 0:15] = 1  # inside the bone (rows < 100) and at the corner
    labels[280:320, 320:360] = 2  # at the opposite corner, in soft tissue
    recs = (
        LesionCandidate(1, (0, 0, 15, 15), (7.0, 7.0), 225, np.nan, np.nan, np.nan),
        LesionCandidate(2, (280, 320, 320, 360), (300.0, 340.0), 1600, np.nan, np.nan, np.nan),
    )
    (p1, c1), (p2, c2) = measure_lesions(rg, bone, LesionCandidates(labels, recs))
    assert "few_pixels_profile" in p1.flags and np.all(np.isnan(p1.values))
    assert p1.zonal_pattern == "uniform"
    assert np.isfinite(p2.values).all() and p2.background == pytest.approx(50.0, abs=2.0)
    assert c2.category == "not_applicable"

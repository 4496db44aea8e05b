import math

import pytest

from hoimg.classify import LesionFeatures, classify
from hoimg.classify.model import FEATURES, LogisticModel, default_model

HO, POS, IND = "heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate"


def features(**kw):
    base = dict(
        zonal_index=0.0, rim_core_ratio=1.0, peak_position=0.5, rim_continuity=0.5,
        zonal_pattern="uniform", cleft="partial", cleft_fraction=0.5, cleft_width_mm=1.0,
        attachment_mm=0.0, distance_to_cortex_mm=1.0, length_mm=40.0,
    )
    base.update(kw)
    return LesionFeatures(**base)


MATURE_HO = features(zonal_index=0.4, rim_core_ratio=2.3, peak_position=0.9, rim_continuity=0.9,
                     zonal_pattern="peripheral", cleft="complete", cleft_fraction=1.0,
                     cleft_width_mm=2.1, attachment_mm=0.0, distance_to_cortex_mm=2.1)
POS_LESION = features(zonal_index=-0.4, rim_core_ratio=0.5, peak_position=0.1, rim_continuity=0.1,
                      zonal_pattern="central", cleft="partial", cleft_fraction=0.3,
                      cleft_width_mm=1.0, attachment_mm=18.0, distance_to_cortex_mm=0.0)


def test_typical_ho_and_pos_are_called_with_reasons_citing_values():
    ho = classify(MATURE_HO)
    assert ho.label == HO and ho.probabilities[HO] > 0.9
    assert "dense peripheral rim (zonal index +0.40, rim continuity 90%)" in ho.reasons
    assert "complete cleft to cortex, 2.1 mm" in ho.reasons
    pos = classify(POS_LESION)
    assert pos.label == POS and pos.probabilities[POS] > 0.9
    assert "broad attachment (18 mm, 45% of length)" in pos.reasons


def test_probabilities_sum_to_one():
    for f in (MATURE_HO, POS_LESION, features()):
        p = classify(f).probabilities
        assert set(p) == {HO, POS, IND}
        assert math.isclose(sum(p.values()), 1.0, abs_tol=1e-12)
        assert all(0 <= v <= 1 for v in p.values())


def test_conflicting_signs_are_indeterminate():
    rim_but_attached = features(zonal_index=0.4, zonal_pattern="peripheral", rim_core_ratio=2.0,
                                cleft="partial", cleft_fraction=0.1, attachment_mm=20.0)
    res = classify(rim_but_attached)
    assert res.label == IND
    assert "the two signs disagree" in res.reasons


@pytest.mark.parametrize("flag", ["small", "linear", "tubular", "round_small", "punctate"])
def test_mimics_are_never_called_confidently(flag):
    res = classify(features(**{**MATURE_HO.__dict__, "flags": (flag,)}))
    assert res.label == IND
    assert res.probabilities[HO] < 0.1


def test_a_small_centre_dense_lesion_fused_to_the_cortex_is_not_a_mimic():
    # 10 mm long, attached along 7 mm: a small juxtacortical lesion, called POS
    small_pos = features(**{**POS_LESION.__dict__, "length_mm": 10.0, "attachment_mm": 7.0,
                            "flags": ("small", "touches_bone")})
    res = classify(small_pos)
    assert res.label == POS and not any("mimic" in r for r in res.reasons)
    # ... whatever its few pixels' profile reads: a 13 mm POS detected at 37 mm^2 (dev seed
    # 12, case 155) reads rim-dense, and its attachment still calls it
    noisy = features(zonal_index=0.206, zonal_pattern="peripheral", rim_core_ratio=0.599,
                     peak_position=0.214, rim_continuity=0.375, cleft="absent",
                     cleft_fraction=0.061, cleft_width_mm=0.81, attachment_mm=15.5,
                     distance_to_cortex_mm=0.0, length_mm=12.7, width_mm=4.0,
                     flags=("small", "touches_bone"))
    assert classify(noisy).label == POS
    # attached along a third only, or small *and* round: still a mimic
    for kw in ({"attachment_mm": 3.0}, {"flags": ("small", "round_small")}):
        res = classify(features(**{**small_pos.__dict__, **kw}))
        assert res.label == IND and any("mimic" in r for r in res.reasons)
    # small mineral touching the cortex with a cleft along it (a phlebolith projected on the
    # cortex) stays a mimic
    res = classify(features(**{**MATURE_HO.__dict__, "length_mm": 5.0, "attachment_mm": 4.0,
                               "flags": ("small",)}))
    assert res.label == IND


def test_a_tubular_lesion_is_a_vessel_unless_fused_to_the_cortex():
    # a straight band beside the cortex with a complete cleft: a calcified vessel
    res = classify(features(**{**MATURE_HO.__dict__, "flags": ("tubular",)}))
    assert res.label == IND
    assert "likely mimic (tubular), not a HO/POS pattern" in res.reasons
    # a slender POS attached along 25 of its 40 mm: the attachment carries the call
    slender_pos = features(**{**POS_LESION.__dict__, "attachment_mm": 25.0, "flags": ("tubular",)})
    res = classify(slender_pos)
    assert res.label == POS and not any("mimic" in r for r in res.reasons)


def test_nothing_is_called_on_an_image_that_is_no_skeletal_radiograph():
    for lesion in (MATURE_HO, POS_LESION):
        res = classify(features(**{**lesion.__dict__, "flags": ("modality_out_of_scope",)}))
        assert res.label == IND
        assert res.probabilities[IND] == 1.0
        assert any("DICOM Modality" in r for r in res.reasons)


def test_central_without_bone_looks_like_neither():
    res = classify(features(zonal_index=-0.4, zonal_pattern="central", cleft="not_applicable",
                            cleft_fraction=math.nan, attachment_mm=math.nan))
    assert res.label == IND
    assert any("neither the HO nor the POS pattern" in r for r in res.reasons)


def _model(**weights):
    names = [n for n, _ in FEATURES]
    return LogisticModel(intercept=0.0, weights={n: weights.get(n, 0.0) for n in names},
                         means=dict.fromkeys(names, 0.0), scales=dict.fromkeys(names, 1.0),
                         provenance={})


def test_confidence_threshold_is_an_argument():
    # only the cleft fraction counts: (0.55 - 0.5) * 4 = 0.2 log-odds, so p(HO) = sigmoid(0.2)
    model = _model(cleft_fraction=4.0)
    weak = features(cleft_fraction=0.55)
    res = classify(weak, model=model)
    assert res.probabilities[HO] == pytest.approx(1 / (1 + math.exp(-0.2)))
    assert res.label == IND
    assert classify(weak, min_confidence=0.5, model=model).label == HO


def test_group_logits_split_the_evidence_by_sign():
    model = _model(zonal_index=10.0, attachment_fraction=-3.0)
    res = classify(features(zonal_index=0.3, attachment_mm=20.0, length_mm=40.0), model=model)
    assert res.zonal_evidence == pytest.approx(3.0)
    assert res.cleft_evidence == pytest.approx(-1.5)
    assert "the two signs disagree" in res.reasons


def test_committed_coefficients_load_with_provenance():
    model = default_model()
    assert set(model.weights) == {n for n, _ in FEATURES}
    assert model.provenance["script"] == "tools/fit_classifier.py"


def test_reasons_quote_no_millimetres_when_spacing_is_unknown():
    res = classify(features(**{**POS_LESION.__dict__, "spacing_known": False}))
    assert "broad attachment (45% of length)" in res.reasons
    assert not any(" mm" in r for r in res.reasons)


def test_unknown_spacing_withholds_where_a_size_decides():
    # small and round at the fallback pitch: whether it is phlebolith-sized is unknown
    flagged = features(**{**MATURE_HO.__dict__, "flags": ("round_small",), "spacing_known": False})
    res = classify(flagged)
    assert res.label == IND
    assert "pixel spacing unknown, so the size criteria are unreliable" in res.reasons
    # with the spacing known the mimic alone withholds; without a size flag spacing is no issue
    assert "pixel spacing unknown, so the size criteria are unreliable" not in classify(
        features(**{**flagged.__dict__, "spacing_known": True})).reasons
    plain = classify(features(**{**MATURE_HO.__dict__, "spacing_known": False}))
    assert plain.label == HO and not any("spacing unknown" in r for r in plain.reasons)


def test_a_detached_lesion_too_short_for_zoning_is_withheld():
    # A 12 mm rim-dense cluster with a complete cleft: under half HO's smallest typical
    # size, so its zoning carries no call.
    short = features(**{**MATURE_HO.__dict__, "length_mm": 12.0})
    res = classify(short)
    assert res.label == IND and res.probabilities[HO] < 0.1
    assert "too small (12 mm) to show a zonal pattern; HO is typically 3-6 cm" in res.reasons
    # ... also away from any bone (cleft not applicable); at 15 mm it is long enough.
    assert classify(features(**{**short.__dict__, "cleft": "not_applicable"})).label == IND
    assert classify(features(**{**short.__dict__, "length_mm": 15.0})).label == HO
    # The threshold is an argument (AnalysisConfig.classify.min_pattern_length_mm).
    assert classify(short, min_pattern_length_mm=10.0).label == HO
    # An attached short lesion keeps its call: attachment is POS's sign at any size.
    short_pos = features(**{**POS_LESION.__dict__, "length_mm": 12.0, "attachment_mm": 9.0})
    assert classify(short_pos).label == POS
    # Without spacing the reason quotes no millimetres.
    res = classify(features(**{**short.__dict__, "spacing_known": False}))
    assert res.label == IND and not any(" mm" in r for r in res.reasons)


# A calcified vessel as segmented (seed-57 dev phantom, case 352): 36.5 x 7.4 mm, faint,
# no cortex within reach, its tram-line walls reading as a continuous rim.
VESSEL = features(zonal_index=0.55, rim_core_ratio=1.40, peak_position=0.79, rim_continuity=1.0,
                  zonal_pattern="peripheral", cleft="not_applicable", cleft_fraction=math.nan,
                  cleft_width_mm=math.nan, attachment_mm=math.nan,
                  distance_to_cortex_mm=math.nan, length_mm=36.5, width_mm=7.4,
                  flags=("cleft_not_measurable", "low_contrast"))


def test_faint_narrow_mineral_away_from_bone_is_withheld_as_a_vessel():
    assert classify(features(**{**VESSEL.__dict__, "flags": ()})).label == HO  # the old call
    res = classify(VESSEL)
    assert res.label == IND and res.probabilities[HO] < 0.1
    assert ("faint and narrow (7 mm) with no cortex within reach: a calcified vessel's walls "
            "read as a rim") in res.reasons
    # The width limit is an argument (AnalysisConfig.classify.max_vessel_width_mm).
    assert classify(VESSEL, max_vessel_width_mm=7.0).label == HO


def test_the_vessel_rule_needs_all_three_signs_of_a_vessel():
    # wider than a limb vessel (a 15 mm mature HO away from any detected bone): still HO
    assert classify(features(**{**VESSEL.__dict__, "width_mm": 14.9})).label == HO
    # dense (no low_contrast flag): still HO
    assert classify(features(**{**VESSEL.__dict__, "flags": ("cleft_not_measurable",)})).label == HO
    # a cortex within reach and a complete cleft: the cleft sign is read, still HO
    near = features(**{**VESSEL.__dict__, "cleft": "complete", "cleft_fraction": 1.0,
                       "cleft_width_mm": 2.0, "attachment_mm": 0.0, "distance_to_cortex_mm": 2.0})
    assert classify(near).label == HO
    # width unknown (NaN, the default) or spacing unknown (mm unreliable): no call on size
    assert classify(features(**{**VESSEL.__dict__, "width_mm": math.nan})).label == HO
    assert classify(features(**{**VESSEL.__dict__, "spacing_known": False})).label == HO
    # the typical HO and POS keep their calls
    assert classify(features(**{**MATURE_HO.__dict__, "width_mm": 18.0,
                                "flags": ("low_contrast",)})).label == HO
    assert classify(features(**{**POS_LESION.__dict__, "width_mm": 9.0,
                                "flags": ("low_contrast",)})).label == POS


# A mature HO as measured (dev seed 45, case 43): 67 x 32 mm with a complete 2.5 mm cleft,
# whose density reads uniform; the continuous zonal features lean centre-dense.
UNIFORM_HO = features(zonal_index=-0.159, rim_core_ratio=0.286, peak_position=0.418,
                      rim_continuity=0.375, zonal_pattern="uniform", cleft="complete",
                      cleft_fraction=1.0, cleft_width_mm=2.5, attachment_mm=0.0,
                      distance_to_cortex_mm=2.4, length_mm=67.0, width_mm=31.8)


def test_a_uniform_pattern_is_no_conflict_with_the_cleft():
    assert classify(UNIFORM_HO).zonal_evidence < -0.5  # the lean that counted as a conflict
    res = classify(UNIFORM_HO)
    assert res.label == HO and "the two signs disagree" not in res.reasons
    assert "the density reads uniform: the call rests on the cleft sign alone" in res.reasons
    # The lean is left out of the call, not just of the conflict: a uniform lesion with a
    # broad attachment is called POS however rim-ward its continuous features lean.
    attached = features(**{**UNIFORM_HO.__dict__, "zonal_index": 0.09, "peak_position": 0.9,
                           "rim_continuity": 1.0, "rim_core_ratio": 1.0, "cleft": "absent",
                           "cleft_fraction": 0.0, "attachment_mm": 30.0})
    res = classify(attached)
    assert res.zonal_evidence > -res.cleft_evidence > 0.5  # the lean outweighs the cleft
    assert res.label == POS
    assert "the density reads uniform: the call rests on the cleft sign alone" in res.reasons
    # A rim-dense or centre-dense reading against the cleft is still a conflict.
    central = features(**{**UNIFORM_HO.__dict__, "zonal_pattern": "central"})
    assert "the two signs disagree" in classify(central).reasons


def test_a_narrow_uniform_lesion_needs_both_signs():
    # 10 mm wide: as likely a calcified vessel beside the cortex (dev seed 57, case 93)
    narrow = features(**{**UNIFORM_HO.__dict__, "width_mm": 10.5, "length_mm": 48.0})
    res = classify(narrow)
    assert res.label == IND and "the two signs disagree" in res.reasons
    # the width is an argument (AnalysisConfig.classify.min_single_sign_width_mm)
    assert classify(narrow, min_single_sign_width_mm=10.0).label == HO
    # width or spacing unknown: no call on size
    for kw in ({"width_mm": math.nan}, {"spacing_known": False}):
        assert classify(features(**{**UNIFORM_HO.__dict__, **kw})).label == IND


def test_uniform_density_away_from_bone_shows_neither_sign():
    res = classify(features(**{**UNIFORM_HO.__dict__, "cleft": "not_applicable",
                               "cleft_fraction": math.nan, "cleft_width_mm": math.nan,
                               "attachment_mm": math.nan, "distance_to_cortex_mm": math.nan}))
    assert res.label == IND and res.probabilities[IND] >= 0.95
    assert ("neither sign can be read: uniform density and no cortex within reach"
            in res.reasons)
    assert not any("rests on the cleft" in r for r in res.reasons)  # there is no cleft sign


def test_every_classify_setting_is_a_classify_argument_with_the_same_default():
    # the pipeline passes AnalysisConfig.classify to classify() as keywords
    import dataclasses
    import inspect

    from hoimg.config import ClassifyConfig

    params = inspect.signature(classify).parameters
    for setting in dataclasses.fields(ClassifyConfig):
        assert params[setting.name].default == setting.default, setting.name

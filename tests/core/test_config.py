import json

import pytest

from hoimg.config import AnalysisConfig
from hoimg.errors import InvalidInputError


def test_json_round_trip_and_hash_equality():
    cfg = AnalysisConfig().replace(profile={"cleft_reach_mm": 20.0}, segment={"smoothing_mm": 0.5})
    again = AnalysisConfig.from_json(cfg.to_json())
    assert again == cfg
    assert again.hash() == cfg.hash()
    assert cfg.hash() != AnalysisConfig().hash()
    assert json.loads(cfg.to_json())["profile"]["cleft_reach_mm"] == 20.0


def test_yaml_file_round_trip(tmp_path):
    cfg = AnalysisConfig().replace(classify={"min_confidence": 0.7})
    path = tmp_path / "cfg.yaml"
    path.write_text(cfg.to_yaml())
    assert AnalysisConfig.from_file(path) == cfg


def test_unknown_key_names_section_and_key():
    with pytest.raises(InvalidInputError, match=r"unknown config key profile\.nope"):
        AnalysisConfig().replace(profile={"nope": 1})
    with pytest.raises(InvalidInputError, match="unknown config section 'bogus'"):
        AnalysisConfig.from_dict({"bogus": {}})


def test_a_retired_key_loads_with_a_warning_and_changes_nothing(tmp_path):
    # A config file written before bone detection became cortex edge pairs.
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"segment": {"bone_threshold_sigma": 4.0, "smoothing_mm": 0.6,
                                            "min_bone_elongation": 3.0}}))
    with pytest.warns(FutureWarning) as record:
        cfg = AnalysisConfig.from_file(path)
    assert sorted(str(w.message).split(" is ")[0] for w in record) == [
        "config segment.bone_threshold_sigma", "config segment.min_bone_elongation"]
    assert cfg == AnalysisConfig().replace(segment={"smoothing_mm": 0.6})
    assert "bone_threshold_sigma" not in cfg.to_dict()["segment"]


def test_wrong_type_is_refused():
    with pytest.raises(InvalidInputError, match="must be a number"):
        AnalysisConfig().replace(profile={"cleft_reach_mm": "far"})


def test_bad_file_error_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(InvalidInputError) as info:
        AnalysisConfig.from_file(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("profile", "n_bins", 0, "must be > 0"),
        ("profile", "n_bins", 2.5, "whole number"),
        ("load", "max_megapixels", -1, "finite and >= 0"),
        ("segment", "working_pixel_mm", float("nan"), "finite and >= 0"),
        ("profile", "rim_start", 2.0, r"share and must lie in \[0, 1\]"),
        ("classify", "min_confidence", 1.5, r"\[0, 1\]"),
        ("profile", "core_end", 0.9, "must be below profile.rim_start"),
    ],
)
def test_out_of_range_values_are_refused_with_the_key(section, key, value, message):
    with pytest.raises(InvalidInputError, match=message) as info:
        AnalysisConfig().replace(**{section: {key: value}})
    assert section in str(info.value)

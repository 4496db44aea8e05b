import json
import math
import re

import pandas as pd
import pytest

from hoimg.errors import InvalidInputError
from hoimg.evaluate import evaluate, match_lesions

TRUTH = {
    "cases": [
        {"file": "a.dcm", "spacing_mm": 0.1, "lesions": [
            {"class": "heterotopic_ossification", "stage": "mature", "centroid_rc": [50, 50],
             "bbox_rc": [30, 30, 70, 70], "zonal": "peripheral", "cleft": "complete",
             "gap_mm": 2.0, "attachment_mm": 0.0},
            {"class": "other", "kind": "phlebolith", "centroid_rc": [200, 200],
             "bbox_rc": [195, 195, 205, 205], "zonal": None, "cleft": "absent"},
        ]},
        {"file": "sub/b.dcm", "spacing_mm": 0.2, "lesions": [
            {"class": "parosteal_osteosarcoma", "centroid_rc": [100, 100],
             "bbox_rc": [80, 80, 120, 120], "zonal": "central", "cleft": "partial",
             "gap_mm": 1.0, "attachment_mm": 15.0},
        ]},
        {"file": "empty.dcm", "spacing_mm": 0.1, "lesions": []},
    ]
}


def row(file, r, c, label, zonal="peripheral", cleft="complete", width=2.5, lid=1, p_ho=None):
    p_ho = {"heterotopic_ossification": 0.9, "parosteal_osteosarcoma": 0.1}.get(label, 0.5) \
        if p_ho is None else p_ho
    return {"file": file, "lesion_id": lid, "centroid_row": r, "centroid_col": c, "label": label,
            "zonal_pattern": zonal, "cleft": cleft, "cleft_width_mm": width,
            "p_heterotopic_ossification": p_ho, "p_parosteal_osteosarcoma": 1 - p_ho}


def test_match_rule_uses_bbox_grown_by_2mm():
    truth = [{"bbox_rc": [10, 10, 20, 20], "centroid_rc": [15, 15]}]
    # 2 mm at 0.1 mm/px = 20 px margin: (39, 15) is inside the grown box, (41, 15) is not.
    t2d, d2t, dup = match_lesions([(39.0, 15.0), (41.0, 15.0), (16.0, 16.0)], truth, 0.1)
    assert d2t == [0, None, 0]
    assert t2d == [2]  # the nearest detection wins
    assert dup == [True, False, False]


def test_scores_are_the_hand_counted_values(tmp_path):
    lesions = pd.DataFrame([
        row("a.dcm", 52, 48, "heterotopic_ossification", width=2.5),
        row("a.dcm", 201, 199, "parosteal_osteosarcoma", zonal="central", lid=2),  # mimic called
        row("a.dcm", 500, 500, "indeterminate", lid=3),  # false positive
        row("sub/b.dcm", 100, 101, "indeterminate", zonal="central", cleft="absent", width=1.5),
    ])
    ev = evaluate(lesions, TRUTH)
    assert ev.n_images == 3 and ev.n_truth == 3 and ev.n_detections == 4
    assert ev.sensitivity["heterotopic_ossification/mature"] == 1.0
    assert ev.sensitivity["parosteal_osteosarcoma"] == 1.0
    assert ev.false_positives_per_image == pytest.approx(1 / 3)
    assert ev.label_accuracy == 0.5
    assert ev.indeterminate_rate == 0.5
    assert ev.mimic_called_rate == 1.0
    assert ev.zonal_accuracy == 1.0
    assert ev.cleft_accuracy == 0.5
    assert ev.cleft_width_mae_mm == pytest.approx(0.5)
    assert ev.confusion["parosteal_osteosarcoma"] == {"indeterminate": 1}
    assert ev.label_accuracy_by_group == {
        "heterotopic_ossification": 1.0, "heterotopic_ossification/mature": 1.0,
        "parosteal_osteosarcoma": 0.0,
    }
    assert ev.indeterminate_by_group["parosteal_osteosarcoma"] == 1.0
    # matched HO at p=0.9 (truth HO) and POS at p=0.5 (truth POS): (0.1^2 + 0.5^2) / 2
    assert ev.brier_score == pytest.approx((0.1**2 + 0.5**2) / 2)
    assert [(r["lo"], r["n"], r["observed"]) for r in ev.reliability] == [(0.4, 1.0, 0.0), (0.8, 1.0, 1.0)]
    assert "false positives per image" in ev.to_text()


def test_missed_lesion_counts_against_sensitivity():
    ev = evaluate(pd.DataFrame([row("a.dcm", 52, 48, "heterotopic_ossification")]), TRUTH)
    assert ev.sensitivity["parosteal_osteosarcoma"] == 0.0
    assert ev.confusion["parosteal_osteosarcoma"] == {"missed": 1}
    assert math.isnan(ev.indeterminate_rate) is False


def test_bad_truth_is_a_clear_error(tmp_path):
    path = tmp_path / "truth.json"
    bad = {"cases": [{"file": "x", "lesions": [{"class": "tumour", "bbox_rc": [0, 0, 1, 1]}]}]}
    path.write_text(json.dumps(bad))
    with pytest.raises(InvalidInputError, match="class 'tumour' is not one of"):
        evaluate(pd.DataFrame([]), path)


def test_cli_prints_the_table_and_writes_evaluation_json(tmp_path, capsys):
    from hoimg.cli import main

    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame([
        row("a.dcm", 52, 48, "heterotopic_ossification"),
        row("a.dcm", 500, 500, "indeterminate", lid=3),  # false positive
        row("sub/b.dcm", 100, 101, "parosteal_osteosarcoma", zonal="central", cleft="partial"),
    ]).to_csv(results / "lesions.csv", index=False)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH))
    assert main(["evaluate", str(results), str(truth)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^false positives per image +0\.333$", out, re.M)
    assert re.search(r"^label accuracy \(HO/POS\) +1\.000$", out, re.M)
    written = json.loads((results / "evaluation.json").read_text())
    assert written["false_positives_per_image"] == pytest.approx(1 / 3)
    assert written["label_accuracy"] == 1.0
    assert not list(results.glob("*.tmp"))  # written atomically


def test_cli_without_results_is_a_one_line_error(tmp_path, capsys):
    from hoimg.cli import main

    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH))
    assert main(["evaluate", str(tmp_path), str(truth)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no lesions.csv" in err and "run hoimg analyze first" in err

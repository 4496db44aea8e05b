import json
from pathlib import Path

import pytest

from hoimg.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_info_reports_spacing_source_and_flags(capsys):
    import pydicom

    truth = json.loads((SAMPLES / "truth.json").read_text())
    case = next(c for c in truth["cases"] if c["file"] == "sample_03_pos.dcm")
    ds = pydicom.dcmread(SAMPLES / "sample_03_pos.dcm", stop_before_pixels=True)
    assert "PixelSpacing" not in ds and "EstimatedRadiographicMagnificationFactor" not in ds
    row_mm, col_mm = (float(v) for v in ds.ImagerPixelSpacing)
    assert main(["info", str(SAMPLES / "sample_03_pos.dcm")]) == 0
    out = capsys.readouterr().out
    # raw detector-plane spacing, reported as such (larger than the true patient-plane pitch)
    assert f"{row_mm:.4g} x {col_mm:.4g} mm (imager_detector_plane)" in out
    assert row_mm > case["spacing_mm"][0]
    assert "flag            spacing_detector_plane:" in out
    assert case["patient_name"].split("^")[0] not in out


def test_non_dicom_is_a_one_line_usage_error(capsys):
    assert main(["info", str(SAMPLES / "README.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hoimg: error: ") and "README.md" in err and "\n" not in err


@pytest.mark.parametrize("argv", [[], ["analyze", "x"], ["phantom", "out", "--n", "0", "--seed", "1"],
                                  ["nonsense"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2


def test_phantom_command_writes_n_files_and_truth(tmp_path, capsys):
    assert main(["phantom", str(tmp_path), "--n", "2", "--seed", "5"]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert sorted(c["file"] for c in truth["cases"]) == sorted(p.name for p in tmp_path.glob("*.dcm"))
    assert len(truth["cases"]) == 2


def test_unwritable_output_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a folder should be created
    assert main(["phantom", str(blocker / "out"), "--n", "1", "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hoimg: error: ") and "\n" not in err and "writable" in err

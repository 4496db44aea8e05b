import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hoimg

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "sample_01_mature_ho.dcm"
MM_COLUMNS = ["area_mm2", "length_mm", "width_mm", "cleft_width_mm", "attachment_mm",
              "distance_to_cortex_mm"]


@pytest.fixture(scope="module")
def calibrated():
    return hoimg.analyze(SAMPLE)


def test_unknown_spacing_reports_no_millimetres_but_the_same_ratios(calibrated):
    image = calibrated.image
    assert image.spacing_mm == (0.15, 0.15)  # equal to the fallback pitch: same filter scales
    assert hoimg.AnalysisConfig().load.fallback_spacing_mm == 0.15
    blind = hoimg.analyze(np.array(image.pixels))
    assert blind.image.spacing_source == "unknown"
    a, b = calibrated.to_frame(), blind.to_frame()
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(b["zonal_index"], a["zonal_index"])
    np.testing.assert_allclose(b["cleft_fraction"], a["cleft_fraction"])
    assert list(b["label"]) == list(a["label"]) or "spacing unknown" in " ".join(
        r for les in blind.lesions for r in les.reasons)
    assert b[MM_COLUMNS].isna().all().all()
    assert all("spacing_unknown" in les.flags for les in blind.lesions)


def test_same_input_gives_the_same_table_twice(calibrated):
    again = hoimg.analyze(SAMPLE)
    assert again.to_frame().equals(calibrated.to_frame())


def test_to_dict_is_strict_json_without_identifiers(calibrated):
    import pydicom

    text = json.dumps(calibrated.to_dict(), allow_nan=False)
    name = str(pydicom.dcmread(SAMPLE, stop_before_pixels=True).PatientName)
    assert name and name not in text
    d = json.loads(text)
    assert d["image"]["spacing_source"] == "pixel_spacing"
    assert len(d["lesions"]) == len(calibrated.lesions)
    for les, lesion in zip(d["lesions"], calibrated.lesions, strict=True):
        assert math.isclose(sum(les["probabilities"].values()), 1.0, abs_tol=1e-9)
        assert len(les["profile"]["s"]) == hoimg.AnalysisConfig().profile.n_bins
        # the shape index that decided the pattern travels with the profile
        assert les["profile"]["shape_index"] == lesion.profile.shape_index


def test_repr_html_shows_thumbnail_and_table(calibrated):
    html = calibrated._repr_html_()
    assert html.count("data:image/png;base64,") == 1
    assert "<table" in html and "zonal_index" in html


def test_import_hoimg_stays_light():
    code = ("import sys, hoimg; heavy = {'numpy', 'pandas', 'numba', 'cv2', 'pydicom', "
            "'matplotlib', 'scipy', 'skimage', 'dask'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lesion_keeps_what_the_classifier_read(calibrated):
    blind = hoimg.analyze(np.array(calibrated.image.pixels))
    for les in blind.lesions:
        assert les.features.zonal_index == les.zonal_index
        # mm values were measured at the fallback pitch and classified; only the report hides them
        assert math.isnan(les.length_mm) and math.isfinite(les.features.length_mm)


def test_a_ct_slice_is_measured_but_nothing_on_it_is_called(calibrated, tmp_path):
    import pydicom

    ds = pydicom.dcmread(SAMPLE)
    ds.Modality = "CT"  # the same pixels, declared a cross-sectional image
    ds.save_as(tmp_path / "ct.dcm")
    ct = hoimg.analyze(tmp_path / "ct.dcm")
    assert "modality_out_of_scope" in ct.image.flags
    assert any(les.label != "indeterminate" for les in calibrated.lesions)
    assert len(ct.lesions) == len(calibrated.lesions) > 0
    for les, ref in zip(ct.lesions, calibrated.lesions):
        assert les.zonal_index == ref.zonal_index  # measured as before
        assert les.label == "indeterminate" and les.probabilities["indeterminate"] == 1.0
        assert "modality_out_of_scope" in les.flags

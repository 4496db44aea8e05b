import math

import numpy as np

from hoimg.report.tables import IMAGE_COLUMNS, IMAGE_SCHEMA, LESION_COLUMNS, image_record, to_frame

DESIGN_LESION_COLUMNS = (
    "file, image_id, lesion_id, centroid_row, centroid_col, bbox_r0, bbox_c0, bbox_r1, bbox_c1, "
    "area_mm2, length_mm, width_mm, label, p_heterotopic_ossification, p_parosteal_osteosarcoma, "
    "p_indeterminate, zonal_pattern, zonal_index, rim_core_ratio, peak_position, rim_continuity, "
    "cleft, cleft_width_mm, cleft_fraction, attachment_mm, distance_to_cortex_mm, spacing_mm, "
    "spacing_source, flags"
)
DESIGN_IMAGE_COLUMNS = (
    "file, image_id, status, error, n_lesions, rows, cols, spacing_mm, spacing_source, "
    "photometric, transfer_syntax, seconds"
)


def test_columns_are_exactly_designs():
    assert LESION_COLUMNS == tuple(DESIGN_LESION_COLUMNS.split(", "))
    assert IMAGE_COLUMNS == tuple(DESIGN_IMAGE_COLUMNS.split(", "))


def test_empty_tables_keep_columns_and_dtypes():
    frame = to_frame([])
    assert tuple(frame.columns) == LESION_COLUMNS and len(frame) == 0
    assert frame["area_mm2"].dtype == np.float64 and frame["lesion_id"].dtype == np.int64


def test_error_row_is_one_line():
    row = image_record("a/b.dcm", status="error", error="bad\nheader   here", image_id="abc")
    assert row["error"] == "bad header here" and math.isnan(row["spacing_mm"])
    frame = to_frame([row], IMAGE_SCHEMA)
    assert frame.loc[0, "status"] == "error" and frame["rows"].isna().all()


def test_analysis_frame_matches_lesion_attributes(truth_analysis):
    frame = truth_analysis.to_frame(file="x/y.dcm")
    (les,) = truth_analysis.lesions
    row = frame.iloc[0]
    assert tuple(frame.columns) == LESION_COLUMNS
    assert row["file"] == "x/y.dcm" and row["lesion_id"] == les.id
    assert row["label"] == les.label and row["cleft"] == les.cleft
    assert math.isclose(row["p_heterotopic_ossification"] + row["p_parosteal_osteosarcoma"]
                        + row["p_indeterminate"], 1.0, abs_tol=1e-9)
    assert row["spacing_mm"] == truth_analysis.image.pixel_size_mm

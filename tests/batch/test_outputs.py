"""Tables: sorted rows, typed empty tables, three formats, atomic replacement."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from hoimg.batch.outputs import write_tables
from hoimg.report.tables import IMAGE_COLUMNS, LESION_COLUMNS, image_record


def _lesion(file, lesion_id, width):
    row = dict.fromkeys(LESION_COLUMNS, math.nan)
    row.update(file=file, image_id="abc", lesion_id=lesion_id, bbox_r0=0, bbox_c0=0, bbox_r1=1,
               bbox_c1=1, label="indeterminate", zonal_pattern="uniform", cleft="absent",
               spacing_source="unknown", flags="", width_mm=width)
    return row


def _entries():
    return [
        {"file": "a.dcm", "image": image_record("a.dcm", status="ok", n_lesions=2, seconds=0.5),
         "lesions": [_lesion("a.dcm", 2, 0.1 + 0.2), _lesion("a.dcm", 1, 1 / 3)],
         "profiles": [{"lesion_id": 1, "s": [0.25, 0.75], "values": [1.0, math.nan],
                       "counts": [3, 4], "shape_index": -0.125}]},
        {"file": "b.txt", "image": image_record("b.txt", status="skipped", error="not DICOM"),
         "lesions": [], "profiles": []},
    ]


def test_csv_rows_sorted_by_lesion_id_and_floats_round_trip(tmp_path):
    counts = write_tables(str(tmp_path), "csv", _entries())
    assert counts == {"images": 2, "lesions": 2}
    les = pd.read_csv(tmp_path / "lesions.csv")
    assert list(les.columns) == list(LESION_COLUMNS)
    assert les["lesion_id"].tolist() == [1, 2]
    assert les["width_mm"].tolist() == [1 / 3, 0.1 + 0.2]  # exact: repr round trip
    img = pd.read_csv(tmp_path / "images.csv", keep_default_na=False)
    assert list(img.columns) == list(IMAGE_COLUMNS)
    assert img["status"].tolist() == ["ok", "skipped"]
    assert not list(tmp_path.glob("*.tmp-*"))


def test_empty_tables_keep_their_header(tmp_path):
    write_tables(str(tmp_path), "csv", [])
    assert (tmp_path / "lesions.csv").read_text() == ",".join(LESION_COLUMNS) + "\n"


@pytest.mark.parametrize("n_entries", [0, 2])
def test_parquet_schema_is_the_same_with_and_without_rows(tmp_path, n_entries):
    write_tables(str(tmp_path), "parquet", _entries()[:n_entries])
    les = pd.read_parquet(tmp_path / "lesions.parquet")
    assert list(les.columns) == list(LESION_COLUMNS)
    assert str(les["lesion_id"].dtype) == "int64"
    assert str(les["width_mm"].dtype) == "float64"
    assert len(les) == n_entries


def test_jsonl_lesions_carry_profiles_with_nan_as_null(tmp_path):
    write_tables(str(tmp_path), "jsonl", _entries())
    rows = [json.loads(line) for line in (tmp_path / "lesions.jsonl").read_text().splitlines()]
    assert [r["lesion_id"] for r in rows] == [1, 2]
    assert rows[0]["profile"] == {"s": [0.25, 0.75], "values": [1.0, None], "counts": [3, 4],
                                  "shape_index": -0.125}
    assert rows[1]["profile"] == {"s": None, "values": None, "counts": None, "shape_index": None}
    assert rows[0]["area_mm2"] is None

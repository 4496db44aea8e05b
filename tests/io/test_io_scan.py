"""Folder scan: header-only, deterministic order, non-DICOM skipped, many files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _io_factory import dataset, grey12, save, write_dicom

from hoimg import errors
from hoimg.io import ScanRecord, load, read_header, scan


def _tree(root: Path) -> None:
    import cv2

    (root / "sub" / "deeper").mkdir(parents=True)
    write_dicom(root / "b.dcm", grey12((40, 50)), sop_instance_uid="1.2.3.1", modality="CR")
    write_dicom(
        root / "sub" / "a.dcm",
        grey12((30, 20)),
        syntax="jpeg_lossless_sv1",
        sop_instance_uid="1.2.3.2",
    )
    write_dicom(root / "sub" / "deeper" / "noext", grey12((10, 12)), sop_instance_uid="1.2.3.3")
    sr = dataset(modality="SR")
    sr.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    save(sr, root / "report.dcm")
    (root / "notes.txt").write_text("not an image\n")
    cv2.imwrite(str(root / "photo.png"), np.zeros((4, 4), np.uint8))
    (root / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")


def test_scan_records_sorted_with_header_fields(tmp_path: Path) -> None:
    _tree(tmp_path)
    records = list(scan(tmp_path))
    assert (
        [r.path for r in records]
        == sorted(r.path for r in records)
        == [
            "b.dcm",
            "broken.dcm",
            "notes.txt",
            "photo.png",
            "report.dcm",
            "sub/a.dcm",
            "sub/deeper/noext",
        ]
    )
    by = {r.path: r for r in records}
    assert by["b.dcm"] == ScanRecord(
        "b.dcm", "dicom", "", load(tmp_path / "b.dcm").image_id, "CR", 40, 50, "1.2.840.10008.1.2.1"
    )
    assert by["sub/a.dcm"].transfer_syntax == "1.2.840.10008.1.2.4.70"
    assert (by["sub/a.dcm"].rows, by["sub/a.dcm"].cols) == (30, 20)
    assert by["sub/deeper/noext"].status == "dicom"  # recognised by content, not name
    assert by["notes.txt"].status == "skipped" and "not DICOM" in by["notes.txt"].reason
    assert by["photo.png"].status == "skipped" and "PNG" in by["photo.png"].reason
    assert by["report.dcm"].status == "skipped" and "not an image" in by["report.dcm"].reason
    # a damaged header is still 'dicom' (load it to get the precise error), with a reason
    assert by["broken.dcm"].status == "dicom" and by["broken.dcm"].reason
    with pytest.raises(errors.CorruptFileError):
        load(tmp_path / "broken.dcm")


def test_scan_not_recursive_and_not_a_folder(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert [r.path for r in scan(tmp_path, recursive=False)] == [
        "b.dcm",
        "broken.dcm",
        "notes.txt",
        "photo.png",
        "report.dcm",
    ]
    with pytest.raises(errors.InvalidInputError, match="not a folder"):
        list(scan(tmp_path / "b.dcm"))


def test_scan_many_files_in_one_folder(tmp_path: Path) -> None:
    template = write_dicom(tmp_path / "template.bin", grey12((8, 8))).read_bytes()
    names = []
    for k in range(3000):
        name = f"img{k:05d}.dcm" if k % 10 == 0 else f"junk{k:05d}.txt"
        (tmp_path / name).write_bytes(template if k % 10 == 0 else b"x" * 200)
        names.append(name)
    (tmp_path / "template.bin").unlink()
    records = list(scan(tmp_path))
    assert [r.path for r in records] == sorted(names)
    assert sum(r.status == "dicom" for r in records) == 300
    assert {r.rows for r in records if r.status == "dicom"} == {8}


def test_header_larger_than_the_read_prefix(tmp_path: Path) -> None:
    ds = dataset(grey12((9, 11)))
    ds.add_new(0x00091010, "OB", b"\x01" * 200_000)  # private blob before group 0028
    ds.add_new(0x00090010, "LO", "HOIMG TEST")
    path = save(ds, tmp_path / "big_header.dcm")
    (record,) = scan(tmp_path)
    assert (record.status, record.rows, record.cols) == ("dicom", 9, 11)
    assert read_header(path).Rows == 9
    assert "PixelData" not in read_header(path)


def test_scan_survives_damaged_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(42)
    base = write_dicom(tmp_path / "base.bin", grey12((16, 16))).read_bytes()
    (tmp_path / "base.bin").unlink()
    for k in range(80):
        data = bytearray(base)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 12))):
            data[pos] = int(rng.integers(0, 256))
        cut = int(rng.integers(100, len(data) + 1)) if k % 3 == 0 else len(data)
        (tmp_path / f"f{k:03d}.dcm").write_bytes(bytes(data[:cut]))
    records = list(scan(tmp_path))
    assert len(records) == 80
    assert all(r.status in ("dicom", "skipped") for r in records)
    assert any(r.status == "dicom" and r.rows == 16 for r in records)


def test_read_header_refuses_non_dicom(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("plain text, long enough to sniff" * 10)
    with pytest.raises(errors.NotDicomError, match="not DICOM"):
        read_header(tmp_path / "a.txt")
    with pytest.raises(errors.InvalidInputError, match="cannot read"):
        read_header(tmp_path / "missing.dcm")

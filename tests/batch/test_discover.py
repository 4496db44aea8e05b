"""Input discovery: every file found once, labelled relative to its root, junk skipped."""

from __future__ import annotations

import os

import pytest
from batch_helpers import make_dicom

from hoimg.batch.discover import discover
from hoimg.errors import InvalidInputError


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "export"
    make_dicom(root / "a.dcm", 1)
    make_dicom(root / "nested" / "deep" / "b.dcm", 2)
    (root / "notes.txt").write_text("not an image")
    (root / "paper.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 300)
    (root / "empty.dcm").write_bytes(b"")
    (root / "x.dcm").mkdir()
    return root


def test_folder_recursive_labels_are_relative_and_junk_is_skipped(tree):
    files, skipped = discover([str(tree)], recursive=True)
    assert [f.file for f in files] == ["a.dcm", "nested/deep/b.dcm"]
    assert {s.file for s in skipped} == {"notes.txt", "paper.pdf", "empty.dcm"}
    assert all(not os.path.isabs(f.file) for f in files)
    assert not any(f.explicit for f in files)


def test_non_recursive_ignores_subfolders(tree):
    files, skipped = discover([str(tree)], recursive=False)
    assert [f.file for f in files] == ["a.dcm"]
    assert len(skipped) == 3


def test_explicit_non_dicom_file_is_analysed_not_skipped(tree, monkeypatch):
    monkeypatch.chdir(tree)
    files, skipped = discover(["notes.txt", "a.dcm"])
    assert [(f.file, f.explicit) for f in files] == [("a.dcm", True), ("notes.txt", True)]
    assert skipped == []


def test_absolute_explicit_path_keeps_only_the_name(tree):
    files, _ = discover([str(tree / "nested" / "deep" / "b.dcm")])
    assert [f.file for f in files] == ["b.dcm"]


def test_same_file_reached_twice_is_listed_once(tree, monkeypatch):
    monkeypatch.chdir(tree.parent)
    files, _ = discover(["export", "export/a.dcm"], recursive=True)
    assert sorted(f.file for f in files) == ["a.dcm", "nested/deep/b.dcm"]


def test_colliding_labels_from_two_roots_are_prefixed(tmp_path, monkeypatch):
    make_dicom(tmp_path / "site1" / "img.dcm", 1)
    make_dicom(tmp_path / "site2" / "img.dcm", 2)
    monkeypatch.chdir(tmp_path)
    files, _ = discover(["site1", "site2"])
    assert [f.file for f in files] == ["site1/img.dcm", "site2/img.dcm"]


def test_missing_input_is_a_usage_error(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        discover([str(tmp_path / "nope")])


def test_output_folder_inside_the_input_is_not_an_input(tree):
    out = tree / "results"
    (out / "overlays").mkdir(parents=True)
    (out / "images.csv").write_text("file\n")
    make_dicom(out / "stray.dcm", 3)
    files, skipped = discover([str(tree)], recursive=True, exclude=str(out))
    assert not any(x.file.startswith("results/") for x in [*files, *skipped])


def test_same_name_named_explicitly_twice_keeps_both_with_parent_folders(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / "deep" / folder).mkdir(parents=True)
        make_dicom(tmp_path / "deep" / folder / "x.dcm", seed=len(folder) + ord(folder))
    files, _ = discover([str(tmp_path / "deep" / "a" / "x.dcm"), str(tmp_path / "deep" / "b" / "x.dcm")],
                        recursive=False)
    assert [f.file for f in files] == ["a/x.dcm", "b/x.dcm"]

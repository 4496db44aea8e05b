"""Fixtures of the batch tests (helpers live in ``batch_helpers.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from batch_helpers import HERE, STUB, make_dicom


@pytest.fixture
def stub(monkeypatch) -> str:
    """The stub analyzer spec, importable in spawned workers too."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return STUB


@pytest.fixture
def good_tree(tmp_path) -> Path:
    """Six good files, some nested."""
    root = tmp_path / "in"
    for i, rel in enumerate(["a.dcm", "b.dcm", "sub/c.dcm", "sub/deeper/d.dcm", "e.dcm",
                             "sub/f.dcm"]):
        make_dicom(root / rel, seed=i)
    return root

"""The committed data/samples are exactly what the documented command regenerates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hoimg.phantom.samples import SAMPLES, write_samples

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not (SAMPLES_DIR / "truth.json").exists(), reason="data/samples not present")
def test_samples_regenerate_bit_for_bit(tmp_path):
    write_samples(tmp_path)
    names = [name for name, _ in SAMPLES] + ["truth.json"]
    for name in names:
        assert _sha(tmp_path / name) == _sha(SAMPLES_DIR / name), name


@pytest.mark.skipif(not (SAMPLES_DIR / "truth.json").exists(), reason="data/samples not present")
def test_samples_cover_required_cases():
    truth = json.loads((SAMPLES_DIR / "truth.json").read_text())
    lesions = [les for case in truth["cases"] for les in case["lesions"]]
    stages = {les["stage"] for les in lesions if les["kind"] == "ho"}
    assert {"mature", "intermediate"} <= stages
    assert any(les["class"] == "parosteal_osteosarcoma" for les in lesions)
    assert any(les["class"] == "other" for les in lesions)
    assert any(not case["lesions"] for case in truth["cases"])
    total = sum(p.stat().st_size for p in SAMPLES_DIR.iterdir())
    assert total < 25e6

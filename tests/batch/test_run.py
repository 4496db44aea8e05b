"""run_batch end to end with the stub analyzer: accounting, isolation, determinism, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from batch_helpers import BROKEN_SHARED, HERE, make_dicom

from hoimg.batch import run_batch
from hoimg.cli import main
from hoimg.errors import InvalidInputError


def _images(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "images.csv", keep_default_na=False)


def _norm(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain str with "" for missing, so CSV and in-memory frames compare."""
    from hoimg.report.tables import LESION_SCHEMA

    frame = frame.reset_index(drop=True).copy()
    for name, dtype in LESION_SCHEMA:
        if dtype == "string":
            frame[name] = frame[name].astype(object).where(frame[name].notna(), "").astype(str)
    return frame


def _without_seconds(path: Path) -> list[str]:
    """images.csv minus its last column (per-image time, which differs run to run)."""
    return [line.rsplit(",", 1)[0] for line in path.read_text().splitlines()]


@pytest.fixture
def mix(tmp_path, shared_dicom_optional) -> tuple[Path, dict[str, str]]:
    """A mixed tree and the status every file in it must get."""
    root = tmp_path / "mix"
    expect = {}
    for i, rel in enumerate(["a.dcm", "sub/b.dcm", "sub/deeper/c.dcm", "x.dcm/inside.dcm"]):
        make_dicom(root / rel, seed=i)
        expect[rel] = "ok"
    (root / "notes.txt").write_text("not an image")
    (root / "sub" / "paper.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 400)
    (root / "empty.dcm").write_bytes(b"")
    expect.update({"notes.txt": "skipped", "sub/paper.pdf": "skipped", "empty.dcm": "skipped"})
    # claims to be DICOM (preamble) but the data set is garbage
    (root / "sub" / "garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    expect["sub/garbage.dcm"] = "error"
    if shared_dicom_optional is not None:
        for rel in BROKEN_SHARED:
            dst = root / "broken" / Path(rel).name
            dst.parent.mkdir(exist_ok=True)
            shutil.copyfile(shared_dicom_optional / rel, dst)
            expect[f"broken/{Path(rel).name}"] = "error"
    return root, expect


@pytest.fixture
def shared_dicom_optional():
    root = Path(os.environ.get("HOIMG_SHARED_DICOM", HERE.parents[2] / "shared" / "dicom"))
    return root if root.is_dir() else None


def test_whole_mix_every_file_once_with_its_status(mix, tmp_path, stub):
    root, expect = mix
    out = tmp_path / "out"
    summary = run_batch([str(root)], str(out), recursive=True, workers=2, analyzer=stub,
                        progress="quiet")
    assert summary.exit_code == 1
    images = _images(out)
    assert sorted(images["file"]) == sorted(expect)  # each exactly once
    assert dict(zip(images["file"], images["status"], strict=True)) == expect
    assert (images.loc[images.status == "error", "error"] != "").all()
    assert "\n" not in "".join(images["error"])
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["ok"] == 4 and run["counts"]["skipped"] == 3
    assert run["counts"]["error"] == len(expect) - 7
    assert run["status"] == "complete" and run["end"] >= run["start"]
    ok = images[images.status == "ok"]
    assert sorted(p.name for p in (out / "overlays").iterdir()) == sorted(
        f"{i}.png" for i in ok["image_id"])


def test_good_rows_equal_the_analyzer_called_directly(good_tree, tmp_path, stub):
    import _stub_pipeline

    from hoimg.report.tables import LESION_SCHEMA, lesion_records, to_frame

    out = tmp_path / "out"
    run_batch([str(good_tree)], str(out), recursive=True, workers=2, analyzer=stub,
              progress="quiet", overlays=False)
    got = pd.read_csv(out / "lesions.csv")
    want = []
    for path in sorted(good_tree.rglob("*.dcm")):
        rel = path.relative_to(good_tree).as_posix()
        want += lesion_records(_stub_pipeline.analyze(str(path)), file=rel)
    want = to_frame(want, LESION_SCHEMA).sort_values(["file", "lesion_id"], kind="stable")
    assert len(got) > len(want) / 2 > 0
    pd.testing.assert_frame_equal(_norm(got), _norm(want), check_dtype=False)


def test_one_and_two_workers_are_byte_identical(good_tree, tmp_path, stub):
    outs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        run_batch([str(good_tree)], str(out), recursive=True, workers=n, analyzer=stub,
                  progress="quiet")
        outs.append(out)
    assert (outs[0] / "lesions.csv").read_bytes() == (outs[1] / "lesions.csv").read_bytes()
    assert _without_seconds(outs[0] / "images.csv") == _without_seconds(outs[1] / "images.csv")
    for png in (outs[0] / "overlays").iterdir():
        assert png.read_bytes() == (outs[1] / "overlays" / png.name).read_bytes()


def test_crashed_and_hung_workers_cost_only_their_image(good_tree, tmp_path, stub):
    make_dicom(good_tree / "crash.dcm", seed=10)
    make_dicom(good_tree / "hang.dcm", seed=11)
    out = tmp_path / "out"
    t0 = time.monotonic()
    summary = run_batch([str(good_tree)], str(out), recursive=True, workers=2, analyzer=stub,
                        progress="quiet", timeout_s=3.0)
    assert time.monotonic() - t0 < 60
    images = _images(out).set_index("file")
    assert summary.ok == 6 and summary.error == 2 and summary.exit_code == 1
    assert "killed by SIGKILL" in images.loc["crash.dcm", "error"]
    assert "timed out after 3 s" in images.loc["hang.dcm", "error"]


def test_no_patient_identifier_or_absolute_path_in_outputs(good_tree, tmp_path, stub):
    out = tmp_path / "out"
    make_dicom(good_tree / "crash.dcm", seed=10)
    run_batch([str(good_tree)], str(out), recursive=True, workers=1, analyzer=stub,
              progress="quiet", fmt="jsonl")
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Doe^Jane" not in data, path
            assert str(good_tree).encode() not in data, path


def test_resume_skips_done_images_and_reruns_failed_and_changed(good_tree, tmp_path, stub):
    out = tmp_path / "out"
    bad = good_tree / "late.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    first = run_batch([str(good_tree)], str(out), recursive=True, workers=1, analyzer=stub,
                      progress="quiet")
    assert (first.ok, first.error) == (6, 1)
    make_dicom(bad, seed=20)  # fixed by the user
    second = run_batch([str(good_tree)], str(out), recursive=True, workers=1, analyzer=stub,
                       progress="quiet", resume=True)
    assert (second.resumed, second.ok, second.error) == (6, 7, 0)
    assert second.exit_code == 0
    fresh = tmp_path / "fresh"
    run_batch([str(good_tree)], str(fresh), recursive=True, workers=1, analyzer=stub,
              progress="quiet")
    assert (out / "lesions.csv").read_bytes() == (fresh / "lesions.csv").read_bytes()
    # another config hash: nothing is reused
    from hoimg.config import AnalysisConfig

    cfg = AnalysisConfig().replace(classify={"min_confidence": 0.7})
    third = run_batch([str(good_tree)], str(out), recursive=True, workers=1, analyzer=stub,
                      progress="quiet", resume=True, config=cfg)
    assert third.resumed == 0 and third.ok == 7


def test_kill_9_then_resume_equals_uninterrupted_run(good_tree, tmp_path, stub):
    for i in range(6):
        make_dicom(good_tree / f"more{i}.dcm", seed=30 + i)
    out, ref = tmp_path / "out", tmp_path / "ref"
    script = (
        "import sys; from hoimg.batch import run_batch; "
        f"run_batch([{str(good_tree)!r}], sys.argv[1], recursive=True, workers=1, "
        "analyzer='_stub_pipeline:slow_analyze', progress='quiet', resume='--resume' in sys.argv)"
    )
    env = dict(os.environ, HOIMG_STUB_DELAY_S="0.4")
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], env=env,
                            start_new_session=True)
    journal = out / ".hoimg" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its worker, mid-run
    proc.wait()
    done = journal.read_bytes().count(b"\n")
    assert 3 <= done < 12, "the run must be killed part-way"
    assert not (out / "lesions.csv").exists()
    rc = subprocess.run([sys.executable, "-c", script, str(out), "--resume"], env=env).returncode
    assert rc == 0
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["resumed"] >= 3
    subprocess.run([sys.executable, "-c", script, str(ref)], env=env, check=True)
    assert (out / "lesions.csv").read_bytes() == (ref / "lesions.csv").read_bytes()
    assert _without_seconds(out / "images.csv") == _without_seconds(ref / "images.csv")
    assert sorted(os.listdir(out / "overlays")) == sorted(os.listdir(ref / "overlays"))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_other_formats_hold_the_same_rows_as_csv(good_tree, tmp_path, stub, fmt):
    run_batch([str(good_tree)], str(tmp_path / "csv"), recursive=True, workers=1,
              analyzer=stub, progress="quiet", overlays=False)
    run_batch([str(good_tree)], str(tmp_path / fmt), recursive=True, workers=1,
              analyzer=stub, progress="quiet", overlays=False, fmt=fmt)
    want = pd.read_csv(tmp_path / "csv" / "lesions.csv")
    if fmt == "parquet":
        got = pd.read_parquet(tmp_path / fmt / "lesions.parquet")
    else:
        got = pd.read_json(tmp_path / fmt / "lesions.jsonl", lines=True, dtype=False)
        assert got["profile"].map(lambda p: len(p["s"])).eq(10).all()
        got = got.drop(columns="profile")
    pd.testing.assert_frame_equal(_norm(got), _norm(want), check_dtype=False)


def test_usage_errors(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInputError, match="not a folder"):
        run_batch([str(tmp_path)], str(tmp_path / "file"))
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2


def test_cli_folder_of_junk_only_exits_0(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("hello")
    rc = main(["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"])
    assert rc == 0
    assert _images(tmp_path / "out")["status"].tolist() == ["skipped"]


def test_explicitly_named_non_dicom_file_is_an_error_row(good_tree, tmp_path, stub):
    notes = good_tree / "notes.txt"
    notes.write_text("not an image")
    summary = run_batch([str(notes), str(good_tree / "a.dcm")], str(tmp_path / "out"),
                        analyzer=stub, progress="quiet", workers=1)
    images = _images(tmp_path / "out").set_index("file")
    assert images["status"].to_dict() == {"a.dcm": "ok", "notes.txt": "error"}
    assert "not a DICOM file" in images.loc["notes.txt", "error"]
    assert summary.exit_code == 1


def test_sigterm_writes_tables_of_finished_images(good_tree, tmp_path, stub):
    for i in range(8):
        make_dicom(good_tree / f"more{i}.dcm", seed=40 + i)
    out = tmp_path / "out"
    env = dict(os.environ, HOIMG_STUB_DELAY_S="0.4")
    script = (
        "import sys; from hoimg.batch.cli import _sigterm_as_interrupt; "
        "from hoimg.batch import run_batch\n"
        "with _sigterm_as_interrupt():\n"
        f"    s = run_batch([{str(good_tree)!r}], {str(out)!r}, recursive=True, workers=1, "
        "analyzer='_stub_pipeline:slow_analyze', progress='quiet')\n"
        "sys.exit(s.exit_code)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    journal = out / ".hoimg" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 1
    images = _images(out)
    assert 2 <= len(images) < 14 and (images["status"] == "ok").all()
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"

"""The journal survives a kill mid-write and indexes the latest entry per file."""

from __future__ import annotations

import math

from hoimg.batch.journal import Journal, read_index


def _entry(file, status="ok", n=0):
    return {"file": file, "status": status, "key": {"v": 1},
            "image": {"image_id": f"id-{file}", "seconds": math.nan}, "lesions": [{"i": n}]}


def test_append_then_index_returns_latest_entry(tmp_path):
    with Journal(str(tmp_path), fresh=True) as j:
        j.append(_entry("a.dcm", "error"))
        j.append(_entry("b.dcm"))
        j.append(_entry("a.dcm", "ok", n=7))
    index = read_index(j.path)
    assert len(index) == 2
    assert index.get("a.dcm").status == "ok"
    got = list(index.entries(["b.dcm", "a.dcm", "missing.dcm"]))
    assert [e["file"] for e in got] == ["b.dcm", "a.dcm"]
    assert got[1]["lesions"] == [{"i": 7}]
    assert math.isnan(got[0]["image"]["seconds"])


def test_fragment_left_by_a_kill_is_ignored_and_not_glued_to_next_entry(tmp_path):
    with Journal(str(tmp_path), fresh=True) as j:
        j.append(_entry("a.dcm"))
    with open(j.path, "ab") as fh:  # what kill -9 during a write leaves behind
        fh.write(b'{"file": "b.dcm", "status": "o')
    assert sorted(read_index(j.path)._refs) == ["a.dcm"]
    with Journal(str(tmp_path), fresh=False) as j2:
        j2.append(_entry("c.dcm"))
    index = read_index(j2.path)
    assert sorted(index._refs) == ["a.dcm", "c.dcm"]
    assert [e["file"] for e in index.entries(["c.dcm"])] == ["c.dcm"]


def test_fresh_journal_forgets_previous_run(tmp_path):
    with Journal(str(tmp_path), fresh=True) as j:
        j.append(_entry("a.dcm"))
    with Journal(str(tmp_path), fresh=True) as j:
        pass
    assert len(read_index(j.path)) == 0

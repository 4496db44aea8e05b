"""Dask mode: a real LocalCluster (2 worker processes on loopback) equals the process pool."""

from __future__ import annotations

import pytest
from batch_helpers import make_dicom

from hoimg.batch import run_batch
from hoimg.errors import InvalidInputError

pytest.importorskip("distributed")


def _without_seconds(path):
    return [line.rsplit(",", 1)[0] for line in path.read_text().splitlines()]


def test_local_cluster_equals_process_pool(good_tree, tmp_path, stub):
    make_dicom(good_tree / "hang.dcm", seed=11)
    (good_tree / "bad.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    pool_out, dask_out = tmp_path / "pool", tmp_path / "dask"
    a = run_batch([str(good_tree)], str(pool_out), recursive=True, workers=2, analyzer=stub,
                  progress="quiet", timeout_s=4.0)
    b = run_batch([str(good_tree)], str(dask_out), recursive=True, workers=2, analyzer=stub,
                  progress="quiet", timeout_s=4.0, scheduler="local")
    assert (a.ok, a.error) == (b.ok, b.error) == (6, 2)
    assert (pool_out / "lesions.csv").read_bytes() == (dask_out / "lesions.csv").read_bytes()
    assert _without_seconds(pool_out / "images.csv") == _without_seconds(dask_out / "images.csv")
    pngs = sorted(p.name for p in (pool_out / "overlays").iterdir())
    assert len(pngs) == 6 and pngs == sorted(p.name for p in (dask_out / "overlays").iterdir())
    for name in pngs:  # written by this process from bytes the Dask workers sent back
        assert (pool_out / "overlays" / name).read_bytes() == (
            dask_out / "overlays" / name).read_bytes()


def test_bad_scheduler_address_is_a_usage_error(good_tree, tmp_path):
    out = tmp_path / "o"
    with pytest.raises(InvalidInputError, match="tcp://HOST:8786"):
        run_batch([str(good_tree)], str(out), scheduler="localhost:8786",
                  progress="quiet")
    assert not out.exists()  # rejected before anything was written


def test_unreachable_scheduler_leaves_an_existing_output_untouched(good_tree, tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "o"
    out.mkdir()
    (out / "lesions.csv").write_text("earlier results\n")
    with pytest.raises(InvalidInputError, match="no Dask scheduler answers"):
        run_batch([str(good_tree)], str(out), scheduler=f"tcp://127.0.0.1:{port}",
                  progress="quiet")
    assert sorted(p.name for p in out.iterdir()) == ["lesions.csv"]
    assert (out / "lesions.csv").read_text() == "earlier results\n"


def test_existing_scheduler_by_address(good_tree, tmp_path, stub):
    from distributed import LocalCluster

    run_batch([str(good_tree)], str(tmp_path / "pool"), workers=1, analyzer=stub,
              progress="quiet", overlays=False)
    # A free loopback port for the scheduler's HTTP routes: another cluster (or test run)
    # on this machine may hold the default :8787.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary = run_batch([str(good_tree)], str(tmp_path / "tcp"), analyzer=stub,
                            progress="quiet", overlays=False,
                            scheduler=cluster.scheduler_address)
    assert summary.ok == 3  # non-recursive: a.dcm, b.dcm, e.dcm
    assert (tmp_path / "pool" / "lesions.csv").read_bytes() == (
        tmp_path / "tcp" / "lesions.csv").read_bytes()
    run = (tmp_path / "tcp" / "run.json").read_text()
    assert cluster.scheduler_address in run


def test_missing_dask_is_a_usage_error_naming_the_extra(good_tree, tmp_path, monkeypatch,
                                                        capsys):
    import sys

    from hoimg.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import now raises ImportError
    rc = main(["analyze", str(good_tree), "--out", str(tmp_path / "o"), "--scheduler",
               "local"])
    assert rc == 2
    assert "pip install 'hoimg[dask]'" in capsys.readouterr().err


def test_local_cluster_starts_when_the_default_dashboard_port_is_taken(good_tree, tmp_path, stub):
    # Another cluster (or a second test run) on the machine holds :8787; the local
    # cluster's HTTP routes go to a free loopback port instead, with no warning.
    import socket

    holder = socket.socket()
    try:
        holder.bind(("0.0.0.0", 8787))
        holder.listen()
    except OSError:
        pass  # already held by another process: the same situation
    try:
        summary = run_batch([str(good_tree)], str(tmp_path / "dask"), workers=1, analyzer=stub,
                            progress="quiet", overlays=False, scheduler="local")
    finally:
        holder.close()
    assert (summary.ok, summary.error) == (3, 0)  # non-recursive: a.dcm, b.dcm, e.dcm

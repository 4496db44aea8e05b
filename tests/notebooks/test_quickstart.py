"""Execute notebooks/01_quickstart.ipynb end to end with a kernel from this environment."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.slow
def test_notebook_runs_and_scores_the_samples(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if not (ROOT / "data" / "samples" / "truth.json").exists():
        pytest.skip("data/samples not generated")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel is this interpreter (the project's venv), launched via ipykernel.
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    # ipykernel's spec says argv[0] == "python", which jupyter_client replaces with
    # sys.executable: the kernel runs in this venv, whatever PATH says.
    client.execute()
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") or json.dumps(out.get("data", {})))
    joined = "\n".join(texts)
    # the evaluation table printed by the last cell, and a lesion table with labels
    assert "false positives per image" in joined
    assert "heterotopic_ossification" in joined

"""Execute notebooks/01_quickstart.ipynb end to end with a kernel from this environment."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.slow
def test_notebook_runs_and_scores_the_samples():
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
    truth = json.loads((ROOT / "data" / "samples" / "truth.json").read_text())
    n_images = len(truth["cases"])
    n_truth = sum(len(c["lesions"]) for c in truth["cases"])
    # the evaluation printed by the last cell scored every sample against its truth
    assert f"images {n_images}, truth lesions {n_truth}," in joined
    # the profile cell printed the probabilities of one of the three labels, summing to 1
    found = re.findall(r"\{'heterotopic_ossification': [^}]*\}", joined)
    assert found
    probs = ast.literal_eval(found[0])
    assert set(probs) == {"heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate"}
    assert abs(sum(probs.values()) - 1.0) < 1e-2

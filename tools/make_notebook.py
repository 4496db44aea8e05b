"""Write notebooks/01_quickstart.ipynb (outputs stripped) from the cells below.

Keeping the notebook's source here makes reviews readable; run
``python tools/make_notebook.py`` after editing and commit both files.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    ("md", """# hoimg quick start

This notebook analyses one bundled sample radiograph, shows what hoimg measured, then
batch-analyses all samples and scores them against their known truth.

The samples are synthetic radiographs with known answers (`data/samples/truth.json`); hoimg is a
research tool, not a diagnostic device."""),
    ("code", """from pathlib import Path
import json

import matplotlib.pyplot as plt
import hoimg

# the notebook may be run from notebooks/ or from the repository root
ROOT = Path.cwd() if (Path.cwd() / "data" / "samples").is_dir() else Path.cwd().parent
SAMPLES = ROOT / "data" / "samples"
truth = json.loads((SAMPLES / "truth.json").read_text())
[(c["file"], [les["class"] for les in c["lesions"]]) for c in truth["cases"]]"""),
    ("md", """## 1-2. Load a sample and analyse it
`hoimg.load` returns a `Radiograph` (float32, higher = denser, spacing in mm and where it came
from); `hoimg.analyze` runs the whole pipeline."""),
    ("code", """case = next(c for c in truth["cases"]
            if any(les["class"] == "heterotopic_ossification" for les in c["lesions"]))
image = hoimg.load(SAMPLES / case["file"])
print(image)
res = hoimg.analyze(image)
res"""),
    ("md", """## 3. The overlay
Outline colour = label; dotted white = rim zone boundary (s = 0.8), dotted grey = core zone
boundary (s = 0.4); blue dots on the cortex = cleft, purple = attachment."""),
    ("code", """fig, ax = plt.subplots(figsize=(7, 7))
res.plot(ax=ax);"""),
    ("md", """## 4. One lesion's radial profile
P(s) is the background-subtracted density at normalised radius s (0 = core, 1 = boundary). The
dashed line is what a *uniform* body of the same outline would project: a lesion is
"peripheral" only if its rim is denser than that."""),
    ("code", """les = max(res.lesions, key=lambda l: l.area_mm2)
print(les.label, {k: round(v, 3) for k, v in les.probabilities.items()})
print("\\n".join(les.reasons))
les.plot_profile();"""),
    ("md", "## 5. The cleft scan along the cortex"),
    ("code", """if les.cleft != "not_applicable":
    les.plot_cleft()
else:
    print("no cortex within reach of this lesion")"""),
    ("md", """## 6. Batch-analyse all samples into a DataFrame
The same as `hoimg analyze data/samples --out results/notebook` on the command line."""),
    ("code", """import pandas as pd
from hoimg.cli import main

import tempfile

out = Path(tempfile.mkdtemp(prefix="hoimg-notebook-"))  # a fresh results folder each run
exit_code = main(["analyze", str(SAMPLES), "--out", str(out), "--workers", "1", "--quiet"])
lesions = pd.read_csv(out / "lesions.csv")
lesions[["file", "lesion_id", "label", "p_heterotopic_ossification", "p_parosteal_osteosarcoma",
         "zonal_pattern", "zonal_index", "cleft", "cleft_width_mm", "attachment_mm"]]"""),
    ("md", "## 7. Evaluate against the samples' truth"),
    ("code", """ev = hoimg.evaluate(out, SAMPLES / "truth.json")
print(ev.to_text())"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives identical bytes
    return nb


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"
    nbformat.write(build(), path)
    print(f"wrote {path}")

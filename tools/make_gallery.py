"""Write docs/gallery/*.png: small overlays of the bundled samples, from a real run.

    python tools/make_gallery.py

Each picture is the overlay of one sample at 720 px on its long side (a few hundred KB at
most), plus docs/gallery/README.md listing what hoimg called each lesion.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
OUT = ROOT / "docs" / "gallery"


def main() -> int:
    import cv2

    import hoimg
    from hoimg.report.overlay import render

    OUT.mkdir(parents=True, exist_ok=True)
    truth = {c["file"]: c for c in json.loads((SAMPLES / "truth.json").read_text())["cases"]}
    lines = ["# Overlay gallery", "",
             "Written by `python tools/make_gallery.py` from the bundled synthetic samples.", "",
             "| sample | truth | hoimg |", "|---|---|---|"]
    # The samples are synthetic: their burned-in text holds no identifiers, so show the pixels.
    config = hoimg.AnalysisConfig().replace(report={"show_burned_in": True})
    for path in sorted(SAMPLES.glob("*.dcm")):
        res = hoimg.analyze(path, config=config)
        rgb = render(res, max_px=720)
        name = path.stem + ".png"
        cv2.imwrite(str(OUT / name), rgb[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        t = ", ".join(
            les["class"].replace("_", " ") + (f" ({les['stage']})" if les.get("stage") else "")
            for les in truth[path.name]["lesions"]) or "no lesion"
        got = "; ".join(f"{les.id}: {les.label.replace('_', ' ')} {les.probability:.2f}"
                        for les in res.lesions) or "no lesion"
        lines.append(f"| [{path.stem}]({name}) | {t} | {got} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

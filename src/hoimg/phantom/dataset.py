"""Write a phantom dataset: ``case_0000.dcm`` ... plus ``truth.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InvalidInputError
from .generator import generate

TRUTH_FORMAT_VERSION = 1


def truth_document(cases: list[dict], *, seed: int | None, **extra) -> dict:
    """The ``truth.json`` document (DESIGN.md format plus provenance)."""
    from .. import __version__

    doc = {
        "cases": cases,
        "generator": "hoimg.phantom",
        "hoimg_version": __version__,
        "truth_format": TRUTH_FORMAT_VERSION,
        "seed": seed,
    }
    doc.update(extra)
    return doc


def write_truth(path: os.PathLike | str, doc: dict) -> Path:
    """Write ``doc`` as stable, sorted-key JSON (same content, same bytes)."""
    path = Path(path)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_dataset(outdir: os.PathLike | str, n: int, seed: int) -> Path:
    """Write ``n`` phantom radiographs of dataset ``seed`` into ``outdir``.

    Files are ``case_0000.dcm`` ... and ``truth.json`` (returned). Case ``i`` is
    ``generate(seed, i)``: transfer syntaxes rotate with the index, and every geometry,
    dose and processing parameter is drawn per case. The same (n, seed) gives identical
    bytes (UIDs derive from the seed; no timestamps).
    """
    if int(n) < 1:
        raise InvalidInputError(f"n must be >= 1, got {n}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for i in range(int(n)):
        ph = generate(seed, i)
        ph.save(out / ph.truth["file"])
        cases.append(ph.truth)
    return write_truth(out / "truth.json", truth_document(cases, seed=int(seed)))

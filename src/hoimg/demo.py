"""``hoimg demo`` (what ``make demo`` runs): analyse the bundled samples, then score them.

Equivalent to::

    hoimg analyze data/samples --out results/demo
    hoimg evaluate results/demo data/samples/truth.json
"""

from __future__ import annotations

from pathlib import Path

from .errors import InvalidInputError


def run_demo(samples: str = "data/samples", out: str = "results/demo") -> int:
    """Analyse ``samples`` into ``out`` and print the evaluation against its truth.json.

    Returns the exit code of the analysis (0 when every image was analysed).
    """
    from .cli import main

    truth = Path(samples) / "truth.json"
    if not truth.is_file():
        raise InvalidInputError(
            "no truth.json beside the samples; regenerate them with `make samples`", path=samples
        )
    print(f"$ hoimg analyze {samples} --out {out}")
    code = main(["analyze", samples, "--out", out])
    print(f"\n$ hoimg evaluate {out} {truth}")
    main(["evaluate", out, str(truth)])
    print(f"\nOverlays: {Path(out) / 'overlays'}   Tables: {Path(out) / 'lesions.csv'}, "
          f"{Path(out) / 'images.csv'}")
    return code

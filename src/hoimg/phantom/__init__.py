"""Physically based radiograph phantoms with ground truth (issue 2).

>>> from hoimg.phantom import generate
>>> ph = generate(seed=1, index=0, kind="ho", stage="mature")   # doctest: +SKIP
>>> ph.radiograph, ph.truth["lesions"][0]["gap_mm"]              # doctest: +SKIP

A limb (skin, fat, muscle, tubular bone with a metaphyseal flare) and 3-D lesions (HO
shells, POS lobulated centre-dense masses, phleboliths, vascular and punctate
calcifications) are projected with closed-form Beer-Lambert line integrals at three energy
bins, then given scatter, heel effect, collimation, a lead marker, quantum noise, detector
blur and vendor presentation processing, and stored as CR/DX DICOM.
"""

from __future__ import annotations

from .generator import LESION_KINDS, TRANSFER_SYNTAXES, Phantom, generate

__all__ = ["generate", "Phantom", "write_dataset", "LESION_KINDS", "TRANSFER_SYNTAXES"]


def write_dataset(outdir, n: int, seed: int):
    """Write ``n`` phantom DICOMs and ``truth.json`` into ``outdir``; returns the truth path.

    See :func:`hoimg.phantom.dataset.write_dataset`.
    """
    from .dataset import write_dataset as _write

    return _write(outdir, n=n, seed=seed)

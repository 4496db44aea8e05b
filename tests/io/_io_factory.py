"""Small synthetic DICOM/PNG/TIFF files for the loader tests (seeded, written to tmp)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hoimg.io import _testing


def grey12(shape: tuple[int, int] = (48, 64), seed: int = 1) -> np.ndarray:
    """A seeded 12-bit uint16 image with structure (not constant, so codecs work)."""
    return _testing.synthetic_radiograph(shape, bits=12, seed=seed)


def write_dicom(
    path: Path,
    pixels: np.ndarray | None = None,
    *,
    syntax: str = "uncompressed",
    **tags: object,
) -> Path:
    """Write a DX file in ``syntax`` with the given extra tags; return its path."""
    pixels = grey12() if pixels is None else pixels
    ds = _testing.make_dataset(pixels, **tags)
    _testing.write(_testing.encode(ds, syntax), path)
    return path


def dataset(pixels: np.ndarray | None = None, **tags: object):
    """An uncompressed dataset to edit before writing with :func:`save`."""
    return _testing.make_dataset(grey12() if pixels is None else pixels, **tags)


def save(ds, path: Path) -> Path:
    _testing.write(ds, path)
    return path

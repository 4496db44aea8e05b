"""Shared fixtures. No network: every file a test reads is made here or found on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep numba's cache out of the source tree and shared across test processes.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".venv" / "numba-cache"))
os.environ.setdefault("MPLBACKEND", "Agg")

_SHARED_DICOM = Path(__file__).resolve().parents[1].parent / "shared" / "dicom"


@pytest.fixture(scope="session")
def shared_dicom() -> Path:
    """The folder of real DICOM files in ../shared/dicom, or skip with the reason."""
    override = os.environ.get("HOIMG_SHARED_DICOM")
    root = Path(override) if override else _SHARED_DICOM
    if not root.is_dir():
        pytest.skip(
            f"real DICOM corpus not found at {root} (clone hoimg beside ../shared, "
            "or set HOIMG_SHARED_DICOM)"
        )
    return root

"""Batch analysis of many radiographs: process pool or Dask, resumable, never stopped by a
bad file. Entry point :func:`run_batch`; the command line is ``hoimg analyze``.
"""

from __future__ import annotations

from .run import BatchSummary, run_batch

__all__ = ["BatchSummary", "run_batch"]

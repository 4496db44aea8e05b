"""The rows of ``lesions.csv`` and ``images.csv``: column names, order and types.

The column lists are fixed by DESIGN.md; other tools read them. Every table is tidy (one
row per lesion or per image) and keeps its columns and dtypes when it has no rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

LABELS = ("heterotopic_ossification", "parosteal_osteosarcoma", "indeterminate")

# (name, dtype) in the order of DESIGN.md
LESION_SCHEMA: tuple[tuple[str, str], ...] = (
    ("file", "string"),
    ("image_id", "string"),
    ("lesion_id", "int64"),
    ("centroid_row", "float64"),
    ("centroid_col", "float64"),
    ("bbox_r0", "int64"),
    ("bbox_c0", "int64"),
    ("bbox_r1", "int64"),
    ("bbox_c1", "int64"),
    ("area_mm2", "float64"),
    ("length_mm", "float64"),
    ("width_mm", "float64"),
    ("label", "string"),
    ("p_heterotopic_ossification", "float64"),
    ("p_parosteal_osteosarcoma", "float64"),
    ("p_indeterminate", "float64"),
    ("zonal_pattern", "string"),
    ("zonal_index", "float64"),
    ("rim_core_ratio", "float64"),
    ("peak_position", "float64"),
    ("rim_continuity", "float64"),
    ("cleft", "string"),
    ("cleft_width_mm", "float64"),
    ("cleft_fraction", "float64"),
    ("attachment_mm", "float64"),
    ("distance_to_cortex_mm", "float64"),
    ("spacing_mm", "float64"),
    ("spacing_source", "string"),
    ("flags", "string"),
)
LESION_COLUMNS = tuple(name for name, _ in LESION_SCHEMA)

IMAGE_SCHEMA: tuple[tuple[str, str], ...] = (
    ("file", "string"),
    ("image_id", "string"),
    ("status", "string"),
    ("error", "string"),
    ("n_lesions", "Int64"),
    ("rows", "Int64"),
    ("cols", "Int64"),
    ("spacing_mm", "float64"),
    ("spacing_source", "string"),
    ("photometric", "string"),
    ("transfer_syntax", "string"),
    ("seconds", "float64"),
)
IMAGE_COLUMNS = tuple(name for name, _ in IMAGE_SCHEMA)

IMAGE_STATUSES = ("ok", "error", "skipped")


def _mean_spacing(image) -> float:
    size = image.pixel_size_mm
    return float("nan") if size is None else float(size)


def join_flags(flags) -> str:
    """Flags as one ``;``-separated cell (sorted, so rows compare byte for byte)."""
    return ";".join(sorted(flags))


def lesion_records(analysis, *, file: str | None = None) -> list[dict[str, Any]]:
    """One dict per lesion of ``analysis`` with exactly :data:`LESION_COLUMNS`.

    Parameters
    ----------
    analysis : hoimg.Analysis
    file : str, optional
        The ``file`` cell; defaults to the image's source path as given (batch runs pass the
        path relative to the input root).
    """
    image = analysis.image
    file = image.source if file is None else file
    spacing = _mean_spacing(image)
    rows = []
    for les in analysis.lesions:
        p = les.probabilities
        r0, c0, r1, c1 = les.bbox_rc
        rows.append(
            {
                "file": file,
                "image_id": image.image_id,
                "lesion_id": int(les.id),
                "centroid_row": float(les.centroid_rc[0]),
                "centroid_col": float(les.centroid_rc[1]),
                "bbox_r0": int(r0),
                "bbox_c0": int(c0),
                "bbox_r1": int(r1),
                "bbox_c1": int(c1),
                "area_mm2": float(les.area_mm2),
                "length_mm": float(les.length_mm),
                "width_mm": float(les.width_mm),
                "label": les.label,
                "p_heterotopic_ossification": float(p["heterotopic_ossification"]),
                "p_parosteal_osteosarcoma": float(p["parosteal_osteosarcoma"]),
                "p_indeterminate": float(p["indeterminate"]),
                "zonal_pattern": les.zonal_pattern,
                "zonal_index": float(les.zonal_index),
                "rim_core_ratio": float(les.rim_core_ratio),
                "peak_position": float(les.peak_position),
                "rim_continuity": float(les.rim_continuity),
                "cleft": les.cleft,
                "cleft_width_mm": float(les.cleft_width_mm),
                "cleft_fraction": float(les.cleft_fraction),
                "attachment_mm": float(les.attachment_mm),
                "distance_to_cortex_mm": float(les.distance_to_cortex_mm),
                "spacing_mm": spacing,
                "spacing_source": image.spacing_source,
                "flags": join_flags(les.flags),
            }
        )
    return rows


def image_record(
    file: str,
    *,
    status: str,
    image=None,
    n_lesions: int | None = None,
    error: str = "",
    seconds: float = math.nan,
    image_id: str = "",
) -> dict[str, Any]:
    """One ``images.csv`` row. ``image`` (a Radiograph) fills the geometry columns when known."""
    if status not in IMAGE_STATUSES:
        raise ValueError(f"status must be one of {IMAGE_STATUSES}, got {status!r}")
    row: dict[str, Any] = {
        "file": file,
        "image_id": image.image_id if image is not None else image_id,
        "status": status,
        "error": " ".join(str(error).split()),
        "n_lesions": n_lesions,
        "rows": None,
        "cols": None,
        "spacing_mm": math.nan,
        "spacing_source": "",
        "photometric": "",
        "transfer_syntax": "",
        "seconds": float(seconds),
    }
    if image is not None:
        row.update(
            rows=int(image.shape[0]),
            cols=int(image.shape[1]),
            spacing_mm=_mean_spacing(image),
            spacing_source=image.spacing_source,
            photometric=str(image.meta.get("photometric", "") or ""),
            transfer_syntax=str(image.meta.get("transfer_syntax", "") or ""),
        )
    return row


def to_frame(records: list[dict[str, Any]], schema=LESION_SCHEMA) -> pd.DataFrame:
    """Typed DataFrame of ``records`` with the schema's columns, also when empty."""
    import pandas as pd

    columns = [name for name, _ in schema]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.astype(dict(schema))

"""Result types of segmentation: the bone model and the lesion candidates.

Pure data (NumPy arrays and tuples); no I/O, no plotting. Coordinates are (row, col) in
the input pixel grid, never (x, y).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class CortexEdge:
    """The periosteal (outer cortex) edge of one bone side, as an ordered sub-pixel curve.

    Attributes
    ----------
    bone_id : int
        Label of the bone in :attr:`BoneModel.labels`.
    points_rc : (K, 2) ndarray of float64
        Edge points (row, col), ordered along the curve, about one pixel apart.
    normals_rc : (K, 2) ndarray of float64
        Unit normals pointing out of the bone into soft tissue.
    thickness_mm : (K,) ndarray of float64
        Cortical thickness at each point (NaN where it could not be measured or spacing is
        unknown).
    """

    bone_id: int
    points_rc: np.ndarray
    normals_rc: np.ndarray
    thickness_mm: np.ndarray

    def __len__(self) -> int:
        return int(self.points_rc.shape[0])


@dataclass(frozen=True, eq=False)
class ShaftAxis:
    """Principal axis of one bone: its centre, unit direction (row, col), length and width."""

    bone_id: int
    center_rc: tuple[float, float]
    direction_rc: tuple[float, float]
    length_mm: float
    width_mm: float


@dataclass(frozen=True, eq=False)
class BoneModel:
    """Everything later stages need to know about the bone(s) in a radiograph.

    Attributes
    ----------
    labels : (M, N) ndarray of int32
        0 outside bone, 1..n_bones inside each bone (cortex and marrow).
    edges : tuple of CortexEdge
        Periosteal edge curves with outward normals (a long bone usually gives two, one per
        side of the shaft).
    axes : tuple of ShaftAxis
        One per bone.
    flags : tuple of str
        Image-level flags from :mod:`hoimg.flags` (e.g. ``no_bone_found``).
    """

    labels: np.ndarray
    edges: tuple[CortexEdge, ...] = ()
    axes: tuple[ShaftAxis, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def mask(self) -> np.ndarray:
        """(M, N) bool: any bone."""
        return self.labels > 0

    @property
    def n_bones(self) -> int:
        return len(self.axes)

    def edge_points(self) -> tuple[np.ndarray, np.ndarray]:
        """All edge points and normals stacked: ((K, 2), (K, 2)) float64 arrays."""
        if not self.edges:
            empty = np.empty((0, 2), dtype=np.float64)
            return empty, empty.copy()
        return (
            np.concatenate([e.points_rc for e in self.edges]),
            np.concatenate([e.normals_rc for e in self.edges]),
        )


@dataclass(frozen=True, eq=False)
class LesionCandidate:
    """One connected soft-tissue mineralisation, as found by segmentation.

    Attributes
    ----------
    id : int
        Label in :attr:`LesionCandidates.labels` (1..).
    bbox_rc : (int, int, int, int)
        (r0, c0, r1, c1), end-exclusive.
    centroid_rc : (float, float)
    area_px : int
    area_mm2, length_mm, width_mm : float
        Area and major/minor axis lengths (NaN when spacing is unknown and not assumed).
    flags : tuple of str
        Lesion flags from :mod:`hoimg.flags` (``small``, ``linear``, ``round_small``,
        ``near_image_edge``, ``touches_bone``...).
    """

    id: int
    bbox_rc: tuple[int, int, int, int]
    centroid_rc: tuple[float, float]
    area_px: int
    area_mm2: float
    length_mm: float
    width_mm: float
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class LesionCandidates:
    """The label image of all candidates plus one record per candidate."""

    labels: np.ndarray
    records: tuple[LesionCandidate, ...] = ()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def mask(self, lesion_id: int, *, pad: int = 0) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """Return ``(bbox, mask)``: the candidate's bool mask cropped to its bbox grown by ``pad``."""
        rec = next(r for r in self.records if r.id == lesion_id)
        r0, c0, r1, c1 = rec.bbox_rc
        rows, cols = self.labels.shape
        r0, c0 = max(r0 - pad, 0), max(c0 - pad, 0)
        r1, c1 = min(r1 + pad, rows), min(c1 + pad, cols)
        return (r0, c0, r1, c1), self.labels[r0:r1, c0:c1] == lesion_id

"""An Analysis built from a phantom's truth masks, so overlay tests do not depend on how
well segmentation does."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.pipeline import analyze_segmented
from hoimg.segment import BoneModel, LesionCandidate, LesionCandidates


def candidates_from_labels(labels: np.ndarray, spacing_mm: float) -> LesionCandidates:
    records = []
    for lid in range(1, int(labels.max()) + 1):
        rr, cc = np.nonzero(labels == lid)
        cov = np.cov(np.vstack([rr, cc]))
        evals = np.sort(np.linalg.eigvalsh(cov))[::-1]
        records.append(
            LesionCandidate(
                id=lid,
                bbox_rc=(int(rr.min()), int(cc.min()), int(rr.max()) + 1, int(cc.max()) + 1),
                centroid_rc=(float(rr.mean()), float(cc.mean())),
                area_px=int(rr.size),
                area_mm2=rr.size * spacing_mm**2,
                length_mm=4 * np.sqrt(evals[0]) * spacing_mm,
                width_mm=4 * np.sqrt(evals[1]) * spacing_mm,
            )
        )
    return LesionCandidates(labels=labels.astype(np.int32), records=tuple(records))


@pytest.fixture(scope="session")
def ho_phantom():
    from hoimg.phantom import generate

    return generate(
        21, 0, rows=700, cols=900, limb_angle_deg=0.0, axis_offset_mm=(0.0, 0.0),
        lesions=[{"kind": "ho", "stage": "mature", "length_mm": 40.0, "gap_mm": 3.0, "u_mm": 0.0}],
    )


@pytest.fixture(scope="session")
def truth_analysis(ho_phantom):
    image = ho_phantom.radiograph
    spacing = image.pixel_size_mm
    bone = BoneModel(labels=ho_phantom.bone_labels.astype(np.int32))
    return analyze_segmented(image, bone, candidates_from_labels(ho_phantom.lesion_labels, spacing))

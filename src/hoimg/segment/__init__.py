"""Bone and soft-tissue mineralisation segmentation.

>>> from hoimg.segment import find_bone, find_lesions
>>> bone = find_bone(radiograph)                      # doctest: +SKIP
>>> candidates = find_lesions(radiograph, bone)       # doctest: +SKIP
"""

from .bone import find_bone
from .lesions import find_lesions
from .model import BoneModel, CortexEdge, LesionCandidate, LesionCandidates, ShaftAxis

__all__ = [
    "BoneModel",
    "CortexEdge",
    "LesionCandidate",
    "LesionCandidates",
    "ShaftAxis",
    "find_bone",
    "find_lesions",
]

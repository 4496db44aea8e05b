"""Bone and soft-tissue mineralisation segmentation."""

from .model import BoneModel, CortexEdge, LesionCandidate, LesionCandidates, ShaftAxis

__all__ = ["BoneModel", "CortexEdge", "LesionCandidate", "LesionCandidates", "ShaftAxis"]

"""Turn a lesion's measurements into a label, probabilities and reasons."""

from .rules import Classification, LesionFeatures, classify

__all__ = ["Classification", "LesionFeatures", "classify"]

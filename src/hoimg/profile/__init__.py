"""Per-lesion measurements: the zonal radial profile and the cortex cleft scan.

- :func:`radial_profile` -> :class:`RadialProfile`: background-subtracted density against
  normalised radius (rim-dense HO vs centre-dense POS), compared with what a uniform body
  of the same outline projects.
- :func:`cleft_scan` -> :class:`CleftScan`: the lucent gap between lesion and cortex along
  the cortex's outward normals.
- :func:`measure_lesions`: both, for every lesion candidate of an image (the fast path).

The Numba kernels live in the private ``_*kernels`` modules (one batch entry point each
for profiles and cleft scans); Numba is imported only when a measurement runs.
"""

from .cleft import cleft_scan
from .measure import measure_lesions
from .radial import radial_profile
from .results import CleftScan, RadialProfile

__all__ = ["CleftScan", "RadialProfile", "cleft_scan", "measure_lesions", "radial_profile"]

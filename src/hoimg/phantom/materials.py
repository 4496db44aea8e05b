"""Linear attenuation coefficients (DOMAIN.md table) and the energy-bin spectrum."""

from __future__ import annotations

import numpy as np

#: Energy bins of the polyenergetic beam, keV (the columns of the DOMAIN.md table).
ENERGIES_KEV = (40.0, 50.0, 60.0)

#: Linear attenuation, 1/cm, at ``ENERGIES_KEV``. "hydroxyapatite" is per g/cm^3 of mineral,
#: added on top of the soft tissue it sits in.
MU_PER_CM = {
    "muscle": (0.282, 0.238, 0.215),
    "fat": (0.228, 0.202, 0.188),
    "cortical_bone": (1.278, 0.815, 0.604),
    "hydroxyapatite": (0.988, 0.587, 0.407),
}

# Marrow of an adult long bone is mostly yellow (fatty) marrow with some red marrow:
# a fat/soft-tissue mix between the two tabulated tissues.
_MARROW_FAT_FRACTION = 0.7
MU_PER_CM["marrow"] = tuple(
    _MARROW_FAT_FRACTION * f + (1 - _MARROW_FAT_FRACTION) * m
    for f, m in zip(MU_PER_CM["fat"], MU_PER_CM["muscle"], strict=True)
)


def spectrum_weights(effective_kev: float, spread_kev: float = 8.0) -> np.ndarray:
    """Fluence weights of the energy bins for a beam of the given effective energy.

    A Gaussian in energy around the effective energy (DOMAIN.md: 42-54 keV behind a limb
    at 60-80 kVp), normalised to sum to 1.
    """
    e = np.asarray(ENERGIES_KEV)
    w = np.exp(-0.5 * np.square((e - effective_kev) / spread_kev))
    return w / w.sum()

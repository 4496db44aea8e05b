"""Image formation: Beer-Lambert projection, heel effect, collimation, lead marker,
scatter, quantum noise and detector blur.

Everything is computed on the full pixel grid in float32 with closed-form path lengths;
only the lesions' own bounding boxes are evaluated for lesion mineral. Broad blurs (scatter)
run on a downsampled copy, which is exact enough for a kernel tens of mm wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .materials import MU_PER_CM, spectrum_weights

# mm -> cm for mu (1/cm) times path (mm)
_MM_TO_CM = 0.1


@dataclass(frozen=True)
class Grid:
    """The pixel grid in limb coordinates.

    ``u``/``v`` are float32 (rows, cols) arrays in mm; the limb axis passes through the
    image point ``axis_offset_mm`` (row, col, mm from the image centre) at angle
    ``angle_deg`` from the row axis (0 = limb vertical in the image).
    """

    rows: int
    cols: int
    spacing_mm: tuple[float, float]
    angle_deg: float
    axis_offset_mm: tuple[float, float]

    def row_col_mm(self):
        y = (np.arange(self.rows, dtype=np.float32) - (self.rows - 1) / 2) * self.spacing_mm[0]
        x = (np.arange(self.cols, dtype=np.float32) - (self.cols - 1) / 2) * self.spacing_mm[1]
        return y - np.float32(self.axis_offset_mm[0]), x - np.float32(self.axis_offset_mm[1])

    def uv(self, r0: int = 0, r1: int | None = None, c0: int = 0, c1: int | None = None):
        """Limb coordinates of the pixel centres of the window [r0:r1, c0:c1]."""
        y, x = self.row_col_mm()
        y = y[r0:r1, None]
        x = x[None, c0:c1]
        ca, sa = (
            np.float32(math.cos(math.radians(self.angle_deg))),
            np.float32(math.sin(math.radians(self.angle_deg))),
        )
        return y * ca + x * sa, -y * sa + x * ca

    def uv_to_rc(self, u: np.ndarray, v: np.ndarray):
        """Pixel (row, col) of limb coordinates (u, v) in mm."""
        ca, sa = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        y = u * ca - v * sa + self.axis_offset_mm[0]
        x = u * sa + v * ca + self.axis_offset_mm[1]
        return y / self.spacing_mm[0] + (self.rows - 1) / 2, x / self.spacing_mm[1] + (
            self.cols - 1
        ) / 2

    def pixel_window(self, bounds_uv, pad_px: int = 2):
        """Pixel window (r0, r1, c0, c1), clipped to the image, that contains a (u, v) box."""
        u0, u1, v0, v1 = bounds_uv
        r, c = self.uv_to_rc(np.array([u0, u0, u1, u1]), np.array([v0, v1, v0, v1]))
        r0 = max(int(math.floor(r.min())) - pad_px, 0)
        r1 = min(int(math.ceil(r.max())) + pad_px + 1, self.rows)
        c0 = max(int(math.floor(c.min())) - pad_px, 0)
        c1 = min(int(math.ceil(c.max())) + pad_px + 1, self.cols)
        return r0, r1, c0, c1


def project_lesions(grid: Grid, lesions) -> tuple[np.ndarray, np.ndarray, list]:
    """Lesion mineral line integral (mm g/cm^3) and footprint labels on the pixel grid.

    Returns (mineral, labels, windows): ``labels`` holds lesion i+1 where its footprint is
    (a later lesion wins where two overlap); ``windows`` the pixel window of each lesion.
    """
    mineral = np.zeros((grid.rows, grid.cols), np.float32)
    labels = np.zeros((grid.rows, grid.cols), np.int32)
    windows = []
    for i, les in enumerate(lesions):
        r0, r1, c0, c1 = win = grid.pixel_window(les.bounds_uv())
        windows.append(win)
        if r1 <= r0 or c1 <= c0:
            continue
        u, v = grid.uv(r0, r1, c0, c1)
        u = u.astype(np.float64)
        v = v.astype(np.float64)
        mineral[r0:r1, c0:c1] += les.mineral(u, v).astype(np.float32)
        labels[r0:r1, c0:c1][les.support(u, v)] = i + 1
    return mineral, labels, windows


def transmitted_fraction(limb, u, v, lesion_mineral, effective_kev: float, texture=None):
    """Polyenergetic Beer-Lambert transmission ``sum_k w_k exp(-sum_m mu_mk L_m)``.

    ``texture`` (optional, same shape) modulates the trabecular mineral. Returns
    (transmission float32, bone footprint labels int32).
    """
    paths = limb.path_lengths_mm(u, v)
    if texture is not None:
        paths["trabecular_mm_g_cm3"] = paths["trabecular_mm_g_cm3"] * texture
    soft = paths["skin"] + paths["muscle"]
    mineral = paths["trabecular_mm_g_cm3"] + lesion_mineral
    weights = spectrum_weights(effective_kev)
    out = np.zeros(u.shape if u.shape == v.shape else np.broadcast(u, v).shape, np.float32)
    for k, w in enumerate(weights):
        mu = {m: np.float32(MU_PER_CM[m][k] * _MM_TO_CM) for m in MU_PER_CM}
        att = (
            mu["muscle"] * soft
            + mu["fat"] * paths["fat"]
            + mu["cortical_bone"] * paths["cortical_bone"]
            + mu["marrow"] * paths["marrow"]
            + mu["hydroxyapatite"] * mineral
        )
        out += np.float32(w) * np.exp(-att)
    return out, paths["bone_mask"]


def blur_mm(image: np.ndarray, sigma_mm: float, spacing_mm: float) -> np.ndarray:
    """Gaussian blur with a sigma in mm; large sigmas run on a downsampled copy."""
    import cv2

    sigma_px = sigma_mm / spacing_mm
    if sigma_px < 6:
        return cv2.GaussianBlur(image, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    factor = max(1, int(sigma_px // 3))
    small = cv2.resize(
        image,
        (max(1, image.shape[1] // factor), max(1, image.shape[0] // factor)),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma_px / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def collimation_field(
    rows: int, cols: int, margins_px: tuple[int, int, int, int], penumbra_px: float
):
    """Open-field fraction (1 inside the collimator, 0 outside) with a soft penumbra.

    ``margins_px`` are (top, bottom, left, right) widths of the shuttered border.
    """

    def ramp(n, lo, hi):
        i = np.arange(n, dtype=np.float32) + 0.5
        a = np.clip((i - lo) / max(penumbra_px, 1e-3) + 0.5, 0, 1)
        b = np.clip((hi - i) / max(penumbra_px, 1e-3) + 0.5, 0, 1)
        return np.minimum(a, b)

    top, bottom, left, right = margins_px
    return ramp(rows, top, rows - bottom)[:, None] * ramp(cols, left, cols - right)[None, :]


def letter_mask(letter: str, height_px: int) -> np.ndarray:
    """A sharp-edged block letter ("L"/"R"), bool array about ``height_px`` tall."""
    import cv2

    height_px = max(8, int(height_px))
    scale = height_px / 22.0
    thick = max(2, int(round(height_px / 5)))
    (w, h), base = cv2.getTextSize(letter, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    img = np.zeros((h + base + 2 * thick, w + 2 * thick), np.uint8)
    cv2.putText(
        img, letter, (thick, h + thick), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_8
    )
    return img > 0


def smooth_random_field(rng, shape, spacing_mm: float, feature_mm: float) -> np.ndarray:
    """Unit-variance Gaussian random field with features about ``feature_mm`` across.

    Drawn on a coarse grid (feature_mm / 2 per cell) and resized, so its cost does not grow
    with the pixel count.
    """
    import cv2

    cell = feature_mm / 2
    coarse = (
        max(4, int(shape[0] * spacing_mm / cell) + 2),
        max(4, int(shape[1] * spacing_mm / cell) + 2),
    )
    field = cv2.GaussianBlur(rng.standard_normal(coarse).astype(np.float32), (0, 0), 1.0)
    field /= max(float(field.std()), 1e-6)
    return cv2.resize(field, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def grid_line_pattern(shape, spacing_mm: float, lines_per_mm: float, depth: float, axis: int):
    """Transmission of an anti-scatter grid's lead strips, sampled at the pixel centres.

    Grids have 4-8 lines/mm, above the Nyquist frequency of 0.1-0.2 mm pixels, so the
    pattern aliases into a low-frequency moire, as on real CR plates.
    """
    n = shape[axis]
    x = np.arange(n, dtype=np.float64) * spacing_mm
    line = (1 - depth * (0.5 + 0.5 * np.cos(2 * math.pi * lines_per_mm * x))).astype(np.float32)
    return line[:, None] if axis == 0 else line[None, :]


def detector_sigma_mm(mtf50_lp_mm: float) -> float:
    """Gaussian PSF sigma whose MTF is 0.5 at ``mtf50_lp_mm``: exp(-2 pi^2 s^2 f^2) = 1/2."""
    return math.sqrt(math.log(2) / 2) / (math.pi * mtf50_lp_mm)

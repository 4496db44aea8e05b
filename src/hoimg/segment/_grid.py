"""The isotropic working grid shared by bone and lesion segmentation.

Segmentation runs mostly on a downsampled copy of the image whose pixels are square and
``working_pixel_mm`` wide, whatever the detector pitch (0.1-0.2 mm) or anisotropy. Every
scale in mm becomes a pixel count on this grid, and results are mapped back to the input
grid through :meth:`WorkGrid.to_input_rc`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import AnalysisConfig, LoadConfig, SegmentConfig
from ..errors import InvalidInputError
from ..radiograph import Radiograph


def resolve_config(config) -> tuple[SegmentConfig, LoadConfig]:
    """Accept an AnalysisConfig, a SegmentConfig or None; return (segment, load) sections."""
    if config is None:
        return SegmentConfig(), LoadConfig()
    if isinstance(config, AnalysisConfig):
        return config.segment, config.load
    if isinstance(config, SegmentConfig):
        return config, LoadConfig()
    raise InvalidInputError(
        f"config must be an AnalysisConfig, a SegmentConfig or None, got {type(config).__name__}"
    )


@dataclass(frozen=True)
class WorkGrid:
    """Mapping between the input pixel grid and the isotropic working grid.

    Attributes
    ----------
    input_shape : (int, int)
        (rows, cols) of the radiograph.
    spacing_mm : (float, float)
        (row, col) input pitch actually used (the fallback when the image has none).
    pixel_mm : float
        Working pixel size (square).
    shape : (int, int)
        (rows, cols) of the working grid.
    spacing_assumed : bool
        True when ``spacing_mm`` is the configured fallback, not the image's own.
    """

    input_shape: tuple[int, int]
    spacing_mm: tuple[float, float]
    pixel_mm: float
    shape: tuple[int, int]
    spacing_assumed: bool

    @property
    def scale_rc(self) -> tuple[float, float]:
        """Input pixels per working pixel along (row, col)."""
        return (
            self.input_shape[0] / self.shape[0],
            self.input_shape[1] / self.shape[1],
        )

    def px(self, mm: float) -> float:
        """A length in mm as working pixels."""
        return mm / self.pixel_mm

    def to_input_rc(self, rc: np.ndarray) -> np.ndarray:
        """Map (..., 2) working-grid (row, col) coordinates to input-grid coordinates.

        Pixel centres map to pixel centres (the convention of ``cv2.resize``).
        """
        sr, sc = self.scale_rc
        out = np.empty_like(np.asarray(rc, dtype=np.float64))
        out[..., 0] = (rc[..., 0] + 0.5) * sr - 0.5
        out[..., 1] = (rc[..., 1] + 0.5) * sc - 0.5
        return out

    def to_work_rc(self, rc: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_input_rc`."""
        sr, sc = self.scale_rc
        out = np.empty_like(np.asarray(rc, dtype=np.float64))
        out[..., 0] = (rc[..., 0] + 0.5) / sr - 0.5
        out[..., 1] = (rc[..., 1] + 0.5) / sc - 0.5
        return out


def make_grid(radiograph: Radiograph, seg: SegmentConfig, load: LoadConfig) -> WorkGrid:
    """Build the working grid of ``radiograph``.

    With unknown spacing the loader's ``fallback_spacing_mm`` (a typical DR/CR pitch) is
    assumed, so mm scales stay sensible; callers flag the result ``spacing_unknown``.
    The grid is never finer than the input (no upsampling).
    """
    rows, cols = radiograph.shape
    assumed = radiograph.spacing_mm is None
    if assumed:
        sp = (float(load.fallback_spacing_mm),) * 2
    else:
        sp = radiograph.spacing_mm
    pixel_mm = max(float(seg.working_pixel_mm), sp[0], sp[1])
    shape = (
        max(int(round(rows * sp[0] / pixel_mm)), 1),
        max(int(round(cols * sp[1] / pixel_mm)), 1),
    )
    return WorkGrid((rows, cols), (float(sp[0]), float(sp[1])), pixel_mm, shape, assumed)


def downsample(image: np.ndarray, grid: WorkGrid) -> np.ndarray:
    """Area-average ``image`` onto the working grid (float32)."""
    import cv2

    if image.shape == grid.shape:
        return np.ascontiguousarray(image, dtype=np.float32)
    return cv2.resize(
        np.ascontiguousarray(image, dtype=np.float32),
        (grid.shape[1], grid.shape[0]),
        interpolation=cv2.INTER_AREA,
    )


def gaussian(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """OpenCV Gaussian blur with reflected borders; ``sigma_px`` <= 0.3 returns a copy."""
    import cv2

    if sigma_px <= 0.3:
        return image.copy()
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma_px, sigmaY=sigma_px,
                            borderType=cv2.BORDER_REFLECT)


def ellipse(radius_px: float) -> np.ndarray:
    """Disc structuring element of the given radius (at least 3x3)."""
    import cv2

    k = max(int(round(radius_px)), 1) * 2 + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def robust_sigma(x: np.ndarray) -> float:
    """1.4826 x MAD: the standard deviation of Gaussian noise, robust to outliers (0 if empty)."""
    if x.size == 0:
        return 0.0
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def morphology(mask: np.ndarray, op: int, kernel: np.ndarray) -> np.ndarray:
    """``cv2.morphologyEx(mask, op, kernel)`` of a uint8 mask, at a fraction of the cost.

    Two exact shortcuts. Large structuring elements cost per pixel of the whole grid,
    while the masks they act on (dense tissue, lesions) often fill a fraction of it: a
    dilation, erosion or opening of a set reads at most the kernel's half-size beyond the
    set's bounding box, and a closing twice that (its erosion reads the whole dilation),
    so the box padded by that much gives the whole grid's result (zero outside it). And a
    disc (:func:`ellipse`) is a union of a few centred rectangles, whose dilations and
    erosions OpenCV runs in constant time per pixel: dilating by the disc is the maximum
    of the dilations by its rectangles, eroding by it the minimum of the erosions.

    Parameters
    ----------
    mask : (M, N) ndarray of uint8 or bool
        A bool mask is read as uint8 0/1 without a copy.
    op : int
        ``cv2.MORPH_DILATE``, ``cv2.MORPH_ERODE``, ``cv2.MORPH_OPEN`` or ``cv2.MORPH_CLOSE``.
    kernel : ndarray of uint8
        Structuring element, anchored at its centre.

    Returns
    -------
    (M, N) ndarray of uint8
    """
    import cv2

    if op not in (cv2.MORPH_DILATE, cv2.MORPH_ERODE, cv2.MORPH_OPEN, cv2.MORPH_CLOSE):
        raise ValueError(f"op must be dilate, erode, open or close, got {op}")
    mask = np.ascontiguousarray(_as_uint8(mask))
    half = max(kernel.shape) // 2
    box = nonzero_box(mask, 2 * half if op == cv2.MORPH_CLOSE else half)
    out = np.zeros_like(mask)
    if box is None:
        return out
    sub = mask[box]
    rects = _rectangles(kernel)
    if rects is None:
        out[box] = cv2.morphologyEx(sub, op, kernel)
        return out

    def dilate(m):
        return _combine([cv2.dilate(m, r) for r in rects], np.maximum)

    def erode(m):
        return _combine([cv2.erode(m, r) for r in rects], np.minimum)

    if op == cv2.MORPH_DILATE:
        out[box] = dilate(sub)
    elif op == cv2.MORPH_ERODE:
        out[box] = erode(sub)
    elif op == cv2.MORPH_OPEN:
        out[box] = dilate(erode(sub))
    else:
        out[box] = erode(dilate(sub))
    return out


def _combine(parts: list[np.ndarray], ufunc) -> np.ndarray:
    """Fold ``parts`` with a binary ufunc (np.maximum / np.minimum), in place in the first."""
    acc = parts[0]
    for p in parts[1:]:
        ufunc(acc, p, out=acc)
    return acc


def _rectangles(kernel: np.ndarray) -> list[np.ndarray] | None:
    """The centred rectangles whose union is ``kernel``, or None when that does not pay.

    Applies to an odd, square kernel whose rows are centred runs, widest in the middle
    and narrowing outwards (a disc from :func:`ellipse`); for each distinct run width the
    rectangle spans every row at least that wide. Kernels under 9 x 9 or not of that
    shape are left to OpenCV as they are.
    """
    import cv2

    k = np.asarray(kernel) != 0
    n = k.shape[0]
    if k.ndim != 2 or k.shape[1] != n or n % 2 == 0 or n < 9:
        return None
    c = n // 2
    half_widths = []
    for row in k:
        cols = np.nonzero(row)[0]
        if cols.size == 0:
            half_widths.append(-1)
            continue
        hw = c - int(cols[0])
        if int(cols[-1]) != c + hw or cols.size != 2 * hw + 1:
            return None
        half_widths.append(hw)
    hw_arr = np.array(half_widths)
    if (hw_arr != hw_arr[::-1]).any() or (np.diff(hw_arr[: c + 1]) < 0).any() or hw_arr[c] < 0:
        return None
    rects = []
    for hw in sorted(set(int(h) for h in hw_arr if h >= 0)):
        hh = c - int(np.nonzero(hw_arr >= hw)[0][0])
        rects.append(cv2.getStructuringElement(cv2.MORPH_RECT, (2 * hw + 1, 2 * hh + 1)))
    return rects


def _as_uint8(mask: np.ndarray) -> np.ndarray:
    """A mask as uint8 0/1 for OpenCV: a bool mask is viewed as such (the same bytes,
    no copy), any other type compared with zero."""
    if mask.dtype == np.uint8:
        return mask
    if mask.dtype == bool:
        return mask.view(np.uint8)
    return (mask != 0).astype(np.uint8)


def nonzero_box(mask: np.ndarray, pad: int) -> tuple[slice, slice] | None:
    """Bounding box of the nonzero pixels of ``mask`` grown by ``pad``, clipped to it.

    Returns ``(rows, cols)`` slices, or None when ``mask`` is all zero.
    """
    import cv2

    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(_as_uint8(mask)))
    if w == 0 or h == 0:
        return None
    rows, cols = mask.shape
    return (slice(max(y - pad, 0), min(y + h + pad, rows)), slice(max(x - pad, 0), min(x + w + pad, cols)))


def members(labels: np.ndarray, n: int, keep: np.ndarray) -> np.ndarray:
    """Bool mask of the pixels whose label (of ``n``, from OpenCV's labelling) is in
    ``keep``: a lookup table, not ``np.isin``. When the labels fit in a byte (a few
    components, as a field mask or a large-lesion mask has) OpenCV's 8-bit table lookup
    does it at about a third of the cost of NumPy's indexing."""
    import cv2

    if n <= 256:
        lut = np.zeros(256, np.uint8)
        lut[keep] = 1
        return cv2.LUT(labels.astype(np.uint8), lut) > 0
    lut = np.zeros(n, bool)
    lut[keep] = True
    return lut[labels]


def components_touching(mask: np.ndarray, marker: np.ndarray) -> np.ndarray:
    """Bool mask of the 8-connected components of ``mask`` that hold a ``marker`` pixel
    (a binary reconstruction: seeds grown through their components, air reached from the
    field's rim)."""
    import cv2

    m = _as_uint8(mask)
    n, lab = cv2.connectedComponents(m, connectivity=8)
    hit = np.unique(lab[marker & (m > 0)])
    return members(lab, n, hit[hit > 0])


def label_with_stats(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats(mask, connectivity=8)``'s count, labels and
    statistics, at a fraction of the cost when ``mask`` fills a small part of the grid.

    OpenCV's statistics cost about ten times its labelling per pixel of the image, while
    lesion masks fill a fraction of the grid: the labelling runs on the bounding box of
    the nonzero pixels, its origin rounded down to even rows and columns. OpenCV labels
    2 x 2 blocks in raster order, so on a box aligned to them the components come out
    numbered as on the whole grid. Statistics are in whole-grid coordinates, except for
    the background's row 0 (it counts the box only).

    Returns
    -------
    n : int
    labels : (M, N) ndarray of int32
    stats : (n, 5) ndarray of int32
    """
    import cv2

    m = _as_uint8(mask)
    labels = np.zeros(m.shape, np.int32)
    box = nonzero_box(m, 0)
    if box is None:
        return 1, labels, np.array([[0, 0, m.shape[1], m.shape[0], m.size]], np.int32)
    y0, x0 = box[0].start & ~1, box[1].start & ~1
    win = (slice(y0, box[0].stop), slice(x0, box[1].stop))
    n, sub, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(m[win]), connectivity=8)
    labels[win] = sub
    stats[1:, cv2.CC_STAT_LEFT] += x0
    stats[1:, cv2.CC_STAT_TOP] += y0
    return n, labels, stats

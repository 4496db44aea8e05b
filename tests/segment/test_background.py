"""Background, noise and hole filling: analytic known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg.segment._background import band_median, fill_holes, local_sigma, quadratic_background


def test_quadratic_background_reproduces_a_quadratic_under_holes():
    rows, cols = 300, 400
    r, c = np.mgrid[0:rows, 0:cols].astype(np.float64)
    surface = 5.0 + 0.01 * r - 0.02 * c + 1e-4 * (r - 150) ** 2 - 5e-5 * (c - 200) * (r - 150)
    weight = np.ones((rows, cols), bool)
    weight[100:200, 150:260] = False  # an excluded lesion
    bg = quadratic_background(surface.astype(np.float32), weight, 15.0)
    err = np.abs(bg - surface)[30:-30, 30:-30]
    # Exact for a quadratic up to float32 rounding and the coarse-grid interpolation;
    # deep inside the hole the wider fallback fit is within 1% of the surface's range.
    assert np.median(err) < 0.005
    assert err.max() < 0.01 * np.ptp(surface)


def test_local_sigma_of_pure_noise_is_its_sigma():
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 2.5, size=(400, 400)).astype(np.float32)
    sig = local_sigma(noise, np.ones_like(noise, bool), 32)
    assert abs(float(np.median(sig)) - 2.5) < 0.15


def test_local_sigma_ignores_a_lesion_filling_some_blocks():
    rng = np.random.default_rng(4)
    img = rng.normal(0.0, 1.0, size=(400, 400)).astype(np.float32)
    img[100:220, 100:220] += 50.0  # a lesion covering whole blocks
    sig = local_sigma(img, np.ones_like(img, bool), 32)
    # Capped at 3x the image's typical level, not 50.
    assert float(sig.max()) <= 3.0 * 1.1
    assert abs(float(np.median(sig)) - 1.0) < 0.1


def test_fill_holes_respects_the_size_limit():
    m = np.zeros((100, 200), bool)
    m[10:30, 10:30] = True
    m[15:25, 15:25] = False  # small hole: 100 px
    m[40:95, 40:190] = True
    m[45:90, 45:185] = False  # large hole: 45 x 140 px
    out = fill_holes(m, max_hole_px=500)
    assert out[20, 20]
    assert not out[60, 100]
    assert fill_holes(m)[60, 100]


def test_normalized_blur_of_a_constant_is_that_constant_where_weighted():
    from hoimg.segment._background import normalized_blur

    img = np.full((200, 300), 7.5, np.float32)
    img[:, :100] = 1000.0  # unweighted: must not leak in
    weight = np.zeros(img.shape, bool)
    weight[50:150, 120:250] = True
    out = normalized_blur(img, weight, 4.0, fallback=1.0)
    np.testing.assert_allclose(out[60:140, 130:240], 7.5, rtol=1e-6)
    # Beyond the kernel's reach of any weight: the median of the weighted pixels.
    assert out[5, 5] == 7.5


def test_normalized_blur_in_the_weights_box_matches_a_whole_image_blur():
    import cv2

    from hoimg.segment._background import normalized_blur

    rng = np.random.default_rng(6)
    img = (50.0 + rng.normal(0, 3.0, (240, 320))).astype(np.float32)
    weight = np.zeros(img.shape, bool)
    weight[80:160, 60:200] = rng.random((80, 140)) > 0.2
    w = weight.astype(np.float32)
    sig = 2.5

    def blur(a):
        return cv2.GaussianBlur(a, (0, 0), sig, sigmaY=sig, borderType=cv2.BORDER_REFLECT)

    ref = blur(img * w) / np.maximum(blur(w), 1e-6)
    out = normalized_blur(img, weight, sig, fallback=1.0)
    near = blur(w) > 1e-6
    np.testing.assert_allclose(out[near], ref[near], rtol=1e-5)


@pytest.mark.parametrize("n", [10, 5001, 5002, 100_000])
def test_band_median_equals_numpy_median_with_many_ties(n):
    rng = np.random.default_rng(n)
    x = np.round(rng.exponential(3.0, n)).astype(np.float32)  # integers: many equal values
    x[: n // 4] = 0.0  # a flat region's zero differences
    assert band_median(x) == np.median(x)
    y = rng.normal(0, 1, n).astype(np.float32)
    assert band_median(y) == np.median(y)

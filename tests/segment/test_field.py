"""Field mask: collimation bands, open-field air, burned-in text."""

from __future__ import annotations

import numpy as np

from hoimg.config import LoadConfig, SegmentConfig
from hoimg.radiograph import Radiograph
from hoimg.segment._field import air_mask, collimation_depths, outside_mask, saturated_mask
from hoimg.segment._grid import make_grid


def _grid(shape, sp=0.4):
    rad = Radiograph(np.zeros(shape, np.float32), spacing_mm=(sp, sp), spacing_source="user")
    return make_grid(rad, SegmentConfig(), LoadConfig())


def _limb(shape, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = shape
    c = np.arange(cols) - cols / 2
    limb = 2 * np.sqrt(np.clip(150.0**2 - c**2, 0, None))  # a limb 120 mm wide at 0.4 mm
    img = np.tile(limb * 0.01, (rows, 1)) + rng.normal(0, 0.01, shape)
    return img.astype(np.float32)


def test_leaky_collimation_band_depth_on_each_side():
    img = _limb((400, 500))
    # Leaky collimator: the anatomy plus a constant attenuation offset.
    img[:37] += 2.0
    img[:, 480:] += 2.0
    depths = collimation_depths(img, _grid(img.shape))
    # Located on a ~1 mm grid and rounded into the field: at most ~1.6 mm deeper.
    assert 0 <= depths[0] - 37 <= 4
    assert 0 <= depths[3] - 20 <= 4
    assert depths[1] == 0 and depths[2] == 0


def test_no_collimation_without_a_consistent_step():
    img = _limb((400, 500), seed=1)
    assert collimation_depths(img, _grid(img.shape)) == [0, 0, 0, 0]


def test_air_beside_the_limb_is_outside_and_the_limb_is_not():
    img = _limb((400, 500), seed=2)
    out = outside_mask(img, _grid(img.shape))
    assert out[:, :60].mean() > 0.9  # air (limb spans columns ~100..400)
    assert out[:, 150:350].mean() == 0.0


def test_air_mask_refuses_an_all_tissue_field():
    # The detector fully covered by a thick limb: a thickness dome plus a bone band.
    rng = np.random.default_rng(5)
    v = np.linspace(-0.7, 0.7, 300)
    dome = 2.0 * np.sqrt(1.0 - v**2)
    bone = 0.4 * (np.abs(v - 0.1) < 0.15)
    row = dome + bone
    img = np.tile(row, (200, 1)) + rng.normal(0, 0.01, (200, 300))
    assert not air_mask(img.astype(np.float32), np.ones(img.shape, bool)).any()


def test_saturated_text_is_found_at_full_resolution():
    img = _limb((1200, 1500), seed=3)
    img[100:110, 200:260] = img.max() + 1.0  # a line of burned-in text, 1.5 mm tall at 0.15 mm
    rad = Radiograph(img, spacing_mm=(0.15, 0.15), spacing_source="user")
    grid = make_grid(rad, SegmentConfig(), LoadConfig())
    m = saturated_mask(img, grid)
    rr, cc = np.nonzero(m)
    assert m.any()
    # Working rows/cols of the text block (scale 0.4/0.15), grown by ~1 mm.
    assert rr.min() >= 100 * 0.375 - 4 and rr.max() <= 110 * 0.375 + 4
    assert cc.min() >= 200 * 0.375 - 4 and cc.max() <= 260 * 0.375 + 4


def test_pair_noise_of_white_noise_is_its_sigma():
    from hoimg.segment._field import _pair_noise

    img = np.random.default_rng(9).normal(0.0, 2.0, (300, 300)).astype(np.float32)
    assert abs(_pair_noise(img) - 2.0) < 0.05


def test_saturated_mask_ignores_a_blanked_border_over_5_percent():
    img = _limb((600, 600), seed=4)
    img[:, :60] = img.max() + 1.0  # a blanked collimation strip, 10% of the image
    rad = Radiograph(img, spacing_mm=(0.4, 0.4), spacing_source="user")
    assert not saturated_mask(img, make_grid(rad, SegmentConfig(), LoadConfig())).any()


def test_the_64_bin_histogram_is_the_256_bin_one_regrouped():
    # _valley_depth reads 64 bins off air_mask's 256-bin histogram.
    rng = np.random.default_rng(9)
    for n in (150, 1000, 25000):
        v = np.concatenate([rng.normal(100, 5, n), rng.normal(900, 40, n)]).astype(np.float32)
        h256, e256 = np.histogram(v, bins=256)
        h64, e64 = np.histogram(v, bins=64)
        np.testing.assert_array_equal(h256.reshape(64, 4).sum(axis=1), h64)
        np.testing.assert_array_equal(e256[::4], e64)

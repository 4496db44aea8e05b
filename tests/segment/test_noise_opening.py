"""Seeds against the tissue around a lesion: the noise map opened along the limb, and the
ring-contrast test. Known answers on constructed noise fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hoimg.segment._background import local_sigma
from hoimg.segment._grid import WorkGrid
from hoimg.segment.lesions import _ring_contrast

# Gaussian noise: its 90th percentile in sigmas.
_P90 = 1.2815515655446004


def _grid(shape, pixel_mm=0.4):
    return WorkGrid(shape, (pixel_mm, pixel_mm), pixel_mm, shape, False)


def _field(shape, seed=0):
    """Gaussian noise of sigma 1."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.fixture(scope="module")
def patch_and_strip():
    """Noise of sigma 1 along a vertical limb, with sigma 3 over a compact patch of 3 x 3
    blocks (what a lesion does to its own blocks) and over a strip 3 blocks wide that runs
    the limb's whole length (what a fat plane or the bone's edge does)."""
    rows, cols, block = 640, 480, 32
    values = _field((rows, cols))
    raised = np.zeros((rows, cols), bool)
    raised[288:384, 96:192] = True  # the patch
    raised[:, 352:448] = True  # the strip
    values[raised] *= 3.0
    member = np.ones((rows, cols), bool)
    opened, plain = local_sigma(values, member, block, along=np.array([1.0, 0.0]),
                                opening_px=160, with_plain=True)
    return opened, plain


def test_the_plain_map_sees_the_patch_and_the_strip(patch_and_strip):
    _, plain = patch_and_strip
    assert plain[336, 144] == pytest.approx(3.0, rel=0.2)
    assert plain[336, 400] == pytest.approx(3.0, rel=0.2)
    assert plain[100, 240] == pytest.approx(1.0, rel=0.1)


def test_the_opening_drops_a_compact_patch_to_its_floor(patch_and_strip):
    # The line opening falls to the surroundings (1); the floor keeps 0.6 of the plain
    # block value (3): 1.8, give or take the 3 x 3 block smoothing.
    opened, plain = patch_and_strip
    assert opened[336, 144] == pytest.approx(0.6 * plain[336, 144], rel=0.15)
    assert opened[336, 144] < 0.7 * plain[336, 144]


def test_the_opening_keeps_clutter_that_runs_along_the_limb(patch_and_strip):
    # Within the scatter of one block's median (256 samples: ~8%), which the opening's
    # minimum over five blocks shaves a little off.
    opened, plain = patch_and_strip
    assert opened[336, 400] == pytest.approx(plain[336, 400], rel=0.1)
    assert opened[336, 400] == pytest.approx(3.0, rel=0.1)
    assert opened[100, 240] == pytest.approx(plain[100, 240], rel=0.1)


def test_an_opening_across_the_limb_drops_the_strip_too():
    # The same strip with the limb taken as horizontal: the strip is short along it.
    rows, cols = 640, 480
    values = _field((rows, cols), seed=1)
    values[:, 352:448] *= 3.0
    member = np.ones((rows, cols), bool)
    opened = local_sigma(values, member, 32, along=np.array([0.0, 1.0]), opening_px=160)
    plain = local_sigma(values, member, 32)
    assert opened[336, 400] < 0.7 * plain[336, 400]


def test_no_direction_means_no_opening():
    values = _field((320, 320), seed=2)
    member = np.ones(values.shape, bool)
    np.testing.assert_array_equal(local_sigma(values, member, 32, opening_px=160),
                                  local_sigma(values, member, 32))


def _disc(shape, centre, radius):
    r, c = np.ogrid[: shape[0], : shape[1]]
    return (r - centre[0]) ** 2 + (c - centre[1]) ** 2 <= radius**2


def test_ring_contrast_of_a_dense_disc_is_its_excess_in_ring_sigmas():
    # Noise of sigma 2 around a disc 6 sigmas (12) denser: the disc's 90th percentile is
    # 12 + 1.28 * 2, the ring's median 0 and its robust sigma 2.
    shape = (300, 300)
    rng = np.random.default_rng(3)
    excess = (2.0 * rng.standard_normal(shape)).astype(np.float32)
    disc = _disc(shape, (150, 150), 25)
    excess[disc] += 12.0
    box = (slice(125, 176), slice(125, 176))
    value = _ring_contrast(disc[box], (125, 125), excess, np.ones(shape, bool), _grid(shape))
    assert value == pytest.approx(6.0 + _P90, rel=0.05)


def test_ring_contrast_of_a_noise_patch_is_the_noise_percentile():
    # A patch of the same noise as around it: no lesion, ~1.28 ring sigmas, below the
    # default threshold of 4.
    shape = (300, 300)
    rng = np.random.default_rng(4)
    excess = (5.0 * rng.standard_normal(shape) + 7.0).astype(np.float32)
    disc = _disc(shape, (150, 150), 25)
    box = (slice(125, 176), slice(125, 176))
    value = _ring_contrast(disc[box], (125, 125), excess, np.ones(shape, bool), _grid(shape))
    assert value == pytest.approx(_P90, abs=0.15)


def test_ring_contrast_without_tissue_around_keeps_the_candidate():
    shape = (300, 300)
    excess = np.zeros(shape, np.float32)
    disc = _disc(shape, (150, 150), 25)
    tissue = disc.copy()  # nothing outside the candidate may form the ring
    box = (slice(125, 176), slice(125, 176))
    assert _ring_contrast(disc[box], (125, 125), excess, tissue, _grid(shape)) == math.inf

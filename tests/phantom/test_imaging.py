"""Image-chain pieces against their defining equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hoimg.phantom import generate
from hoimg.phantom.generator import TRANSFER_SYNTAXES, _draw_params
from hoimg.phantom.imaging import detector_sigma_mm, grid_line_pattern
from hoimg.phantom.materials import ENERGIES_KEV, MU_PER_CM, spectrum_weights


@pytest.mark.parametrize("mtf50", [1.5, 1.75, 2.0])
def test_detector_psf_has_mtf_one_half_at_mtf50(mtf50):
    sigma = detector_sigma_mm(mtf50)
    assert math.exp(-2 * math.pi**2 * sigma**2 * mtf50**2) == pytest.approx(0.5, abs=1e-12)


def test_spectrum_weights_are_normalised_and_centred():
    for kev in (42.0, 48.0, 54.0):
        w = spectrum_weights(kev)
        assert w.sum() == pytest.approx(1.0)
        mean = float(np.dot(w, ENERGIES_KEV))
        assert 40.0 < mean < 60.0 and abs(mean - kev) < 8.0
    # bone attenuates more than muscle, muscle more than fat, at every energy bin
    for k in range(len(ENERGIES_KEV)):
        assert MU_PER_CM["cortical_bone"][k] > MU_PER_CM["muscle"][k] > MU_PER_CM["fat"][k]


def test_grid_lines_alias_into_a_low_frequency_pattern():
    line = grid_line_pattern((1, 2000), 0.15, 6.0, 0.02, axis=1)[0]
    assert line.min() == pytest.approx(0.98, abs=1e-4) and line.max() <= 1.0
    spectrum = np.abs(np.fft.rfft(line - line.mean()))
    peak_cycles_per_mm = np.argmax(spectrum) / (2000 * 0.15)
    # 6 lines/mm sampled every 0.15 mm (6.667 samples/mm) aliases to |6 - 6.667| = 0.667/mm
    assert peak_cycles_per_mm == pytest.approx(abs(6.0 - 1 / 0.15), abs=0.01)


def test_transfer_syntax_rotates_with_the_index():
    rng = np.random.default_rng(0)
    got = [_draw_params(rng, i)["transfer_syntax"] for i in range(len(TRANSFER_SYNTAXES))]
    assert got == list(TRANSFER_SYNTAXES)


@pytest.mark.parametrize("photometric", ["MONOCHROME1", "MONOCHROME2"])
def test_marker_and_text_are_the_densest_pixels(photometric):
    ph = generate(
        6,
        0,
        rows=600,
        cols=600,
        marker=True,
        text=True,
        photometric=photometric,
        collimation=False,
        lesions=[],
    )
    px = ph.radiograph.pixels
    maxv = 2 ** ph.truth["bits_stored"] - 1
    # burned-in text is display white: max stored for MONOCHROME2, 0 for MONOCHROME1
    white = maxv if photometric == "MONOCHROME2" else 0
    assert np.count_nonzero(ph.stored == white) > 50
    assert px.max() == px[ph.stored == white].max()
    # the lead letter: a compact block far denser than soft tissue
    assert np.percentile(px, 99.9) > np.median(px[ph.bone_labels > 0])

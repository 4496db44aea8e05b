"""The shared k-th-smallest kernel against np.sort (segmentation and profile medians use it)."""

from __future__ import annotations

import numpy as np
import pytest

from hoimg._select_kernel import select_kth


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_select_is_the_kth_smallest_with_ties(dtype):
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 7, 50, 101):
        for _ in range(20):
            x = np.round(rng.normal(0, 2, n)).astype(dtype)  # many ties
            for k in {0, (n - 1) // 2, n // 2, n - 1}:
                buf = np.concatenate([x, np.full(5, 99.0, dtype)])  # beyond n: ignored
                assert select_kth(buf, n, k) == np.sort(x)[k]


@pytest.mark.parametrize("order", ["ascending", "descending", "constant", "organ-pipe"])
def test_select_on_ordered_inputs(order):
    # The inputs that break a naive pivot choice.
    n = 257
    x = {
        "ascending": np.arange(n, dtype=np.float64),
        "descending": np.arange(n, dtype=np.float64)[::-1].copy(),
        "constant": np.full(n, 3.5),
        "organ-pipe": np.concatenate([np.arange(129.0), np.arange(127.0, -1.0, -1.0)]),
    }[order]
    for k in (0, 1, n // 2, n - 2, n - 1):
        assert select_kth(x.copy(), n, k) == np.sort(x)[k]

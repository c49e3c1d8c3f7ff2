"""Identities of bntheory.bn with itself, moved out of the claims ledger (issue 9): they
test the library, not a statement of the reference article."""

from __future__ import annotations

import numpy as np

from bntheory.bn import BatchNorm, batch_norm_forward


def test_eval_mode_rows_are_independent_of_the_batch():
    """Formerly part of inf-05: eval mode on a batch equals eval mode row by row."""
    rng = np.random.default_rng(0)
    bn = BatchNorm(4, momentum=None)
    bn.gamma, bn.beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    for _ in range(10):
        bn.forward(rng.normal(size=(16, 4)) * 2 + 1, training=True)
    x = rng.normal(size=(10, 4)) * 2 + 1
    y = bn.forward(x, training=False)
    rows = np.vstack([bn.forward(x[i : i + 1], training=False) for i in range(10)])
    np.testing.assert_allclose(y, rows, rtol=0, atol=1e-14)
    scale, shift = bn.fold()
    np.testing.assert_allclose(y, x * scale + shift, rtol=1e-14)


def test_conv_input_equals_flattened_channels():
    """Formerly fwd-04's check: (N, C, H, W) equals the (N*H*W, C) flattening."""
    rng = np.random.default_rng(1)
    n, c, p, q = 4, 3, 5, 6
    x = rng.normal(size=(n, c, p, q)) * 2 + 1
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    y, cache = batch_norm_forward(x, gamma, beta)
    flat = np.moveaxis(x, 1, -1).reshape(-1, c)
    yf, _ = batch_norm_forward(flat, gamma, beta)
    np.testing.assert_allclose(y, np.moveaxis(yf.reshape(n, p, q, c), -1, 1), atol=1e-13)
    assert cache.m == n * p * q

"""bntheory.bn against the straightforward float64 reference of tests/bn/_reference.py,
on every code path of the blocked implementation: (N, C) and (N, C, *spatial) inputs,
blocks of whole samples and of channel runs, rows too long to block, non-contiguous
inputs, float32, eps = 0; and the validity checks that are derived from the statistics
instead of separate passes over the data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bntheory.bn._common as bn_common
from bntheory.bn import BatchNorm, batch_norm_backward, batch_norm_forward
from bntheory.bn._common import BLOCK_BYTES, blocks

from ._reference import bn_reference, rel_error


@pytest.fixture(params=["default", "4KiB"])
def block_bytes(request, monkeypatch):
    """Run with the default block size and with 4 KiB blocks, so that small test arrays
    take every path of the blocked passes (several samples per block, channel runs of one
    sample, one block)."""
    if request.param == "4KiB":
        monkeypatch.setattr(bn_common, "BLOCK_BYTES", 4096)
    return bn_common.BLOCK_BYTES


# shapes chosen to hit each path (with 4 KiB blocks, and some with the default size):
# (N, C) with one and several row blocks; blocks of several samples; blocks of channel runs
# of one sample; a (sample, channel) row larger than a block; rows longer than einsum's
# 8192-value run (unblocked sums).
SHAPES = [
    (7, 3),
    (600, 64),
    (4, 2, 3, 2),
    (3, 2, 5),
    (16, 8, 32, 32),
    (3, 40, 30, 30),
    (2, 3, 9000),
    (5, 1, 70),
    (3, 2, 700),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.5])
@pytest.mark.parametrize("params", ["init", "random"])
def test_matches_reference_float64(shape, eps, params, block_bytes):
    rng = np.random.default_rng(abs(hash((shape, eps, params))) % 2**32)
    x = rng.standard_normal(shape) * 3.0 + 2.0
    dy = rng.standard_normal(shape)
    C = shape[1]
    if params == "init":
        gamma, beta = np.ones(C), np.zeros(C)
    else:
        gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    y, cache = batch_norm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    y_r, dx_r, dg_r, db_r, _ = bn_reference(x, gamma, beta, eps, dy)
    assert y.dtype == dx.dtype == np.float64
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r)]:
        assert got.shape == ref.shape
        assert rel_error(got, ref) < 1e-13


@pytest.mark.parametrize(
    "layout", ["fortran", "transposed", "strided", "sliced_channels", "float32_dy"]
)
@pytest.mark.parametrize("shape", [(40, 6), (6, 5, 12, 12), (4, 30, 40, 40)])
def test_non_contiguous_inputs_match_reference(layout, shape, block_bytes):
    rng = np.random.default_rng(3)
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    base = rng.standard_normal(shape) * 2.0 - 1.0
    dy = rng.standard_normal(shape)
    if layout == "fortran":
        x, dy_in = np.asfortranarray(base), np.asfortranarray(dy)
    elif layout == "transposed":
        # same values, memory order reversed: build x as the transpose of a C array
        x, dy_in = np.ascontiguousarray(base.T).T, np.ascontiguousarray(dy.T).T
    elif layout == "strided":
        big = np.zeros((2 * shape[0],) + shape[1:])
        big[::2] = base
        x, dy_in = big[::2], dy
    elif layout == "sliced_channels":
        wide = rng.standard_normal((shape[0], 2 * C) + shape[2:])
        wide[:, :C] = base
        x, dy_in = wide[:, :C], dy[:, :]
    else:
        x, dy_in = base, dy.astype(np.float32).astype(np.float64)
        dy = dy_in
    assert np.array_equal(x, base)
    y, cache = batch_norm_forward(x, gamma, beta, 1e-3)
    dx, dgamma, dbeta = batch_norm_backward(dy_in, cache)
    y_r, dx_r, dg_r, db_r, _ = bn_reference(base, gamma, beta, 1e-3, dy)
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r)]:
        assert rel_error(got, ref) < 1e-13


@pytest.mark.parametrize("shape", [(600, 64), (16, 8, 32, 32), (3, 40, 30, 30), (2, 3, 9000)])
def test_float32_matches_reference_to_float32_roundoff(shape, block_bytes):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3.0 + 2.0).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    C = shape[1]
    gamma = rng.standard_normal(C).astype(np.float32)
    beta = rng.standard_normal(C).astype(np.float32)
    y, cache = batch_norm_forward(x, gamma, beta, 1e-5)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    assert y.dtype == dx.dtype == np.float32
    assert dgamma.dtype == dbeta.dtype == np.float64
    y_r, dx_r, dg_r, db_r, _ = bn_reference(x, gamma, beta, 1e-5, dy)
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r)]:
        assert rel_error(got, ref) < 5e-6  # float32 element-wise arithmetic, float64 sums


def test_eps_zero_edge_positive_and_constant_channel():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 3, 20, 20))
    dy = rng.standard_normal(x.shape)
    y, cache = batch_norm_forward(x, 1.0, 0.0, eps=0.0)
    y_r, dx_r, _, _, _ = bn_reference(x, np.ones(3), np.zeros(3), 0.0, dy)
    assert rel_error(y, y_r) < 1e-13
    assert rel_error(batch_norm_backward(dy, cache)[0], dx_r) < 1e-13
    # exactly unit batch variance: the output has per-channel variance 1 to round-off
    assert np.allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=0, atol=1e-13)
    x[:, 1] = 7.0
    with pytest.raises(ValueError, match="channel 1 of x is constant"):
        batch_norm_forward(x, 1.0, 0.0, eps=0.0)


@settings(max_examples=50)
@given(
    n=st.integers(1, 12),
    c=st.integers(1, 40),
    s=st.sampled_from([1, 2, 7, 64, 1024, 3000]),
    itemsize=st.sampled_from([4, 8]),
    block_bytes=st.sampled_from([4096, BLOCK_BYTES]),
)
def test_blocks_tile_the_array_once_in_memory_order(n, c, s, itemsize, block_bytes):
    tiles = blocks(n, c, s, itemsize, block_bytes)
    idx = np.arange(n * c * s).reshape(n, c, s)
    seen = np.concatenate([idx[t].ravel() for t, _ in tiles])
    assert np.array_equal(seen, np.arange(n * c * s))  # every value once, in order
    vec = np.arange(c).reshape(1, c, 1)
    for t, v in tiles:
        block = idx[t]
        assert block.flags.c_contiguous
        assert np.broadcast_shapes(block.shape, vec[v].shape) == block.shape
        # a block fits the budget, or is one (sample, channel) row that alone exceeds it
        assert block.size * itemsize <= max(block_bytes, s * itemsize)


# ----------------------------------------------------------------- derived validity checks
@pytest.mark.parametrize("shape", [(600, 64), (16, 8, 32, 32), (2, 3, 9000)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_one_nonfinite_value_in_x_or_dy_is_named(shape, bad, block_bytes):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    where = tuple(int(rng.integers(k)) for k in shape)
    x_bad = x.copy()
    x_bad[where] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="x contains NaN or inf"):
            batch_norm_forward(x_bad, 1.0, 0.0)
        _, cache = batch_norm_forward(x, 1.0, 0.0)
        dy = rng.standard_normal(shape)
        dy[where] = bad
        with pytest.raises(ValueError, match="dy contains NaN or inf"):
            batch_norm_backward(dy, cache)


def test_float64_dy_too_large_for_float32_x_is_named():
    x = np.random.default_rng(7).standard_normal((16, 8, 32, 32)).astype(np.float32)
    _, cache = batch_norm_forward(x, 1.0, 0.0)
    dy = np.zeros(x.shape)
    dy[3, 2, 1, 0] = 1e39  # finite in float64, inf in float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="dy has values too large for the float32"):
            batch_norm_backward(dy, cache)


def test_overflowing_output_and_gradient_are_named_without_warnings(block_bytes):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 4, 16, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # y = gamma * x_hat overflows: gamma * |x_hat| > 1.8e308
        with pytest.raises(ValueError, match="gamma and beta: the output"):
            batch_norm_forward(x, 1e308, 0.0)
        # the bound is not tight: a large gamma whose output fits is accepted
        y, _ = batch_norm_forward(x, 1e306, 0.0)
        assert np.isfinite(y).all()
        # finite dy whose sums stay finite but dx = k * dy overflows
        _, cache = batch_norm_forward(x, 100.0, 0.0)
        dy = np.zeros(x.shape)
        dy[0, 0, 0, 0], dy[1, 0, 0, 0] = 1e307, -1e307
        with pytest.raises(ValueError, match="dy: the input gradient overflows"):
            batch_norm_backward(dy, cache)


def test_batchnorm_layer_uses_the_same_arithmetic():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 5, 20, 20)) + 4.0
    dy = rng.standard_normal(x.shape)
    layer = BatchNorm(5, eps=1e-4)
    layer.gamma = rng.standard_normal(5)
    layer.beta = rng.standard_normal(5)
    y = layer.forward(x)
    dx = layer.backward(dy)
    y_r, dx_r, dg_r, db_r, _ = bn_reference(x, layer.gamma, layer.beta, 1e-4, dy)
    assert rel_error(y, y_r) < 1e-13 and rel_error(dx, dx_r) < 1e-13
    assert rel_error(layer.dgamma, dg_r) < 1e-13 and rel_error(layer.dbeta, db_r) < 1e-13


def test_float32_constant_channel_with_tiny_eps_is_named():
    """1/sqrt(0 + 1e-300) fits float64 but not float32: x_hat = 0 * inf would be NaN; the
    bound on |y| does not apply and the output check names the problem."""
    x = np.zeros((2, 1), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="gamma and beta: the output"):
            batch_norm_forward(x, np.zeros(1), np.zeros(1), 1e-300)

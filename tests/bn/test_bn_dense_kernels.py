"""The (N, C) kernels of bntheory.bn (NumPy and compiled) against the float64 reference of
tests/bn/_reference.py (Ioffe & Szegedy 2015, Algorithm 1 and the Sec. 3 chain rule): whole and
blocked arrays (tiny blocks force many blocks and a short last block), float32, (N, C, 1, 1)
input, non-contiguous arrays; the lazily formed x_hat; the checks derived from statistics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bntheory.bn._dense as dense
from bntheory.bn import BatchNorm, batch_norm_backward, batch_norm_forward, use_kernels

from ._reference import bn_reference, rel_error


@pytest.fixture(params=["default", "tiny", "numba"])
def kernels(request, monkeypatch):
    """The NumPy kernels with default blocks and with 512-byte blocks (so that small arrays
    take the blocked passes), and the compiled kernels (extra ``fast``)."""
    if request.param == "tiny":
        monkeypatch.setattr(dense, "BLOCK_BYTES", 512)
    if request.param != "numba":
        yield request.param
        return
    pytest.importorskip("numba")
    with use_kernels("numba"):
        yield request.param


@pytest.mark.parametrize("shape", [(3, 1), (7, 3), (33, 5), (600, 64), (64, 1000), (5, 4, 1, 1)])
@pytest.mark.parametrize("eps", [0.0, 1e-5])
def test_float64_matches_reference(shape, eps, kernels):
    rng = np.random.default_rng(abs(hash((shape, eps))) % 2**32)
    x = rng.standard_normal(shape) * 3.0 + 10.0
    dy = rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y, cache = batch_norm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    y_r, dx_r, dg_r, db_r, xh_r = bn_reference(x, gamma, beta, eps, dy)
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r), (cache.x_hat, xh_r)]:
        assert got.shape == ref.shape
        assert rel_error(got, ref) < 1e-13
    # the cache can be used again (nothing is overwritten) and x_hat is kept
    dx2, _, _ = batch_norm_backward(dy, cache)
    assert np.array_equal(dx, dx2) and cache.x_hat is cache.x_hat


@pytest.mark.parametrize("shape", [(33, 5), (600, 64)])
def test_float32_matches_reference(shape, kernels):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3.0 + 2.0).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    gamma = rng.standard_normal(shape[1]).astype(np.float32)
    beta = rng.standard_normal(shape[1]).astype(np.float32)
    y, cache = batch_norm_forward(x, gamma, beta, 1e-5)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    assert y.dtype == dx.dtype == cache.x_hat.dtype == np.float32
    y_r, dx_r, dg_r, db_r, xh_r = bn_reference(x, gamma, beta, 1e-5, dy)
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r), (cache.x_hat, xh_r)]:
        assert rel_error(got, ref) < 2e-5


@pytest.mark.parametrize("layout", ["fortran", "strided", "sliced", "dy_only"])
def test_non_contiguous_match_reference(layout, kernels):
    rng = np.random.default_rng(2)
    base, dy = rng.standard_normal((300, 40)), rng.standard_normal((300, 40))
    gamma, beta = rng.standard_normal(40), rng.standard_normal(40)
    x, dy_in = base, dy
    if layout == "fortran":
        x, dy_in = np.asfortranarray(base), np.asfortranarray(dy)
    elif layout == "strided":
        big = np.zeros((600, 40))
        big[::2] = base
        x = big[::2]
    elif layout == "sliced":
        wide = rng.standard_normal((300, 80))
        wide[:, :40] = base
        x = wide[:, :40]
    else:
        dy_in = np.asfortranarray(dy)
    y, cache = batch_norm_forward(x, gamma, beta, 1e-3)
    dx, dgamma, dbeta = batch_norm_backward(dy_in, cache)
    y_r, dx_r, dg_r, db_r, _ = bn_reference(base, gamma, beta, 1e-3, dy)
    for got, ref in [(y, y_r), (dx, dx_r), (dgamma, dg_r), (dbeta, db_r)]:
        assert rel_error(got, ref) < 1e-13


@pytest.mark.parametrize(
    "where, value, match",
    [
        ("x", np.nan, "x contains NaN or inf"),
        ("x", np.inf, "x contains NaN or inf"),
        ("x_big", 1e300, "x: values too large"),
        ("dy", np.nan, "dy contains NaN or inf"),
        ("dy", -np.inf, "dy contains NaN or inf"),
        ("dy_big", 1e308, "dy: the input gradient overflows"),
    ],
)
def test_checks_from_statistics_name_the_argument(where, value, match, kernels):
    rng = np.random.default_rng(3)
    x, dy = rng.standard_normal((300, 40)), rng.standard_normal((300, 40))
    if where == "x":
        x[150, 7] = value
    elif where == "x_big":
        x[:, 3] *= value
    elif where == "dy":
        dy[299, 39] = value
    gamma = np.full(40, 1e3) if where == "dy_big" else np.ones(40)
    if where == "dy_big":
        dy[10, 5] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=match):
            _, cache = batch_norm_forward(x, gamma, np.zeros(40))
            batch_norm_backward(dy, cache)


def test_zero_variance_channel_with_eps_zero_is_named(kernels):
    x = np.random.default_rng(4).standard_normal((300, 40))
    x[:, 11] = 2.5
    with pytest.raises(ValueError, match="channel 11 of x is constant"):
        batch_norm_forward(x, np.ones(40), np.zeros(40), 0.0)


def test_last_cache_is_the_public_read_only_view_of_the_forward_pass(kernels):
    rng = np.random.default_rng(5)
    bn = BatchNorm(6)
    assert bn.last_cache is None
    x = rng.standard_normal((20, 6))
    bn.forward(x)
    cache = bn.last_cache
    _, ref = batch_norm_forward(x, bn.gamma, bn.beta, bn.eps)
    assert np.allclose(cache.x_hat, ref.x_hat, rtol=0, atol=1e-14)
    with pytest.raises(AttributeError):
        bn.last_cache = None  # read-only
    bn.forward(x, training=False)
    assert bn.last_cache is None  # eval mode keeps no batch statistics

"""Tests of bntheory.bn against finite differences, the paper's unsimplified chain rule,
Monte Carlo estimates and hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bntheory.bn import (
    BatchNorm,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    population_statistics,
)
from bntheory.gradcheck import check_gradient


def _paper_chain_rule(x, gamma, eps, dy):
    """Ioffe & Szegedy (2015), Sec. 3 backward pass, term by term as printed, for (N, C).

    Written independently of bntheory.bn (no shared code) as a reference.
    """
    m = x.shape[0]
    mu = x.mean(0)
    var = ((x - mu) ** 2).mean(0)
    xh = (x - mu) / np.sqrt(var + eps)
    dxh = dy * gamma
    dvar = np.sum(dxh * (x - mu), 0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(dxh * -1 / np.sqrt(var + eps), 0) + dvar * np.sum(-2 * (x - mu), 0) / m
    dx = dxh / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
    return dx, np.sum(dy * xh, 0), np.sum(dy, 0)


@pytest.mark.parametrize("shape", [(7, 3), (4, 2, 3, 2), (3, 2, 5)])
@pytest.mark.parametrize("eps", [0.0, 1e-3, 0.5])
def test_backward_matches_finite_differences(shape, eps):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 2 + 1
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    dy = rng.standard_normal(shape)

    def f(theta):
        xs = theta[: x.size].reshape(shape)
        g, b = theta[x.size : x.size + C], theta[x.size + C :]
        return float(np.sum(dy * batch_norm_forward(xs, g, b, eps)[0]))

    def grad(theta):
        xs = theta[: x.size].reshape(shape)
        g, b = theta[x.size : x.size + C], theta[x.size + C :]
        _, cache = batch_norm_forward(xs, g, b, eps)
        dx, dg, db = batch_norm_backward(dy, cache)
        return np.concatenate([dx.ravel(), dg, db])

    res = check_gradient(f, grad, np.concatenate([x.ravel(), gamma, beta]), rng=2)
    # central differences at h ~ 6e-6 * |theta| leave O(h^2) ~ 1e-9 relative error
    assert res.rel_error < 1e-7, res
    assert res.slope > 1.9, res


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.3])
def test_backward_matches_paper_chain_rule(eps):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 4)) * np.array([0.1, 1, 10, 100]) + 5
    gamma, beta, dy = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((9, 4))
    _, cache = batch_norm_forward(x, gamma, beta, eps)
    got = batch_norm_backward(dy, cache)
    ref = _paper_chain_rule(x, gamma, eps, dy)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(b).max())


def test_convolutional_equals_dense_with_effective_batch():
    """Ioffe & Szegedy Sec. 3.2: conv BN = dense BN over m' = m*p*q values per channel."""
    rng = np.random.default_rng(4)
    N, C, p, q = 3, 4, 5, 2
    x = rng.standard_normal((N, C, p, q))
    gamma, beta, dy = (
        rng.standard_normal(C),
        rng.standard_normal(C),
        rng.standard_normal((N, C, p, q)),
    )

    def to_dense(a):
        return a.transpose(0, 2, 3, 1).reshape(-1, C)

    y, cache = batch_norm_forward(x, gamma, beta, 1e-4)
    yd, cached = batch_norm_forward(to_dense(x), gamma, beta, 1e-4)
    assert cache.m == cached.m == N * p * q
    np.testing.assert_allclose(to_dense(y), yd, rtol=1e-13, atol=1e-13)
    dx, dg, db = batch_norm_backward(dy, cache)
    dxd, dgd, dbd = batch_norm_backward(to_dense(dy), cached)
    np.testing.assert_allclose(to_dense(dx), dxd, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dg, dgd, rtol=1e-12)
    np.testing.assert_allclose(db, dbd, rtol=1e-12)


def test_float32_input_keeps_dtype_and_matches_float64():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 3, 4, 4)).astype(np.float32) * 3 + 2
    gamma, beta = np.float32([1.5, 0.5, -1]), np.float32([0, 1, 2])
    y32, c32 = batch_norm_forward(x, gamma, beta)
    y64, c64 = batch_norm_forward(x.astype(np.float64), gamma, beta)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-5, atol=1e-5)  # float32 element-wise arithmetic
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx32 = batch_norm_backward(dy, c32)[0]
    dx64 = batch_norm_backward(dy.astype(np.float64), c64)[0]
    assert dx32.dtype == np.float32
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-4 * np.abs(dx64).max())


# ----------------------------------------------------------------- hypothesis properties
_batch = arrays(
    np.float64,
    st.tuples(st.integers(2, 12), st.integers(1, 4)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None)
@given(x=_batch, gamma_seed=st.integers(0, 2**32 - 1))
def test_output_moments_at_eps_zero(x, gamma_seed):
    var = x.var(axis=0)
    spread = np.abs(x).max(axis=0)
    # skip (numerically) constant channels: eps = 0 needs a positive variance
    if np.any(var <= (1e-6 * np.maximum(spread, 1)) ** 2):
        return
    rng = np.random.default_rng(gamma_seed)
    gamma, beta = rng.uniform(-3, 3, x.shape[1]), rng.uniform(-3, 3, x.shape[1])
    y, _ = batch_norm_forward(x, gamma, beta, eps=0.0)
    np.testing.assert_allclose(y.mean(0), beta, atol=1e-8 * (1 + np.abs(gamma).max()))
    np.testing.assert_allclose(y.var(0), gamma**2, rtol=1e-7, atol=1e-10)


@settings(max_examples=150, deadline=None)
@given(x=_batch, a_log=st.floats(-3, 3), b=st.floats(-100, 100))
def test_invariance_to_positive_affine_map(x, a_log, b):
    var = x.var(axis=0)
    if np.any(var <= (1e-4 * np.maximum(np.abs(x).max(axis=0), 1)) ** 2):
        return
    a = 10.0**a_log
    C = x.shape[1]
    scales = a * np.linspace(1, 2, C)  # a positive per-channel affine map
    y1, _ = batch_norm_forward(x, np.ones(C), np.zeros(C), eps=0.0)
    y2, _ = batch_norm_forward(x * scales + b, np.ones(C), np.zeros(C), eps=0.0)
    np.testing.assert_allclose(y1, y2, atol=1e-6)


# ----------------------------------------------------------------- running statistics
def test_running_statistics_monte_carlo():
    """momentum=None (cumulative average) on i.i.d. batches estimates mean and variance
    without bias; compare with the true N(mu, s^2) within Monte Carlo error."""
    rng = np.random.default_rng(6)
    mu, s, m, T = np.array([2.0, -1.0]), np.array([3.0, 0.5]), 8, 4000
    bn = BatchNorm(2, momentum=None)
    for _ in range(T):
        bn.forward(mu + s * rng.standard_normal((m, 2)))
    se_mean = s / np.sqrt(m * T)
    se_var = s**2 * np.sqrt(2 / ((m - 1) * T))  # Var of the unbiased sample variance
    assert np.all(np.abs(bn.running_mean - mu) < 5 * se_mean)
    assert np.all(np.abs(bn.running_var - s**2) < 5 * se_var)
    # the biased estimator would be off by (m-1)/m = 0.875: far outside the error bars
    assert np.all(np.abs(bn.running_var * (m - 1) / m - s**2) > 5 * se_var)


def test_ema_convention_and_article_mapping():
    """momentum weights the NEW batch: after one batch from the initial (0, 1) state the
    running mean is momentum * mu_B; the article's decay 0.9 is momentum = 0.1."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3)) + 4
    bn = BatchNorm(3, momentum=0.1)
    bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    # article: running <- 0.9 * running + 0.1 * mu_B, iterated
    bn2, run = BatchNorm(3, momentum=0.1), np.zeros(3)
    for _ in range(20):
        b = rng.standard_normal((5, 3)) + 1
        bn2.forward(b)
        run = 0.9 * run + (1 - 0.9) * b.mean(0)
    np.testing.assert_allclose(bn2.running_mean, run, rtol=1e-12)


def test_population_statistics_algorithm2():
    rng = np.random.default_rng(8)
    batches = [rng.standard_normal((6, 2, 3)) * 2 + 1 for _ in range(10)]
    mean, var = population_statistics(batches)
    bm = [b.transpose(1, 0, 2).reshape(2, -1) for b in batches]
    m = 18  # effective batch size 6 * 3
    np.testing.assert_allclose(mean, np.mean([b.mean(1) for b in bm], 0), rtol=1e-13)
    np.testing.assert_allclose(var, m / (m - 1) * np.mean([b.var(1) for b in bm], 0), rtol=1e-13)


def test_population_variance_is_unbiased_monte_carlo():
    """E[sigma_B^2] = (m-1)/m sigma^2, so m/(m-1) E_B[sigma_B^2] is unbiased (Alg. 2, l. 10)."""
    rng = np.random.default_rng(9)
    m, T, reps, sigma2 = 4, 50, 400, 2.25
    est = [
        population_statistics([1.5 * rng.standard_normal((m, 1)) for _ in range(T)])[1][0]
        for _ in range(reps)
    ]
    se = np.std(est) / np.sqrt(reps)
    assert abs(np.mean(est) - sigma2) < 4 * se


def test_eval_mode_is_folded_affine_map():
    rng = np.random.default_rng(10)
    bn = BatchNorm(3, eps=1e-3, momentum=0.3)
    bn.gamma, bn.beta = rng.standard_normal(3), rng.standard_normal(3)
    for _ in range(5):
        bn.forward(rng.standard_normal((8, 3, 2)))
    x = rng.standard_normal((1, 3, 2))  # a batch of one is fine at inference
    y = bn.forward(x, training=False)
    ref = (x - bn.running_mean[None, :, None]) / np.sqrt(bn.running_var[None, :, None] + 1e-3)
    ref = ref * bn.gamma[None, :, None] + bn.beta[None, :, None]
    np.testing.assert_allclose(y, ref, rtol=1e-13)
    scale, shift = bn.fold()
    np.testing.assert_allclose(y, x * scale[None, :, None] + shift[None, :, None], rtol=1e-13)
    np.testing.assert_allclose(
        batch_norm_inference(x, bn.running_mean, bn.running_var, bn.gamma, bn.beta, 1e-3), y
    )


def test_layer_backward_and_eval_backward():
    rng = np.random.default_rng(11)
    bn = BatchNorm(2)
    x, dy = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    bn.forward(x)
    dx = bn.backward(dy)
    _, cache = batch_norm_forward(x, bn.gamma, bn.beta, bn.eps)
    np.testing.assert_allclose(dx, batch_norm_backward(dy, cache)[0])
    bn.forward(x, training=False)
    scale, _ = bn.fold()
    np.testing.assert_allclose(bn.backward(dy), dy * scale)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: batch_norm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3)), "x"),
        (lambda: batch_norm_forward(np.ones((1, 3, 1, 1)), np.ones(3), np.zeros(3)), "x"),
        (lambda: batch_norm_forward(np.array([[np.nan], [1.0]]), np.ones(1), np.zeros(1)), "x"),
        (
            lambda: batch_norm_forward(np.ones((4, 2)), np.array([1.0, np.inf]), np.zeros(2)),
            "gamma",
        ),
        (lambda: batch_norm_forward(np.ones((4, 2)), np.ones(2), np.array([np.nan, 0])), "beta"),
        (lambda: batch_norm_forward(np.ones((4, 2)), np.ones(3), np.zeros(2)), "gamma"),
        (lambda: batch_norm_forward(np.ones((4, 2)), np.ones(2), np.zeros(5)), "beta"),
        (lambda: batch_norm_forward(np.ones(4), 1.0, 0.0), "x"),
        (
            lambda: batch_norm_forward(
                np.arange(8.0).reshape(4, 2), np.ones(2), np.zeros(2), eps=-1
            ),
            "eps",
        ),
        (lambda: batch_norm_forward(np.ones((4, 2)), np.ones(2), np.zeros(2), eps=0.0), "eps"),
        (lambda: BatchNorm(3, momentum=1.5), "momentum"),
        (lambda: BatchNorm(3, momentum=-0.1), "momentum"),
        (lambda: BatchNorm(0), "num_features"),
        (lambda: BatchNorm(3, eps=-1e-5), "eps"),
        (lambda: BatchNorm(3).forward(np.ones((4, 2))), "x"),
        (lambda: BatchNorm(3).forward(np.ones((1, 3))), "x"),
        (lambda: population_statistics([]), "batches"),
        (lambda: population_statistics([np.ones((4, 2)), np.ones((5, 2))]), "batches"),
        (
            lambda: batch_norm_backward(
                np.ones((3, 2)),
                batch_norm_forward(np.arange(8.0).reshape(4, 2), np.ones(2), np.zeros(2))[1],
            ),
            "dy",
        ),
    ],
)
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: batch_norm_forward("abc", 1.0, 0.0), "x"),
        (lambda: batch_norm_forward(np.ones((4, 2)) + 1j, np.ones(2), np.zeros(2)), "x"),
        (lambda: BatchNorm(2.5), "num_features"),
        (lambda: batch_norm_backward(np.ones((3, 2)), cache=None), "cache"),
    ],
)
def test_bad_types_raise_type_error(call, name):
    with pytest.raises(TypeError, match=name):
        call()


# ---------------------------------------------------------------- issue 10: inference-mode overflow


def _no_warnings():
    import warnings

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")
    return ctx


@pytest.mark.parametrize(
    ("args", "dtype", "match"),
    [
        # y = 1e300 / sqrt(1e-300) = 1e450: beyond float64 (used to return inf + a warning)
        (([[1e300], [1.0]], 0.0, 1e-300, 1.0, 0.0), np.float64, "x: values too large"),
        # gamma / sqrt(var) = 1e45 does not fit the float32 input (used to cast to inf)
        ((np.ones((2, 1)), 0.0, 1e-30, 1e30, 0.0), np.float32, "float32"),
        # 1e30 * 1e15 overflows float32 in the output
        ((1e30 * np.ones((2, 1)), 0.0, 1e-30, 1.0, 0.0), np.float32, "x: values too large"),
        # gamma / sqrt(var + eps) itself overflows float64
        ((np.ones((2, 1)), 0.0, 1e-320, 1e300, 0.0), np.float64, "gamma, var and eps"),
        # the shift beta - scale * mean overflows float64
        ((np.ones((2, 1)), 1e300, 1e-300, 1.0, 0.0), np.float64, "mean and beta"),
    ],
)
def test_inference_overflow_is_a_named_error(args, dtype, match):
    x, *rest = args
    ctx = _no_warnings()
    try:
        with pytest.raises(ValueError, match=match):
            batch_norm_inference(np.asarray(x, dtype=dtype), *rest, eps=0.0)
    finally:
        ctx.__exit__(None, None, None)


def test_inference_finite_large_values_still_exact():
    # closed form y = gamma (x - mean) / sqrt(var + eps) + beta, computed in float64 by hand
    x = np.array([[1e150], [-3e150]])
    y = batch_norm_inference(x, 1e149, 4e-100, 2.0, 5.0, eps=0.0)
    np.testing.assert_allclose(y, 2.0 * (x - 1e149) / 2e-50 + 5.0, rtol=1e-15)


def test_eval_backward_overflow_and_order():
    bn = BatchNorm(1)
    with pytest.raises(ValueError, match="dy: backward called before forward"):
        bn.backward(np.ones((2, 1)))
    with pytest.raises(RuntimeError):  # still a RuntimeError for older callers
        bn.backward(np.ones((2, 1)))
    bn.forward(np.ones((2, 1)), training=False)
    ctx = _no_warnings()
    try:
        # two values of 1.7e308: their sum dbeta = 3.4e308 overflows (used to return it as inf)
        with pytest.raises(ValueError, match="dy: the eval-mode gradient overflows"):
            bn.backward(np.full((2, 1), 1.7e308))
        assert bn.dbeta is None  # nothing half-stored
        # float32 x with a float64 dy beyond float32
        bn32 = BatchNorm(1)
        bn32.forward(np.ones((2, 1), dtype=np.float32), training=False)
        with pytest.raises(ValueError, match="dy"):
            bn32.backward(np.full((2, 1), 1e39))
    finally:
        ctx.__exit__(None, None, None)
    # a finite eval-mode backward agrees with the closed form dy * gamma / sqrt(Var + eps)
    dx = bn.backward(np.array([[2.0], [-1.0]]))
    np.testing.assert_allclose(dx, np.array([[2.0], [-1.0]]) / np.sqrt(1.0 + 1e-5), rtol=1e-15)


def test_last_cache_is_the_public_read_only_view_of_the_training_forward():
    """``BatchNorm.last_cache`` (used by the MLP instead of the private ``_cache``): the
    normalized input of the last training-mode forward, against the formula written out;
    None before any forward; not assignable."""
    import numpy as np
    import pytest

    from bntheory.bn import BatchNorm

    x = np.random.default_rng(3).normal(size=(16, 4)) * [1.0, 2.0, 3.0, 4.0] + 5.0
    bn = BatchNorm(4, eps=1e-5)
    assert bn.last_cache is None
    bn.forward(x, training=True)
    want = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(bn.last_cache.x_hat, want, rtol=1e-13, atol=1e-13)
    with pytest.raises(AttributeError):
        bn.last_cache = None

"""Fuzzing of bntheory.bn: random shapes, dtypes and values (NaN, inf, zero variance,
huge and tiny magnitudes). Outcome: a finite result or a ValueError/TypeError naming the
argument; never another exception, a NaN output or a leaked warning."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bntheory.bn import BatchNorm, batch_norm_backward, batch_norm_forward, population_statistics

from ._harness import all_finite, expect_valid_or_named_error, float_arrays

shapes = st.one_of(
    st.tuples(st.integers(1, 6), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.integers(1, 5)),
)
dtypes = st.sampled_from([np.float64, np.float32])
eps_values = st.one_of(
    st.sampled_from([0.0, 1e-5, 1e-300, 1.0, -1e-5, np.nan, np.inf]), st.floats(0, 10)
)


@st.composite
def bn_inputs(draw):
    shape = draw(shapes)
    dtype = draw(dtypes)
    x = draw(float_arrays(shape, dtype=dtype)) if draw(st.booleans()) else None
    if x is None:  # mostly-well-behaved data
        x = (
            draw(st.floats(1e-3, 1e3))
            * np.random.default_rng(draw(st.integers(0, 99))).standard_normal(shape)
        ).astype(dtype)
    C = shape[1] if len(shape) > 1 else 1
    gamma = draw(float_arrays((draw(st.sampled_from([C, C, C + 1])),)))
    beta = draw(float_arrays((C,)))
    return x, gamma, beta, draw(eps_values)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bn_inputs(), st.integers(0, 2**32 - 1))
def test_forward_backward_fuzz(inp, seed):
    x, gamma, beta, eps = inp
    out = expect_valid_or_named_error(
        batch_norm_forward, ["x", "gamma", "beta", "eps"], x, gamma, beta, eps
    )
    if out is None:
        return
    y, cache = out
    assert y.shape == x.shape and y.dtype == x.dtype
    assert all_finite(y), "finite input gave a non-finite output"
    dy = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    back = expect_valid_or_named_error(batch_norm_backward, ["dy", "x"], dy, cache)
    if back is not None:
        assert all_finite(*back)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4),
    st.one_of(st.floats(allow_nan=True), st.none(), st.sampled_from([0, 1, 0.5, -1, 2])),
    st.lists(float_arrays(st.tuples(st.integers(1, 4), st.just(2))), min_size=0, max_size=3),
)
def test_layer_and_population_statistics_fuzz(features, momentum, batches):
    layer = expect_valid_or_named_error(
        BatchNorm, ["momentum", "num_features"], features, momentum=momentum
    )
    if layer is None:
        return
    for b in batches:
        y = expect_valid_or_named_error(layer.forward, ["x", "eps"], b)
        if y is not None:
            assert all_finite(y, layer.running_mean, layer.running_var)
    res = expect_valid_or_named_error(population_statistics, ["batches", "x"], batches)
    if res is not None:
        assert all_finite(*res)


@settings(max_examples=3000, deadline=None)
@given(bn_inputs(), st.integers(0, 2**32 - 1), st.floats(allow_nan=True, allow_infinity=True))
@pytest.mark.slow
def test_forward_backward_fuzz_long(inp, seed, dy_scale):
    """Longer run, with arbitrary upstream-gradient magnitudes (marked slow)."""
    x, gamma, beta, eps = inp
    out = expect_valid_or_named_error(
        batch_norm_forward, ["x", "gamma", "beta", "eps"], x, gamma, beta, eps
    )
    if out is None:
        return
    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN dy is part of the fuzz
        dy = np.random.default_rng(seed).standard_normal(x.shape) * dy_scale
    back = expect_valid_or_named_error(batch_norm_backward, ["dy", "x"], dy, out[1])
    if back is not None:
        assert all_finite(*back)


def _named_outcome(fn, names):
    """``("ok", result)`` or ``("error", message)``: a named ValueError/TypeError only, and
    no warning (else the harness fails the test)."""
    try:
        return "ok", expect_valid_or_named_error(_raise_named(fn), names)
    except _Named as exc:
        return "error", str(exc.args[0])


class _Named(Exception):
    """Carries a named error's message out of the harness."""


def _raise_named(fn):
    def call():
        try:
            return fn()
        except (ValueError, TypeError) as exc:
            raise _Named(str(exc)) from exc

    return call


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bn_inputs(), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 1e150, 1e-150]))
def test_compiled_kernels_fail_and_succeed_like_numpy_kernels(inp, seed, dy_scale):
    """Whatever the input, the compiled (N, C) kernels raise the NumPy kernels' error, or
    both succeed and agree to round-off: within ``tol * cond`` of each output's natural
    scale, ``cond = 1 + max |mean| / sqrt(var + eps)`` bounding the cancellation in
    ``x - mean`` (the kernels sum in different orders)."""
    pytest.importorskip("numba")
    from bntheory.bn import use_kernels

    x, gamma, beta, eps = inp
    with np.errstate(over="ignore"):  # a float32 x makes 1e150 * dy inf: a case to test
        dy = (dy_scale * np.random.default_rng(seed).standard_normal(x.shape)).astype(x.dtype)

    def run():
        y, cache = batch_norm_forward(x, gamma, beta, eps)
        return (y, *batch_norm_backward(dy, cache), cache)

    names = ["x", "gamma", "beta", "eps", "dy"]
    ref = _named_outcome(run, names)
    with use_kernels("numba"):
        got = _named_outcome(run, names)
    if ref[0] == "error":
        assert any(n in ref[1] for n in names), f"error does not name an argument: {ref[1]!r}"
        assert got == ref
        return
    assert got[0] == "ok"
    cache = ref[1][-1]
    m = cache.m
    with np.errstate(all="ignore"):  # the scales of extreme input may overflow (to inf)
        cond = 1.0 + float(np.max(np.abs(cache.mean) / np.sqrt(cache.var + cache.eps)))
        g, b, d = (float(np.max(np.abs(np.asarray(v, np.float64)))) for v in (gamma, beta, dy))
        scales = (  # y, dx, dgamma, dbeta
            g * np.sqrt(m) + b + 1.0,
            g * float(np.max(cache.inv_std)) * d + 1.0,
            m * d + 1.0,
            m * d + 1.0,
        )
    tol = (1e-9 if x.dtype == np.float64 else 1e-3) * cond
    for a, r, scale in zip(got[1][:4], ref[1][:4], scales, strict=True):
        assert a.shape == r.shape and a.dtype == r.dtype and all_finite(a)
        err = np.abs(a.astype(np.float64) - r.astype(np.float64))
        with np.errstate(over="ignore"):
            bound = tol * scale
        assert np.all(err <= bound), (float(err.max()), bound)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=8), st.integers(), st.none(), st.floats(), st.binary()))
def test_use_kernels_names_a_bad_choice(name):
    """Any object but a known name is a ValueError naming ``name``; the choice in force
    after the attempt is unchanged."""
    from bntheory.bn import KERNELS, current_kernels, use_kernels

    if name in KERNELS:
        return
    before = current_kernels()
    with pytest.raises(ValueError, match="name must be one of"):
        with use_kernels(name):
            pass
    assert current_kernels() == before

"""Fuzzing of bntheory.measures: condition numbers, effective Hessian, top eigenvalues,
Lanczos, SLQ, Hutchinson and the rate fit, on random matrices (special values, zero,
asymmetric, huge / tiny scales) and sequences (NaN, inf, zero, constant, geometric).

The whole domain is fuzzed, including the zero matrix with ``method="eigsh"`` and entries
of magnitude up to 1e+-300 (formerly excluded; fixed, see tests/fuzz/test_regressions.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bntheory.measures import (
    condition_number,
    effective_condition_number,
    effective_hessian,
    fit_linear_rate,
    hutchinson_trace,
    lanczos,
    slq_density,
    top_eigenvalues,
)

from ._harness import (
    all_finite,
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    spd_matrices,
)


@st.composite
def matrices(draw):
    d = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["spd", "sym", "special", "junk", "zero", "extreme"]))
    if kind == "spd":
        return draw(spd_matrices(d, log10_scale=(-120, 120), log10_kappa=(0, 12)))
    if kind == "sym":
        gen = np.random.default_rng(draw(st.integers(0, 2**16)))
        A = gen.standard_normal((d, d)) * 10.0 ** draw(st.floats(-100, 100))
        return A + A.T
    if kind == "extreme":  # entries near the float64 limits (overflow / underflow)
        gen = np.random.default_rng(draw(st.integers(0, 2**16)))
        A = gen.standard_normal((d, d))
        if draw(st.booleans()):
            A = np.ones((d, d))
        scale = draw(st.sampled_from([1e-320, 1e-300, 1e-160, 1e155, 1e300, 1e307]))
        return 0.5 * scale * (A + A.T)
    if kind == "zero":
        return np.zeros((d, d))
    if kind == "special":
        return draw(float_arrays(st.sampled_from([(d, d), (d, d + 1), (d,)])))
    return draw(any_array_like())


@fuzz_settings(150)
@given(matrices(), st.integers(0, 2**16))
def test_conditioning(H, seed):
    kappa = expect_valid_or_named_error(condition_number, ["H"], H)
    if kappa is not None:
        assert np.isfinite(kappa) and kappa >= 1 - 1e-12
    d = H.shape[0] if isinstance(H, np.ndarray) and H.ndim >= 1 else 1
    w = np.random.default_rng(seed).standard_normal(d)
    Hs = expect_valid_or_named_error(effective_hessian, ["H", "w_star"], H, w)
    if Hs is not None:
        assert all_finite(Hs)
    ke = expect_valid_or_named_error(effective_condition_number, ["H", "w_star"], H, w)
    if ke is not None:
        assert np.isfinite(ke)


@fuzz_settings(150)
@given(
    matrices(),
    st.one_of(st.integers(1, 6), ints_any),
    st.sampled_from(["LA", "SA", "LM", "XX"]),
    st.sampled_from(["auto", "dense", "eigsh", "lanczos", "nope"]),
    st.integers(0, 2**16),
)
def test_spectra(H, k, which, method, seed):
    names = ["op", "op_or_matrix", "H", "k", "which", "method", "n_steps", "n_runs", "sigma"]
    ev = expect_valid_or_named_error(
        top_eigenvalues, names, H, k, which=which, method=method, rng=seed
    )
    if ev is not None:
        assert all_finite(ev) and ev.shape == (k,)
    lz = expect_valid_or_named_error(lanczos, names, H, k, rng=seed)
    if lz is not None:
        assert all_finite(lz.alphas, lz.betas)
    tr = expect_valid_or_named_error(hutchinson_trace, [*names, "n_samples"], H, 4, rng=seed)
    if tr is not None:
        assert np.isfinite(tr.estimate) and np.isfinite(tr.standard_error)
    dens = expect_valid_or_named_error(
        slq_density, names, H, n_runs=2, n_steps=4, grid=32, rng=seed
    )
    if dens is not None:
        assert all_finite(dens.density, dens.grid)


@st.composite
def sequences(draw):
    n = draw(st.integers(0, 60))
    kind = draw(st.sampled_from(["geometric", "noisy", "special", "constant", "zeros", "junk"]))
    if kind == "geometric":
        r = draw(st.floats(1e-3, 1.5))
        y0 = 10.0 ** draw(st.floats(-300, 300))
        with np.errstate(all="ignore"):
            y = y0 * r ** np.arange(n)
        return y
    if kind == "noisy":
        gen = np.random.default_rng(draw(st.integers(0, 2**16)))
        return np.exp(-0.1 * np.arange(n) + 0.01 * gen.standard_normal(n))
    if kind == "constant":
        return np.full(n, draw(st.sampled_from([1.0, 1e-300, 1e300, -1.0])))
    if kind == "zeros":
        return np.zeros(n)
    if kind == "special":
        return draw(float_arrays((n,)))
    return draw(any_array_like())


@fuzz_settings(200)
@given(
    sequences(),
    st.one_of(st.none(), st.tuples(st.integers(-5, 60), st.integers(-5, 60)), st.just("ab")),
    st.sampled_from([1e-3, 1e-1, 0.0, -1.0, float("nan")]),
)
def test_fit_linear_rate(y, window, tol):
    names = ["result_or_values", "window", "tol"]
    fit = expect_valid_or_named_error(fit_linear_rate, names, y, window=window, tol=tol)
    if fit is not None:
        assert all_finite(fit.rate, fit.ci_low, fit.ci_high, fit.log_slope)
        assert fit.rate > 0


@pytest.mark.slow
@fuzz_settings(2000)
@given(sequences(), st.none(), st.just(1e-3))
def test_fit_linear_rate_long(y, window, tol):
    test_fit_linear_rate.hypothesis.inner_test(y, window, tol)


@pytest.mark.slow
@fuzz_settings(1500)
@given(matrices(), st.integers(0, 2**16))
def test_conditioning_long(H, seed):
    test_conditioning.hypothesis.inner_test(H, seed)


@pytest.mark.slow
@fuzz_settings(1500)
@given(
    matrices(),
    st.integers(1, 6),
    st.sampled_from(["LA", "SA", "LM"]),
    st.sampled_from(["auto", "dense", "eigsh", "lanczos"]),
    st.integers(0, 2**16),
)
def test_spectra_long(H, k, which, method, seed):
    test_spectra.hypothesis.inner_test(H, k, which, method, seed)

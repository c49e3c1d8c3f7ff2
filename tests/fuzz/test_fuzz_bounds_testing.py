"""Fuzzing of the public entry points that issue 10 found unfuzzed: every function of
bntheory.bounds, BN in inference mode (batch_norm_inference, BatchNorm eval forward and
backward, FoldedAffine) and the pytest helpers of bntheory.testing.

Outcome: a finite result, an AssertionError from a helper (that is its job), or a
ValueError/TypeError naming the argument; never another exception, a NaN/inf output for
finite input, a leaked warning, or a rate assertion passing on a run whose status the
caller did not allow."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bntheory import bounds as B
from bntheory.bn import BatchNorm, batch_norm_inference
from bntheory.problems import LeastSquares
from bntheory.solvers import GradientDescent, solve
from bntheory.testing import (
    assert_bound_holds,
    assert_converges,
    assert_rate_at_most,
    assert_rate_close,
    fit_rate,
)

from ._harness import (
    all_finite,
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    no_warnings,
    scalars_any,
    spd_matrices,
)

# ---------------------------------------------------------------------- bounds

huge_ints = st.sampled_from([4, 5, 32, 2**62, 2**62 + 1, 10**20, 10**400, 3, 0, -5])
reals = st.one_of(scalars_any, st.sampled_from([1e-320, 1e-300, 1e200, 1e308, 1.7e308]))


def _finite(out) -> None:
    if out is not None:
        assert all_finite(out), f"finite input gave {out!r}"


@fuzz_settings(300)
@given(reals, reals, st.one_of(ints_any, huge_ints), any_array_like())
def test_scalar_bounds(a, b, n, arr):
    _finite(expect_valid_or_named_error(B.gap_rate, ["iterate_rate"], a))
    _finite(expect_valid_or_named_error(B.gd_optimal_iterate_rate, ["kappa"], a))
    _finite(expect_valid_or_named_error(B.gd_one_over_L_iterate_rate, ["kappa"], a))
    _finite(expect_valid_or_named_error(B.gd_divergence_threshold, ["lam_max"], a))
    _finite(expect_valid_or_named_error(B.gd_iterate_rate, ["eigenvalues", "lr"], arr, b))
    _finite(expect_valid_or_named_error(B.yang_linear_rate, ["B"], n))
    _finite(expect_valid_or_named_error(B.yang_relu_rate, ["B"], n))


@fuzz_settings(300)
@given(
    st.one_of(reals, any_array_like(), st.lists(st.floats(0, 1e308), max_size=4)),
    reals,
    reals,
    reals,
    reals,
    st.one_of(ints_any, huge_ints),
)
def test_kohler_bounds(t, g0, mu, L, phi, n_bisection):
    names = ["t", "rho_gap0", "mu", "L", "Phi", "zeta", "n_bisection", "bracket_width"]
    _finite(expect_valid_or_named_error(B.kohler_ols_bound, names, t, g0, mu, L))
    out = expect_valid_or_named_error(
        B.kohler_halfspace_bound,
        names,
        t,
        g0,
        mu,
        L,
        Phi=phi,
        zeta=g0,
        n_bisection=n_bisection,
        bracket_width=mu,
    )
    _finite(out)


@st.composite
def spd_and_w(draw):
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["spd", "extreme", "junk"]))
    if kind == "junk":
        return draw(any_array_like()), draw(any_array_like())
    if kind == "spd":
        H = draw(spd_matrices(d, log10_scale=(-150, 150), log10_kappa=(0, 14)))
    else:
        H = np.diag(
            draw(st.lists(st.sampled_from([1e-310, 1e-300, 1.0, 1e300]), min_size=d, max_size=d))
        )
    w = draw(float_arrays((draw(st.sampled_from([d, d, d + 1])),)))
    return H, w


@fuzz_settings(300)
@given(spd_and_w(), reals)
def test_matrix_bounds(Hw, eps_hat):
    H, w = Hw
    names = ["H", "w_star", "eps_hat", "S", "u"]
    _finite(expect_valid_or_named_error(B.bngd_spectrum, names, H, w))
    _finite(expect_valid_or_named_error(B.kappa_star, names, H, w))
    _finite(expect_valid_or_named_error(B.bngd_local_iterate_rate, names, H, w, eps_hat))
    _finite(expect_valid_or_named_error(B.bngd_best_iterate_rate, names, H, w))
    out = expect_valid_or_named_error(B.bngd_stability_threshold, names, H, w)
    if out is not None and np.asarray(H).shape != (1, 1):
        assert np.isfinite(out)  # inf only for d = 1, where H* = 0 (every step is stable)
    _finite(expect_valid_or_named_error(B.kohler_asymptotic_gap_rate, names, H, w))


# ---------------------------------------------------------------------- BN inference mode

dtypes = st.sampled_from([np.float64, np.float32])
params = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-300, 1e-30, 1e30, 1e300, -1.0, 1.0]),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3).map(np.array),
)


@fuzz_settings(400)
@given(
    st.tuples(st.integers(1, 4), st.integers(1, 3)),
    dtypes,
    st.data(),
    params,
    params,
    params,
    params,
    st.sampled_from([0.0, 1e-5, 1e-300, 1.0, -1.0, np.nan]),
)
def test_inference_mode(shape, dtype, data, mean, var, gamma, beta, eps):
    x = data.draw(float_arrays(shape, dtype=dtype))
    names = ["x", "mean", "var", "gamma", "beta", "eps"]
    y = expect_valid_or_named_error(batch_norm_inference, names, x, mean, var, gamma, beta, eps)
    if y is not None:
        assert y.shape == x.shape and y.dtype == x.dtype and all_finite(y)


@fuzz_settings(300)
@given(
    st.tuples(st.integers(1, 4), st.integers(1, 2)),
    dtypes,
    st.data(),
    st.sampled_from([1.0, 1e-30, 1e-300, 1e300, 0.0]),
    st.sampled_from([1.0, 1e30, 1e300, -2.0]),
    st.sampled_from([0.0, 1e-5]),
    st.sampled_from([1.0, 1e30, 1.7e308, 1e39]),
)
def test_layer_eval_forward_backward(shape, dtype, data, running_var, gamma, eps, dy_scale):
    x = data.draw(float_arrays(shape, dtype=dtype))
    bn = BatchNorm(shape[1], eps=eps)
    bn.running_var = np.full(shape[1], running_var)
    bn.gamma = np.full(shape[1], gamma)
    names = ["x", "dy", "gamma", "var", "mean", "running_var", "eps"]
    with no_warnings():
        folded = None
        try:
            folded = bn.fold()
        except ValueError as exc:
            assert any(n in str(exc) for n in names), str(exc)
    y = expect_valid_or_named_error(bn.forward, names, x, training=False)
    if y is None:
        return
    assert all_finite(y)
    if folded is not None:
        np.testing.assert_array_equal(folded(x), y)
    dy = (np.ones(shape) * dy_scale).astype(np.float64)
    dx = expect_valid_or_named_error(bn.backward, names, dy)
    if dx is not None:
        assert all_finite(dx, bn.dgamma, bn.dbeta)


# ---------------------------------------------------------------------- testing helpers


@st.composite
def runs(draw):
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    ls = LeastSquares.ill_conditioned(
        d, 1.0 if d == 1 else draw(st.sampled_from([2.0, 50.0])), rng=seed
    )
    lr = draw(st.sampled_from([0.1, 1.0, 1.9, 2.5, 1e3]))
    x0 = np.random.default_rng(seed).standard_normal(d)
    tol = draw(st.sampled_from([0.0, 1e-12]))
    return solve(ls, GradientDescent(lr), x0, max_steps=draw(st.integers(0, 300)), tol=tol), lr


statuses = st.one_of(
    st.sampled_from([("converged",), ("converged", "max_steps"), "diverged", "max_steps"]),
    st.sampled_from(["ok", (), 3, None]),
)


@fuzz_settings(300)
@given(
    st.one_of(runs(), any_array_like().map(lambda a: (a, None))),
    st.one_of(reals, st.floats(0, 1.5)),
    statuses,
    st.sampled_from(["gaps", "losses", "grad_norms", "nope", 3]),
)
def test_rate_helpers(run, rate, allow_status, quantity):
    res, _ = run
    names = ["result", "bound", "expected", "rtol", "allow_status", "quantity", "values"]
    for helper, kwargs in (
        (assert_rate_at_most, {}),
        (assert_rate_close, {"rtol": 0.05}),
    ):
        with no_warnings():
            try:
                helper(res, rate, allow_status=allow_status, quantity=quantity, **kwargs)
            except AssertionError:
                continue
            except (ValueError, TypeError) as exc:
                assert any(n in str(exc) for n in names), str(exc)
                assert "result_or_values" not in str(exc)
                continue
        # it passed: a Result's status must have been allowed explicitly
        status = getattr(res, "status", None)
        if status is not None:
            allowed = (allow_status,) if isinstance(allow_status, str) else allow_status
            assert status in allowed
    with no_warnings():
        try:
            assert_converges(res)
        except AssertionError:
            pass
        except (ValueError, TypeError) as exc:
            assert "result" in str(exc), str(exc)
    fit = expect_valid_or_named_error(fit_rate, ["values"], getattr(res, "gaps", res))
    if fit is not None:
        assert all_finite(fit.rate, fit.ci_low, fit.ci_high)


@fuzz_settings(300)
@given(any_array_like(), st.one_of(any_array_like(), reals), reals, reals)
def test_assert_bound_holds(values, bound, rtol, atol):
    with no_warnings():
        try:
            worst = assert_bound_holds(values, bound, rtol=rtol, atol=atol)
        except AssertionError:
            return
        except (ValueError, TypeError) as exc:
            assert any(n in str(exc) for n in ["values", "bound", "rtol", "atol"]), str(exc)
            return
    assert not np.isnan(worst)


@pytest.mark.slow
@fuzz_settings(3000)
@given(spd_and_w(), reals)
def test_matrix_bounds_long(Hw, eps_hat):
    test_matrix_bounds.hypothesis.inner_test(Hw, eps_hat)

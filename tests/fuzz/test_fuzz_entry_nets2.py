"""Fuzzing of the NumPy networks' remaining public entry points (issue 10): Jacobian and
derivative products, the objective wrapper, the papers' measures (Arora 2019, Bjorck
2018, Yang 2019, depth profiles), data-set helpers, GDNP, the extreme eigenvalues and the
symbolic general identities.

References: central finite differences and the adjoint identity ``<U, J v> = <J^T U, v>``
for the products, ``numpy.linalg.eigvalsh`` for eigenvalues, a dense Hessian by finite
differences of the gradient, closed forms where the papers give them. Bad input must
raise a ``ValueError``/``TypeError`` naming the argument, with no NaN and no warning.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import (
    assert_no_nan_fields,
    expect_valid_or_named_error,
    fuzz_settings,
    scalars_any,
    spd_matrices,
)

_counts = st.one_of(st.integers(1, 3), st.sampled_from([0, -1, 2.5, True, None, "3"]))
_lrs = st.one_of(st.floats(1e-3, 0.5), st.sampled_from([0.0, -1.0, float("nan")]), scalars_any)


@functools.cache
def _data(n: int = 12, d_in: int = 3, d_out: int = 2):
    g = np.random.default_rng(7)
    return g.standard_normal((n, d_in)), g.standard_normal((n, d_out))


def _net(seed: int = 0, bn=True, activation: str = "tanh"):
    from bntheory.nets import MLP

    return MLP([3, 5, 4, 2], activation, bn=bn, rng=seed)


# ---------------------------------------------------------------------- Jacobian products
@fuzz_settings(30)
@given(st.integers(0, 2**16), st.sampled_from([True, False]), st.sampled_from(["tanh", "relu"]))
def test_jacobian_products_against_finite_differences(seed, bn, activation):
    net = _net(seed, bn, activation)
    X, _ = _data()
    rng = np.random.default_rng(seed)
    theta = net.get_flat().copy()
    v = rng.standard_normal(theta.size)
    U = rng.standard_normal((X.shape[0], 2))
    Jv = net.jvp(X, v)
    h = 1e-6

    def out(t):
        net.set_flat(t)
        try:
            return net.forward(X)
        finally:
            net.set_flat(theta)

    fd = (out(theta + h * v) - out(theta - h * v)) / (2 * h)
    if activation == "tanh":  # smooth: finite differences are a reference
        np.testing.assert_allclose(Jv, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max()))
    JtU = net.vjp(X, U)
    assert np.isclose(np.sum(U * Jv), JtU @ v, rtol=1e-9, atol=1e-9)  # adjoint identity
    gn = net.gauss_newton_vp(X, v)
    assert np.isclose(gn @ v, np.sum(Jv * Jv) / X.shape[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(net.get_flat(), theta)  # products never move the weights


@fuzz_settings(60)
@given(
    st.one_of(st.sampled_from(["ok", "short", "nan", "2d", "str"])),
    st.sampled_from(["jvp", "vjp", "gauss_newton_vp"]),
)
def test_jacobian_products_bad_input(kind, which):
    net = _net()
    X, _ = _data()
    good = np.ones(net.dim) if which != "vjp" else np.ones((X.shape[0], 2))
    arg = {
        "ok": good,
        "short": good.ravel()[:-1],
        "nan": np.full_like(good, np.nan),
        "2d": good.reshape(1, -1) if good.ndim == 1 else good.ravel(),
        "str": "abc",
    }[kind]
    name = "U" if which == "vjp" else "v"
    out = expect_valid_or_named_error(getattr(net, which), [name], X, arg)
    if out is not None and kind != "nan":
        assert np.all(np.isfinite(out))


# ---------------------------------------------------------------------- derivatives, objective
@fuzz_settings(20)
@given(st.integers(0, 2**16), st.sampled_from([True, False]))
def test_forward_predict_trace(seed, bn):
    net = _net(seed, bn)
    X, Y = _data()
    out = net.forward(X)
    assert out.shape == (X.shape[0], 2) and np.all(np.isfinite(out))
    pred = net.predict(X)
    assert pred.shape == out.shape and np.all(np.isfinite(pred))
    if not bn:  # without BN train and eval mode are one map
        np.testing.assert_allclose(pred, out, rtol=1e-12, atol=1e-12)
    tr = net.trace(X, Y)
    L, _ = net.loss_and_grad(X, Y)
    assert np.isclose(tr.loss, L, rtol=1e-12)


@fuzz_settings(20)
@given(st.integers(0, 2**16), st.sampled_from(["a", "z", "x"]), st.integers(0, 1))
def test_activation_hessian_quadratic(seed, where, layer):
    """``<T, d^2L/du^2 T>`` is a quadratic form: 0 at T = 0, scales by 4 when T doubles,
    and ``q(T1 + T2) + q(T1 - T2) = 2 q(T1) + 2 q(T2)`` (parallelogram law)."""
    net = _net(seed, bn=True)
    X, Y = _data()
    rng = np.random.default_rng(seed)
    shape = net.trace(X, Y).a[layer].shape
    T1, T2 = rng.standard_normal(shape), rng.standard_normal(shape)
    q = functools.partial(net.activation_hessian_quadratic, X, Y, layer, where)
    got = expect_valid_or_named_error(q, ["where"], T1)
    if got is None:
        return
    assert np.isfinite(got) and q(0 * T1) == 0.0
    assert np.isclose(q(2 * T1), 4 * got, rtol=1e-9)
    lhs, rhs = q(T1 + T2) + q(T1 - T2), 2 * got + 2 * q(T2)
    assert np.isclose(lhs, rhs, rtol=1e-8, atol=1e-12 * max(1.0, abs(rhs)))


@fuzz_settings(20)
@given(st.integers(0, 2**16), st.sampled_from(["ok", "short", "nan", "str"]))
def test_net_objective_against_finite_differences(seed, kind):
    from bntheory.nets.objective import NetObjective

    net = MLP_small = _net(seed, bn=True)  # noqa: F841
    X, Y = _data(6)
    obj = NetObjective(net, X, Y)
    x0 = net.get_flat().copy()
    x = {"ok": x0, "short": x0[:-1], "nan": np.full_like(x0, np.nan), "str": "abc"}[kind]
    got = expect_valid_or_named_error(obj.loss_and_grad, ["x"], x)
    if got is None or kind == "nan":
        return
    L, g = got
    h = 1e-6
    e = np.random.default_rng(seed).standard_normal(x0.size)
    fd = (obj.loss_and_grad(x0 + h * e)[0] - obj.loss_and_grad(x0 - h * e)[0]) / (2 * h)
    assert np.isclose(g @ e, fd, rtol=1e-5, atol=1e-8)
    H = obj.hessian(x0)
    Hv = (obj.loss_and_grad(x0 + h * e)[1] - obj.loss_and_grad(x0 - h * e)[1]) / (2 * h)
    np.testing.assert_allclose(H @ e, Hv, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-10)


# ---------------------------------------------------------------------- papers' measures
def test_arora_and_objective_regressions():
    """Regression: ``lr=1e300`` leaked an overflow RuntimeWarning then raised OverflowError
    (``lr**2``); NetObjective's errors named ``theta`` (or nothing) instead of ``x``; a
    str ``alphas`` raised an unnamed ValueError; ``n`` beyond the training set was cut."""
    import warnings

    from bntheory.nets.arora2019 import arora_scale_invariance
    from bntheory.nets.bjorck2018 import relative_loss_change
    from bntheory.nets.objective import NetObjective

    X, Y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = arora_scale_invariance(_net(3), X, Y, lr=1e300, steps=2)
    assert res.orthogonality.size == 0
    obj = NetObjective(_net(3), X, Y)
    for bad in ("abc", np.ones(obj.dim + 1)):
        with pytest.raises((TypeError, ValueError), match="x must"):
            obj.loss_and_grad(bad)
    with pytest.raises(TypeError, match="alphas"):
        relative_loss_change(_net(3), X, Y, "ab")


@fuzz_settings(20)
@given(_lrs, _counts)
def test_arora_scale_invariance(lr, steps):
    """Regression: ``lr=1e300`` leaked an overflow RuntimeWarning, then raised
    OverflowError from ``lr**2``; a diverging step now ends the run."""
    from bntheory.nets.arora2019 import arora_scale_invariance

    X, Y = _data()
    net = _net(3, bn=True)
    got = expect_valid_or_named_error(
        arora_scale_invariance, ["lr", "steps"], net, X, Y, lr=lr, steps=steps
    )
    if got is None:
        return
    assert_no_nan_fields(got)


@fuzz_settings(20)
@given(
    st.one_of(
        st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=4),
        st.sampled_from([[], [0.0], [-1.0], [np.nan], "ab", None, 3]),
    )
)
def test_relative_loss_change(alphas):
    """Bjorck et al. (2018, Fig. 3): the relative loss change of a gradient step; at the
    limit of a tiny step it is ``alpha ||g||^2 / L`` (first-order expansion)."""
    from bntheory.nets.bjorck2018 import relative_loss_change

    X, Y = _data()
    net = _net(1, bn=True)
    got = expect_valid_or_named_error(relative_loss_change, ["alphas"], net, X, Y, alphas)
    if got is None:
        return
    assert_no_nan_fields(got)


@fuzz_settings(10)
@given(
    st.one_of(
        st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=3), st.sampled_from([[], [-1.0], "x"])
    ),
    _counts,
    st.one_of(st.floats(0.1, 0.9), st.sampled_from([0.0, 1.5, float("nan")])),
)
def test_bjorck_lr_sweep(lrs, steps, threshold):
    from bntheory.nets.bjorck2018 import bjorck_lr_sweep

    X, Y = _data()
    got = expect_valid_or_named_error(
        bjorck_lr_sweep,
        ["lrs", "steps", "threshold"],
        _net(2),
        X,
        Y,
        lrs,
        steps=steps,
        threshold=threshold,
    )
    if got is not None:
        assert len(got.lrs) == len(lrs)


@fuzz_settings(8)
@given(
    st.sampled_from(["relu", "tanh", "linear", "nope"]),
    st.one_of(st.integers(4, 8), _counts),
    st.one_of(st.integers(4, 8), _counts),
)
def test_yang_gradient_rate(activation, width, depth):
    from bntheory.nets.yang import yang_gradient_rate

    names = ["activation", "width", "depth", "layers"]
    got = expect_valid_or_named_error(
        yang_gradient_rate,
        names,
        activation,
        width=width,
        depth=depth,
        batch_size=4,
        n_networks=2,
        layers=(1, 3),
        rng=0,
    )
    if got is not None:
        assert_no_nan_fields(got, arrays_only=False)


@fuzz_settings(5)
@given(st.one_of(st.just(10**12), st.integers(1, 40), _counts))
def test_permutation_invariant_data(n):
    """``n`` beyond the training set was silently cut to its size (regression)."""
    from bntheory.nets.depth import permutation_invariant_data

    got = expect_valid_or_named_error(permutation_invariant_data, ["n"], n)
    if got is not None:
        X, Y, source = got
        assert X.shape[0] == Y.shape[0] == n and np.all(np.isfinite(X)) and isinstance(source, str)


@fuzz_settings(8)
@given(_lrs, _counts, st.one_of(st.sampled_from([None, 4]), _counts))
def test_gradient_flow(lr, steps, batch_size):
    from bntheory.nets.depth import gradient_flow

    X, Y = _data()
    got = expect_valid_or_named_error(
        gradient_flow,
        ["lr", "steps", "batch_size"],
        _net(4),
        X,
        Y,
        lr=lr,
        steps=steps,
        batch_size=batch_size,
    )
    if got is not None:
        assert got.status in ("completed", "diverged")


def test_depth_profile_small():
    from bntheory.nets.depth import depth_profile

    got = depth_profile("tanh", True, 3, 6, steps=2, lr=0.1, batch_size=8, n_train=16, rng=0)
    assert_no_nan_fields(got, arrays_only=False)


# ---------------------------------------------------------------------- data-set helpers
@fuzz_settings(30)
@given(
    st.one_of(
        st.sampled_from(["mnist", "fashion-mnist", "digits", "", "../x"]),
        st.text(max_size=4),
        st.sampled_from([None, 3]),
    )
)
def test_data_helpers_name_checks(name):
    from bntheory.nets._idx import install_commands, install_hint
    from bntheory.nets.mnist import data_status, sweep_store

    for fn in (install_commands, install_hint, data_status):
        out = expect_valid_or_named_error(fn, ["name"], name)
        if out is not None:
            assert name in ("mnist", "fashion-mnist")
    store = expect_valid_or_named_error(sweep_store, ["name"], name)
    if store is not None:
        assert store.name == name and "/" not in name


@fuzz_settings(20)
@given(
    st.sampled_from([0.0, 0.25, 0.5]), st.one_of(st.integers(1, 20), st.sampled_from([0, -1, 2.5]))
)
def test_dropout_masks(p, n):
    """Inverted dropout (Srivastava et al. 2014): entries 0 or ``1/(1-p)``, one array per
    hidden layer, None for the output layer (and everywhere when ``p == 0``)."""
    from bntheory.nets import MLP

    net = MLP([3, 5, 4, 2], "tanh", dropout=p, rng=0)
    masks = expect_valid_or_named_error(net.dropout_masks, ["n"], n, 0)
    if masks is None:
        return
    assert len(masks) == 3 and masks[-1] is None
    for k, m in enumerate(masks[:-1]):
        if p == 0:
            assert m is None
        else:
            assert m.shape == (n, [5, 4][k])
            assert np.all((m == 0) | np.isclose(m, 1 / (1 - p)))


# ---------------------------------------------------------------------- GDNP, extremes
@fuzz_settings(20)
@given(
    st.one_of(st.floats(0.5, 3.0), st.sampled_from([0.0, -1.0, float("nan"), "x"])),
    st.one_of(st.integers(5, 40), _counts),
    st.integers(0, 2**16),
)
def test_gdnp_on_least_squares(step_factor, n_bisection, seed):
    from bntheory.problems import LeastSquares
    from bntheory.solvers import GDNP, solve

    solver = expect_valid_or_named_error(
        GDNP, ["step_factor", "n_bisection"], step_factor=step_factor, n_bisection=n_bisection
    )
    if solver is None:
        return
    ls = LeastSquares.ill_conditioned(4, 10.0, "geometric", rng=seed)
    w0 = np.random.default_rng(seed).standard_normal(4)
    res = solve(ls, solver, (1.0, w0), max_steps=30, tol=0.0)
    losses = np.asarray(res.losses)
    assert np.all(np.isfinite(losses))
    # the loss at the minimizer (closed form) bounds every iterate from below
    f_star = float(ls.loss(np.linalg.solve(ls.H, ls.u)))  # the minimizer, closed form
    assert np.all(losses >= f_star - 1e-9 * max(1.0, abs(f_star)))


@fuzz_settings(40)
@given(st.integers(1, 6).flatmap(lambda d: spd_matrices(d, log10_kappa=(0.0, 4.0))))
def test_lambda_max_min_against_eigvalsh(A):
    from bntheory.measures.extremes import lambda_max, lambda_min

    lam = np.linalg.eigvalsh(A)
    hi, lo = lambda_max(A), lambda_min(A)
    assert np.isclose(hi.value, lam[-1], rtol=1e-6) and hi.residual <= 1e-6
    assert np.isclose(lo.value, lam[0], rtol=1e-5, atol=1e-9 * lam[-1])


@pytest.mark.parametrize("bad", [None, "abc", np.ones((2, 3)), np.full((2, 2), np.nan)])
def test_lambda_extremes_bad_operator(bad):
    from bntheory.measures.extremes import lambda_max

    expect_valid_or_named_error(lambda_max, ["op", "A"], bad)


# ---------------------------------------------------------------------- symbolic
def test_symbolic_general_items_and_batch_sum():
    import sympy as sp

    from bntheory.symbolic.general import batch_sum, general_items

    items = general_items()
    assert items and all(getattr(i, "holds", True) for i in items)
    x = sp.Symbol("x")
    assert batch_sum(sp.Integer(0)) == 0
    assert batch_sum(x) is not None


def test_verify_backward_range_small():
    from bntheory.symbolic.verify import verify_backward_range

    rep = verify_backward_range(3, m_min=2, general=False)
    assert rep is not None
    with pytest.raises((ValueError, TypeError), match="m_"):
        verify_backward_range(1, m_min=2)

"""Tests of bntheory.nets.measurements against closed forms and exact identities."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.nets import MLP
from bntheory.nets.measurements import (
    activation_shift,
    arora_scale_invariance,
    bjorck_lr_sweep,
    fisher_spectrum,
    gradient_flow,
    histogram_kl,
    internal_covariate_shift,
    relative_loss_change,
    santurkar_landscape,
    santurkar_theorem41,
    santurkar_theorem42,
)


def _data(rng, n=10, d=5, k=2):
    return rng.standard_normal((n, d)), rng.standard_normal((n, k))


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid"])
def test_santurkar_theorems_are_equalities_at_eps_zero(act):
    rng = np.random.default_rng(0)
    net = MLP([5, 7, 7, 2], act, bn=True, eps=0.0, rng=1)
    net.set_flat(net.get_flat() + 0.3 * rng.standard_normal(net.dim))  # gamma != 1, beta != 0
    X, Y = _data(rng)
    for layer in (0, 1):
        t1 = santurkar_theorem41(net, X, Y, layer)
        assert t1.holds and t1.max_abs_rel_gap < 1e-10, t1
        t2 = santurkar_theorem42(net, X, Y, layer)
        assert t2.max_abs_rel_gap < 1e-9, t2


def test_santurkar_theorem41_strict_with_eps():
    # derived: with eps > 0 the gap is (1 - var/(var+eps)) <g, x_hat>^2 / m > 0
    rng = np.random.default_rng(1)
    net = MLP([5, 7, 7, 2], "tanh", bn=True, eps=0.05, rng=1)
    X, Y = _data(rng)
    t = santurkar_theorem41(net, X, Y, 1)
    tr = net.trace(X, Y)
    g, xh, inv, gam = tr.g_z[1], tr.x_hat[1], tr.inv_std[1], tr.gamma[1]
    rho = tr.var[1] * inv**2
    expected_gap = (gam * inv) ** 2 * (1 - rho) * np.sum(g * xh, axis=0) ** 2 / 10
    assert t.holds
    np.testing.assert_allclose(t.rhs - t.lhs, expected_gap, rtol=1e-8, atol=1e-14)


def test_theorem_checks_need_a_bn_layer():
    net = MLP([3, 4, 2], "relu", bn=False, rng=0)
    with pytest.raises(ValueError, match="layer"):
        santurkar_theorem41(net, np.ones((4, 3)), np.ones((4, 2)), 0)


def test_arora_identities_at_eps_zero():
    rng = np.random.default_rng(2)
    net = MLP([5, 8, 8, 2], "relu", bn=True, eps=0.0, bias=False, rng=0)
    X, Y = _data(rng)
    a = arora_scale_invariance(net, X, Y, lr=0.7, steps=5)
    assert a.layers == (0, 1)
    assert np.max(a.orthogonality) <= 1e-12
    assert np.max(a.norm_identity) <= 1e-12
    # norms never decrease (Lemma 2.4) and effective lr = eta / mean ||w_j||^2
    assert np.all(np.diff(a.weight_norms, axis=0) >= 0)
    W = net.params(0)["W"]
    np.testing.assert_allclose(a.effective_lr[-1, 0], 0.7 / np.mean(np.sum(W * W, axis=0)))


def test_fisher_spectrum_matches_explicit_jacobian():
    rng = np.random.default_rng(3)
    for bn in (False, "output", "last"):
        net = MLP([4, 6, 6, 2], "tanh", bn=bn, rng=0)
        X = rng.standard_normal((5, 4))
        J = np.column_stack([net.jvp(X, e).ravel() for e in np.eye(net.dim)])
        F = J.T @ J / 5
        ev = np.linalg.eigvalsh(F)
        f = fisher_spectrum(net, X)
        np.testing.assert_allclose(f.lambda_max, ev[-1], rtol=1e-10)
        np.testing.assert_allclose(f.trace, np.trace(F), rtol=1e-10)
        np.testing.assert_allclose(f.mean_eigenvalue, np.trace(F) / net.dim, rtol=1e-10)


def _least_squares_net(rng, n=40, d=4):
    """No hidden layer, no BN, MSE: the loss is 1/2N ||X w + b - y||^2 with Hessian A^T A / N."""
    X = rng.standard_normal((n, d)) * np.array([3.0, 1.0, 0.5, 0.2])
    y = X @ rng.standard_normal((d, 1)) + 0.1 * rng.standard_normal((n, 1))
    net = MLP([d, 1], "linear", bn=False, rng=0)
    A = np.hstack([X, np.ones((n, 1))])  # parameter order: W (d), b (1)
    return net, X, y, A.T @ A / n


def test_landscape_on_least_squares_matches_closed_form():
    rng = np.random.default_rng(4)
    net, X, y, H = _least_squares_net(rng)
    th0 = net.get_flat()
    g0 = net.loss_and_grad(X, y)[1]
    r = santurkar_landscape(net, X, y, lr=0.01, steps=3, s_grid=[1.0, 2.0])
    # quadratic: grad change along -lr s g is lr s H g, so beta = ||H g|| / ||g|| exactly
    np.testing.assert_allclose(
        r.beta_smoothness[0], np.linalg.norm(H @ g0) / np.linalg.norm(g0), rtol=1e-10
    )
    np.testing.assert_allclose(r.grad_predictiveness[0], 0.02 * np.linalg.norm(H @ g0), rtol=1e-10)
    L = [0.5 * np.mean((X @ (th0 - 0.01 * s * g0)[:4, None] + th0[4] - 0.01 * s * g0[4] - y) ** 2) for s in (1.0, 2.0)]  # fmt: skip
    np.testing.assert_allclose(r.loss_range[0], abs(L[0] - L[1]), rtol=1e-9)


def test_relative_loss_change_closed_form():
    rng = np.random.default_rng(5)
    net, X, y, H = _least_squares_net(rng)
    L, g = net.loss_and_grad(X, y)
    alphas = np.array([0.01, 0.1, 1.0])
    r = relative_loss_change(net, X, y, alphas)
    expected = (-alphas * (g @ g) + 0.5 * alphas**2 * (g @ H @ g)) / L
    np.testing.assert_allclose(r.rel_change, expected, rtol=1e-9)


def test_lr_sweep_threshold_is_two_over_lambda_max():
    # GD on a quadratic converges iff lr < 2 / lambda_max(H)
    rng = np.random.default_rng(6)
    net, X, y, H = _least_squares_net(rng)
    lmax = np.linalg.eigvalsh(H)[-1]
    lrs = np.array([0.5, 0.9, 1.1, 1.5]) * 2 / lmax
    r = bjorck_lr_sweep(net, X, y, lrs, steps=400, threshold=0.9)
    np.testing.assert_array_equal(r.trained, [True, True, False, False])
    assert r.max_lr == pytest.approx(0.9 * 2 / lmax)
    assert r.status[-1] == "diverged" and np.isinf(r.final_loss[-1])


def test_ics_zero_for_first_layer_and_linear_in_lr():
    rng = np.random.default_rng(7)
    X, Y = _data(rng, n=16)
    out = []
    for lr in (1e-4, 2e-4):
        net = MLP([5, 6, 6, 6, 2], "tanh", bn=True, rng=0)
        out.append(internal_covariate_shift(net, X, Y, lr=lr, steps=1))
    a, b = out
    assert np.all(a.l2[:, 0] == 0) and np.all(a.cosine[:, 0] == 1)
    # G' - G = O(lr): doubling lr doubles ICS to first order
    np.testing.assert_allclose(b.l2[0, 1:] / a.l2[0, 1:], 2.0, rtol=1e-3)
    assert np.all(a.cosine[0, 1:] > 0.999)


def test_gradient_flow_shapes_and_status():
    rng = np.random.default_rng(8)
    X, Y = _data(rng, n=16)
    net = MLP([5] + [6] * 6 + [2], "relu", bn=True, residual=True, rng=0)
    r = gradient_flow(net, X, Y, lr=0.05, steps=5)
    assert r.init.shape == (7,) and r.trained.shape == (7,) and r.status == "completed"


def test_histogram_kl_against_gaussian_closed_form():
    rng = np.random.default_rng(9)
    p = rng.standard_normal(200_000)
    q = rng.standard_normal(200_000) + 1.0
    # KL(N(0,1) || N(1,1)) = 1/2; 30 bins of width ~0.2 plus tail bins: discretisation
    # bias of a few percent (the tail bins carry ~0.5% of the mass with a large log-ratio)
    assert histogram_kl(p, q, bins=60) == pytest.approx(0.5, rel=0.06)
    assert histogram_kl(p, p) == 0.0
    s = activation_shift(np.vstack([p[:1000], p[1000:2000] + 2.0]))
    np.testing.assert_allclose(s.mean_shift[1], 2.0, atol=0.15)
    assert s.percentiles.shape == (2, 3) and s.kl_from_first[0] == 0.0


def test_ioffe_figure1_smoke_synthetic():
    from bntheory.nets.measurements import ioffe_figure1

    f = ioffe_figure1(steps=40, eval_every=20, hidden=20, use_digits=False, rng=0)
    assert f.dataset == "gaussian_mixture" and f.status_bn == "completed"
    np.testing.assert_array_equal(f.eval_steps, [0, 20, 40])
    assert f.shift_bn.percentiles.shape == (3, 3) and f.shift_bn.kl_from_first[0] == 0.0
    # step 0 of the BN net: sigmoid inputs normalized by the probe set's own statistics
    assert abs(f.shift_bn.percentiles[0, 1]) < 0.3

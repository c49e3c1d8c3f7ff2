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


def test_lr_sweep_stop_at_largest_gives_the_same_max_lr():
    rng = np.random.default_rng(6)
    net, X, y, H = _least_squares_net(rng)
    lmax = np.linalg.eigvalsh(H)[-1]
    lrs = np.array([0.5, 0.9, 1.1, 1.5]) * 2 / lmax
    full = bjorck_lr_sweep(net, X, y, lrs, steps=400, threshold=0.9)
    fast = bjorck_lr_sweep(net, X, y, lrs, steps=400, threshold=0.9, stop_at_largest=True)
    assert fast.max_lr == full.max_lr
    assert fast.status[0] == "skipped" and not fast.trained[0] and np.isnan(fast.final_loss[0])
    np.testing.assert_array_equal(fast.trained, [False, True, False, False])


def test_moment_shift_zero_for_fixed_affine_bn_and_same_trajectory_as_ics():
    from bntheory.nets.measurements import layer_input_moment_shift

    rng = np.random.default_rng(9)
    X, Y = _data(rng, n=32, d=5, k=2)
    # BN (fixed gamma = 1, beta = 0, eps = 0) before a linear activation: every hidden
    # layer's output has mean 0 and std 1 on the probe set whatever the weights
    net = MLP([5, 6, 6, 2], "linear", bn="all", eps=0.0, train_affine=False, rng=0)
    r = layer_input_moment_shift(net, X, Y, lr=0.1, steps=3, batch_size=16, rng=1)
    assert r.status == "completed" and r.relative.shape == (3, 3)
    np.testing.assert_allclose(r.relative, 0.0, atol=1e-12)
    plain = MLP([5, 6, 6, 2], "linear", bn=False, rng=0)
    twin = MLP([5, 6, 6, 2], "linear", bn=False, rng=0)
    p = layer_input_moment_shift(plain, X, Y, lr=0.1, steps=3, batch_size=16, rng=1)
    assert np.all(p.relative[:, 0] == 0) and np.all(p.relative[:, 1:] > 1e-6)
    internal_covariate_shift(twin, X, Y, lr=0.1, steps=3, batch_size=16, rng=1)
    np.testing.assert_allclose(plain.get_flat(), twin.get_flat(), rtol=0, atol=0)
    # the relative shift is the l2 norm of (mean change, std change) over ||std||
    net2 = MLP([5, 6, 6, 2], "linear", bn=False, rng=0)
    h0 = net2.forward_trace(X, True).inputs[1]
    q = layer_input_moment_shift(net2, X, Y, lr=0.1, steps=1, batch_size=16, rng=1)
    h1 = net2.forward_trace(X, True).inputs[1]
    dm, ds = h1.mean(0) - h0.mean(0), h1.std(0) - h0.std(0)
    expected = np.sqrt(dm @ dm + ds @ ds) / np.linalg.norm(h0.std(0))
    assert q.relative[0, 1] == pytest.approx(expected, rel=1e-12)


def test_hessian_isotropy_dense_matches_numpy_and_slq_is_close():
    from bntheory.nets.measurements import hessian_isotropy

    rng = np.random.default_rng(10)
    X, Y = _data(rng, n=24, d=4, k=2)
    for bn in (False, True):
        net = MLP([4, 6, 6, 2], "tanh", bn=bn, rng=3)
        H = net.objective(X, Y).hessian(net.get_flat())
        ev = np.linalg.eigvalsh(H)
        d = hessian_isotropy(net, X, Y, method="dense")
        np.testing.assert_allclose(d.eigenvalues, ev, atol=1e-10 * np.abs(ev).max())
        a = np.abs(ev)
        assert d.anisotropy == pytest.approx(a.max() / a.mean(), rel=1e-9)
        assert d.participation == pytest.approx(a.sum() ** 2 / (a.size * (ev @ ev)), rel=1e-9)
        assert 1.0 <= d.anisotropy <= net.dim and 0 < d.participation <= 1
        # Lanczos with n_steps >= dim is exact: quadrature reproduces tr f(H) / dim per probe
        s = hessian_isotropy(net, X, Y, n_probes=3, n_steps=net.dim, rng=0)
        assert s.lambda_abs_max == pytest.approx(d.lambda_abs_max, rel=1e-8)
        # Rademacher probes: unbiased for tr|H|/dim, a few percent off with 3 probes
        assert s.mean_abs == pytest.approx(d.mean_abs, rel=0.35)
    with pytest.raises(ValueError, match="method"):
        hessian_isotropy(net, X, Y, method="exact")


def test_separation_index_closed_form_and_invariances():
    from bntheory.nets.measurements import separation_index

    H = np.array([[0.0], [2.0], [10.0], [12.0]])
    y = np.array([0, 0, 1, 1])
    # S_b = 2 (1 - 6)^2 + 2 (11 - 6)^2 = 100, S_w = 4 x 1 = 4
    assert separation_index(H, y) == pytest.approx(25.0)
    rng = np.random.default_rng(11)
    H = rng.standard_normal((30, 4)) + np.repeat(np.eye(3, 4) * 3, 10, axis=0)
    y = np.repeat([0, 1, 2], 10)
    Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    s = separation_index(H, y)
    assert separation_index(7.0 * H @ Q + 1.0, y) == pytest.approx(s, rel=1e-12)
    with pytest.raises(ValueError, match="2 classes"):
        separation_index(H, np.zeros(30))


def test_ioffe_figure1_saturation_and_no_silent_substitute(monkeypatch):
    import bntheory.nets.measurements as meas

    f = meas.ioffe_figure1(steps=20, eval_every=10, hidden=8, use_digits=False, rng=0)
    for sat in (f.saturation_plain, f.saturation_bn):
        assert sat.shape == (2,) and np.all((0 <= sat) & (sat <= 1))
    assert f.grad_norms_bn.shape == (20, 4)
    g = meas.ioffe_figure1(
        steps=20, eval_every=10, hidden=8, use_digits=False, rng=0, saturated_at=1e-9
    )
    assert g.saturation_plain[1] == 1.0  # every input counts as saturated at threshold ~0

    def missing(*a, **k):
        raise ImportError("load_digits_split needs scikit-learn: pip install 'bntheory[data]'")

    import bntheory.nets.ioffe2015_digits as digits

    monkeypatch.setattr(digits, "load_digits_split", missing)
    with pytest.raises(ImportError, match="bntheory"):
        meas.ioffe_figure1(steps=2, eval_every=1, hidden=4, rng=0)

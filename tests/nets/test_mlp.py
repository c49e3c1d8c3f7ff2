"""Tests of bntheory.nets.mlp: exact gradient / HVP, eval mode, Jacobian products, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.bn import population_statistics
from bntheory.gradcheck import check_gradient, check_hvp
from bntheory.nets import MLP

ACTS = ["linear", "relu", "tanh", "sigmoid"]


def _batch(net: MLP, n: int, rng):
    X = rng.standard_normal((n, net.sizes[0]))
    if net.loss_name == "cross_entropy":
        Y = rng.integers(0, net.sizes[-1], n)
    else:
        Y = rng.standard_normal((n, net.sizes[-1]))
    return X, Y


CONFIGS = [
    (act, bn, res, loss)
    for act in ACTS
    for bn, res in [(True, False), (False, False), (True, True), ("output", True)]
    for loss in ["mse", "cross_entropy"]
]


@pytest.mark.parametrize("act,bn,residual,loss", CONFIGS)
def test_gradient_and_hvp_exact(act, bn, residual, loss):
    rng = np.random.default_rng(3)
    net = MLP([4, 6, 6, 3], act, bn=bn, residual=residual, loss=loss, eps=1e-3, rng=1)
    X, Y = _batch(net, 7, rng)
    obj = net.objective(X, Y)
    theta = net.get_flat() + 0.1 * rng.standard_normal(net.dim)
    g = check_gradient(obj.loss, obj.grad, theta, rng=0)
    # central differences at h ~ 6e-6 have truncation + round-off error ~1e-9 here
    assert g.rel_error <= 1e-6 and abs(g.slope - 2) < 0.15, g
    h = check_hvp(obj.grad, obj.hvp, theta, rng=0, f=obj.loss)
    assert h.rel_error <= 1e-6 and h.symmetry <= 1e-10, h
    assert abs(h.slope - 2) < 0.15 and abs(h.cost_slope - 3) < 0.15, h


def test_hvp_exact_with_eps_zero_and_fixed_affine():
    rng = np.random.default_rng(4)
    net = MLP([3, 5, 5, 2], "tanh", bn=True, eps=0.0, train_affine=False, gamma_init=1.3, rng=2)
    X, Y = _batch(net, 6, rng)
    obj = net.objective(X, Y)
    theta = net.get_flat()
    assert check_gradient(obj.loss, obj.grad, theta, rng=1).rel_error <= 1e-6
    h = check_hvp(obj.grad, obj.hvp, theta, rng=1, f=obj.loss)
    assert h.ok, h


def test_dense_hessian_matches_finite_differences_of_gradient():
    rng = np.random.default_rng(5)
    net = MLP([2, 3, 2], "sigmoid", bn=True, loss="cross_entropy", rng=0)
    X, Y = _batch(net, 5, rng)
    obj = net.objective(X, Y)
    th = net.get_flat()
    H = obj.hessian(th)
    h = 1e-5
    Hfd = np.column_stack(
        [(obj.grad(th + h * e) - obj.grad(th - h * e)) / (2 * h) for e in np.eye(net.dim)]
    )
    np.testing.assert_allclose(H, 0.5 * (Hfd + Hfd.T), atol=1e-8)


def test_jvp_vjp_adjoint_and_gauss_newton():
    rng = np.random.default_rng(6)
    net = MLP([3, 4, 4, 2], "relu", bn="last", rng=0)
    X = rng.standard_normal((5, 3))
    th = net.get_flat()
    v = rng.standard_normal(net.dim)
    U = rng.standard_normal((5, 2))
    Jv = net.jvp(X, v)
    # adjoint identity <U, J v> = <J^T U, v>
    assert (
        abs(np.sum(U * Jv) - net.vjp(X, U) @ v)
        <= 1e-12 * np.linalg.norm(U) * np.linalg.norm(Jv) * 10
    )
    # J v against central differences of the output
    h = 1e-6
    net.set_flat(th + h * v)
    op = net.forward(X)
    net.set_flat(th - h * v)
    om = net.forward(X)
    net.set_flat(th)
    np.testing.assert_allclose(Jv, (op - om) / (2 * h), rtol=1e-6, atol=1e-8)
    # Gauss-Newton J^T J v / N with J assembled column by column from jvp
    J = np.column_stack([net.jvp(X, e).ravel() for e in np.eye(net.dim)])
    np.testing.assert_allclose(net.gauss_newton_vp(X, v), J.T @ (J @ v) / 5, rtol=1e-10, atol=1e-12)


def test_eval_mode_is_folded_affine_map_with_population_statistics():
    rng = np.random.default_rng(7)
    net = MLP([3, 6, 6, 2], "tanh", bn=True, momentum=None, rng=0)
    batches = [rng.standard_normal((8, 3)) + 1.5 for _ in range(5)]
    Y = np.zeros((8, 2))
    for Xb in batches:  # parameters fixed: running stats = Algorithm 2 population statistics
        net.loss_and_grad(Xb, Y, update_stats=True)
    # independent reference: population statistics of the layer-0 pre-activations (Alg. 2)
    W0 = net.params(0)["W"]
    mean, var = population_statistics([Xb @ W0 for Xb in batches])
    np.testing.assert_allclose(net.batchnorms[0].running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(net.batchnorms[0].running_var, var, rtol=1e-12)
    # eval-mode output == dense network whose BN layers are replaced by the folded affine map
    Xt = rng.standard_normal((4, 3))
    h = Xt
    for k in range(net.n_layers):
        a = h @ net.params(k)["W"] + net.params(k).get("b", 0.0)
        if k in net.bn_layers:
            bno = net.batchnorms[k]
            scale = bno.gamma / np.sqrt(bno.running_var + bno.eps)
            a = a * scale + (bno.beta - scale * bno.running_mean)
            s2, t2 = bno.fold()
            np.testing.assert_allclose(s2, scale, rtol=1e-14)
        h = np.tanh(a) if k < net.n_layers - 1 else a
    np.testing.assert_allclose(net.predict(Xt), h, rtol=1e-12, atol=1e-14)
    # eval mode works for a batch of one
    assert net.predict(Xt[:1]).shape == (1, 2)


def test_flat_views_roundtrip():
    net = MLP([3, 4, 2], "relu", rng=0)
    th = np.arange(net.dim, dtype=float)
    net.set_flat(th)
    np.testing.assert_array_equal(net.get_flat(), th)
    assert net.params(0)["W"][0, 1] == 1.0
    assert sum(s.stop - s.start for s in net.layer_slices) == net.dim


def test_bad_input_messages_name_the_argument():
    net = MLP([3, 4, 2], "relu", rng=0)
    X = np.ones((5, 3))
    Y = np.zeros((5, 2))
    with pytest.raises(ValueError, match="X"):
        net.loss(np.ones((5, 4)), Y)
    with pytest.raises(ValueError, match="X"):
        net.loss(np.full((5, 3), np.nan), Y)
    with pytest.raises(ValueError, match="X"):
        net.loss_and_grad(X[:1], Y[:1])  # batch of one in train mode with BN
    with pytest.raises(ValueError, match="Y"):
        net.loss(X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="activation"):
        MLP([3, 4, 2], "softplus")
    with pytest.raises(ValueError, match="loss"):
        MLP([3, 4, 2], loss="hinge")
    with pytest.raises(ValueError, match="theta"):
        net.set_flat(np.zeros(3))
    with pytest.raises(ValueError, match="v"):
        net.hvp(X, Y, np.zeros(2))
    with pytest.raises(ValueError, match="bn"):
        MLP([3, 4, 2], bn=[7])
    with pytest.raises(ValueError, match="sizes"):
        MLP([3])
    # without BN a batch of one is fine
    assert np.isfinite(MLP([3, 4, 2], bn=False, rng=0).loss(X[:1], Y[:1]))


def test_net_objective_works_with_measures_unchanged():
    from bntheory.measures import hessian_operator, hutchinson_trace, top_eigenvalues

    rng = np.random.default_rng(8)
    net = MLP([3, 5, 5, 2], "tanh", bn=True, rng=0)
    X, Y = _batch(net, 8, rng)
    obj = net.objective(X, Y)
    th = net.get_flat()
    H = obj.hessian(th)  # dense reference from exact HVPs
    ev = np.linalg.eigvalsh(H)
    op = hessian_operator(obj, th)
    top = top_eigenvalues(op, 2, rng=0, method="eigsh")
    np.testing.assert_allclose(top, ev[::-1][:2], rtol=1e-8)
    t = hutchinson_trace(op, n_samples=200, rng=0)
    assert abs(t.estimate - np.trace(H)) <= 4 * t.standard_error


# --------------------------------------------------------------------------- dropout
@pytest.mark.parametrize(
    "act,bn,residual", [("relu", True, False), ("tanh", False, False), ("sigmoid", True, True)]
)
def test_dropout_gradient_and_hvp_exact_with_a_fixed_mask(act, bn, residual):
    rng = np.random.default_rng(11)
    net = MLP([4, 6, 6, 3], act, bn=bn, residual=residual, loss="cross_entropy", dropout=0.4, rng=2)
    X, Y = _batch(net, 7, rng)
    masks = net.dropout_masks(7, rng=5)
    assert any(np.any(m == 0) for m in masks if m is not None)

    def f(th):
        net.set_flat(th)
        return net.loss(X, Y, masks=masks)

    def g(th):
        net.set_flat(th)
        return net.loss_and_grad(X, Y, masks=masks)[1]

    def hv(th, v):
        net.set_flat(th)
        return net.hvp(X, Y, v, masks=masks)

    theta = net.get_flat() + 0.1 * rng.standard_normal(net.dim)
    gc = check_gradient(f, g, theta, rng=0)
    assert gc.rel_error <= 1e-6 and abs(gc.slope - 2) < 0.15, gc
    hc = check_hvp(g, hv, theta, rng=0, f=f)
    assert hc.rel_error <= 1e-6 and hc.symmetry <= 1e-10, hc
    # the mask matters: the masked gradient differs from the unmasked one
    assert not np.allclose(g(theta), net.loss_and_grad_flat(theta, X, Y)[1])


def test_dropout_masks_are_inverted_and_forward_matches_a_hand_written_net():
    p = 0.3
    net = MLP([5, 40, 30, 2], "relu", bn=False, dropout=p, rng=0)
    masks = net.dropout_masks(2000, rng=1)
    assert masks[-1] is None and len(masks) == net.n_layers
    for m in masks[:-1]:
        vals = np.unique(m)
        np.testing.assert_allclose(vals, [0.0, 1.0 / (1.0 - p)], rtol=1e-15)
        # E[m] = 1 (inverted scaling); the dropped fraction is p (binomial sd ~ 0.002)
        assert abs(np.mean(m == 0) - p) < 0.01 and abs(m.mean() - 1.0) < 0.02
    # independent forward: h_k = relu(h_{k-1} W_k + b_k) * m_k, output layer unmasked
    X = np.random.default_rng(2).standard_normal((2000, 5))
    h = X
    for k in range(net.n_layers):
        prm = net.params(k)
        a = h @ prm["W"] + prm["b"]
        h = np.maximum(a, 0.0) * masks[k] if k < net.n_layers - 1 else a
    np.testing.assert_allclose(net.forward(X, masks=masks), h, rtol=1e-12, atol=1e-13)
    # no dropout rate, no masks
    assert all(m is None for m in MLP([5, 4, 2], dropout=0.0, rng=0).dropout_masks(3, rng=0))


def test_eval_mode_and_maskless_evaluations_have_no_dropout():
    rng = np.random.default_rng(8)
    net = MLP([3, 8, 8, 2], "tanh", bn=True, dropout=0.5, rng=4)
    ref = MLP([3, 8, 8, 2], "tanh", bn=True, rng=4)
    np.testing.assert_array_equal(net.get_flat(), ref.get_flat())
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    for Xb in (X, X + 1.0):  # same running statistics in both nets
        net.loss_and_grad(Xb, Y, update_stats=True)
        ref.loss_and_grad(Xb, Y, update_stats=True)
    np.testing.assert_array_equal(net.predict(X), ref.predict(X))
    # eval mode ignores masks; train mode without masks is deterministic and dropout-free
    masks = net.dropout_masks(6, rng=0)
    np.testing.assert_array_equal(net.forward(X, training=False, masks=masks), ref.predict(X))
    np.testing.assert_array_equal(net.forward(X), ref.forward(X))
    assert net.loss(X, Y) == ref.loss(X, Y)
    assert net.loss(X, Y, masks=masks) != ref.loss(X, Y)
    assert "dropout=0.5" in repr(net) and "dropout" not in repr(ref)


def test_dropout_bad_input():
    for bad in (1.0, -0.1, True, "0.5", float("nan")):
        with pytest.raises(ValueError, match="dropout"):
            MLP([3, 4, 2], dropout=bad)
    net = MLP([3, 4, 4, 2], dropout=0.5, rng=0)
    X, Y = np.ones((5, 3)), np.zeros((5, 2))
    good = net.dropout_masks(5, rng=0)
    with pytest.raises(ValueError, match="masks must have 3 entries"):
        net.loss_and_grad(X, Y, masks=good[:2])
    with pytest.raises(ValueError, match="masks\\[0\\]"):
        net.loss_and_grad(X, Y, masks=[np.ones((4, 4)), None, None])
    with pytest.raises(ValueError, match="output layer"):
        net.loss_and_grad(X, Y, masks=[None, None, np.ones((5, 2))])
    with pytest.raises(TypeError, match="masks"):
        net.loss_and_grad(X, Y, masks=np.ones((5, 4)))

"""The one SGD loop (bntheory.nets.loop), its probes, and MLP's public trace API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bntheory.nets import MLP, gaussian_mixture
from bntheory.nets.loop import MiniBatches, sgd
from bntheory.nets.santurkar2018 import santurkar_landscape
from bntheory.status import Status


@pytest.fixture(scope="module")
def data():
    d = gaussian_mixture(60, 20, 5, 3, separation=2.0, rng=0)
    return d.X_train, np.eye(3)[d.Y_train]


def _net(bn=True, **kw):
    return MLP([5, 8, 8, 3], "tanh", bn=bn, loss="cross_entropy", rng=1, **kw)


def _reference_order(n, batch, seed, steps):
    """Epochs of a fresh permutation each; a batch never straddles two epochs."""
    gen = np.random.default_rng(seed)
    perm, out = gen.permutation(n), []
    pos = 0
    for _ in range(steps):
        if pos + batch > n:
            perm, pos = gen.permutation(n), 0
        out.append(perm[pos : pos + batch])
        pos += batch
    return out


def test_minibatches_follow_the_reshuffle_rule():
    b = MiniBatches(10, 4, 7)
    for ref in _reference_order(10, 4, 7, 9):
        np.testing.assert_array_equal(b.next(), ref)
    assert MiniBatches(10, None, 0).next() is None
    with pytest.raises(ValueError, match="batch_size"):
        MiniBatches(10, 11, 0)


def test_sgd_matches_a_plain_loop_and_probes_on_schedule(data):
    X, Y = data
    net, ref = _net(), _net()
    seen = []

    def probe(step, theta, grad, Xb, Yb):
        seen.append(step)
        net.set_flat(theta + 1.0)  # a probe may move the network: the loop restores it

    run = sgd(net, X, Y, lr=0.3, steps=11, batch_size=16, rng=5, probe=probe, every=4)
    losses = []
    for idx in _reference_order(X.shape[0], 16, 5, 11):
        L, g = ref.loss_and_grad(X[idx], Y[idx])
        losses.append(L)
        ref.set_flat(ref.get_flat() - 0.3 * g)
    assert run.status == Status.COMPLETED and run.steps == 11 and run.message == ""
    assert seen == [0, 4, 8]
    np.testing.assert_array_equal(run.losses, losses)
    np.testing.assert_array_equal(run.theta, ref.get_flat())
    np.testing.assert_array_equal(net.get_flat(), ref.get_flat())


def test_after_step_can_stop_the_run_as_diverged(data):
    X, Y = data
    net = _net()
    thetas = []

    def after(done):
        thetas.append(net.get_flat())
        return "stop here" if done == 3 else None

    run = sgd(net, X, Y, lr=0.1, steps=10, after_step=after)
    assert run.status == Status.DIVERGED and run.message == "stop here" and run.steps == 3
    np.testing.assert_array_equal(net.get_flat(), thetas[-1])


def test_overflow_is_a_status_without_warnings(data):
    X, Y = data
    net = MLP([5, 8, 8, 3], "relu", bn=False, loss="mse", rng=1)
    theta0 = net.get_flat()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = sgd(net, X, Y, lr=1e100, steps=20)
    assert run.status == Status.DIVERGED and run.status == "diverged"
    assert "non-finite" in run.message
    assert np.all(np.isfinite(net.get_flat())) and run.steps < 20
    if run.steps == 0:
        np.testing.assert_array_equal(net.get_flat(), theta0)


def test_divergence_factor_is_a_loss_rule(data):
    X, Y = data
    net = MLP([5, 8, 3], "linear", bn=False, loss="mse", rng=0)
    run = sgd(net, X, Y, lr=3.0, steps=200, divergence_factor=1e3)
    assert run.status == Status.DIVERGED and "exceeded" in run.message
    assert np.all(run.losses <= 1e3 * max(1.0, run.losses[0]))


def test_landscape_first_probe_equals_a_direct_evaluation(data):
    X, Y = data
    s_grid = np.array([0.5, 1.0, 2.0])
    r = santurkar_landscape(_net(), X, Y, lr=0.2, steps=5, batch_size=16, s_grid=s_grid,
                            every=2, rng=9)  # fmt: skip
    assert list(r.steps) == [0, 2, 4] and r.loss_by_s.shape == (3, 3)
    net = _net()
    idx = _reference_order(X.shape[0], 16, 9, 1)[0]
    w0 = net.get_flat()
    _, g0 = net.loss_and_grad(X[idx], Y[idx])
    for j, s in enumerate(s_grid):
        net.set_flat(w0 - 0.2 * s * g0)
        L, g = net.loss_and_grad(X[idx], Y[idx])
        assert r.loss_by_s[0, j] == pytest.approx(L, rel=1e-12)
        assert r.grad_change_by_s[0, j] == pytest.approx(np.linalg.norm(g - g0), rel=1e-12)
    np.testing.assert_allclose(r.loss_range, np.ptp(r.loss_by_s, axis=1), rtol=1e-12)
    np.testing.assert_allclose(r.grad_predictiveness, r.grad_change_by_s.max(axis=1))


def test_public_trace_api_against_finite_differences(data):
    X, Y = data
    X, Y = X[:12], Y[:12]
    net = _net()
    rng = np.random.default_rng(0)
    v = rng.standard_normal(net.dim)
    theta = net.get_flat()
    tr = net.forward_trace(X)
    L, g_out = net.output_loss_and_grad(tr.out, net.check_Y(Y, 12))
    grad = net.backward(tr, g_out)
    np.testing.assert_array_equal(grad, net.loss_and_grad(X, Y)[1])
    h = 1e-6

    def at(t):
        net.set_flat(t)
        return net.forward(X), net.loss_and_grad(X, Y)[1]

    (op, gp), (om, gm) = at(theta + h * v), at(theta - h * v)
    net.set_flat(theta)
    tan = net.rop(tr, v, Y=net.check_Y(Y, 12), g_out=g_out)
    np.testing.assert_allclose(tan.output, (op - om) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tan.grad, (gp - gm) / (2 * h), rtol=1e-5, atol=1e-7)
    assert net.rop(tr, v, backward=False).grad is None
    with pytest.raises(ValueError, match="g_out"):
        net.rop(tr, v)


def test_public_input_checks_name_the_argument():
    net = _net()
    with pytest.raises(ValueError, match="X"):
        net.check_X(np.ones((3, 4)))
    with pytest.raises(ValueError, match="Y"):
        net.check_Y(np.ones((3, 2)), 3)
    with pytest.raises(ValueError, match="at least 2"):
        net.check_batch(np.ones((1, 5)), True)
    with pytest.raises(ValueError, match="v"):
        net.check_vector(np.ones(3), "v")
    np.testing.assert_array_equal(net.check_Y(np.array([0, 2]), 2), [[1, 0, 0], [0, 0, 1]])


def test_former_private_batch_iterator_still_importable():
    from bntheory.nets.measurements import _Batches

    b = _Batches(6, None, np.random.default_rng(0))
    np.testing.assert_array_equal(b.next(), np.arange(6))
    with pytest.raises(ValueError, match="batch_size"):
        _Batches(6, 1, np.random.default_rng(0))

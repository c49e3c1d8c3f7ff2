"""The papers' measures for torch models against independent references: the NumPy MLP
twin's measures in bntheory.nets on the same weights (hand-written backward pass and
R-operator), closed forms of a quadratic loss, and per-example autograd."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")

from test_objective import _mse, _twin  # noqa: E402

from bntheory.nets import MLP  # noqa: E402
from bntheory.nets import measurements as nm  # noqa: E402
from bntheory.torch import measures as tm  # noqa: E402

nn = torch.nn
F = torch.nn.functional


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 5)), rng.standard_normal((40, 3))


def test_landscape_matches_numpy_twin(data):
    X, Y = data
    net, model = _twin()
    ref = nm.santurkar_landscape(net, X, Y, lr=0.1, steps=5, batch_size=10, every=2, rng=3)
    got = tm.santurkar_landscape(model, _mse, X, Y, lr=0.1, steps=5, batch_size=10, every=2, rng=3)
    assert got.status == ref.status == "completed"
    np.testing.assert_array_equal(got.steps, ref.steps)
    np.testing.assert_array_equal(got.s_grid, ref.s_grid)  # the same documented grid
    for f in ("loss_range", "grad_predictiveness", "beta_smoothness", "train_loss"):
        np.testing.assert_allclose(getattr(got, f), getattr(ref, f), rtol=1e-10, err_msg=f)


def test_landscape_at_closed_form_on_a_quadratic():
    """Linear least squares: L(w) = |Xw - y|^2 / (2N), H = X^T X / N, so the gradient at
    w - lr s g changes by lr s H g: beta-smoothness ||H g|| / ||g|| at every s, and the
    loss along the ray is an explicit parabola."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal((30, 1))
    model = nn.Linear(4, 1, bias=False).double()
    obj = tm.TorchObjective(model, _mse, (X, y))
    lr = 0.3
    p = tm.landscape_at(obj, lr=lr)
    w = obj.x0
    H = X.T @ X / 30
    g = X.T @ (X @ w - y[:, 0]) / 30
    L0 = 0.5 * np.sum((X @ w - y[:, 0]) ** 2) / 30
    s = np.asarray(tm.S_GRID)
    Ls = L0 - lr * s * (g @ g) + 0.5 * (lr * s) ** 2 * (g @ H @ g)
    np.testing.assert_allclose(p.losses, Ls, rtol=1e-12)
    assert p.loss_range == pytest.approx(Ls.max() - Ls.min(), rel=1e-10)
    assert p.beta_smoothness == pytest.approx(np.linalg.norm(H @ g) / np.linalg.norm(g), rel=1e-10)
    assert p.grad_predictiveness == pytest.approx(lr * s.max() * np.linalg.norm(H @ g), rel=1e-10)


def test_ics_matches_numpy_twin_and_leaves_the_model_alone(data):
    X, Y = data
    net, model = _twin()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ref = nm.internal_covariate_shift(net, X, Y, lr=0.2, steps=4, batch_size=10, rng=5)
    got = tm.internal_covariate_shift(model, _mse, X, Y, lr=0.2, steps=4, batch_size=10, rng=5)
    assert got.l2.shape == ref.l2.shape == (4, 3)
    for f in ("l2", "cosine", "relative"):
        np.testing.assert_allclose(getattr(got, f), getattr(ref, f), rtol=1e-9, atol=1e-14)
    assert np.all(got.l2[:, 0] == 0) and np.all(got.cosine[:, 0] == 1)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics too


def test_landscape_divergence_is_a_status():
    net, model = _twin()
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((20, 5)), 1e3 * rng.standard_normal((20, 3))
    r = tm.santurkar_landscape(model, _mse, X, Y, lr=1e200, steps=5, rng=0)
    assert r.status == "diverged"
    assert not np.any(np.isnan(r.loss_range))


def test_fisher_gaussian_matches_numpy_twin(data):
    X, Y = data
    net, model = _twin()
    ref = nm.fisher_spectrum(net, X)
    got = tm.fisher_spectrum(model, (X, Y))
    assert got.lambda_max == pytest.approx(ref.lambda_max, rel=1e-11)
    assert got.trace == pytest.approx(ref.trace, rel=1e-11)
    np.testing.assert_allclose(
        got.gram_eigenvalues, ref.gram_eigenvalues, atol=1e-10 * ref.lambda_max
    )


def _dense_jacobian(net: MLP, X) -> np.ndarray:
    """J (N d_out x dim, NumPy layout) column by column from the twin's JVPs."""
    e = np.zeros(net.dim)
    cols = []
    for i in range(net.dim):
        e[i] = 1.0
        cols.append(net.jvp(X, e).ravel())
        e[i] = 0.0
    return np.column_stack(cols)


def test_fisher_categorical_true_and_empirical_against_dense_matrices():
    net, model = _twin(sizes=(4, 5, 3), seed=3)
    rng = np.random.default_rng(4)
    X, labels = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    J = _dense_jacobian(net, X)
    out = net.forward(X)
    p = np.exp(out - out.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n, c = p.shape
    Fd = (
        sum(
            J[i * c : (i + 1) * c].T
            @ (np.diag(p[i]) - np.outer(p[i], p[i]))
            @ J[i * c : (i + 1) * c]
            for i in range(n)
        )
        / n
    )
    got = tm.fisher_spectrum(model, (X, torch.as_tensor(labels)), output="categorical")
    lam = np.linalg.eigvalsh(Fd)
    assert got.lambda_max == pytest.approx(lam[-1], rel=1e-10)
    assert got.trace == pytest.approx(np.trace(Fd), rel=1e-10)
    # empirical Fisher: per-example gradients of -log p_i[y_i], each by its own autograd pass
    G = []
    for i in range(n):

        def li(o, y, i=i):
            return F.cross_entropy(o[i : i + 1], y[i : i + 1])

        obj = tm.TorchObjective(model, li, (X, torch.as_tensor(labels)))
        G.append(obj.grad(obj.x0))
    Fe = np.array(G).T @ np.array(G) / n
    emp = tm.fisher_spectrum(
        model, (X, torch.as_tensor(labels)), output="categorical", kind="empirical"
    )
    assert emp.lambda_max == pytest.approx(np.linalg.eigvalsh(Fe)[-1], rel=1e-10)
    assert emp.trace == pytest.approx(np.trace(Fe), rel=1e-10)
    assert emp.lambda_max != pytest.approx(got.lambda_max, rel=1e-3)  # not the same matrix


def test_arora_identities_match_numpy_twin_and_are_exact_at_eps_zero(data):
    X, Y = data
    net, model = _twin()
    ref = nm.arora_scale_invariance(net, X, Y, lr=0.1, steps=3)
    got = tm.scale_invariance(model, _mse, (X, Y), lr=0.1, steps=3)
    assert got.layers == ("0", "3") and ref.layers == (0, 1)
    for f in ("orthogonality", "norm_identity", "weight_norms", "effective_lr"):
        np.testing.assert_allclose(getattr(got, f), getattr(ref, f), rtol=1e-8, atol=1e-13)
    # eps -> 0 (torch refuses eps = 0 in training; 1e-30 is 0 to round-off), a conv layer
    # WITH bias feeding BatchNorm2d: per-channel (filter, bias) vectors
    torch.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(1, 3, 3, bias=True), nn.BatchNorm2d(3, eps=1e-30), nn.Tanh(),
        nn.Flatten(), nn.Linear(3 * 9, 2),
    ).double()  # fmt: skip
    Xc, yc = np.random.default_rng(1).standard_normal((6, 1, 5, 5)), torch.tensor([0, 1] * 3)
    r = tm.scale_invariance(cnn, F.cross_entropy, (Xc, yc), lr=0.5, steps=2)
    assert r.layers == ("0",)
    assert np.all(r.orthogonality < 1e-10) and np.all(r.norm_identity < 1e-12)
    assert np.all(np.diff(r.weight_norms[:, 0]) > 0)  # norms only grow under GD


def _yang_twin(width=6, depth=4, seed=0):
    net = MLP([width] * (depth + 1) + [width], "relu", bn=True, eps=1e-30, train_affine=False,
              bias=False, loss="linear", sigma_w2=1.0, rng=seed)  # fmt: skip
    layers = []
    for k in range(depth + 1):
        layers.append(nn.Linear(width, width, bias=False))
        if k < depth:
            layers += [nn.BatchNorm1d(width, eps=1e-30, affine=False), nn.ReLU()]
    model = nn.Sequential(*layers).double()
    lin = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for s in net.specs:
            lin[s.layer].weight.copy_(torch.as_tensor(net.get_flat()[s.slice].reshape(s.shape).T))
    return net, model


def test_gradient_growth_matches_numpy_twin():
    net, model = _yang_twin()
    rng = np.random.default_rng(7)
    X, C = rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
    tr = net.trace(X, C)
    ga = np.array([np.sum(tr.g_a[k] ** 2) for k in range(4)])
    gw = np.array([np.sum(tr.grad[s] ** 2) for s in net.layer_slices])
    got = tm.gradient_growth(model, lambda o, c: (o * c).sum() / o.shape[0], (X, C), window=(0, 3))
    np.testing.assert_allclose(got.sq_grad_bn_input, ga, rtol=1e-10)
    np.testing.assert_allclose(got.sq_grad_weights, gw, rtol=1e-10)
    assert got.rate == pytest.approx((ga[0] / ga[3]) ** (1 / 3), rel=1e-10)
    np.testing.assert_allclose(got.ratios, ga[:-1] / ga[1:], rtol=1e-10)


def test_bad_input_names_the_argument(data):
    X, Y = data
    _, model = _twin()
    with pytest.raises(ValueError, match="lr"):
        tm.santurkar_landscape(model, _mse, X, Y, lr=-1.0, steps=2)
    with pytest.raises(ValueError, match="steps"):
        tm.internal_covariate_shift(model, _mse, X, Y, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="s_grid"):
        tm.santurkar_landscape(model, _mse, X, Y, lr=0.1, steps=2, s_grid=[0.0])
    with pytest.raises(ValueError, match="layers"):
        tm.internal_covariate_shift(model, _mse, X, Y, lr=0.1, steps=1, layers=[["nope"]])
    with pytest.raises(ValueError, match="output"):
        tm.fisher_spectrum(model, (X, Y), output="poisson")
    with pytest.raises(ValueError, match="kind"):
        tm.fisher_spectrum(model, (X, Y), kind="exact")
    with pytest.raises(ValueError, match="window"):
        tm.gradient_growth(model, _mse, (X, Y), window=(1, 1))
    plain = nn.Sequential(nn.Linear(5, 3)).double()
    with pytest.raises(ValueError, match="BN"):
        tm.scale_invariance(plain, _mse, (X, Y), lr=0.1)


def test_layers_and_bn_fed_units_of_a_residual_model():
    from bntheory.experiments.torch_bn_modes import _model
    from bntheory.torch._layers import bn_fed_units, layer_groups

    torch.manual_seed(0)
    model = _model(torch, 6, 4, 3)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.eps = 1e-14  # exact scale invariance up to eps / var
    X, y = np.random.default_rng(0).standard_normal((10, 6)), torch.arange(10) % 3
    obj = tm.TorchObjective(model, F.cross_entropy, (X, y))
    groups = dict(layer_groups(obj))
    assert groups == {
        "inp": ["inp.weight", "bn0.weight", "bn0.bias"],
        "block.0": ["block.0.weight", "block.1.weight", "block.1.bias"],
        "block.3": ["block.3.weight", "block.4.weight", "block.4.bias"],
        "head": ["head.weight", "head.bias"],
    }
    assert sum(len(v) for v in groups.values()) == len(obj.names)
    fed = {f["module"]: f["bn"] for f in bn_fed_units(obj)}
    assert fed == {"inp": "bn0", "block.0": "block.1", "block.3": "block.4"}
    # the loss is invariant to scaling one unit of a BN-fed layer (the units found are right)
    for f in bn_fed_units(obj):
        x = obj.x0.copy()
        x[f["units"][1]] *= 3.0
        assert obj.loss(x) == pytest.approx(obj.loss(obj.x0), rel=1e-10)
        x[f["units"][1]] *= -1.0  # a sign flip is not a scaling: the loss changes
        assert obj.loss(x) != pytest.approx(obj.loss(obj.x0), rel=1e-6)
    with pytest.raises(ValueError, match="batch"):
        tm.TorchObjective(model, F.cross_entropy, (X, y), bn="frozen").with_batch((X, y))

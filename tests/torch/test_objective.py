"""bntheory.torch against independent references: bntheory's NumPy MLP (exact R-operator
HVP, itself checked against finite differences and SymPy) and a hand-written functional
torch model differentiated with torch.autograd.functional (no nn.Module, no functional_call)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")

from bntheory.measures import hessian_operator, top_eigenvalues  # noqa: E402
from bntheory.nets import MLP  # noqa: E402
from bntheory.torch import TorchObjective, bn_mode_report  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def _twin(sizes=(5, 7, 6, 3), activation="tanh", eps=1e-5, seed=0):
    """A NumPy MLP and the same network in torch (BN before the nonlinearity, no bias on
    BN layers, biased output layer), with identical weights."""
    net = MLP(sizes, activation, bn=True, eps=eps, loss="mse", rng=seed)
    rng = np.random.default_rng(seed + 1)
    theta = net.get_flat()
    for s in net.specs:  # non-trivial gamma/beta so every block of the Hessian is exercised
        if s.kind == "gamma":
            theta[s.slice] = 1 + 0.3 * rng.standard_normal(s.slice.stop - s.slice.start)
        if s.kind == "beta":
            theta[s.slice] = 0.2 * rng.standard_normal(s.slice.stop - s.slice.start)
    net.set_flat(theta)
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[activation]
    layers = []
    L = len(sizes) - 1
    for k in range(L):
        last = k == L - 1
        layers.append(nn.Linear(sizes[k], sizes[k + 1], bias=last))
        if not last:
            layers += [nn.BatchNorm1d(sizes[k + 1], eps=eps), act()]
    model = nn.Sequential(*layers).double()
    # name maps: numpy spec -> torch parameter (W is (in, out) in numpy, (out, in) in torch)
    lin = [m for m in model if isinstance(m, nn.Linear)]
    bns = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for s in net.specs:
            v = torch.as_tensor(theta[s.slice].reshape(s.shape))
            if s.kind == "W":
                lin[s.layer].weight.copy_(v.T)
            elif s.kind == "b":
                lin[s.layer].bias.copy_(v)
            elif s.kind == "gamma":
                bns[s.layer].weight.copy_(v)
            else:
                bns[s.layer].bias.copy_(v)
    return net, model


def _perm(net, model):
    """Index map: torch flat position -> numpy flat position."""
    names = dict(model.named_parameters())
    lin = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    bns = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm1d)]
    where = {}
    for s in net.specs:
        idx = np.arange(s.slice.start, s.slice.stop).reshape(s.shape)
        if s.kind == "W":
            where[f"{lin[s.layer]}.weight"] = idx.T
        elif s.kind == "b":
            where[f"{lin[s.layer]}.bias"] = idx
        elif s.kind == "gamma":
            where[f"{bns[s.layer]}.weight"] = idx
        else:
            where[f"{bns[s.layer]}.bias"] = idx
    return np.concatenate([where[n].reshape(-1) for n in names])


def _mse(out, y):
    return 0.5 * ((out - y) ** 2).sum() / out.shape[0]


@pytest.fixture(scope="module")
def setup():
    net, model = _twin()
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((16, 5)), rng.standard_normal((16, 3))
    obj = TorchObjective(model, _mse, (X, Y), bn="train")
    return net, model, obj, X, Y, _perm(net, model)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_train_mode_matches_numpy_twin(setup):
    net, model, obj, X, Y, perm = setup
    assert obj.dim == net.dim
    L_np, g_np = net.loss_and_grad(X, Y)
    L_t, g_t = obj.loss_and_grad(obj.x0)
    assert L_t == pytest.approx(L_np, rel=1e-13)
    np.testing.assert_allclose(g_t, g_np[perm], rtol=0, atol=1e-13 * np.abs(g_np).max())
    v = np.random.default_rng(4).standard_normal(obj.dim)
    hv_np = net.hvp(X, Y, v[np.argsort(perm)])  # v in numpy layout
    for method in ("jvp", "double-backward"):
        o = TorchObjective(model, _mse, (X, Y), bn="train", hvp_method=method)
        hv_t = o.hvp(o.x0, v)
        np.testing.assert_allclose(hv_t, hv_np[perm], rtol=0, atol=1e-12 * np.abs(hv_np).max())


def test_eval_mode_matches_numpy_inference_map(setup):
    net, model, obj, X, Y, perm = setup
    rng = np.random.default_rng(5)
    bns = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    for k, m in zip(sorted(net.batchnorms), bns, strict=True):  # same running stats in both
        mean, var = rng.standard_normal(m.num_features), rng.uniform(0.5, 2, m.num_features)
        with torch.no_grad():
            m.running_mean.copy_(torch.as_tensor(mean))
            m.running_var.copy_(torch.as_tensor(var))
        net.batchnorms[k].running_mean[...] = mean
        net.batchnorms[k].running_var[...] = var
    ev = TorchObjective(model, _mse, (X, Y), bn="eval")
    assert ev.loss(ev.x0) == pytest.approx(net.loss(X, Y, training=False), rel=1e-13)


def _functional_loss(theta, X, Y, sizes, eps):
    """Independent reference: the same network written out by hand on a flat vector in the
    torch layout (Linear weight (out, in); BN weight, bias), batch statistics, biased var."""
    off, h = 0, X
    L = len(sizes) - 1
    for k in range(L):
        n_in, n_out = sizes[k], sizes[k + 1]
        W = theta[off : off + n_in * n_out].reshape(n_out, n_in)
        off += n_in * n_out
        a = h @ W.T
        if k == L - 1:
            a = a + theta[off : off + n_out]
            off += n_out
            h = a
        else:
            g, b = theta[off : off + n_out], theta[off + n_out : off + 2 * n_out]
            off += 2 * n_out
            mu = a.mean(0)
            var = ((a - mu) ** 2).mean(0)
            h = torch.tanh(g * (a - mu) / torch.sqrt(var + eps) + b)
    return 0.5 * ((h - Y) ** 2).sum() / X.shape[0]


def test_dense_hessian_matches_independent_functional_reference(setup):
    net, model, obj, X, Y, perm = setup
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    th = torch.as_tensor(obj.x0)
    H_ref = torch.autograd.functional.hessian(
        lambda t: _functional_loss(t, Xt, Yt, net.sizes, 1e-5), th
    ).numpy()
    H = obj.hessian(obj.x0)
    scale = np.abs(H_ref).max()
    np.testing.assert_allclose(H, H_ref, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * scale)
    # and the measures run on it unchanged
    lam = top_eigenvalues(hessian_operator(obj, obj.x0), 2, rng=0)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(H_ref)[::-1][:2], rtol=1e-9)


def test_model_state_never_changes():
    net, model = _twin()
    model.train()
    model[1].momentum = 0.5
    X, Y = np.random.default_rng(6).standard_normal((8, 5)), np.zeros((8, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    for mode in ("train", "eval", "frozen"):
        obj = TorchObjective(model, _mse, (X, Y), bn=mode)
        obj.loss(obj.x0)
        obj.grad(obj.x0 + 0.1)
        obj.hvp(obj.x0, np.ones(obj.dim))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # incl. num_batches_tracked
    assert [m.training for m in model.modules()] == flags


def test_frozen_mode_is_train_mode_with_constant_statistics(setup):
    net, model, obj, X, Y, perm = setup
    fr = TorchObjective(model, _mse, (X, Y), bn="frozen")
    # at the freezing point the loss and gradient w.r.t. everything but the pre-BN weights
    # agree with train mode; the Hessian differs (statistics no longer depend on W)
    assert fr.loss(fr.x0) == pytest.approx(obj.loss(obj.x0), rel=1e-12)
    v = np.random.default_rng(8).standard_normal(obj.dim)
    assert not np.allclose(fr.hvp(fr.x0, v), obj.hvp(obj.x0, v), rtol=1e-3)
    # frozen statistics: the loss is quadratic... in the output layer only; check against
    # finite differences of the frozen gradient (independent of the HVP code path)
    h = 1e-6
    fd = (fr.grad(fr.x0 + h * v) - fr.grad(fr.x0 - h * v)) / (2 * h)
    np.testing.assert_allclose(fr.hvp(fr.x0, v), fd, rtol=1e-6, atol=1e-8)


def test_params_selection_per_layer(setup):
    net, model, obj, X, Y, perm = setup
    sub = TorchObjective(model, _mse, (X, Y), params=model[1])  # the first BN layer
    assert sub.names == ("1.weight", "1.bias") and sub.dim == 14
    idx = np.concatenate([np.arange(s.start, s.stop) for s in obj._slots if s.name in sub.names])
    H = obj.hessian(obj.x0)
    np.testing.assert_allclose(
        sub.hessian(sub.x0), H[np.ix_(idx, idx)], atol=1e-13 * np.abs(H).max()
    )
    by_pred = TorchObjective(model, _mse, (X, Y), params=lambda n, p: n.endswith("bias"))
    assert all(n.endswith("bias") for n in by_pred.names)
    assert set(obj.groups()) == {"0", "1", "3", "4", "6"}


def test_bad_input_names_the_argument(setup):
    net, model, obj, X, Y, perm = setup
    with pytest.raises(ValueError, match="bn"):
        TorchObjective(model, _mse, (X, Y), bn="batch")
    with pytest.raises(ValueError, match="params"):
        TorchObjective(model, _mse, (X, Y), params=["nope"])
    with pytest.raises(TypeError, match="model"):
        TorchObjective(object(), _mse, (X, Y))
    with pytest.raises(ValueError, match="batch"):
        TorchObjective(model, _mse, (X, Y[:3]))
    with pytest.raises(ValueError, match="x"):
        obj.loss(np.zeros(3))
    with pytest.raises(ValueError, match="max_dim"):
        obj.hessian(obj.x0, max_dim=10)


def test_bn_mode_report_shows_train_eval_difference():
    net, model = _twin(seed=2)
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((32, 5)), rng.standard_normal((32, 3))
    # running statistics set exactly to this batch's statistics (biased variance):
    # eval-mode loss equals train-mode loss, yet gradients and curvature differ
    with torch.no_grad():
        h = torch.as_tensor(X)
        for m in model:
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(h.mean(0))
                m.running_var.copy_(h.var(0, unbiased=False))
            h = (
                m(h)
                if not isinstance(m, nn.BatchNorm1d)
                else F.batch_norm(h, None, None, m.weight, m.bias, training=True, eps=m.eps)
            )
    rep = bn_mode_report(model, _mse, (X, Y), slq_runs=2, slq_steps=10, n_probes=4)
    tr, ev = rep.row("all", "train"), rep.row("all", "eval")
    assert ev["loss"] == pytest.approx(tr["loss"], rel=1e-12)
    assert abs(ev["grad_norm"] / tr["grad_norm"] - 1) > 1e-3
    assert tr["cos_to_train"] == pytest.approx(1.0)
    # independent reference: the hand-written functional network's Hessian
    theta = torch.as_tensor(net.get_flat()[_perm(net, model)])
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    H = torch.autograd.functional.hessian(
        lambda t: _functional_loss(t, Xt, Yt, net.sizes, 1e-5), theta
    ).numpy()
    assert tr["lambda_max"] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)
    assert "| all | eval |" in rep.table()


class _ResCNN(nn.Module):
    """A small CNN with BatchNorm2d and one residual block."""

    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(1, 3, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(3)
        self.conv1 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        h = torch.relu(self.bn0(self.conv0(x)))
        h = h + torch.tanh(self.bn1(self.conv1(h)))
        return self.head(h.mean(dim=(2, 3)))


def test_cnn_with_batchnorm2d_and_residual_block():
    torch.manual_seed(0)
    model = _ResCNN().double()
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((6, 1, 5, 5)), rng.integers(0, 2, 6)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    obj = TorchObjective(model, F.cross_entropy, (X, torch.as_tensor(y)), bn="train")
    v = rng.standard_normal(obj.dim)
    # central differences of the gradient (an independent code path; O(h^2) truncation)
    h = 1e-5
    fd = (obj.grad(obj.x0 + h * v) - obj.grad(obj.x0 - h * v)) / (2 * h)
    hv = obj.hvp(obj.x0, v)
    np.testing.assert_allclose(hv, fd, rtol=0, atol=1e-7 * np.abs(hv).max())
    H = obj.hessian(obj.x0)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    np.testing.assert_allclose(H @ v, hv, rtol=0, atol=1e-12 * np.abs(hv).max())
    assert all(torch.equal(before[k], model.state_dict()[k]) for k in before)

"""selfcheck: a torch model against its NumPy twin; named errors for what the twin cannot
express; the check can fail (a deliberately wrong twin is reported, not passed)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")

from bntheory.torch.selfcheck import SelfCheckReport, selfcheck  # noqa: E402

sc = importlib.import_module("bntheory.torch.selfcheck")

nn = torch.nn
F = torch.nn.functional


def _batch(n=12, d=5, c=3, seed=0, labels=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = torch.as_tensor(rng.integers(0, c, n)) if labels else rng.standard_normal((n, c))
    return X, y


def _bn_mlp(act=nn.Tanh, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(5, 7, bias=False), nn.BatchNorm1d(7), act(),
        nn.Sequential(nn.Linear(7, 6, bias=False), nn.BatchNorm1d(6), act()),
        nn.Linear(6, 3),
    )  # fmt: skip
    with torch.no_grad():  # non-trivial affine parameters and running statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model


@pytest.mark.parametrize(
    "model, loss_fn, labels",
    [
        (_bn_mlp(nn.Tanh), F.cross_entropy, True),
        (_bn_mlp(nn.ReLU, seed=1), nn.MSELoss(), False),
        (_bn_mlp(nn.Sigmoid, seed=2), nn.CrossEntropyLoss(), True),
        (nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)), F.mse_loss, False),
    ],
)
def test_supported_models_agree_with_the_numpy_twin(model, loss_fn, labels):
    X, y = _batch(labels=labels)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rep = selfcheck(model, loss_fn, (X, y))
    assert isinstance(rep, SelfCheckReport) and rep.passed, str(rep)
    assert max(rep.loss_error, rep.grad_error, rep.hvp_error) < 1e-12
    bn = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    assert (rep.eval_loss_error is not None) and rep.eval_loss_error < 1e-12
    assert ("bn=[0, 1]" in rep.twin) == bn
    assert all(torch.equal(before[k], model.state_dict()[k]) for k in before)
    assert "passed" in str(rep)


def test_the_check_can_fail(monkeypatch):
    """A twin built with the wrong activation is reported as failing."""
    monkeypatch.setitem(sc._ACTIVATIONS, "Tanh", "sigmoid")
    rep = selfcheck(_bn_mlp(nn.Tanh), F.cross_entropy, _batch())
    assert not rep.passed and rep.loss_error > 1e-3 and "FAILED" in str(rep)


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(5, 5)

    def forward(self, x):
        return x + self.lin(x)


@pytest.mark.parametrize(
    "model, why",
    [
        (_Residual(), "Sequential"),
        (nn.Sequential(nn.Conv1d(1, 2, 3)), "Conv1d"),
        (nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 3)), "bias"),
        (nn.Sequential(nn.Linear(5, 4, bias=False), nn.Tanh(), nn.BatchNorm1d(4)), "BatchNorm1d"),
        (
            nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 3)),
            "one activation",
        ),  # fmt: skip
        (nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Tanh()), "output layer"),
        (nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(3, 3)), "chain"),
    ],
)
def test_unsupported_architectures_raise_type_error_naming_model(model, why):
    with pytest.raises(TypeError, match=rf"model: .*{why}"):
        selfcheck(model.double(), F.cross_entropy, _batch())


def test_unsupported_loss_names_loss_fn():
    with pytest.raises(TypeError, match="loss_fn"):
        selfcheck(_bn_mlp(), lambda o, y: F.cross_entropy(o, y), _batch())
    with pytest.raises(TypeError, match="loss_fn"):
        selfcheck(_bn_mlp(), nn.CrossEntropyLoss(label_smoothing=0.1), _batch())

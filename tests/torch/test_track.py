"""The training-loop tracker against independent references: dense Hessians (eigvalsh of
HVPs on identity columns, not Lanczos), exact traces, and landscape_at."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")

from bntheory.torch import TorchObjective  # noqa: E402
from bntheory.torch.measures import landscape_at  # noqa: E402
from bntheory.torch.track import TrackResult, track, warm_lanczos  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def _model(seed=0, width=8):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, width, bias=False), nn.BatchNorm1d(width), nn.Tanh(),
        nn.Linear(width, width, bias=False), nn.BatchNorm1d(width), nn.Tanh(),
        nn.Linear(width, 3),
    ).double()  # fmt: skip


@pytest.fixture(scope="module")
def run():
    """A user's loop: SGD on one batch, tracked every 3 steps; dense references recorded at
    the same parameters."""
    model = _model(width=5)
    g = torch.Generator().manual_seed(1)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (32,), generator=g)
    lr = 0.4
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    dense, land = [], []
    with track(model, F.cross_entropy, lr=lr, every=3, n_probes=40, tol=1e-10) as tr:
        for step in range(5):
            if step % 3 == 0:
                obj = TorchObjective(model, F.cross_entropy, (X, y))
                dense.append(obj.hessian(obj.x0))
                land.append(landscape_at(obj, lr=lr))
            tr.step((X, y))
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
    return tr.result, dense, land, lr


def test_lambda_max_and_trace_match_dense_hessians(run):
    res, dense, _, _ = run
    assert isinstance(res, TrackResult) and res.status == "completed"
    np.testing.assert_array_equal(res.steps, [0, 3])
    lam = np.array([np.linalg.eigvalsh(H)[-1] for H in dense])
    np.testing.assert_allclose(res.lambda_max, lam, rtol=1e-9)
    tr = np.array([np.trace(H) for H in dense])
    assert np.all(np.abs(res.trace - tr) <= 5 * res.trace_se)  # Hutchinson, 40 probes


def test_landscape_and_edge_of_stability(run):
    res, _, land, lr = run
    np.testing.assert_allclose(res.beta_smoothness, [p.beta_smoothness for p in land], rtol=1e-12)
    np.testing.assert_allclose(res.loss_range, [p.loss_range for p in land], rtol=1e-12)
    assert res.threshold == pytest.approx(2 / lr)
    np.testing.assert_array_equal(res.edge_of_stability, res.lambda_max >= 2 / lr)
    fig = res.plot()
    assert len(fig.axes) == 3


def test_edge_flag_and_momentum_threshold():
    model = _model(seed=2)
    X, y = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 3, (16,))
    obj = TorchObjective(model, F.cross_entropy, (X, y))
    lam = np.linalg.eigvalsh(obj.hessian(obj.x0))[-1]
    hi = track(model, F.cross_entropy, lr=4 / lam, every=1, n_probes=0, landscape=False)
    lo = track(model, F.cross_entropy, lr=1 / lam, every=1, n_probes=0, landscape=False)
    mom = track(model, F.cross_entropy, lr=3 / lam, every=1, n_probes=0, momentum=0.9)
    for t in (hi, lo, mom):
        t.step((X, y))
    assert hi.result.edge_of_stability.tolist() == [True] and hi.result.first_edge_step == 0
    assert lo.result.edge_of_stability.tolist() == [False] and lo.result.first_edge_step is None
    assert mom.result.threshold == pytest.approx(3.8 / (3 / lam))  # (2 + 2 beta) / lr
    assert mom.result.edge_of_stability.tolist() == [False]
    assert lo.result.trace.size == 0 or np.all(np.isnan(lo.result.trace))
    assert lo.result.beta_smoothness.size == 0


def test_warm_start_saves_matvecs_and_model_is_untouched():
    model = _model(seed=3, width=12)
    model.train()
    X, y = torch.randn(24, 4, dtype=torch.float64), torch.randint(0, 3, (24,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tr = track(model, F.cross_entropy, lr=0.1, every=1, n_probes=2, tol=1e-8)
    for _ in range(2):
        tr.step((X, y))
    assert all(torch.equal(before[k], model.state_dict()[k]) for k in before)
    cold, warm = tr.result.matvecs
    assert warm < cold
    assert tr.result.lambda_max[1] == pytest.approx(tr.result.lambda_max[0], rel=1e-12)


def test_warm_lanczos_on_a_known_spectrum():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    lam = np.linspace(-1, 3, 50)
    A = (Q * lam) @ Q.T
    val, vec, used = warm_lanczos(A, rng.standard_normal(50), tol=1e-10)
    assert val == pytest.approx(3.0, rel=1e-12)
    assert abs(vec @ Q[:, -1]) == pytest.approx(1.0, abs=1e-8)
    _, _, again = warm_lanczos(A, vec, tol=1e-10)
    assert again < used


def test_divergence_is_a_status_not_a_crash():
    model = _model(seed=4)
    with torch.no_grad():
        model[-1].weight.fill_(1e308)
    X, y = torch.randn(8, 4, dtype=torch.float64), torch.randint(0, 3, (8,))
    tr = track(model, F.cross_entropy, lr=0.1, every=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tr.step((X, y)) is True
        assert tr.step((X, y)) is False  # no more measurements after divergence
    assert tr.result.status == "diverged" and tr.result.steps.size == 0


def test_bad_input_names_the_argument():
    model = _model()
    with pytest.raises(ValueError, match="lr"):
        track(model, F.cross_entropy, lr=0.0)
    with pytest.raises(ValueError, match="every"):
        track(model, F.cross_entropy, lr=0.1, every=0)
    with pytest.raises(ValueError, match="bn"):
        track(model, F.cross_entropy, lr=0.1, bn="batch")
    with pytest.raises(ValueError, match="momentum"):
        track(model, F.cross_entropy, lr=0.1, momentum=1.0)

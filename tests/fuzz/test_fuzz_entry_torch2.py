"""Fuzzing of the PyTorch adapter's measures (issue 10): the training-loop tracker, the
landscape probes, the papers' measures, the BN-mode report, the layer helpers and the
self-check (skipped without torch).

References are independent of the code under test: a linear least-squares model's loss
and gradient in closed form (NumPy), dense eigenvalues (``numpy.linalg.eigvalsh``) of a
matrix or of the Hessian, the Fisher matrix ``J^T J / N`` from ``torch.func`` Jacobians,
per-layer gradients from plain autograd on a copy of the model. Bad input must raise a
``ValueError``/``TypeError`` naming the argument; no NaN for finite input, no warning.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import (
    assert_no_nan_fields,
    expect_valid_or_named_error,
    fuzz_settings,
    ints_any,
    scalars_any,
)

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")
nn = torch.nn
F = torch.nn.functional


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread (as ``tests/torch``): the models are tiny, and on a loaded
    machine two spinning threads make each product ~100 times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


#: loop counts: small valid ones and bad ones (a huge count is a legitimate, long request)
_counts = st.one_of(st.integers(1, 3), st.sampled_from([0, -1, 2.5, True, None, "3"]))
_lrs = st.one_of(
    st.floats(1e-3, 2.0), st.sampled_from([0.0, -1.0, float("nan"), 1e300]), scalars_any
)
_grids = st.one_of(
    st.lists(st.floats(0.1, 4.0), min_size=1, max_size=4),
    st.sampled_from([[], [0.0], [-1.0], [float("inf")], "abc", 3, None, [[1.0]], ["a"]]),
)


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Tanh(),
        nn.Linear(4, 4, bias=False), nn.BatchNorm1d(4), nn.Tanh(),
        nn.Linear(4, 2),
    ).double()  # fmt: skip


@functools.cache
def _batch(n: int = 8):
    g = torch.Generator().manual_seed(1)
    return (
        torch.randn(n, 3, generator=g, dtype=torch.float64),
        torch.randn(n, 2, generator=g, dtype=torch.float64),
    )


@functools.cache
def _linear():
    torch.manual_seed(2)
    return nn.Linear(3, 2, bias=False).double()


# ---------------------------------------------------------------------- landscape_at
@fuzz_settings(60)
@given(
    _lrs,
    _grids,
    st.one_of(
        st.none(),
        st.lists(st.floats(-3, 3), min_size=6, max_size=6),
        st.sampled_from(["abc", [1.0, 2.0], [[0.0] * 6], [float("nan")] * 6, [1e200] * 6]),
    ),
)
def test_landscape_at_against_closed_form(lr, s_grid, x):
    """Linear model, MSE: ``L(W) = mean((X W^T - Y)^2)``, ``grad = 2/(n k) R^T X``."""
    from bntheory.torch import TorchObjective
    from bntheory.torch.landscape import landscape_at

    X, Y = _batch()
    obj = TorchObjective(_linear(), F.mse_loss, (X, Y))
    pt = expect_valid_or_named_error(
        landscape_at, ["lr", "s_grid", "x"], obj, x, lr=lr, s_grid=s_grid
    )
    if pt is None:
        return
    Xn, Yn = X.numpy(), Y.numpy()

    def loss_grad(w):
        with np.errstate(all="ignore"):
            R = Xn @ w.reshape(2, 3).T - Yn
            return float(np.mean(R**2)), (2.0 / R.size * R.T @ Xn).ravel()

    w0 = obj.x0 if x is None else np.asarray(x, dtype=float)
    L0, g0 = loss_grad(w0)
    if not (np.isfinite(L0) and np.all(np.isfinite(g0))):
        assert pt.loss == np.inf and np.all(pt.losses == np.inf)
        return
    assert np.isclose(pt.loss, L0, rtol=1e-9) and np.isclose(pt.grad_norm, np.linalg.norm(g0))
    for s, Ls in zip(np.asarray(s_grid, float), pt.losses, strict=True):
        with np.errstate(all="ignore"):
            ref, _ = loss_grad(w0 - float(lr) * s * g0)
        if np.isfinite(ref) and ref < 1e300:
            assert np.isclose(Ls, ref, rtol=1e-7), (Ls, ref)
    assert not np.any(np.isnan(pt.losses)) and not np.isnan(pt.beta_smoothness)
    assert pt.loss_range >= 0 and pt.grad_predictiveness >= 0


# ---------------------------------------------------------------------- warm_lanczos
@fuzz_settings(100)
@given(
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.one_of(
        st.just("random"),
        st.sampled_from(["zeros", "nan", "short", "abc", "huge", "tiny"]),
    ),
    st.one_of(st.just(1e-10), st.sampled_from([0.0, 0.5, -1.0, float("nan"), "x"])),
    st.one_of(st.just(400), ints_any),
)
def test_warm_lanczos_against_eigvalsh(d, seed, start, tol, max_matvecs):
    from scipy.sparse.linalg import aslinearoperator

    from bntheory.torch.track import warm_lanczos

    rng = np.random.default_rng(seed)
    B = rng.standard_normal((d, d))
    A = 0.5 * (B + B.T)
    lam = np.linalg.eigvalsh(A)
    v0 = {
        "random": rng.standard_normal(d),
        "zeros": np.zeros(d),
        "nan": np.full(d, np.nan),
        "short": np.ones(d + 1),
        "abc": "abc",
        "huge": rng.standard_normal(d) * 1e300,
        "tiny": rng.standard_normal(d) * 1e-300,
    }[start]
    out = expect_valid_or_named_error(
        warm_lanczos,
        ["v0", "tol", "max_matvecs"],
        aslinearoperator(A),
        v0,
        tol=tol,
        max_matvecs=max_matvecs,
    )
    if out is None:
        return
    theta, y, used = out
    scale = max(1.0, float(np.max(np.abs(lam))))
    assert np.isfinite(theta) and np.isclose(np.linalg.norm(y), 1.0)
    assert theta <= lam[-1] + 1e-10 * scale  # a Ritz value never exceeds lambda_max
    assert np.isclose(theta, y @ A @ y, atol=1e-9 * scale)
    if used < max_matvecs and tol == 1e-10 and start in ("random", "huge", "tiny"):
        assert abs(theta - lam[-1]) <= 1e-6 * scale


def test_warm_lanczos_regression():
    """Regression: a huge start vector leaked an overflow RuntimeWarning, a tiny one was
    called zero (its norm underflowed), a str one raised an unnamed ValueError."""
    import warnings

    from scipy.sparse.linalg import aslinearoperator

    from bntheory.torch.track import warm_lanczos

    op = aslinearoperator(np.diag([3.0, 1.0, -2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isclose(warm_lanczos(op, np.array([1e300, 1e300, 1e300]))[0], 3.0)
        assert np.isclose(warm_lanczos(op, np.array([1e-200, 1e-200, 1e-200]))[0], 3.0)
    with pytest.raises(TypeError, match="v0"):
        warm_lanczos(op, "abc")
    with pytest.raises(ValueError, match="max_matvecs"):
        warm_lanczos(op, np.ones(3), max_matvecs=0)


# ---------------------------------------------------------------------- the tracker
@functools.cache
def _dense_hessian(bn: str):
    from bntheory.torch import TorchObjective

    obj = TorchObjective(_mlp(), F.mse_loss, _batch(), bn=bn)
    H = obj.hessian(obj.x0)
    return H, np.linalg.eigvalsh(0.5 * (H + H.T))


@fuzz_settings(8)
@given(
    st.one_of(st.floats(0.05, 1.0), _lrs),
    st.one_of(st.integers(1, 3), ints_any),
    st.sampled_from(["train", "eval", "frozen", "batch"]),
    st.one_of(st.sampled_from([0, 2, 3]), st.sampled_from([-1, 1, 2.5, True])),
    st.booleans(),
    st.one_of(st.sampled_from([0.0, 0.9]), st.sampled_from([1.0, -0.1, "x"])),
    st.one_of(st.just(1e-8), st.sampled_from([0.0, 1.0, float("nan"), "x"])),
    st.one_of(st.just([0.5, 1.5]), _grids),
)
def test_tracker(lr, every, bn, n_probes, landscape, momentum, tol, s_grid):
    """Three calls on one fixed batch (the weights never change): every measurement sees
    the same Hessian, whose top eigenvalue comes from a dense ``eigvalsh``."""
    import matplotlib.pyplot as plt

    from bntheory.torch.track import Tracker, track

    model = _mlp()
    batch = _batch()
    names = ["lr", "every", "bn", "n_probes", "momentum", "tol", "s_grid"]
    kw = dict(
        lr=lr,
        every=every,
        bn=bn,
        n_probes=n_probes,
        landscape=landscape,
        momentum=momentum,
        tol=tol,
        s_grid=s_grid,
    )
    tr = expect_valid_or_named_error(track, names, model, F.mse_loss, **kw)
    if tr is None:
        return
    assert isinstance(tr, Tracker)
    with tr:
        flags = [expect_valid_or_named_error(tr.step, [], batch) for _ in range(3)]
    res = tr.result
    assert flags == [k % every == 0 for k in range(3)]
    np.testing.assert_array_equal(res.steps, [k for k in range(3) if k % every == 0])
    assert res.status == "completed" and res.bn == bn
    assert np.isclose(res.threshold, (2 + 2 * momentum) / lr)
    H, lam = _dense_hessian(bn)
    scale = max(1.0, np.max(np.abs(lam)))
    assert np.all(res.lambda_max <= lam[-1] + 1e-8 * scale)
    if tol <= 1e-8:
        np.testing.assert_allclose(res.lambda_max, lam[-1], atol=1e-5 * scale)
    np.testing.assert_array_equal(res.edge_of_stability, res.lambda_max >= res.threshold)
    edge = [s for s, e in zip(res.steps, res.edge_of_stability, strict=True) if e]
    assert res.first_edge_step == (int(edge[0]) if edge else None)
    assert np.all(np.isfinite(res.loss)) and np.all(np.isfinite(res.lambda_max))
    if n_probes >= 2:
        assert np.all(np.abs(res.trace - np.trace(H)) <= 8 * res.trace_se + 1e-8 * scale)
    assert (res.beta_smoothness.size > 0) == (landscape and res.steps.size > 0)
    plt.close(res.plot())


def test_tracker_regression():
    """Regression: ``s_grid=3`` raised "'int' object is not iterable", ``tol="x"`` an
    unnamed ValueError; now the tracker's construction names them."""
    from bntheory.torch.track import track

    with pytest.raises(ValueError, match="s_grid"):
        track(_mlp(), F.mse_loss, lr=0.1, s_grid=3)
    with pytest.raises(ValueError, match="tol"):
        track(_mlp(), F.mse_loss, lr=0.1, tol="x")
    # n_probes=1 was accepted, then every measurement raised "n_samples must be >= 2"
    with pytest.raises(ValueError, match="n_probes"):
        track(_mlp(), F.mse_loss, lr=0.1, n_probes=1)


# ---------------------------------------------------------------------- measures
def _autograd_sq_grads(model, batch):
    """Per-module squared gradient norms with plain autograd on a copy (train-mode BN)."""
    m = copy.deepcopy(model).train()
    X, Y = batch
    F.mse_loss(m(X), Y).backward()
    out = {}
    for name, mod in m.named_modules():
        own = list(mod.parameters(recurse=False))
        if own:
            out[name] = sum(float((p.grad.double() ** 2).sum()) for p in own)
    return out


@fuzz_settings(30)
@given(
    st.one_of(
        st.none(),
        st.tuples(st.integers(0, 1), st.integers(1, 2)),
        st.sampled_from([(1, 1), (0, 5), (1.5, 2), "ab", 3, (0,), (True, 1)]),
    )
)
def test_gradient_growth(window):
    from bntheory.torch.measures import gradient_growth

    model, batch = _mlp(), _batch()
    got = expect_valid_or_named_error(
        gradient_growth, ["window"], model, F.mse_loss, batch, window=window
    )
    if got is None:
        return
    ga = got.sq_grad_bn_input
    assert got.bn_layers == ("1", "4") and ga.shape == (2,) and np.all(ga > 0)
    np.testing.assert_allclose(got.ratios, ga[:-1] / ga[1:], rtol=1e-12)
    lo, hi = got.window
    assert np.isclose(got.rate, (ga[lo] / ga[hi]) ** (1.0 / (hi - lo)), rtol=1e-12)
    # weights per layer (BN scale/shift join the layer before): plain autograd
    ref = _autograd_sq_grads(model, batch)
    per_layer = [ref["0"] + ref["1"], ref["3"] + ref["4"], ref["6"]]
    np.testing.assert_allclose(got.sq_grad_weights, per_layer, rtol=1e-9)


def test_gradient_growth_regression():
    """Regression: ``window=(1.5, 2)`` was silently truncated to ``(1, 2)``; ``"ab"`` and
    ``3`` raised errors that did not name ``window``."""
    from bntheory.torch.measures import gradient_growth

    for w in ((1.5, 2), "ab", 3):
        with pytest.raises(TypeError, match="window"):
            gradient_growth(_mlp(), F.mse_loss, _batch(), window=w)


@fuzz_settings(8)
@given(
    st.sampled_from(["gaussian", "categorical", "poisson"]),
    st.sampled_from(["true", "empirical", "exact"]),
    st.sampled_from(["train", "eval", "frozen", "x"]),
)
def test_fisher_spectrum_against_dense_jacobian(output, kind, bn):
    from bntheory.torch.measures import fisher_spectrum

    model = _mlp()
    X, Y = _batch()
    batch = (X, torch.arange(X.shape[0]) % 2) if output == "categorical" else (X, Y)
    got = expect_valid_or_named_error(
        fisher_spectrum, ["output", "kind", "bn"], model, batch, output=output, kind=kind, bn=bn
    )
    if got is None:
        return
    assert np.isfinite(got.lambda_max) and np.isfinite(got.trace) and got.dim == 54
    assert np.isclose(got.mean_eigenvalue, got.trace / got.dim)
    if not (output == "gaussian" and kind == "true" and bn != "frozen"):
        assert got.lambda_max >= -1e-12 and got.trace >= -1e-12
        return
    # reference: F = J^T J / N with J the Jacobian of the (batch-coupled) outputs
    m = copy.deepcopy(model)
    m.train() if bn == "train" else m.eval()
    params = {k: v.detach() for k, v in m.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in m.named_buffers()}

    def out(p):
        b = {k: v.clone() for k, v in buffers.items()}
        return torch.func.functional_call(m, (p, b), (X,)).reshape(-1)

    jac = torch.func.jacrev(out)(params)
    J = torch.cat([jac[k].reshape(jac[k].shape[0], -1) for k in params], dim=1).numpy()
    Fm = J.T @ J / X.shape[0]
    lam = np.linalg.eigvalsh(Fm)
    assert np.isclose(got.lambda_max, lam[-1], rtol=1e-8)
    assert np.isclose(got.trace, np.trace(Fm), rtol=1e-8)


@fuzz_settings(15)
@given(st.one_of(st.floats(1e-3, 1.0), _lrs), _counts)
def test_scale_invariance(lr, steps):
    """Arora, Li & Lyu (2019, Lemma 2.4): a BN-fed weight row is orthogonal to its
    gradient; checked here on a model whose BN has eps tiny (exact invariance)."""
    from bntheory.torch.measures import scale_invariance

    model = _mlp()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.eps = 1e-14
    got = expect_valid_or_named_error(
        scale_invariance, ["lr", "steps"], model, F.mse_loss, _batch(), lr=lr, steps=steps
    )
    if got is None:
        return
    assert got.layers == ("0", "3")
    assert got.weight_norms.shape[1] == 2 and got.weight_norms.shape[0] <= steps + 1
    assert np.all(got.orthogonality[np.isfinite(got.orthogonality)] < 1e-6)
    w = np.concatenate([model[0].weight.detach().numpy().ravel()])
    assert np.isclose(got.weight_norms[0, 0], np.linalg.norm(w))


def test_scale_invariance_needs_a_bn_fed_weight():
    from bntheory.torch.measures import scale_invariance

    with pytest.raises(ValueError, match="BN"):
        scale_invariance(nn.Linear(3, 2).double(), F.mse_loss, _batch(), lr=0.1)


@fuzz_settings(10)
@given(
    st.one_of(st.floats(1e-3, 0.5), _lrs),
    _counts,
    st.one_of(st.sampled_from([None, 4]), ints_any),
    st.one_of(st.integers(1, 2), ints_any),
    st.booleans(),
)
def test_santurkar_landscape_and_ics(lr, steps, batch_size, every, which):
    from bntheory.torch.measures import internal_covariate_shift, santurkar_landscape

    X, Y = _batch(8)
    names = ["lr", "steps", "batch_size", "every"]
    fn = santurkar_landscape if which else internal_covariate_shift
    got = expect_valid_or_named_error(
        fn,
        names,
        _mlp(),
        F.mse_loss,
        X,
        Y,
        lr=lr,
        steps=steps,
        batch_size=batch_size,
        every=every,
        rng=0,
    )
    if got is None:
        return
    assert got.status in ("completed", "diverged")
    assert_no_nan_fields(got)


# ---------------------------------------------------------------------- layers, report
def test_layer_helpers_partition_the_flat_vector():
    from bntheory.torch import TorchObjective
    from bntheory.torch._layers import bn_fed_units, flat_index, layer_groups

    obj = TorchObjective(_mlp(), F.mse_loss, _batch())
    groups = layer_groups(obj)
    assert [g for g, _ in groups] == ["0", "3", "6"]
    assert sorted(p for _, ps in groups for p in ps) == sorted(obj.names)
    idx = np.concatenate([flat_index(obj, ps) for _, ps in groups])
    np.testing.assert_array_equal(np.sort(idx), np.arange(obj.dim))
    fed = bn_fed_units(obj)
    assert [(f["module"], f["bn"]) for f in fed] == [("0", "1"), ("3", "4")]
    w0 = flat_index(obj, ["0.weight"])
    np.testing.assert_array_equal(fed[0]["units"], w0.reshape(4, 3))


@fuzz_settings(3)
@given(
    st.one_of(
        st.sampled_from([("eval",), ("train", "eval", "frozen")]),
        st.sampled_from([("batch",), "train", None, 3]),
    ),
    st.sampled_from([0, 2]),
)
def test_bn_mode_report(modes, slq_runs):
    import matplotlib.pyplot as plt

    from bntheory.torch.report import bn_mode_report

    rep = expect_valid_or_named_error(
        bn_mode_report,
        ["modes"],
        _mlp(),
        F.mse_loss,
        _batch(),
        modes=modes,
        per_layer=False,
        n_probes=2,
        slq_runs=slq_runs,
        slq_steps=6,
    )
    if rep is None:
        return
    measured = ("train", *[m for m in modes if m != "train"])  # train is always measured
    assert [r["bn"] for r in rep.rows] == list(measured)
    for m in measured:
        row = rep.row("all", m)
        assert row["dim"] == 54 and np.isfinite(row["loss"])
        assert row["lambda_min"] <= row["lambda_max"]
        if m == "train":
            assert np.isclose(row["cos_to_train"], 1.0)
    H, lam = _dense_hessian("train")
    assert np.isclose(rep.row("all", "train")["lambda_max"], lam[-1], rtol=1e-6)
    with pytest.raises(KeyError, match="nope"):
        rep.row("nope", "train")
    assert rep.table().count("\n") == len(rep.rows) + 1
    assert set(rep.densities) == (set(measured) if slq_runs else set())
    plt.close(rep.figure())


def test_bn_mode_report_regression():
    """Regression: ``modes=None`` raised "Value after * must be an iterable"; the figure of
    a report without densities leaked matplotlib's "No artists with labels" UserWarning."""
    import warnings

    import matplotlib.pyplot as plt

    from bntheory.torch.report import bn_mode_report

    with pytest.raises(TypeError, match="modes"):
        bn_mode_report(_mlp(), F.mse_loss, _batch(), modes=None)
    rep = bn_mode_report(
        _mlp(), F.mse_loss, _batch(), modes=(), per_layer=False, n_probes=2, slq_runs=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plt.close(rep.figure())


@fuzz_settings(6)
@given(
    st.one_of(st.integers(1, 3), _counts),
    st.one_of(st.just(1e-8), st.sampled_from([0.0, -1.0, float("nan"), "x"])),
    st.integers(0, 5),
)
def test_selfcheck(n_vectors, tol, rng):
    from bntheory.torch.selfcheck import SelfCheckReport, selfcheck

    rep = expect_valid_or_named_error(
        selfcheck,
        ["n_vectors", "tol", "rng"],
        _mlp(),
        F.mse_loss,
        _batch(),
        n_vectors=n_vectors,
        tol=tol,
        rng=rng,
    )
    if rep is None:
        return
    assert isinstance(rep, SelfCheckReport)
    worst = max(rep.loss_error, rep.grad_error, rep.hvp_error, rep.eval_loss_error or 0.0)
    assert worst < 1e-12 and rep.passed == (worst <= tol)
    assert str(rep)


def test_selfcheck_regression():
    """Regression: ``n_vectors=2.0`` raised "'float' object cannot be interpreted as an
    integer", ``n_vectors=0`` passed without checking any Hessian-vector product, and
    ``tol="x"`` raised an unnamed TypeError."""
    from bntheory.torch.selfcheck import selfcheck

    for kw, exc in (
        ({"n_vectors": 2.0}, TypeError),
        ({"n_vectors": 0}, ValueError),
        ({"tol": "x"}, ValueError),
    ):
        with pytest.raises(exc, match=next(iter(kw))):
            selfcheck(_mlp(), F.mse_loss, _batch(), **kw)


def test_selfcheck_unsupported_model_names_model():
    from bntheory.torch.selfcheck import selfcheck

    class Odd(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="model"):
        selfcheck(Odd(), F.mse_loss, _batch())

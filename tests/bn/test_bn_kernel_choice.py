"""Choosing the (N, C) BN kernels: ``bntheory.bn.use_kernels``. The compiled kernels agree
with the NumPy kernels and with torch's native batch norm (an independent implementation);
the choice is scoped to a context, named when wrong, and never reaches the claim ledger."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import bntheory.bn as bn
import bntheory.bn._kernels as _kernels
from bntheory.bn import batch_norm_backward, batch_norm_forward, current_kernels, use_kernels


def _fwd_bwd(x, gamma, beta, dy, eps=1e-5):
    y, cache = batch_norm_forward(x, gamma, beta, eps)
    return (y, *batch_norm_backward(dy, cache))


@pytest.mark.parametrize("name", ["numba ", "NUMBA", "torch", 3, None])
def test_unknown_kernels_are_named(name):
    with pytest.raises(ValueError, match="name must be one of"):
        with use_kernels(name):
            pass


def test_missing_numba_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "bntheory.bn._numba", raising=False)
    monkeypatch.setattr(_kernels, "_LOADED", {})
    with pytest.raises(ModuleNotFoundError, match=r"bntheory\[fast\]"):
        with use_kernels("numba"):
            pass
    assert current_kernels() == "numpy"


def test_choice_is_scoped_to_the_block_and_the_thread():
    pytest.importorskip("numba")
    seen = []
    assert current_kernels() == "numpy"
    with use_kernels("numba") as name:
        assert name == current_kernels() == "numba"
        t = threading.Thread(target=lambda: seen.append(current_kernels()))
        t.start()
        t.join()
        with use_kernels("numpy"):
            assert current_kernels() == "numpy"
        assert current_kernels() == "numba"
    assert current_kernels() == "numpy" and seen == ["numpy"]
    with pytest.raises(RuntimeError), use_kernels("numba"):
        raise RuntimeError
    assert current_kernels() == "numpy"


@pytest.mark.parametrize("shape", [(2, 1), (32, 64), (256, 4096), (1000, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_kernels_agree_with_torch_native_batch_norm(shape, dtype):
    pytest.importorskip("numba")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 2.0 + 5.0).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    gamma = (1.0 + 0.3 * rng.standard_normal(shape[1])).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    with use_kernels("numba"):
        got = _fwd_bwd(x, gamma, beta, dy)
    xt, dyt, gt, bt = (torch.from_numpy(a).double() for a in (x, dy, gamma, beta))
    y, mean, invstd = torch.ops.aten.native_batch_norm(xt, gt, bt, None, None, True, 0.1, 1e-5)
    dx, dg, db = torch.ops.aten.native_batch_norm_backward(
        dyt, xt, gt, None, None, mean, invstd, True, 1e-5, [True, True, True]
    )
    tol = 1e-12 if dtype == np.float64 else 3e-6
    for a, ref in zip(got, (y, dx, dg, db), strict=True):
        ref = ref.numpy()
        assert a.shape == ref.shape
        assert np.max(np.abs(a - ref)) <= tol * max(1.0, np.max(np.abs(ref)))
    assert got[0].dtype == got[1].dtype == dtype


def test_compiled_and_numpy_kernels_agree_on_an_mlp_step_and_hvp():
    pytest.importorskip("numba")
    from bntheory.nets import MLP

    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((64, 10)), rng.standard_normal((64, 3))
    net = MLP([10, 32, 32, 3], bn=True, rng=0)
    v = rng.standard_normal(net.loss_and_grad(X, Y)[1].size)
    loss0, g0 = net.loss_and_grad(X, Y)
    h0 = net.hvp(X, Y, v)
    with use_kernels("numba"):
        loss1, g1 = net.loss_and_grad(X, Y)
        h1 = net.hvp(X, Y, v)
    assert abs(loss1 - loss0) <= 1e-13 * abs(loss0)
    assert np.max(np.abs(g1 - g0)) <= 1e-12 * np.max(np.abs(g0))
    assert np.max(np.abs(h1 - h0)) <= 1e-12 * np.max(np.abs(h0))  # the HVP's R-op too


def test_the_claim_ledger_runs_on_the_numpy_kernels(monkeypatch):
    pytest.importorskip("numba")
    import dataclasses

    from bntheory.claims.registry import all_claims
    from bntheory.claims.runner import run_claim

    seen = []

    def check(quick, rng):
        seen.append(current_kernels())
        raise RuntimeError("stop")

    base = next(c for c in all_claims() if c.evidence != "none")
    claim = dataclasses.replace(base, check=check)
    with use_kernels("numba"):
        res = run_claim(claim)
    assert seen == ["numpy"] and res.status == "error"
    assert bn.KERNELS == ("numpy", "numba")


def test_compiled_float32_reductions_use_float64_products():
    """Regression (found by the fuzz test): sum(dy * (x - mean)) multiplied float32 values
    in float32, so 1e38-scale centred input overflowed where the NumPy kernels (float64
    products) do not."""
    pytest.importorskip("numba")
    x = np.array([[0.0], [3e38], [0.0]], np.float32)
    dy = np.array([[0.5], [-1.8], [2.0]], np.float32)  # -1.8 * 2e38 overflows float32
    outs = {}
    for name in ("numpy", "numba"):
        with use_kernels(name):
            outs[name] = _fwd_bwd(x, np.zeros(1), np.zeros(1), dy, eps=0.0)
    xc = x.astype(np.float64) - x.astype(np.float64).mean()
    dgamma = float(np.sum(dy * xc) / np.sqrt(np.mean(xc**2)))  # float64 reference
    for name, (_, dx, dg, db) in outs.items():
        assert np.isclose(dg[0], dgamma, rtol=1e-6), name
        assert np.isclose(db[0], 0.7, rtol=1e-6) and np.all(dx == 0.0), name  # gamma = 0

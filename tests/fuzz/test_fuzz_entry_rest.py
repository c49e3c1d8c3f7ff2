"""Fuzz the public entry points the other fuzz files left out (issue 10): the exception
classes, BN's population statistics, the certificate of the matrix-free kappa*, the closed
forms of :class:`~bntheory.nets.bnquad.BNQuadratic`, two accessors and the protocols.

Each property is checked against an independent reference (NumPy statistics, dense
eigendecompositions, random points of the constraint set).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz._harness import (
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    spd_matrices,
)


# ---------------------------------------------------------------------- exception classes
def test_exception_classes_are_named_value_or_os_errors():
    from bntheory.bn._module import BackwardBeforeForwardError
    from bntheory.claims.rule import Unavailable
    from bntheory.cli.common import UsageError
    from bntheory.nets._dataset import DataChecksumError, DataUnavailable
    from bntheory.problems.gaussian_expectations import WOverflowError
    from bntheory.sweep.processes import Terminated

    for cls in (BackwardBeforeForwardError, WOverflowError):
        err = cls("w: message")
        assert isinstance(err, ValueError) and "message" in str(err) and repr(err)
    assert issubclass(DataChecksumError, DataUnavailable)
    for cls in (Unavailable, UsageError, DataUnavailable, DataChecksumError, Terminated):
        err = cls("reason")
        assert isinstance(err, BaseException) and "reason" in str(err) and repr(err)


# ---------------------------------------------------------------------- BN population statistics
@fuzz_settings(60)
@given(
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
    st.one_of(st.none(), st.sampled_from(["abc", [[1.0]], [None], 3.0, [np.ones((2, 5))]])),
)
def test_population_statistics_against_numpy(n_batches, seed, junk):
    from bntheory.bn import BatchNorm

    rng = np.random.default_rng(seed)
    C = 3
    batches = [rng.standard_normal((4, C)) * 2.0 + 1.0 for _ in range(n_batches)]
    bn = BatchNorm(C)
    mean, var = bn.population_statistics(batches)
    # Ioffe & Szegedy (2015), Algorithm 2 lines 8-10: E[x] = mean of the batch means,
    # Var[x] = m/(m-1) * mean of the batch variances
    want_mean = np.mean([b.mean(axis=0) for b in batches], axis=0)
    want_var = 4 / 3 * np.mean([b.var(axis=0) for b in batches], axis=0)
    assert np.allclose(mean, want_mean, rtol=1e-12, atol=1e-14)
    assert np.allclose(var, want_var, rtol=1e-12)
    assert np.array_equal(bn.running_mean, mean) and np.array_equal(bn.running_var, var)
    if junk is not None:
        got = expect_valid_or_named_error(
            BatchNorm(C).population_statistics, ["batches", "x", "channel"], junk
        )
        assert got is None or all(np.all(np.isfinite(a)) for a in got)


# ---------------------------------------------------------------------- kappa* certificate
@fuzz_settings(25)
@given(st.integers(3, 6), st.data())
def test_effective_conditioning_certificate(d, data):
    from bntheory.measures.matfree import effective_conditioning

    H = data.draw(spd_matrices(d, log10_scale=(-2, 2), log10_kappa=(0, 4)))
    w = data.draw(float_arrays((d,), elements=st.floats(-2, 2)))
    if not np.linalg.norm(w) > 1e-3:
        return
    res = expect_valid_or_named_error(effective_conditioning, ["w_star", "H"], H, w)
    if res is None:
        return
    # the certificate is the larger of the two relative eigen-residuals; kappa* against the
    # dense path (eigvalsh of the formed H*, whose null direction is H^-1 u = w)
    from bntheory.measures import effective_hessian

    assert math.isfinite(res.residual) and 0 <= res.residual < 1e-6
    ev = np.linalg.eigvalsh(effective_hessian(H, w))
    assert res.kappa_star == pytest.approx(ev[-1] / ev[1], rel=1e-6)


# ---------------------------------------------------------------------- BNQuadratic closed forms
@fuzz_settings(40)
@given(st.integers(3, 6), st.integers(0, 2**32 - 1), st.floats(0.3, 3.0))
def test_bnquadratic_complement_basis_and_global_minimizer(m, seed, gamma):
    from bntheory.nets.bnquad import BNQuadratic

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, m))
    q = BNQuadratic(A + A.T, rng.standard_normal(m), gamma=gamma)
    y = rng.standard_normal(m)
    if not np.ptp(y) > 1e-6:
        return
    B = q.complement_basis(y)
    yh = (y - y.mean()) / y.std()
    assert B.shape == (m, m - 2) and np.allclose(B.T @ B, np.eye(m - 2), atol=1e-10)
    assert np.allclose(B.T @ np.ones(m), 0, atol=1e-10) and np.allclose(B.T @ yh, 0, atol=1e-9)
    got = expect_valid_or_named_error(q.global_minimizer, ["b"])
    if got is None:  # the hard case: b orthogonal to the lowest eigenvector
        return
    y_star, _mu = got
    # y* lies on the constraint set and no random point of it is lower
    assert abs(y_star.sum()) < 1e-8 * np.sqrt(m) * gamma
    assert y_star @ y_star == pytest.approx(m * gamma**2, rel=1e-9)
    L_star = q.loss(y_star)
    Z = rng.standard_normal((2000, m))
    Z -= Z.mean(axis=1, keepdims=True)
    Z *= np.sqrt(m) * gamma / np.linalg.norm(Z, axis=1, keepdims=True)
    sampled = 0.5 * np.einsum("ni,ij,nj->n", Z, q.H, Z) + Z @ q.b
    assert L_star <= sampled.min() + 1e-9 * (1 + abs(L_star))


# ---------------------------------------------------------------------- accessors, protocols
@fuzz_settings(30)
@given(st.one_of(ints_any, st.integers(-2, 4), any_array_like()))
def test_mlp_gamma_accessor(layer):
    from bntheory.nets import MLP

    net = MLP([3, 4, 4, 2], bn=[0], rng=0)
    g = expect_valid_or_named_error(net.gamma, ["layer"], layer)
    if g is not None:
        assert g.shape == (4,) and np.all(np.isfinite(g))


def test_torch_objective_groups():
    torch = pytest.importorskip("torch")
    from bntheory.torch import TorchObjective

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.Tanh(), torch.nn.Linear(3, 1)
    )
    X, y = np.random.default_rng(0).standard_normal((6, 2)), np.zeros((6, 1))
    obj = TorchObjective(model, torch.nn.functional.mse_loss, (X, y), bn="train")
    groups = obj.groups()
    assert sorted(groups) == ["0", "1", "3"]
    assert [n for names in groups.values() for n in names] == list(obj.names)


def test_problems_and_solvers_satisfy_the_protocols():
    from bntheory.problems import LeastSquares, Normalized
    from bntheory.protocols import Problem, QuadraticProblem, Solver
    from bntheory.solvers import BNGD, GradientDescent

    ls = LeastSquares(np.diag([1.0, 2.0]), [1.0, 1.0], 3.0)
    assert isinstance(ls, Problem) and isinstance(ls, QuadraticProblem)
    assert isinstance(Normalized(ls), Problem)
    assert isinstance(GradientDescent(0.1), Solver) and isinstance(BNGD(1.0, 1.0), Solver)
    assert not isinstance(object(), Problem) and not isinstance(3, Solver)


def test_fisher_gram_of_an_overflowing_output_names_x():
    """A batch near 1e307 overflows the ReLU net's output: the error blamed an internal
    argument ``a`` (found by the fuzz run of test_fisher_gram)."""
    from bntheory.nets.karakida2019 import fisher_gram, fisher_lambda_max_all, relu_weights

    Ws = relu_weights([2, 3, 1], np.random.default_rng(60))
    X = np.full((4, 2), -3.95079581e307)
    for fn in (fisher_gram, fisher_lambda_max_all):
        with pytest.raises(ValueError, match="X, Ws: the network output overflows"):
            fn(Ws, X)

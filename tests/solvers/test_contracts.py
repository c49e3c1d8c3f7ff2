"""Contracts of issue 11: Problem / Solver protocols, read-only results, one status word."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from bntheory.problems import EmpiricalHalfspace, GaussianHalfspace, LeastSquares, Normalized
from bntheory.protocols import Problem, QuadraticProblem, Solver
from bntheory.solvers import BNGD, GDNP, GradientDescent, Result, solve
from bntheory.status import DIVERGENCE_FACTOR, Status


def _problems():
    ls = LeastSquares.ill_conditioned(5, 10, rng=0)
    X = np.random.default_rng(1).standard_normal((30, 5))
    return [
        ls,
        LeastSquares.structured(50, 10, rng=0),
        GaussianHalfspace.from_moments(ls.u, ls.H),
        EmpiricalHalfspace(X, np.sign(X[:, 0] + 0.1)),
        Normalized(ls),
    ]


@pytest.mark.parametrize("prob", _problems(), ids=lambda p: type(p).__name__)
def test_problems_satisfy_the_protocol(prob):
    assert isinstance(prob, Problem)


def test_quadratic_protocol_and_solvers():
    ls = LeastSquares.ill_conditioned(5, 10, rng=0)
    assert isinstance(ls, QuadraticProblem)
    assert not isinstance(GaussianHalfspace.from_moments(ls.u, ls.H), QuadraticProblem)
    for s in (GradientDescent(0.1), BNGD(0.5), GDNP()):
        assert isinstance(s, Solver)
    assert not isinstance(object(), Solver)


def test_result_arrays_and_history_are_read_only():
    ls = LeastSquares.ill_conditioned(6, 10, rng=0)
    res = solve(ls, BNGD(0.5), (1.0, np.ones(6)), max_steps=20, tol=0.0, keep="all")
    for arr in (res.x, res.params, res.losses, res.gaps, res.grad_norms, res.iterates):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        res.history["eps_hat"][0] = 1.0
    with pytest.raises(TypeError, match="read-only"):
        res.history["new"] = np.zeros(3)
    with pytest.raises(TypeError, match="read-only"):
        res.history.update(a=1)
    with pytest.raises(TypeError, match="read-only"):
        del res.history["a"]
    # a dict for every reader: copies, pickles and deep-copies intact
    assert dict(res.history).keys() == res.history.keys()
    back = pickle.loads(pickle.dumps(res))
    assert isinstance(back, Result) and back.history.keys() == res.history.keys()
    np.testing.assert_array_equal(back.history["a"], res.history["a"])
    assert copy.deepcopy(res.history).keys() == res.history.keys()


def test_status_is_the_enum_and_the_old_words():
    ls = LeastSquares.ill_conditioned(4, 10, rng=0)
    res = solve(ls, GradientDescent("1/L"), np.ones(4), max_steps=3, tol=0.0)
    assert res.status is Status.MAX_STEPS and res.status == "max_steps"
    assert f"{res.status}" == "max_steps"
    div = solve(ls, GradientDescent(5.0), np.ones(4), max_steps=500, tol=0.0)
    assert div.status is Status.DIVERGED and div.status == "diverged"
    # the one divergence rule of bntheory.status (1e12 x the initial loss)
    assert f"{DIVERGENCE_FACTOR:.0e}" in div.message or "non-finite" in div.message
    conv = solve(ls, GradientDescent("2/(L+mu)"), np.ones(4), max_steps=5000, tol=1e-10)
    assert conv.status is Status.CONVERGED and conv.success


def test_solvers_module_uses_the_shared_divergence_factor():
    from bntheory.solvers import _base

    assert _base.DIVERGENCE_FACTOR is DIVERGENCE_FACTOR


def test_x_is_the_effective_weight_params_the_raw_ones():
    ls = LeastSquares.ill_conditioned(5, 10, rng=2)
    w0 = np.arange(1.0, 6.0)
    res = solve(ls, BNGD(0.3), (2.0, w0), max_steps=7, tol=0.0)
    a, w = res.params[0], res.params[1:]
    # independent: the effective weight a w / ||w||_H from the raw parameters
    np.testing.assert_allclose(res.x, a * w / np.sqrt(w @ ls.H @ w), rtol=1e-12)
    np.testing.assert_allclose(res.losses[-1], ls.loss(res.x), rtol=1e-12)
    gd = solve(ls, GradientDescent(0.5), w0, max_steps=3, tol=0.0)
    np.testing.assert_array_equal(gd.x, gd.params)  # GD: both are w

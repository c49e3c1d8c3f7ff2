"""solve(..., keep=, every=) and the preallocated per-step records (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.measures.smoothness import trajectory_smoothness
from bntheory.problems import LeastSquares
from bntheory.solvers import GradientDescent, solve


@pytest.fixture
def ls():
    return LeastSquares.ill_conditioned(6, 10, rng=0)


def _gd_reference(ls, w0, lr, n):
    # independent recursion w_{k+1} = w_k - lr (H w_k - u)
    ws = [np.array(w0, float)]
    for _ in range(n):
        ws.append(ws[-1] - lr * (ls.H @ ws[-1] - ls.u))
    return np.array(ws)


def test_keep_last_is_default_and_stores_no_iterates(ls):
    res = solve(ls, GradientDescent(0.5), np.ones(6), max_steps=40, tol=0)
    assert res.iterates is None and res.iterate_steps is None
    assert res.losses.shape == (41,)


def test_keep_all_matches_reference_recursion(ls):
    w0 = np.arange(6.0)
    res = solve(ls, GradientDescent(0.5), w0, max_steps=30, tol=0, keep="all")
    ref = _gd_reference(ls, w0, 0.5, 30)
    np.testing.assert_allclose(res.iterates, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res.iterate_steps, np.arange(31))
    np.testing.assert_array_equal(res.x, res.iterates[-1])


def test_every_k_keeps_multiples_and_last(ls):
    w0 = np.ones(6)
    res = solve(ls, GradientDescent(0.5), w0, max_steps=23, tol=0, every=5)
    np.testing.assert_array_equal(res.iterate_steps, [0, 5, 10, 15, 20, 23])
    ref = _gd_reference(ls, w0, 0.5, 23)
    np.testing.assert_allclose(res.iterates, ref[[0, 5, 10, 15, 20, 23]], rtol=1e-12, atol=1e-12)


def test_records_grow_past_initial_capacity(ls):
    res = solve(ls, GradientDescent(0.1), np.ones(6), max_steps=3000, tol=0)
    assert res.losses.shape == (3001,) and res.n_steps == 3000
    # the loss is J* + gap: the recorded arrays are the per-step values, in order
    np.testing.assert_allclose(res.losses - ls.J_star, res.gaps, rtol=1e-9, atol=1e-15)
    assert np.all(np.diff(res.gaps) <= 0)


def test_bad_keep_and_every(ls):
    with pytest.raises(ValueError, match="keep"):
        solve(ls, GradientDescent(0.5), np.ones(6), keep="some")
    with pytest.raises(ValueError, match="every"):
        solve(ls, GradientDescent(0.5), np.ones(6), every=0)
    with pytest.raises(TypeError, match="every"):
        solve(ls, GradientDescent(0.5), np.ones(6), every=1.5)


def test_trajectory_smoothness_asks_for_iterates(ls):
    res = solve(ls, GradientDescent(0.5), np.ones(6), max_steps=10, tol=0)
    with pytest.raises(ValueError, match="keep='all'"):
        trajectory_smoothness(ls, res)
    res = solve(ls, GradientDescent(0.5), np.ones(6), max_steps=10, tol=0, keep="all")
    prof = trajectory_smoothness(ls, res)
    assert prof.max_ratio <= np.linalg.eigvalsh(ls.H)[-1] * (1 + 1e-12)

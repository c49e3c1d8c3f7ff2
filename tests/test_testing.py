"""pytest helpers: pass on true statements, fail with measured-vs-stated messages."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.problems import LeastSquares
from bntheory.solvers import GradientDescent, solve
from bntheory.testing import (
    assert_bound_holds,
    assert_converges,
    assert_rate_at_most,
    assert_rate_close,
    fit_rate,
)


def test_fit_rate_exact_geometric():
    assert fit_rate(0.9 ** np.arange(100)).rate == pytest.approx(0.9, rel=1e-12)
    assert fit_rate(0.5 ** np.arange(40), (5, 30)).window == (5, 30)


def test_assert_rate_at_most():
    seq = 0.9 ** np.arange(80)
    assert_rate_at_most(seq, 0.9, rtol=1e-9)
    with pytest.raises(AssertionError, match=r"measured rate 0\.9.*stated 0\.8"):
        assert_rate_at_most(seq, 0.8)


def test_assert_rate_close_and_converges():
    ls = LeastSquares.ill_conditioned(5, 4, "two-cluster", rng=0)
    res = solve(ls, GradientDescent(1.0), np.zeros(5), max_steps=500)
    assert_converges(res, gap_tol=1e-20)
    assert_rate_close(res, (1 - 1 / 4) ** 2, rtol=1e-3)
    with pytest.raises(AssertionError, match="stated"):
        assert_rate_close(res, 0.1, rtol=1e-3)
    bad = solve(ls, GradientDescent(10.0), np.zeros(5), max_steps=500)
    with pytest.raises(AssertionError, match="diverged"):
        assert_converges(bad)


def test_assert_bound_holds():
    assert assert_bound_holds([1.0, 2.0], [2.0, 2.0]) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match=r"index 1: measured 3 > stated 2"):
        assert_bound_holds([1.0, 3.0], [2.0, 2.0])
    assert_bound_holds([1.0, 2.1], 2.0, rtol=0.1)

"""Yang et al. (2019) gradient explosion: Monte Carlo against closed forms written here
independently from THEORY.md Sec. 7 (not imported from the package)."""

from __future__ import annotations

from math import acos, pi, sqrt

import pytest

from bntheory.nets.yang import yang_gradient_rate


def _J(c: float) -> float:
    # arc-cosine kernel of ReLU, J(c) = (sqrt(1-c^2) + (pi - arccos c) c) / pi
    return (sqrt(1 - c * c) + (pi - acos(c)) * c) / pi


def _relu_rate(B: int) -> float:
    # Theorem 8 with alpha = 1: lambda = (B-2 + J'(c) + J(c)) / ((B-3)(1 - J(c))), c = -1/(B-1)
    c = -1.0 / (B - 1)
    Jp = (pi - acos(c)) / pi
    return (B - 2 + Jp + _J(c)) / ((B - 3) * (1 - _J(c)))


def _linear_rate(B: int) -> float:
    return (B - 2) / (B - 3)


def test_reference_formula_values():
    # THEORY.md Sec. 7 table: B=32 -> 1.522, B -> inf -> pi/(pi-1)
    assert _relu_rate(32) == pytest.approx(1.522, abs=5e-4)
    assert _relu_rate(10**6) == pytest.approx(pi / (pi - 1), rel=1e-5)


# Tolerance: 3 standard errors (Monte Carlo) plus the finite-width bias documented in
# THEORY.md Sec. 7 (negative, about 0.3-0.6% at N = 500-1000, shrinking like 1/N; we allow
# 3/N = 1% at N = 300). The bias is one-sided, so the test allows it only downward.
@pytest.mark.parametrize("act,B", [("relu", 16), ("relu", 32), ("linear", 16)])
def test_yang_rate_matches_closed_form(act, B):
    N = 300
    f = _relu_rate(B) if act == "relu" else _linear_rate(B)
    r = yang_gradient_rate(
        act, width=N, depth=30, layers=(5, 25), batch_size=B, n_networks=8, rng=11, formula=f
    )
    gap = r.measured - f
    assert -3 * r.stderr - 3.0 / N * f <= gap <= 3 * r.stderr, r
    # the weight gradients grow at the same rate (THEORY.md Sec. 7)
    assert abs(r.measured_weights - r.measured) <= 0.01 * f


@pytest.mark.slow
@pytest.mark.parametrize(
    "act,B", [("relu", 8), ("relu", 32), ("relu", 64), ("linear", 8), ("linear", 32)]
)
def test_yang_rate_width_1000(act, B):
    N = 1000
    f = _relu_rate(B) if act == "relu" else _linear_rate(B)
    r = yang_gradient_rate(act, width=N, depth=50, batch_size=B, n_networks=16, rng=3, formula=f)
    assert -3 * r.stderr - 3.0 / N * f <= r.measured - f <= 3 * r.stderr, r


def test_yang_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        yang_gradient_rate("relu", width=10, depth=5, batch_size=3, layers=(1, 3))
    with pytest.raises(ValueError, match="layers"):
        yang_gradient_rate("relu", width=10, depth=5, batch_size=8, layers=(1, 9))
    with pytest.raises(ValueError, match="activation"):
        yang_gradient_rate("elu", width=10, depth=5, batch_size=8, layers=(1, 3))

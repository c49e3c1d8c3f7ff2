"""Yang et al. (2019) gradient explosion.

The library's prediction (:func:`bntheory.nets.yang.yang_formula`) is checked against
Theorem 8's expression evaluated with the ReLU kernel ``J`` and its derivative ``J'``
computed here by numerical quadrature of the Gaussian expectations that define them (not by
their arc-cosine closed form, which the library uses); the Monte Carlo measurement
(:func:`bntheory.nets.yang.yang_gradient_rate`) is checked against that same independent
reference.
"""

from __future__ import annotations

from math import pi

import numpy as np
import pytest
from scipy import integrate, stats

from bntheory.nets.yang import YangResult, yang_formula, yang_gradient_rate


def _relu_kernels(c: float) -> tuple[float, float]:
    """``J(c) = E[relu(u) relu(v)] / E[relu(u)^2]`` and ``J'(c) = E[1{u>0} 1{v>0}] /
    E[1{u>0}^2]`` for standard Gaussians ``(u, v)`` with correlation ``c``, by quadrature
    over ``u`` (``v = c u + s z``, ``s = sqrt(1 - c^2)``, the inner expectation over ``z``
    in closed form for a Gaussian)."""
    s = np.sqrt(1.0 - c * c)

    def inner_relu(u):  # E_z[relu(c u + s z)] = m Phi(m/s) + s phi(m/s), m = c u
        m = c * u
        return m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s)

    e_relu = integrate.quad(lambda u: stats.norm.pdf(u) * u * inner_relu(u), 0, np.inf,
                            epsabs=1e-14, epsrel=1e-12)[0]  # fmt: skip
    e_step = integrate.quad(lambda u: stats.norm.pdf(u) * stats.norm.cdf(c * u / s), 0, np.inf,
                            epsabs=1e-14, epsrel=1e-12)[0]  # fmt: skip
    return e_relu / 0.5, e_step / 0.5  # E[relu(u)^2] = E[1{u>0}] = 1/2


def _theorem8(B: int, J: float, Jp: float) -> float:
    # Yang et al. (2019), Theorem 8 (alpha = 1): (B - 2 + J'(c) + J(c)) / ((B - 3)(1 - J(c)))
    return (B - 2 + Jp + J) / ((B - 3) * (1 - J))


def _relu_rate(B: int) -> float:
    J, Jp = _relu_kernels(-1.0 / (B - 1))
    return _theorem8(B, J, Jp)


def _linear_rate(B: int) -> float:
    # identity activation: J(c) = E[u v] / E[u^2] = c and J' = 1 (no quadrature needed)
    c = -1.0 / (B - 1)
    return _theorem8(B, c, 1.0)


def test_quadrature_kernels_match_known_points():
    # at c = 0: E[relu(u)] ^ 2 / (1/2) = (1/(2 pi)) / (1/2) = 1/pi; P(u>0, v>0) = 1/4
    J0, Jp0 = _relu_kernels(0.0)
    assert J0 == pytest.approx(1 / pi, rel=1e-10)
    assert Jp0 == pytest.approx(0.5, rel=1e-10)


@pytest.mark.parametrize("B", [4, 5, 8, 16, 32, 64, 1000])
def test_relu_formula_matches_quadrature(B):
    assert yang_formula("relu", B) == pytest.approx(_relu_rate(B), rel=1e-9)


@pytest.mark.parametrize("B", [4, 5, 8, 32, 1000])
def test_linear_formula_matches_theorem8_with_identity_kernel(B):
    assert yang_formula("linear", B) == pytest.approx(_linear_rate(B), rel=1e-12)


def test_formula_limits_and_other_activations():
    # B -> infinity: c -> 0, J -> 1/pi, J' -> 1/2, rate -> 1 / (1 - 1/pi) = pi / (pi - 1)
    assert yang_formula("relu", 10**6) == pytest.approx(pi / (pi - 1), rel=1e-5)
    with pytest.raises(ValueError, match="activation"):
        yang_formula("tanh", 32)


def test_result_records_measurements_only():
    fields = set(YangResult.__dataclass_fields__)
    assert not fields & {"formula", "rel_gap", "z_score"}


# Tolerance: 3 standard errors (Monte Carlo) plus the finite-width bias (negative, about
# 0.3-0.6% at N = 500-1000 according to Yang et al.'s finite-width simulations, shrinking
# like 1/N; we allow 3/N = 1% at N = 300). The bias is one-sided, so only downward.
@pytest.mark.parametrize("act,B", [("relu", 16), ("relu", 32), ("linear", 16)])
def test_yang_rate_matches_closed_form(act, B):
    N = 300
    f = _relu_rate(B) if act == "relu" else _linear_rate(B)
    r = yang_gradient_rate(act, width=N, depth=30, layers=(5, 25), batch_size=B, n_networks=8,
                           rng=11)  # fmt: skip
    gap = r.measured - f
    assert -3 * r.stderr - 3.0 / N * f <= gap <= 3 * r.stderr, r
    # the weight gradients grow at the same rate
    assert abs(r.measured_weights - r.measured) <= 0.01 * f


@pytest.mark.slow
@pytest.mark.parametrize(
    "act,B", [("relu", 8), ("relu", 32), ("relu", 64), ("linear", 8), ("linear", 32)]
)
def test_yang_rate_width_1000(act, B):
    N = 1000
    f = _relu_rate(B) if act == "relu" else _linear_rate(B)
    r = yang_gradient_rate(act, width=N, depth=50, batch_size=B, n_networks=16, rng=3)
    assert -3 * r.stderr - 3.0 / N * f <= r.measured - f <= 3 * r.stderr, r


def test_yang_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        yang_gradient_rate("relu", width=10, depth=5, batch_size=3, layers=(1, 3))
    with pytest.raises(ValueError, match="layers"):
        yang_gradient_rate("relu", width=10, depth=5, batch_size=8, layers=(1, 9))
    with pytest.raises(ValueError, match="activation"):
        yang_gradient_rate("elu", width=10, depth=5, batch_size=8, layers=(1, 3))

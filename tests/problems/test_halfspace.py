"""GaussianHalfspace: quadrature derivatives, Monte Carlo agreement, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.gradcheck import check_gradient, check_hvp
from bntheory.problems import GaussianHalfspace


def _moments(d=4, seed=0):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((d, d))
    return 0.5 * gen.standard_normal(d), A @ A.T / d + 0.5 * np.eye(d)


def _problems():
    u, S = _moments()
    return [
        GaussianHalfspace.from_moments(u, S, loss="logistic"),
        GaussianHalfspace.from_moments(u, S, loss="sigmoid"),
        GaussianHalfspace.teacher_model(S, u, flip=0.1, loss="logistic"),
        GaussianHalfspace.teacher_model(S, u, flip=0.0, loss="sigmoid"),
    ]


@pytest.mark.parametrize("hs", _problems(), ids=repr)
@pytest.mark.parametrize("scale", [0.05, 1.0, 20.0])
def test_derivatives(hs, scale):
    w = np.random.default_rng(1).standard_normal(hs.dim) * scale
    gc = check_gradient(hs.loss, hs.grad, w, rng=2)
    hc = check_hvp(hs.grad, hs.hvp, w, rng=3, f=hs.loss)
    assert gc.ok, gc
    assert hc.ok, hc


@pytest.mark.parametrize("hs", _problems(), ids=repr)
def test_population_matches_monte_carlo(hs):
    # Independent reference: sample the model and average phi(z^T w) and phi'(z^T w) z.
    # 4 standard errors: a false alarm has probability ~6e-5 per compared number.
    w = np.array([0.6, -1.0, 0.3, 0.8])
    X, y = hs.sample(200_000, rng=11)
    z = -y[:, None] * X
    t = z @ w
    vals = hs._phi(t, 0)
    assert abs(vals.mean() - hs.loss(w)) < 4 * vals.std() / np.sqrt(len(t))
    g = hs._phi(t, 1)[:, None] * z
    se = g.std(axis=0) / np.sqrt(len(t))
    assert np.all(np.abs(g.mean(axis=0) - hs.grad(w)) < 4 * se)
    v = np.array([1.0, 0.5, -0.2, 0.1])
    hv = (hs._phi(t, 2) * (z @ v))[:, None] * z
    se = hv.std(axis=0) / np.sqrt(len(t))
    assert np.all(np.abs(hv.mean(axis=0) - hs.hvp(w, v)) < 4 * se)


def test_teacher_degenerate_directions():
    u, S = _moments()
    hs = GaussianHalfspace.teacher_model(S, u, flip=0.2)
    # w = 0: loss phi(0) = log 2 for every label.
    np.testing.assert_allclose(hs.loss(np.zeros(4)), np.log(2), rtol=1e-12)
    # Along the teacher, 1-D reference by brute-force quadrature in a ~ N(0, 1):
    # b = g a, loss = E[(1-p) phi(-g|a|) + p phi(g|a|)].
    g = 2.5
    a = np.linspace(0, 12, 200_001)
    dens = np.exp(-a * a / 2) * np.sqrt(2 / np.pi)
    f = 0.8 * np.logaddexp(0, -g * a) + 0.2 * np.logaddexp(0, g * a)
    ref = np.trapezoid(f * dens, a)
    np.testing.assert_allclose(hs.loss(g * hs._e1), ref, rtol=1e-9)
    gc = check_gradient(hs.loss, hs.grad, g * hs._e1, rng=0)
    assert gc.rel_error < 1e-6


def test_kohler_f_star_is_minimum():
    u, S = _moments()
    hs = GaussianHalfspace.from_moments(u, S)
    gen = np.random.default_rng(3)
    assert all(hs.loss(gen.standard_normal(4) * s) >= hs.f_star - 1e-12 for s in (0.1, 1, 3))
    w_opt = np.linalg.solve(S, u)
    gs = np.linspace(-5, 0, 501)
    assert min(hs.loss(g * w_opt / np.sqrt(w_opt @ S @ w_opt)) for g in gs) >= hs.f_star - 1e-10


def test_empirical_version():
    u, S = _moments()
    hs = GaussianHalfspace.from_moments(u, S)
    X, y = hs.sample(500, rng=1)
    emp = GaussianHalfspace.from_samples(X, y)
    w = np.ones(4)
    assert check_gradient(emp.loss, emp.grad, w, rng=0).ok
    assert check_hvp(emp.grad, emp.hvp, w, rng=0, f=emp.loss).ok


def test_bad_input():
    u, S = _moments()
    with pytest.raises(ValueError, match="S"):
        GaussianHalfspace.from_moments(u, -S)
    with pytest.raises(ValueError, match="u"):
        GaussianHalfspace.from_moments(u[:3], S)
    with pytest.raises(ValueError, match="loss"):
        GaussianHalfspace.from_moments(u, S, loss="hinge")
    with pytest.raises(ValueError, match="flip"):
        GaussianHalfspace.teacher_model(S, u, flip=0.7)
    with pytest.raises(ValueError, match="teacher"):
        GaussianHalfspace.teacher_model(S, np.zeros(4))
    with pytest.raises(ValueError, match="y"):
        GaussianHalfspace.from_samples(np.ones((3, 4)), np.array([1.0, 0.0, 1.0]))


def test_quadrature_grids_are_cached_and_equal_fresh_ones():
    # issue 13: the grids are built once per size, read-only, identical to a fresh build
    from bntheory.problems import halfspace as hmod

    xi, w = hmod._trapezoid_grid(80)
    ref_xi = np.linspace(-10.0, 10.0, 161)
    np.testing.assert_array_equal(xi, ref_xi)
    np.testing.assert_array_equal(
        w, np.exp(-0.5 * ref_xi**2) * (ref_xi[1] - ref_xi[0]) / np.sqrt(2 * np.pi)
    )
    assert hmod._trapezoid_grid(80)[0] is xi and not xi.flags.writeable
    nodes, weights = hmod._half_line_nodes(3.0)
    assert not nodes.flags.writeable and hmod._half_line_nodes(3.0)[0] is nodes
    # the rule integrates exp(-x) on [0, 10] to near machine precision
    assert float(weights @ np.exp(-nodes)) == pytest.approx(1 - np.exp(-10.0), rel=1e-13)

"""LeastSquares: exact loss/grad/hvp, generators, constructors, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.bounds import kappa_star
from bntheory.gradcheck import check_gradient, check_hvp
from bntheory.problems import LeastSquares


@pytest.fixture
def ls():
    return LeastSquares.ill_conditioned(8, 50, rng=0)


def test_derivatives_by_gradcheck(ls):
    x = np.random.default_rng(1).standard_normal(8)
    assert check_gradient(ls.loss, ls.grad, x, rng=2).ok
    assert check_hvp(ls.grad, ls.hvp, x, rng=3, f=ls.loss).ok


def test_textbook_forms(ls):
    # Independent reference: the expanded formulas, at a point far from the optimum.
    w = np.random.default_rng(4).standard_normal(8) * 3
    ref = 0.5 * w @ ls.H @ w - ls.u @ w + ls.c / 2
    np.testing.assert_allclose(ls.loss(w), ref, rtol=1e-12)
    np.testing.assert_allclose(ls.grad(w), ls.H @ w - ls.u, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ls.gap(w), ref - ls.J_star, rtol=1e-10)
    np.testing.assert_allclose(ls.w_star, np.linalg.solve(ls.H, ls.u), rtol=1e-9)
    np.testing.assert_allclose(ls.hessian(), ls.H)


def test_gap_has_no_cancellation(ls):
    # gap(w* + t v) = t^2/2 v^T H v exactly; the difference of losses would floor near 1e-16.
    v = np.random.default_rng(5).standard_normal(8)
    for t in (1e-4, 1e-8, 1e-12):
        w = ls.w_star + t * v
        d = w - ls.w_star  # exact in floating point (Sterbenz): the represented offset
        np.testing.assert_allclose(ls.gap(w), 0.5 * d @ ls.H @ d, rtol=1e-10)


def test_from_samples_matches_empirical_mean():
    gen = np.random.default_rng(6)
    X = gen.standard_normal((50, 4))
    y = X @ np.ones(4) + gen.standard_normal(50)
    prob = LeastSquares.from_samples(X, y)
    w = gen.standard_normal(4)
    np.testing.assert_allclose(prob.loss(w), 0.5 * np.mean((y - X @ w) ** 2), rtol=1e-12)
    np.testing.assert_allclose(prob.w_star, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    cen = LeastSquares.from_samples(X, y, center=True)
    np.testing.assert_allclose(cen.H, np.cov(X.T, bias=True), rtol=1e-12)


@pytest.mark.parametrize("spectrum", ["geometric", "linear", "two-cluster", "spiked"])
def test_generator_spectrum(spectrum):
    prob = LeastSquares.ill_conditioned(9, 40, spectrum, rng=1)
    lam = np.linalg.eigvalsh(prob.H)  # independent of the cached eigenvalues
    np.testing.assert_allclose(lam, prob.eigenvalues, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(lam[-1] / lam[0], 40, rtol=1e-10)


def test_alignment_top_is_top_eigenvector():
    prob = LeastSquares.ill_conditioned(7, 20, align="top", rng=2)
    lam, V = np.linalg.eigh(prob.H)
    assert abs(abs(V[:, -1] @ prob.w_star) - 1) < 1e-10


def test_kappa_star_small_when_aligned_large_when_random():
    aligned = LeastSquares.ill_conditioned(20, 1000, "spiked", align="top", rng=3)
    generic = LeastSquares.ill_conditioned(20, 1000, "geometric", rng=3)
    assert kappa_star(aligned.H, aligned.w_star) < 11  # the remaining spectrum spans [1/k, 10/k]
    assert kappa_star(generic.H, generic.w_star) > 0.5 * 1000


def test_heterogeneous_features():
    prob = LeastSquares.heterogeneous_features(6, scale_ratio=100, rng=0)
    np.testing.assert_allclose(np.sqrt(np.diag(prob.H)), 100 ** (np.arange(6) / 5), rtol=1e-12)
    prob = LeastSquares.heterogeneous_features(5, growth=2.0, correlation=0.3, rng=0)
    np.testing.assert_allclose(prob.H[0, 1], 0.3 * 1 * 2, rtol=1e-12)
    prob = LeastSquares.heterogeneous_features(5, correlation="random", rng=0)
    assert prob.kappa > 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(H=[[1.0, 2.0], [0.0, 1.0]], u=[1.0, 1.0], c=10.0), "H"),
        (dict(H=[[1.0, 0.0], [0.0, -1.0]], u=[1.0, 1.0], c=10.0), "H"),
        (dict(H=[[1.0, 0.0], [0.0, np.nan]], u=[1.0, 1.0], c=10.0), "H"),
        (dict(H=np.eye(2), u=[1.0, 1.0, 1.0], c=10.0), "u"),
        (dict(H=np.eye(2), u=[1.0, np.nan], c=10.0), "u"),
        (dict(H=np.eye(2), u=[1.0, 1.0], c=1.0), "c"),
    ],
)
def test_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LeastSquares(**kwargs)


def test_bad_generator_input():
    with pytest.raises(ValueError, match="kappa"):
        LeastSquares.ill_conditioned(5, 0.5)
    with pytest.raises(ValueError, match="dim"):
        LeastSquares.ill_conditioned(0, 10)
    with pytest.raises(ValueError, match="spectrum"):
        LeastSquares.ill_conditioned(5, 10, "cubic")
    with pytest.raises(ValueError, match="align"):
        LeastSquares.ill_conditioned(5, 10, align="sideways")
    with pytest.raises(ValueError, match="w"):
        LeastSquares.ill_conditioned(5, 10).loss(np.ones(4))
    with pytest.raises(ValueError, match="X"):
        LeastSquares.from_samples(np.ones((5, 3)), np.ones(5))
    with pytest.raises(ValueError, match="y"):
        LeastSquares.from_samples(np.ones((5, 3)), np.ones(4))


# ---------------------------------------------------------------- issue 10


def test_kappa_and_mu_of_extreme_spectrum():
    # eigvalsh returns 0 for lambda_min = 1e-300 next to 1e300 (absolute error d eps L), and
    # kappa used to raise ZeroDivisionError; the true values are known in closed form.
    ls = LeastSquares(np.diag([1e-300, 1e300]), [0.0, 0.0], 0.0)
    assert ls.mu == pytest.approx(1e-300, rel=1e-14)
    with pytest.raises(ValueError, match="H: the condition number"):
        _ = ls.kappa  # 1e600 is not a float64
    ls = LeastSquares(np.diag([1e-150, 1e150]), [0.0, 0.0], 0.0)
    assert ls.kappa == pytest.approx(1e300, rel=1e-13)
    # an ordinary matrix keeps eigvalsh's value exactly
    H = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert LeastSquares(H, [0.0, 0.0], 0.0).mu == np.linalg.eigvalsh(H)[0]


def test_complex_input_rejected_by_name():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="H must be real"):
            LeastSquares(np.eye(2) + 1j * np.eye(2), [0.0, 0.0], 0.0)
        with pytest.raises(TypeError, match="u must be real"):
            LeastSquares(np.eye(2), np.array([1.0, 1j]), 2.0)
        with pytest.raises(TypeError, match="X must be real"):
            LeastSquares.from_samples(np.ones((3, 2)) * 1j, np.ones(3))


def test_ill_conditioned_size_limit_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"dim=50000 .*max_bytes"):
            LeastSquares.ill_conditioned(50000, 10)  # ~160 GB at peak
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
    with pytest.raises(ValueError, match="max_bytes"):
        LeastSquares.ill_conditioned(20, 10, max_bytes=1000)
    ls = LeastSquares.ill_conditioned(20, 10, rng=0, max_bytes=10**6)  # overridable
    np.testing.assert_allclose(ls.kappa, 10.0, rtol=1e-12)


@pytest.mark.parametrize("basis", ["random", "identity"])
def test_ill_conditioned_peak_memory_two_dd(basis):
    # issue 13: at most 2.5 d x d float64 arrays at peak (H and its Cholesky factor are
    # the result); the old construction used about 7
    import tracemalloc

    d = 800
    tracemalloc.start()
    try:
        ls = LeastSquares.ill_conditioned(d, 100, basis=basis, rng=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 2.5 * d * d * 8
    # and the instance is right: independent dense eigvalsh, exact symmetry, w* solves
    lam = np.linalg.eigvalsh(ls.H)
    np.testing.assert_allclose(lam, ls.eigenvalues, rtol=1e-10, atol=1e-14)
    assert np.array_equal(ls.H, ls.H.T)
    np.testing.assert_allclose(ls.H @ ls.w_star, ls.u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ls.solve(ls.u), ls.w_star, rtol=1e-8, atol=1e-10)


def test_ill_conditioned_lean_path_is_the_same_instance():
    # above LEAN_MIN_DIM the in-place construction gives the instance of the original
    # arithmetic (NumPy QR of the same draws, (Q diag(lam)) Q^T) up to rounding
    from bntheory.problems import least_squares as mod

    d = mod.LEAN_MIN_DIM + 40
    ls = LeastSquares.ill_conditioned(d, 1e3, align="top", rng=3)
    gen = np.random.default_rng(3)
    Q, R = np.linalg.qr(gen.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    lam = ls.eigenvalues
    H = (Q * lam) @ Q.T
    np.testing.assert_allclose(ls.H, 0.5 * (H + H.T), rtol=0, atol=1e-14)
    np.testing.assert_allclose(ls.w_star, Q[:, -1], rtol=0, atol=1e-14)
    assert kappa_star(ls.H, ls.w_star) == pytest.approx(
        kappa_star(0.5 * (H + H.T), Q[:, -1]), rel=1e-9
    )


def test_problem_arrays_are_read_only():
    # issue 11: assigning into H would change loss but leave w*, kappa, the factor stale
    ls = LeastSquares.ill_conditioned(6, 10, rng=0)
    for arr in (ls.H, ls.u, ls.w_star, ls.eigenvalues):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 99
    with pytest.raises(ValueError, match="read-only"):
        ls.H[0, 0] = 99
    u = np.ones(6)
    p = LeastSquares(np.eye(6), u, 10.0)
    assert u.flags.writeable  # the caller's array is copied, never frozen
    u[0] = 5.0
    assert p.u[0] == 1.0
    X = np.random.default_rng(0).standard_normal((20, 3))
    q = LeastSquares.from_samples(X, X @ np.ones(3))
    assert X.flags.writeable and not q.X.flags.writeable and not q.y.flags.writeable
    h = ls.hessian()
    h[0, 0] = 1.0  # hessian() is a writable copy


def test_ill_conditioned_huge_kappa_names_kappa():
    with pytest.raises(ValueError, match=r"kappa=1e\+300 is too large"):
        LeastSquares.ill_conditioned(3, 1e300)
    # the identity basis represents the same spectrum exactly
    ls = LeastSquares.ill_conditioned(3, 1e300, "two-cluster", basis="identity", rng=0)
    np.testing.assert_allclose(np.diag(ls.H), [1e-300, 1.0, 1.0], rtol=1e-15)

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from bntheory.measures import (
    SpectralDensity,
    dense_matrix,
    hessian_operator,
    lanczos,
    slq_density,
    top_eigenvalues,
)

from ._problems import HvpOnlyQuadratic, logistic_problem, random_spd

# ---------------------------------------------------------------- operators


def test_hessian_operator_matches_dense_hessian_of_logistic():
    rng = np.random.default_rng(0)
    p = logistic_problem(80, 12, rng)
    x = rng.standard_normal(12)
    op = hessian_operator(p, x)
    assert isinstance(op, LinearOperator) and op.shape == (12, 12)
    Href = p.hessian(x)  # independent closed form X^T diag(p(1-p)) X / n + lam I
    V = rng.standard_normal((12, 3))
    np.testing.assert_allclose(op @ V[:, 0], Href @ V[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(op.matmat(V), Href @ V, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(op.rmatvec(V[:, 1]), Href @ V[:, 1], rtol=1e-12, atol=1e-14)
    # the operator keeps its own copy of x
    x[:] = 0.0
    np.testing.assert_allclose(op @ V[:, 0], Href @ V[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dense_matrix(op), Href, rtol=1e-12, atol=1e-14)


def test_hessian_operator_bad_input():
    p = logistic_problem(10, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        hessian_operator(p, np.zeros(4))
    with pytest.raises(ValueError, match="x"):
        hessian_operator(p, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="problem"):
        hessian_operator(object(), np.zeros(3))


# ---------------------------------------------------------------- top eigenvalues


@pytest.mark.parametrize("method", ["eigsh", "lanczos", "dense"])
@pytest.mark.parametrize("d", [60, 500])
def test_top_eigenvalues_agree_with_dense_eigh(method, d):
    rng = np.random.default_rng(d)
    H, _ = random_spd(d, rng, lo=1.0, hi=1e3)
    ref = np.linalg.eigvalsh(H)[::-1][:10]  # independent reference: dense LAPACK
    got = top_eigenvalues(aslinearoperator(H) if method != "dense" else H, 10, method=method, rng=1)
    np.testing.assert_allclose(got, ref, rtol=1e-8)


@pytest.mark.parametrize("method", ["eigsh", "lanczos"])
def test_smallest_and_magnitude_ordering(method):
    rng = np.random.default_rng(3)
    d = 120
    lam = np.concatenate([-np.geomspace(1, 50, 20), np.geomspace(0.5, 30, d - 20)])
    H, lam = random_spd(d, rng, spectrum=lam)
    sa = top_eigenvalues(aslinearoperator(H), 4, which="SA", method=method, rng=0)
    np.testing.assert_allclose(sa, lam[:4], rtol=1e-8)
    lm = top_eigenvalues(aslinearoperator(H), 4, which="LM", method=method, rng=0)
    ref = lam[np.argsort(-np.abs(lam))][:4]
    np.testing.assert_allclose(lm, ref, rtol=1e-8)


def test_top_eigenvectors_are_eigenvectors():
    rng = np.random.default_rng(4)
    H, lam = random_spd(300, rng)
    for method in ("eigsh", "lanczos", "dense"):
        vals, vecs = top_eigenvalues(H, 3, method=method, rng=0, return_eigenvectors=True)
        resid = np.linalg.norm(H @ vecs - vecs * vals, axis=0)
        assert np.all(resid <= 1e-8 * lam[-1]), method


def test_top_eigenvalues_of_problem_without_hessian():
    rng = np.random.default_rng(5)
    H, lam = random_spd(600, rng)
    p = HvpOnlyQuadratic(H, np.zeros(600))
    op = hessian_operator(p, np.zeros(600))
    got = top_eigenvalues(op, 3, rng=0)  # d > 500: auto -> eigsh
    np.testing.assert_allclose(got, lam[::-1][:3], rtol=1e-8)


@pytest.mark.parametrize(
    ("A", "k", "kwargs", "name"),
    [
        (np.eye(4), 5, {}, "k"),
        (np.eye(4), 0, {}, "k"),
        (np.ones((3, 4)), 1, {}, "op_or_matrix"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), 1, {}, "op_or_matrix"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), 1, {}, "op_or_matrix"),
        (np.eye(4), 4, {"method": "eigsh"}, "k"),
        (np.eye(4), 1, {"which": "BE"}, "which"),
        (np.eye(4), 1, {"method": "qr"}, "method"),
        (np.eye(4), 1, {"tol": -1.0}, "tol"),
    ],
)
def test_top_eigenvalues_bad_input(A, k, kwargs, name):
    with pytest.raises(ValueError, match=name):
        top_eigenvalues(A, k, **kwargs)


# ---------------------------------------------------------------- Lanczos


def test_lanczos_full_run_reproduces_spectrum_and_basis():
    rng = np.random.default_rng(6)
    d = 80
    H, lam = random_spd(d, rng, lo=1.0, hi=100.0)
    res = lanczos(H, d, rng=0, return_basis=True)
    Q = res.basis
    np.testing.assert_allclose(Q.T @ Q, np.eye(d), atol=1e-12)
    T = np.diag(res.alphas) + np.diag(res.betas, 1) + np.diag(res.betas, -1)
    np.testing.assert_allclose(Q.T @ H @ Q, T, atol=1e-10 * lam[-1])
    np.testing.assert_allclose(np.sort(res.ritz()[0]), lam, rtol=1e-9)


def test_lanczos_reorthogonalisation_matters():
    # Paige (1972): without re-orthogonalisation the Lanczos vectors lose orthogonality once
    # Ritz values converge; with full re-orthogonalisation they stay orthonormal.
    rng = np.random.default_rng(7)
    H, _ = random_spd(200, rng, lo=1.0, hi=1e4)
    full = lanczos(H, 120, rng=0, return_basis=True)
    plain = lanczos(H, 120, rng=0, return_basis=True, reorthogonalize=False)
    assert np.max(np.abs(full.basis.T @ full.basis - np.eye(120))) < 1e-12
    assert np.max(np.abs(plain.basis.T @ plain.basis - np.eye(120))) > 1e-3


def test_lanczos_breakdown_on_few_distinct_eigenvalues():
    rng = np.random.default_rng(8)
    H, _ = random_spd(50, rng, spectrum=np.repeat([1.0, 4.0, 9.0], [20, 20, 10]))
    res = lanczos(H, 30, rng=0)
    assert res.breakdown and res.n_steps == 3 and res.residual_beta == 0.0
    np.testing.assert_allclose(np.sort(res.ritz()[0]), [1.0, 4.0, 9.0], rtol=1e-12)


def test_lanczos_bad_input():
    with pytest.raises(ValueError, match="n_steps"):
        lanczos(np.eye(3), 0)
    with pytest.raises(ValueError, match="op"):
        lanczos(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="v0"):
        lanczos(np.eye(3), 2, v0=np.zeros(3))


# ---------------------------------------------------------------- SLQ


def _exact_smoothed(lam, grid, sigma):
    return np.exp(-0.5 * ((grid[:, None] - lam[None, :]) / sigma) ** 2).sum(axis=1) / (
        lam.size * np.sqrt(2 * np.pi) * sigma
    )


def test_slq_density_close_to_exact_spectral_measure():
    rng = np.random.default_rng(9)
    d = 400
    spec = np.concatenate([rng.uniform(1.0, 3.0, 300), rng.uniform(8.0, 10.0, 100)])
    H, lam = random_spd(d, rng, spectrum=spec)
    sd = slq_density(aslinearoperator(H), n_runs=10, n_steps=60, sigma=0.02, rng=0)
    assert isinstance(sd, SpectralDensity)
    assert sd.nodes.shape == (10, 60) and sd.weights.shape == (10, 60)
    np.testing.assert_allclose(sd.weights.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(sd.weights >= 0)
    spread = lam[-1] - lam[0]
    # W1 to the exact measure: quadrature error plus sampling error of 10 probes, ~1 %
    assert sd.wasserstein_to(lam) < 0.05 * spread
    assert sd.sigma == pytest.approx(0.02 * np.ptp(sd.nodes), rel=1e-12)
    ref = _exact_smoothed(lam, sd.grid, sd.sigma)
    l1 = np.trapezoid(np.abs(sd.density - ref), sd.grid)
    assert l1 < 0.2  # L1 distance of two probability densities is at most 2
    assert np.trapezoid(sd.density, sd.grid) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(AttributeError):
        sd.sigma = 1.0  # frozen
    with pytest.raises(ValueError):
        sd.nodes[0, 0] = 1.0  # read-only arrays


def test_slq_deflation_and_log_mode():
    rng = np.random.default_rng(10)
    d = 300
    bulk = rng.uniform(0.01, 1.0, d - 4)
    outl = np.array([50.0, 80.0, 200.0, 1000.0])
    H, lam = random_spd(d, rng, spectrum=np.concatenate([bulk, outl]))
    sd = slq_density(H, n_runs=8, n_steps=50, deflate=4, rng=1)
    np.testing.assert_allclose(np.sort(sd.outliers), outl, rtol=1e-10)
    np.testing.assert_allclose(sd.weights.sum(axis=1), (d - 4) / d, rtol=1e-12)
    # deflated bulk nodes stay in the bulk's range (Ritz values of the compressed operator)
    assert sd.nodes.max() <= bulk.max() * (1 + 1e-8) and sd.nodes.min() >= bulk.min() * (1 - 1e-8)
    assert sd.wasserstein_to(lam) < 0.05 * np.ptp(bulk)
    # without deflation the outliers' masses are random (tau ~ (v.q)^2, not 1/d): W1 is much worse
    undeflated = slq_density(H, n_runs=8, n_steps=50, rng=1)
    assert sd.wasserstein_to(lam) < 0.1 * undeflated.wasserstein_to(lam)
    # log mode: a density of log10(lambda) that integrates to 1
    sl = slq_density(
        H,
        n_runs=8,
        n_steps=50,
        deflate=4,
        log_spectrum=True,
        sigma=0.05,
        sigma_relative=False,
        rng=1,
    )
    assert sl.log_spectrum and sl.sigma == 0.05
    assert np.trapezoid(sl.density, sl.grid) == pytest.approx(1.0, abs=1e-3)
    ref = _exact_smoothed(np.log10(lam), sl.grid, 0.05)
    assert np.trapezoid(np.abs(sl.density - ref), sl.grid) < 0.3


def test_slq_mean_is_unbiased_trace_estimate():
    # the Gauss rule with m >= 1 nodes integrates f(x) = x exactly: sum_j tau_j theta_j = v^T H v,
    # so the mean of the measure is a Hutchinson estimate of tr(H)/d (Rademacher, exact for diagonal H)
    lam = np.linspace(1.0, 5.0, 50)
    sd = slq_density(np.diag(lam), n_runs=3, n_steps=10, rng=2)
    assert sd.mean() == pytest.approx(lam.mean(), rel=1e-12)


def test_slq_explicit_grid_and_small_dimension():
    sd = slq_density(
        np.diag([1.0, 2.0, 3.0]), n_runs=2, n_steps=10, grid=np.linspace(0, 4, 41), rng=0
    )
    assert sd.nodes.shape == (2, 3)
    np.testing.assert_allclose(np.sort(sd.atoms()[0][:3]), [1.0, 2.0, 3.0], rtol=1e-12)
    assert sd.wasserstein_to([1.0, 2.0, 3.0]) < 1e-10


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_steps": 0}, "n_steps"),
        ({"n_runs": 0}, "n_runs"),
        ({"deflate": 5}, "deflate"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"grid": 1}, "grid"),
    ],
)
def test_slq_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        slq_density(np.eye(5), **kwargs)


def test_slq_rejects_bad_matrix():
    with pytest.raises(ValueError, match="op"):
        slq_density(np.ones((3, 4)))
    with pytest.raises(ValueError, match="op"):
        slq_density(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="eigenvalues"):
        slq_density(np.eye(3), rng=0).wasserstein_to([np.nan])


# ---------------------------------------------------------------- issue 10: wrong answers


def _rotated(lam, seed):
    # Haar-random orthogonal similarity of diag(lam): the spectrum is lam exactly (reference)
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    Q = Q * np.sign(np.diag(R))
    H = (Q * lam) @ Q.T
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("which", ["LA", "SA", "LM"])
@pytest.mark.parametrize("k", [1, 2, 3, 26, 50])
def test_lanczos_exactly_repeated_eigenvalues_match_dense_eigh(which, k):
    # 25 x 0.1 and 25 x 1.0: a single Lanczos run breaks down after 2 steps and used to
    # return [1.0, 0.1] for the top 2 (truth [1, 1]) and [0.1, 1.0] for which="SA".
    from bntheory.problems import LeastSquares

    H = LeastSquares.ill_conditioned(50, 10, "two-cluster", rng=0).H
    ref = np.linalg.eigvalsh(H)  # independent reference: dense LAPACK
    ref = {"LA": ref[::-1], "SA": ref, "LM": ref[np.argsort(-np.abs(ref), kind="stable")]}[which]
    got = top_eigenvalues(H, k, which=which, method="lanczos", rng=0)
    np.testing.assert_allclose(got, ref[:k], rtol=1e-10)


def test_lanczos_repeated_top_eigenvalue_without_breakdown():
    # d = 600 with 597 distinct eigenvalues: the first run converges (no breakdown) having
    # seen one copy of the triple top eigenvalue 5; the restarts must find the other two.
    lam = np.concatenate([[5.0, 5.0, 5.0], np.linspace(0.1, 4.0, 597)])
    H = _rotated(lam, 1)
    vals, vecs = top_eigenvalues(
        aslinearoperator(H), 4, method="lanczos", rng=0, return_eigenvectors=True
    )
    np.testing.assert_allclose(vals, [5.0, 5.0, 5.0, 4.0], rtol=1e-10)
    assert np.max(np.linalg.norm(H @ vecs - vecs * vals, axis=0)) <= 1e-9 * 5.0
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(4), atol=1e-10)


def test_lanczos_identity_and_zero_operators():
    got = top_eigenvalues(np.eye(7), 7, method="lanczos", rng=0)
    np.testing.assert_allclose(got, np.ones(7), rtol=1e-14)
    np.testing.assert_array_equal(top_eigenvalues(np.zeros((6, 6)), 3, method="lanczos"), 0.0)


@pytest.mark.parametrize(
    "A",
    [
        [[1, 1j], [-1j, 1]],
        np.array([[1, 1j], [-1j, 1]]),
        np.eye(3, dtype=complex),
    ],
)
@pytest.mark.parametrize("method", ["auto", "dense", "eigsh", "lanczos"])
def test_complex_input_rejected_by_name(A, method):
    # [[1, i], [-i, 1]] is Hermitian with eigenvalues 0 and 2: silently dropping the
    # imaginary part used to give 1.0.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="op_or_matrix must be real"):
            top_eigenvalues(A, 1, method=method)
        with pytest.raises(TypeError, match="op must be real"):
            slq_density(A)


def test_complex_operator_rejected():
    op = aslinearoperator(np.eye(3, dtype=complex))
    with pytest.raises(TypeError, match="op_or_matrix must be a real operator"):
        top_eigenvalues(op, 1)


@pytest.mark.parametrize("method", ["auto", "dense", "eigsh", "lanczos"])
def test_sparse_non_symmetric_rejected(method):
    from scipy.sparse import csr_matrix

    # eigenvalues of [[1, 2], [0, 1]] are (1, 1); every method used to return 2.0 or more
    with pytest.raises(ValueError, match="op_or_matrix must be symmetric"):
        top_eigenvalues(csr_matrix([[1.0, 2.0], [0.0, 1.0]]), 1, method=method)
    with pytest.raises(ValueError, match="op_or_matrix contains NaN"):
        top_eigenvalues(csr_matrix([[1.0, np.nan], [np.nan, 1.0]]), 1, method=method)


def test_sparse_symmetric_still_accepted():
    from scipy.sparse import random as sparse_random

    S = sparse_random(40, 40, density=0.2, random_state=0)
    S = S + S.T
    ref = np.linalg.eigvalsh(S.toarray())[::-1][:3]  # dense reference
    for method in ("dense", "eigsh", "lanczos"):
        np.testing.assert_allclose(
            top_eigenvalues(S, 3, method=method, rng=0), ref, rtol=1e-9, atol=1e-12
        )


# ---------------------------------------------------------------- issue 10: size limits


def test_slq_grid_size_limit_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="grid.*max_grid"):
            slq_density(np.eye(3), grid=10**9)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20  # refused before allocating (10**9 points would be 8 GB)
    with pytest.raises(ValueError, match="max_grid"):
        slq_density(np.eye(3), grid=np.linspace(0, 1, 11), max_grid=10)
    # overridable, and the density agrees with the default-limit one on a shared grid
    g = np.linspace(0.0, 2.0, 2001)
    a = slq_density(np.diag([0.5, 1.0, 1.5]), grid=g, rng=0, max_grid=5000)
    ref = _exact_smoothed(np.array([0.5, 1.0, 1.5]), g, a.sigma)  # closed form (n_steps = d)
    np.testing.assert_allclose(a.density, ref, rtol=1e-8, atol=1e-10)


def test_slq_lanczos_storage_limit():
    with pytest.raises(ValueError, match="n_runs.*max_bytes"):
        slq_density(np.eye(100), n_runs=10**6)
    with pytest.raises(ValueError, match="max_bytes"):
        slq_density(np.eye(10), n_runs=2, n_steps=10, max_bytes=100)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([-2.0, 0.0, 0.5, 1.0, 3.0]), min_size=1, max_size=30),
    st.lists(st.floats(-5.0, 5.0), max_size=10),
    st.integers(1, 40),
    st.sampled_from(["LA", "SA", "LM"]),
    st.integers(0, 2**16),
)
def test_lanczos_property_repeated_spectra(repeated, distinct, k, which, seed):
    # spectra with exact repeats (and some distinct values) against dense eigh
    lam = np.array(repeated + distinct)
    k = min(k, lam.size)
    H = _rotated(lam, seed)
    ref = np.linalg.eigvalsh(H)
    order = {"LA": ref[::-1], "SA": ref, "LM": ref[np.argsort(-np.abs(ref), kind="stable")]}
    got = top_eigenvalues(H, k, which=which, method="lanczos", rng=seed)
    scale = max(1.0, float(np.max(np.abs(lam))))
    if which == "LM":  # ties in |lambda| (e.g. -2 and 2) may come in either order
        np.testing.assert_allclose(np.abs(got), np.abs(order["LM"][:k]), atol=1e-9 * scale)
    else:
        np.testing.assert_allclose(got, order[which][:k], atol=1e-9 * scale)

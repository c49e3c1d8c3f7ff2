"""bounds.py: closed forms against independent references."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory import bounds as B
from bntheory.problems import LeastSquares


def test_gd_rates_against_spectrum():
    lam = np.geomspace(0.01, 1, 9)
    kappa = 100.0
    assert B.gd_iterate_rate(lam, 2 / (1 + 0.01)) == pytest.approx(
        (kappa - 1) / (kappa + 1), rel=1e-12
    )
    assert B.gd_optimal_iterate_rate(kappa) == pytest.approx(99 / 101)
    assert B.gd_iterate_rate(lam, 1.0) == pytest.approx(
        B.gd_one_over_L_iterate_rate(kappa), rel=1e-12
    )
    assert B.gd_divergence_threshold(4.0) == 0.5
    assert B.gap_rate(0.9) == pytest.approx(0.81)


def test_bngd_spectrum_dense_reference():
    ls = LeastSquares.ill_conditioned(6, 30, rng=1)
    H, w = ls.H, ls.w_star
    # Reference: eigenvalues of H restricted to the H-orthogonal complement of w,
    # i.e. of P^T H P with P an orthonormal basis of {v : v^T H w = 0}.
    Hw = H @ w
    Q, _ = np.linalg.qr(np.column_stack([Hw, np.eye(6)]))
    P = Q[:, 1:6]
    ref = np.linalg.eigvalsh(P.T @ H @ P - (P.T @ Hw)[:, None] * 0)
    Hs = H - np.outer(Hw, Hw) / (w @ Hw)
    full = np.sort(np.linalg.eigvalsh(Hs))
    np.testing.assert_allclose(B.bngd_spectrum(H, w), full[1:], rtol=1e-10)
    assert abs(full[0]) < 1e-12
    assert np.all(ref > 0)
    eps = 1.3
    assert B.bngd_local_iterate_rate(H, w, eps) == pytest.approx(np.max(np.abs(1 - eps * full[1:])))
    ks = full[-1] / full[1]
    assert B.kappa_star(H, w) == pytest.approx(ks)
    assert B.bngd_best_iterate_rate(H, w) == pytest.approx((ks - 1) / (ks + 1))
    assert B.bngd_stability_threshold(H, w) == pytest.approx(2 / full[-1])


def test_kohler_bounds():
    t = np.arange(5)
    np.testing.assert_allclose(B.kohler_ols_bound(t, 2.0, 0.1, 1.0), 2.0 * 0.81**t)
    val = B.kohler_halfspace_bound(
        3, 2.0, 0.1, 1.0, Phi=0.5, zeta=1.0, n_bisection=10, bracket_width=4.0
    )
    assert val == pytest.approx(0.25 * 2.0 * 0.81**3 + 2.0**-10 * 4.0 / 0.01)
    with pytest.raises(ValueError, match="mu"):
        B.kohler_ols_bound(1, 1.0, 2.0, 1.0)


@pytest.mark.parametrize(
    ("batch", "value"),
    [(4, 3.084), (8, 1.788), (16, 1.590), (32, 1.522), (64, 1.493), (128, 1.480), (1024, 1.4685)],
)
def test_yang_relu_rate_matches_theory_list(batch, value):
    # THEORY.md Sec. 7 lists these values (evaluated independently of this code).
    assert B.yang_relu_rate(batch) == pytest.approx(value, abs=6e-4)


def test_yang_limits():
    assert B.yang_relu_rate(10**7) == pytest.approx(np.pi / (np.pi - 1), rel=1e-5)
    assert B.yang_linear_rate(32) == pytest.approx(30 / 29)
    rates = [B.yang_relu_rate(b) for b in range(4, 200)]
    assert np.all(np.diff(rates) < 0)
    with pytest.raises(ValueError, match="B"):
        B.yang_linear_rate(3)


def test_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        B.gd_optimal_iterate_rate(0.5)
    with pytest.raises(ValueError, match="lr"):
        B.gd_iterate_rate([1.0], -1.0)
    with pytest.raises(ValueError, match="H"):
        B.bngd_spectrum(-np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="w_star"):
        B.bngd_spectrum(np.eye(3), np.ones(2))


# ---------------------------------------------------------------- issue 10: overflow


def _strict():
    import warnings

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")
    return ctx


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: B.gap_rate(1e200), "iterate_rate"),  # was OverflowError
        (lambda: B.gd_divergence_threshold(1e-320), "lam_max"),  # was inf
        (lambda: B.gd_iterate_rate([2.0, 1.0], 1e308), "lr"),  # was inf + warning
        (
            lambda: B.kohler_halfspace_bound(
                3, 1.0, 0.5, 1.0, Phi=1e200, zeta=1.0, n_bisection=5, bracket_width=1.0
            ),
            "Phi",
        ),
        (lambda: B.kohler_ols_bound(np.nan, 1.0, 0.5, 1.0), "t"),
        (lambda: B.bngd_stability_threshold(np.diag([1e-310, 1e-310, 2e-310]), [1.0, 1, 1]), "H"),
    ],
)
def test_overflowing_bounds_are_named_errors(call, name):
    ctx = _strict()
    try:
        with pytest.raises(ValueError, match=name):
            call()
    finally:
        ctx.__exit__(None, None, None)


def test_bounds_at_extreme_but_representable_arguments():
    ctx = _strict()
    try:
        # Yang's Theorem 8 decreases to pi/(pi - 1) (closed-form limit); B = 10**400 used to
        # raise OverflowError converting B to float
        assert B.yang_relu_rate(10**400) == pytest.approx(np.pi / (np.pi - 1), rel=1e-15)
        assert B.yang_relu_rate(2**62 + 1) == pytest.approx(np.pi / (np.pi - 1), rel=1e-15)
        assert B.yang_linear_rate(10**400) == 1.0
        # (1 - mu/L)^(2t) at huge t underflows to exactly 0 (it used to leak an overflow
        # warning computing 2t); at mu = L and t = 0 it is 0^0 = 1
        assert B.kohler_ols_bound(1e308, 1.0, 0.5, 1.0) == 0.0
        assert B.kohler_ols_bound(0, 2.0, 1.0, 1.0) == 2.0
        # 2^-T_s for a huge T_s is 0, not an OverflowError
        got = B.kohler_halfspace_bound(
            1, 1.0, 0.5, 1.0, Phi=1.0, zeta=1.0, n_bisection=10**400, bracket_width=1.0
        )
        assert got == pytest.approx(0.25, rel=1e-15)  # (1 - 1/2)^2 * 1 + 0
        assert B.gd_divergence_threshold(1e-300) == pytest.approx(2e300, rel=1e-15)
    finally:
        ctx.__exit__(None, None, None)


def test_bngd_bounds_accept_operators_and_match_dense():
    # issue 13: the matrix-free extremes of H* give the same local rate / threshold
    from scipy.sparse.linalg import aslinearoperator

    from bntheory.bounds import bngd_local_iterate_rate, bngd_stability_threshold
    from bntheory.problems import LeastSquares

    ls = LeastSquares.ill_conditioned(60, 100, rng=4)
    op = aslinearoperator(ls.H)
    Hw = ls.H @ ls.w_star
    lam = np.linalg.eigvalsh(ls.H - np.outer(Hw, Hw) / (ls.w_star @ Hw))[1:]  # reference
    for eps in (0.5, 1.0, 1.9):
        ref = np.max(np.abs(1 - eps * lam))
        assert bngd_local_iterate_rate(op, ls.w_star, eps) == pytest.approx(ref, rel=1e-10)
    assert bngd_stability_threshold(op, ls.w_star) == pytest.approx(2 / lam[-1], rel=1e-10)
    st = LeastSquares.structured(3000, 1e3, rng=0)
    assert bngd_stability_threshold(st.H, st.w_star) == pytest.approx(
        2 / st.effective_conditioning().lam_max.value, rel=1e-14
    )

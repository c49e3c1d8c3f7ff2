from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bntheory.measures import (
    condition_number,
    effective_condition_number,
    effective_hessian,
    effective_spectrum,
)

from ._problems import random_spd


def test_condition_number_matches_constructed_spectrum():
    rng = np.random.default_rng(0)
    H, lam = random_spd(40, rng, lo=0.5, hi=2e3)
    # eigvalsh is backward stable: relative error of lam_min ~ d eps kappa ~ 1e-11
    assert condition_number(H) == pytest.approx(lam[-1] / lam[0], rel=1e-9)


def test_effective_hessian_2x2_closed_form():
    # H = diag(a, b), w* = (1, 1): H* = ab/(a+b) [[1, -1], [-1, 1]], spectrum {0, 2ab/(a+b)}
    a, b = 3.0, 7.0
    Hs = effective_hessian(np.diag([a, b]), [1.0, 1.0])
    c = a * b / (a + b)
    np.testing.assert_allclose(Hs, c * np.array([[1.0, -1.0], [-1.0, 1.0]]), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(effective_spectrum(np.diag([a, b]), [1.0, 1.0]), [2 * c], rtol=1e-14)
    assert effective_condition_number(np.diag([a, b]), [1.0, 1.0]) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("which", ["min", "max", "middle"])
def test_kappa_star_for_eigenvector_w_star(which):
    # w* = eigenvector q_i  =>  H* = H - lam_i q_i q_i^T: spectrum of H with lam_i replaced by 0
    rng = np.random.default_rng(1)
    d = 12
    lam = np.geomspace(1.0, 100.0, d)
    H, _ = random_spd(d, rng, spectrum=lam)
    _, vec = np.linalg.eigh(H)
    i = {"min": 0, "max": d - 1, "middle": 5}[which]
    rest = np.delete(lam, i)
    assert effective_condition_number(H, 3.0 * vec[:, i]) == pytest.approx(
        rest[-1] / rest[0], rel=1e-10
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    d=st.integers(2, 15),
    log_kappa=st.floats(0.0, 4.0),
)
def test_interlacing_properties(seed, d, log_kappa):
    rng = np.random.default_rng(seed)
    H, lam = random_spd(d, rng, lo=1.0, hi=10.0**log_kappa)
    w = rng.standard_normal(d)
    Hs = effective_hessian(H, w)
    scale = lam[-1]
    tol = 1e-11 * scale  # backward error of eigvalsh on a d <= 15 matrix, with margin
    # H* w* = 0 and H* is symmetric PSD
    assert np.linalg.norm(Hs @ w) <= 1e-12 * scale * np.linalg.norm(w)
    np.testing.assert_array_equal(Hs, Hs.T)
    mu = np.linalg.eigvalsh(Hs)
    assert mu[0] >= -tol
    # Cauchy interlacing of a rank-one PSD downdate: lam_i(H) <= mu_{i+1}(H*) <= lam_{i+1}(H)
    lam_h = np.linalg.eigvalsh(H)
    assert np.all(mu[1:] >= lam_h[:-1] - tol)
    assert np.all(mu[1:] <= lam_h[1:] + tol)
    # hence kappa* <= kappa
    kappa = condition_number(H)
    kstar = effective_condition_number(H, w)
    assert 1.0 - 1e-12 <= kstar <= kappa * (1 + 1e-9)


def test_effective_spectrum_drops_exactly_one_zero():
    rng = np.random.default_rng(2)
    H, lam = random_spd(10, rng, lo=1.0, hi=50.0)
    spec = effective_spectrum(H, rng.standard_normal(10))
    assert spec.shape == (9,)
    assert spec[0] >= lam[0] * (1 - 1e-10)


@pytest.mark.parametrize(
    ("H", "w", "name"),
    [
        (np.ones((2, 3)), np.ones(2), "H"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2), "H"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones(2), "H"),
        (np.diag([1.0, -1.0]), np.ones(2), "H"),
        (np.eye(3), np.ones(2), "w_star"),
        (np.eye(3), np.zeros(3), "w_star"),
        (np.eye(3), np.array([1.0, np.nan, 0.0]), "w_star"),
    ],
)
def test_bad_input_names_argument(H, w, name):
    with pytest.raises(ValueError, match=name):
        effective_condition_number(H, w)


@pytest.mark.parametrize(
    "H",
    [
        np.ones((2, 3)),
        np.array([[1.0, 2.0], [0.0, 1.0]]),
        np.full((2, 2), np.nan),
        np.diag([1.0, 0.0]),
    ],
)
def test_condition_number_bad_input(H):
    with pytest.raises(ValueError, match="H"):
        condition_number(H)


@pytest.mark.parametrize(
    ("H", "w", "match"),
    [
        (np.eye(1), [1.0], "at least 2 x 2"),
        (np.diag([1e-290, 1e300]), [1.0, 1.0], "overflows float64"),
    ],
)
def test_kappa_star_twins_agree_on_edge_cases(H, w, match):
    # issue 11: bounds.kappa_star and the measure are one implementation: the same named
    # error, never NaN or a leaked warning
    import warnings

    from bntheory.bounds import kappa_star

    for fn in (kappa_star, effective_condition_number):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=match) as info:
                fn(H, w)
        assert "H" in str(info.value)


def test_kappa_star_twins_identical_on_arrays():
    from bntheory.bounds import bngd_spectrum, kappa_star

    rng = np.random.default_rng(7)
    H, _ = random_spd(25, rng, lo=1.0, hi=1e3)
    w = rng.standard_normal(25)
    assert kappa_star(H, w) == effective_condition_number(H, w)
    np.testing.assert_array_equal(bngd_spectrum(H, w), effective_spectrum(H, w))
    # independent reference: the textbook H* and a full eigh (eigenvectors too)
    Hw = H @ w
    ev = np.linalg.eigh(H - np.outer(Hw, Hw) / (w @ Hw))[0]
    ev = np.delete(ev, np.argmin(np.abs(ev)))
    assert kappa_star(H, w) == pytest.approx(ev[-1] / ev[0], rel=1e-10)

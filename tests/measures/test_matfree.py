"""Matrix-free kappa, kappa* (issue 13) against dense eigvalsh references and closed forms.

Agreement targets: 1e-10 relative between the matrix-free kappa* (Cholesky solves, CG
solves, secular equation) and dense eigvalsh of H* (observed 1e-15 .. 1e-12; eigvalsh
itself has an absolute error ~ d eps lambda_max, so lambda_min^+ of a kappa = 1e3 matrix
carries ~1e-12 relative error in the reference).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from bntheory.bounds import kappa_star
from bntheory.measures import effective_condition_number, top_eigenvalues
from bntheory.measures.matfree import (
    effective_conditioning,
    lambda_max,
    lambda_min,
    secular_extremes,
)

from ._problems import random_spd


def _dense_kstar(H, w):
    Hw = H @ w
    Hs = H - np.outer(Hw, Hw) / (w @ Hw)
    ev = np.linalg.eigvalsh(0.5 * (Hs + Hs.T))
    ev = np.delete(ev, np.argmin(np.abs(ev)))
    return ev[-1] / ev[0]


@pytest.mark.parametrize(("d", "hi"), [(30, 1e2), (300, 1e3), (1500, 1e3)])
def test_kappa_star_matrix_free_matches_dense(d, hi):
    rng = np.random.default_rng(d)
    H, _ = random_spd(d, rng, lo=1.0, hi=hi)
    w = rng.standard_normal(d)
    ref = _dense_kstar(H, w)
    chol = effective_condition_number(H, w, method="matrix-free", return_certificate=True)
    assert chol.kappa_star == pytest.approx(ref, rel=1e-10)
    assert chol.residual < 1e-9
    assert kappa_star(H, w) == pytest.approx(ref, rel=1e-10)  # auto on an array: dense
    if d <= 300:  # CG solves inside Lanczos: ~10^4-10^5 products, kept to small d here
        cgr = effective_conditioning(aslinearoperator(H), w)
        assert cgr.kappa_star == pytest.approx(ref, rel=1e-10)
        assert cgr.residual < 1e-9
        assert kappa_star(aslinearoperator(H), w) == pytest.approx(ref, rel=1e-10)
    assert effective_condition_number(H, w, method="dense") == pytest.approx(ref, rel=1e-12)


@pytest.mark.slow
def test_kappa_star_matrix_free_matches_dense_d4000():
    rng = np.random.default_rng(4000)
    H, _ = random_spd(4000, rng, lo=1.0, hi=1e3)
    w = rng.standard_normal(4000)
    ref = _dense_kstar(H, w)
    mf = effective_condition_number(H, w, method="matrix-free")  # Lanczos, Cholesky solves
    assert mf == pytest.approx(ref, rel=1e-10)


def test_secular_closed_forms():
    # w* = e_i: H* = diag(lam) with lam_i replaced by 0 (z = lam_i^{1/2} e_i)
    lam = np.array([1.0, 2.0, 2.0, 5.0, 9.0])
    for i in range(5):
        c = np.zeros(5)
        c[i] = 1.0
        top, bottom = secular_extremes(lam, lam * c / np.sqrt(c @ (lam * c)))
        rest = np.delete(lam, i)
        assert top.value == rest[-1] and bottom.value == rest[0]
    # 2 x 2 closed form: H = diag(a, b), w = (1, 1): nonzero eigenvalue 2ab/(a+b)
    a, b = 3.0, 7.0
    lam2 = np.array([a, b])
    top, bottom = secular_extremes(lam2, lam2 / np.sqrt(a + b))
    assert top.value == pytest.approx(2 * a * b / (a + b), rel=1e-15)
    assert bottom.value == top.value


def test_secular_repeated_eigenvalues_match_dense():
    rng = np.random.default_rng(5)
    lam = np.sort(np.concatenate([np.full(7, 0.01), np.full(5, 1.0), rng.uniform(0.1, 0.9, 20)]))
    c = rng.standard_normal(lam.size)
    res = effective_conditioning(None, None, eigh=(lam, c))
    ref = _dense_kstar(np.diag(lam), c)
    assert res.kappa_star == pytest.approx(ref, rel=1e-10)


def test_lambda_max_min_with_certificates():
    rng = np.random.default_rng(9)
    H, lam = random_spd(400, rng, lo=1e-3, hi=10.0)
    top = lambda_max(aslinearoperator(H))
    bot = lambda_min(aslinearoperator(H))
    assert top.value == pytest.approx(lam[-1], rel=1e-12)
    assert bot.value == pytest.approx(lam[0], rel=1e-9)
    assert top.residual < 1e-10 and bot.residual < 1e-8


def test_bad_method_and_certificate_need_matrix_free():
    H = np.diag([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="method"):
        effective_condition_number(H, np.ones(3), method="fast")
    with pytest.raises(ValueError, match="return_certificate"):
        effective_condition_number(H, np.ones(3), method="dense", return_certificate=True)
    with pytest.raises(ValueError, match="w_star"):
        effective_conditioning(aslinearoperator(np.eye(20)), np.zeros(20))


def test_dense_top_eigenvalues_without_vectors_match_eigh():
    rng = np.random.default_rng(3)
    H, lam = random_spd(600, rng)  # above DENSE_MAX_DIM: the eigvalsh path
    vals = top_eigenvalues(H, 4, method="dense")
    np.testing.assert_allclose(vals, lam[::-1][:4], rtol=1e-12)
    v2, vec = top_eigenvalues(H, 4, method="dense", return_eigenvectors=True)
    np.testing.assert_allclose(H @ vec, vec * v2, atol=1e-9)


def test_scipy_stats_not_imported_eagerly():
    code = (
        "import sys, bntheory.measures, bntheory.solvers, bntheory.problems, bntheory.bounds;"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_symmetric_matrix_blockwise_checks_match_definition():
    from bntheory.measures._validation import symmetric_matrix

    rng = np.random.default_rng(0)
    A = rng.standard_normal((300, 300))
    S = A + A.T
    assert symmetric_matrix(S) is S or np.array_equal(symmetric_matrix(S), S)
    B = S.copy()
    B[3, 7] += 1e-12  # within rtol 1e-10 of max|B|: symmetrized exactly
    np.testing.assert_array_equal(symmetric_matrix(B), 0.5 * (B + B.T))
    B[5, 250] += 1.0
    with pytest.raises(ValueError, match="symmetric"):
        symmetric_matrix(B)
    B = S.copy()
    B[299, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        symmetric_matrix(B)


def test_split_modules_keep_the_matfree_import_path():
    """The pieces moved to extremes/secular (issue 11) are the same objects under matfree."""
    from bntheory.measures import extremes, matfree, secular

    for mod in (extremes, secular):
        for name in mod.__all__:
            assert getattr(matfree, name) is getattr(mod, name)
    assert set(matfree.__all__) <= set(dir(matfree))

"""Mutation tests of the backpropagation claims (tests/claims/_mutation.py): a wrong sign
in the article's chain rule, a wrong SymPy transcription, an uncentred second term, an
unnormalised dL/dgamma, and a backward pass that forms the m x m Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bntheory.symbolic.backward as sym_backward
from bntheory.claims import backward
from tests.claims._mutation import assert_flips, mutation_params

_ORIG = backward.article_backward


def _dvar_sign_flipped(mp):
    def broken(x, dy, gamma, eps):
        out = dict(_ORIG(x, dy, gamma, eps))
        m = x.shape[0]
        mu = x.mean(axis=0)
        out["dx"] = out["dx"] - 2 * out["dvar"] * 2.0 * (x - mu) / m  # + term -> - term
        return out

    mp.setattr(backward, "article_backward", broken)


def _paper_dvar_sign(mp):
    orig = sym_backward.paper_dvar
    mp.setattr(sym_backward, "paper_dvar", lambda sym: -orig(sym))


def _second_term_uncentred(mp):
    def broken(sym):
        return sym_backward.paper_dvar(sym) * sp.Add(*[-2 * xi for xi in sym.x]) / sym.m

    mp.setattr(sym_backward, "paper_dmean_second_term", broken)


def _dgamma_unnormalised(mp):
    def broken(x, dy, gamma, eps):
        out = dict(_ORIG(x, dy, gamma, eps))
        out["dgamma"] = (dy * (x - x.mean(axis=0))).sum(axis=0)  # x - mu instead of x_hat
        return out

    mp.setattr(backward, "article_backward", broken)


def _jacobian_backward(mp):
    """dL/dx as the m x m Jacobian of each feature times dL/dy: O(m^2 d)."""

    def broken(x, dy, gamma, eps):
        out = dict(_ORIG(x, dy, gamma, eps))
        m = x.shape[0]
        xhat = out["xhat"]
        inv = 1.0 / np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=0) / m + eps)
        eye = np.eye(m)[:, :, None]
        jac = (eye - 1.0 / m - xhat[:, None, :] * xhat[None, :, :] / m) * inv * gamma
        out["dx"] = (jac * dy[None, :, :]).sum(axis=1)
        return out

    mp.setattr(backward, "article_backward", broken)


MUTATIONS = {
    "bwd-01": _dvar_sign_flipped,
    "bwd-02": _paper_dvar_sign,
    "bwd-03": _second_term_uncentred,
    "bwd-04": _dgamma_unnormalised,
    "bwd-05": _jacobian_backward,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)


def test_jacobian_mutation_is_a_correct_gradient():
    """The bwd-05 mutation changes the cost, not the value: it must agree with the formulas."""
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    with pytest.MonkeyPatch.context() as mp:
        _jacobian_backward(mp)
        dx_jac = backward.article_backward(x, dy, 1.3, 1e-5)["dx"]
    np.testing.assert_allclose(dx_jac, _ORIG(x, dy, 1.3, 1e-5)["dx"], rtol=1e-12, atol=1e-12)


def test_operation_counter_counts_elements():
    """The bwd-05 instrument: an element-wise call adds its largest operand's size, a
    reduction its input's size, and in-place / ``out=`` calls work."""
    a = np.ones((6, 4)).view(backward._Counted)
    backward._COUNTER[0] = 0
    b = a * 2.0 + a  # two element-wise calls of 24 elements
    assert backward._COUNTER[0] == 48
    b.sum(axis=0)  # one reduction over 24 elements
    assert backward._COUNTER[0] == 72
    b.mean(axis=0)  # reduction + division with out=
    assert backward._COUNTER[0] > 72
    assert isinstance(b, backward._Counted)


def test_operation_count_is_linear_for_the_article_formulas():
    rng = np.random.default_rng(0)
    n1 = backward._count_ops(100, 5, rng)
    n2 = backward._count_ops(200, 5, rng)
    n3 = backward._count_ops(100, 10, rng)
    assert 1.9 < n2 / n1 <= 2.0
    assert n3 / n1 == pytest.approx(2.0)


def test_general_proofs_name_missing_identities():
    from bntheory.claims import _symbolic

    with pytest.raises(KeyError, match="no_such_identity"):
        _symbolic.general_proofs(("no_such_identity",))

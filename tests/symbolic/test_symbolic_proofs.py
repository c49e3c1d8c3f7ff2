"""Symbolic proofs of the BN backward pass (bntheory.symbolic)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from bntheory.symbolic import (
    check_formula,
    closed_form_dx,
    paper_dmean,
    paper_dx,
    verify_backward,
    verify_backward_range,
)
from bntheory.symbolic.algebra import bn_symbols
from bntheory.symbolic.backward import paper_dvar, paper_dxhat
from bntheory.symbolic.general import general_items

MS = (2, 3, 4, 5)


@pytest.fixture(scope="module")
def range_report():
    return verify_backward_range(m_max=max(MS), m_min=min(MS), general=True)


def test_every_item_holds_for_m_2_to_5(range_report):
    assert range_report.ms == MS
    failures = [(it.name, it.proven_for, it.detail) for it in range_report.items if not it.holds]
    assert failures == []
    # every concrete statement is present for every m
    for m in MS:
        names = {it.name for it in range_report.items if it.proven_for.startswith(f"m={m}")}
        for required in (
            "chain_rule_dxhat",
            "chain_rule_dvar",
            "chain_rule_dmean",
            "chain_rule_dx",
            "chain_rule_dgamma",
            "chain_rule_dbeta",
            "closed_form_dx",
            "dmean_second_term_zero",
            "grad_sum_zero",
            "grad_orthogonal_xhat_eps0",
            "jacobian_eps0",
            "projection_idempotent",
            "projection_symmetric",
            "projection_rank",
            "thm41_eps0_equality",
            "thm41_eps_gap",
            "thm41_eps_literal_fails",
            "scale_invariance_forward",
            "scale_invariance_weight_grad",
            "running_var_unbiased",
        ):
            assert required in names, (m, required)
    assert {it.name for it in range_report.items if it.proven_for.startswith("m'=")} == {
        "conv_equals_dense"
    }


def test_general_items_hold_for_all_m():
    items = general_items()
    assert {it.proven_for for it in items} == {"all m"}
    assert all(it.holds for it in items), [it.name for it in items if not it.holds]
    assert {
        "closed_form_dx",
        "grad_sum_zero",
        "projection",
        "thm41_eps_gap",
        "running_var_unbiased",
    } <= {it.name for it in items}


# ------------------------------------------------------------- the proofs can fail
def _closed_sign_flipped(sym):
    g, m = sym.ghat, sym.m
    s1 = sp.Add(*g)
    s2 = sp.Add(*[gi * xh for gi, xh in zip(g, sym.xhat, strict=False)])
    return [(m * gi - s1 + xh * s2) / (m * sym.std) for gi, xh in zip(g, sym.xhat, strict=False)]


def _paper_dx_wrong_denominator(sym):
    # d l/d mu / (m - 1) instead of / m in the paper's d l/d x_i
    g, dvar, dmean = paper_dxhat(sym), paper_dvar(sym), paper_dmean(sym)
    return [
        gi / sym.std + dvar * 2 * ci / sym.m + dmean / (sym.m - 1)
        for gi, ci in zip(g, sym.centered, strict=False)
    ]


def _paper_dmean_no_sqrt(sym):
    # first term of d l/d mu with (sigma^2 + eps) instead of sqrt(sigma^2 + eps)
    return sp.Add(*[gi * (-1 / sym.base) for gi in sym.ghat])


def _paper_dvar_wrong_power(sym):
    return paper_dvar(sym) * sym.std  # exponent -1 instead of -3/2


@pytest.mark.parametrize("m", [2, 3, 4])
@pytest.mark.parametrize(
    "target, formula",
    [
        ("dx", _closed_sign_flipped),
        ("dx", _paper_dx_wrong_denominator),
        ("dmean", _paper_dmean_no_sqrt),
        ("dvar", _paper_dvar_wrong_power),
    ],
)
def test_wrong_formula_is_detected(m, target, formula):
    res = check_formula(m, target, formula)
    assert not res.holds
    assert "does not vanish" in res.detail


@pytest.mark.parametrize("m", [2, 3])
def test_correct_formulas_pass_check_formula(m):
    assert check_formula(m, "dx", closed_form_dx).holds
    assert check_formula(m, "dx", paper_dx).holds
    assert check_formula(m, "dx", closed_form_dx, eps_zero=True).holds


def test_wrong_unbiasing_factor_is_detected():
    from bntheory.symbolic.backward import expected_batch_variance

    e, mu, sig = expected_batch_variance(4)
    assert sp.expand(e - sig**2) != 0  # the biased estimate is biased
    assert sp.expand(sp.Rational(4, 3) * e - sig**2) == 0


# ------------------------------------------------------------- report API
def test_report_rendering_and_json():
    rep = verify_backward(m=2, general=False)
    assert rep.holds and rep.ms == (2,)
    d = rep.to_dict()
    text = json.dumps(d)
    assert json.loads(text)["holds"] is True
    assert len(d["items"]) == len(rep.items)
    md = rep.to_markdown()
    assert "| closed_form_dx | m=2 | yes |" in md
    assert rep.get("closed_form_dx").proven_for == "m=2"
    with pytest.raises(KeyError):
        rep.get("no_such_item")
    it = rep.items[0]
    with pytest.raises(AttributeError):
        it.holds = False  # frozen


@pytest.mark.parametrize("bad, exc", [(1, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_m(bad, exc):
    with pytest.raises(exc, match="m"):
        verify_backward(bad)
    with pytest.raises(exc, match="m"):
        bn_symbols(bad)


def test_check_formula_bad_target():
    with pytest.raises(ValueError, match="target"):
        check_formula(2, "dfoo", closed_form_dx)
    with pytest.raises(TypeError, match="formula"):
        check_formula(2, "dx", 3)


def test_bad_m_after_a_cached_good_one():
    """bn_symbols is cached: m = 2.0 and True must be refused even after m = 2 and 1 were
    built (an untyped cache returned the m = 2 batch for 2.0, since 2 == 2.0)."""
    bn_symbols(2)
    with pytest.raises(TypeError, match="m"):
        bn_symbols(2.0)
    with pytest.raises(TypeError, match="m"):
        bn_symbols(True)

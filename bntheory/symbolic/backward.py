"""Proofs of the BN backward-pass algebra for a concrete batch size ``m``.

Sources
-------
* Ioffe & Szegedy (2015), "Batch Normalization", Alg. 1, the chain-rule equations of
  Sec. 3 and Alg. 2 (unbiased ``m/(m-1)`` variance), Sec. 3.2 (convolutions), Sec. 3.3
  (scale invariance).
* Santurkar, Tsipras, Ilyas & Madry (2018), Theorem 4.1 and its basis Fact C.1.

Every statement is proved by building the difference of its two sides and reducing it to
exactly 0 with :func:`bntheory.symbolic.algebra.vanishes` (expansion after exact changes
of variables; no numerical sampling). True derivatives always come from
:func:`sympy.diff` applied to the literal forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

# The proof helpers and the item groups live in their own modules; the names below are
# re-exported so every import path of this module keeps working.
from bntheory.symbolic._proof import IS, _all_vanish, _as_list, _item
from bntheory.symbolic.algebra import BNSymbols, bn_symbols, vanishes
from bntheory.symbolic.derivatives import TARGETS, true_derivative
from bntheory.symbolic.invariances import expected_batch_variance, invariance_items
from bntheory.symbolic.jacobian import jacobian_items
from bntheory.symbolic.report import IdentityResult
from bntheory.symbolic.theorem41 import theorem41_items

__all__ = [
    "TARGETS",
    "check_formula",
    "closed_form_dx",
    "concrete_items",
    "expected_batch_variance",
    "paper_dbeta",
    "paper_dgamma",
    "paper_dmean",
    "paper_dmean_second_term",
    "paper_dvar",
    "paper_dx",
    "paper_dxhat",
    "true_derivative",
]

Formula = Callable[[BNSymbols], "sp.Expr | Sequence[sp.Expr]"]


# ---------------------------------------------------------------- the paper's equations


def _check_sym(sym: object) -> None:
    """Refuse anything but a :class:`BNSymbols` by name (``sym``)."""
    if not isinstance(sym, BNSymbols):
        raise TypeError(
            f"sym must be a BNSymbols (bntheory.symbolic.algebra.bn_symbols), got {type(sym).__name__}"
        )


def paper_dxhat(sym: BNSymbols) -> list:
    r"""``dl/dxhat_i = dl/dy_i * gamma`` (Ioffe & Szegedy 2015, Sec. 3, backward eq. 1).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    list of sympy.Expr
        One expression per sample.
    """
    _check_sym(sym)
    return sym.ghat


def paper_dvar(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dsigma^2 = sum_i dl/dxhat_i (x_i - mu) * (-1/2) (sigma^2 + eps)^{-3/2}``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 2).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    sympy.Expr
        The expression.
    """
    _check_sym(sym)
    g = paper_dxhat(sym)
    return (
        sp.Add(*[gi * ci for gi, ci in zip(g, sym.centered, strict=False)])
        * sp.Rational(-1, 2)
        * sym.base ** sp.Rational(-3, 2)
    )


def paper_dmean_second_term(sym: BNSymbols) -> sp.Expr:
    r"""Second term of ``dl/dmu``: ``dl/dsigma^2 * sum_i -2 (x_i - mu) / m`` (Ioffe & Szegedy 2015).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    sympy.Expr
        The expression.
    """
    _check_sym(sym)
    return paper_dvar(sym) * sp.Add(*[-2 * ci for ci in sym.centered]) / sym.m


def paper_dmean(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dmu = (sum_i dl/dxhat_i * -1/sqrt(sigma^2+eps)) + dl/dsigma^2 * sum_i -2(x_i-mu)/m``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 3).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    sympy.Expr
        The expression.
    """
    _check_sym(sym)
    g = paper_dxhat(sym)
    return sp.Add(*[gi * (-1 / sym.std) for gi in g]) + paper_dmean_second_term(sym)


def paper_dx(sym: BNSymbols) -> list:
    r"""``dl/dx_i = dl/dxhat_i / sqrt(sigma^2+eps) + dl/dsigma^2 * 2(x_i-mu)/m + dl/dmu / m``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 4).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    list of sympy.Expr
        One expression per sample.
    """
    _check_sym(sym)
    g, dvar, dmean = paper_dxhat(sym), paper_dvar(sym), paper_dmean(sym)
    return [
        gi / sym.std + dvar * 2 * ci / sym.m + dmean / sym.m
        for gi, ci in zip(g, sym.centered, strict=False)
    ]


def paper_dgamma(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dgamma = sum_i dl/dy_i xhat_i`` (Ioffe & Szegedy 2015, Sec. 3).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    sympy.Expr
        The expression.
    """
    _check_sym(sym)
    return sp.Add(*[d * xh for d, xh in zip(sym.dy, sym.xhat, strict=False)])


def paper_dbeta(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dbeta = sum_i dl/dy_i`` (Ioffe & Szegedy 2015, Sec. 3).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    sympy.Expr
        The expression.
    """
    _check_sym(sym)
    return sp.Add(*sym.dy)


def closed_form_dx(sym: BNSymbols) -> list:
    r"""Simplified closed form
    ``dl/dx_i = (m ghat_i - sum_j ghat_j - xhat_i sum_j ghat_j xhat_j) / (m sqrt(sigma^2+eps))``
    (derived from the chain rule above; Santurkar et al. 2018, Fact C.1).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch (:func:`bntheory.symbolic.algebra.bn_symbols`).

    Returns
    -------
    list of sympy.Expr
        One expression per sample.
    """
    g, m = sym.ghat, sym.m
    s1 = sp.Add(*g)
    s2 = sp.Add(*[gi * xh for gi, xh in zip(g, sym.xhat, strict=False)])
    return [(m * gi - s1 - xh * s2) / (m * sym.std) for gi, xh in zip(g, sym.xhat, strict=False)]


def check_formula(
    m: int,
    target: str,
    formula: Formula,
    *,
    eps_zero: bool = False,
    name: str | None = None,
    statement: str | None = None,
) -> IdentityResult:
    """Prove (or refute) that ``formula(sym)`` equals the true derivative ``target``.

    Parameters
    ----------
    m : int
        Batch size.
    target : {"dxhat", "dvar", "dmean", "dx", "dgamma", "dbeta"}
    formula : callable
        Receives the :class:`BNSymbols` of the batch and returns the claimed expression
        (a list of ``m`` expressions for ``dxhat`` and ``dx``).
    eps_zero : bool
        Check at ``eps = 0`` instead of for symbolic ``eps >= 0``.

    Returns
    -------
    IdentityResult
        ``holds`` is True iff the difference is identically 0.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if not callable(formula):
        raise TypeError("formula must be callable(BNSymbols) -> expression(s)")
    sym = bn_symbols(m, eps_zero=eps_zero)

    def run():
        true = _as_list(true_derivative(sym, target))
        claimed = _as_list(formula(sym))
        if len(true) != len(claimed):
            return False, f"formula returned {len(claimed)} components, expected {len(true)}"
        return _all_vanish([t - c for t, c in zip(true, claimed, strict=False)], sym)

    return _item(
        name or f"check_{target}",
        statement or f"given formula equals the true d l/d {target[1:]}",
        run,
        f"m={m}" + (", eps=0" if eps_zero else ""),
        IS,
    )


# ---------------------------------------------------------------- the items for one m
def _items_chain_rule(m: int) -> list[IdentityResult]:
    stmts = {
        "dxhat": ("d l/d xhat_i = d l/d y_i * gamma", paper_dxhat),
        "dvar": (
            "d l/d sigma^2 = sum_i d l/d xhat_i (x_i - mu) (-1/2)(sigma^2+eps)^(-3/2)",
            paper_dvar,
        ),
        "dmean": (
            "d l/d mu = sum_i d l/d xhat_i (-1/sqrt(sigma^2+eps)) + d l/d sigma^2 sum_i -2(x_i - mu)/m",
            paper_dmean,
        ),
        "dx": (
            "d l/d x_i = d l/d xhat_i / sqrt(sigma^2+eps) + d l/d sigma^2 2(x_i - mu)/m + d l/d mu / m",
            paper_dx,
        ),
        "dgamma": ("d l/d gamma = sum_i d l/d y_i xhat_i", paper_dgamma),
        "dbeta": ("d l/d beta = sum_i d l/d y_i", paper_dbeta),
    }
    out = []
    for target, (stmt, fn) in stmts.items():
        out.append(
            check_formula(
                m,
                target,
                fn,
                name=f"chain_rule_{target}",
                statement="paper's equation as printed: " + stmt,
            )
        )
    return out


def concrete_items(m: int) -> list[IdentityResult]:
    """All statements proved for the concrete batch size ``m`` (items 1-9 of issue 2).

    Parameters
    ----------
    m : int
        Batch size, at least 2.

    Returns
    -------
    list of IdentityResult
        One result per statement, in report order.
    """
    pf = f"m={m}"
    sym = bn_symbols(m)
    items = _items_chain_rule(m)

    # 2. closed form
    items.append(
        check_formula(
            m,
            "dx",
            closed_form_dx,
            name="closed_form_dx",
            statement="d l/d x_i = (m ghat_i - sum_j ghat_j - xhat_i sum_j ghat_j xhat_j) / (m sqrt(sigma^2+eps)), any eps >= 0",
        )
    )

    # 3. second term of d l/d mu
    items.append(
        _item(
            "dmean_second_term_zero",
            "second term of the paper's d l/d mu, d l/d sigma^2 * sum_i -2(x_i - mu)/m, is identically 0",
            lambda: vanishes(paper_dmean_second_term(sym), sym),
            pf,
            IS,
        )
    )

    # 4-5. orthogonality of the gradient, the Jacobian and the projection
    dx = true_derivative(sym, "dx")
    items.extend(jacobian_items(m, dx))

    # 6. Santurkar et al. Theorem 4.1
    items.extend(theorem41_items(m, dx))

    # 7. scale invariance, 8. unbiased variance, 9. convolution
    items.extend(invariance_items(m))
    return items

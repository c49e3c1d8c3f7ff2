"""Theorem 4.1 of Santurkar, Tsipras, Ilyas & Madry (2018), "How Does Batch Normalization
Help Optimization?": equality at ``eps = 0`` and three readings for ``eps > 0``."""

from __future__ import annotations

import sympy as sp

from bntheory.symbolic._proof import STS, _all_vanish, _dot, _item, _specialize, _sum
from bntheory.symbolic.algebra import bn_symbols, vanishes
from bntheory.symbolic.report import IdentityResult

__all__ = ["theorem41_items"]


def theorem41_items(m: int, dx: list[sp.Expr]) -> list[IdentityResult]:
    """Theorem 4.1 for batch size ``m``: the ``eps = 0`` equality, the exact ``eps >= 0`` gap,
    the reading with ``1/sigma^2`` and ``xhat`` (holds), the literal reading (fails).

    Parameters
    ----------
    m : int
        Batch size (at least 2).
    dx : list of sympy.Expr
        The true ``dl/dx`` of :func:`bntheory.symbolic.derivatives.true_derivative`.

    Returns
    -------
    list of IdentityResult
        Four results, in the order of the report.
    """
    sym, _sym0 = bn_symbols(m), bn_symbols(m, eps_zero=True)
    pf, pf0 = f"m={m}", f"m={m}, eps=0"

    def parts(sy):
        dy = sy.dy
        n = _dot(dy, dy) - _sum(dy) ** 2 / m  # ||g||^2 - <1,g>^2/m
        t = _dot(dy, sy.xhat) ** 2 / m  # <g, xhat>^2/m
        return n, t

    def gap():
        n, t = parts(sym)
        lhs = _dot(dx, dx)
        rhs = sym.gamma**2 / sym.base * (n - t)
        return vanishes(lhs - rhs + sym.gamma**2 * sym.eps / sym.base**2 * t, sym)

    gap_item = _item(
        "thm41_eps_gap",
        "eps >= 0: ||d l/d y||^2 = gamma^2/(sigma^2+eps) (N - T) - gamma^2 eps/(sigma^2+eps)^2 T, "
        "N = ||g||^2 - <1,g>^2/m, T = <g,xhat>^2/m: Thm 4.1 holds with sigma -> sqrt(sigma^2+eps), "
        "strict unless eps <g,xhat> = 0",
        gap,
        pf,
        f"{STS}, Thm 4.1",
    )

    def sigma_xhat():
        # from thm41_eps_gap, LHS = g2/(v+e) (N - T) - g2 e/(v+e)^2 T; scalar algebra in N, T, v, e:
        nn, tt, vv, ee, g2 = sp.symbols("N T v e g2", positive=True)
        lhs = g2 / (vv + ee) * (nn - tt) - g2 * ee / (vv + ee) ** 2 * tt
        rhs_b = g2 / vv * (nn - tt)
        ok1 = sp.cancel(rhs_b - lhs - g2 * ee / (vv * (vv + ee)) * (nn - ee / (vv + ee) * tt)) == 0
        # Lagrange identity ||a||^2 ||b||^2 - <a,b>^2 = 1/2 sum_ij (a_i b_j - a_j b_i)^2 for free a, b;
        # applied to a = dy - mean(dy), b = xhat it gives T <= r N, r = sigma^2/(sigma^2+eps)
        av, bv = sp.symbols(f"p1:{m + 1}", real=True), sp.symbols(f"q1:{m + 1}", real=True)
        lag = _dot(av, av) * _dot(bv, bv) - _dot(av, bv) ** 2
        lag -= sp.Rational(1, 2) * _sum(
            (av[i] * bv[j] - av[j] * bv[i]) ** 2 for i in range(m) for j in range(m)
        )
        ok2 = sp.expand(lag) == 0
        n, _ = parts(sym)
        amean = _sum(sym.dy) / m
        ok3, d3 = vanishes(_dot(sym.xhat, sym.xhat) - m * sym.var / sym.base, sym)
        ok4, d4 = vanishes(_sum((d - amean) ** 2 for d in sym.dy) - n, sym)
        ok5, d5 = vanishes(
            _dot([d - amean for d in sym.dy], sym.xhat) - _dot(sym.dy, sym.xhat), sym
        )
        ok = gap_item.holds and ok1 and ok2 and ok3 and ok4 and ok5
        return ok, (
            "with thm41_eps_gap: RHS_b - LHS = gamma^2 eps/(sigma^2 (sigma^2+eps)) (N - eps/(sigma^2+eps) T) "
            f"[{'cancels to 0' if ok1 else 'FAILS'}]; Lagrange identity [{'expands to 0' if ok2 else 'FAILS'}]; "
            f"||xhat||^2 = m r [{d3}]; N = ||dy - mean||^2 [{d4}]; <dy - mean, xhat> = <dy, xhat> [{d5}] "
            "=> T <= r N => N - (1-r) T >= (1 - r + r^2) N >= 0"
        )

    def literal_fails():
        # take dl/dy = x - mu (g along xhat): the literal right-hand side is 0, the left is > 0
        sub = dict(zip(sym.dy, sym.centered, strict=False))
        dyc = [d.xreplace(sub) for d in sym.dy]
        # true gradient at dl/dy = x - mu is gamma eps/(sigma^2+eps)^(3/2) (x - mu)
        ok0, d0 = _all_vanish(
            [
                g.xreplace(sub) - sym.gamma * sym.eps * sym.base ** sp.Rational(-3, 2) * c
                for g, c in zip(dx, sym.centered, strict=False)
            ],
            sym,
        )
        # so LHS = gamma^2 eps^2 ||x - mu||^2/(sigma^2+eps)^3 = gamma^2 m sigma^2 eps^2/(sigma^2+eps)^3 > 0.
        # RHS_c = gamma^2/sigma^2 (N - <g, yhat>^2/m) with yhat = (x - mu)/sigma, so
        # sigma^4 RHS_c = gamma^2 (sigma^2 N - <g, x - mu>^2/m)
        rhs_c4 = sym.gamma**2 * (
            sym.var * (_dot(dyc, dyc) - _sum(dyc) ** 2 / m) - _dot(dyc, sym.centered) ** 2 / m
        )
        ok1, d1 = vanishes(rhs_c4, sym)
        pt = [sp.Integer(i) for i in range(m)]
        mean = sp.Rational(sum(pt), m)
        var_v = sum((p - mean) ** 2 for p in pt) / m
        lhs_v = m * var_v / (var_v + 1) ** 3
        return ok0 and ok1 and bool(lhs_v > 0), (
            f"dl/dy = x - mu: d l/d x = gamma eps (sigma^2+eps)^(-3/2) (x - mu) [{d0}], so "
            f"LHS = gamma^2 m sigma^2 eps^2/(sigma^2+eps)^3 > 0, RHS = 0 [{d1}]; "
            f"instance x_i = i (i=0..{m - 1}), eps = gamma = 1: LHS = {lhs_v}, RHS = 0"
        )

    eq0_item = _item(
        "thm41_eps0_equality",
        "Theorem 4.1, eps = 0: ||d l/d y||^2 = gamma^2/sigma^2 (||g||^2 - <1,g>^2/m - <g,yhat>^2/m) (equality)",
        lambda: _specialize(gap_item, "the gap term carries the factor eps"),
        pf0,
        f"{STS}, Thm 4.1",
    )
    return [
        eq0_item,
        gap_item,
        _item(
            "thm41_eps_sigma_xhat",
            "eps > 0: Thm 4.1 read with 1/sigma^2 (no eps) in front and the BN output xhat (with eps) holds (not tight)",
            sigma_xhat,
            pf,
            f"{STS}, Thm 4.1",
        ),
        _item(
            "thm41_eps_literal_fails",
            "eps > 0: Thm 4.1 read literally with sigma and yhat = (y - mu)/sigma (no eps) FAILS: for g = x - mu "
            "the right side is 0 and the left side gamma^2 m sigma^2 eps^2/(sigma^2+eps)^3 > 0",
            literal_fails,
            pf,
            f"{STS}, Thm 4.1",
        ),
    ]

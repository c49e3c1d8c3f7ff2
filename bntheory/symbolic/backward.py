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

import time
from collections.abc import Callable, Sequence

import sympy as sp

from bntheory.symbolic.algebra import BNSymbols, bn_symbols, normalize_radicals, vanishes
from bntheory.symbolic.report import IdentityResult

__all__ = [
    "TARGETS",
    "check_formula",
    "closed_form_dx",
    "paper_dbeta",
    "paper_dgamma",
    "paper_dmean",
    "paper_dmean_second_term",
    "paper_dvar",
    "paper_dx",
    "paper_dxhat",
    "true_derivative",
    "concrete_items",
]

IS = "Ioffe & Szegedy (2015)"
STS = "Santurkar et al. (2018)"
TARGETS = ("dxhat", "dvar", "dmean", "dx", "dgamma", "dbeta")
Formula = Callable[[BNSymbols], "sp.Expr | Sequence[sp.Expr]"]


# ---------------------------------------------------------------- the paper's equations
def paper_dxhat(sym: BNSymbols) -> list:
    r"""``dl/dxhat_i = dl/dy_i * gamma`` (Ioffe & Szegedy 2015, Sec. 3, backward eq. 1)."""
    return sym.ghat


def paper_dvar(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dsigma^2 = sum_i dl/dxhat_i (x_i - mu) * (-1/2) (sigma^2 + eps)^{-3/2}``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 2)."""
    g = paper_dxhat(sym)
    return (
        sp.Add(*[gi * ci for gi, ci in zip(g, sym.centered, strict=False)])
        * sp.Rational(-1, 2)
        * sym.base ** sp.Rational(-3, 2)
    )


def paper_dmean_second_term(sym: BNSymbols) -> sp.Expr:
    r"""Second term of ``dl/dmu``: ``dl/dsigma^2 * sum_i -2 (x_i - mu) / m`` (Ioffe & Szegedy 2015)."""
    return paper_dvar(sym) * sp.Add(*[-2 * ci for ci in sym.centered]) / sym.m


def paper_dmean(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dmu = (sum_i dl/dxhat_i * -1/sqrt(sigma^2+eps)) + dl/dsigma^2 * sum_i -2(x_i-mu)/m``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 3)."""
    g = paper_dxhat(sym)
    return sp.Add(*[gi * (-1 / sym.std) for gi in g]) + paper_dmean_second_term(sym)


def paper_dx(sym: BNSymbols) -> list:
    r"""``dl/dx_i = dl/dxhat_i / sqrt(sigma^2+eps) + dl/dsigma^2 * 2(x_i-mu)/m + dl/dmu / m``
    (Ioffe & Szegedy 2015, Sec. 3, backward eq. 4)."""
    g, dvar, dmean = paper_dxhat(sym), paper_dvar(sym), paper_dmean(sym)
    return [
        gi / sym.std + dvar * 2 * ci / sym.m + dmean / sym.m
        for gi, ci in zip(g, sym.centered, strict=False)
    ]


def paper_dgamma(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dgamma = sum_i dl/dy_i xhat_i`` (Ioffe & Szegedy 2015, Sec. 3)."""
    return sp.Add(*[d * xh for d, xh in zip(sym.dy, sym.xhat, strict=False)])


def paper_dbeta(sym: BNSymbols) -> sp.Expr:
    r"""``dl/dbeta = sum_i dl/dy_i`` (Ioffe & Szegedy 2015, Sec. 3)."""
    return sp.Add(*sym.dy)


def closed_form_dx(sym: BNSymbols) -> list:
    r"""Simplified closed form
    ``dl/dx_i = (m ghat_i - sum_j ghat_j - xhat_i sum_j ghat_j xhat_j) / (m sqrt(sigma^2+eps))``
    (THEORY.md Sec. 1 [D]; Santurkar et al. 2018, Fact C.1)."""
    g, m = sym.ghat, sym.m
    s1 = sp.Add(*g)
    s2 = sp.Add(*[gi * xh for gi, xh in zip(g, sym.xhat, strict=False)])
    return [(m * gi - s1 - xh * s2) / (m * sym.std) for gi, xh in zip(g, sym.xhat, strict=False)]


# ---------------------------------------------------------------- true derivatives
def true_derivative(sym: BNSymbols, target: str):
    """The true derivative named ``target`` of ``l = sum_i dy_i y_i``, by :func:`sympy.diff`.

    ``dxhat``: ``l`` as a function of free ``xhat``; ``dvar``: of ``(x, mu, sigma^2)`` with
    ``mu, sigma^2`` free; ``dmean``: of ``(x, mu)`` with ``sigma^2 = sum (x_i - mu)^2/m``;
    ``dx``, ``dgamma``, ``dbeta``: of the full forward pass (the computational graph of
    Ioffe & Szegedy 2015, Alg. 1).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    m, dy, gamma, beta = sym.m, sym.dy, sym.gamma, sym.beta
    if target == "dxhat":
        xh = sp.symbols(f"xh1:{m + 1}", real=True)
        loss = sp.Add(*[d * (gamma * v + beta) for d, v in zip(dy, xh, strict=False)])
        return [sp.diff(loss, v) for v in xh]
    if target in ("dvar", "dmean"):
        mu_f, var_f = sp.Symbol("MU", real=True), sp.Symbol("VAR", nonnegative=True)
        loss = sp.Add(
            *[
                d * (gamma * (xi - mu_f) / sp.sqrt(var_f + sym.eps_term) + beta)
                for d, xi in zip(dy, sym.x, strict=False)
            ]
        )
        if target == "dvar":
            return sp.diff(loss, var_f).xreplace({mu_f: sym.mu, var_f: sym.var})
        var_of_mu = sp.Add(*[(xi - mu_f) ** 2 for xi in sym.x]) / m
        return sp.diff(loss.xreplace({var_f: var_of_mu}), mu_f).xreplace({mu_f: sym.mu})
    if target == "dx":
        return [sp.diff(sym.loss, xi) for xi in sym.x]
    if target == "dgamma":
        return sp.diff(sym.loss, gamma)
    return sp.diff(sym.loss, beta)


def _as_list(e) -> list:
    return list(e) if isinstance(e, (list, tuple)) else [e]


def _all_vanish(exprs, sym: BNSymbols) -> tuple[bool, str]:
    details = []
    for k, e in enumerate(exprs):
        ok, det = vanishes(e, sym)
        if not ok:
            return False, f"component {k}: {det}"
        details.append(det)
    return True, f"{len(details)} component(s): " + ", ".join(sorted(set(details)))


def _item(name, statement, fn, proven_for, source) -> IdentityResult:
    t0 = time.perf_counter()
    holds, detail = fn()
    return IdentityResult(
        name, statement, bool(holds), proven_for, time.perf_counter() - t0, detail, source
    )


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
def _sum(es) -> sp.Expr:
    return sp.Add(*es)


def _dot(a, b) -> sp.Expr:
    return sp.Add(*[p * q for p, q in zip(a, b, strict=False)])


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
    """All statements proved for the concrete batch size ``m`` (items 1-9 of issue 2)."""
    pf, pf0 = f"m={m}", f"m={m}, eps=0"
    sym, sym0 = bn_symbols(m), bn_symbols(m, eps_zero=True)
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

    # 4. orthogonality of the gradient
    dx = true_derivative(sym, "dx")
    g = sym.ghat
    items.append(
        _item(
            "grad_sum_zero",
            "sum_i d l/d x_i = 0 (any eps >= 0)",
            lambda: vanishes(_sum(dx), sym),
            pf,
            IS,
        )
    )
    items.append(
        _item(
            "grad_xhat_inner_eps",
            "eps >= 0: sum_i (d l/d x_i) xhat_i = eps (sigma^2+eps)^(-3/2) sum_i ghat_i xhat_i (nonzero for eps > 0)",
            lambda: vanishes(
                _dot(dx, sym.xhat) - sym.eps * sym.base ** sp.Rational(-3, 2) * _dot(g, sym.xhat),
                sym,
            ),
            pf,
            IS,
        )
    )

    items.append(
        _item(
            "grad_orthogonal_xhat_eps0",
            "eps = 0: sum_i (d l/d x_i) xhat_i = 0",
            lambda: _specialize(items[-1], "its right side carries the factor eps"),
            pf0,
            IS,
        )
    )

    # 5. Jacobian and projection (Q below equals P for eps = 0)
    def prove_jacobian(sy):
        res = [
            sp.diff(sy.y[i], sy.x[j])
            - sy.gamma
            / sy.std
            * (sp.KroneckerDelta(i, j) - sp.Rational(1, m) - sy.xhat[i] * sy.xhat[j] / m)
            for i in range(m)
            for j in range(m)
        ]
        return _all_vanish(res, sy)

    items.append(
        _item(
            "jacobian_eps",
            "eps >= 0: dy/dx = (gamma/sqrt(sigma^2+eps)) Q, Q = I - 11^T/m - xhat xhat^T/m (xhat normalized with eps)",
            lambda: prove_jacobian(sym),
            pf,
            f"{IS}; {STS}, Fact C.1",
        )
    )
    items.append(
        _item(
            "jacobian_eps0",
            "eps = 0: dy/dx = (gamma/sigma)(I - 11^T/m - xhat xhat^T/m)",
            lambda: prove_jacobian(sym0),
            pf0,
            f"{IS}; {STS}, Fact C.1",
        )
    )
    sym.eps / sym.base  # = 1 - r, r = sigma^2/(sigma^2+eps)
    xh = sym.xhat

    def q_apply(v):
        sv, xv = _sum(v) / m, _dot(xh, v) / m
        return [vi - sv - xi * xv for vi, xi in zip(v, xh, strict=False)]

    def not_projection():
        # Q depends on x only through xhat, with sum xhat = 0 and ||xhat||^2 = m r,
        # r = sigma^2/(sigma^2+eps). Both facts are proved on the forward pass; the matrix
        # identities are then proved with xhat as free symbols h (h_m = -sum h_i), r = ||h||^2/m.
        ok_a, d_a = vanishes(_sum(xh), sym)
        ok_b, d_b = vanishes(_dot(xh, xh) - m * sym.var / sym.base, sym)
        hs = sp.symbols(f"h1:{m}", real=True)
        h = list(hs) + [-_sum(hs)]
        r = _dot(h, h) / m
        w = sp.symbols(f"w1:{m + 1}", real=True)

        def qa(v):
            sv, hv = _sum(v) / m, _dot(h, v) / m
            return [vi - sv - hi * hv for vi, hi in zip(v, h, strict=False)]

        qw = qa(w)
        res = [
            p - q + (1 - r) * hi * _dot(h, w) / m for p, q, hi in zip(qa(qw), qw, h, strict=False)
        ]
        res += [p - (1 - r) * hi for p, hi in zip(qa(h), h, strict=False)]
        res += qa([sp.Integer(1)] * m)
        res.append(_sum(1 - sp.Rational(1, m) - hi**2 / m for hi in h) - (m - 1 - r))
        ok_c = all(sp.expand(e) == 0 for e in res)
        return ok_a and ok_b and ok_c, (
            f"sum xhat = 0 [{d_a}]; ||xhat||^2 = m sigma^2/(sigma^2+eps) [{d_b}]; "
            f"{len(res)} matrix/vector identities in xhat-coordinates [{'expand to 0' if ok_c else 'FAIL'}]"
        )

    items.append(
        _item(
            "jacobian_eps_not_projection",
            "eps >= 0: Q^2 - Q = -eps/(sigma^2+eps) xhat xhat^T/m, Q xhat = eps/(sigma^2+eps) xhat, Q 1 = 0, "
            "trace Q = m - 1 - sigma^2/(sigma^2+eps): for eps > 0 Q is not a projection; singular values of dy/dx are "
            "gamma/sqrt(sigma^2+eps) (m-2 times), gamma eps/(sigma^2+eps)^(3/2) (along xhat) and 0 (along 1)",
            not_projection,
            pf,
            STS,
        )
    )
    base_item = items[-1]
    items.append(
        _item(
            "projection_idempotent",
            "eps = 0: P = I - 11^T/m - xhat xhat^T/m satisfies P^2 = P",
            lambda: _specialize(base_item, "Q^2 - Q carries the factor eps"),
            pf0,
            STS,
        )
    )
    items.append(
        _item(
            "projection_symmetric",
            "eps = 0: P^T = P",
            lambda: (
                (
                    True,
                    "entries delta_ij - 1/m - xhat_i xhat_j/m are symmetric in (i, j) (checked entrywise)",
                )
                if all(
                    sp.expand(sym0.xhat[i] * sym0.xhat[j] - sym0.xhat[j] * sym0.xhat[i]) == 0
                    for i in range(m)
                    for j in range(i + 1, m)
                )
                else (False, "asymmetric entry")
            ),
            pf0,
            STS,
        )
    )

    def rank():
        # exact rank at a rational point (x_i = i^2): xhat_i xhat_j = c_i c_j / sigma^2 is rational
        pt = [sp.Integer((i + 1) ** 2) for i in range(m)]
        mean = sp.Rational(sum(pt), m)
        c = [p - mean for p in pt]
        v = sum(ci**2 for ci in c) / m
        mat = sp.Matrix(
            m, m, lambda i, j: sp.KroneckerDelta(i, j) - sp.Rational(1, m) - c[i] * c[j] / (m * v)
        )
        r = mat.rank()
        return r == m - 2, (
            f"trace P = m - 2 (eps = 0 case of trace Q, {base_item.name}); P symmetric idempotent => rank = trace; "
            f"exact rank at x_i = i^2: {r}"
        )

    items.append(_item("projection_rank", "eps = 0: rank P = trace P = m - 2", rank, pf0, STS))

    # 6. Santurkar et al. Theorem 4.1
    items.extend(_items_theorem_41(m, dx))

    # 7. scale invariance, 8. unbiased variance, 9. convolution
    items.extend(_items_scale(m))
    items.append(_item_running_var(m))
    items.append(_item_conv(m))
    return items


def _items_theorem_41(m: int, dx) -> list[IdentityResult]:
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


def _specialize(item: IdentityResult, why: str) -> tuple[bool, str]:
    """An eps = 0 statement proved as the eps = 0 case of an identity valid for all eps >= 0."""
    return item.holds, f"eps = 0 case of {item.name} ({why}); that identity: {item.detail}"


def _items_scale(m: int) -> list[IdentityResult]:
    """Ioffe & Szegedy (2015), Sec. 3.3: BN(a W u) = BN(W u) and the 1/a gradient scaling, eps = 0."""
    pf = f"m={m}, eps=0, a>0"
    sym0 = bn_symbols(m, eps_zero=True)
    a = sp.Symbol("alpha", positive=True)

    def forward():
        scaled = [yi.xreplace({xi: a * xi for xi in sym0.x}) for yi in sym0.y]
        scaled = [normalize_radicals(e, sym0.base, sym0.s, sym0.x) for e in scaled]
        return _all_vanish([p - q for p, q in zip(scaled, sym0.y, strict=False)], sym0)

    # W is 1 x d. d = 1 keeps the proof cheap at m = 8; the d > 1 case adds nothing, since
    # d l/dW_k = sum_i (d l/dz_i) u_ki is linear in the rows of u (checked with d = 2 for
    # m <= 4, where it is affordable).
    d = 2 if m <= 4 else 1
    w = sp.symbols(f"w1:{d + 1}", real=True)
    uu = [sp.symbols(f"v{k + 1}_1:{m + 1}", real=True) for k in range(d)]
    z = [_sum(w[k] * uu[k][i] for k in range(d)) for i in range(m)]
    zsub = dict(zip(sym0.x, z, strict=False))
    loss_w = sym0.loss.xreplace(zsub)
    base_w = sym0.base.xreplace(zsub)
    wvars = set(w) | {v for row in uu for v in row}
    s = sym0.s

    def grads(wrt):
        g_w = [sp.diff(loss_w, v) for v in wrt]
        g_aw = [e.xreplace({wk: a * wk for wk in w}) for e in g_w]
        norm = [normalize_radicals(e, base_w, s, wvars) for e in g_w]
        norm_a = [normalize_radicals(e, base_w, s, wvars) for e in g_aw]
        return norm, norm_a

    # centered coordinates of each input row: u_ki = b_k + v_ki (i < m), u_km = b_k - sum_i v_ki
    bsym = sp.symbols(f"b1:{d + 1}", real=True)
    vsym = [sp.symbols(f"c{k + 1}_1:{m}", real=True) for k in range(d)]
    cmap = {}
    for k in range(d):
        cmap.update({uu[k][i]: bsym[k] + vsym[k][i] for i in range(m - 1)})
        cmap[uu[k][m - 1]] = bsym[k] - _sum(vsym[k])
    s2 = sp.expand(base_w.xreplace(cmap))

    def check(exprs):
        how = set()
        for k, e in enumerate(exprs):
            e = sp.expand(e.xreplace(cmap))
            if e == 0:
                how.add("expands to 0 with s free (homogeneity)")
                continue
            a_part, b_part = _reduce_mod_relation_public(e, s, s2)
            if not (a_part == 0 and b_part == 0):
                return False, f"component {k} does not vanish"
            how.add("expands to 0 after reducing s**2 = sigma_B(Wu)^2")
        return True, f"{len(exprs)} components: " + ", ".join(
            sorted(how)
        ) + "; sigma_B(aWu) = a sigma_B(Wu)"

    def weight_grad():
        g, ga = grads(w)
        return check([p - q / a for p, q in zip(ga, g, strict=False)])

    def input_grad():
        # row 1 of u only: rows are interchangeable (relabel w1 <-> w2), which halves the cost
        g, ga = grads(list(uu[0]))
        return check([p - q for p, q in zip(ga, g, strict=False)])

    return [
        _item(
            "scale_invariance_forward",
            "eps = 0, a > 0: BN(a z) = BN(z)",
            forward,
            pf,
            f"{IS}, Sec. 3.3",
        ),
        _item(
            "scale_invariance_weight_grad",
            "eps = 0, a > 0, z = W u (W: 1x2 for m <= 4, 1x1 above; batch of m inputs u): "
            "d l/d(aW) at aW = (1/a) d l/dW at W",
            weight_grad,
            pf,
            f"{IS}, Sec. 3.3",
        ),
        _item(
            "scale_invariance_input_grad",
            "eps = 0, a > 0, z = W u: d l/du at aW = d l/du at W (row 1 of u; row 2 by symmetry)",
            input_grad,
            pf,
            f"{IS}, Sec. 3.3",
        ),
    ]


def _reduce_mod_relation_public(e, s, s2):
    from bntheory.symbolic.algebra import _reduce_mod_relation

    return _reduce_mod_relation(e, s, s2)


def expected_batch_variance(m: int) -> tuple[sp.Expr, sp.Symbol, sp.Symbol]:
    """``E[sigma_B^2]`` for i.i.d. ``x_i`` with ``E x_i = mu``, ``E x_i x_j = mu^2 + sigma^2 delta_ij``.

    The biased batch variance of Ioffe & Szegedy (2015), Alg. 1, is expanded into monomials
    and the moments substituted. Returns ``(E, mu, sigma)``.
    """
    sym = bn_symbols(m)
    mu, sig = sp.symbols("mu sigma", positive=True)
    poly = sp.Poly(sp.expand(sym.var), *sym.x)
    total = sp.Integer(0)
    for monom, coeff in poly.terms():
        idx = [i for i, k in enumerate(monom) for _ in range(k)]
        if len(idx) != 2:
            raise AssertionError("batch variance must be a quadratic form")
        total += coeff * (mu**2 + (sig**2 if idx[0] == idx[1] else 0))
    return sp.expand(total), mu, sig


def _item_running_var(m: int) -> IdentityResult:
    def run():
        e, mu, sig = expected_batch_variance(m)
        ok1 = sp.expand(e - sp.Rational(m - 1, m) * sig**2) == 0
        ok2 = sp.expand(sp.Rational(m, m - 1) * e - sig**2) == 0
        return ok1 and ok2, f"E[sigma_B^2] = {e}"

    return _item(
        "running_var_unbiased",
        "i.i.d. x_i: E[sigma_B^2] = (m-1)/m sigma^2, so Alg. 2's m/(m-1) E[sigma_B^2] = sigma^2",
        run,
        f"m={m}",
        f"{IS}, Alg. 2",
    )


def _conv_shape(m: int) -> tuple[int, int, int]:
    """Split ``m' = m`` into (batch, p, q) with batch * p * q = m."""

    def spf(n):
        return next(k for k in range(2, n + 1) if n % k == 0)

    b = spf(m)
    if b == m:
        return 1, m, 1
    rest = m // b
    q = spf(rest)
    return (b, rest, 1) if q == rest else (b, rest // q, q)


def _item_conv(m: int) -> IdentityResult:
    nb, p, q = _conv_shape(m)
    sym = bn_symbols(m)

    def run():
        xs = [
            [[sp.Symbol(f"X{b}_{h}_{w}", real=True) for w in range(q)] for h in range(p)]
            for b in range(nb)
        ]
        ds = [
            [[sp.Symbol(f"D{b}_{h}_{w}", real=True) for w in range(q)] for h in range(p)]
            for b in range(nb)
        ]
        flat_x = [xs[b][h][w] for b in range(nb) for h in range(p) for w in range(q)]
        flat_d = [ds[b][h][w] for b in range(nb) for h in range(p) for w in range(q)]
        # conv-style per-channel statistics: mean of per-sample spatial means; variance over (b, h, w)
        sample_means = [
            _sum(xs[b][h][w] for h in range(p) for w in range(q)) / (p * q) for b in range(nb)
        ]
        mu = _sum(sample_means) / nb
        var = _sum(
            (xs[b][h][w] - mu) ** 2 for b in range(nb) for h in range(p) for w in range(q)
        ) / (nb * p * q)
        std = sp.sqrt(var + sym.eps)
        ys = [sym.gamma * (v - mu) / std + sym.beta for v in flat_x]
        loss = _sum(d * yv for d, yv in zip(flat_d, ys, strict=False))
        grads = [sp.diff(loss, v) for v in flat_x] + [
            sp.diff(loss, sym.gamma),
            sp.diff(loss, sym.beta),
        ]
        to_dense = dict(zip(flat_x, sym.x, strict=False)) | dict(zip(flat_d, sym.dy, strict=False))
        conv = [e.xreplace(to_dense) for e in ys + grads]
        conv = [normalize_radicals(e, sym.base, sym.s, sym.x) for e in conv]
        dense = (
            list(sym.y)
            + true_derivative(sym, "dx")
            + [true_derivative(sym, "dgamma"), true_derivative(sym, "dbeta")]
        )
        ok, det = _all_vanish([c - d for c, d in zip(conv, dense, strict=False)], sym)
        return ok, f"(batch, p, q) = ({nb}, {p}, {q}): outputs, d/dx, d/dgamma, d/dbeta: {det}"

    return _item(
        "conv_equals_dense",
        "conv BN (statistics per channel over batch and p x q locations) = dense BN on the flattened m' = m p q "
        "vector, outputs and gradients",
        run,
        f"m'={m} = {nb}*{p}*{q}",
        f"{IS}, Sec. 3.2",
    )

"""Proofs for a symbolic batch size ``m`` (valid for every m >= 2).

Method: every quantity of the closed-form backward pass is a sum over the batch of a
polynomial in per-sample symbols (``g_i = dl/dxhat_i``, ``h_i = xhat_i``, ``c_i = x_i - mu``,
``w_i`` a free vector). :func:`batch_sum` applies linearity of ``sum_i`` exactly: it expands
the summand and maps every monomial in the per-sample symbols to a named power-sum symbol
(``sum_i g_i h_i -> S[g*h]``), the constant to ``m * constant``. The constraints of
Algorithm 1 (Ioffe & Szegedy 2015) are then substitutions: ``sum_i c_i = 0``,
``sum_i h_i = 0``, ``sum_i h_i^2 = m r`` with ``r = sigma^2/(sigma^2+eps)`` (``r = 1`` at
``eps = 0``), ``h_i = c_i / s``. Matrices of the form ``alpha I + U C U^T`` with
``U = [1, xhat]`` are handled through the 2x2 Gram matrix ``U^T U = diag(m, m r)``.

Not covered for symbolic m: the chain-rule equations against ``sympy.diff`` (item 1),
which needs a concrete list of variables; see :mod:`bntheory.symbolic.backward`.
"""

from __future__ import annotations

import time

import sympy as sp

from bntheory.symbolic.report import IdentityResult

__all__ = ["batch_sum", "general_items"]

M = sp.Symbol("m", integer=True, positive=True)
G, H, C, W, Y = sp.symbols("g_i h_i c_i w_i dy_i", real=True)  # per-sample symbols
S, GAMMA, EPS, R = sp.symbols("s gamma epsilon r", positive=True)
PER_SAMPLE = (G, H, C, W, Y)
IS = "Ioffe & Szegedy (2015)"
STS = "Santurkar et al. (2018)"


def _moment(mono: sp.Expr) -> sp.Symbol:
    name = (
        "S["
        + "*".join(
            f"{b}^{e}" if e != 1 else str(b)
            for b, e in sorted(mono.as_powers_dict().items(), key=str)
        )
        + "]"
    )
    return sp.Symbol(name.replace("_i", ""), real=True)


def batch_sum(expr: sp.Expr, known: dict | None = None) -> sp.Expr:
    """``sum_{i=1}^m expr`` for ``expr`` polynomial in the per-sample symbols, by linearity.

    ``known`` maps moment symbols (as returned for a monomial) or monomials to values,
    e.g. ``{H: 0, H**2: M*R}`` for ``sum xhat = 0`` and ``sum xhat^2 = m r``.

    Parameters
    ----------
    expr : sympy.Expr
        Polynomial in the per-sample symbols.
    known : dict, optional
        Known values of moments or monomials.

    Returns
    -------
    sympy.Expr
        The sum over the batch, in the moment symbols.
    """
    known = {
        (_moment(k) if not k.is_Symbol or k in PER_SAMPLE else k): v
        for k, v in (known or {}).items()
    }
    poly = sp.Poly(sp.expand(expr), *PER_SAMPLE)
    total = sp.Integer(0)
    for monom, coeff in poly.terms():
        mono = sp.Mul(*[b**e for b, e in zip(PER_SAMPLE, monom, strict=False)])
        if mono == 1:
            total += M * coeff
        else:
            sym = _moment(mono)
            total += coeff * known.get(sym, sym)
    return sp.expand(total)


def _closed(g=G, h=H, s=S):
    """Closed form ``(m g_i - S1 - h_i S2)/(m s)`` with S1 = sum g, S2 = sum g h (derived from the chain rule of Ioffe & Szegedy 2015, Sec. 3)."""
    s1, s2 = batch_sum(G), batch_sum(G * H)
    return (M * g - s1 - h * s2) / (M * s), s1, s2


def _item(name, statement, fn, source) -> IdentityResult:
    t0 = time.perf_counter()
    holds, detail = fn()
    return IdentityResult(
        name, statement, bool(holds), "all m", time.perf_counter() - t0, detail, source
    )


def _zero(e) -> bool:
    return sp.cancel(sp.together(e)) == 0


def general_items() -> list[IdentityResult]:
    """All statements proved for a symbolic batch size ``m``.

    Returns
    -------
    list of IdentityResult
        One result per statement (``proven_for == "all m"``).
    """
    items = []
    constraints = {H: 0, H**2: M * R}  # sum xhat = 0, sum xhat^2 = m r

    def chain_to_closed():
        # paper's equations with per-sample c_i = x_i - mu, g_i = dl/dxhat_i, s = sqrt(sigma^2+eps)
        dvar = batch_sum(G * C) * sp.Rational(-1, 2) * S**-3
        dmean = batch_sum(-G / S) + dvar * batch_sum(-2 * C, {C: 0}) / M
        dx = G / S + dvar * 2 * C / M + dmean / M
        closed, _, _ = _closed(h=C / S)
        # S[g*c] = s S[g*h] since h_i = c_i / s
        diff = (dx - closed).subs(_moment(G * C), S * _moment(G * H))
        return _zero(
            diff
        ), "paper's dl/dx_i (sums as moment symbols, sum c = 0) minus closed form cancels to 0"

    items.append(
        _item(
            "closed_form_dx",
            "paper's chain-rule d l/d x_i = (m ghat_i - sum ghat - xhat_i sum ghat xhat)/(m sqrt(sigma^2+eps))",
            chain_to_closed,
            IS,
        )
    )

    def dmean_second():
        # sum_i (x_i - mu) with mu = (sum x)/m
        total = sp.Symbol("S[x]", real=True)
        return sp.expand(
            total - M * (total / M)
        ) == 0, "sum_i x_i - m * (sum_i x_i / m) = 0 for symbolic m"

    items.append(
        _item(
            "dmean_second_term_zero",
            "sum_i -2(x_i - mu)/m = 0, so the second term of d l/d mu vanishes",
            dmean_second,
            IS,
        )
    )

    closed, s1, s2 = _closed()

    def grad_sum():
        return batch_sum(
            closed * S * M, constraints
        ) == 0, "sum_i (m g_i - S1 - h_i S2) = m S1 - m S1 - 0 * S2"

    items.append(_item("grad_sum_zero", "sum_i d l/d x_i = 0 (any eps >= 0)", grad_sum, IS))

    def grad_xhat():
        val = batch_sum(closed * H, constraints)
        ok = _zero(val - (1 - R) * s2 / S)
        ok0 = _zero(val.subs(R, 1))
        return (
            ok and ok0,
            f"sum_i dl/dx_i xhat_i = {sp.factor(val)} = (1 - r) S2/s = eps/(sigma^2+eps)^(3/2) S2; 0 at r = 1",
        )

    items.append(
        _item(
            "grad_xhat_inner_eps",
            "sum_i d l/d x_i xhat_i = eps/(sigma^2+eps)^(3/2) sum ghat xhat; = 0 at eps = 0",
            grad_xhat,
            IS,
        )
    )

    def projection():
        # Q = I - U Cm U^T, U = [1, xhat], Cm = I/m, Gram U^T U = diag(m, m r)
        cm = sp.eye(2) / M
        gram = sp.diag(M, M * R)
        sq = -2 * cm + cm * gram * cm  # Q^2 = I + U sq U^T
        defect = sq - (-cm)  # Q^2 - Q = U defect U^T
        ok1 = all(_zero(e) for e in (defect - sp.diag(0, (R - 1) / M)))
        ok2 = (cm - cm.T).is_zero_matrix
        trace = M - (cm * gram).trace()
        ok3 = _zero(trace - (M - 1 - R))
        ok4 = all(_zero(e) for e in defect.subs(R, 1)) and _zero(trace.subs(R, 1) - (M - 2))
        # Q xhat = xhat - 1 (1^T xhat)/m - xhat (xhat^T xhat)/m = (1 - r) xhat
        ok5 = _zero((1 - (M * R) / M) - (1 - R))
        return ok1 and ok2 and ok3 and ok4 and ok5, (
            "Q^2 - Q = -(1 - r) xhat xhat^T/m, Q^T = Q, trace Q = m - 1 - r, Q xhat = (1 - r) xhat; "
            "at eps = 0 (r = 1): P^2 = P, trace P = m - 2 = rank P"
        )

    items.append(
        _item(
            "projection",
            "P = I - 11^T/m - xhat xhat^T/m: symmetric; at eps = 0 idempotent with rank = trace = m - 2; "
            "for eps > 0 Q^2 - Q = -eps/(sigma^2+eps) xhat xhat^T/m",
            projection,
            STS,
        )
    )

    def jacobian():
        # closed form with ghat = gamma dy equals (gamma/s) P dy componentwise
        closed_y = (M * GAMMA * Y - batch_sum(GAMMA * Y) - H * batch_sum(GAMMA * Y * H)) / (M * S)
        py = Y - batch_sum(Y) / M - H * batch_sum(Y * H) / M
        return _zero(
            closed_y - GAMMA / S * py
        ), "closed form = (gamma/s)(I - 11^T/m - xhat xhat^T/m) dy"

    items.append(
        _item(
            "jacobian",
            "d l/d x = (gamma/sqrt(sigma^2+eps)) (I - 11^T/m - xhat xhat^T/m) d l/d y",
            jacobian,
            STS,
        )
    )

    def thm41():
        cy = (M * Y - batch_sum(Y) - H * batch_sum(Y * H)) * GAMMA / (M * S)
        lhs = batch_sum(sp.expand(cy**2), constraints)
        n = batch_sum(Y**2) - batch_sum(Y) ** 2 / M
        t = batch_sum(Y * H) ** 2 / M
        gap = lhs - (GAMMA**2 / S**2 * (n - t) - GAMMA**2 * (1 - R) / S**2 * t)
        ok_gap = _zero(gap)
        ok_eq = _zero((lhs - GAMMA**2 / S**2 * (n - t)).subs(R, 1))
        return ok_gap and ok_eq, (
            "||d l/d y||^2 = gamma^2/s^2 (N - T) - gamma^2 (1 - r)/s^2 T with 1 - r = eps/(sigma^2+eps); "
            "equality in Thm 4.1 at eps = 0"
        )

    items.append(
        _item(
            "thm41_eps_gap",
            "||d l/d y||^2 = gamma^2/(sigma^2+eps)(N - T) - gamma^2 eps/(sigma^2+eps)^2 T (equality at eps = 0)",
            thm41,
            f"{STS}, Thm 4.1",
        )
    )

    def running_var():
        from sympy.concrete.delta import deltasummation

        i, j = sp.symbols("i j", integer=True, positive=True)
        mu, sig = sp.symbols("mu sigma", positive=True)
        # E[x_i x_j] = mu^2 + sigma^2 delta_ij
        e_sq = sp.Sum(mu**2 + sig**2, (i, 1, M)).doit()
        e_cross = (
            sp.Sum(mu**2, (i, 1, M), (j, 1, M)).doit()
            + sig**2
            * sp.Sum(
                deltasummation(sp.KroneckerDelta(i, j), (j, 1, M), no_piecewise=True), (i, 1, M)
            ).doit()
        )
        e_var = e_sq / M - e_cross / M**2
        ok = _zero(e_var - (M - 1) / M * sig**2) and _zero(M / (M - 1) * e_var - sig**2)
        return ok, f"E[sigma_B^2] = {sp.factor(e_var)}"

    items.append(
        _item(
            "running_var_unbiased",
            "E[sigma_B^2] = (m-1)/m sigma^2; m/(m-1) E[sigma_B^2] = sigma^2",
            running_var,
            f"{IS}, Alg. 2",
        )
    )

    def scale():
        # var(a z) = a^2 var(z) (moments of z scale by a^2), hence s(az) = a s(z) for a > 0 at eps = 0,
        # xhat(az) = xhat(z) and the closed-form gradient scales by 1/a
        a = sp.Symbol("alpha", positive=True)
        var_z = batch_sum(C**2) / M
        var_az = batch_sum((a * C) ** 2) / M
        ok1 = _zero(var_az - a**2 * var_z)
        closed_a = (M * G - batch_sum(G) - H * batch_sum(G * H)) / (M * sp.sqrt(a**2 * S**2))
        ok2 = _zero(closed_a - closed / a)
        return (
            ok1 and ok2,
            "var(az) = a^2 var(z), sqrt(var(az)) = a s; closed form at az = (1/a) closed form at z",
        )

    items.append(
        _item(
            "scale_invariance",
            "eps = 0, a > 0: BN(a z) = BN(z) and d l/d z at a z = (1/a) d l/d z at z (so d l/d(aW) = (1/a) d l/dW)",
            scale,
            f"{IS}, Sec. 3.3",
        )
    )
    return items

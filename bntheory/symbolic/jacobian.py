"""Proofs about the Jacobian of BN for a concrete batch size: gradient orthogonality, the
Jacobian as ``gamma/sigma`` times a projection, and what it is for ``eps > 0``.

Sources: Ioffe & Szegedy (2015), "Batch Normalization", Sec. 3; Santurkar, Tsipras, Ilyas
& Madry (2018), "How Does Batch Normalization Help Optimization?", Fact C.1.
"""

from __future__ import annotations

import sympy as sp

from bntheory.symbolic._proof import IS, STS, _all_vanish, _dot, _item, _specialize, _sum
from bntheory.symbolic.algebra import bn_symbols, vanishes
from bntheory.symbolic.report import IdentityResult

__all__ = ["jacobian_items"]


def jacobian_items(m: int, dx: list[sp.Expr]) -> list[IdentityResult]:
    """Items 4-5 for batch size ``m``: ``sum dl/dx = 0``, the inner product with ``xhat``,
    the Jacobian ``dy/dx`` and the projection ``P`` (symmetric, idempotent, rank ``m - 2``).

    Parameters
    ----------
    m : int
        Batch size (at least 2).
    dx : list of sympy.Expr
        The true ``dl/dx`` of :func:`bntheory.symbolic.derivatives.true_derivative`.

    Returns
    -------
    list of IdentityResult
        One result per statement, in the order of the report.
    """
    pf, pf0 = f"m={m}", f"m={m}, eps=0"
    sym, sym0 = bn_symbols(m), bn_symbols(m, eps_zero=True)
    items: list[IdentityResult] = []
    # 4. orthogonality of the gradient
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
    return items

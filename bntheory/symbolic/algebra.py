"""Symbolic building blocks: Algorithm 1 of Ioffe & Szegedy (2015) for a concrete batch.

The forward pass is built literally (``mu``, ``var``, ``xhat``, ``y``) over symbols
``x_1..x_m``; derivatives are taken with :func:`sympy.diff`. To decide whether a
difference of two expressions is *exactly* zero without calling ``simplify`` on large
expressions, :func:`vanishes` applies three exact rewritings and then expands:

1. every power of ``var + eps`` becomes a power of a positive symbol ``s`` (so
   ``sqrt(var + eps) -> s``) and any remaining ``eps`` becomes ``s**2 - var``; this is a
   change of variables ``(x, eps) -> (x, s)``, so an expression vanishes identically in
   ``(x, s)`` iff it vanishes for all ``(x, eps)``;
2. ``x_i -> a + u_i`` (``i < m``), ``x_m -> a - sum(u)``: a bijective linear change of
   variables after which ``x_i - mu`` is the single symbol ``u_i`` (this makes the
   expansion about 10x cheaper);
3. for ``eps = 0`` (``s**2 = var`` is then a relation, not a free variable) the expanded
   Laurent polynomial in ``s`` is reduced modulo ``s**2 - var`` to ``A + B s`` and both
   ``A`` and ``B`` must expand to 0 (sufficient for the identity).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from bntheory._checks import as_int

__all__ = ["BNSymbols", "bn_symbols", "vanishes", "normalize_radicals", "MAX_M"]


@dataclass(frozen=True, slots=True)
class BNSymbols:
    """Symbols and forward-pass expressions of Algorithm 1 (Ioffe & Szegedy, 2015) for one batch.

    Attributes
    ----------
    m : int
        Batch size.
    x, dy : tuple of Symbol
        Inputs ``x_1..x_m`` and upstream gradients ``dl/dy_i``.
    gamma, beta, eps : Symbol
        Scale, shift and the variance offset (``eps`` is unused when ``eps_zero``).
    eps_zero : bool
        Whether the expressions are built with ``eps = 0``.
    eps_term : Expr
        ``eps`` or ``0``.
    mu, var, base, std : Expr
        ``mu_B = sum(x)/m``, ``sigma_B^2 = sum((x - mu)^2)/m``, ``base = var + eps_term``,
        ``std = sqrt(base)``.
    centered, xhat, y : tuple of Expr
        ``x_i - mu``, ``xhat_i = (x_i - mu)/std`` and ``y_i = gamma*xhat_i + beta``.
    loss : Expr
        ``l = sum_i dy_i * y_i``; its gradient is the vector-Jacobian product that the
        backward pass computes.
    s : Symbol
        Positive symbol standing for ``std`` in the proofs.
    a, u : Symbol, tuple of Symbol
        Centered coordinates: ``x_i = a + u_i`` (i < m), ``x_m = a - sum(u)``.
    """

    m: int
    x: tuple
    dy: tuple
    gamma: sp.Symbol
    beta: sp.Symbol
    eps: sp.Symbol
    eps_zero: bool
    eps_term: sp.Expr
    mu: sp.Expr
    var: sp.Expr
    base: sp.Expr
    std: sp.Expr
    centered: tuple
    xhat: tuple
    y: tuple
    loss: sp.Expr
    s: sp.Symbol
    a: sp.Symbol
    u: tuple
    center_map: dict
    var_centered: sp.Expr

    @property
    def ghat(self) -> list:
        """``dl/dxhat_i = dy_i * gamma`` (the paper's first backward equation)."""
        return [d * self.gamma for d in self.dy]


#: Largest batch size :func:`bn_symbols` builds unless the caller raises ``max_m``. Measured
#: on one core (SymPy 1.14): m = 64 takes 0.75 s, 128 takes 3.1 s, 256 takes 8.9 s (the
#: expanded centred variance has O(m^2) terms), and every proof built on top costs far more.
MAX_M = 64


@lru_cache(maxsize=64, typed=True)  # typed: bn_symbols(2.0) must not hit the cache of 2
def bn_symbols(m: int, *, eps_zero: bool = False, max_m: int = MAX_M) -> BNSymbols:
    """Build Algorithm 1 of Ioffe & Szegedy (2015) symbolically for batch size ``m``.

    Parameters
    ----------
    m : int
        Batch size, at least 2.
    eps_zero : bool
        Build with ``eps = 0`` (``xhat`` then has ``sum xhat_i^2 = m`` exactly).
    max_m : int
        Refuse ``m`` above this (default :data:`MAX_M`): the build is O(m^2) in SymPy terms,
        so a huge ``m`` would run for hours or exhaust the memory.

    Returns
    -------
    BNSymbols
        The symbols and expressions of the forward pass (cached per ``(m, eps_zero)``).

    Raises
    ------
    ValueError
        If ``m < 2`` or ``m > max_m``.
    """
    max_m = as_int(max_m, "max_m", minimum=2)
    m = as_int(m, "m", minimum=2)
    if m > max_m:
        raise ValueError(
            f"m = {m} is above the symbolic size limit max_m = {max_m} (the build is O(m^2) "
            "SymPy terms); pass max_m to raise it"
        )
    x = sp.symbols(f"x1:{m + 1}", real=True)
    dy = sp.symbols(f"dy1:{m + 1}", real=True)
    gamma, beta = sp.symbols("gamma beta", real=True)
    eps = sp.Symbol("epsilon", nonnegative=True)
    s = sp.Symbol("s", positive=True)
    a = sp.Symbol("a", real=True)
    u = sp.symbols(f"u1:{m}", real=True)
    eps_term = sp.Integer(0) if eps_zero else eps
    mu = sp.Add(*x) / m
    centered = tuple(xi - mu for xi in x)
    var = sp.Add(*[ci**2 for ci in centered]) / m
    base = var + eps_term
    std = sp.sqrt(base)
    xhat = tuple(ci / std for ci in centered)
    y = tuple(gamma * xh + beta for xh in xhat)
    loss = sp.Add(*[d * yi for d, yi in zip(dy, y, strict=False)])
    center_map = {xi: a + ui for xi, ui in zip(x[:-1], u, strict=False)}
    center_map[x[-1]] = a - sp.Add(*u)
    var_centered = sp.expand(var.xreplace(center_map))
    return BNSymbols(
        m=m,
        x=x,
        dy=dy,
        gamma=gamma,
        beta=beta,
        eps=eps,
        eps_zero=eps_zero,
        eps_term=eps_term,
        mu=mu,
        var=var,
        base=base,
        std=std,
        centered=centered,
        xhat=xhat,
        y=y,
        loss=loss,
        s=s,
        a=a,
        u=u,
        center_map=center_map,
        var_centered=var_centered,
    )


def normalize_radicals(
    expr: sp.Expr, base: sp.Expr, s: sp.Symbol, variables: Iterable[sp.Symbol]
) -> sp.Expr:
    """Replace every half-integer power ``b**(k/2)`` with ``b = c * base`` (``c`` free of
    ``variables``) by ``c**(k/2) * s**k``.

    Used where the same variance appears with a different expression tree (conv-style
    nested statistics, or ``var(a*z) = a**2 var(z)`` in the scale-invariance proof).

    Parameters
    ----------
    expr : sympy.Expr
        The expression to rewrite.
    base : sympy.Expr
        The variance expression ``b`` is compared with.
    s : sympy.Symbol
        The symbol standing for ``sqrt(base)``.
    variables : iterable of sympy.Symbol
        The per-sample symbols (``c`` must be free of them).

    Returns
    -------
    sympy.Expr
        The rewritten expression.
    """
    base_exp = sp.expand(base)
    variables = set(variables)
    cache: dict = {}

    def ratio(b):
        if b not in cache:
            if b == base:
                cache[b] = sp.Integer(1)
            else:
                # ratio from one coefficient, then verified exactly (no polynomial gcd)
                bexp = sp.expand(b)
                lead = sp.Add.make_args(base_exp)[0]
                coeff, mono = lead.as_independent(*variables, as_Add=False)
                r = sp.cancel(bexp.coeff(mono) / coeff) if mono != 1 else None
                ok = (
                    r is not None
                    and r != 0
                    and not (r.free_symbols & variables)
                    and sp.expand(bexp - r * base_exp) == 0
                )
                cache[b] = r if ok else None
        return cache[b]

    def is_target(e):
        return e.is_Pow and e.exp.is_Rational and e.exp.q == 2 and ratio(e.base) is not None

    return expr.replace(is_target, lambda e: ratio(e.base) ** e.exp * s ** (2 * e.exp))


def _reduce_mod_relation(e: sp.Expr, s: sp.Symbol, s2: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Reduce a Laurent polynomial in ``s`` modulo ``s**2 = s2``: return ``(A, B)`` with
    ``e = (A + B s) / s**(2K)`` for some K."""
    terms = sp.Add.make_args(e)
    k = 0
    for t in terms:
        p = sp.sympify(t.as_powers_dict().get(s, 0))
        if p.is_number and p < 0:
            k = max(k, int(-p))
    k += k % 2  # even shift, so the division by s**k is a power of s2
    poly = sp.Poly(sp.expand(e * s**k), s)
    even, odd = [], []
    for (deg,), coeff in poly.terms():
        (even if deg % 2 == 0 else odd).append(coeff * s2 ** (deg // 2))
    return sp.expand(sp.Add(*even)), sp.expand(sp.Add(*odd))


def vanishes(expr: sp.Expr, sym: BNSymbols) -> tuple[bool, str]:
    """Decide exactly whether ``expr`` (built from ``sym``) is identically zero.

    Returns ``(holds, detail)``; see the module docstring for the method.

    Parameters
    ----------
    expr : sympy.Expr
        The difference of a statement's two sides.
    sym : BNSymbols
        The symbolic batch ``expr`` is built from.

    Returns
    -------
    tuple
        ``(holds, detail)``: whether ``expr`` is identically 0, and how it was reduced.
    """
    e = expr.xreplace({sym.base: sym.s**2})
    if not sym.eps_zero:
        e = e.xreplace({sym.eps: sym.s**2 - sym.var})
    e = sp.expand(e.xreplace(sym.center_map))
    if e == 0:
        return True, "expands to 0"
    if sym.eps_zero and e.has(sym.s):
        try:
            a_part, b_part = _reduce_mod_relation(e, sym.s, sym.var_centered)
        except sp.PolynomialError:
            a_part = b_part = None
        if a_part == 0 and b_part == 0:
            return True, "expands to 0 after reducing s**2 = sigma_B^2 (eps = 0)"
    # rational remainder (e.g. a 1/sigma_B^2 factor): compare the numerator
    num = sp.expand(sp.numer(sp.together(e)))
    if num == 0:
        return True, "numerator expands to 0"
    if sym.eps_zero and num.has(sym.s):
        try:
            a_part, b_part = _reduce_mod_relation(num, sym.s, sym.var_centered)
        except sp.PolynomialError:
            a_part = b_part = None
        if a_part == 0 and b_part == 0:
            return True, "numerator expands to 0 after reducing s**2 = sigma_B^2"
    text = str(e)
    return False, "residual does not vanish: " + (text[:200] + "..." if len(text) > 200 else text)

"""The true derivatives of the BN forward pass, by :func:`sympy.diff` (the proofs' reference).

Source: Ioffe & Szegedy (2015), "Batch Normalization", Alg. 1 (the forward pass whose
computational graph is differentiated).
"""

from __future__ import annotations

import sympy as sp

from bntheory.symbolic.algebra import BNSymbols

__all__ = ["TARGETS", "true_derivative"]

TARGETS = ("dxhat", "dvar", "dmean", "dx", "dgamma", "dbeta")


def true_derivative(sym: BNSymbols, target: str):
    """The true derivative named ``target`` of ``l = sum_i dy_i y_i``, by :func:`sympy.diff`.

    ``dxhat``: ``l`` as a function of free ``xhat``; ``dvar``: of ``(x, mu, sigma^2)`` with
    ``mu, sigma^2`` free; ``dmean``: of ``(x, mu)`` with ``sigma^2 = sum (x_i - mu)^2/m``;
    ``dx``, ``dgamma``, ``dbeta``: of the full forward pass (the computational graph of
    Ioffe & Szegedy 2015, Alg. 1).

    Parameters
    ----------
    sym : BNSymbols
        The symbolic batch.
    target : {"dxhat", "dvar", "dmean", "dx", "dgamma", "dbeta"}
        Which derivative.

    Returns
    -------
    sympy.Expr or list of sympy.Expr
        A list of ``m`` expressions for ``dxhat`` and ``dx``, one expression otherwise.
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

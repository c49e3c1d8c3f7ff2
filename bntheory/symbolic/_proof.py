"""Helpers shared by the symbolic proofs: run one statement, reduce differences to 0."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import sympy as sp

from bntheory.symbolic.algebra import BNSymbols, vanishes
from bntheory.symbolic.report import IdentityResult

IS = "Ioffe & Szegedy (2015)"
STS = "Santurkar et al. (2018)"


def _as_list(e: object) -> list:
    return list(e) if isinstance(e, (list, tuple)) else [e]


def _all_vanish(exprs: Sequence[sp.Expr], sym: BNSymbols) -> tuple[bool, str]:
    details = []
    for k, e in enumerate(exprs):
        ok, det = vanishes(e, sym)
        if not ok:
            return False, f"component {k}: {det}"
        details.append(det)
    return True, f"{len(details)} component(s): " + ", ".join(sorted(set(details)))


def _item(
    name: str,
    statement: str,
    fn: Callable[[], tuple[bool, str]],
    proven_for: str,
    source: str,
) -> IdentityResult:
    t0 = time.perf_counter()
    holds, detail = fn()
    return IdentityResult(
        name, statement, bool(holds), proven_for, time.perf_counter() - t0, detail, source
    )


def _sum(es: Iterable[sp.Expr]) -> sp.Expr:
    return sp.Add(*es)


def _dot(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*[p * q for p, q in zip(a, b, strict=False)])


def _specialize(item: IdentityResult, why: str) -> tuple[bool, str]:
    """An eps = 0 statement proved as the eps = 0 case of an identity valid for all eps >= 0."""
    return item.holds, f"eps = 0 case of {item.name} ({why}); that identity: {item.detail}"

"""Items of :func:`bntheory.symbolic.verify_backward` looked up by name, for the claims.

The SymPy report is computed once per process (``m = 4`` plus the proofs for symbolic
``m``) and cached. A claim names the identities it relies on; a name that the report does
not contain raises ``KeyError`` (the claim then shows ``error``, not a silent pass).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from bntheory.claims.core import Outcome, Verdict, worst

#: Batch size of the concrete proofs.
M = 4


@lru_cache(maxsize=2)
def report(m: int = M):
    """``verify_backward(m)`` (cached)."""
    from bntheory.symbolic import verify_backward

    return verify_backward(m=m)


def items(names: tuple[str, ...], m: int = M) -> list:
    """Every report item whose name is in ``names`` (an identity may be proven both for
    ``m = 4`` and for all ``m``); ``KeyError`` naming the missing ones."""
    rep = report(m)
    found = [it for it in rep.items if it.name in names]
    missing = sorted(set(names) - {it.name for it in found})
    if missing:
        raise KeyError(f"names not in verify_backward report: {missing}")
    return found


def verdict(names: tuple[str, ...], m: int = M) -> tuple[Verdict, str, dict]:
    """``HOLDS`` iff every named item is proven; a one-line summary and numbers."""
    its = items(names, m)
    ok = sum(1 for it in its if it.holds)
    failed = sorted({it.name for it in its if not it.holds})
    v = Verdict.HOLDS if ok == len(its) else Verdict.REFUTED
    text = f"SymPy: {ok}/{len(its)} proofs of {', '.join(names)}" + (
        f" (failed: {', '.join(failed)})" if failed else ""
    )
    return v, text, {"symbolic_items": float(len(its)), "symbolic_proven": float(ok)}


def add_symbolic(outcome: Outcome, names: tuple[str, ...]) -> Outcome:
    """Combine a numerical outcome with the SymPy proofs of ``names``: the verdict is the
    less favourable of the two, the summary and numbers are appended."""
    v, text, nums = verdict(names)
    if outcome.verdict is Verdict.NOT_TESTABLE:
        return outcome
    return replace(
        outcome,
        verdict=worst(outcome.verdict, v),
        measured=f"{outcome.measured}; {text}",
        numbers=dict(outcome.numbers) | nums,
    )

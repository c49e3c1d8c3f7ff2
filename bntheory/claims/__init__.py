"""The claims ledger: one :class:`Claim` per checkable statement of the reference article.

>>> from bntheory.claims import all_claims, run_claims
>>> results = run_claims(all_claims(), quick=True, seed=0)   # doctest: +SKIP

Each claim's ``check(quick, rng)`` computes an :class:`Outcome` whose verdict is decided
from the measured numbers (``holds``, ``holds-with-correction``, ``refuted``,
``inconclusive``, ``not-testable-here``); the runner turns exceptions into ``error``.
"""

from __future__ import annotations

from bntheory.claims.core import (
    METHODS,
    SECTIONS,
    Claim,
    Outcome,
    Verdict,
    decide_at_least,
    decide_at_most,
    decide_attribution,
    decide_close,
    not_testable,
)
from bntheory.claims.registry import all_claims, get_claim
from bntheory.claims.report import format_table, report_dict, summary_counts, to_markdown
from bntheory.claims.runner import ClaimResult, run_claim, run_claims, select

__all__ = [
    "METHODS",
    "SECTIONS",
    "Claim",
    "ClaimResult",
    "Outcome",
    "Verdict",
    "all_claims",
    "decide_at_least",
    "decide_at_most",
    "decide_attribution",
    "decide_close",
    "format_table",
    "get_claim",
    "not_testable",
    "report_dict",
    "run_claim",
    "run_claims",
    "select",
    "summary_counts",
    "to_markdown",
]

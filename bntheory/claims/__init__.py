"""The claims ledger: one :class:`Claim` per checkable statement of the reference article.

>>> from bntheory.claims import all_claims, run_claims
>>> results = run_claims(all_claims(), quick=True, seed=0)   # doctest: +SKIP

Each claim declares its literal (and optionally corrected) reading as data; its
``check(quick, rng)`` returns a :class:`Measurement`, and the runner decides the verdict
with the one rule of :mod:`bntheory.claims.core` (``holds``, ``holds-with-correction``,
``refuted``, ``inconclusive``, ``not-testable-here``); exceptions become ``error``.
"""

from __future__ import annotations

from bntheory.claims.core import (
    METHODS,
    SECTIONS,
    Claim,
    Measurement,
    Outcome,
    P,
    Predicate,
    Reading,
    SourceFact,
    Unavailable,
    Verdict,
    decide,
)
from bntheory.claims.registry import all_claims, get_claim
from bntheory.claims.report import format_table, report_dict, summary_counts, to_markdown
from bntheory.claims.runner import ClaimResult, run_claim, run_claims, select

__all__ = [
    "METHODS",
    "SECTIONS",
    "Claim",
    "ClaimResult",
    "Measurement",
    "Outcome",
    "P",
    "Predicate",
    "Reading",
    "SourceFact",
    "Unavailable",
    "Verdict",
    "all_claims",
    "decide",
    "format_table",
    "get_claim",
    "report_dict",
    "run_claim",
    "run_claims",
    "select",
    "summary_counts",
    "to_markdown",
]

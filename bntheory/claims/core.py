"""The claims ledger's records and its one decision rule.

The rule (every verdict is a pre-registered measurement)
-------------------------------------------------------
1. **Pre-registered readings.** Every :class:`Claim` declares, as data, before anything
   runs: the article's *literal reading* as a measurable :class:`Reading` (one or more
   :class:`Predicate`: quantity, comparison, stated value, tolerance, and *why* that
   tolerance: a float-error analysis, a Monte Carlo standard error, the article's own
   rounding), and optionally a *corrected reading* (same form, with its source). The check
   only measures: it returns a :class:`Measurement` (named values and, for stochastic
   quantities, confidence intervals). :func:`decide` computes the verdict from both
   readings:

   - literal holds -> ``holds``;
   - literal fails and corrected holds -> ``holds-with-correction``;
   - both fail (or literal fails and there is no corrected reading) -> ``refuted``;
   - a confidence interval straddles a threshold of the reading being decided ->
     ``inconclusive``.

   There is no flag that forces a verdict and no code that rewrites one afterwards; the
   section modules do not import :class:`Verdict` at all (a test greps for it).
2. **Two kinds of evidence, labelled.** ``evidence="measured"`` claims run the library.
   ``evidence="source"`` claims store what a cited paper reports (its table values, its
   data set, its attribution) as :class:`SourceFact` data with the citation, and decide
   with the same predicates; reports label them "checked against the source", never
   "measured". A claim that neither can decide is ``not-testable-here`` with its reason
   (``Claim.untestable``), and a check whose optional dependency or data is missing raises
   :class:`Unavailable`, which the runner reports as ``not-testable-here`` with that reason
   (never a substitute under the same label).
3. **Statistics, not unanimity.** Stochastic measurements run over a pre-registered number
   of seeds (:func:`measurement_seeds`, from ``SeedSequence.spawn``) and report a
   confidence interval of the effect (:mod:`bntheory.claims.stats`: t-intervals of means,
   of paired log ratios, of convergence exponents), so one outlier seed neither flips nor
   decides the verdict. Rates near 1 are compared as exponents ``-log(rate)``.
4. **A check must be able to fail.** Every measured claim has a mutation test in
   ``tests/claims/`` that feeds it a broken ingredient and asserts that the verdict changes.
5. **Stable.** Verdicts are the same for master seeds 0-4 and in quick and full mode; a
   claim whose quick run cannot reach the full verdict says so in ``Claim.quick_note``, and
   a claim whose effect sits on a threshold (so that its verdict moves between
   ``inconclusive`` and one decided verdict across seeds) declares it in
   ``Claim.stability_note``, shown in every report.
6. **No silent substitutes** (see 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from bntheory.claims.measurement import _clean_value
from bntheory.claims.rule import (  # noqa: F401 - re-exported
    EVIDENCE,
    OPS,
    Measurement,
    P,
    Predicate,
    Reading,
    SourceFact,
    Unavailable,
    Verdict,
    decide,
)
from bntheory.claims.seeding import (  # noqa: F401 - re-exported; runner imports the ContextVars
    _MASTER_SEED,
    _RUN_CACHE,
    N_SEEDS,
    measurement_seeds,
    one_blas_thread,
    per_seed,
    shared_result,
    subseeds,
)

__all__ = [
    "EVIDENCE",
    "METHODS",
    "OPS",
    "SECTIONS",
    "Claim",
    "Measurement",
    "Outcome",
    "P",
    "Predicate",
    "Reading",
    "SourceFact",
    "Unavailable",
    "Verdict",
    "decide",
    "measurement_seeds",
    "one_blas_thread",
    "per_seed",
    "shared_result",
    "subseeds",
    "untestable_check",
]


#: Sections of the reference article, in reading order: ``slug -> title``.
SECTIONS: dict[str, str] = {
    "headline": "Headline numbers and history",
    "internal-covariate-shift": "Internal covariate shift and its modern interpretations",
    "forward-pass": "Forward pass normalization",
    "backpropagation": "Backpropagation through normalization",
    "inference": "Inference phase",
    "loss-landscape": "Loss landscape smoothness",
    "covariate-shift-quantification": "Covariate shift quantification",
    "gradient-flow": "Gradient flow stabilization",
    "parameter-decoupling": "Parameter decoupling",
    "least-squares": "Least-squares convergence",
    "halfspace": "Halfspace learning",
}

#: Allowed values of :attr:`Claim.method`.
METHODS = ("symbolic", "numerical", "experiment", "literature")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check measured and the verdict computed from it.

    Parameters
    ----------
    verdict : Verdict
        Computed by a ``decide_*`` helper (or ``not_testable``).
    measured : str
        One line, human readable: what was measured.
    numbers : mapping of str to float
        The measured numbers the verdict was computed from (NaN/inf stored as ``None``).
    note : str
        The correction (for ``holds-with-correction`` / ``refuted``), the reason (for
        ``not-testable-here``) and the substitute that was run, or other context.
    """

    verdict: Verdict
    measured: str
    numbers: Mapping[str, float | None] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.verdict, Verdict):
            raise TypeError(f"verdict must be a Verdict, got {type(self.verdict).__name__}")
        if self.verdict is Verdict.ERROR:
            raise ValueError("verdict must not be ERROR: the runner assigns it when a check raises")
        if not isinstance(self.measured, str):
            raise TypeError("measured must be a str")
        try:
            numbers = dict(self.numbers)
        except (TypeError, ValueError):
            raise TypeError("numbers must be a mapping of names to numbers") from None
        clean = {str(k): _clean_value(v, f"numbers[{k!r}]") for k, v in numbers.items()}
        object.__setattr__(self, "numbers", clean)

    def to_dict(self) -> dict[str, object]:
        """The outcome as a JSON-able dict (the ``outcome`` part of a ledger entry).

        Returns
        -------
        dict
            ``{"verdict": str, "measured": str, "numbers": {name: float or None},
            "note": str}``; the verdict as its string value (``"holds"``, ...).
        """
        return {
            "verdict": self.verdict.value,
            "measured": self.measured,
            "numbers": dict(self.numbers),
            "note": self.note,
        }


CheckFn = Callable[[bool, np.random.Generator], "Measurement | Outcome"]


@dataclass(frozen=True, slots=True)
class Claim:
    """One checkable statement of the reference article.

    Parameters
    ----------
    id : str
        Short stable id, ``"<prefix>-<nn>"``, e.g. ``"fwd-01"``.
    section : str
        A key of :data:`SECTIONS`.
    quote : str
        A short quote of the article.
    source : str
        The paper the article attributes it to (or that the check uses), with equation,
        theorem or figure, e.g. ``"Ioffe & Szegedy (2015), Alg. 1"``.
    method : str
        One of :data:`METHODS`.
    stated : str
        The value or bound the article states.
    check : callable
        ``check(quick, rng) -> Measurement``; a module-level function (picklable). It
        measures and never decides.
    literal : Reading, optional
        The article's literal reading (required unless ``untestable``).
    corrected : Reading, optional
        A corrected reading, with its ``source``.
    evidence : {"measured", "source", "none"}
        ``"source"``: the check returns a cited paper's facts (:class:`SourceFact`);
        ``"none"``: nothing here can decide it (``untestable`` says why).
    untestable : str
        For ``evidence="none"``: why no computation here can touch the statement.
    explain : str
        Prose for paper_notes.md: a ``str.format`` template whose fields name the
        measurement's values (``{rate:.4f}``), so no number in the notes is typed by hand.
    quick_note : str
        Where quick mode cannot reach the full verdict: what differs (shown in quick reports).
    stability_note : str
        Declared when the measured effect sits so close to a threshold of the readings that
        the verdict moves between ``inconclusive`` and one decided verdict across master
        seeds at any affordable sample size: why (shown in every report). The stability test
        allows such a claim only that one flip, never holds <-> refuted.
    """

    id: str
    section: str
    quote: str
    source: str
    method: str
    stated: str
    check: CheckFn = field(repr=False, compare=False)
    literal: Reading | None = None
    corrected: Reading | None = None
    evidence: str = "measured"
    untestable: str = ""
    explain: str = ""
    quick_note: str = ""
    stability_note: str = ""

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"section must be one of {sorted(SECTIONS)}, got {self.section!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not callable(self.check):
            raise TypeError("check must be callable")
        if self.evidence not in EVIDENCE:
            raise ValueError(f"evidence must be one of {EVIDENCE}, got {self.evidence!r}")
        if self.evidence == "none" and not self.untestable:
            raise ValueError(f"{self.id}: evidence='none' needs the reason in untestable")
        if self.corrected is not None and self.literal is None:
            raise ValueError(f"{self.id}: a corrected reading needs a literal reading")
        if self.corrected is not None and not self.corrected.source:
            raise ValueError(f"{self.id}: the corrected reading must name its source")

    def describe(self) -> dict[str, object]:
        """The claim's declared data (everything but the check function), JSON-able.

        Returns
        -------
        dict
            ``id``, ``section``, ``quote``, ``source``, ``method``, ``stated``,
            ``evidence``, ``untestable``, ``quick_note``, ``stability_note`` (str) and the
            ``literal`` / ``corrected`` readings as :meth:`Reading.to_dict` dicts (None
            when the claim declares none).
        """
        return {
            "id": self.id,
            "section": self.section,
            "quote": self.quote,
            "source": self.source,
            "method": self.method,
            "stated": self.stated,
            "evidence": self.evidence,
            "literal": self.literal.to_dict() if self.literal is not None else None,
            "corrected": self.corrected.to_dict() if self.corrected is not None else None,
            "untestable": self.untestable,
            "quick_note": self.quick_note,
            "stability_note": self.stability_note,
        }


def untestable_check(quick: bool, rng: np.random.Generator) -> Measurement:
    """The check of an ``evidence="none"`` claim: nothing is run.

    It has the ``check(quick, rng)`` signature of :attr:`Claim.check` so that an untestable
    claim runs through the same runner as the others.

    Parameters
    ----------
    quick : bool
        Quick mode (ignored).
    rng : numpy.random.Generator
        The claim's random stream (ignored: nothing is drawn).

    Returns
    -------
    Measurement
        ``Measurement("-")``: no values, no intervals.
    """
    return Measurement("-")

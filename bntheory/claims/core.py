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

import math
import zlib
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

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

#: Master seed of the ledger run in progress (set by :func:`bntheory.claims.runner.run_claim`).
_MASTER_SEED: ContextVar[int | None] = ContextVar("bntheory_claims_master_seed", default=None)

#: Directory of the cross-process cache of the ledger run in progress (set by the runner).
_RUN_CACHE: ContextVar[str | None] = ContextVar("bntheory_claims_run_cache", default=None)

#: Number of independent seeds of a multi-seed measurement: quick 3, full 10.
N_SEEDS = {True: 3, False: 10}


class Verdict(str, Enum):
    """The verdict of one claim.

    ``ERROR`` is not a verdict a check returns: the runner assigns it when the check raised.
    """

    HOLDS = "holds"
    HOLDS_WITH_CORRECTION = "holds-with-correction"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not-testable-here"
    ERROR = "error"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


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


def _clean_number(x) -> float | None:
    """Round to 10 significant digits (stable JSON across BLAS reductions); NaN/inf -> None."""
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.10g}")


# --------------------------------------------------------------------------- readings
#: Comparisons a :class:`Predicate` can make.
OPS = ("<=", ">=", "==", "in", "is")

#: Allowed values of :attr:`Claim.evidence`.
EVIDENCE = ("measured", "source", "none")


class Unavailable(Exception):
    """Raised by a check whose optional dependency or data set is missing.

    The runner reports the claim as ``not-testable-here`` with this message as the reason
    (which should name the command that installs what is missing)."""


@dataclass(frozen=True, slots=True)
class Predicate:
    """One measurable comparison: ``values[quantity] <op> value``.

    Parameters
    ----------
    quantity : str
        Name of a value of the :class:`Measurement` (its confidence interval, if the
        measurement has one under the same name, is used to decide).
    op : {"<=", ">=", "==", "in", "is"}
        ``"<="``/``">="``: one-sided bound with slack ``tol + rtol |value|``; ``"=="``:
        ``|q - value| <= tol + rtol |value|``; ``"in"``: ``value = (lo, hi)``, slack ``tol``
        on both ends; ``"is"``: exact equality of a categorical value (a source fact such as
        a data set's name, or a bool).
    value : float, (float, float), str or bool
        The stated value or bound.
    tol, rtol : float
        Absolute and relative slack (justified by the reading's ``why``).
    """

    quantity: str
    op: str
    value: float | str | bool | tuple[float, float]
    tol: float = 0.0
    rtol: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, str) or not self.quantity:
            raise ValueError("quantity must be a non-empty str")
        if self.op not in OPS:
            raise ValueError(f"op must be one of {OPS}, got {self.op!r}")
        if self.tol < 0 or self.rtol < 0 or not math.isfinite(self.tol + self.rtol):
            raise ValueError("tol and rtol must be finite and non-negative")
        if self.op == "in":
            lo, hi = self.value  # type: ignore[misc]
            if not float(lo) <= float(hi):
                raise ValueError(f"value of 'in' must be (lo, hi) with lo <= hi, got {self.value}")
            object.__setattr__(self, "value", (float(lo), float(hi)))
        elif self.op != "is":
            if isinstance(self.value, (str, bool)) or not math.isfinite(float(self.value)):
                raise ValueError(f"value of {self.op!r} must be a finite number")
            object.__setattr__(self, "value", float(self.value))

    def describe(self) -> str:
        if self.op == "in":
            s = f"{self.quantity} in [{self.value[0]:.6g}, {self.value[1]:.6g}]"
        elif self.op == "is":
            s = f"{self.quantity} is {self.value!r}"
        else:
            s = f"{self.quantity} {self.op} {self.value:.6g}"
        if self.tol:
            s += f" (tol {self.tol:.3g})"
        if self.rtol:
            s += f" (rtol {self.rtol:.3g})"
        return s

    def evaluate(self, m: Measurement) -> bool | None:
        """``True`` / ``False``, or ``None`` when the confidence interval straddles the
        threshold or the value is missing / not finite."""
        if self.quantity not in m.values:
            raise KeyError(f"measurement has no value {self.quantity!r} (has {sorted(m.values)})")
        q = m.values[self.quantity]
        if self.op == "is":
            return q == self.value
        if q is None or isinstance(q, str):
            return None
        lo, hi = m.intervals.get(self.quantity, (q, q))
        if lo is None or hi is None:
            return None
        if self.op == "in":
            a, b = self.value[0] - self.tol, self.value[1] + self.tol  # type: ignore[index]
            if a <= lo and hi <= b:
                return True
            return False if (hi < a or lo > b) else None
        slack = self.tol + self.rtol * abs(self.value)  # type: ignore[arg-type]
        if self.op == "<=":
            t = self.value + slack  # type: ignore[operator]
            return True if hi <= t else (False if lo > t else None)
        if self.op == ">=":
            t = self.value - slack  # type: ignore[operator]
            return True if lo >= t else (False if hi < t else None)
        a, b = self.value - slack, self.value + slack  # type: ignore[operator]
        if a <= lo and hi <= b:
            return True
        return False if (hi < a or lo > b) else None


def P(quantity: str, op: str, value, *, tol: float = 0.0, rtol: float = 0.0) -> Predicate:
    """Shorthand for :class:`Predicate`."""
    return Predicate(quantity, op, value, tol, rtol)


@dataclass(frozen=True, slots=True)
class Reading:
    """A reading of a claim: a conjunction of predicates, in words, with the reason for
    its tolerances and (for a corrected reading) the source of the correction."""

    text: str
    predicates: tuple[Predicate, ...]
    why: str
    source: str = ""

    def __post_init__(self) -> None:
        preds = self.predicates
        if isinstance(preds, Predicate):
            preds = (preds,)
        preds = tuple(preds)
        if not preds or not all(isinstance(p, Predicate) for p in preds):
            raise ValueError("predicates must be a non-empty sequence of Predicate")
        object.__setattr__(self, "predicates", preds)
        if not self.text or not self.why:
            raise ValueError("a Reading needs its text and the reason (why) for its tolerances")

    def evaluate(self, m: Measurement) -> bool | None:
        """All predicates true -> True; any false -> False; otherwise None (inconclusive)."""
        res = [p.evaluate(m) for p in self.predicates]
        if any(r is False for r in res):
            return False
        if all(r is True for r in res):
            return True
        return None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "predicates": [p.describe() for p in self.predicates],
            "why": self.why,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SourceFact:
    """What a cited paper reports, stored as data with its citation (for ``source``
    evidence): ``SourceFact("Ioffe & Szegedy (2015), Fig. 1", {"dataset": "MNIST"})``."""

    citation: str
    values: Mapping[str, float | str | bool]

    def __post_init__(self) -> None:
        if not self.citation:
            raise ValueError("citation must be non-empty")
        object.__setattr__(self, "values", dict(self.values))


def _clean_value(x):
    if isinstance(x, (str, bool)) or x is None:
        return x
    return _clean_number(x)


@dataclass(frozen=True, slots=True)
class Measurement:
    """What a check measured (it never carries a verdict).

    Parameters
    ----------
    measured : str
        One line, human readable.
    values : mapping
        Named measured values (floats; NaN/inf stored as ``None``, which decides as
        inconclusive), or, for source evidence, categorical facts (str/bool).
    intervals : mapping of str to (lo, hi)
        Confidence intervals of stochastic values (same names as ``values``); the
        predicates decide on them.
    citation : str
        For source evidence: paper and table/section/figure the values come from.
    note : str
        Context (how it was measured, what the correction means).
    """

    measured: str
    values: Mapping[str, float | str | bool | None] = field(default_factory=dict)
    intervals: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    citation: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.measured, str):
            raise TypeError("measured must be a str")
        object.__setattr__(
            self, "values", {str(k): _clean_value(v) for k, v in dict(self.values).items()}
        )
        iv = {}
        for k, (lo, hi) in dict(self.intervals).items():
            if k not in self.values:
                raise ValueError(f"interval {k!r} has no value of the same name")
            iv[str(k)] = (_clean_number(lo), _clean_number(hi))
        object.__setattr__(self, "intervals", iv)

    @classmethod
    def from_source(
        cls, fact: SourceFact, measured: str = "", note: str = "", **extra
    ) -> Measurement:
        """A measurement that is a source fact (``evidence="source"`` claims)."""
        vals = dict(fact.values)
        vals.update(extra)
        text = measured or "; ".join(f"{k} = {v}" for k, v in fact.values.items())
        return cls(text, vals, citation=fact.citation, note=note)

    def to_dict(self) -> dict:
        return {
            "measured": self.measured,
            "numbers": dict(self.values),
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "citation": self.citation,
            "note": self.note,
        }


def decide(literal: Reading, corrected: Reading | None, m: Measurement) -> tuple[Verdict, dict]:
    """The one decision rule (module docstring, item 1): verdict and the evaluation of each
    reading (``True``/``False``/``None``)."""
    lit = literal.evaluate(m)
    cor = corrected.evaluate(m) if corrected is not None else None
    detail = {"literal": lit, "corrected": cor if corrected is not None else "n/a"}
    if lit is True:
        return Verdict.HOLDS, detail
    if lit is None:
        return Verdict.INCONCLUSIVE, detail
    if corrected is None:
        return Verdict.REFUTED, detail
    if cor is True:
        return Verdict.HOLDS_WITH_CORRECTION, detail
    if cor is None:
        return Verdict.INCONCLUSIVE, detail
    return Verdict.REFUTED, detail


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
        clean = {str(k): _clean_value(v) for k, v in dict(self.numbers).items()}
        object.__setattr__(self, "numbers", clean)

    def to_dict(self) -> dict:
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

    def describe(self) -> dict:
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
    """The check of an ``evidence="none"`` claim: nothing is run."""
    return Measurement("-")


# --------------------------------------------------------------------------- seeds
def measurement_seeds(
    key: str, quick: bool, rng: np.random.Generator, n: int | None = None
) -> tuple[int, ...]:
    """Seeds of a multi-seed measurement named ``key``: ``n`` of them (pre-registered by the
    claim), default ``N_SEEDS[quick]``.

    Inside a ledger run they come from ``SeedSequence([master, crc32(key)])``, so claims that
    share a measurement (same ``key``) share its seeds and can share a cached result; called
    outside a run, they are drawn from ``rng``.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("key must be a non-empty str")
    master = _MASTER_SEED.get()
    if master is None:
        ss = np.random.SeedSequence(int(rng.integers(2**63)))
    else:
        ss = np.random.SeedSequence([int(master), zlib.crc32(key.encode())])
    if n is None:
        n = N_SEEDS[bool(quick)]
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    return tuple(int(c.generate_state(1)[0]) for c in ss.spawn(int(n)))


def shared_result(kind: str, seed: int, fn: Callable[[], dict]) -> dict:
    """``fn()`` computed once per ledger run for ``(kind, seed)``, across worker processes.

    Inside :func:`bntheory.claims.runner.run_claims` the result (a dict of floats) is stored
    as JSON in the run's temporary directory; a worker that finds another one computing the
    same entry (lock file) waits for it. Outside a run, ``fn()`` is simply called.
    """
    import json
    import os
    import time
    from pathlib import Path

    d = _RUN_CACHE.get()
    if d is None:
        return fn()
    path = Path(d) / f"{kind}-{int(seed)}.json"
    lock = path.with_suffix(".lock")
    t0 = time.monotonic()
    while True:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if time.monotonic() - t0 > 1800:  # a stale lock: compute ourselves
                return fn()
            time.sleep(0.1)
            continue
        os.close(fd)
        out = fn()
        from bntheory._io import atomic_write_text

        atomic_write_text(path, json.dumps(out))
        return out


def per_seed(
    key: str, fn, quick: bool, rng: np.random.Generator, variant: str = "", n: int | None = None
) -> list:
    """``[fn(seed) for seed in measurement_seeds(key, quick, rng, n)]``, each computed once
    per ledger run (shared across claims and worker processes, ``shared_result``);
    ``variant`` distinguishes settings that share the seeds of ``key`` but not results;
    ``n`` is the claim's pre-registered number of seeds (default ``core.N_SEEDS``)."""
    return [
        shared_result(f"{key}{variant}-{'q' if quick else 'f'}", s, lambda s=s: fn(s))
        for s in measurement_seeds(key, quick, rng, n)
    ]


def subseeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``seed`` (``SeedSequence.spawn``)."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(int(seed)).spawn(n)]


def one_blas_thread():
    """Context manager: one BLAS (and OpenMP) thread while it is active.

    The checks' matrices are small, and several checks run in parallel worker processes;
    multithreaded BLAS on small matrices is several times slower on a shared machine.
    SciPy's BLAS is loaded first so that the limit covers it too. A no-op without
    ``threadpoolctl`` (which ships with scikit-learn and the test extra).
    """
    from contextlib import nullcontext

    try:
        import scipy.linalg  # noqa: F401 - load SciPy's BLAS before limiting it
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return nullcontext()
    return threadpool_limits(limits=1)

"""The ledger's decision rule: readings, measurements and :func:`decide`.

A claim's literal and corrected readings are conjunctions of :class:`Predicate`; a check
returns a :class:`Measurement` (values and confidence intervals) and :func:`decide` turns
the two readings and the measurement into a :class:`Verdict`. The rule itself is stated in
the docstring of :mod:`bntheory.claims.core`, which re-exports everything here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from bntheory.claims.measurement import (
    Measurement,
    SourceFact,
    _float,
    _pair,
)

__all__ = [
    "EVIDENCE",
    "OPS",
    "Measurement",
    "P",
    "Predicate",
    "Reading",
    "SourceFact",
    "Unavailable",
    "Verdict",
    "decide",
]


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
        tol, rtol = _float(self.tol, "tol"), _float(self.rtol, "rtol")
        if tol < 0 or rtol < 0 or not math.isfinite(tol + rtol):
            raise ValueError("tol and rtol must be finite and non-negative")
        if self.op == "in":
            lo, hi = _pair(self.value, "value of 'in'")
            if not lo <= hi:
                raise ValueError(f"value of 'in' must be (lo, hi) with lo <= hi, got {self.value}")
            object.__setattr__(self, "value", (lo, hi))
        elif self.op != "is":
            if isinstance(self.value, (str, bool)) or not math.isfinite(
                _float(self.value, f"value of {self.op!r}")
            ):
                raise ValueError(f"value of {self.op!r} must be a finite number")
            object.__setattr__(self, "value", float(self.value))

    def describe(self) -> str:
        """The predicate in words, e.g. ``"rate <= 0.5 (tol 0.01)"``.

        Returns
        -------
        str
            Quantity, comparison, value and slack.
        """
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
        """Decide the predicate on a measurement.

        Parameters
        ----------
        m : Measurement
            Must have a value named :attr:`quantity` (its interval, if any, decides).

        Returns
        -------
        bool or None
            ``True`` / ``False``, or ``None`` when the confidence interval straddles the
            threshold or the value is missing / not finite.
        """
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


def P(
    quantity: str,
    op: str,
    value: float | str | bool | tuple[float, float],
    *,
    tol: float = 0.0,
    rtol: float = 0.0,
) -> Predicate:
    """Shorthand for :class:`Predicate`.

    Parameters
    ----------
    quantity, op, value, tol, rtol
        As in :class:`Predicate`.

    Returns
    -------
    Predicate
        ``Predicate(quantity, op, value, tol, rtol)``.
    """
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
        """Decide the reading (the conjunction of its predicates) on a measurement.

        Parameters
        ----------
        m : Measurement
            The check's measurement.

        Returns
        -------
        bool or None
            All predicates true -> ``True``; any false -> ``False``; otherwise ``None``
            (inconclusive).
        """
        res = [p.evaluate(m) for p in self.predicates]
        if any(r is False for r in res):
            return False
        if all(r is True for r in res):
            return True
        return None

    def to_dict(self) -> dict:
        """The reading as JSON-ready data.

        Returns
        -------
        dict
            ``text``, ``predicates`` (in words), ``why`` and ``source``.
        """
        return {
            "text": self.text,
            "predicates": [p.describe() for p in self.predicates],
            "why": self.why,
            "source": self.source,
        }


def decide(literal: Reading, corrected: Reading | None, m: Measurement) -> tuple[Verdict, dict]:
    """The one decision rule (:mod:`bntheory.claims.core`, item 1).

    Parameters
    ----------
    literal : Reading
        The article's literal reading.
    corrected : Reading or None
        The corrected reading, if the claim has one.
    m : Measurement
        The check's measurement.

    Returns
    -------
    (Verdict, dict)
        The verdict and the evaluation of each reading (``True``/``False``/``None``, or
        ``"n/a"`` without a corrected reading).
    """
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

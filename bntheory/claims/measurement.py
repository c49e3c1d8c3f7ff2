"""What a check measured: :class:`Measurement` (values and confidence intervals, never a
verdict) and :class:`SourceFact` (values a cited paper reports), with the number cleaning
the ledger's JSON relies on. Re-exported by :mod:`bntheory.claims.rule` and
:mod:`bntheory.claims.core`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Measurement", "SourceFact"]


def _float(x, what: str) -> float:
    """``float(x)``; a TypeError naming ``what`` when ``x`` is not a real number (an int too
    large for a float becomes inf)."""
    if isinstance(x, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r:.40}")
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}") from None


def _pair(x, what: str) -> tuple[float, float]:
    """``(float(lo), float(hi))`` of a pair; a TypeError naming ``what`` for anything else."""
    if isinstance(x, (str, bytes)) or not isinstance(x, (Sequence, np.ndarray)) or len(x) != 2:
        raise TypeError(f"{what} must be a pair (lo, hi), got {x!r:.60}")
    return _float(x[0], what), _float(x[1], what)


def _clean_number(x, what: str = "value") -> float | None:
    """Round to 10 significant digits (stable JSON across BLAS reductions); NaN/inf -> None."""
    x = _float(x, what)
    if not math.isfinite(x):
        return None
    return float(f"{x:.10g}")


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


def _clean_value(x, what: str = "value"):
    if isinstance(x, (str, bool)) or x is None:
        return x
    return _clean_number(x, what)


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
        try:
            vals_in, ivs_in = dict(self.values), dict(self.intervals)
        except (TypeError, ValueError):
            raise TypeError("values and intervals must be mappings of names") from None
        vals = {str(k): _clean_value(v, f"values[{k!r}]") for k, v in vals_in.items()}
        object.__setattr__(self, "values", vals)
        iv = {}
        for k, pair in ivs_in.items():
            if k not in self.values:
                raise ValueError(f"interval {k!r} has no value of the same name")
            lo, hi = _pair(pair, f"intervals[{k!r}]")
            iv[str(k)] = (_clean_number(lo), _clean_number(hi))
        object.__setattr__(self, "intervals", iv)

    @classmethod
    def from_source(
        cls,
        fact: SourceFact,
        measured: str = "",
        note: str = "",
        **extra: float | str | bool | None,
    ) -> Measurement:
        """A measurement that is a source fact (``evidence="source"`` claims).

        Parameters
        ----------
        fact : SourceFact
            The cited values and their citation.
        measured : str
            One line; default lists the fact's values.
        note : str
            Context.
        **extra
            Further values (override the fact's of the same name).

        Returns
        -------
        Measurement
            With the fact's values and citation.
        """
        vals = dict(fact.values)
        vals.update(extra)
        text = measured or "; ".join(f"{k} = {v}" for k, v in fact.values.items())
        return cls(text, vals, citation=fact.citation, note=note)

    def to_dict(self) -> dict:
        """The measurement as JSON-ready data.

        Returns
        -------
        dict
            ``measured``, ``numbers``, ``intervals``, ``citation`` and ``note``.
        """
        return {
            "measured": self.measured,
            "numbers": dict(self.values),
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "citation": self.citation,
            "note": self.note,
        }

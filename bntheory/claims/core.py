"""Claim, Outcome and Verdict records, and the decision helpers that compute verdicts.

A :class:`Claim` is one checkable statement of the reference article. Its ``check``
function runs a computation and returns an :class:`Outcome`: the measured value (text and
numbers) and a :class:`Verdict`. The verdict is always *computed* from the measured numbers
by one of the decision helpers below (``decide_*``); a check never types a verdict in as a
constant, except :data:`Verdict.NOT_TESTABLE` for literature-only statements, where the
outcome says why and which nearest substitute was run.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

__all__ = [
    "METHODS",
    "SECTIONS",
    "Claim",
    "Outcome",
    "Verdict",
    "decide_at_least",
    "decide_at_most",
    "decide_attribution",
    "decide_close",
    "decide_over_seeds",
    "describe_seeds",
    "measurement_seeds",
    "not_testable",
    "seed_summary",
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
        clean = {str(k): _clean_number(v) for k, v in dict(self.numbers).items()}
        object.__setattr__(self, "numbers", clean)

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "measured": self.measured,
            "numbers": dict(self.numbers),
            "note": self.note,
        }


CheckFn = Callable[[bool, np.random.Generator], Outcome]


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
        ``check(quick, rng) -> Outcome``; must be a module-level function (picklable).
    """

    id: str
    section: str
    quote: str
    source: str
    method: str
    stated: str
    check: CheckFn = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"section must be one of {sorted(SECTIONS)}, got {self.section!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not callable(self.check):
            raise TypeError("check must be callable")

    def describe(self) -> dict:
        return {
            "id": self.id,
            "section": self.section,
            "quote": self.quote,
            "source": self.source,
            "method": self.method,
            "stated": self.stated,
        }


# --------------------------------------------------------------------------- decisions
def _finite(*xs: float) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def decide_close(
    measured: float,
    stated: float,
    *,
    rtol: float,
    atol: float = 0.0,
    inconclusive_factor: float = 1.0,
    corrected: bool = False,
) -> Verdict:
    """Verdict for "the measured value equals the stated one".

    ``|measured - stated| <= atol + rtol |stated|`` -> ``HOLDS`` (``HOLDS_WITH_CORRECTION`` if
    ``corrected``); within ``inconclusive_factor`` times that tolerance -> ``INCONCLUSIVE``;
    otherwise ``REFUTED``. NaN/inf -> ``INCONCLUSIVE``.
    """
    if rtol < 0 or atol < 0:
        raise ValueError("rtol and atol must be non-negative")
    if inconclusive_factor < 1:
        raise ValueError("inconclusive_factor must be >= 1")
    if not _finite(measured, stated):
        return Verdict.INCONCLUSIVE
    tol = atol + rtol * abs(stated)
    err = abs(measured - stated)
    if err <= tol:
        return Verdict.HOLDS_WITH_CORRECTION if corrected else Verdict.HOLDS
    if err <= inconclusive_factor * tol:
        return Verdict.INCONCLUSIVE
    return Verdict.REFUTED


def decide_at_most(
    measured: float,
    bound: float,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    corrected: bool = False,
) -> Verdict:
    """Verdict for "measured <= bound" (up to ``atol + rtol |bound|`` slack for round-off)."""
    if rtol < 0 or atol < 0:
        raise ValueError("rtol and atol must be non-negative")
    if not _finite(measured, bound):
        return Verdict.INCONCLUSIVE
    if measured <= bound + atol + rtol * abs(bound):
        return Verdict.HOLDS_WITH_CORRECTION if corrected else Verdict.HOLDS
    return Verdict.REFUTED


def decide_at_least(
    measured: float,
    bound: float,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    corrected: bool = False,
) -> Verdict:
    """Verdict for "measured >= bound" (up to ``atol + rtol |bound|`` slack): the mirror
    image of :func:`decide_at_most`."""
    return decide_at_most(-measured, -bound, rtol=rtol, atol=atol, corrected=corrected)


def decide_attribution(stated: str, source: str, *, minor: bool = False) -> Verdict:
    """Verdict for an attribution ("paper X shows Y on dataset Z"): compare the article's
    word with the source's (case- and whitespace-insensitive).

    Equal -> ``HOLDS``; different and ``minor`` (the substance survives) ->
    ``HOLDS_WITH_CORRECTION``; different -> ``REFUTED``.
    """
    if not isinstance(stated, str) or not isinstance(source, str):
        raise TypeError("stated and source must be str")

    def norm(s: str) -> str:
        return " ".join(s.lower().split())

    if norm(stated) == norm(source):
        return Verdict.HOLDS
    return Verdict.HOLDS_WITH_CORRECTION if minor else Verdict.REFUTED


def worst(*verdicts: Verdict) -> Verdict:
    """Combine sub-verdicts: the least favourable wins
    (refuted > inconclusive > holds-with-correction > holds)."""
    order = [
        Verdict.REFUTED,
        Verdict.INCONCLUSIVE,
        Verdict.NOT_TESTABLE,
        Verdict.HOLDS_WITH_CORRECTION,
        Verdict.HOLDS,
    ]
    if not verdicts:
        raise ValueError("verdicts must not be empty")
    for v in order:
        if v in verdicts:
            return v
    raise ValueError(f"unknown verdicts {verdicts}")


def with_correction(v: Verdict) -> Verdict:
    """``HOLDS`` -> ``HOLDS_WITH_CORRECTION``; every other verdict unchanged."""
    return Verdict.HOLDS_WITH_CORRECTION if v is Verdict.HOLDS else v


def not_testable(reason: str, *, substitute: str = "", measured: str = "", numbers=None) -> Outcome:
    """Outcome for a statement that cannot be checked here (literature, large-scale training).

    ``reason`` says why; ``substitute`` names the nearest substitute that was run, whose
    numbers go into ``numbers``.
    """
    if not reason:
        raise ValueError("reason must be a non-empty string")
    note = f"not testable here: {reason}"
    if substitute:
        note += f"; substitute run: {substitute}"
    return Outcome(
        Verdict.NOT_TESTABLE,
        measured or ("substitute: " + substitute if substitute else "-"),
        numbers or {},
        note,
    )


# --------------------------------------------------------------------------- seeds
def measurement_seeds(key: str, quick: bool, rng: np.random.Generator) -> tuple[int, ...]:
    """Seeds of a multi-seed measurement named ``key`` (``N_SEEDS[quick]`` of them).

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
    return tuple(int(c.generate_state(1)[0]) for c in ss.spawn(N_SEEDS[bool(quick)]))


def decide_over_seeds(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict from per-seed verdicts: the common one if all seeds agree, otherwise
    ``INCONCLUSIVE`` (a verdict that flips between seeds is not a result)."""
    vs = list(verdicts)
    if not vs:
        raise ValueError("verdicts must not be empty")
    return vs[0] if all(v is vs[0] for v in vs) else Verdict.INCONCLUSIVE


def seed_summary(name: str, values: Sequence[float]) -> dict[str, float]:
    """``{name_median, name_min, name_max}`` of per-seed values (inf kept as inf)."""
    a = np.asarray(list(values), dtype=float)
    if a.size == 0:
        raise ValueError("values must not be empty")
    return {
        f"{name}_median": float(np.median(a)),
        f"{name}_min": float(np.min(a)),
        f"{name}_max": float(np.max(a)),
    }


def describe_seeds(values: Sequence[float], fmt: str = ".3g") -> str:
    """``"median M (range lo-hi, n seeds)"``."""
    a = np.asarray(list(values), dtype=float)
    return (
        f"median {np.median(a):{fmt}} (range {np.min(a):{fmt}}-{np.max(a):{fmt}}, {a.size} seeds)"
    )


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
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(out), encoding="utf-8")
        os.replace(tmp, path)
        return out

"""Run claim checks (serially or in worker processes) and collect the results.

Seeds: the generator of claim ``id`` under master seed ``s`` is
``default_rng(SeedSequence([s, crc32(id)]))``, so a claim's result does not depend on
which other claims run, on their order, or on the number of workers.
"""

from __future__ import annotations

import tempfile
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from bntheory.bn import use_kernels
from bntheory.claims.core import (
    _MASTER_SEED,
    _RUN_CACHE,
    Claim,
    Measurement,
    Outcome,
    Unavailable,
    Verdict,
    decide,
    one_blas_thread,
)
from bntheory.sweep.executors import executor_from_spec

__all__ = ["ClaimResult", "claim_rng", "run_claim", "run_claims"]

#: start method of the ledger's worker processes. Everything else follows the project's one
#: process policy (:mod:`bntheory.sweep.executors`: BLAS pinned to one thread, SIGINT
#: ignored, SIGTERM default, death with the parent). ``fork`` rather than the sweeps'
#: ``spawn`` because a spawned worker re-imports NumPy, SciPy and the ledger before its first
#: claim: measured on the shared 2-core machine (load ~13), a 2-worker pool running one claim
#: took 1.0-1.8 s with fork against 3.3-3.8 s with spawn, i.e. a few seconds more per
#: ``verify --quick`` (~30 s); verdicts and numbers are identical with either. Fork is safe
#: here: the CLI starts no thread before the pool (its progress bar runs without tqdm's
#: monitor thread) and the initializer resets the signal handlers the workers inherit.
START_METHOD = "fork"


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The result of running one claim's check.

    ``status`` is ``"ok"`` (``outcome`` set) or ``"error"`` (``error`` holds the message);
    ``seconds`` is wall-clock time (kept apart from the deterministic fields in reports).
    ``measurement`` is what the check returned and ``decision`` how each reading evaluated
    (``{"literal": True/False/None, "corrected": ...}``).
    """

    claim: Claim
    status: str
    outcome: Outcome | None
    error: str
    seconds: float
    measurement: Measurement | None = None
    decision: dict | None = None

    @property
    def verdict(self) -> Verdict:
        """The outcome's verdict (``Verdict.ERROR`` when the check raised)."""
        return Verdict.ERROR if self.outcome is None else self.outcome.verdict

    def to_dict(self) -> dict:
        """The claim's description, verdict, numbers and decision as plain JSON data.

        Returns
        -------
        dict
            One claim's entry of the JSON report.
        """
        d = self.claim.describe()
        d["status"] = self.status
        if self.outcome is not None:
            d.update(self.outcome.to_dict())
            if self.measurement is not None:
                md = self.measurement.to_dict()
                d["intervals"] = md["intervals"]
                d["citation"] = md["citation"]
            d["decision"] = self.decision
        else:
            d.update({"verdict": Verdict.ERROR.value, "measured": "", "numbers": {}, "note": ""})
        d["error"] = self.error
        return d


def _unavailable_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean "this claim's data or optional dependency is missing"."""
    from bntheory.nets.data import DataUnavailable

    return (Unavailable, DataUnavailable)


def claim_rng(claim_id: str, seed: int) -> np.random.Generator:
    """The generator for claim ``claim_id`` under master seed ``seed`` (see module doc).

    Parameters
    ----------
    claim_id : str
        The claim's id.
    seed : int
        Master seed (non-negative).

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence([seed, crc32(claim_id)]))``.

    Raises
    ------
    TypeError
        ``claim_id`` not a str.
    ValueError
        ``seed`` not a non-negative int.
    """
    if not isinstance(claim_id, str):
        raise TypeError(f"claim_id must be a str, got {type(claim_id).__name__}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(claim_id.encode())]))


def run_claim(
    claim: Claim, *, quick: bool = True, seed: int = 0, cache_dir: str | None = None
) -> ClaimResult:
    """Run one claim's check; any exception becomes an ``"error"`` result (no re-raise).

    Parameters
    ----------
    claim : Claim
        The claim.
    quick : bool
        Small instances.
    seed : int
        Master seed.
    cache_dir : str, optional
        The run's shared-measurement cache (see ``core.shared_result``).

    Returns
    -------
    ClaimResult
        The outcome, or the error.
    """
    rng = claim_rng(claim.id, seed)
    t0 = time.perf_counter()
    if claim.evidence == "none":
        note = f"not testable here: {claim.untestable}"
        return ClaimResult(
            claim, "ok", Outcome(Verdict.NOT_TESTABLE, "-", {}, note), "", 0.0, None, None
        )
    token = _MASTER_SEED.set(int(seed))
    ctoken = _RUN_CACHE.set(cache_dir)
    decision = None
    measurement = None
    try:
        # the ledger's numbers come from the NumPy BN kernels whatever the caller selected
        with one_blas_thread(), use_kernels("numpy"):
            got = claim.check(bool(quick), rng)
        if isinstance(got, Measurement):
            if claim.literal is None:
                raise TypeError(
                    f"{claim.id} returned a Measurement but declares no literal reading"
                )
            measurement = got
            verdict, decision = decide(claim.literal, claim.corrected, got)
            outcome = Outcome(verdict, got.measured, got.values, got.note)
        elif isinstance(got, Outcome):  # legacy checks (being converted)
            outcome = got
        else:
            raise TypeError(
                f"check of {claim.id} returned {type(got).__name__}, expected Measurement"
            )
    except _unavailable_errors() as exc:
        outcome = Outcome(Verdict.NOT_TESTABLE, "-", {}, f"not testable here: {exc}")
    except Exception as exc:  # noqa: BLE001 - reported as the claim's error status
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
        return ClaimResult(
            claim, "error", None, f"{type(exc).__name__}: {exc}{where}", time.perf_counter() - t0
        )
    finally:
        _MASTER_SEED.reset(token)
        _RUN_CACHE.reset(ctoken)
    return ClaimResult(claim, "ok", outcome, "", time.perf_counter() - t0, measurement, decision)


def _run_by_id(claim_id: str, quick: bool, seed: int, cache_dir: str | None) -> ClaimResult:
    from bntheory.claims.registry import get_claim

    return run_claim(get_claim(claim_id), quick=quick, seed=seed, cache_dir=cache_dir)


def run_claims(
    claims: Iterable[Claim],
    *,
    quick: bool = True,
    seed: int = 0,
    jobs: int = 1,
    progress: Callable[[ClaimResult], Any] | None = None,
) -> list[ClaimResult]:
    """Run the checks of ``claims``; results in the order of ``claims``.

    Parameters
    ----------
    claims : iterable of Claim
        Registered claims (with ``jobs > 1`` they are looked up by id in the workers).
    quick : bool
        Small instances (the whole ledger in well under a minute).
    seed : int
        Master seed.
    jobs : int
        Number of worker processes; ``1`` runs in this process.
    progress : callable, optional
        ``progress(result)`` after each claim finishes.

    Returns
    -------
    list of ClaimResult
        In the order of ``claims``.

    Notes
    -----
    With ``jobs > 1`` the claims run on the project's process pool
    (:func:`bntheory.sweep.executor_from_spec`, ``processes:N``): BLAS pinned to one thread,
    SIGINT ignored and death with the parent in every worker, the pool terminated on Ctrl-C
    or SIGTERM. The start method is :data:`START_METHOD` (``fork``): the workers then
    inherit the imported ledger instead of re-importing it (``spawn``), which measured
    slower (see the module constant).
    """
    claims = list(claims)
    if not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    claim_rng("probe", seed)  # validates seed
    with tempfile.TemporaryDirectory(prefix="bntheory-claims-") as cache_dir:
        return _run_claims(claims, quick, seed, int(jobs), progress, cache_dir)


def _run_claims(
    claims: list[Claim],
    quick: bool,
    seed: int,
    jobs: int,
    progress: Callable[[ClaimResult], Any] | None,
    cache_dir: str,
) -> list[ClaimResult]:
    if jobs == 1 or len(claims) <= 1:
        out = []
        for c in claims:
            r = run_claim(c, quick=quick, seed=seed, cache_dir=cache_dir)
            if progress is not None:
                progress(r)
            out.append(r)
        return out
    results: dict[str, ClaimResult] = {}
    # the project's one process policy (bntheory.sweep.executors): BLAS pinned to one
    # thread, SIGINT ignored and death with the parent in every worker; the pool is
    # terminated (not drained) on Ctrl-C / SIGTERM, so no worker outlives the run
    with executor_from_spec(f"processes:{int(jobs)}", start=START_METHOD) as ex:
        futures = {ex.submit(_run_by_id, c.id, quick, seed, cache_dir): c for c in claims}
        for fut in as_completed(futures):
            c = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - worker crash -> error result
                r = ClaimResult(
                    c, "error", None, f"worker failed: {type(exc).__name__}: {exc}", 0.0
                )
            if progress is not None:
                progress(r)
            results[c.id] = r
    return [results[c.id] for c in claims]


def select(claims: Sequence[Claim], only: Sequence[str] | None) -> list[Claim]:
    """Claims whose section slug or id matches one of ``only`` (all when ``only`` is empty).

    Parameters
    ----------
    claims : sequence of Claim
        The registry.
    only : sequence of str or None
        Section slugs or claim ids (comma-separated entries allowed).

    Returns
    -------
    list of Claim
        In registry order.

    Raises
    ------
    ValueError
        naming ``only`` when an entry matches no section and no claim id.
    """
    if only is not None and not isinstance(only, str):
        if not isinstance(only, Sequence) or not all(isinstance(w, str) for w in only):
            raise TypeError(
                f"only: expected a string or a sequence of strings, got {type(only).__name__}"
            )
    if only is None or (not isinstance(only, str) and len(only) == 0):
        return list(claims)
    if isinstance(only, str):
        only = [only]
    wanted = [w.strip() for item in only for w in item.split(",") if w.strip()]
    if not wanted:
        raise ValueError("only: empty selection (give a section slug or a claim id)")
    out = []
    for w in wanted:
        hits = [c for c in claims if c.section == w or c.id == w]
        if not hits:
            sections = sorted({c.section for c in claims})
            raise ValueError(
                f"only: {w!r} is neither a section ({', '.join(sections)}) nor a claim id"
            )
        out.extend(h for h in hits if h not in out)
    order = {c.id: i for i, c in enumerate(claims)}
    return sorted(out, key=lambda c: order[c.id])

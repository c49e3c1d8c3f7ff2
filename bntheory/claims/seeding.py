"""Seeds and shared results of the ledger's multi-seed measurements.

Stochastic claims run over a pre-registered number of seeds spawned from the run's master
seed (NumPy ``SeedSequence.spawn``), so that claims sharing a measurement share its seeds
and its cached result (one computation per ledger run, across worker processes). The
context variables here are set by :mod:`bntheory.claims.runner`; :mod:`bntheory.claims.core`
re-exports everything (the same objects).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from bntheory._checks import as_int
from bntheory.sweep.seeding import MAX_SEEDS, spawn_seeds

__all__ = [
    "N_SEEDS",
    "SHARED_WAIT",
    "measurement_seeds",
    "one_blas_thread",
    "per_seed",
    "shared_result",
    "subseeds",
]

#: Master seed of the ledger run in progress (set by :func:`bntheory.claims.runner.run_claim`).
_MASTER_SEED: ContextVar[int | None] = ContextVar("bntheory_claims_master_seed", default=None)

#: Directory of the cross-process cache of the ledger run in progress (set by the runner).
_RUN_CACHE: ContextVar[str | None] = ContextVar("bntheory_claims_run_cache", default=None)

#: Number of independent seeds of a multi-seed measurement: quick 3, full 10.
N_SEEDS = {True: 3, False: 10}
# MAX_SEEDS (from bntheory.sweep.seeding): the most seeds measurement_seeds and subseeds spawn


def measurement_seeds(
    key: str, quick: bool, rng: np.random.Generator, n: int | None = None
) -> tuple[int, ...]:
    """Seeds of a multi-seed measurement named ``key``.

    Inside a ledger run they come from ``SeedSequence([master, crc32(key)])``, so claims that
    share a measurement (same ``key``) share its seeds and can share a cached result; called
    outside a run, they are drawn from ``rng``.

    Parameters
    ----------
    key : str
        Non-empty name of the measurement.
    quick : bool
        Quick mode (selects the default number of seeds, ``N_SEEDS[quick]``).
    rng : numpy.random.Generator
        Source of the seeds outside a ledger run.
    n : int, optional
        The claim's pre-registered number of seeds (``1..MAX_SEEDS``); default
        ``N_SEEDS[quick]``.

    Returns
    -------
    tuple of int
        ``n`` independent integer seeds.

    Raises
    ------
    ValueError
        Empty ``key``, or ``n`` outside ``[1, MAX_SEEDS]``.
    TypeError
        ``n`` not an integer (a bool or a float included).
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
    n = as_int(n, "n", minimum=1, maximum=MAX_SEEDS)
    return tuple(int(c.generate_state(1)[0]) for c in ss.spawn(n))


#: Longest wait (seconds) for another worker's computation of a shared result; after it the
#: waiter computes the result itself (a lock whose holder is gone is not waited for at all).
SHARED_WAIT = 1800.0


def _lock_holder_gone(lock: Path) -> bool:
    """Whether the process named in ``lock`` (its PID) no longer runs (or is a zombie).

    An empty or unreadable lock (being written, or already removed) counts as held.
    """
    import os

    try:
        pid = int(lock.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: the process exists
        return False
    try:  # Linux: a dead, not yet reaped worker is a zombie ("Z" after the name)
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        return stat.rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def shared_result(kind: str, seed: int, fn: Callable[[], dict]) -> dict:
    """``fn()`` computed once per ledger run for ``(kind, seed)``, across worker processes.

    Inside :func:`bntheory.claims.runner.run_claims` the result (a dict of floats) is stored
    as JSON in the run's temporary directory; a worker that finds another one computing the
    same entry (a lock file holding the computing process's PID) waits for it. If ``fn``
    raises, its lock is removed before the exception propagates, and a lock whose process
    has died is not waited for: in both cases a waiting worker computes the entry itself
    (and meets the same error, if any) instead of waiting up to :data:`SHARED_WAIT` seconds.
    Outside a run, ``fn()`` is simply called.

    Parameters
    ----------
    kind : str
        Name of the measurement (part of the cache file name).
    seed : int
        Seed of the measurement (part of the cache file name).
    fn : callable
        Computes the result, a JSON-serializable dict.

    Returns
    -------
    dict
        The (possibly cached) result of ``fn()``.
    """
    import json
    import os
    import time

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
            if time.monotonic() - t0 > SHARED_WAIT or _lock_holder_gone(lock):
                return fn()  # a stale lock: compute ourselves
            time.sleep(0.1)
            continue
        try:
            os.write(fd, str(os.getpid()).encode("ascii"))
        finally:
            os.close(fd)
        try:
            out = fn()
        except BaseException:
            lock.unlink(missing_ok=True)  # waiters take over instead of waiting for us
            raise
        from bntheory._io import atomic_write_text

        atomic_write_text(path, json.dumps(out))
        return out


def per_seed(
    key: str,
    fn: Callable[[int], Any],
    quick: bool,
    rng: np.random.Generator,
    variant: str = "",
    n: int | None = None,
) -> list:
    """``[fn(seed) for seed in measurement_seeds(key, quick, rng, n)]``, each computed once
    per ledger run (shared across claims and worker processes, :func:`shared_result`).

    Parameters
    ----------
    key : str
        Name of the measurement (selects the seeds).
    fn : callable
        ``fn(seed)`` computes one seed's result (a JSON-serializable dict).
    quick : bool
        Quick mode.
    rng : numpy.random.Generator
        Source of the seeds outside a ledger run.
    variant : str
        Distinguishes settings that share the seeds of ``key`` but not results.
    n : int, optional
        The claim's pre-registered number of seeds (default ``N_SEEDS[quick]``).

    Returns
    -------
    list
        One result per seed, in seed order.
    """
    return [
        shared_result(f"{key}{variant}-{'q' if quick else 'f'}", s, lambda s=s: fn(s))
        for s in measurement_seeds(key, quick, rng, n)
    ]


def subseeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``seed`` (``SeedSequence.spawn``).

    Parameters
    ----------
    seed : int
        Parent seed.
    n : int
        Number of child seeds.

    Returns
    -------
    list of int
        The child seeds.

    Raises
    ------
    TypeError, ValueError
        ``seed`` not a non-negative int, ``n`` not an int in ``[0, MAX_SEEDS]``.
    """
    return spawn_seeds(seed, n)


def one_blas_thread() -> AbstractContextManager:
    """Context manager: one BLAS (and OpenMP) thread while it is active.

    The checks' matrices are small, and several checks run in parallel worker processes;
    multithreaded BLAS on small matrices is several times slower on a shared machine.
    SciPy's BLAS is loaded first so that the limit covers it too. A no-op without
    ``threadpoolctl`` (which ships with scikit-learn and the test extra).

    Returns
    -------
    contextlib.AbstractContextManager
        The thread limit (or a null context without ``threadpoolctl``).
    """
    from contextlib import nullcontext

    try:
        import scipy.linalg  # noqa: F401 - load SciPy's BLAS before limiting it
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return nullcontext()
    return threadpool_limits(limits=1)

"""Example cell functions for tests and benchmarks (importable by worker processes).

Not part of the public API: they exist so that tests and ``benchmarks/bench_sweep.py`` have
module-level (picklable by reference) cells, including one that kills its worker.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bntheory.sweep.executors import BLAS_ENV_VARS


def _example_noisy_quadratic(
    dim: int, lr: float, steps: int = 50, *, rng: np.random.Generator
) -> dict[str, Any]:
    """GD on a random diagonal quadratic ``1/2 sum_i h_i x_i^2`` with a random start."""
    h = rng.uniform(0.1, 1.0, size=dim)
    x = rng.standard_normal(dim)
    x0 = float(x @ x)
    losses = np.empty(steps)
    for k in range(steps):
        x = x - lr * h * x
        losses[k] = 0.5 * float(np.sum(h * x * x))
    return {"final_loss": float(losses[-1]), "losses": losses, "x0_sq": x0, "draw": rng.random()}


def _example_gd_quadratic(
    dim: int = 300, steps: int = 2000, *, rng: np.random.Generator
) -> dict[str, Any]:
    """CPU-bound benchmark cell: GD with step 1/L on a dense ``dim``-dim quadratic.

    ``f(x) = 1/2 x^T A x`` with ``A = Q diag(lam) Q^T``, ``lam`` log-uniform on [1e-2, 1].
    """
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = np.exp(rng.uniform(np.log(1e-2), 0.0, size=dim))
    a = (q * lam) @ q.T
    x = rng.standard_normal(dim)
    lr = 1.0 / float(lam.max())
    for _ in range(steps):
        x = x - lr * (a @ x)
    return {"final_loss": 0.5 * float(x @ (a @ x))}


def _example_fail_if(x: int, bad: int = -1, *, rng: np.random.Generator) -> dict[str, Any]:
    """Raise ``ValueError`` when ``x == bad``; else return ``x`` and a draw."""
    if x == bad:
        raise ValueError(f"bad x={x}")
    return {"x": x, "u": float(rng.random())}


def _example_blas_threads(x: int = 0, *, rng: np.random.Generator) -> dict[str, Any]:
    """Report the BLAS/OpenMP thread counts and environment seen by the worker."""
    try:
        from threadpoolctl import threadpool_info

        threads = sorted({int(d["num_threads"]) for d in threadpool_info()})
    except ImportError:  # pragma: no cover
        threads = []
    return {"threads": threads, "env": {v: os.environ.get(v) for v in BLAS_ENV_VARS[:3]}}


def _example_crash(x: int, *, rng: np.random.Generator) -> dict[str, Any]:
    """Kill the worker process (simulates a worker dying, e.g. out of memory)."""
    os._exit(3)


def _example_write_pid(path: str, seconds: float = 60.0, *, rng: np.random.Generator) -> dict:
    """Append this worker's pid to ``path`` (one line), then sleep ``seconds``."""
    import time

    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return {"pid": os.getpid()}

"""Scale of the least-squares pipeline (issue 13): dense vs matrix-free, side by side.

Stages (each timed alone, wall seconds, with the peak of NumPy-tracked allocations during
the stage from ``tracemalloc``, reported in units of one dense ``d x d`` float64 array and
in MB; LAPACK's internal workspace is not tracked):

* build: ``LeastSquares.ill_conditioned(d, kappa)`` (dense, Haar basis) vs
  ``LeastSquares.structured(d, kappa)`` (``H = Q diag(lambda) Q^T``, ``Q`` = 4 Householder
  reflections, never formed);
* 200 BNGD steps (``lr_w = 1``) on each;
* kappa*: ``effective_condition_number(H, w*, method="dense")`` (eigvalsh of ``H*``) vs the
  matrix-free certified value (secular equation on the structured ``H``); also
  "dense H, matrix-free kappa*" = Lanczos on ``H*`` and on ``P H^-1 P`` with the Cholesky
  factor of the same dense ``H`` (``effective_condition_number(..., method="matrix-free")``);
* top-10 eigenvalues of ``H``: ``top_eigenvalues(H_ndarray, 10)`` (ARPACK on the array) vs
  ``top_eigenvalues(H_operator, 10)``.

BLAS is pinned to one thread (set before NumPy is imported) as in the issue's table.
Run: ``python benchmarks/bench_scale.py`` (d = 2000, 4000, 8000 dense and matrix-free, then
the matrix-free pipeline at d = 20,000 and 100,000); ``--quick`` for d = 1000, 2000 and 20,000.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from bntheory.measures import effective_condition_number, top_eigenvalues  # noqa: E402
from bntheory.problems import LeastSquares  # noqa: E402
from bntheory.solvers import BNGD, solve  # noqa: E402

KAPPA = 1e3
STEPS = 200


def _stage(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return out, wall, peak


def _fmt(wall: float, peak: int, d: int) -> str:
    return f"{wall:8.2f} s {peak / (8.0 * d * d):6.2f} dd {peak / 1e6:8.1f} MB"


def run(d: int, dense: bool) -> list[tuple[str, str, str, float]]:
    rows = []
    w0 = np.random.default_rng(1).standard_normal(d)
    ks = {}
    if dense:
        ls, t, m = _stage(lambda: LeastSquares.ill_conditioned(d, KAPPA, rng=0, max_bytes=2**40))
        rows.append(("build", "dense", _fmt(t, m, d), np.nan))
        _, t, m = _stage(lambda: solve(ls, BNGD(1.0), (1.0, w0), max_steps=STEPS, tol=0.0))
        rows.append((f"{STEPS} BNGD steps", "dense", _fmt(t, m, d), np.nan))
        ks["dense"], t, m = _stage(
            lambda: effective_condition_number(ls.H, ls.w_star, method="dense")
        )
        rows.append(("kappa*", "dense (eigvalsh)", _fmt(t, m, d), ks["dense"]))
        ks["chol"], t, m = _stage(
            lambda: effective_condition_number(ls.H, ls.w_star, method="matrix-free")
        )
        rows.append(("kappa*", "dense H, matrix-free", _fmt(t, m, d), ks["chol"]))
        _, t, m = _stage(lambda: top_eigenvalues(ls.H, 10, rng=0))
        rows.append(("top-10 eigenvalues", "dense (ndarray)", _fmt(t, m, d), np.nan))
        del ls
    mf, t, m = _stage(lambda: LeastSquares.structured(d, KAPPA, rng=0))
    rows.append(("build", "matrix-free", _fmt(t, m, d), np.nan))
    _, t, m = _stage(lambda: solve(mf, BNGD(1.0), (1.0, w0), max_steps=STEPS, tol=0.0))
    rows.append((f"{STEPS} BNGD steps", "matrix-free", _fmt(t, m, d), np.nan))
    res, t, m = _stage(mf.effective_conditioning)
    rows.append(("kappa*", "matrix-free (secular)", _fmt(t, m, d), res.kappa_star))
    top, t, m = _stage(lambda: top_eigenvalues(mf.H, 10, rng=0, method="eigsh"))
    err = float(np.max(np.abs(top - mf.eigenvalues[::-1][:10]) / mf.eigenvalues[::-1][:10]))
    rows.append(("top-10 eigenvalues", f"matrix-free (rel err {err:.1e})", _fmt(t, m, d), np.nan))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 1000, 2000 (+ 20,000 matrix-free)")
    ap.add_argument("--dense", default=None, help="comma-separated d for dense vs matrix-free")
    ap.add_argument("--large", default=None, help="comma-separated d for matrix-free only")
    args = ap.parse_args(argv)
    dense_ds = [1000, 2000] if args.quick else [2000, 4000, 8000]
    large_ds = [20000] if args.quick else [20000, 100000]
    if args.dense is not None:
        dense_ds = [int(x) for x in args.dense.split(",") if x]
    if args.large is not None:
        large_ds = [int(x) for x in args.large.split(",") if x]
    print(
        f"kappa = {KAPPA:g}, geometric spectrum, BLAS threads = "
        f"{os.environ.get('OPENBLAS_NUM_THREADS')}, load average at start "
        f"{os.getloadavg()[0]:.1f}; dd = peak extra NumPy memory in units of d x d float64"
    )
    print(f"{'d':>7}  {'stage':<20} {'path':<34} {'wall':>10} {'mem (dd)':>9} {'MB':>11}  kappa*")
    for d, dense in [(d, True) for d in dense_ds] + [(d, False) for d in large_ds]:
        t0 = time.perf_counter()
        for stage, path, cell, k in run(d, dense):
            kk = "" if np.isnan(k) else f"{k:.12g}"
            print(f"{d:>7}  {stage:<20} {path:<34} {cell}  {kk}", flush=True)
        print(f"{d:>7}  {'total':<20} {'':<34} {time.perf_counter() - t0:8.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

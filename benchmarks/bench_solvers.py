"""Per-iteration wall time of GD and BNGD (via ``solve``) against bare NumPy loops, d = 2000.

Run by hand: ``python benchmarks/bench_solvers.py [--dim 2000] [--steps 200]``.
"Bare matvec" is one ``H @ w`` per step (the only O(d^2) work either solver needs);
"bare loop" is the same algorithm hand-written without diagnostics. Target: ``solve``
overhead <= 30 % over the bare matvec.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bntheory.problems import LeastSquares
from bntheory.solvers import BNGD, GradientDescent, solve


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dim", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    d, n = args.dim, args.steps
    ls = LeastSquares.ill_conditioned(d, 100, rng=0)
    H, u, w_star = ls.H, ls.u, ls.w_star
    w0 = np.random.default_rng(1).standard_normal(d)
    lr = 1.0

    def bare_matvec():
        w = w0.copy()
        for _ in range(n):
            w = H @ w
            w *= 1e-3

    def bare_gd():
        w = w0.copy()
        for _ in range(n):
            w = w - lr * (H @ (w - w_star))

    def bare_bngd():
        a, w = 1.0, w0.copy()
        for _ in range(n):
            Hw = H @ w
            n2 = w @ Hw
            nrm = np.sqrt(n2)
            uw = u @ w
            w, a = w + (lr * a / nrm) * (u - (uw / n2) * Hw), uw / nrm

    def run_gd():
        solve(ls, GradientDescent(lr), w0, max_steps=n - 1, tol=0.0)

    def run_bngd():
        solve(ls, BNGD(lr), (1.0, w0), max_steps=n - 1, tol=0.0)

    rows = [
        ("bare matvec H@w", _best(bare_matvec, args.repeats)),
        ("bare GD loop", _best(bare_gd, args.repeats)),
        ("bare BNGD loop", _best(bare_bngd, args.repeats)),
        ("solve(GD)", _best(run_gd, args.repeats)),
        ("solve(BNGD)", _best(run_bngd, args.repeats)),
    ]
    ref = rows[0][1]
    print(f"d = {d}, {n} steps, best of {args.repeats}")
    print(f"{'what':<18} {'ms/step':>9} {'vs matvec':>10}")
    for name, t in rows:
        print(f"{name:<18} {1e3 * t / n:9.3f} {100 * (t / ref - 1):+9.1f}%")


if __name__ == "__main__":
    main()

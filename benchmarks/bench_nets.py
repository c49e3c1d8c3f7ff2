"""Speed of bntheory.nets: SGD step, HVP vs gradient cost, Yang Monte Carlo.

Run: ``python benchmarks/bench_nets.py [--threads N]`` (default: 1 BLAS thread via
threadpoolctl when available; small matrices are much slower multithreaded on a shared box).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bntheory.nets import MLP, load_digits_split
from bntheory.nets.train import train
from bntheory.nets.yang import yang_gradient_rate


def _best(f, repeat: int = 5, number: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            f()
        best = min(best, (time.perf_counter() - t) / number)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        ctx = threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:  # pragma: no cover
        ctx = None
    rows = []
    d = load_digits_split(rng=0)
    net = MLP([64, 100, 100, 100, 10], "sigmoid", bn=True, loss="cross_entropy", rng=0)
    Xb, Yb = d.X_train[:60], d.Y_train[:60]
    t_step = _best(lambda: train(net, Xb, Yb, lr=0.1, steps=100), repeat=3) / 100
    rows.append(("SGD step, 3x100 sigmoid BN, batch 60", f"{t_step * 1e3:.3f} ms"))
    t_grad = _best(lambda: net.loss_and_grad(Xb, Yb), number=50)
    v = np.random.default_rng(0).standard_normal(net.dim)
    t_hvp = _best(lambda: net.hvp(Xb, Yb, v), number=50)
    rows.append(("gradient (same net)", f"{t_grad * 1e3:.3f} ms"))
    rows.append(
        ("exact HVP (R-operator)", f"{t_hvp * 1e3:.3f} ms = {t_hvp / t_grad:.2f} gradients")
    )
    wide = MLP([256, 512, 512, 512, 10], "relu", bn=True, loss="cross_entropy", rng=0)
    Xw = np.random.default_rng(1).standard_normal((128, 256))
    Yw = np.random.default_rng(2).integers(0, 10, 128)
    vw = np.random.default_rng(3).standard_normal(wide.dim)
    tg = _best(lambda: wide.loss_and_grad(Xw, Yw), number=5)
    th = _best(lambda: wide.hvp(Xw, Yw, vw), number=5)
    rows.append(
        (
            "HVP/gradient, 3x512 ReLU BN, batch 128",
            f"{th / tg:.2f} gradients ({tg * 1e3:.1f} ms grad)",
        )
    )
    for act, B in (("relu", 32), ("linear", 32)):
        t = time.perf_counter()
        r = yang_gradient_rate(act, width=500, depth=50, batch_size=B, n_networks=10, rng=0)
        el = time.perf_counter() - t
        rows.append(
            (
                f"Yang MC {act}, N=500, depth 50, B={B}, 10 nets",
                f"{el:.2f} s  (rate {r.measured:.4f} +- {r.stderr:.4f}, formula {r.formula:.4f})",
            )
        )
    del ctx
    w = max(len(a) for a, _ in rows)
    print(f"{'benchmark':<{w}}  result   (BLAS threads: {args.threads})")
    print("-" * (w + 50))
    for a, b in rows:
        print(f"{a:<{w}}  {b}")


if __name__ == "__main__":
    main()

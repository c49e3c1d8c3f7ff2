"""Benchmark: BN forward + backward, time per call and memory traffic.

Two shapes from the issue: (N, C, H, W) = (64, 64, 32, 32) float32 and (N, D) = (256, 4096)
float64. Besides the wall time we express the cost in *equivalent passes over memory*:
the time divided by the time of one streaming read+write of the same array
(``np.multiply(x, 1.0001, out=buf)``). A fused single-pass kernel (read x once, write y
once for the forward; read dy and x_hat, write dx for the backward) would cost about 1
pass forward and 1.5 passes backward in these units.

Run: ``python benchmarks/bench_bn.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, record  # noqa: E402

from bntheory.bn import batch_norm_backward, batch_norm_forward  # noqa: E402


def bench(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    gamma, beta = np.ones(C, dtype), np.zeros(C, dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    buf = np.empty_like(x)
    t_pass = best_time(lambda: np.multiply(x, 1.0001, out=buf), repeat=7)
    _, cache = batch_norm_forward(x, gamma, beta)
    t_fwd = best_time(lambda: batch_norm_forward(x, gamma, beta), repeat=7)
    t_bwd = best_time(lambda: batch_norm_backward(dy, cache), repeat=7)
    return {
        "shape": list(shape),
        "dtype": np.dtype(dtype).name,
        "MB": x.nbytes / 1e6,
        "one_pass_ms": 1e3 * t_pass,
        "forward_ms": 1e3 * t_fwd,
        "backward_ms": 1e3 * t_bwd,
        "forward_passes": t_fwd / t_pass,
        "backward_passes": t_bwd / t_pass,
    }


def main():
    rows = [bench((64, 64, 32, 32), np.float32), bench((256, 4096), np.float64)]
    print(
        f"{'shape':>20} {'dtype':>8} {'MB':>6} {'1 pass ms':>10} {'fwd ms':>8} {'bwd ms':>8} {'fwd passes':>11} {'bwd passes':>11}"
    )
    for r in rows:
        print(
            f"{str(tuple(r['shape'])):>20} {r['dtype']:>8} {r['MB']:6.1f} {r['one_pass_ms']:10.2f} "
            f"{r['forward_ms']:8.2f} {r['backward_ms']:8.2f} {r['forward_passes']:11.1f} {r['backward_passes']:11.1f}"
        )
    record("bn", {"rows": rows})


if __name__ == "__main__":
    main()

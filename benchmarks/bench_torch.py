"""Speed of bntheory.torch: per-HVP vs per-gradient cost of TorchObjective (train-mode BN),
on a ~100k-parameter BN CNN and on an MLP side by side with bntheory's NumPy MLP of the
same size; the cost of top_eigenvalues on the CNN; and one measurement of the training-loop
tracker (bntheory.torch.track) cold vs warm-started.

Run: ``python benchmarks/bench_torch.py [--threads N]`` (default 1 torch/BLAS thread).
Ratios are measured in one run, side by side; absolute times depend on the machine's load.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, record  # noqa: E402


def _cnn(nn, width: int):
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, 10),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch
    import torch.nn.functional as F

    from bntheory.measures import hessian_operator, top_eigenvalues
    from bntheory.nets import MLP
    from bntheory.torch import TorchObjective

    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:  # pragma: no cover
        pass
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    rows = []

    # ~100k-parameter BN CNN, batch 32 of 8x8 images
    model = _cnn(torch.nn, 74)
    X = torch.as_tensor(rng.standard_normal((32, 1, 8, 8)))
    y = torch.as_tensor(rng.integers(0, 10, 32))
    obj = TorchObjective(model, F.cross_entropy, (X, y), bn="train")
    v = rng.standard_normal(obj.dim)
    tg = best_time(lambda: obj.grad(obj.x0), repeat=3)
    th = best_time(lambda: obj.hvp(obj.x0, v), repeat=3)
    jobj = TorchObjective(model, F.cross_entropy, (X, y), bn="train", hvp_method="jvp")
    thj = best_time(lambda: jobj.hvp(jobj.x0, v), repeat=3)
    print(f"BN CNN: HVP by jvp-of-grad {thj * 1e3:.1f} ms (HVP/grad {thj / tg:.2f})")
    t0 = time.perf_counter()
    lam = top_eigenvalues(hessian_operator(obj, obj.x0), 1, rng=0, tol=1e-4)
    teig = time.perf_counter() - t0
    rows.append(("cnn", obj.dim, tg, th, th / tg, None, None))
    print(
        f"BN CNN dim {obj.dim}: grad {tg * 1e3:.1f} ms, HVP {th * 1e3:.1f} ms "
        f"(HVP/grad {th / tg:.2f}); top eigenvalue {lam[0]:.4g} in {teig:.1f} s"
    )

    # MLP 784-128-128-10 with BN, batch 64: torch vs bntheory's NumPy R-operator
    sizes = (784, 128, 128, 10)
    net = MLP(sizes, "tanh", bn=True, loss="mse", rng=0)
    Xn, Yn = rng.standard_normal((64, 784)), rng.standard_normal((64, 10))
    layers = []
    for k in range(3):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1], bias=k == 2))
        if k < 2:
            layers += [torch.nn.BatchNorm1d(sizes[k + 1]), torch.nn.Tanh()]
    mlp = torch.nn.Sequential(*layers)

    def mse(o, t):
        return 0.5 * ((o - t) ** 2).sum() / o.shape[0]

    tobj = TorchObjective(mlp, mse, (Xn, Yn), bn="train")
    w = rng.standard_normal(tobj.dim)
    tg_t = best_time(lambda: tobj.grad(tobj.x0))
    th_t = best_time(lambda: tobj.hvp(tobj.x0, w))
    tg_n = best_time(lambda: net.loss_and_grad(Xn, Yn))
    th_n = best_time(lambda: net.hvp(Xn, Yn, w))
    rows.append(("mlp", tobj.dim, tg_t, th_t, th_t / tg_t, tg_n, th_n))
    print(
        f"BN MLP dim {tobj.dim}: torch grad {tg_t * 1e3:.2f} ms, HVP {th_t * 1e3:.2f} ms "
        f"(HVP/grad {th_t / tg_t:.2f}); NumPy grad {tg_n * 1e3:.2f} ms, HVP {th_n * 1e3:.2f} ms "
        f"(HVP/grad {th_n / tg_n:.2f}); torch/NumPy HVP {th_t / th_n:.2f}"
    )
    # the training-loop tracker on the same MLP: one measurement (lambda_max, 10-probe trace,
    # landscape), cold start vs warm start from the previous eigenvector (parameters unchanged)
    from bntheory.torch import track

    tr = track(mlp, mse, lr=0.1, every=1, n_probes=10)
    t0 = time.perf_counter()
    tr.step((Xn, Yn))
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    tr.step((Xn, Yn))
    t_warm = time.perf_counter() - t0
    mv_cold, mv_warm = (int(m) for m in tr.result.matvecs)
    print(
        f"track on the BN MLP: measurement {t_cold:.2f} s cold ({mv_cold} Lanczos HVPs), "
        f"{t_warm:.2f} s warm-started ({mv_warm} HVPs)"
    )
    record(
        "torch",
        {
            "threads": args.threads,
            "rows": [
                dict(
                    zip(
                        (
                            "model",
                            "dim",
                            "grad_s",
                            "hvp_s",
                            "hvp_per_grad",
                            "numpy_grad_s",
                            "numpy_hvp_s",
                        ),
                        r,
                        strict=True,
                    )
                )
                for r in rows
            ],
            "cnn_top_eigenvalue_s": teig,
            "track_measurement_s": {"cold": t_cold, "warm": t_warm},
            "track_lanczos_hvps": {"cold": mv_cold, "warm": mv_warm},
        },
    )


if __name__ == "__main__":
    main()

"""Benchmark: BN forward + backward against PyTorch on CPU, side by side in one run.

Three shapes from issue 13: (N, C, H, W) = (64, 64, 32, 32) float32, (N, D) = (256, 4096)
float64 and (N, D) = (32, 64) float64. One call is ``batch_norm_forward`` followed by
``batch_norm_backward`` (training mode, eps = 1e-5, random gamma and beta so that no
shortcut for the initial gamma = 1, beta = 0 applies). It is compared with

* ``aten``: ``torch.ops.aten.native_batch_norm`` + ``native_batch_norm_backward``, the
  kernels behind ``torch.nn.functional.batch_norm`` without autograd's bookkeeping (the
  stricter reference), and
* ``autograd``: ``torch.nn.functional.batch_norm`` + ``Tensor.backward``, what a user calls.

With numba installed (extra ``fast``), ``numba`` is the same call inside
``bntheory.bn.use_kernels("numba")`` (the compiled ``(N, C)`` kernels; input with spatial
axes takes the NumPy kernels either way).

Timing: the implementations are timed in turn within every round (interleaved), and the
best round of each is kept, so that a busy machine slows all of them alike and the ratios
stay comparable. The default clock is the calling thread's CPU time (``--clock cpu``), which
other processes on a shared machine do not inflate; ``--clock wall`` gives elapsed time. NumPy's element-wise operations and reductions run on one thread, so
torch is limited to one thread too (``torch.set_num_threads(1)``); ``--torch-threads``
changes that. ``passes`` is the time over one streaming read+write of the array
(``np.multiply(x, 1.0001, out=buf)``).

``--before FILE`` also times the ``batch_norm_forward`` / ``batch_norm_backward`` of another
copy of the module or package (e.g. the previous ``bntheory/bn/`` copied from
``git show``/``git archive``) in the same rounds.

Run: ``python benchmarks/bench_bn.py [--before OLD_BN.py] [--rounds 15] [--no-record]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record  # noqa: E402

import bntheory.bn as bn  # noqa: E402

SHAPES = [((64, 64, 32, 32), np.float32), ((256, 4096), np.float64), ((32, 64), np.float64)]


def _load(path: str):
    """Import a copy of the BN module from a file path, or of the BN package from a
    directory (e.g. a copy of the previous ``bntheory/bn/``)."""
    if os.path.isdir(path):
        init = os.path.join(path, "__init__.py")
        spec = importlib.util.spec_from_file_location(
            "bn_before", init, submodule_search_locations=[path]
        )
    else:
        spec = importlib.util.spec_from_file_location("bn_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bn_before"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int,
    number: int,
    clock: Callable[[], float],
    contexts: dict[str, Callable[[], contextlib.AbstractContextManager]] | None = None,
) -> dict:
    """Best per-call time (s) of each function, timed in turn within every round (inside
    ``contexts[name]()``, entered once per round, when given)."""
    contexts = contexts or {}
    for name, f in fns.items():
        with contexts.get(name, contextlib.nullcontext)():
            f()  # warm-up (and compilation)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, f in fns.items():
            with contexts.get(name, contextlib.nullcontext)():
                t0 = clock()
                for _ in range(number):
                    f()
                best[name] = min(best[name], (clock() - t0) / number)
    return best


def bench(shape, dtype, rounds: int, before=None, clock=time.thread_time) -> dict:
    """Time one shape: bntheory (and ``before``), torch aten and torch autograd."""
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    gamma = (1.0 + 0.1 * rng.standard_normal(C)).astype(dtype)
    beta = (0.1 * rng.standard_normal(C)).astype(dtype)
    buf = np.empty_like(x)
    t_pass = _interleaved({"pass": lambda: np.multiply(x, 1.0001, out=buf)}, 7, 1, clock)["pass"]

    def ours(mod=bn):
        def run():
            _, cache = mod.batch_norm_forward(x, gamma, beta)
            return mod.batch_norm_backward(dy, cache)

        return run

    xt, dyt, gt, bt = (torch.from_numpy(a) for a in (x, dy, gamma, beta))

    def aten():
        out, mean, invstd = torch.ops.aten.native_batch_norm(
            xt, gt, bt, None, None, True, 0.1, 1e-5
        )
        return torch.ops.aten.native_batch_norm_backward(
            dyt, xt, gt, None, None, mean, invstd, True, 1e-5, [True, True, True]
        )

    xa, ga, ba = (t.clone().requires_grad_(True) for t in (xt, gt, bt))

    def autograd():
        xa.grad = ga.grad = ba.grad = None
        torch.nn.functional.batch_norm(xa, None, None, ga, ba, True, 0.1, 1e-5).backward(dyt)

    fns = {"bntheory": ours()}
    contexts = {}
    if importlib.util.find_spec("numba") is not None:  # the compiled kernels (extra ``fast``)
        fns["numba"] = ours()
        contexts["numba"] = lambda: bn.use_kernels("numba")
    if before is not None:
        fns["before"] = ours(before)
    fns["aten"] = aten
    fns["autograd"] = autograd
    number = max(1, int(2e5 // x.size)) if x.size < 2e5 else 2
    t = _interleaved(fns, rounds, number, clock, contexts)
    row = {
        "shape": list(shape),
        "dtype": np.dtype(dtype).name,
        "MB": x.nbytes / 1e6,
        "one_pass_ms": 1e3 * t_pass,
        **{f"{k}_ms": 1e3 * v for k, v in t.items()},
        "passes": t["bntheory"] / t_pass,
        "ratio_aten": t["bntheory"] / t["aten"],
        "ratio_autograd": t["bntheory"] / t["autograd"],
    }
    if "numba" in t:
        row["numba_ratio_aten"] = t["numba"] / t["aten"]
        row["numba_ratio_autograd"] = t["numba"] / t["autograd"]
    if before is not None:
        row["before_ratio_aten"] = t["before"] / t["aten"]
        row["before_ratio_autograd"] = t["before"] / t["autograd"]
    return row


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table and (unless ``--no-record``) store it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", help="path of another bn module to time alongside")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: this thread's CPU time (robust on a shared machine; valid with one torch "
        "thread, which runs in the calling thread); wall: elapsed time",
    )
    p.add_argument("--no-record", action="store_true", help="do not write results.json")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    before = _load(args.before) if args.before else None
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    if args.clock == "cpu" and args.torch_threads != 1:
        p.error("--clock cpu measures the calling thread only: use it with --torch-threads 1")
    rows = [bench(s, d, args.rounds, before, clock) for s, d in SHAPES]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); clock {args.clock}; "
        f"load {load:.1f}"
    )
    head = f"{'shape':>17} {'dtype':>7} {'ours ms':>8} {'aten ms':>8} {'autograd':>8} "
    head += f"{'/aten':>6} {'/autograd':>9} {'passes':>6}"
    if "numba_ms" in rows[0]:
        head += f" {'numba ms':>8} {'numba/aten':>10} {'numba/autograd':>14}"
    if before is not None:
        head += f" {'before ms':>9} {'before/aten':>11} {'before/autograd':>15}"
    print(head)
    for r in rows:
        line = (
            f"{str(tuple(r['shape'])):>17} {r['dtype']:>7} {r['bntheory_ms']:8.3f} "
            f"{r['aten_ms']:8.3f} {r['autograd_ms']:8.3f} {r['ratio_aten']:6.2f} "
            f"{r['ratio_autograd']:9.2f} {r['passes']:6.1f}"
        )
        if "numba_ms" in r:
            line += (
                f" {r['numba_ms']:8.3f} {r['numba_ratio_aten']:10.2f} "
                f"{r['numba_ratio_autograd']:14.2f}"
            )
        if before is not None:
            line += (
                f" {r['before_ms']:9.3f} {r['before_ratio_aten']:11.2f} "
                f"{r['before_ratio_autograd']:15.2f}"
            )
        print(line)
    if not args.no_record:
        record(
            "bn",
            {
                "rows": rows,
                "torch_threads": torch.get_num_threads(),
                "clock": args.clock,
                "load": load,
            },
        )


if __name__ == "__main__":
    main()

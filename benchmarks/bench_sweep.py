"""Benchmark: parallel speedup of ``bntheory.sweep.run_sweep``.

A CPU-bound NumPy task: each of 16 cells runs gradient descent with step 1/L on a dense
300-dimensional quadratic (``bntheory.sweep._examples._example_gd_quadratic``), with the number of
steps calibrated so that one cell takes about 0.5 s on one BLAS thread. The same sweep
runs on

* the serial executor (BLAS pinned to one thread, like the workers),
* ``executor_from_spec("processes:2")`` (spawn, BLAS pinned per worker, workers bound to
  the parent),
* ``executor_from_spec("dask-local:2")`` (LocalCluster, 2 worker processes x 1 thread),

and we report the wall time of the sweep alone and including the start-up/shut-down of
the pool or cluster, the speedup over serial, and whether the results are bit-identical.
Target: speedup >= 1.7x with 2 workers on 2 free cores. The machine's load average is
recorded because other processes sharing the cores depress the speedup.

Run: ``python benchmarks/bench_sweep.py [--cells 16] [--cell-seconds 0.5] [--no-dask]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import record  # noqa: E402

from bntheory.sweep import _examples as sweep  # noqa: E402
from bntheory.sweep import executor_from_spec, run_sweep  # noqa: E402

DIM = 300


def calibrate(cell_seconds: float) -> int:
    """Number of GD steps for one cell to take about ``cell_seconds`` on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        rng = np.random.default_rng(0)
        sweep._example_gd_quadratic(dim=DIM, steps=200, rng=rng)  # warm-up
        t0 = time.perf_counter()
        sweep._example_gd_quadratic(dim=DIM, steps=2000, rng=rng)
        t_long = time.perf_counter() - t0
        t0 = time.perf_counter()
        sweep._example_gd_quadratic(dim=DIM, steps=200, rng=rng)
        t_short = time.perf_counter() - t0
    per_step = max((t_long - t_short) / 1800, 1e-7)
    setup = max(t_short - 200 * per_step, 0.0)
    return max(int((cell_seconds - setup) / per_step), 10)


def timed_sweep(spec: str, grid: dict, n_seeds: int) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    with executor_from_spec(spec) as ex:
        t1 = time.perf_counter()
        res = run_sweep(
            sweep._example_gd_quadratic, grid, seeds=n_seeds, executor=ex, progress=False
        )
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    return t2 - t1, t3 - t0, res


def mean_cell(res) -> float:
    """Mean wall time of one cell as measured inside the worker."""
    return float(np.mean([r["elapsed"] for r in res.records]))


def concurrency(res, wall: float) -> float:
    """Sum of cell times / sweep wall time: how many cells ran at once on average.

    Unlike the speedup it is not lowered by other processes slowing every cell down
    (they lengthen the cells and the wall time alike); ideal = number of workers.
    """
    return float(np.sum([r["elapsed"] for r in res.records]) / wall)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=16)
    p.add_argument("--cell-seconds", type=float, default=0.5)
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--no-record", action="store_true", help="do not write benchmarks/results.json")
    args = p.parse_args(argv)

    steps = calibrate(args.cell_seconds)
    # one parameter cell x `cells` seeds: every cell is a different random quadratic
    n_seeds = args.cells
    fn_grid = {"dim": [DIM], "steps": [steps]}

    load_before = os.getloadavg()
    rows = []
    t_serial, _, ref = timed_sweep("serial", fn_grid, n_seeds)
    rows.append(
        {
            "executor": "serial",
            "workers": 1,
            "sweep_s": t_serial,
            "total_s": t_serial,
            "cell_s": mean_cell(ref),
            "concurrency": concurrency(ref, t_serial),
        }
    )
    specs = ["processes:2"] + ([] if args.no_dask else ["dask-local:2"])
    for spec in specs:
        t_sweep, t_total, res = timed_sweep(spec, fn_grid, n_seeds)
        same = all(a["value"] == b["value"] for a, b in zip(ref.records, res.records, strict=True))
        rows.append(
            {
                "executor": spec,
                "workers": 2,
                "sweep_s": t_sweep,
                "total_s": t_total,
                "speedup_sweep": t_serial / t_sweep,
                "speedup_total": t_serial / t_total,
                "bit_identical": bool(same),
                "cell_s": mean_cell(res),
                "concurrency": concurrency(res, t_sweep),
            }
        )
    load_after = os.getloadavg()

    n = len(ref.records)
    print(
        f"sweep benchmark: {n} cells x ~{args.cell_seconds} s (GD, {steps} steps, dim {DIM}), "
        f"{os.cpu_count()} cpus, load avg before/after {load_before[0]:.2f}/{load_after[0]:.2f}"
    )
    print(
        f"{'executor':<14}{'sweep s':>9}{'total s':>9}{'speedup':>9}{'(total)':>9}"
        f"{'cell s':>8}{'concur.':>9}  bit-identical"
    )
    for r in rows:
        sp = f"{r.get('speedup_sweep', 1.0):9.2f}"
        spt = f"{r.get('speedup_total', 1.0):9.2f}"
        print(
            f"{r['executor']:<14}{r['sweep_s']:9.2f}{r['total_s']:9.2f}{sp}{spt}"
            f"{r['cell_s']:8.2f}{r['concurrency']:9.2f}  {r.get('bit_identical', '-')}"
        )
    print(
        "target: speedup >= 1.7 with 2 workers on 2 free cores; 'cell s' = mean time of one "
        "cell inside its worker (grows when other processes share the cores), 'concur.' = "
        "sum of cell times / sweep wall time (ideal = workers, insensitive to that sharing)"
    )
    if not args.no_record:
        record(
            "sweep",
            {
                "task": f"{n} cells of GD on a dense {DIM}-dim quadratic, {steps} steps, ~{args.cell_seconds} s/cell",
                "load_avg_1min_before": load_before[0],
                "load_avg_1min_after": load_after[0],
                "rows": rows,
                "note": (
                    "machine shared with other processes; a load average above ~0 depresses "
                    "the speedup; 'concurrency' (sum of cell times / wall) is not depressed by it"
                ),
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every experiment script of this folder (compute, save data, plot, check).

Usage::

    python experiments/run_all.py [--quick] [--out DIR] [--seed N] [--jobs N] [--replot] [--only A,B]
                                  [--executor SPEC]

Each experiment runs in a fresh interpreter (``python experiments/<name>.py ...``), ``--jobs``
of them at a time (threads waiting on subprocesses; BLAS pinned to one thread each). Prints
one line per experiment (status, seconds, the experiment's check message) and exits with 1
if any experiment failed its check or crashed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "figures"


def experiment_names() -> list[str]:
    """Names of the experiment scripts (``*.py`` not starting with ``_``, except this file)."""
    return sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all"
    )


def _run_one(name: str, args: argparse.Namespace) -> tuple[str, int, float, str]:
    cmd = [
        sys.executable,
        str(HERE / f"{name}.py"),
        "--out",
        str(args.out),
        "--seed",
        str(args.seed),
    ]
    if args.quick:
        cmd.append("--quick")
    if args.replot:
        cmd.append("--replot")
    if args.executor != "serial":
        cmd += ["--executor", args.executor]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    text = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode not in (0, 1):
        text = (proc.stderr.strip().splitlines() or ["crashed"])[-1]
    return name, proc.returncode, secs, text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="run_all", description="Run every experiment script.")
    p.add_argument("--quick", action="store_true", help="small, fast versions")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: figures/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="experiments run at the same time")
    p.add_argument("--replot", action="store_true", help="redraw every figure from saved data")
    p.add_argument("--only", default="", help="comma-separated experiment names")
    p.add_argument("--executor", default="serial", help="sweep executor passed to each experiment")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    names = experiment_names()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            p.error(f"--only: unknown experiments {unknown}; available: {names}")
        names = wanted
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(lambda n: _run_one(n, args), names))
    failed = 0
    for name, code, secs, text in results:
        status = {0: "ok", 1: "CHECK FAILED"}.get(code, f"CRASHED ({code})")
        failed += code != 0
        print(f"{name:24s} {status:14s} {secs:6.1f} s  {text}")
    print(
        f"{len(results) - failed}/{len(results)} experiments ok in {time.perf_counter() - t0:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

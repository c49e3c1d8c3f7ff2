"""Run every experiment script of this folder (compute, save data, plot, check).

Usage::

    python experiments/run_all.py [--quick] [--out DIR] [--seed N] [--jobs N] [--replot] [--only A,B]
                                  [--executor SPEC]

Each experiment runs in a fresh interpreter (``python experiments/<name>.py ...``), ``--jobs``
of them at a time (threads waiting on subprocesses; BLAS pinned to one thread each). Prints
one line per experiment (status, seconds, the experiment's check message) and exits with 1
if any experiment failed its check or crashed.

Ctrl-C or SIGTERM ends every running experiment (each runs in its own session, so only this
process sees the terminal's Ctrl-C; each also ends itself if this process dies), prints one
line and exits with 130 or 143.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bntheory.sweep.processes import child_env, guarded

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "figures"


def experiment_names() -> list[str]:
    """Names of the experiment scripts (``*.py`` not starting with ``_``, except this file).

    Returns
    -------
    list of str
        Sorted names.
    """
    return sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all"
    )


class _Children:
    """The running experiment subprocesses; :meth:`stop` ends them and refuses new ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen] = set()
        self.stopped = False

    def start(self, cmd: list[str]) -> subprocess.Popen | None:
        with self.lock:
            if self.stopped:
                return None
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=child_env(),
                start_new_session=True,
            )
            self.procs.add(proc)
            return proc

    def done(self, proc: subprocess.Popen) -> None:
        with self.lock:
            self.procs.discard(proc)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            procs = list(self.procs)
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


def _run_one(
    name: str, args: argparse.Namespace, children: _Children
) -> tuple[str, int, float, str]:
    """Run one experiment script; returns (name, exit code, seconds, its last line)."""
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
    t0 = time.perf_counter()
    proc = children.start(cmd)
    if proc is None:
        return name, 143, 0.0, "not started (interrupted)"
    try:
        stdout, stderr = proc.communicate()
    finally:
        children.done(proc)
    secs = time.perf_counter() - t0
    text = (stdout.strip().splitlines() or [""])[-1]
    if proc.returncode not in (0, 1):
        text = (stderr.strip().splitlines() or ["crashed"])[-1]
    return name, proc.returncode, secs, text


def main(argv: list[str] | None = None) -> int:
    """Run the experiments (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        Command line (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every experiment passed its check, 1 otherwise, 130/143 when interrupted.
    """
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
    return guarded("run_all", lambda: _run_all(names, args))


def _run_all(names: list[str], args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    children = _Children()
    ex = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        results = list(ex.map(lambda n: _run_one(n, args, children), names))
    except BaseException:  # Ctrl-C / SIGTERM: end the running experiments, start no more
        children.stop()
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
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

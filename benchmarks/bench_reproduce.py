"""Benchmark: wall time of ``bntheory reproduce --quick`` and of the full ``reproduce``,
and of ``bntheory verify --quick`` / ``verify``, each into a temporary folder.

Run: ``python benchmarks/bench_reproduce.py [--skip-full] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "bntheory"]
        runs = [
            (
                "reproduce --quick",
                ["reproduce", "--quick", "--jobs", str(args.jobs), "--out", f"{tmp}/q"],
            ),
            ("verify --quick", ["verify", "--quick", "--jobs", str(args.jobs)]),
        ]
        if not args.skip_full:
            runs += [
                ("reproduce", ["reproduce", "--jobs", str(args.jobs), "--out", f"{tmp}/f"]),
                ("verify", ["verify", "--jobs", str(args.jobs)]),
            ]
        for name, cmd in runs:
            sec, rc = timed(base + cmd)
            rows.append(
                {"command": f"bntheory {name}", "jobs": args.jobs, "seconds": sec, "exit": rc}
            )
            print(
                f"{'bntheory ' + name:>28}  jobs={args.jobs}  {sec:8.1f} s  exit={rc}", flush=True
            )
    record("reproduce", {"rows": rows})


if __name__ == "__main__":
    main()

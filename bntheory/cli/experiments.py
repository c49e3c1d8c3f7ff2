"""Experiments of the CLI: discovery (``bntheory list``) and running one in a child process."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Experiment", "discover_experiments", "run_experiment"]


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

    Returns
    -------
    dict of str to Experiment
        Sorted by name.
    """
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder (str or os.PathLike) or None, got {root!r:.40}")
    found: dict[str, Experiment] = {}
    env = os.environ.get("BNTHEORY_EXPERIMENTS")
    if root is not None:
        folder = Path(root) / "experiments"
    elif env:
        folder = Path(env)
    else:
        folder = Path(__file__).resolve().parents[2] / "experiments"
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


def _check_run_args(exp: object, quick: object, out: object, replot: object) -> None:
    """The arguments of :func:`run_experiment`, checked before a child process starts."""
    if not isinstance(exp, Experiment):
        raise TypeError(
            f"exp must be an Experiment (discover_experiments), got {type(exp).__name__}"
        )
    cmd = exp.command
    if not (isinstance(cmd, tuple) and cmd and all(isinstance(c, str) and c for c in cmd)):
        raise TypeError(f"exp.command must be a non-empty tuple of non-empty str, got {cmd!r:.60}")
    if any("\0" in c for c in cmd):
        raise ValueError("exp.command must not contain a NUL character")
    for name, flag in (("quick", quick), ("replot", replot)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    if not isinstance(out, (str, os.PathLike)) or str(out) == "":
        raise TypeError(f"out must be a folder (str or os.PathLike), got {out!r:.40}")
    if "\0" in str(out):
        raise ValueError("out must not contain a NUL character")


def run_experiment(
    exp: Experiment, quick: bool, out: Path, replot: bool = False
) -> tuple[str, int, float]:
    """Run one experiment script in a child process; the child is terminated (then killed)
    if this process is interrupted, so no experiment goes on writing after the CLI exits.

    Parameters
    ----------
    exp : Experiment
        The experiment.
    quick : bool
        Pass ``--quick``.
    out : Path
        Output folder (``--out``).
    replot : bool
        Pass ``--replot``.

    Returns
    -------
    tuple
        ``(name, exit code, seconds)``.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or value (the message names it); nothing is started.
    """
    from bntheory.sweep.processes import child_env

    _check_run_args(exp, quick, out, replot)
    cmd = list(exp.command) + (["--quick"] if quick else []) + ["--out", str(out)]
    if replot:
        cmd.append("--replot")
    t0 = time.perf_counter()
    # own session: a Ctrl-C at the terminal reaches only this process, which ends the child
    # (and reports it in one line); the child ends itself if this process dies
    proc = subprocess.Popen(cmd, env=child_env(), start_new_session=True)
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

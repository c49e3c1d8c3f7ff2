"""Shared machinery of the experiment scripts: command line, data files, checks, figure style.

Every experiment ``experiments/<name>.py`` defines

* ``compute(quick: bool, seed: int) -> dict`` — the numbers (JSON-able: dicts, lists,
  numbers, strings, booleans, None, numpy arrays and scalars);
* ``plot(data: dict, out: Path) -> None`` — the figure, drawn only from ``data`` and written
  with :func:`save_figure` as ``<out>/<name>.pdf`` and ``<out>/<name>.png``;
* ``CHECK(data) -> (ok: bool, message: str)`` — the experiment's own check (what the data
  must satisfy for the figure to show what it claims to show);
* ``main(argv=None) -> int`` — ``return run(NAME, compute, plot, CHECK, argv, doc)``.

:func:`run` parses ``--quick``, ``--out DIR`` (default: the repository's ``figures/``),
``--replot`` (draw from ``<out>/data/<name>.json`` without recomputing) and ``--seed``;
computes, writes the data file, plots, runs the check and prints one status line. The exit
code is 0 when the check passes, 1 when it does not.

Data files never contain NaN or infinities: :func:`to_jsonable` turns non-finite floats
into ``None`` (JSON ``null``), so diverged parts of a run are recorded as missing, and the
experiment records the run's status next to them.

Deep-network experiments use the same contract; their ``compute`` may call :func:`sweep`
(``bntheory.sweep.run_sweep`` on the executor chosen by ``--executor``, cells cached under
``<out>/data/<name>_cells`` so a long run resumes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from bntheory._io import WriteError, read_json, write_json  # noqa: E402
from bntheory.experiments._analysis import (  # noqa: E402, F401 - re-exported for the scripts
    bngd_rate_record,
    log_floor,
    log_rate_error,
    thin_index,
    trajectory,
)
from bntheory.experiments._jsonable import all_finite, finite_or_none, to_jsonable  # noqa: E402, F401
from bntheory.sweep.executors import executor_from_spec, parse_executor_spec  # noqa: E402
from bntheory.sweep.processes import bind_to_launcher, guarded  # noqa: E402


def _checkout() -> Path | None:
    """The repository checkout holding this package (``pyproject.toml`` beside ``bntheory/``),
    or None for an installed (non-editable) bntheory."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "bntheory").is_dir() else None


REPO = _checkout()
#: figures/ of the checkout; for an installed package, figures/ in the working directory
DEFAULT_OUT = (REPO if REPO is not None else Path.cwd()) / "figures"

__all__ = [
    "DEFAULT_OUT",
    "REPO",
    "all_finite",
    "data_path",
    "figure",
    "finite_or_none",
    "load_data",
    "plot_bound",
    "plot_measured",
    "run",
    "save_data",
    "sweep",
    "save_figure",
    "style",
    "to_jsonable",
]

from bntheory.plotting import figure, plot_bound, plot_measured, save_figure, style  # noqa: E402


# --------------------------------------------------------------------------- data files
def data_path(name: str, out: str | Path) -> Path:
    """``<out>/data/<name>.json``.

    Parameters
    ----------
    name : str
        Experiment name.
    out : str or Path
        Output folder.

    Returns
    -------
    Path
        The data file's path.
    """
    return Path(out) / "data" / f"{name}.json"


def save_data(data: dict, name: str, out: str | Path) -> Path:
    """Write ``data`` (made JSON-safe) to ``<out>/data/<name>.json`` atomically.

    Parameters
    ----------
    data : dict
        The experiment's numbers (see :func:`to_jsonable`).
    name : str
        Experiment name.
    out : str or Path
        Output folder.

    Returns
    -------
    Path
        The data file.
    """
    path = data_path(name, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json(path, to_jsonable(data), indent=1, allow_nan=False)


def load_data(name: str, out: str | Path) -> dict:
    """Read ``<out>/data/<name>.json``.

    Parameters
    ----------
    name : str
        Experiment name.
    out : str or Path
        Output folder.

    Returns
    -------
    dict
        The stored data.

    Raises
    ------
    FileNotFoundError
        No data file (the message names it).
    ValueError
        The file is not a JSON object (truncated or foreign; the message names it).
    """
    path = data_path(name, out)
    if not path.is_file():
        raise FileNotFoundError(f"no saved data for {name!r}: {path} (run without --replot first)")
    try:
        data = read_json(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"data file {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"data file {path} does not hold a JSON object")
    return data


def arr(values: Any) -> np.ndarray:
    """A stored list (``None`` for missing) as a float array with NaN for missing (for plotting).

    Parameters
    ----------
    values : iterable
        Numbers or None.

    Returns
    -------
    numpy.ndarray
        Float array.
    """
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------- command line
def _check_name(name: object) -> str:
    """``name`` as a plain file name (it names ``<out>/data/<name>.json``: no separator)."""
    import re

    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the experiment's name), got {type(name).__name__}")
    if re.fullmatch(r"[A-Za-z0-9_.-]+", name) is None or name.strip(".") == "":
        raise ValueError(f"name must be a plain file name (letters, digits, _ . -), got {name!r}")
    return name


def _parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    first = (doc or name).strip().splitlines()[0]
    p = argparse.ArgumentParser(prog=name, description=first)
    p.add_argument("--quick", action="store_true", help="small, fast version (seconds)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: figures/)")
    p.add_argument("--replot", action="store_true", help="redraw from saved data, no computation")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--executor",
        default="serial",
        help="where sweep cells run (bntheory.sweep.executor_from_spec): serial, processes[:N], "
        "dask-local[:N], dask://HOST:PORT (default serial); used by experiments that call sweep()",
    )
    return p


#: Settings of the current run, read by :func:`sweep` (set by :func:`run`).
RUN_CONTEXT: dict[str, Any] = {"out": None, "executor": "serial"}


def run(
    name: str,
    compute: Callable[[bool, int], dict],
    plot: Callable[[dict, Path], None],
    check: Callable[[dict], tuple[bool, str]],
    argv: list[str] | None = None,
    doc: str | None = None,
) -> int:
    """Command-line driver shared by every experiment (see the module docstring).

    Ctrl-C and SIGTERM end the run (and its sweep workers) with one line and exit code 130
    or 143 (:func:`bntheory.sweep.processes.guarded`); a file that cannot be written, or
    ``--replot`` data that is missing or does not fit the figure, gives one line and exit
    code 2. Launched by ``bntheory run``/``reproduce`` or ``run_all.py``, the run ends with
    its launcher (:func:`bntheory.sweep.processes.bind_to_launcher`).

    Parameters
    ----------
    name : str
        Experiment name (data file ``<out>/data/<name>.json``, figure ``<out>/<name>.*``).
    compute : callable
        ``compute(quick, seed) -> dict``.
    plot : callable
        ``plot(data, out)``.
    check : callable
        ``check(data) -> (ok, message)``.
    argv : list of str, optional
        Command line (default ``sys.argv[1:]``).
    doc : str, optional
        The script's docstring (first line: the ``--help`` description).

    Returns
    -------
    int
        0 when the check passes, 1 when it does not, 2 on a usage or file error, 130/143
        when interrupted.

    Raises
    ------
    TypeError, ValueError
        A bad ``name`` (not a plain file name), a non-callable ``compute``/``plot``/``check``,
        ``argv`` not a list of str, or ``compute``/``check`` returning the wrong type.
    """
    name = _check_name(name)
    for what, f in (("compute", compute), ("plot", plot), ("check", check)):
        if not callable(f):
            raise TypeError(f"{what} must be callable, got {type(f).__name__}")
    if doc is not None and not isinstance(doc, str):
        raise TypeError(f"doc must be a str or None, got {type(doc).__name__}")
    if argv is not None and not (
        isinstance(argv, (list, tuple)) and all(isinstance(a, str) for a in argv)
    ):
        raise TypeError(f"argv must be a list of str or None, got {argv!r:.60}")
    parser = _parser(name, doc)
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    if not args.out or "\0" in args.out:
        parser.error(f"--out must be a folder path, got {args.out!r}")
    try:
        parse_executor_spec(args.executor)
    except (TypeError, ValueError) as exc:
        parser.error(f"--executor: {exc}")
    bind_to_launcher()
    return guarded(name, lambda: _run(name, compute, plot, check, args))


def _run(
    name: str,
    compute: Callable[[bool, int], dict],
    plot: Callable[[dict, Path], None],
    check: Callable[[dict], tuple[bool, str]],
    args: argparse.Namespace,
) -> int:
    out = Path(args.out)
    RUN_CONTEXT.update(out=out, executor=args.executor)
    t0 = time.perf_counter()
    try:
        if args.replot:
            data = load_data(name, out)
        else:
            data = compute(args.quick, args.seed)
            if not isinstance(data, dict):
                raise TypeError(f"compute must return a dict, got {type(data).__name__}")
            data.setdefault("meta", {})
            data["meta"].update(
                {
                    "name": name,
                    "quick": bool(args.quick),
                    "seed": int(args.seed),
                    "compute_seconds": round(time.perf_counter() - t0, 3),
                }
            )
            save_data(data, name, out)
            data = load_data(name, out)  # plot exactly what was stored
        try:
            with style():  # every text element of the figure gets the project's rcParams
                plot(data, out)
            res = check(data)
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"check must return (ok, message), got {res!r:.60}")
            ok, msg = res
        except (WriteError, KeyboardInterrupt):
            raise
        except Exception as exc:
            if not args.replot:
                raise
            # saved data that does not fit the figure (wrong shape, another version)
            raise ValueError(
                f"cannot replot from {data_path(name, out)}: {type(exc).__name__}: {exc}"
            ) from None
    except WriteError as exc:  # full disk, read-only folder: one line naming the file
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        if not args.replot:
            raise
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    secs = time.perf_counter() - t0
    print(f"{name}: {'OK' if ok else 'CHECK FAILED'} ({secs:.1f} s) - {msg}", file=sys.stdout)
    return 0 if ok else 1


def sweep(
    name: str, fn: Callable[..., Any], grid: Any, *, seeds: int = 1, root_seed: int = 0
) -> Any:
    """:func:`bntheory.sweep.run_sweep` with this run's executor and a per-cell cache.

    Cells are cached in ``<out>/data/<name>_cells`` (``out`` of the current :func:`run`;
    no cache when called outside one), so an interrupted long experiment (the deep-network
    figures) resumes where it stopped. ``fn`` must be a module-level function for process
    or Dask executors.

    Parameters
    ----------
    name : str
        Experiment name (cache folder and the cells' function name).
    fn : callable
        The cell function ``fn(**params, rng=Generator)``.
    grid : Grid or dict of lists
        The parameter grid.
    seeds : int
        Seeds per cell.
    root_seed : int
        Root seed entropy.

    Returns
    -------
    bntheory.sweep.SweepResult
        The sweep's records.
    """
    from bntheory.sweep.run import run_sweep

    name = _check_name(name)
    out = RUN_CONTEXT["out"]
    cache = None if out is None else Path(out) / "data" / f"{name}_cells"
    with executor_from_spec(RUN_CONTEXT["executor"]) as ex:
        return run_sweep(
            fn,
            grid,
            seeds=seeds,
            root_seed=root_seed,
            executor=ex,
            out_dir=cache,
            progress=False,
            name=f"{name}.{getattr(fn, '__name__', 'fn')}",
        )

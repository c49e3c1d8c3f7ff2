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
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402


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

try:  # the project's figure style
    from bntheory.plotting import figure, plot_bound, plot_measured, save_figure, style
except ImportError:  # pragma: no cover - fallback while bntheory.plotting is not available
    import contextlib

    import matplotlib.pyplot as plt

    style = contextlib.nullcontext

    def figure(nrows: int = 1, ncols: int = 1, *, width=None, height=None, squeeze=True, **kw):
        w = width if width is not None else 5.0 if ncols == 1 else 3.6 * ncols
        h = height if height is not None else 3.4 if nrows == 1 else 2.9 * nrows
        return plt.subplots(
            nrows, ncols, figsize=(w, h), squeeze=squeeze, constrained_layout=True, **kw
        )

    def plot_measured(ax, x, y, label, *, method=None, **kw):
        lab = f"{label} ({method})" if method else label
        return ax.plot(x, y, linestyle="-", label=lab, **kw)[0]

    def plot_bound(ax, x, y, label, *, source=None, **kw):
        lab = f"{label} [{source}]" if source else label
        kw.setdefault("color", "0.25")
        return ax.plot(x, y, linestyle="--", label=lab, **kw)[0]

    def save_figure(fig, stem, out_dir="figures"):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pdf, png = out / f"{stem}.pdf", out / f"{stem}.png"
        fig.savefig(pdf, bbox_inches="tight", metadata={"CreationDate": None})
        fig.savefig(png, bbox_inches="tight", dpi=200)
        return pdf, png


# --------------------------------------------------------------------------- data files
def finite_or_none(x: float) -> float | None:
    """``float(x)`` if finite, else ``None`` (how a diverged value is stored)."""
    x = float(x)
    return x if math.isfinite(x) else None


def to_jsonable(obj: Any) -> Any:
    """Recursively convert numpy containers/scalars to plain JSON; non-finite floats -> None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return finite_or_none(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"data: cannot store a value of type {type(obj).__name__} in JSON")


def all_finite(obj: Any) -> bool:
    """True iff no float in the nested structure is NaN or infinite (None is allowed)."""
    if isinstance(obj, dict):
        return all(all_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(all_finite(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind not in "fc" or bool(np.all(np.isfinite(obj)))
    if isinstance(obj, (float, np.floating)):
        return math.isfinite(float(obj))
    return True


def data_path(name: str, out: str | Path) -> Path:
    """``<out>/data/<name>.json``."""
    return Path(out) / "data" / f"{name}.json"


def save_data(data: dict, name: str, out: str | Path) -> Path:
    """Write ``data`` (made JSON-safe) to ``<out>/data/<name>.json``; returns the path."""
    path = data_path(name, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_jsonable(data), indent=1, allow_nan=False)
    from bntheory._io import atomic_write_text

    return atomic_write_text(path, text + "\n")


def load_data(name: str, out: str | Path) -> dict:
    """Read ``<out>/data/<name>.json``; FileNotFoundError names the missing file."""
    path = data_path(name, out)
    if not path.is_file():
        raise FileNotFoundError(f"no saved data for {name!r}: {path} (run without --replot first)")
    return json.loads(path.read_text(encoding="utf-8"))


def arr(values: Any) -> np.ndarray:
    """A stored list (``None`` for missing) as a float array with NaN for missing (for plotting)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------- command line
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
    """Command-line driver shared by every experiment (see the module docstring)."""
    args = _parser(name, doc).parse_args(argv)
    if args.seed < 0:
        raise SystemExit(f"{name}: error: --seed must be >= 0, got {args.seed}")
    out = Path(args.out)
    RUN_CONTEXT.update(out=out, executor=args.executor)
    t0 = time.perf_counter()
    if args.replot:
        data = load_data(name, out)
    else:
        data = compute(args.quick, args.seed)
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
    with style():  # every text element of the figure gets the project's rcParams
        plot(data, out)
    ok, msg = check(data)
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
    """
    from bntheory.sweep import executor_from_spec, run_sweep

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


# --------------------------------------------------------------------------- small helpers
def log_floor(values: np.ndarray, floor: float = 1e-300) -> np.ndarray:
    """Positive values for a log axis; non-positive / missing entries become NaN (not drawn)."""
    v = np.asarray(values, dtype=float)
    return np.where(v > floor, v, np.nan)


def thin_index(n: int, max_points: int = 400) -> np.ndarray:
    """At most ``max_points`` indices spread evenly over ``0..n-1`` (first and last kept)."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def trajectory(res: Any, *, history: tuple[str, ...] = (), max_points: int = 400) -> dict:
    """Thinned per-step record of a solver Result: steps, gaps, losses, chosen history keys."""
    n = len(res.losses)
    idx = thin_index(n, max_points)
    rec = {
        "status": res.status,
        "message": res.message,
        "n_steps": int(res.n_steps),
        "k": idx,
        "losses": np.asarray(res.losses)[idx],
    }
    if res.gaps is not None:
        rec["gaps"] = np.asarray(res.gaps)[idx]
        rec["gap0"] = float(res.gaps[0])
        rec["gap_final"] = float(res.gaps[-1])
    for key in history:
        rec[key] = np.asarray(res.history[key])[idx]
    return rec


def bngd_local_rate(H: np.ndarray, w_star: np.ndarray, eps_hat: float) -> float:
    """Predicted per-step contraction of BNGD's loss gap near the minimum.

    ``max over non-zero eigenvalues lambda of H* of (1 - eps_hat lambda)^2``
    (Cai, Li & Shen 2019, Sec. 3; THEORY.md Sec. 2 (iii) [D+]).
    """
    from bntheory.measures import effective_spectrum

    lam = effective_spectrum(H, w_star)
    return float(np.max((1.0 - eps_hat * lam) ** 2))


def bngd_window_rate(
    H: np.ndarray, w_star: np.ndarray, eps_hat: np.ndarray, window: tuple[int, int]
) -> float:
    """Predicted per-step gap contraction over ``window``, with the actual effective steps.

    Geometric mean over ``start <= k < stop`` of :func:`bngd_local_rate` at ``eps_hat[k]``
    (the effective step still drifts slowly while ``||w_k||`` grows).
    """
    from bntheory.measures import effective_spectrum

    lam = effective_spectrum(H, w_star)
    e = np.asarray(eps_hat, dtype=float)[window[0] : window[1]]
    per = np.maximum((1.0 - e * lam[0]) ** 2, (1.0 - e * lam[-1]) ** 2)
    return float(np.exp(np.mean(np.log(per))))


def bngd_rate_record(res: Any, problem: Any, solver: Any, x0: Any) -> dict:
    """Compare BNGD's measured gap decay on its settled phase with the linearized prediction.

    Linearization (Cai, Li & Shen 2019, Sec. 3; THEORY.md Sec. 2 (iii)): near ``w = s w*``
    the H-residual ``r = w* - (u^T w / ||w||_H^2) w`` evolves as
    ``r_{k+1} ~ (I - eps_hat_k H*) r_k`` and the direction gap is ``1/2 r^T H r``. Starting
    from the measured ``r`` at the window start (the run is replayed to that step) and
    using the measured effective steps, the predicted direction gap at step ``k`` is
    ``1/2 sum_i lambda_i c_i^2 prod_j (1 - eps_hat_j lambda_i)^2`` (``c = V^T r``,
    ``H* = V diag(lambda) V^T``). Measured and predicted mean per-step rates over the window
    are compared (``log_rate_error``).

    Window: from the first step after which ``eps_hat`` stays within 1 % of its final value
    and below ``2/lambda_max(H*)`` to the step where the direction gap falls below
    ``1e-10`` of its initial value (round-off floor). ``settled`` is False when that window
    has fewer than 20 steps. ``asymptotic_rate`` is the slowest-mode rate
    ``max_i (1 - eps_hat lambda_i)^2`` at the final ``eps_hat`` (the rate the gap tends to).
    """
    from bntheory.measures import effective_hessian
    from bntheory.solvers import solve

    H, u, w_star = problem.H, problem.u, problem.w_star
    dgap = np.asarray(res.history["direction_gap"], dtype=float)
    eps = np.asarray(res.history["eps_hat"], dtype=float)
    lam, V = np.linalg.eigh(effective_hessian(H, w_star))
    lam_pos = lam[np.abs(lam) > 1e-12 * lam[-1]]
    bad = (np.abs(eps / eps[-1] - 1) >= 0.01) | (eps * lam[-1] >= 2.0)
    k_settle = int(np.nonzero(bad)[0][-1] + 1) if bad.any() else 0
    below = np.nonzero(dgap <= 1e-10 * dgap[0])[0]
    k_floor = int(below[0]) if below.size else len(dgap) - 1
    rec: dict = {
        "settle_step": k_settle,
        "floor_step": k_floor,
        "asymptotic_rate": float(np.max((1 - eps[-1] * lam_pos) ** 2)),
    }
    if k_floor - k_settle < 20 or dgap[k_floor] <= 0:
        rec.update(
            settled=False,
            fitted_rate=None,
            predicted_rate=None,
            fit_window=None,
            pred_k=None,
            pred_gap=None,
            log_rate_error=None,
        )
        return rec
    start = solve(problem, solver, x0, max_steps=k_settle, tol=0.0)
    w = np.asarray(start.params, dtype=float)[1:]
    r = w_star - (float(u @ w) / float(w @ H @ w)) * w
    c2 = (V.T @ r) ** 2
    steps = eps[k_settle:k_floor]
    fac = np.cumprod((1 - np.outer(steps, lam)) ** 2, axis=0)  # (n, d)
    pred = np.concatenate([[0.5 * float(lam @ c2)], 0.5 * (fac @ (lam * c2))])
    n = k_floor - k_settle
    measured = (dgap[k_floor] / dgap[k_settle]) ** (1 / n)
    predicted = (pred[-1] / pred[0]) ** (1 / n)
    idx = thin_index(n + 1, 200)
    rec.update(
        settled=True,
        fitted_rate=float(measured),
        predicted_rate=float(predicted),
        fit_window=[k_settle, k_floor],
        start_gap_match=float(abs(pred[0] / dgap[k_settle] - 1)),
        pred_k=(k_settle + idx),
        pred_gap=pred[idx],
        log_rate_error=log_rate_error(measured, predicted),
    )
    return rec


def log_rate_error(fitted: float, predicted: float) -> float:
    """``|log(fitted)/log(predicted) - 1|``: relative error of the per-step log-decrement."""
    return abs(np.log(fitted) / np.log(predicted) - 1.0)

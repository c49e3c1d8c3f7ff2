"""Scale of the least-squares pipeline (issue 13): dense vs matrix-free, time and memory vs d.

Every configuration runs in its own child process (so its peak resident memory,
``ru_maxrss``, is its own), BLAS pinned to one thread. Per stage: wall and CPU seconds
(single-threaded, so CPU seconds are the wall time the stage takes on an idle core: the
figure and the fitted exponents use them, as the shared machine's load varies) and the
peak of NumPy-tracked allocations during the stage (``tracemalloc``; LAPACK's internal
workspace is not tracked), in MB and in units of one dense ``d x d`` float64 array.

* dense (``d`` = 2,000 .. 8,000): ``LeastSquares.ill_conditioned(d, 1e3)`` (Haar basis,
  in-place construction), 200 BNGD steps, kappa* by ``eigvalsh`` of ``H*``
  (eigenvalues only), top-10 eigenvalues of the array (ARPACK), SLQ density of the
  array (8 runs x 80 Lanczos steps);
* matrix-free (``d`` = 2,000 .. 100,000): ``LeastSquares.structured(d, 1e3)``
  (``H = Q diag(lambda) Q^T``, ``Q`` = 4 Householder reflections, never formed), the same
  stages on the operator, kappa* by the certified secular equation;
* the "done when" of issue 13 (``--analysis``): build, 500 BNGD steps, kappa*, top-10
  eigenvalues of ``H`` and of ``H*``, fitted rate vs ``max|1 - eps_hat lambda(H*)|^2``, at
  d = 20,000 and 100,000 (structured ``H``, kappa = 100), timed without tracemalloc,
  with the child's peak RSS.

Run: ``python benchmarks/bench_scale.py`` (everything, about 10 minutes on 2 cores);
``--quick`` (d = 1000, 2000 and 20,000); ``--plot`` redraws ``benchmarks/scale.png`` and
prints the fitted log-log exponents from the saved JSON (``--out``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

KAPPA = 1e3
STEPS = 200
HERE = Path(__file__).resolve().parent
DENSE_DS = (2000, 4000, 8000)
MF_DS = (2000, 4000, 8000, 20000, 50000, 100000)
ANALYSIS_DS = (20000, 100000)


def _stage(rows: list, name: str, fn, d: int):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    rows.append(
        {"stage": name, "wall": wall, "cpu": cpu, "mb": peak / 1e6, "dd": peak / (8.0 * d * d)}
    )
    return out


def _h_star(op, w):
    """``H* = H - H w w^T H / (w^T H w)`` as a LinearOperator (Cai, Li & Shen 2019, Sec. 3)."""
    from scipy.sparse.linalg import LinearOperator

    b = np.asarray(op.matvec(w), float)
    rho = float(w @ b)
    return LinearOperator(
        op.shape, matvec=lambda v: op.matvec(np.ravel(v)) - b * (b @ np.ravel(v)) / rho
    )


def run_one(d: int, mode: str) -> dict:
    """One configuration (in the child process): the stages of ``mode`` at dimension ``d``."""
    from bntheory.measures import effective_condition_number, slq_density, top_eigenvalues
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, solve

    rows: list[dict] = []
    w0 = np.random.default_rng(1).standard_normal(d)
    out = {"d": d, "mode": mode, "rows": rows}
    if mode == "dense":
        ls = _stage(rows, "build", lambda: LeastSquares.ill_conditioned(d, KAPPA, rng=0), d)
        _stage(rows, "bngd", lambda: solve(ls, BNGD(1.0), (1.0, w0), max_steps=STEPS, tol=0), d)
        out["kappa_star"] = _stage(
            rows, "kappa*", lambda: effective_condition_number(ls.H, ls.w_star), d
        )
        _stage(rows, "top10", lambda: top_eigenvalues(ls.H, 10, rng=0, method="eigsh"), d)
        _stage(rows, "slq", lambda: slq_density(ls.H, n_runs=8, n_steps=80, rng=0), d)
    else:
        mf = _stage(rows, "build", lambda: LeastSquares.structured(d, KAPPA, rng=0), d)
        _stage(rows, "bngd", lambda: solve(mf, BNGD(1.0), (1.0, w0), max_steps=STEPS, tol=0), d)
        res = _stage(rows, "kappa*", mf.effective_conditioning, d)
        out["kappa_star"] = res.kappa_star
        top = _stage(rows, "top10", lambda: top_eigenvalues(mf.H, 10, rng=0, method="eigsh"), d)
        ref = mf.eigenvalues[::-1][:10]
        out["top10_rel_err"] = float(np.max(np.abs(top - ref) / ref))
        _stage(rows, "slq", lambda: slq_density(mf.H, n_runs=8, n_steps=80, rng=0), d)
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    return out


def analysis(d: int, kappa: float = 100.0, steps: int = 500) -> dict:
    """Issue 13's full least-squares analysis on a structured ``H`` (no tracemalloc)."""
    from bntheory.measures import fit_linear_rate, top_eigenvalues
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, solve

    t = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    ls = LeastSquares.structured(d, kappa, rng=0)
    t["build"] = time.perf_counter() - t0
    w0 = np.random.default_rng(1).standard_normal(d)
    t1 = time.perf_counter()
    lr_w = float(w0 @ ls.H.matvec(w0)) / ls.q  # effective step eps_hat_0 = 1/L (L = 1)
    res = solve(ls, BNGD(lr_w), (1.0, w0), max_steps=steps, tol=0.0)
    t["bngd"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    eff = ls.effective_conditioning()
    t["kappa*"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    top_h = top_eigenvalues(ls.H, 10, rng=0, method="eigsh")
    t["top10 H"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    top_hs = top_eigenvalues(_h_star(ls.H, ls.w_star), 10, rng=0, method="eigsh")
    t["top10 H*"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    gaps = res.history["direction_gap"]
    lo, hi = len(gaps) // 2, len(gaps)
    fit = fit_linear_rate(gaps, window=(lo, hi))
    lam = np.array([eff.lam_min_plus.value, eff.lam_max.value])
    eh = res.history["eps_hat"][lo:hi]
    per_step = np.max(np.abs(1 - np.outer(eh, lam)), axis=1) ** 2
    pred = float(np.exp(np.mean(np.log(per_step))))
    t["rate fit"] = time.perf_counter() - t1
    return {
        "d": d,
        "kappa": kappa,
        "steps": steps,
        "times": t,
        "total": time.perf_counter() - t0,
        "total_cpu": time.process_time() - c0,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
        "kappa_star": eff.kappa_star,
        "residuals": [eff.lam_max.residual, eff.lam_min_plus.residual],
        "top_H": float(top_h[0]),
        "top_Hstar": float(top_hs[0]),
        "lam_max_Hstar_secular": eff.lam_max.value,
        "lr_w": lr_w,
        "eps_hat_lmax_end": float(eh[-1] * lam[1]),
        "fitted_rate": float(fit.rate),
        "predicted_rate": pred,
    }


def _child(args: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def exponents(results: list[dict]) -> dict[str, float]:
    """Least-squares slope of log(CPU seconds) vs log(d) per (mode, stage), d >= 4000 where
    available (the smallest sizes are dominated by fixed costs).

    Parameters
    ----------
    results : list of dict
        The children's records.

    Returns
    -------
    dict
        ``"mode/stage" -> exponent``.
    """
    series: dict[str, list[tuple[int, float]]] = {}
    for r in results:
        if "rows" not in r:
            continue
        for row in r["rows"]:
            series.setdefault(f"{r['mode']}/{row['stage']}", []).append((r["d"], row["cpu"]))
    out = {}
    for key, pts in series.items():
        pts = sorted(pts)
        if len([p for p in pts if p[0] >= 4000]) >= 2:
            pts = [p for p in pts if p[0] >= 4000]
        if len(pts) >= 2:
            x, y = np.log([p[0] for p in pts]), np.log([max(p[1], 1e-4) for p in pts])
            out[key] = float(np.polyfit(x, y, 1)[0])
    return out


def plot(results: list[dict], path: Path) -> None:
    """Log-log figure: wall time (left) and tracked peak memory (right) vs ``d``.

    Parameters
    ----------
    results : list of dict
        The children's records.
    path : Path
        Output PNG (written atomically).
    """
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    from bntheory._io import atomic_write_bytes

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.4))
    stages = ("build", "bngd", "kappa*", "top10", "slq")
    colors = dict(zip(stages, ("C0", "C1", "C2", "C3", "C4"), strict=True))
    for mode, ls in (("dense", "-"), ("matrix-free", "--")):
        recs = sorted((r for r in results if r.get("mode") == mode), key=lambda r: r["d"])
        if not recs:
            continue
        ds = [r["d"] for r in recs]
        for st in stages:
            wall = [next(x["cpu"] for x in r["rows"] if x["stage"] == st) for r in recs]
            mem = [next(x["mb"] for x in r["rows"] if x["stage"] == st) for r in recs]
            lab = f"{st} ({mode})"
            ax_t.loglog(ds, np.maximum(wall, 1e-3), ls, marker="o", color=colors[st], label=lab)
            ax_m.loglog(ds, np.maximum(mem, 1e-2), ls, marker="o", color=colors[st], label=lab)
    for ax, what in ((ax_t, "CPU time (1 thread), s"), (ax_m, "peak tracked memory, MB")):
        ax.set_xlabel("dimension d")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.set_title("time: solid = dense H, dashed = matrix-free (structured H)")
    ax_m.set_title("memory (NumPy allocations during the stage)")
    ax_m.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(path, buf.getvalue())
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 1000, 2000 (+ 20,000 matrix-free)")
    ap.add_argument("--one", nargs=2, metavar=("D", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--analysis-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--plot", action="store_true", help="redraw from --out, run nothing")
    ap.add_argument("--out", default="/tmp/bench_scale.json", help="JSON of the raw records")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return 0
    if args.analysis_one:
        print(json.dumps(analysis(args.analysis_one)))
        return 0
    from bntheory._io import atomic_write_text

    out = Path(args.out)
    if args.plot:
        results = json.loads(out.read_text())
    else:
        dense_ds, mf_ds, an_ds = (
            ((1000, 2000), (1000, 2000, 20000), (20000,))
            if args.quick
            else (DENSE_DS, MF_DS, ANALYSIS_DS)
        )
        print(
            f"kappa = {KAPPA:g}, geometric spectrum, 1 BLAS thread, load average at start "
            f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs",
            flush=True,
        )
        results = []
        # the "done when" runs first, then matrix-free, then the slow dense sizes
        for d in an_ds:
            r = _child(["--analysis-one", str(d)])
            results.append(r)
            print(f"analysis d={d}: {json.dumps(r)}", flush=True)
        for mode, ds in (("matrix-free", mf_ds), ("dense", dense_ds)):
            for d in ds:
                r = _child(["--one", str(d), mode])
                results.append(r)
                cells = "  ".join(
                    f"{x['stage']} {x['cpu']:.2f}s({x['wall']:.1f})/{x['dd']:.2f}dd/{x['mb']:.0f}MB"
                    for x in r["rows"]
                )
                print(f"{mode:>11} d={d:>6}: {cells}  rss {r['maxrss_mb']:.0f} MB", flush=True)
                atomic_write_text(out, json.dumps(results, indent=1))
        atomic_write_text(out, json.dumps(results, indent=1))
    for key, e in sorted(exponents(results).items()):
        print(f"exponent {key:<24} {e:5.2f}")
    plot(results, HERE / "scale.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

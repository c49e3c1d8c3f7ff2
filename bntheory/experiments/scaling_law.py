"""BNGD scaling law: the run from (a0, c w0) with lr c^2 eps coincides with the run from (a0, w0) with eps.

Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent" (arXiv v1 abstract: "a scaling law"; derived from their model):
``grad_w J(a, c w) = grad_w J(a, w) / c``, so BNGD started at ``(a_0, c w_0)`` with weight
learning rate ``c^2 eps`` produces ``(a_k, c w_k)`` where ``(a_k, w_k)`` is the run from
``(a_0, w_0)`` with ``eps``: identical losses and effective steps ``eps q/||w_k||_H^2``;
only ``eps / ||w_0||^2`` matters. Controls: the same scaled starts with the UNscaled
learning rate ``eps`` (thin lines) do not coincide.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402

NAME = "scaling_law"
SCALES = (0.01, 0.1, 1.0, 10.0, 100.0)


def compute(quick: bool, seed: int) -> dict:
    """Scaled runs (lr c^2 eps) and controls (lr eps) for each c."""
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, solve

    dim, kappa = (10, 100.0) if quick else (30, 100.0)
    steps = 250 if quick else 1500
    eps = 2.0
    gen = np.random.default_rng(np.random.SeedSequence(seed))
    prob = LeastSquares.ill_conditioned(dim, kappa, "geometric", rng=gen)
    w0 = gen.standard_normal(dim) / np.sqrt(dim)
    a0 = 0.5
    runs = []
    for c in SCALES:
        for kind, lr in (("scaled", c**2 * eps), ("control", eps)):
            res = solve(prob, BNGD(lr_w=lr, lr_a=1.0), (a0, c * w0), max_steps=steps, tol=0.0)
            rec = C.trajectory(res, history=("eps_hat", "a", "w_norm"), max_points=500)
            rec.update(c=c, kind=kind, lr_w=lr)
            rec["w_norm_over_c"] = np.asarray(rec.pop("w_norm")) / c
            runs.append(rec)
    return {"dim": dim, "kappa": kappa, "eps": eps, "a0": a0, "steps": steps, "runs": runs}


def _rel_dev(data: dict, key: str) -> float:
    """Max relative deviation of ``key`` between scaled runs and the c = 1 run (where gap > 1e-12 gap0)."""
    base = next(r for r in data["runs"] if r["kind"] == "scaled" and r["c"] == 1.0)
    ref = C.arr(base[key])
    keep = C.arr(base["gaps"]) > 1e-12 * base["gap0"]
    dev = 0.0
    for r in data["runs"]:
        if r["kind"] != "scaled":
            continue
        v = C.arr(r[key])
        n = min(len(v), len(ref))
        m = keep[:n]
        dev = max(dev, float(np.max(np.abs(v[:n][m] - ref[:n][m]) / np.abs(ref[:n][m]))))
    return dev


def _label_ends(ax, ends: list[tuple[float, float, str]], min_sep: float) -> None:
    """Write ``text`` right of each line end ``(x, y)``, spreading labels ``min_sep`` decades apart."""
    ends = sorted((e for e in ends if e[1] is not None and e[1] > 0), key=lambda e: e[1])
    placed: list[float] = []
    for x, y, text in ends:
        ly = float(np.log10(y))
        if placed and ly < placed[-1] + min_sep:
            ly = placed[-1] + min_sep
        placed.append(ly)
        ax.annotate(
            text,
            (x, y),
            xytext=(x * 1.015, 10**ly),
            textcoords="data",
            fontsize=6,
            color="0.35",
            va="center",
        )


def plot(data: dict, out: Path) -> None:
    """Left: loss gap vs k; right: effective step vs k. Scaled runs overlap; controls grey.

    Each grey control (start ``(a0, c w0)`` with the unscaled learning rate ``eps``) is
    labelled with its ``c`` at its end; the ``c = 1`` control is the ``c = 1`` scaled run.

    Parameters
    ----------
    data : dict
        The stored data of :func:`compute`.
    out : Path
        Output folder (``<out>/scaling_law.{pdf,png}``).

    Returns
    -------
    None
    """
    fig, (ax1, ax2) = C.figure(1, 2, width=10.5, height=4.4)
    styles = ("-", "--", ":", "-.", (0, (1, 3)))
    ends: dict = {"gaps": [], "eps_hat": []}
    for i, r in enumerate(x for x in data["runs"] if x["kind"] == "control"):
        k = np.asarray(r["k"])
        lab = (
            r"controls: $(a_0, c\,w_0)$, $\eta_w = \varepsilon$ (labelled by c)" if i == 0 else None
        )
        ax1.plot(k, C.log_floor(C.arr(r["gaps"])), color="0.6", lw=0.8, label=lab)
        ax2.plot(k, C.log_floor(C.arr(r["eps_hat"])), color="0.6", lw=0.8, label=lab)
        if r["c"] != 1.0:  # the c = 1 control is the c = 1 scaled run
            for key in ends:
                ends[key].append((float(k[-1]), r[key][-1], f"c={r['c']:g}"))
    for (r, ls), col in zip(
        zip([x for x in data["runs"] if x["kind"] == "scaled"], styles, strict=True),
        ("C0", "C1", "C2", "C3", "C4"),
        strict=True,
    ):
        k = np.asarray(r["k"])
        lab = rf"$(a_0, {r['c']:g}\,w_0)$, $\eta_w = {r['c']:g}^2\varepsilon$"
        ax1.plot(k, C.log_floor(C.arr(r["gaps"])), linestyle=ls, color=col, lw=1.6, label=lab)
        ax2.plot(k, C.log_floor(C.arr(r["eps_hat"])), linestyle=ls, color=col, lw=1.6, label=lab)
    for ax, yl in (
        (ax1, r"loss gap $J - J^*$"),
        (ax2, r"effective step $\eta_w\, q\, /\, \|w_k\|_H^2$"),
    ):
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.set_ylabel(yl)
        ax.set_xlim(right=1.13 * data["steps"])
    _label_ends(ax1, ends["gaps"], 0.75)
    _label_ends(ax2, ends["eps_hat"], 0.4)
    ax1.set_title(
        rf"BNGD scaling law (d = {data['dim']}, $\kappa$ = {data['kappa']:g}, "
        rf"$\varepsilon$ = {data['eps']:g})"
    )
    ax2.set_title(f"scaled runs coincide (max rel. dev. {_rel_dev(data, 'gaps'):.1e})")
    ax2.text(
        0.98,
        0.97,
        r"$\eta_w$: the run's weight learning rate;"
        + "\n"
        + r"$q = u^\top H^{-1} u = \|w^*\|_H^2$ (Cai, Li & Shen 2019)",
        transform=ax2.transAxes,
        ha="right",
        va="top",
        fontsize=7,
        color="0.3",
    )
    ax1.legend(fontsize=6.5, loc="lower left")
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Scaled runs equal the c = 1 run to 1e-8 relative (gap, a, eps_hat, ||w||/c); controls differ by > 1 %."""
    devs = {k: _rel_dev(data, k) for k in ("gaps", "a", "eps_hat", "w_norm_over_c")}
    base = next(r for r in data["runs"] if r["kind"] == "scaled" and r["c"] == 1.0)
    ctrl = []
    for r in data["runs"]:
        if r["kind"] == "control" and r["c"] != 1.0:
            n = min(len(r["eps_hat"]), len(base["eps_hat"]))
            ctrl.append(
                float(np.max(np.abs(C.arr(r["eps_hat"][:n]) / C.arr(base["eps_hat"][:n]) - 1)))
            )
    # 1e-8: the scaled runs differ only by rounding (c is not a power of 2), amplified over the run
    ok = max(devs.values()) <= 1e-8 and min(ctrl) > 0.01
    return ok, (
        "max relative deviation of scaled runs: "
        + ", ".join(f"{k} {v:.1e}" for k, v in devs.items())
        + f"; controls differ by at least {min(ctrl):.2g} (relative, effective step)"
    )


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

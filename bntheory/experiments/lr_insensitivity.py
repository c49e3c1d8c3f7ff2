"""Learning-rate insensitivity of BNGD: loss gap after K steps against the learning rate.

Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent" (arXiv v1 abstract: "insensitivity to the choice of learning rates"): GD on least squares diverges for ``lr >= 2/lambda_max(H)``, while
BNGD converges for every weight learning rate, because large steps inflate ``||w||`` and
the effective step ``lr q / ||w||_H^2`` falls back below ``2/lambda_max(H*)``. Grid
``lr in [1e-4, 1e5]`` (log); diverged GD runs are drawn as markers at the top of the plot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402

NAME = "lr_insensitivity"


def compute(quick: bool, seed: int) -> dict:
    """GD and BNGD (lr_a = 1) for each lr of the grid, K steps each, same start."""
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, GradientDescent, solve

    dim, kappa = (10, 100.0) if quick else (20, 100.0)
    K = 300 if quick else 1000
    lrs = np.logspace(-4, 5, 19 if quick else 46)
    gen = np.random.default_rng(np.random.SeedSequence(seed))
    prob = LeastSquares.ill_conditioned(dim, kappa, "geometric", rng=gen)
    w0 = gen.standard_normal(dim) / np.sqrt(dim)
    a0 = float(np.sqrt(w0 @ prob.H @ w0))
    gap0 = prob.gap(w0)
    lam_star_max = float(np.linalg.eigvalsh(prob.H - np.outer(prob.u, prob.u) / prob.q)[-1])
    rows = {"gd": [], "bngd": []}
    for lr in lrs:
        gd = solve(prob, GradientDescent(float(lr)), w0, max_steps=K, tol=0.0)
        bn = solve(prob, BNGD(lr_w=float(lr), lr_a=1.0), (a0, w0), max_steps=K, tol=0.0)
        for key, res in (("gd", gd), ("bngd", bn)):
            rec = {
                "lr": float(lr),
                "status": res.status,
                "gap_final": float(res.gaps[-1]) if res.status != "diverged" else None,
                "n_steps": int(res.n_steps),
            }
            if key == "bngd" and res.status != "diverged":
                rec["eps_hat_final"] = float(res.history["eps_hat"][-1])
                rec["w_norm_monotone"] = bool(
                    np.all(np.diff(res.history["w_norm"]) >= -1e-12 * res.history["w_norm"][:-1])
                )
            rows[key].append(rec)
    return {
        "dim": dim,
        "kappa": kappa,
        "K": K,
        "gap0": gap0,
        "lambda_max_H": prob.L,
        "lambda_max_Hstar": lam_star_max,
        "gd_stability_limit": 2.0 / prob.L,
        **rows,
    }


#: gaps below this fraction of the initial gap are at round-off level: drawn at the floor
_FLOOR = 1e-17
#: "converged" for the shaded band and the check message: gap below this fraction of gap0
_TOL = 1e-6


def _exp(x: float) -> str:
    """``1e-17`` for 1e-17 (a power of ten, written as in the text)."""
    return f"1e{round(float(np.log10(x)))}"


def converged_range(data: dict, tol: float = _TOL) -> tuple[float, float] | None:
    """The learning rates at which BNGD's gap after K steps is below ``tol`` times the initial gap.

    Parameters
    ----------
    data : dict
        The stored data of :func:`compute`.
    tol : float
        Relative gap threshold.

    Returns
    -------
    tuple of float or None
        ``(smallest, largest)`` such learning rate, or None when there is none.
    """
    good = [
        r["lr"]
        for r in data["bngd"]
        if r["gap_final"] is not None and r["gap_final"] < tol * data["gap0"]
    ]
    return (min(good), max(good)) if good else None


def plot(data: dict, out: Path) -> None:
    """Gap after K steps (relative, log) vs lr (log); GD divergence markers; 2/lambda_max line.

    Gaps below ``1e-17`` of the initial gap (round-off level) are drawn at that floor with an
    open downward triangle and named in the legend; the band where BNGD's gap is below
    ``1e-6`` of the initial gap is shaded; the legend sits below the axes.

    Parameters
    ----------
    data : dict
        The stored data of :func:`compute`.
    out : Path
        Output folder (``<out>/lr_insensitivity.{pdf,png}``).

    Returns
    -------
    None
    """
    fig, ax = C.figure(width=6.4, height=5.0)
    top = 1e4
    for key, lab, col, mk in (
        ("gd", "GD", "C0", "o"),
        ("bngd", r"BNGD ($\eta_a = 1$)", "C1", "s"),
    ):
        lr = np.array([r["lr"] for r in data[key]])
        g = C.arr([r["gap_final"] for r in data[key]]) / data["gap0"]
        low = np.isfinite(g) & (g < _FLOOR)
        shown = np.where(np.isfinite(g) & ~low, g, np.nan)
        C.plot_measured(
            ax,
            lr,
            shown,
            f"{lab}, gap after K = {data['K']} steps",
            color=col,
            marker=mk,
            markersize=3,
        )
        if low.any():
            ax.plot(
                lr[low],
                np.full(low.sum(), _FLOOR),
                linestyle="none",
                marker="v",
                markerfacecolor="white",
                markeredgecolor=col,
                markersize=6,
                label=f"{lab}: gap below {_exp(_FLOOR)} (clipped to the floor)",
            )
        div = np.array(
            [
                r["status"] == "diverged"
                or r["gap_final"] is None
                or r["gap_final"] / data["gap0"] > top
                for r in data[key]
            ]
        )
        if div.any():
            ax.plot(
                lr[div],
                np.full(div.sum(), top),
                linestyle="none",
                marker="x",
                color=col,
                markersize=5,
                label=f"{lab}: diverged / gap > {top:g} (clipped)",
            )
    span = converged_range(data)
    if span is not None:
        ax.axvspan(
            span[0],
            span[1],
            color="C1",
            alpha=0.1,
            linewidth=0,
            label=f"BNGD gap < {_exp(_TOL)} × initial: lr {span[0]:.2g} to {span[1]:.2g}",
        )
    ax.axvline(
        data["gd_stability_limit"],
        color="0.3",
        linestyle="--",
        linewidth=1.0,
        label=r"GD stability limit $2/\lambda_{\max}(H)$",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(_FLOOR / 5, 10 * top)
    ax.set_xlabel("learning rate (weights)")
    ax.set_ylabel("loss gap after K steps / initial gap")
    ax.set_title(rf"Least squares, d = {data['dim']}, $\kappa$ = {data['kappa']:g}: GD vs BNGD")
    ax.text(
        0.03,
        0.22,
        f"▽ = gap below {_exp(_FLOOR)} × initial gap\n(round-off level), drawn at {_exp(_FLOOR)}",
        transform=ax.transAxes,
        fontsize=7,
        color="0.3",
        va="bottom",
    )
    fig.legend(loc="outside lower center", ncol=2, fontsize=7)
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """BNGD never diverges and decreases the gap at every lr; ||w||_2 monotone; GD diverges above 2/lambda_max."""
    bn = data["bngd"]
    gd = data["gd"]
    lim = data["gd_stability_limit"]
    bn_ok = all(
        r["status"] != "diverged" and r["gap_final"] is not None and r["gap_final"] < data["gap0"]
        for r in bn
    )
    mono = all(r.get("w_norm_monotone", False) for r in bn)
    gd_div = all(
        r["status"] == "diverged" or (r["gap_final"] or np.inf) > data["gap0"]
        for r in gd
        if r["lr"] > lim * 1.05
    )
    gd_conv = all(r["status"] != "diverged" for r in gd if r["lr"] < lim)
    good = [
        r["lr"] for r in bn if r["gap_final"] is not None and r["gap_final"] < _TOL * data["gap0"]
    ]
    span = converged_range(data)
    if span is None:  # e.g. quick mode: K steps are too few at every lr
        band = (
            f"no lr brought BNGD's gap below {_exp(_TOL)} x initial within K = {data['K']} "
            f"steps (0 of {len(bn)})"
        )
    else:
        band = (
            f"BNGD gap < {_exp(_TOL)} x initial for lr in [{span[0]:.2g}, {span[1]:.2g}] "
            f"({len(good)} of {len(bn)})"
        )
    msg = (
        f"BNGD decreased the gap at all {len(bn)} lrs: {bn_ok}; ||w|| monotone: {mono}; "
        f"{band}; GD diverges above 2/lambda_max: {gd_div}"
    )
    return bn_ok and mono and gd_div and gd_conv, msg


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

"""Cai's effective condition number kappa* against kappa, and BNGD's fitted vs predicted rates.

Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent", Sec. 3 (derived from their model): ``kappa* =
lambda_max(H*)/lambda+_min(H*) <= kappa``. Left: kappa* against kappa over random
instances (spectra geometric / two-cluster / spiked; ``w*`` random or aligned with the top
eigenvector). Right: BNGD's measured mean per-step contraction of the direction gap over its settled
phase against (i) the local linearization ``r_{k+1} = (I - eps_hat_k H*) r_k`` run from the
measured state with the measured effective steps, (ii) its asymptotic rate
``max_{lambda in spec+(H*)} (1 - eps_hat lambda)^2`` (the slowest mode; a finite window
decays faster while faster modes still contribute) and (iii) the best rate any
constant step can give, ``((kappa*-1)/(kappa*+1))^2``; shown as ``1 - rate``.
The weight learning rate is set per run so that the initial effective step times
``lambda_max(H*)`` is log-uniform in ``[0.3, 3]`` (above 2 the run must self-tune).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402

NAME = "kappa_star"
SPECTRA = ("geometric", "two-cluster", "spiked")
ALIGNS = ("random", "top")


def compute(quick: bool, seed: int) -> dict:
    """kappa* for many instances; BNGD rate fits on a subset with moderate kappa."""
    from bntheory.measures import effective_condition_number
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, solve

    n_per = 3 if quick else 12
    dims = (10,) if quick else (10, 40)
    n_rate = 5 if quick else 24
    steps = 2000 if quick else 6000
    ss = np.random.SeedSequence(seed)
    gen = np.random.default_rng(ss.spawn(1)[0])
    instances = []
    for spectrum in SPECTRA:
        for align in ALIGNS:
            for dim in dims:
                for kappa in np.logspace(1, 3.5, n_per):
                    prob = LeastSquares.ill_conditioned(
                        dim, float(kappa), spectrum, align=align, rng=gen
                    )
                    instances.append(
                        {
                            "spectrum": spectrum,
                            "align": align,
                            "dim": dim,
                            "kappa": float(prob.kappa),
                            "kappa_star": effective_condition_number(prob.H, prob.w_star),
                        }
                    )
    rates = []
    rgen = np.random.default_rng(ss.spawn(2)[1])
    for i in range(n_rate):
        spectrum = SPECTRA[i % len(SPECTRA)]
        align = ALIGNS[(i // len(SPECTRA)) % len(ALIGNS)]
        kappa = float(10 ** rgen.uniform(1, 2.3))
        t0 = float(10 ** rgen.uniform(-0.5, 0.5))  # initial eps_hat * lambda_max(H*)
        prob = LeastSquares.ill_conditioned(10, kappa, spectrum, align=align, rng=rgen)
        w0 = rgen.standard_normal(10) / np.sqrt(10)
        lmax_star = float(np.linalg.eigvalsh(prob.H - np.outer(prob.u, prob.u) / prob.q)[-1])
        # scaling law: only lr_w / ||w0||_H^2 matters; choose lr_w so that eps_hat_0 = t0 / lambda_max(H*)
        lr_w = t0 * float(w0 @ prob.H @ w0) / (prob.q * lmax_star)
        solver = BNGD(lr_w=lr_w, lr_a=1.0)
        res = solve(prob, solver, (1.0, w0), max_steps=steps, tol=1e-11)
        rate = C.bngd_rate_record(res, prob, solver, (1.0, w0))
        rate.pop("pred_k")
        rate.pop("pred_gap")
        ks = effective_condition_number(prob.H, prob.w_star)
        rates.append(
            {
                "spectrum": spectrum,
                "align": align,
                "kappa": kappa,
                "kappa_star": ks,
                "lr_w": lr_w,
                "eps_hat0_times_lmax": t0,
                "status": res.status,
                **rate,
                "best_rate": ((ks - 1) / (ks + 1)) ** 2,
            }
        )
    return {"instances": instances, "rates": rates, "steps": steps}


def plot(data: dict, out: Path) -> None:
    """Left: kappa* vs kappa (log-log, y = x dashed). Right: 1 - fitted vs 1 - predicted rates."""
    fig, (ax1, ax2) = C.figure(1, 2, width=10.0, height=4.0)
    inst = data["instances"]
    markers = {"geometric": "o", "two-cluster": "^", "spiked": "s"}
    colors = {"random": "C0", "top": "C1"}
    for spectrum, mk in markers.items():
        for align, col in colors.items():
            sel = [r for r in inst if r["spectrum"] == spectrum and r["align"] == align]
            if sel:
                ax1.scatter(
                    [r["kappa"] for r in sel],
                    [r["kappa_star"] for r in sel],
                    marker=mk,
                    s=14,
                    color=col,
                    alpha=0.75,
                    label=f"{spectrum}, w* {align}",
                )
    lim = [1.0, 10**3.7]
    C.plot_bound(ax1, lim, lim, "κ* = κ (upper bound, interlacing)")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("κ = λ_max(H)/λ_min(H)")
    ax1.set_ylabel("κ* of H* (Cai et al. 2019)")
    ax1.set_title("Effective condition number over random instances")
    ax1.legend(fontsize=6.5, loc="upper left")

    rt = [r for r in data["rates"] if r["settled"]]
    fit = 1 - np.array([r["fitted_rate"] for r in rt])
    pred = 1 - np.array([r["predicted_rate"] for r in rt])
    best = 1 - np.array([r["best_rate"] for r in rt])
    asym = 1 - np.array([r["asymptotic_rate"] for r in rt])
    ax2.scatter(
        pred, fit, color="C2", s=18, label="vs linearization (measured state and ε̂)", zorder=3
    )
    ax2.scatter(asym, fit, color="C4", marker="x", s=16, label="vs slowest-mode rate max(1-ε̂λ)²")
    ax2.scatter(
        best,
        fit,
        color="C3",
        marker="v",
        s=16,
        alpha=0.8,
        label="vs best rate ((κ*-1)/(κ*+1))², any step",
    )
    lo = min(fit.min(), pred.min(), best.min(), asym.min()) / 2
    hi = min(max(fit.max(), pred.max(), best.max(), asym.max()) * 2, 1.0)
    C.plot_bound(ax2, [lo, hi], [lo, hi], "y = x")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("1 - predicted per-step rate")
    ax2.set_ylabel("1 - measured mean per-step rate (BNGD)")
    ax2.set_title(
        f"BNGD rate fits, {len(rt)} settled runs of {len(data['rates'])} (d = 10, lr_a = 1)"
    )
    ax2.legend(fontsize=6.5, loc="upper left")
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """kappa* <= kappa everywhere; fitted rates within 5 % (log-decrement) of the prediction; none faster than best.

    Rates are compared on runs whose fit window is settled (effective step below
    ``2/lambda_max(H*)`` and constant to 1 %; ``_common.bngd_rate_record``); at least 75 % must be.
    """
    inst = data["instances"]
    ks_ok = all(r["kappa_star"] <= r["kappa"] * (1 + 1e-8) for r in inst)
    ratio_random = np.median([r["kappa_star"] / r["kappa"] for r in inst if r["align"] == "random"])
    ratio_top = np.median([r["kappa_star"] / r["kappa"] for r in inst if r["align"] == "top"])
    settled = [r for r in data["rates"] if r["settled"]]
    errs = [r["log_rate_error"] for r in settled] or [np.inf]
    # the best rate bounds every constant-step linear rate from below (up to fit noise, 1e-6)
    no_faster = all(r["fitted_rate"] >= r["best_rate"] - 1e-6 for r in settled)
    enough = len(settled) >= 0.75 * len(data["rates"])
    ok = ks_ok and max(errs) <= 0.05 and no_faster and enough
    return ok, (
        f"kappa* <= kappa: {ks_ok} ({len(inst)} instances; median kappa*/kappa random w* {ratio_random:.3f}, "
        f"aligned w* {ratio_top:.3f}); worst fitted-vs-predicted log-rate error {max(errs):.3f} over "
        f"{len(settled)} settled runs of {len(data['rates'])}; no settled run faster than ((k*-1)/(k*+1))^2: {no_faster}"
    )


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

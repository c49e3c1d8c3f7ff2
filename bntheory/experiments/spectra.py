"""Spectra of H and of Cai's effective Hessian H*: exact eigenvalues and SLQ densities.

Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent", Sec. 3: near the minimiser BNGD is
governed by ``H* = H - H w* w*^T H / (w*^T H w*)``, whose non-zero eigenvalues interlace
those of ``H``. Two instances: a random ``w*`` (``H*`` is ``H`` minus one direction,
``kappa* ~ kappa``) and ``w*`` aligned with the isolated top eigenvector of a spiked
spectrum (the spike is removed, ``kappa* << kappa``). Densities of ``log10(lambda)`` from
stochastic Lanczos quadrature (:func:`bntheory.measures.slq_density`) are drawn over a rug
of the exact eigenvalues (dense ``eigvalsh``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402

NAME = "spectra"
_SIGMA = 0.07  # Gaussian width of the SLQ smoothing, in decades of lambda


def _instances(quick: bool) -> list[dict]:
    d = 80 if quick else 400
    return [
        {
            "label": "geometric spectrum, random w*",
            "dim": d,
            "kappa": 1e3,
            "spectrum": "geometric",
            "align": None,
        },
        {
            "label": "spiked spectrum, w* on the spike",
            "dim": d,
            "kappa": 1e3,
            "spectrum": "spiked",
            "align": "top",
        },
    ]


def compute(quick: bool, seed: int) -> dict:
    """Exact spectra of ``H`` and ``H*`` and their SLQ densities for two instances."""
    from bntheory.measures import effective_hessian, effective_spectrum, slq_density
    from bntheory.problems import LeastSquares

    ss = np.random.SeedSequence(seed)
    out = []
    for spec, child in zip(_instances(quick), ss.spawn(2), strict=True):
        gen = np.random.default_rng(child)
        prob = LeastSquares.ill_conditioned(
            spec["dim"], spec["kappa"], spec["spectrum"], align=spec["align"], rng=gen
        )
        H = prob.H
        Hs = effective_hessian(H, prob.w_star)
        lam = np.linalg.eigvalsh(H)
        lam_s = effective_spectrum(H, prob.w_star)  # d - 1 non-zero eigenvalues
        lo = np.log10(lam[0]) - 0.5
        hi = np.log10(lam[-1]) + 0.5
        grid = np.linspace(lo, hi, 600)
        n_steps = 30 if quick else 80
        n_runs = 4 if quick else 16
        dens = {}
        for key, mat in (("H", H), ("H_star", Hs)):
            sd = slq_density(
                mat,
                n_runs=n_runs,
                n_steps=n_steps,
                sigma=_SIGMA,
                sigma_relative=False,
                grid=grid,
                log_spectrum=True,
                log_floor=1e-10,
                rng=gen,
            )
            pos = sd.nodes[sd.weights > 1e-3 / spec["dim"]]
            pos = pos[pos > 1e-6 * lam[-1]]
            dens[key] = {
                "density": sd.density,
                "node_min": float(pos.min()),
                "node_max": float(pos.max()),
            }
        out.append(
            {
                **spec,
                "eig_H": lam,
                "eig_H_star": lam_s,
                "kappa_H": float(lam[-1] / lam[0]),
                "kappa_star": float(lam_s[-1] / lam_s[0]),
                "grid_log10": grid,
                "slq": dens,
                "slq_params": {"n_runs": n_runs, "n_steps": n_steps, "sigma_decades": _SIGMA},
            }
        )
    return {"instances": out}


def plot(data: dict, out: Path) -> None:
    """One panel per instance: SLQ densities of log10(lambda) for H and H*, exact rugs below."""
    insts = data["instances"]
    fig, axes = C.figure(1, len(insts), width=10.0, height=3.6, squeeze=False)
    for ax, inst in zip(axes[0], insts, strict=True):
        x = 10.0 ** np.asarray(inst["grid_log10"])
        top = 0.0
        for key, lab, col in (
            ("H", "H", "C0"),
            ("H_star", "H* (Cai et al. 2019)", "C1"),
        ):
            y = np.asarray(inst["slq"][key]["density"])
            top = max(top, float(y.max()))
            C.plot_measured(ax, x, y, f"{lab}, SLQ density", color=col)
        ax.set_xscale("log")
        h = 0.06 * top
        ax.vlines(inst["eig_H"], -1.0 * h, -0.1 * h, color="C0", lw=0.5, label="exact eig(H)")
        ax.vlines(
            inst["eig_H_star"],
            -2.1 * h,
            -1.2 * h,
            color="C1",
            lw=0.5,
            label="exact eig(H*), non-zero",
        )
        ax.set_ylim(-2.3 * h, 1.6 * top)
        if inst["kappa_star"] < 0.5 * inst["kappa_H"]:
            lmax = float(inst["eig_H"][-1])
            ax.annotate(
                "isolated top eigenvalue of H:\nw* lies on it, absent from H*",
                xy=(lmax, 0.02 * top),
                xytext=(lmax / 30, 0.45 * top),
                fontsize=7,
                arrowprops={"arrowstyle": "->", "lw": 0.6},
            )
        ax.set_xlabel("eigenvalue $\\lambda$ (log scale)")
        ax.set_ylabel("density of $\\log_{10}\\lambda$")
        ax.set_title(
            f"{inst['label']}, d={inst['dim']}\n"
            f"$\\kappa$={inst['kappa_H']:.3g}, $\\kappa^*$={inst['kappa_star']:.3g}"
        )
        ax.legend(loc="upper left")
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Cauchy interlacing of exact spectra; SLQ top node within 2 % of lambda_max, all nodes inside the spectrum."""
    msgs = []
    ok = True
    for inst in data["instances"]:
        lam = np.asarray(inst["eig_H"])
        lam_s = np.asarray(inst["eig_H_star"])
        tol = 1e-10 * lam[-1]
        # lambda_i(H) <= lambda_{i+1}(H*) <= lambda_{i+1}(H), i = 1..d-1 (Cauchy interlacing)
        inter = bool(np.all(lam[:-1] <= lam_s + tol) and np.all(lam_s <= lam[1:] + tol))
        ks_ok = inst["kappa_star"] <= inst["kappa_H"] * (1 + 1e-9)
        errs = []
        inside = True
        for key, eig in (("H", lam), ("H_star", lam_s)):
            s = inst["slq"][key]
            # The top Ritz value converges fast to lambda_max; 2 % allows for few Lanczos steps.
            errs.append(abs(s["node_max"] / eig[-1] - 1))
            # Ritz values lie inside [lambda_min, lambda_max] (Cauchy interlacing for T_m);
            # for H* the spectrum includes its structural 0, so only the top is bounded.
            lo_ok = key == "H_star" or eig[0] * (1 - 1e-8) <= s["node_min"]
            inside = inside and lo_ok and s["node_max"] <= eig[-1] * (1 + 1e-8)
        slq_ok = max(errs) <= 0.02 and inside
        ok = ok and inter and ks_ok and slq_ok
        msgs.append(
            f"{inst['spectrum']}: kappa={inst['kappa_H']:.3g}, kappa*={inst['kappa_star']:.3g}, "
            f"interlacing {'ok' if inter else 'FAILS'}, SLQ top-node error {max(errs):.1e}, nodes inside spectrum {inside}"
        )
    return ok, "; ".join(msgs)


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

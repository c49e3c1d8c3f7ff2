"""Per-layer gradient norms through a 90-layer network: plain, BN, residual, residual + BN,
at initialization and after brief SGD training.

The reference article (its ref. [12]) says BN "helps prevent exponential decay of gradient
norms" in 90-layer networks on permutation-invariant MNIST; Yang et al. (2019) prove that at
initialization a deep BN network has *exploding* gradients (per-layer growth of the squared
norm ``-> pi/(pi-1)`` for ReLU, their Theorem 8). Setup: 90 hidden layers of 64 units
(tanh with ``sigma_w^2 = 1``, ReLU with He init), softmax cross-entropy on the first 256 MNIST
training images, flattened (permutation-invariant; full mode; quick mode: 30 layers on 128 of
scikit-learn's 8x8 digits, labelled in the figure); the per-layer norm is ``||grad L||`` over all parameters of dense layer ``k``
(weights, bias, BN scale and shift), full batch, train mode
(:func:`bntheory.nets.measurements.gradient_flow`). Training: SGD, batch 64, same learning
rate for all variants; a run that diverges is marked and its trained profile omitted.

Cross-check (the experiment's own check): the BN-ReLU network at initialization grows by
Yang's Theorem 8 rate for batch size 256 (:func:`bntheory.bounds.yang_relu_rate`) per layer
in the middle layers, within a finite-width allowance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402
from bntheory.experiments import _nets_common as NC  # noqa: E402

NAME = "gradient_depth"
_ACTS = ("tanh", "relu")
_VARIANTS = (
    ("plain", False, False),
    ("BN", True, False),
    ("residual", False, True),
    ("residual + BN", True, True),
)


def _settings(quick: bool) -> dict:
    if quick:
        return {"depth": 30, "width": 64, "n_measure": 128, "steps": 15, "lr": 0.01,
                "batch_size": 64, "window": [5, 25], "tolerance": 0.06}  # fmt: skip
    # Width 64: Yang's rate is an infinite-width limit; the finite-width bias is negative and
    # grows like c/N (a correction of order 1/N: 0.3-0.6 % at N = 500-1000), so a few % at N = 64.
    return {"depth": 90, "width": 64, "n_measure": 256, "steps": 60, "lr": 0.01,
            "batch_size": 64, "window": [10, 80], "tolerance": 0.05}  # fmt: skip


def _rate(norms, lo: int, hi: int) -> float | None:
    """Per-layer growth factor of the squared norm going down from layer ``hi`` to ``lo``."""
    g = np.asarray(norms, dtype=float)
    if not (np.isfinite(g[lo]) and np.isfinite(g[hi]) and g[lo] > 0 and g[hi] > 0):
        return None
    return float((g[lo] / g[hi]) ** (2.0 / (hi - lo)))


def compute(quick: bool, seed: int) -> dict:
    """Gradient-norm profiles of the 8 networks at init and after training."""
    from bntheory.bounds import yang_relu_rate
    from bntheory.nets import MLP, load_digits_split
    from bntheory.nets.measurements import gradient_flow

    cfg = _settings(quick)
    seed_data, seed_init, seed_order = NC.seeds(seed, 3)
    lo, hi = cfg["window"]
    runs = []
    if quick:  # the small labelled substitute
        d = load_digits_split(rng=seed_data)
    else:  # the article's permutation-invariant MNIST (never substituted)
        from bntheory.nets.data import DataUnavailable, load_mnist

        try:
            d = load_mnist()
        except DataUnavailable as exc:
            raise SystemExit(f"{NAME}: {exc}") from None
    with NC.single_thread():
        X, Y = d.X_train[: cfg["n_measure"]], d.Y_train[: cfg["n_measure"]]
        sizes = [X.shape[1]] + [cfg["width"]] * cfg["depth"] + [10]
        for act in _ACTS:
            for label, bn, res in _VARIANTS:
                net = MLP(sizes, act, bn=bn, residual=res, loss="cross_entropy", rng=seed_init)
                with np.errstate(all="ignore"):
                    r = gradient_flow(
                        net, X, Y, lr=cfg["lr"], steps=cfg["steps"],
                        batch_size=cfg["batch_size"], rng=seed_order,
                    )  # fmt: skip
                trained = r.trained if r.status == "completed" else np.full_like(r.trained, np.nan)
                runs.append(
                    {
                        "activation": act,
                        "variant": label,
                        "bn": bn,
                        "residual": res,
                        "status": r.status,
                        "init": r.init,
                        "trained": trained,
                        "final_loss": r.final_loss if r.status == "completed" else None,
                        "rate_init": _rate(r.init, lo, hi),
                        "rate_trained": _rate(trained, lo, hi),
                    }
                )
    return {
        "setup": {**cfg, "data": d.name, "sizes_hidden": cfg["depth"], "quick": quick},
        "runs": runs,
        "yang_relu_rate_B": cfg["n_measure"],
        "yang_relu_rate": yang_relu_rate(cfg["n_measure"]),
    }


_COLORS = {"plain": "C0", "BN": "C1", "residual": "C2", "residual + BN": "C3"}


def plot(data: dict, out: Path) -> None:
    """Rows: activation; columns: at initialization / after training. Log y."""
    s = data["setup"]
    fig, axes = C.figure(2, 2, width=10.0, height=7.0, squeeze=False)
    for row, act in enumerate(_ACTS):
        for col, (key, when) in enumerate((("init", "at initialization"),
                                           ("trained", f"after {s['steps']} SGD steps"))):  # fmt: skip
            ax = axes[row][col]
            for r in data["runs"]:
                if r["activation"] != act:
                    continue
                g = C.log_floor(C.arr(r[key]))
                layers = np.arange(1, g.size + 1)
                rate = r["rate_init" if key == "init" else "rate_trained"]
                lab = r["variant"]
                if key == "trained" and r["status"] != "completed":
                    lab += " (diverged, not shown)"
                elif rate is not None:
                    lab += f" (x{rate:.3g}/layer in $\\|g\\|^2$"
                    if key == "trained" and r["final_loss"] is not None:
                        lab += f"; loss {r['final_loss']:.2g}"
                    lab += ")"
                C.plot_measured(ax, layers, g, lab, color=_COLORS[r["variant"]], lw=1.3)
            if act == "relu" and key == "init":
                lo, hi = s["window"]
                bn = next(
                    r for r in data["runs"] if r["activation"] == act and r["variant"] == "BN"
                )
                # slope of Theorem 8, through the log-mean of the measured window
                x = np.arange(lo, hi + 1, dtype=float)
                logg = np.log(np.asarray(bn["init"], dtype=float)[lo : hi + 1])
                shape = np.log(data["yang_relu_rate"]) * (hi - x) / 2.0
                y = np.exp(shape + np.mean(logg - shape))
                C.plot_bound(
                    ax, x + 1, y,
                    f"Theorem 8 slope, B={data['yang_relu_rate_B']} "
                    f"(x{data['yang_relu_rate']:.3f}/layer)",
                    source="Yang et al. 2019",
                )  # fmt: skip
            ax.set_yscale("log")
            if key == "trained":  # headroom for the legend above the curves
                lo_y, hi_y = ax.get_ylim()
                ax.set_ylim(lo_y, hi_y * (hi_y / lo_y) ** 0.35)
            ax.set_xlabel("layer (1 = input side)")
            ax.set_ylabel("$\\|\\nabla_{\\mathrm{layer}} L\\|$ (full batch)")
            ax.set_title(f"{act}, {s['depth']} hidden layers x {s['width']}, {when}", fontsize=9)
            ax.legend(loc="upper left" if key == "trained" else "best", fontsize=7)
    fig.suptitle(
        f"Gradient norm per layer ({s['data']}, {s['n_measure']} samples, cross-entropy; "
        + ("quick: small substitute, not MNIST; " if s.get("quick") else "")
        + f"SGD lr {s['lr']:g}, batch {s['batch_size']})",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """All init profiles finite and positive; non-finite trained profiles only for runs
    marked diverged; the BN-ReLU init growth rate within ``tolerance`` of Yang's Theorem 8
    (B = number of samples in the batch)."""
    ok = True
    for r in data["runs"]:
        g0 = C.arr(r["init"])
        ok = ok and bool(np.all(np.isfinite(g0) & (g0 > 0)))
        if r["status"] == "completed":
            ok = ok and bool(np.all(np.isfinite(C.arr(r["trained"]))))
    bn = next(r for r in data["runs"] if r["activation"] == "relu" and r["variant"] == "BN")
    theory = data["yang_relu_rate"]
    meas = bn["rate_init"]
    gap = (meas - theory) / theory if meas is not None else float("inf")
    ok = ok and abs(gap) <= data["setup"]["tolerance"]
    parts = [f"BN-ReLU init rate {meas:.4f} vs Theorem 8 {theory:.4f} ({100 * gap:+.1f}%)"]
    for r in data["runs"]:
        g0 = C.arr(r["init"])
        first_last = g0[0] / g0[-1]
        parts.append(
            f"{r['activation']} {r['variant']}: ||g_1||/||g_L|| {first_last:.2g}, {r['status']}"
        )
    return ok, "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

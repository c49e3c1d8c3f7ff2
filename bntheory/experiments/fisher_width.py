"""Karakida, Akaho & Amari (2019): largest and mean eigenvalue of the Fisher information
(Gauss-Newton matrix) of random ReLU networks vs width, without BN, with BN in the last
layer, and with BN in every hidden layer.

``F = J^T J / N`` of the train-mode output map over a batch of ``N`` Gaussian inputs
(``J``: ``(N d_out) x dim`` Jacobian; with BN every output depends on the whole batch).
:func:`bntheory.nets.measurements.fisher_spectrum` gives ``lambda_max`` exactly (top
eigenvalue of the Gram matrix ``J J^T / N``) and ``mean = tr F / dim``. Network: input
dimension 32, 3 hidden ReLU layers of width ``M`` (He init, biases on layers without BN),
``d_out = 2`` linear outputs. Karakida et al.: without normalization ``lambda_max = O(M)``
and the mean eigenvalue is ``O(1/M)`` (recalled from their earlier work, "Universal Statistics of
Fisher Information in Deep Neural Networks: Mean Field Approach"; not confirmed here); BN in
the last layer "drastically" decreases ``lambda_max`` under a width / sample-size condition
that is not available, so panel (c) shows ``lambda_max`` against ``N`` at fixed width.
The dashed ``O(M)`` and ``O(1/M)`` lines are slope references, anchored at the smallest
width; they are not fitted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402
from bntheory.experiments import _nets_common as NC  # noqa: E402

NAME = "fisher_width"
_D_IN, _D_OUT, _DEPTH = 32, 2, 3
_VARIANTS = (
    ("none", "no BN"),
    ("output", "BN in the last layer"),
    ("all", "BN in every hidden layer"),
)
_COLORS = {"none": "C0", "output": "C1", "all": "C2"}


def _settings(quick: bool) -> dict:
    if quick:
        return {"widths": [16, 32, 64, 128], "n_samples": 16, "n_seeds": 2,
                "n_sweep": [8, 16, 32], "sweep_width": 64}  # fmt: skip
    return {"widths": [32, 64, 128, 256, 512, 1024], "n_samples": 32, "n_seeds": 3,
            "n_sweep": [8, 16, 32, 64, 128], "sweep_width": 256}  # fmt: skip


def _net(bn: str, width: int, seed: int):
    from bntheory.nets import MLP

    return MLP([_D_IN] + [width] * _DEPTH + [_D_OUT], "relu", bn=bn, loss="mse", rng=seed)


def _dense_lambda_max(net, X) -> float:
    """Independent reference: ``J`` column by column from Jacobian-vector products with the
    unit vectors (no VJP), then the top eigenvalue of ``J J^T / N``."""
    eye = np.zeros(net.dim)
    cols = []
    for i in range(net.dim):
        eye[i] = 1.0
        cols.append(net.jvp(X, eye).ravel())
        eye[i] = 0.0
    J = np.column_stack(cols)
    return float(np.linalg.eigvalsh(J @ J.T / X.shape[0])[-1])


def compute(quick: bool, seed: int) -> dict:
    """lambda_max, trace and mean eigenvalue over widths (and over N at one width)."""
    from bntheory.nets.measurements import fisher_spectrum

    cfg = _settings(quick)
    sd = NC.seeds(seed, 2 * cfg["n_seeds"])
    width_res: dict = {
        k: {"lambda_max": [], "mean": [], "trace": [], "dim": []} for k, _ in _VARIANTS
    }
    sweep_res: dict = {k: [] for k in ("none", "output")}
    ref = {}
    with NC.single_thread():
        for s in range(cfg["n_seeds"]):
            gen = np.random.default_rng(sd[2 * s])
            X = gen.standard_normal((cfg["n_samples"], _D_IN))
            for key, _ in _VARIANTS:
                lm, mean, tr, dims = [], [], [], []
                for M in cfg["widths"]:
                    r = fisher_spectrum(_net(key, M, sd[2 * s + 1]), X)
                    lm.append(r.lambda_max)
                    mean.append(r.mean_eigenvalue)
                    tr.append(r.trace)
                    dims.append(r.dim)
                for name, vals in (
                    ("lambda_max", lm),
                    ("mean", mean),
                    ("trace", tr),
                    ("dim", dims),
                ):
                    width_res[key][name].append(vals)
                if s == 0 and key in ("none", "output"):
                    net = _net(key, cfg["widths"][0], sd[2 * s + 1])
                    ref[key] = {"dense": _dense_lambda_max(net, X), "library": lm[0]}
            Xs = gen.standard_normal((max(cfg["n_sweep"]), _D_IN))
            for key in sweep_res:
                sweep_res[key].append(
                    [
                        fisher_spectrum(
                            _net(key, cfg["sweep_width"], sd[2 * s + 1]), Xs[:n]
                        ).lambda_max
                        for n in cfg["n_sweep"]
                    ]
                )
    slopes = {
        key: {
            "lambda_max": NC.loglog_slope(
                cfg["widths"], np.mean(width_res[key]["lambda_max"], axis=0)
            ),
            "mean": NC.loglog_slope(cfg["widths"], np.mean(width_res[key]["mean"], axis=0)),
        }
        for key, _ in _VARIANTS
    }
    return {
        "setup": {
            **cfg,
            "d_in": _D_IN,
            "d_out": _D_OUT,
            "hidden_layers": _DEPTH,
            "activation": "relu",
            "inputs": "standard Gaussian",
        },  # fmt: skip
        "width": width_res,
        "sweep": sweep_res,
        "slopes": slopes,
        "dense_reference": ref,
    }


def _summary(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometric mean over seeds and the min/max, per column."""
    a = np.asarray(rows, dtype=float)
    return np.exp(np.mean(np.log(a), axis=0)), a.min(axis=0), a.max(axis=0)


def _int_ticks(ax, ticks) -> None:
    """Log-2 x axis labelled with the plain integers ``ticks``."""
    import matplotlib.ticker as mt

    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(mt.ScalarFormatter())
    ax.xaxis.set_minor_locator(mt.NullLocator())


def plot(data: dict, out: Path) -> None:
    """(a) lambda_max vs width; (b) mean eigenvalue vs width; (c) lambda_max vs N."""
    s = data["setup"]
    M = np.asarray(s["widths"], dtype=float)
    fig, axes = C.figure(1, 3, width=12.0, height=3.9)
    for ax, key, title in (
        (axes[0], "lambda_max", "(a) largest eigenvalue $\\lambda_{max}(F)$"),
        (axes[1], "mean", "(b) mean eigenvalue tr$F$ / #params"),
    ):
        for var, lab in _VARIANTS:
            g, lo, hi = _summary(data["width"][var][key])
            sl = data["slopes"][var][key]
            ax.errorbar(M, g, yerr=[g - lo, hi - g], color=_COLORS[var], marker="o", ms=3.5,
                        capsize=2, lw=1.4, label=f"{lab} (slope {sl:.2f})")  # fmt: skip
        g0 = _summary(data["width"]["none"][key])[0][0]
        if key == "lambda_max":
            C.plot_bound(ax, M, g0 * M / M[0], "$O(M)$ reference", source="Karakida et al. 2019")
        else:
            C.plot_bound(ax, M, g0 * M[0] / M, "$O(1/M)$ reference", source="Karakida et al. 2019")
        _int_ticks(ax, s["widths"])
        ax.set_yscale("log")
        ax.set_xlabel("width M (log scale)")
        ax.set_ylabel(title.split(" ", 1)[1])
        ax.set_title(title + f", N = {s['n_samples']}", fontsize=9)
        ax.legend(loc="best", fontsize=7)
    ax = axes[2]
    n = np.asarray(s["n_sweep"], dtype=float)
    for var in ("none", "output"):
        g, lo, hi = _summary(data["sweep"][var])
        lab = dict(_VARIANTS)[var]
        ax.errorbar(n, g, yerr=[g - lo, hi - g], color=_COLORS[var], marker="o", ms=3.5,
                    capsize=2, lw=1.4, label=lab)  # fmt: skip
    _int_ticks(ax, s["n_sweep"])
    ax.set_yscale("log")
    ax.set_xlabel("number of samples N (log scale)")
    ax.set_ylabel("$\\lambda_{max}(F)$")
    ax.set_title(f"(c) $\\lambda_{{max}}$ vs N at width M = {s['sweep_width']}", fontsize=9)
    ax.legend(loc="best", fontsize=7)
    fig.suptitle(
        f"Fisher / Gauss-Newton spectrum at init ({s['hidden_layers']} hidden ReLU layers, "
        f"d_in {s['d_in']}, d_out {s['d_out']}, Gaussian inputs; geometric mean and min-max "
        f"over {s['n_seeds']} seeds)",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """``lambda_max`` agrees with a dense Jacobian built from JVPs (rel. 1e-8); for every
    net ``tr F / rank <= lambda_max <= tr F`` (``rank <= N d_out``) and mean = tr / dim."""
    s = data["setup"]
    R = s["n_samples"] * s["d_out"]
    ok = True
    for v in data["dense_reference"].values():
        ok = ok and abs(v["library"] / v["dense"] - 1) <= 1e-8
    for var, _ in _VARIANTS:
        w = data["width"][var]
        lm, tr = np.asarray(w["lambda_max"]), np.asarray(w["trace"])
        mean, dim = np.asarray(w["mean"]), np.asarray(w["dim"], dtype=float)
        ok = ok and bool(np.all(lm <= tr * (1 + 1e-10)) and np.all(lm >= tr / R * (1 - 1e-10)))
        ok = ok and bool(np.allclose(mean, tr / dim, rtol=1e-12))
    M = s["widths"]
    ratio = [
        float(np.mean(np.asarray(data["width"]["none"]["lambda_max"])[:, i]
                      / np.asarray(data["width"]["output"]["lambda_max"])[:, i]))
        for i in (0, len(M) - 1)
    ]  # fmt: skip
    sl = data["slopes"]
    msg = (
        f"dense-J cross-check ok={ok}; slopes of lambda_max in M: none {sl['none']['lambda_max']:.2f}, "
        f"last-layer BN {sl['output']['lambda_max']:.2f}, all-BN {sl['all']['lambda_max']:.2f}; "
        f"mean eigenvalue slope (none) {sl['none']['mean']:.2f}; "
        f"lambda_max no-BN / last-layer-BN = {ratio[0]:.1f} at M={M[0]}, {ratio[1]:.1f} at M={M[-1]}"
    )
    return ok, msg


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

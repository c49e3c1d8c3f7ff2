"""Santurkar et al. (2018) landscape and internal-covariate-shift measures and Bjorck et al.
(2018) learning-rate range, on Fashion-MNIST, with and without BN.

Santurkar, Tsipras, Ilyas & Madry (2018), Sec. 3.1 and Fig. 4, measure along the gradient
direction at each training step the variation of the loss (loss range over
``w - lr s grad``, ``s`` in [0.5, 4.1]) and the "effective beta-smoothness" (largest change
of the gradient per unit step), and find both smaller with BN (a smoother landscape); their
Def. 2.1 measures internal covariate shift as the change of a layer's gradient when the
earlier layers take their step, and find it NOT reduced by BN (Fig. 3). Bjorck, Gomes,
Selman & Weinberger (2018), Sec. 2, find that BN networks train over a wider range of
learning rates. The papers ran VGG on CIFAR-10; Fashion-MNIST is the nearest installable
stand-in (the ledger's claims measure the same things on synthetic data).

Setup (declared before any run): the first ``n_train`` Fashion-MNIST training images
(flattened, pixels in [0, 1]); ReLU MLP 784-[64 x 8]-10, He initialization, softmax
cross-entropy; with and without BN (same initial weights and batch order per seed); SGD
batch 64. Landscape and ICS: learning rate 0.1, measured every ``every`` steps
(:func:`bntheory.nets.measurements.santurkar_landscape`,
:func:`~bntheory.nets.measurements.internal_covariate_shift`). Learning-rate range:
:func:`~bntheory.nets.measurements.bjorck_lr_sweep` over 1e-3 .. 10 in half decades,
"trains" = no divergence and final loss <= 0.5 x initial. Full: 10,000 images, 100 steps
(every 10), sweep 200 steps, 3 seeds. Quick: 500 images, 10 steps (every 2), sweep 20
steps, 1 seed, labelled "quick" in the figure. Fashion-MNIST missing: the script exits with
the loader's one-line message (never another data set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bntheory.experiments import _common as C
from bntheory.experiments import _nets_common as NC

NAME = "fashion_mnist"
SIZES = [784] + [64] * 8 + [10]
LR = 0.1
LR_GRID = [float(x) for x in np.logspace(-3, 1, 9)]
BATCH = 64


def _settings(quick: bool) -> dict:
    if quick:
        return {"n_train": 500, "steps": 10, "every": 2, "sweep_steps": 20, "seeds": 1}
    return {"n_train": 10_000, "steps": 100, "every": 10, "sweep_steps": 200, "seeds": 3}


def cell(bn: bool, quick: bool, seed: int, rng=None) -> dict:
    """The three measurements of one network (with or without BN) for one seed.

    Parameters
    ----------
    bn : bool
    quick : bool
    seed : int
        Seeds the initial weights and the batch order (the same for both networks).
    rng : numpy.random.Generator, optional
        Passed by the sweep; unused (``seed`` fixes the run).

    Returns
    -------
    dict
        Landscape (``steps``, ``loss_range_rel``, ``beta``), ICS (``ics_relative`` and
        ``ics_cosine`` per dense layer, mean over the recorded steps), learning-rate sweep
        (``lrs``, ``final_over_initial``, ``trained``, ``max_lr``) and statuses; a diverged
        measurement is None, never a NaN.
    """
    from bntheory.nets import MLP
    from bntheory.nets.data import load_fashion_mnist
    from bntheory.nets.measurements import (
        bjorck_lr_sweep,
        internal_covariate_shift,
        santurkar_landscape,
    )

    s = _settings(quick)
    d = load_fashion_mnist()
    X, Y = d.X_train[: s["n_train"]], d.Y_train[: s["n_train"]]
    s_init, s_order = NC.seeds(int(seed), 2)

    def net():
        return MLP(SIZES, "relu", bn=bool(bn), loss="cross_entropy", sigma_w2=2.0, rng=s_init)

    out: dict = {"bn": bool(bn), "seed": int(seed)}
    with NC.single_thread(), np.errstate(all="ignore"):
        r = santurkar_landscape(net(), X, Y, lr=LR, steps=s["steps"], batch_size=BATCH,
                                every=s["every"], rng=s_order)  # fmt: skip
        out["landscape_status"] = str(r.status)
        ok = r.status == "completed"
        steps = np.asarray(r.steps)
        out["steps"] = steps
        out["loss_range_rel"] = (
            np.asarray(r.loss_range) / np.asarray(r.train_loss)[steps] if ok else None
        )
        out["beta"] = np.asarray(r.beta_smoothness) if ok else None
        q = internal_covariate_shift(net(), X, Y, lr=LR, steps=s["steps"], batch_size=BATCH,
                                     every=s["every"], rng=s_order)  # fmt: skip
        out["ics_status"] = str(q.status)
        ok = q.status == "completed"
        out["ics_relative"] = np.mean(np.asarray(q.relative), axis=0) if ok else None
        out["ics_cosine"] = np.mean(np.asarray(q.cosine), axis=0) if ok else None
        w = bjorck_lr_sweep(net(), X, Y, LR_GRID, steps=s["sweep_steps"], batch_size=BATCH,
                            rng=s_order)  # fmt: skip
    fin = np.asarray(w.final_loss, dtype=float)
    init = np.asarray(w.initial_loss, dtype=float)
    with np.errstate(all="ignore"):
        ratio = fin / init
    out["lrs"] = list(LR_GRID)
    out["final_over_initial"] = [float(x) if np.isfinite(x) else None for x in ratio]
    out["trained"] = [bool(t) for t in w.trained]
    out["max_lr"] = None if w.max_lr is None else float(w.max_lr)
    return {k: C.to_jsonable(v) for k, v in out.items()}


def compute(quick: bool, seed: int) -> dict:
    """Both networks for every seed (cached per cell in ``--out``/data/fashion_mnist_cells)."""
    from bntheory.nets.data import DataUnavailable, load_fashion_mnist

    try:
        d = load_fashion_mnist()
    except DataUnavailable as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    s = _settings(quick)
    seeds = NC.seeds(seed, s["seeds"])
    grid = {"bn": [False, True], "quick": [quick], "seed": seeds}
    res = C.sweep(NAME, cell, grid, seeds=1, root_seed=seed)
    return {
        "setup": {
            **s,
            "sizes": SIZES,
            "activation": "relu",
            "init": "He (sigma_w^2 = 2)",
            "lr": LR,
            "batch": BATCH,
            "lr_grid": LR_GRID,
            "quick": quick,
            "data_source": d.source,
            "seeds_list": seeds,
        },  # fmt: skip
        "runs": [r["value"] for r in res.records],
    }


_LABEL = {False: "without BN", True: "with BN"}
_COLOR = {False: "C0", True: "C1"}


def _stack(runs: list[dict], key: str) -> np.ndarray | None:
    rows = [C.arr(r[key]) for r in runs if r.get(key) is not None]
    return np.array(rows) if rows else None


def _median_cols(F: np.ndarray) -> np.ndarray:
    """Column medians over the finite entries (NaN where a column has none: not drawn)."""
    return np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in F.T])


def plot(data: dict, out: Path) -> None:
    """(a) loss range, (b) beta-smoothness along training; (c) ICS per layer; (d) lr range."""
    s = data["setup"]
    fig, axes = C.figure(1, 4, width=14.0, height=3.6)
    for bn in (False, True):
        runs = [r for r in data["runs"] if r["bn"] == bn]
        col, lab = _COLOR[bn], _LABEL[bn]
        t = C.arr(runs[0]["steps"])
        for ax, key in ((axes[0], "loss_range_rel"), (axes[1], "beta")):
            A = _stack(runs, key)
            if A is None:
                continue
            NC.band(ax, t, A.min(0), A.max(0), label=lab, color=col, line=np.median(A, 0))
        Q = _stack(runs, "ics_relative")
        if Q is not None:
            k = np.arange(1, Q.shape[1] + 1)  # layer 1 has no earlier layer: ICS 0, not drawn
            axes[2].plot(k[1:], np.median(Q, 0)[1:], "o-", color=col, label=lab)
        F = np.array([C.arr(r["final_over_initial"]) for r in runs])
        mx = [r["max_lr"] for r in runs]
        axes[3].plot(s["lr_grid"], _median_cols(F), "o-", color=col,
                     label=f"{lab} (largest trained lr {', '.join(f'{m:.3g}' if m else 'none' for m in mx)})")  # fmt: skip
    axes[0].set_title("(a) loss range along the gradient / loss", fontsize=9)
    axes[1].set_title("(b) effective beta-smoothness", fontsize=9)
    axes[2].set_title("(c) ICS (Santurkar Def. 2.1), ||G-G'||/||G||", fontsize=9)
    axes[3].set_title("(d) final / initial loss vs learning rate", fontsize=9)
    for ax in axes[:2]:
        ax.set_xlabel("SGD step")
        ax.set_yscale("log")
    axes[2].set_xlabel("dense layer")
    axes[2].set_yscale("log")
    axes[3].set_xscale("log")
    axes[3].set_yscale("log")
    axes[3].axhline(0.5, color="k", ls=":", lw=1, label="'trains' threshold 0.5")
    axes[3].set_xlabel("learning rate")
    for ax in axes:
        ax.legend(fontsize=6.5)
    head = (
        "quick (500 images, 10 steps, 1 seed)"
        if s["quick"]
        else (
            f"{s['n_train']:,} images, {s['steps']} steps, {s['seeds']} seeds (median, min-max band)"
        )
    )
    fig.suptitle(
        f"Fashion-MNIST, ReLU MLP 784-[64x8]-10, SGD lr {s['lr']:g} batch {s['batch']}: "
        f"{head}; stand-in for the papers' CIFAR-10",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Every landscape/ICS run completed; the BN net trains at some rate of the grid."""
    runs = data["runs"]
    ok = all(r["landscape_status"] == "completed" and r["ics_status"] == "completed"
             for r in runs)  # fmt: skip
    ok = ok and all(r["max_lr"] is not None for r in runs if r["bn"])
    parts = []
    for bn in (False, True):
        rr = [r for r in runs if r["bn"] == bn]
        lr_ = [r["max_lr"] for r in rr]
        rng_ = [float(np.median(C.arr(r["loss_range_rel"]))) for r in rr if r["loss_range_rel"]]
        ics = [float(np.mean(C.arr(r["ics_relative"])[1:])) for r in rr if r["ics_relative"]]
        parts.append(f"{_LABEL[bn]}: max lr {lr_}, median loss range {np.round(rng_, 3)}, "
                     f"ICS {np.round(ics, 3)}")  # fmt: skip
    return ok, "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

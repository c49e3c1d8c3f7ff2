"""Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019): trainability of deep BN
networks on MNIST, test accuracy after a fixed budget against depth and batch size.

Yang et al. (2019) prove that a deep fully connected BN network has exploding gradients at
initialization: the squared gradient norm grows by a factor ``rate(B) > 1`` per layer
(ReLU: their Theorem 8, :func:`bntheory.nets.yang.yang_formula`), and they report that such
networks deeper than about 50 layers do not train on MNIST; the depth scale of the
explosion is ``xi = 1 / log(rate)`` and their trainability boundary is drawn at ``16 xi``.

Setup (declared before any run): ReLU MLP, width 100, BN on every hidden layer (train mode,
eps 1e-5), He initialization, softmax cross-entropy; plain SGD with constant learning rate
0.01 (no tuning per cell) for a fixed number of steps on shuffled mini-batches of size B;
test accuracy of the eval-mode network (running averages). Full mode: the 60,000 / 10,000
MNIST split, depths {2, 5, 10, 20, 30, 40, 50, 70}, B in {8, 32, 128}, 400 steps, 1 seed
per cell. Quick mode: a 500-image training slice and 500 test images, depths {2, 8, 16},
B in {8, 32}, 60 steps, labelled "quick" in the figure. MNIST missing: the script exits
with the loader's one-line message (never another data set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bntheory.experiments import _common as C
from bntheory.experiments import _nets_common as NC

NAME = "yang_mnist"
WIDTH = 100
LR = 0.01
#: Yang et al.'s reported limit of trainable depth on MNIST.
UNTRAINABLE_DEPTH = 50


def _settings(quick: bool) -> dict:
    if quick:
        return {"depths": [2, 8, 16], "batches": [8, 32], "steps": 60, "n_train": 500,
                "n_test": 500}  # fmt: skip
    return {"depths": [2, 5, 10, 20, 30, 40, 50, 70], "batches": [8, 32, 128], "steps": 400,
            "n_train": 60_000, "n_test": 10_000}  # fmt: skip


def xi(batch: int) -> float:
    """Yang et al.'s depth scale ``1 / log(rate(B))`` of the ReLU gradient explosion.

    Parameters
    ----------
    batch : int
        Batch size ``B >= 4``.

    Returns
    -------
    float
    """
    from bntheory.nets.yang import yang_formula

    return float(1.0 / np.log(yang_formula("relu", int(batch))))


def cell(depth: int, batch: int, quick: bool, rng: np.random.Generator) -> dict:
    """Train one BN ReLU net of ``depth`` hidden layers with batch size ``batch``.

    Parameters
    ----------
    depth, batch : int
    quick : bool
        Quick slice and budget (see the module docstring).
    rng : numpy.random.Generator
        Seeds the weights and the mini-batch order.

    Returns
    -------
    dict
        ``status``, ``test_accuracy`` (None when diverged), ``final_loss``.
    """
    from bntheory.nets import MLP, train
    from bntheory.nets.data import load_mnist

    s = _settings(quick)
    d = load_mnist()
    X, Y = d.X_train[: s["n_train"]], d.Y_train[: s["n_train"]]
    Xt, Yt = d.X_test[: s["n_test"]], d.Y_test[: s["n_test"]]
    seeds = rng.integers(2**63, size=2)
    with NC.single_thread(), np.errstate(all="ignore"):
        net = MLP([784] + [WIDTH] * int(depth) + [10], "relu", bn=True,
                  loss="cross_entropy", sigma_w2=2.0, rng=int(seeds[0]))  # fmt: skip
        r = train(net, X, Y, lr=LR, steps=s["steps"], batch_size=int(batch), rng=int(seeds[1]))
        ok = r.status == "completed"
        acc = float(np.mean(np.argmax(net.predict(Xt), axis=1) == Yt)) if ok else None
    return {"status": str(r.status), "test_accuracy": acc,
            "final_loss": float(r.losses[-1]) if ok else None}  # fmt: skip


def compute(quick: bool, seed: int) -> dict:
    """Every (depth, batch) cell, cached per cell (``--out``/data/yang_mnist_cells)."""
    from bntheory.nets.data import DataUnavailable, load_mnist

    try:
        load_mnist()
    except DataUnavailable as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    s = _settings(quick)
    grid = {"depth": s["depths"], "batch": s["batches"], "quick": [quick]}
    res = C.sweep(NAME, cell, grid, seeds=1, root_seed=seed)
    cells = [{**r["params"], **(r["value"] or {"status": "failed"})} for r in res.records]
    return {
        "setup": {
            **s,
            "width": WIDTH,
            "lr": LR,
            "activation": "relu",
            "bn": True,
            "init": "He (sigma_w^2 = 2)",
            "quick": quick,
            "untrainable_depth": UNTRAINABLE_DEPTH,
        },  # fmt: skip
        "xi": {str(b): xi(b) for b in s["batches"]},
        "cells": cells,
    }


def plot(data: dict, out: Path) -> None:
    """Heat map of test accuracy (depth x batch size) with Yang's 16 xi and the 50-layer line."""
    s = data["setup"]
    D, B = s["depths"], s["batches"]
    A = np.full((len(D), len(B)), np.nan)
    for c in data["cells"]:
        if c.get("test_accuracy") is not None:
            A[D.index(c["depth"]), B.index(c["batch"])] = c["test_accuracy"]
    fig, axes = C.figure(1, 1, width=6.2, height=4.6, squeeze=False)
    ax = axes[0][0]
    im = ax.imshow(A, origin="lower", aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis")
    for i in range(len(D)):
        for j in range(len(B)):
            txt = "div." if np.isnan(A[i, j]) else f"{A[i, j]:.2f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=7, color="w")
    ax.set_xticks(range(len(B)), [str(b) for b in B])
    ax.set_yticks(range(len(D)), [str(d) for d in D])
    ax.set_xlabel("batch size B")
    ax.set_ylabel("hidden layers (depth)")

    # depth -> fractional row index (piecewise linear through the grid rows)
    def row(depth: float) -> float:
        return float(np.interp(depth, D, np.arange(len(D)), left=-0.5, right=len(D) - 0.5))

    xs = np.arange(len(B))
    ax.plot(xs, [row(16 * data["xi"][str(b)]) for b in B], color="C1", ls="--", lw=1.5,
            label="16 xi(B), xi = 1/log rate (Yang et al. 2019, Thm. 8)")  # fmt: skip
    ax.axhline(row(s["untrainable_depth"]), color="r", ls=":", lw=1.5,
               label="about 50 layers (Yang et al. 2019, MNIST)")  # fmt: skip
    if 16 * min(data["xi"].values()) > max(D):
        ax.text(0.5, 0.98, "both lines lie above the deepest net run", transform=ax.transAxes,
                ha="center", va="top", fontsize=7, color="w")  # fmt: skip
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7, ncol=1)
    fig.colorbar(im, ax=ax, label="test accuracy")
    head = "quick (500-image slice, shallow)" if s["quick"] else "full MNIST (60,000 / 10,000)"
    ax.set_title(
        f"BN ReLU MLP width {s['width']} on MNIST, {head}\n"
        f"SGD lr {s['lr']:g}, {s['steps']} steps (fixed budget), 1 seed per cell",
        fontsize=8.5,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Accuracies in [0, 1]; the shallowest net learned (accuracy above 0.5 in full mode,
    above chance 0.1 in quick mode)."""
    s = data["setup"]
    accs = [c["test_accuracy"] for c in data["cells"] if c.get("test_accuracy") is not None]
    ok = all(0.0 <= a <= 1.0 for a in accs)
    shallow = [c["test_accuracy"] for c in data["cells"] if c["depth"] == min(s["depths"])]
    floor = 0.1 if s["quick"] else 0.5
    ok = ok and all(a is not None and a > floor for a in shallow)
    deep = {c["batch"]: c["test_accuracy"] for c in data["cells"] if c["depth"] == max(s["depths"])}
    return ok, (
        f"depth {min(s['depths'])}: acc {', '.join(f'{a:.3f}' for a in shallow)}; depth "
        f"{max(s['depths'])}: {deep}; 16 xi: "
        + ", ".join(f"B={b}: {16 * v:.1f}" for b, v in data["xi"].items())
    )


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

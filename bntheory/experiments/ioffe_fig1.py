"""Ioffe & Szegedy (2015), Fig. 1 analogue: test accuracy and the {15, 50, 85}th
percentiles of one last-hidden-layer sigmoid input over training, without and with BN.

Setup (:func:`bntheory.nets.measurements.ioffe_figure1`; Ioffe & Szegedy 2015, Sec. 4.1): 3 fully
connected sigmoid hidden layers of 100 units, softmax cross-entropy, SGD with mini-batches
of 60, BN on every hidden layer (or none), same initial weights and batch order. Data:
scikit-learn's 8x8 digits (no download) instead of MNIST; the paper's optimizer and learning
rate are not stated, so the learning rate here (0.5) is this script's choice. The sigmoid
input of unit 0 of the last hidden layer is recorded on the test inputs; accuracy is
measured in eval mode (running statistics).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402
from bntheory.experiments import _nets_common as NC  # noqa: E402

NAME = "ioffe_fig1"


def _settings(quick: bool) -> dict:
    if quick:
        return {"steps": 400, "eval_every": 40, "lr": 0.5, "batch_size": 60, "hidden": 100}
    return {"steps": 5000, "eval_every": 100, "lr": 0.5, "batch_size": 60, "hidden": 100}


def compute(quick: bool, seed: int) -> dict:
    """Train both networks and record accuracy and the activation percentiles."""
    from bntheory.nets.measurements import ioffe_figure1

    cfg = _settings(quick)
    with NC.single_thread():
        r = ioffe_figure1(
            steps=cfg["steps"],
            lr=cfg["lr"],
            batch_size=cfg["batch_size"],
            eval_every=cfg["eval_every"],
            hidden=cfg["hidden"],
            unit=0,
            rng=seed,
        )
    nets = {}
    for key, acc, sh, st in (
        ("plain", r.accuracy_plain, r.shift_plain, r.status_plain),
        ("bn", r.accuracy_bn, r.shift_bn, r.status_bn),
    ):
        nets[key] = {
            "status": st,
            "test_accuracy": acc,
            "percentiles": sh.percentiles,  # (n_checkpoints, 3): 15th, 50th, 85th
            "kl_from_first": sh.kl_from_first,
            "mean_shift": sh.mean_shift,
            "std_shift": sh.std_shift,
        }
    return {
        "setup": {**cfg, "data": r.dataset, "layer": 2, "unit": 0},
        "eval_steps": r.eval_steps,
        "nets": nets,
    }


_LABEL = {"plain": "without BN", "bn": "with BN"}
_COLOR = {"plain": "C0", "bn": "C1"}


def plot(data: dict, out: Path) -> None:
    """(a) test accuracy; (b, c) sigmoid-input percentiles without / with BN."""
    s = data["setup"]
    t = np.asarray(data["eval_steps"], dtype=float)
    fig, axes = C.figure(1, 3, width=11.0, height=3.4)
    ax = axes[0]
    for key in ("plain", "bn"):
        n = data["nets"][key]
        lab = _LABEL[key] + ("" if n["status"] == "completed" else " (diverged)")
        C.plot_measured(ax, t, C.arr(n["test_accuracy"]), lab, color=_COLOR[key])
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy (eval mode)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"(a) test accuracy, {s['data']}")
    ax.legend(loc="lower right")
    lo = min(float(np.min(data["nets"][k]["percentiles"])) for k in ("plain", "bn"))
    hi = max(float(np.max(data["nets"][k]["percentiles"])) for k in ("plain", "bn"))
    pad = 0.08 * (hi - lo)
    for ax, key, tag in ((axes[1], "plain", "(b)"), (axes[2], "bn", "(c)")):
        P = np.asarray(data["nets"][key]["percentiles"], dtype=float)
        col = _COLOR[key]
        ax.fill_between(t, P[:, 0], P[:, 2], color=col, alpha=0.2, lw=0)
        for j, (q, ls, lw) in enumerate(((15, ":", 1.2), (50, "-", 1.8), (85, "--", 1.2))):
            ax.plot(t, P[:, j], color=col, ls=ls, lw=lw, label=f"{q}th percentile")
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("training step")
        ax.set_ylabel("input to the sigmoid")
        quick = "\nquick (shortened protocol)" if data.get("meta", {}).get("quick") else ""
        ax.set_title(f"{tag} last hidden layer, unit {s['unit']}, {_LABEL[key]}{quick}", fontsize=9)
        ax.legend(loc="lower left", fontsize=7)
    fig.suptitle(
        f"Ioffe & Szegedy (2015) Fig. 1 analogue: 3x{s['hidden']} sigmoid MLP, SGD batch "
        f"{s['batch_size']}, lr {s['lr']:g} (lr not given in the paper)"
        + (", quick (shortened protocol)" if data.get("meta", {}).get("quick") else ""),
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Both runs completed and learned (final test accuracy > 0.2 = twice chance); accuracies
    in [0, 1]; percentiles ordered 15th <= 50th <= 85th at every checkpoint."""
    ok = True
    parts = []
    for key in ("plain", "bn"):
        n = data["nets"][key]
        acc = C.arr(n["test_accuracy"])
        P = np.asarray(n["percentiles"], dtype=float)
        ok = ok and n["status"] == "completed" and bool(np.all((acc >= 0) & (acc <= 1)))
        ok = ok and acc[-1] > 0.2
        ok = ok and bool(np.all(np.diff(P, axis=1) >= 0))
        med = P[:, 1]
        parts.append(
            f"{_LABEL[key]}: final acc {acc[-1]:.3f}, median drift {med.max() - med.min():.2f}, "
            f"15-85 width {P[0, 2] - P[0, 0]:.2f} -> {P[-1, 2] - P[-1, 0]:.2f}, "
            f"KL(first||last) {n['kl_from_first'][-1]:.2f}"
        )
    return ok, "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

"""Ioffe & Szegedy (2015), Fig. 1 on the real MNIST: test accuracy and the {15, 50, 85}th
percentiles of one last-hidden-layer sigmoid input over training, without and with BN.

Protocol (:func:`bntheory.nets.ioffe2015.ioffe_figure1_mnist`; paper Sec. 4.1, THEORY.md
Sec. 1): 784-100-100-100-10 sigmoid MLP, softmax cross-entropy, weights ``N(0, 1/fan_in)``,
mini-batches of 60, 50,000 steps, BN on every hidden layer or none; the two networks of a
seed share initial weights and mini-batch order. Declared settings the paper does not state:
plain SGD with learning rate 0.5; evaluation with the inference network of Alg. 2 (population
statistics of 50 fixed training mini-batches at every checkpoint). Full mode: the paper's
protocol over 3 seeds. Quick mode: a shortened protocol (3,000 steps, 1 seed), labelled
"quick (shortened protocol)" in the figure and the data. MNIST missing: the script exits with
the loader's one-line message (it never substitutes another data set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402
from bntheory.experiments import _nets_common as NC  # noqa: E402

NAME = "ioffe_fig1_mnist"
N_SEEDS = {True: 1, False: 3}  # quick, full


def _summary(r) -> dict:
    """JSON-able record of one :class:`IoffeFig1Run` (the network itself is not stored)."""
    from bntheory.nets.ioffe2015 import percentile_drift

    k = C.thin_index(len(r.train_loss), 500)
    return {
        "seed": r.seed,
        "bn": r.bn,
        "protocol": r.protocol,
        "dataset": r.dataset,
        "n_train": r.n_train,
        "n_test": r.n_test,
        "status": r.status,
        "message": r.message,
        "steps": r.steps,
        "eval_steps": r.eval_steps,
        "test_accuracy": r.test_accuracy,
        "test_loss": r.test_loss,
        "percentiles": r.percentiles,  # (n_eval, 3) of the fixed unit
        "drift": percentile_drift(r.percentiles),
        "drift_mean_spread": percentile_drift(r.percentiles, reference="mean"),
        "unit_drift": percentile_drift(r.unit_percentiles),
        "unit_drift_mean_spread": percentile_drift(r.unit_percentiles, reference="mean"),
        "train_loss_k": k,
        "train_loss": r.train_loss[k],
        "seconds": r.seconds,
        "seconds_per_step": r.seconds_per_step,
        "cpu_seconds_per_step": r.cpu_seconds_per_step,
    }


def _cell(seed: int, bn: bool, quick: bool, data=None) -> dict:
    """One network (module level, so process executors can pickle it by reference)."""
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist

    with NC.single_thread():
        return _summary(ioffe_figure1_mnist(bn=bn, seed=seed, quick=quick, data=data))


def compute(quick: bool, seed: int) -> dict:
    """Train both networks for every seed; record accuracy and the percentile curves."""
    from bntheory.nets import ioffe2015 as I
    from bntheory.nets.data import DataUnavailable, load_mnist
    from bntheory.sweep import executor_from_spec

    try:
        data = load_mnist()  # fail fast, with the loader's one-line message
    except DataUnavailable as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    seeds = NC.seeds(seed, N_SEEDS[quick])
    spec = C.RUN_CONTEXT["executor"]
    serial = spec in (None, "serial")
    tasks = [(s, bn) for s in seeds for bn in (False, True)]
    with executor_from_spec(spec) as ex:
        futs = [ex.submit(_cell, s, bn, quick, data if serial else None) for s, bn in tasks]
        runs = [f.result() for f in futs]
    return {
        "setup": {
            "protocol": runs[0]["protocol"],
            "quick": quick,
            "dataset": runs[0]["dataset"],
            "data_source": data.source,
            "n_train": runs[0]["n_train"],
            "n_test": runs[0]["n_test"],
            "sizes": [784, *I.HIDDEN, 10],
            "activation": "sigmoid",
            "loss": "softmax cross-entropy",
            "init": "W ~ N(0, 1/fan_in); biases 0; BN gamma 1, beta 0, eps 1e-5",
            "optimizer": "plain SGD, constant learning rate, no momentum, no weight decay",
            "lr": I.LR,
            "lr_note": "declared before any MNIST run; the paper gives no optimizer settings",
            "batch": I.BATCH,
            "steps": I.QUICK_STEPS if quick else I.PAPER_STEPS,
            "eval_every": I.QUICK_EVAL_EVERY if quick else I.EVAL_EVERY,
            "layer": len(I.HIDDEN) - 1,
            "unit": 0,
            "percentiles": list(I.PERCENTILES),
            "evaluation": (
                "inference network of Alg. 2: population statistics of "
                f"{I.POP_BATCHES} fixed training mini-batches of {I.BATCH} at every "
                "checkpoint; sigmoid input = BN output (eval mode) with BN, W u + b without"
            ),
            "seeds": seeds,
        },
        "runs": runs,
    }


_LABEL = {False: "without BN", True: "with BN"}
_COLOR = {False: "C0", True: "C1"}


def _by_net(data: dict, bn: bool) -> list[dict]:
    return [r for r in data["runs"] if r["bn"] == bn]


def plot(data: dict, out: Path) -> None:
    """(a) test accuracy vs steps; (b, c) sigmoid-input percentiles without / with BN."""
    s = data["setup"]
    fig, axes = C.figure(1, 3, width=11.5, height=3.6)
    ax = axes[0]
    lo = 1.0
    for bn in (False, True):
        runs = _by_net(data, bn)
        t = np.asarray(runs[0]["eval_steps"], dtype=float)
        A = np.array([C.arr(r["test_accuracy"]) for r in runs])
        for a in A if len(runs) > 1 else ():
            ax.plot(t, a, color=_COLOR[bn], lw=0.5, alpha=0.45)
        lab = f"{_LABEL[bn]}" + (f" (mean of {len(runs)} seeds)" if len(runs) > 1 else "")
        if any(r["status"] != "completed" for r in runs):
            lab += " (diverged)"
        C.plot_measured(ax, t, np.nanmean(A, axis=0), lab, color=_COLOR[bn])
        lo = min(lo, float(np.nanmin(A[:, len(t) // 5 :])))
    ax.set_ylim(min(0.7, np.floor(lo * 20) / 20), 1.0)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.set_title("(a) test accuracy (inference network)")
    ax.legend(loc="lower right")
    # (b, c) on one y-range, with head room for the legend, so the drifts compare directly
    Ps = {bn: np.asarray(_by_net(data, bn)[0]["percentiles"], dtype=float) for bn in _COLOR}
    ymin = min(float(np.min(P)) for P in Ps.values())
    ymax = max(float(np.max(P)) for P in Ps.values())
    span = ymax - ymin
    for ax, bn, tag in ((axes[1], False, "(b)"), (axes[2], True, "(c)")):
        runs = _by_net(data, bn)
        t = np.asarray(runs[0]["eval_steps"], dtype=float)
        P = Ps[bn]
        col = _COLOR[bn]
        ax.fill_between(t, P[:, 0], P[:, 2], color=col, alpha=0.15, lw=0)
        for j, (q, ls, lw) in enumerate(((15, ":", 1.2), (50, "-", 1.8), (85, "--", 1.2))):
            ax.plot(t, P[:, j], color=col, ls=ls, lw=lw, label=f"{q}th")
        ax.set_ylim(ymin - 0.05 * span, ymax + 0.3 * span)
        d_unit = np.mean([r["drift_mean_spread"] for r in runs])
        d_med = np.mean([np.median(r["unit_drift_mean_spread"]) for r in runs])
        ax.set_xlabel("training step")
        ax.set_ylabel("input to the sigmoid")
        ax.set_title(
            f"{tag} {_LABEL[bn]}: last hidden layer, unit {s['unit']}\n"
            f"drift {d_unit:.2f} mean 15-85 spreads (median unit {d_med:.2f})",
            fontsize=8.5,
        )
        ax.legend(loc="upper center", ncol=3, fontsize=7, title="percentile", title_fontsize=7)
    nseed = len(s["seeds"])
    head = (
        "quick (shortened protocol)"
        if s["quick"]
        else "paper protocol (Ioffe & Szegedy 2015, Sec. 4.1)"
    )
    fig.suptitle(
        f"Ioffe & Szegedy (2015) Fig. 1 on MNIST ({s['n_train']:,} / {s['n_test']:,}), {head}\n"
        f"784-100-100-100-10 sigmoid, SGD batch {s['batch']}, {s['steps']:,} steps, "
        f"lr {s['lr']:g} (declared; not in the paper), {nseed} seed{'s' if nseed > 1 else ''}; "
        f"(b, c) first seed",
        fontsize=8.5,
    )
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Every run completed on MNIST with the protocol its mode says and learned (final test
    accuracy > 0.5, five times chance); accuracies in [0, 1]; percentiles ordered
    15th <= 50th <= 85th at every checkpoint."""
    from bntheory.nets.ioffe2015 import PAPER_LABEL, QUICK_LABEL

    s = data["setup"]
    want = QUICK_LABEL if s["quick"] else PAPER_LABEL
    ok = s["dataset"] == "mnist"
    parts = []
    for bn in (False, True):
        runs = _by_net(data, bn)
        fin = []
        for r in runs:
            acc = C.arr(r["test_accuracy"])
            P = np.asarray(r["percentiles"], dtype=float)
            ok = ok and r["status"] == "completed" and r["protocol"] == want
            ok = ok and bool(np.all((acc >= 0) & (acc <= 1))) and acc[-1] > 0.5
            ok = ok and bool(np.all(np.diff(P, axis=1) >= 0))
            fin.append(acc[-1])
        drifts = [r["drift_mean_spread"] for r in runs]
        parts.append(
            f"{_LABEL[bn]}: final acc {', '.join(f'{a:.4f}' for a in fin)}, drift "
            f"{', '.join(f'{d:.2f}' for d in drifts)} mean spreads, "
            f"{np.mean([r.get('cpu_seconds_per_step', np.nan) for r in runs]) * 1e3:.2f} ms "
            f"CPU ({np.mean([r['seconds_per_step'] for r in runs]) * 1e3:.1f} ms wall) per step"
        )
    return ok, f"{want}; " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

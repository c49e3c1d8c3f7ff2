"""Ioffe & Szegedy (2015), Fig. 1 on the real MNIST: test accuracy and the {15, 50, 85}th
percentiles of one last-hidden-layer sigmoid input over training, without and with BN.

Protocol (:func:`bntheory.nets.ioffe2015.ioffe_figure1_mnist`; Ioffe & Szegedy
2015, Sec. 4.1): 784-100-100-100-10 sigmoid MLP, softmax cross-entropy, weights ``N(0, 1/fan_in)``,
mini-batches of 60, 50,000 steps, BN on every hidden layer or none; the two networks of a
seed share initial weights and mini-batch order. Declared settings the paper does not state:
plain SGD with learning rate 0.5; evaluation with the inference network of Alg. 2 (population
statistics of 50 fixed training mini-batches at every checkpoint). Full mode: the paper's
protocol over 3 seeds. Quick mode: a shortened protocol (3,000 steps, 1 seed), labelled
"quick (shortened protocol)" in the figure and the data. MNIST missing: the script exits with
the loader's one-line message (it never substitutes another data set).

The seeds are the ledger's (:func:`ledger_seeds`) and every network is a cell of the
persistent sweep store :func:`bntheory.nets.data.sweep_store` ``("ioffe_fig1_mnist")``, so the
full-mode claims ics-02 and cs-08 of ``bntheory verify --seed K`` reuse the networks of
``bntheory reproduce --seed K`` (and the other way round): each seed and protocol is
trained once per machine.
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


#: Key of the seeds shared with the ledger (claims ics-02 and cs-08 in full mode): the
#: experiment's seeds for ``--seed K`` are the claims' seeds for ``bntheory verify --seed K``.
LEDGER_KEY = "ioffe-fig1-mnist"
#: Part of every cached cell's parameters: bump it when the protocol or the record changes,
#: so that stale cells in the sweep store are not reused. 2: the BN kernels of issue 13 (BLAS
#: column sums, blocked passes) round differently, so trained networks differ from version 1.
PROTOCOL_VERSION = 2


def ledger_seeds(master: int, n: int) -> list[int]:
    """The ``n`` seeds of this experiment for master seed ``master``.

    They are the seeds :func:`bntheory.claims.core.measurement_seeds` gives the key
    :data:`LEDGER_KEY` inside a ledger run with that master seed
    (``SeedSequence([master, crc32(key)]).spawn(n)``), so that ``bntheory reproduce`` and
    ``bntheory verify`` train the same networks and share the cached runs.

    Parameters
    ----------
    master : int
        Master seed (``--seed``), >= 0.
    n : int
        Number of seeds, >= 1.

    Returns
    -------
    list of int
    """
    import zlib

    if isinstance(master, bool) or not isinstance(master, (int, np.integer)) or master < 0:
        raise ValueError(f"master must be an int >= 0, got {master!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    ss = np.random.SeedSequence([int(master), zlib.crc32(LEDGER_KEY.encode())])
    return [int(c.generate_state(1)[0]) for c in ss.spawn(int(n))]


def cell(seed: int, bn: bool, quick: bool, version: int, rng=None) -> dict:
    """One network of Fig. 1 (:func:`bntheory.nets.ioffe2015.ioffe_figure1_mnist` on MNIST,
    every hidden layer recorded), as the JSON-able record of the sweep store.

    Parameters
    ----------
    seed : int
        Seed of the weights and the mini-batch order (both networks of a seed share them).
    bn : bool
        With BN on every hidden layer, or none.
    quick : bool
        Shortened protocol (3,000 steps) instead of the paper's 50,000.
    version : int
        :data:`PROTOCOL_VERSION` (part of the cache key only).
    rng : numpy.random.Generator, optional
        Passed by :func:`bntheory.sweep.run_sweep`; unused (``seed`` fixes the run).

    Returns
    -------
    dict
        :func:`_summary` of the run plus, per hidden layer ``k``, the percentiles of unit 0
        (``layer_unit0_percentiles``, shape ``(n_eval, 3 layers, 3)``) and the median over
        the layer's units of the percentile drift in initial 15-85 spreads
        (``layer_drift_median``).
    """
    from bntheory.nets.data import load_mnist
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist, percentile_drift

    with NC.single_thread():
        r = ioffe_figure1_mnist(
            bn=bool(bn), seed=int(seed), quick=bool(quick), data=load_mnist(), all_layers=True
        )
    out = _summary(r)
    H = np.asarray(r.hidden_percentiles, dtype=float)  # (n_eval, n_hidden, 3, width)
    out["layer_unit0_percentiles"] = H[:, :, :, 0]
    with np.errstate(all="ignore"):
        out["layer_drift_median"] = np.array(
            [float(np.median(percentile_drift(H[:, k]))) for k in range(H.shape[1])]
        )
    return out


def runs(seeds: list[int], quick: bool, executor=None) -> list[dict]:
    """Both networks for every seed, from the persistent sweep store
    (:func:`bntheory.nets.data.sweep_store`) when they were computed before, by
    ``bntheory reproduce`` or ``bntheory verify``.

    Parameters
    ----------
    seeds : list of int
    quick : bool
    executor : concurrent.futures.Executor, optional
        Where missing cells run (default: in this process).

    Returns
    -------
    list of dict
        The :func:`cell` records, ordered by seed, then without / with BN.

    Raises
    ------
    bntheory.nets.data.DataUnavailable
        MNIST is not installed (checked before any cell runs).
    """
    from bntheory.nets.data import load_mnist, sweep_store
    from bntheory.sweep import run_sweep

    load_mnist()  # fail fast with the loader's one-line message
    grid = {
        "seed": [int(s) for s in seeds],
        "bn": [False, True],
        "quick": [bool(quick)],
        "version": [PROTOCOL_VERSION],
    }
    res = run_sweep(
        cell, grid, seeds=1, root_seed=0, executor=executor, out_dir=sweep_store(NAME),
        progress=False, raise_errors=True, name=f"{NAME}.cell",
    )  # fmt: skip
    got = {(r["params"]["seed"], r["params"]["bn"]): r["value"] for r in res.records}
    return [got[(int(s), bn)] for s in seeds for bn in (False, True)]


def compute(quick: bool, seed: int) -> dict:
    """Train both networks for every seed; record accuracy and the percentile curves."""
    from bntheory.nets import ioffe2015 as I
    from bntheory.nets.data import DataUnavailable, load_mnist
    from bntheory.sweep import executor_from_spec

    try:
        data = load_mnist()  # fail fast, with the loader's one-line message
    except DataUnavailable as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    seeds = ledger_seeds(seed, N_SEEDS[quick])
    with executor_from_spec(C.RUN_CONTEXT["executor"]) as ex:
        runs_ = runs(seeds, quick, executor=ex)
    return {
        "setup": {
            "protocol": runs_[0]["protocol"],
            "quick": quick,
            "dataset": runs_[0]["dataset"],
            "data_source": data.source,
            "n_train": runs_[0]["n_train"],
            "n_test": runs_[0]["n_test"],
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
            "seeds_note": (
                "the ledger's seeds for this master seed (key ioffe-fig1-mnist): ics-02 and "
                "cs-08 (full mode) reuse these runs from the sweep store "
                "bntheory.nets.data.sweep_store('ioffe_fig1_mnist')"
            ),
        },
        "runs": runs_,
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
            f"{tag} {_LABEL[bn]}: last hidden layer, unit {s['unit']}"
            + (" (quick)" if s["quick"] else "")
            + "\n"
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

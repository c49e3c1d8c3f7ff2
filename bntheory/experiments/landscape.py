"""Santurkar-style landscape along the gradient during training, with and without BN.

Santurkar, Tsipras, Ilyas & Madry (2018), Sec. 3.1 and Fig. 4: at every probed training
step ``t`` (current mini-batch, current parameters ``w``, gradient ``g``), move along the
gradient to ``w - lr s g`` for every step multiplier ``s`` of the probe (``s`` = 0.5, 1.1, ...,
4.1: the probe point is ``s`` times the SGD step away from ``w``) and record

(a, d) *loss landscape*: the loss ``L(w - lr s g)`` at every ``s`` (drawn as the min-max band);
(b, e) *gradient predictiveness*: ``||grad L(w - lr s g) - grad L(w)||`` (min-max band);
(c, f) *effective beta-smoothness*: ``max_s ||grad L(w - lr s g) - grad L(w)|| / (lr s ||g||)``.

Network: a deep ReLU MLP (8 hidden layers of 64 units, softmax cross-entropy) on
scikit-learn's 8x8 digits, trained with SGD (batch 64) at two learning rates (one row each),
without BN and with BN before every hidden nonlinearity (same batch order). Training and
probes are the library's :func:`bntheory.nets.santurkar2018.santurkar_landscape` (one SGD loop,
:func:`bntheory.nets.loop.sgd`, with a landscape probe), which also keeps the per-``s`` values.
Cross-check: the first probe is recomputed here from scratch with the network's own loss and
gradient, and the first ``n_cross`` probes of a shorter run must equal those of the full run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # noqa: E402

from bntheory.experiments import _common as C  # noqa: E402
from bntheory.experiments import _nets_common as NC  # noqa: E402

NAME = "landscape"
_DEPTH, _WIDTH, _BATCH = 8, 64, 64


def _settings(quick: bool) -> dict:
    if quick:
        return {"lrs": [0.05, 0.2], "steps": 80, "every": 10, "n_cross": 2}
    return {"lrs": [0.05, 0.2], "steps": 800, "every": 8, "n_cross": 3}


def _s_grid() -> np.ndarray:
    """The step multipliers of :func:`santurkar_landscape` (its default grid)."""
    from bntheory.nets.santurkar2018 import S_GRID

    return np.asarray(S_GRID, dtype=float)


def _net(bn: bool, seed: int):
    from bntheory.nets import MLP

    sizes = [64] + [_WIDTH] * _DEPTH + [10]
    return MLP(sizes, "relu", bn=bn, loss="cross_entropy", rng=seed)


def _first_batch(n: int, batch: int, seed: int) -> np.ndarray:
    """Indices of the first mini-batch (the first ``batch`` entries of a permutation drawn
    from ``seed``, as the library's batch iterator draws them)."""
    return np.random.default_rng(seed).permutation(n)[:batch]


def _run(lib, lr: float, bn: bool) -> dict:
    """The figure's record of one landscape run."""
    Ls, dg = lib.loss_by_s, lib.grad_change_by_s
    tl = np.asarray(lib.train_loss)
    idx = C.thin_index(tl.size, 400)
    return {
        "status": str(lib.status),
        "steps": np.asarray(lib.steps),
        "loss_min": Ls.min(axis=1),
        "loss_max": Ls.max(axis=1),
        "loss_range": lib.loss_range,
        "grad_change_min": dg.min(axis=1),
        "grad_change_max": lib.grad_predictiveness,
        "beta_smoothness": lib.beta_smoothness,
        "train_step": idx,
        "train_loss": tl[idx],
        "final_train_loss_mean20": float(tl[-20:].mean()) if tl.size else None,
        "lr": lr,
        "bn": bn,
    }


def _first_probe_from_scratch(bn: bool, seed_init: int, X, Y, lr: float, s_grid, seed_order):
    """``L(w0 - lr s g0)`` and ``||grad L(w0 - lr s g0) - g0||`` at step 0, from the network's
    own loss and gradient (no training loop, no probe)."""
    net = _net(bn, seed_init)
    idx = _first_batch(X.shape[0], _BATCH, seed_order)
    Xb, Yb = X[idx], Y[idx]
    w0 = net.get_flat()
    _, g0 = net.loss_and_grad(Xb, Yb)
    losses, changes = [], []
    for s in s_grid:
        net.set_flat(w0 - lr * s * g0)
        L, g = net.loss_and_grad(Xb, Yb)
        losses.append(L)
        changes.append(float(np.linalg.norm(g - g0)))
    return np.asarray(losses), np.asarray(changes)


def _rel_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def compute(quick: bool, seed: int) -> dict:
    """Landscape probes for both networks at every learning rate, plus the cross-checks.

    Parameters
    ----------
    quick : bool
        Shortened run (80 steps instead of 800).
    seed : int
        Master seed (data split, weights, mini-batch order).

    Returns
    -------
    dict
        ``setup``, ``runs`` (one record per learning rate and network) and
        ``crosscheck_max_rel_diff``.
    """
    from bntheory.nets import load_digits_split
    from bntheory.nets.santurkar2018 import santurkar_landscape

    cfg = _settings(quick)
    s_grid = _s_grid()
    seed_data, seed_init, seed_order = NC.seeds(seed, 3)
    runs, cross = [], []
    with NC.single_thread():
        d = load_digits_split(rng=seed_data)
        X, Y = d.X_train, np.eye(10)[d.Y_train]
        for lr in cfg["lrs"]:
            for bn in (False, True):
                kw = dict(lr=lr, batch_size=_BATCH, s_grid=s_grid, every=cfg["every"])
                lib = santurkar_landscape(
                    _net(bn, seed_init), X, Y, steps=cfg["steps"], rng=seed_order, **kw
                )
                runs.append(_run(lib, lr, bn))
                # (1) the first probe, recomputed from scratch
                L0, dg0 = _first_probe_from_scratch(bn, seed_init, X, Y, lr, s_grid, seed_order)
                diffs = [_rel_diff(lib.loss_by_s[0], L0), _rel_diff(lib.grad_change_by_s[0], dg0)]
                # (2) the first probes of a shorter run equal those of the full run
                k = cfg["n_cross"]
                short = santurkar_landscape(
                    _net(bn, seed_init), X, Y, steps=(k - 1) * cfg["every"] + 1,
                    rng=seed_order, **kw,
                )  # fmt: skip
                for a, b in (
                    (lib.loss_range[:k], short.loss_range),
                    (lib.grad_predictiveness[:k], short.grad_predictiveness),
                    (lib.beta_smoothness[:k], short.beta_smoothness),
                ):
                    diffs.append(_rel_diff(a, b))
                cross.append(max(diffs))
    return {
        "setup": {
            "data": d.name,
            "sizes": [64] + [_WIDTH] * _DEPTH + [10],
            "activation": "relu",
            "loss": "cross_entropy",
            "batch_size": _BATCH,
            **cfg,
            "s_grid": s_grid,
        },
        "runs": runs,
        "crosscheck_max_rel_diff": max(cross),
    }


def _label(bn: bool) -> str:
    return "with BN" if bn else "standard (no BN)"


def plot(data: dict, out: Path) -> None:
    """Rows: learning rates; columns: loss band, gradient-change band, beta-smoothness.

    Parameters
    ----------
    data : dict
        The stored data (:func:`compute`, with ``meta``).
    out : Path
        Output folder of the figure.

    Returns
    -------
    None
    """
    lrs = data["setup"]["lrs"]
    quick = bool(data.get("meta", {}).get("quick", False))
    fig, axes = C.figure(len(lrs), 3, width=11.0, height=3.1 * len(lrs), squeeze=False)
    for row, lr in enumerate(lrs):
        ax_l, ax_g, ax_b = axes[row]
        for rec in data["runs"]:
            if rec["lr"] != lr:
                continue
            col = "C1" if rec["bn"] else "C0"
            lab = _label(rec["bn"]) + ("" if rec["status"] == "completed" else " (diverged)")
            t = np.asarray(rec["steps"], dtype=float)
            lo, hi = C.log_floor(C.arr(rec["loss_min"])), C.log_floor(C.arr(rec["loss_max"]))
            NC.band(ax_l, t, lo, hi, label=lab, color=col)
            NC.band(
                ax_g,
                t,
                C.log_floor(C.arr(rec["grad_change_min"])),
                C.log_floor(C.arr(rec["grad_change_max"])),
                label=lab,
                color=col,
            )
            beta = C.log_floor(C.arr(rec["beta_smoothness"]))
            ax_b.plot(t, beta, color=col, lw=0.6, alpha=0.45)
            C.plot_measured(
                ax_b, t, _running_median(beta, 9), f"{lab}, running median (9 probes)",
                color=col, lw=1.6,
            )  # fmt: skip
        pa, pb, pc = "abcdef"[3 * row : 3 * row + 3]
        ax_l.set_title(f"({pa}) loss landscape, lr = {lr:g}")
        ax_g.set_title(f"({pb}) gradient predictiveness, lr = {lr:g}")
        ax_b.set_title(f"({pc}) effective $\\beta$-smoothness, lr = {lr:g}")
        ax_l.set_ylabel("$L(w - \\eta s\\, g)$, min-max over $s$")
        ax_g.set_ylabel("$\\|\\nabla L(w - \\eta s\\, g) - \\nabla L(w)\\|$, min-max")
        ax_b.set_ylabel("$\\max_s \\|\\Delta \\nabla L\\| / \\|\\Delta w\\|$")
        for ax in (ax_l, ax_g, ax_b):
            ax.set_yscale("log")
            ax.set_xlabel("training step")
        ax_l.legend(
            loc="lower left",
            title="shaded: min-max over the step multiplier s" + (" (quick run)" if quick else ""),
            title_fontsize=7,
        )
        ax_b.legend(loc="lower left", fontsize=7)
    s = data["setup"]
    fig.suptitle(
        ("QUICK RUN (shortened, not the full figure): " if quick else "")
        + f"Santurkar et al. (2018) Fig. 4 analogue: {s['data']}, ReLU MLP "
        f"{len(s['sizes']) - 2}x{s['sizes'][1]}, SGD batch {s['batch_size']}, "
        f"{s['steps']} steps; probes at $w - \\eta s\\, g$ with step multiplier "
        f"s = {min(s['s_grid']):.1f}..{max(s['s_grid']):.1f} (s = 1: the SGD step itself)",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)


def _running_median(y: np.ndarray, k: int) -> np.ndarray:
    """Centred running median over ``k`` points (NaN-aware; shorter windows at the ends)."""
    y = np.asarray(y, dtype=float)
    h = k // 2
    out = np.full(y.shape, np.nan)
    for i in range(y.size):
        w = y[max(0, i - h) : i + h + 1]
        w = w[np.isfinite(w)]
        if w.size:
            out[i] = np.median(w)
    return out


def _median(values) -> float:
    v = C.arr(values)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def CHECK(data: dict) -> tuple[bool, str]:
    """The first probe recomputed from scratch and the first probes of a shorter run agree
    with the run (rel. 1e-8); every run has probes; bands are ordered (min <= max); no
    missing probe in a completed run.

    Parameters
    ----------
    data : dict
        The stored data.

    Returns
    -------
    tuple of (bool, str)
        Whether the check passes, and a one-line summary.
    """
    ok = data["crosscheck_max_rel_diff"] <= 1e-8
    msgs = [f"cross-checks max rel diff {data['crosscheck_max_rel_diff']:.1e}"]
    for lr in data["setup"]["lrs"]:
        pair = {r["bn"]: r for r in data["runs"] if r["lr"] == lr}
        meds = {}
        for bn, r in pair.items():
            lo, hi = C.arr(r["loss_min"]), C.arr(r["loss_max"])
            glo, ghi = C.arr(r["grad_change_min"]), C.arr(r["grad_change_max"])
            ok = ok and len(r["steps"]) >= 2
            ok = ok and bool(
                np.all((lo <= hi) | np.isnan(hi)) and np.all((glo <= ghi) | np.isnan(ghi))
            )
            if r["status"] == "completed":
                ok = ok and bool(np.all(np.isfinite(C.arr(r["beta_smoothness"]))))
            meds[bn] = [_median(r[k]) for k in ("loss_range", "grad_change_max", "beta_smoothness")]
        ratios = [a / b for a, b in zip(meds[False], meds[True], strict=True)]
        msgs.append(
            f"lr={lr:g}: median no-BN/BN ratio of loss range {ratios[0]:.2g}, "
            f"gradient change {ratios[1]:.2g}, beta {ratios[2]:.2g}"
        )
    return ok, "; ".join(msgs)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (:func:`bntheory.experiments._common.run`).

    Parameters
    ----------
    argv : list of str, optional
        Command line.

    Returns
    -------
    int
        Exit status.
    """
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

"""Santurkar-style landscape along the gradient during training, with and without BN.

Santurkar, Tsipras, Ilyas & Madry (2018), Sec. 3.1 and Fig. 4 (THEORY.md Sec. 4): at every
probed training step ``t`` (current mini-batch, current parameters ``w``, gradient ``g``),
move along the gradient to ``w - lr s g`` for the step multipliers ``s`` of
:func:`bntheory.nets.measurements.santurkar_landscape` and record

(a) *loss landscape*: the loss ``L(w - lr s g)`` at every ``s`` (drawn as the min-max band);
(b) *gradient predictiveness*: ``||grad L(w - lr s g) - grad L(w)||`` (min-max band);
(c) *effective beta-smoothness*: ``max_s ||grad L(w - lr s g) - grad L(w)|| / (lr s ||g||)``.

Network: a deep ReLU MLP (8 hidden layers of 64 units, softmax cross-entropy) on
scikit-learn's 8x8 digits, trained with SGD (batch 64) at two learning rates, without BN and
with BN before every hidden nonlinearity (same batch order). The per-``s`` values come from
this script's own loop (the library function keeps only the reductions); its reductions are
cross-checked against :func:`~bntheory.nets.measurements.santurkar_landscape` on the first
probed steps.
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
    from bntheory.nets.measurements import santurkar_landscape

    return np.asarray(santurkar_landscape.__kwdefaults__["s_grid"], dtype=float)


def _net(bn: bool, seed: int):
    from bntheory.nets import MLP

    sizes = [64] + [_WIDTH] * _DEPTH + [10]
    return MLP(sizes, "relu", bn=bn, loss="cross_entropy", rng=seed)


def _batch_order(n: int, batch: int, seed: int, steps: int) -> list[np.ndarray]:
    """Mini-batch indices in the order :func:`santurkar_landscape` draws them (reshuffle
    when the epoch runs out), so the cross-check sees the same batches."""
    from bntheory.gradcheck import as_generator

    gen = as_generator(seed)
    order, pos, out = gen.permutation(n), 0, []
    for _ in range(steps):
        if pos + batch > n:
            order, pos = gen.permutation(n), 0
        out.append(order[pos : pos + batch])
        pos += batch
    return out


def _probe_run(net, X, Y, lr: float, steps: int, every: int, seed: int, s_grid) -> dict:
    """Train with SGD and probe the landscape along the gradient (Santurkar et al. 2018,
    Fig. 4), keeping the value at every multiplier ``s``."""
    from bntheory.nets.train import safe_loss_and_grad

    def lg(theta, Xb, Yb):
        net.set_flat(theta)
        res = safe_loss_and_grad(net, Xb, Yb)
        return (np.inf, None) if res is None else res

    theta = net.get_flat()
    rec_t, losses_s, dg_s, beta_s, train_loss = [], [], [], [], []
    status = "completed"
    for t, idx in enumerate(_batch_order(X.shape[0], _BATCH, seed, steps)):
        Xb, Yb = X[idx], Y[idx]
        L, g = lg(theta, Xb, Yb)
        if g is None:
            status = "diverged"
            break
        train_loss.append(L)
        if t % every == 0:
            gn = float(np.linalg.norm(g))
            row_L, row_dg, row_b = [], [], []
            for s in s_grid:
                with np.errstate(all="ignore"):
                    Ls, gs = lg(theta - lr * s * g, Xb, Yb)
                row_L.append(Ls)
                d = np.inf if gs is None else float(np.linalg.norm(gs - g))
                row_dg.append(d)
                row_b.append(d / (lr * s * gn) if gn > 0 else 0.0)
            rec_t.append(t)
            losses_s.append(row_L)
            dg_s.append(row_dg)
            beta_s.append(row_b)
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = "diverged"
            break
    Ls_a = np.asarray(losses_s, dtype=float).reshape(-1, len(s_grid))
    dg_a = np.asarray(dg_s, dtype=float).reshape(-1, len(s_grid))
    b_a = np.asarray(beta_s, dtype=float).reshape(-1, len(s_grid))
    fin = np.all(np.isfinite(Ls_a), axis=1)
    with np.errstate(invalid="ignore"):
        loss_range = np.where(fin, Ls_a.max(axis=1) - Ls_a.min(axis=1), np.inf)
    tl = np.asarray(train_loss)
    idx = C.thin_index(tl.size, 400)
    return {
        "status": status,
        "steps": np.asarray(rec_t),
        "loss_min": Ls_a.min(axis=1),
        "loss_max": Ls_a.max(axis=1),
        "loss_range": loss_range,
        "grad_change_min": dg_a.min(axis=1),
        "grad_change_max": dg_a.max(axis=1),
        "beta_smoothness": b_a.max(axis=1),
        "train_step": idx,
        "train_loss": tl[idx],
        "final_train_loss_mean20": float(tl[-20:].mean()) if tl.size else None,
    }


def compute(quick: bool, seed: int) -> dict:
    """Landscape probes for both networks at every learning rate, plus the cross-check."""
    from bntheory.nets import load_digits_split
    from bntheory.nets.measurements import santurkar_landscape

    cfg = _settings(quick)
    s_grid = _s_grid()
    seed_data, seed_init, seed_order = NC.seeds(seed, 3)
    runs, cross = [], []
    with NC.single_thread():
        d = load_digits_split(rng=seed_data)
        X, Y = d.X_train, np.eye(10)[d.Y_train]
        for lr in cfg["lrs"]:
            for bn in (False, True):
                net = _net(bn, seed_init)
                rec = _probe_run(net, X, Y, lr, cfg["steps"], cfg["every"], seed_order, s_grid)
                rec.update(lr=lr, bn=bn)
                runs.append(rec)
                # Cross-check: the library's reductions on the first probed steps.
                k = cfg["n_cross"]
                lib = santurkar_landscape(
                    _net(bn, seed_init), X, Y, lr=lr, steps=(k - 1) * cfg["every"] + 1,
                    batch_size=_BATCH, s_grid=s_grid, every=cfg["every"], rng=seed_order,
                )  # fmt: skip
                mine = (
                    rec["loss_range"][:k],
                    rec["grad_change_max"][:k],
                    rec["beta_smoothness"][:k],
                )
                theirs = (lib.loss_range, lib.grad_predictiveness, lib.beta_smoothness)
                diffs = [
                    float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
                    for a, b in zip(mine, theirs, strict=True)
                ]
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
    """Rows: learning rates; columns: loss band, gradient-change band, beta-smoothness."""
    lrs = data["setup"]["lrs"]
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
        ax_l.set_title(f"(a) loss landscape, lr = {lr:g}")
        ax_g.set_title(f"(b) gradient predictiveness, lr = {lr:g}")
        ax_b.set_title(f"(c) effective $\\beta$-smoothness, lr = {lr:g}")
        ax_l.set_ylabel("$L(w - \\eta s\\, g)$, min-max over $s$")
        ax_g.set_ylabel("$\\|\\nabla L(w - \\eta s\\, g) - \\nabla L(w)\\|$, min-max")
        ax_b.set_ylabel("$\\max_s \\|\\Delta \\nabla L\\| / \\|\\Delta w\\|$")
        for ax in (ax_l, ax_g, ax_b):
            ax.set_yscale("log")
            ax.set_xlabel("training step")
        ax_l.legend(loc="lower left", title="shaded: min-max over s", title_fontsize=7)
        ax_b.legend(loc="lower left", fontsize=7)
    s = data["setup"]
    fig.suptitle(
        f"Santurkar et al. (2018) Fig. 4 analogue: {s['data']}, ReLU MLP "
        f"{len(s['sizes']) - 2}x{s['sizes'][1]}, SGD batch {s['batch_size']}, "
        f"s in [{min(s['s_grid']):.1f}, {max(s['s_grid']):.1f}]",
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
    """Own loop agrees with the library's santurkar_landscape (rel. 1e-8); every run has
    probes; bands are ordered (min <= max); no missing probe in a completed run."""
    ok = data["crosscheck_max_rel_diff"] <= 1e-8
    msgs = [f"loop vs santurkar_landscape max rel diff {data['crosscheck_max_rel_diff']:.1e}"]
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
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

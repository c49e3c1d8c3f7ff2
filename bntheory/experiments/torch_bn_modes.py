"""Train-mode vs eval-mode Hessian of a small residual PyTorch BN network on the digits data, before and after brief training.

General Hessian tools evaluate BN networks in eval mode (running statistics); the objective
BN training minimises uses batch statistics (Ioffe & Szegedy 2015, Alg. 1). This experiment
measures both with :class:`bntheory.torch.TorchObjective` on the same model and batch:
SLQ spectral densities of the whole Hessian (Ubaru, Chen & Saad 2017), the top eigenvalues
(ARPACK on exact Hessian-vector products) and the largest eigenvalue of each layer's block.

Network (PyTorch, float64 for the measurements): ``Linear(64, w) - BN - ReLU``, one residual
block ``h + Linear - BN - ReLU - Linear - BN``, ReLU, ``Linear(w, 10)``; pre-BN Linear layers
without bias; softmax cross-entropy; plain SGD with mini-batches of 64 (BN running
statistics updated as in any training loop). Data: scikit-learn's 8x8 digits
(:func:`bntheory.nets.data.load_digits_split`). The Hessians are of the loss on a fixed batch
of training examples, before training (running statistics at their initial 0 / 1) and after.
Torch or scikit-learn missing: the script exits with the one-line reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bntheory.experiments import _common as C
from bntheory.experiments import _nets_common as NC

NAME = "torch_bn_modes"
MODES = ("train", "eval")
PHASES = ("before", "after")


def _settings(quick: bool) -> dict:
    if quick:
        return {"width": 16, "steps": 60, "lr": 0.1, "batch": 64, "measure_batch": 128,
                "top_k": 2, "slq_runs": 2, "slq_steps": 20}  # fmt: skip
    return {"width": 32, "steps": 600, "lr": 0.1, "batch": 64, "measure_batch": 256,
            "top_k": 5, "slq_runs": 6, "slq_steps": 60}  # fmt: skip


def _model(torch, d_in: int, width: int, n_classes: int):
    nn = torch.nn

    class ResBNMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(d_in, width, bias=False)
            self.bn0 = nn.BatchNorm1d(width)
            self.block = nn.Sequential(
                nn.Linear(width, width, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Linear(width, width, bias=False),
                nn.BatchNorm1d(width),
            )
            self.head = nn.Linear(width, n_classes)

        def forward(self, x):
            h = torch.relu(self.bn0(self.inp(x)))
            h = torch.relu(h + self.block(h))
            return self.head(h)

    return ResBNMLP()


def _curvature(model, loss_fn, batch, mode: str, s: dict, seed: int) -> dict:
    """Loss, gradient, top eigenvalues, per-layer lambda_max and SLQ density in one mode."""
    from bntheory.measures import hessian_operator, slq_density, top_eigenvalues
    from bntheory.torch import TorchObjective, layer_groups

    obj = TorchObjective(model, loss_fn, batch, bn=mode)
    L, g = obj.loss_and_grad(obj.x0)
    op = hessian_operator(obj, obj.x0)
    top = top_eigenvalues(op, s["top_k"], rng=seed, tol=1e-8, method="eigsh")
    bottom = top_eigenvalues(op, 1, which="SA", rng=seed, tol=1e-8, method="eigsh")
    layers = {}
    for name, names in layer_groups(obj):
        sub = TorchObjective(model, loss_fn, batch, bn=mode, params=names)
        sop = hessian_operator(sub, sub.x0)
        lam = top_eigenvalues(sop, 1, rng=seed, tol=1e-8, method="eigsh")
        layers[name] = {"dim": sub.dim, "lambda_max": float(lam[0])}
    dens = slq_density(op, n_runs=s["slq_runs"], n_steps=s["slq_steps"], rng=seed)
    return {
        "loss": L,
        "grad": g,
        "top": top,
        "lambda_min": float(bottom[0]),
        "layers": layers,
        "slq": {"nodes": dens.nodes, "weights": dens.weights},
        "dim": obj.dim,
    }


def _accuracy(torch, model, X, y) -> float:
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = float((model(X).argmax(1) == y).double().mean())
    model.train(was)
    return acc


def compute(quick: bool, seed: int) -> dict:
    """Train briefly; measure both BN modes before and after."""
    try:
        from bntheory.torch import require_torch

        torch = require_torch()
    except ImportError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    from bntheory.nets.data import DataUnavailable, load_digits_split

    try:
        d = load_digits_split(rng=seed)
    except DataUnavailable as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    s = _settings(quick)
    F = torch.nn.functional
    with NC.single_thread():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch.manual_seed(seed)
            model = _model(torch, d.X_train.shape[1], s["width"], d.n_classes).double()
            Xtr, ytr = torch.as_tensor(d.X_train), torch.as_tensor(d.Y_train)
            Xte, yte = torch.as_tensor(d.X_test), torch.as_tensor(d.Y_test)
            gen = np.random.default_rng(seed)
            mb = torch.as_tensor(gen.choice(len(ytr), s["measure_batch"], replace=False))
            batch = (Xtr[mb], ytr[mb])
            res: dict = {p: {} for p in PHASES}
            acc: dict = {}
            for m in MODES:
                res["before"][m] = _curvature(model, F.cross_entropy, batch, m, s, seed)
            acc["before"] = _accuracy(torch, model, Xte, yte)
            opt = torch.optim.SGD(model.parameters(), lr=s["lr"])
            model.train()
            losses = []
            order = gen.permutation(len(ytr))
            pos = 0
            for _ in range(s["steps"]):
                if pos + s["batch"] > len(ytr):
                    order, pos = gen.permutation(len(ytr)), 0
                idx = torch.as_tensor(order[pos : pos + s["batch"]])
                pos += s["batch"]
                loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            acc["after"] = _accuracy(torch, model, Xte, yte)
            for m in MODES:
                res["after"][m] = _curvature(model, F.cross_entropy, batch, m, s, seed)
        finally:
            torch.set_num_threads(threads)
    out: dict = {p: {} for p in PHASES}
    for p in PHASES:
        gt, ge = res[p]["train"]["grad"], res[p]["eval"]["grad"]
        for m in MODES:
            r = dict(res[p][m])
            r["grad_norm"] = float(np.linalg.norm(r.pop("grad")))
            out[p][m] = r
        out[p]["grad_cosine"] = float(gt @ ge / (np.linalg.norm(gt) * np.linalg.norm(ge)))
    k = C.thin_index(len(losses), 300)
    return {
        "setup": {
            **s,
            "dataset": d.name,
            "n_train": len(ytr),
            "n_test": len(yte),
            "dim": out["before"]["train"]["dim"],
            "torch": torch.__version__,
            "loss": "softmax cross-entropy",
            "optimizer": "plain SGD",
        },  # fmt: skip
        "accuracy": acc,
        "train_loss_k": k,
        "train_loss": np.asarray(losses)[k],
        "results": out,
    }


_STYLE = {"train": ("C0", "-", "train mode (batch statistics)"),
          "eval": ("C3", "--", "eval mode (running statistics)")}  # fmt: skip


def _smoothed(slqs: list[dict], n: int = 800) -> tuple[np.ndarray, list[np.ndarray]]:
    """SLQ measures (nodes, weights) smoothed with ONE Gaussian width for all of them
    (1.5 % of the joint node range), on a common grid: comparable curves."""
    nodes = [C.arr(np.ravel(q["nodes"])) for q in slqs]
    lo = min(float(np.nanmin(x)) for x in nodes)
    hi = max(float(np.nanmax(x)) for x in nodes)
    sig = 0.015 * max(hi - lo, 1e-12)
    grid = np.linspace(lo - 5 * sig, hi + 5 * sig, n)
    out = []
    for q in slqs:
        x = C.arr(np.ravel(q["nodes"]))
        w = C.arr(np.ravel(q["weights"])) / len(q["nodes"])
        k = np.exp(-0.5 * ((grid[:, None] - x[None, :]) / sig) ** 2) / (sig * np.sqrt(2 * np.pi))
        out.append(k @ w)
    return grid, out


def plot(data: dict, out: Path) -> None:
    """(a, b) SLQ densities before / after; (c) per-layer and whole lambda_max."""
    s, R = data["setup"], data["results"]
    fig, axes = C.figure(1, 3, width=12.5, height=3.9)
    for ax, p in zip(axes[:2], PHASES, strict=True):
        grid, dens = _smoothed([R[p][m]["slq"] for m in MODES])
        for m, d in zip(MODES, dens, strict=True):
            col, ls, lab = _STYLE[m]
            ax.plot(grid, C.log_floor(d, 1e-6), color=col, ls=ls, lw=1.3,
                    label=f"{lab}; $\\lambda_{{max}}$ = {R[p][m]['top'][0]:.3g}")  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("Hessian eigenvalue")
        ax.set_ylabel("SLQ density (common Gaussian width)")
        acc = data["accuracy"][p]
        ax.set_title(f"({'ab'[PHASES.index(p)]}) {p} training (test acc. {acc:.2f}); "
                     f"grad cosine train-eval {R[p]['grad_cosine']:.2f}", fontsize=9)  # fmt: skip
        ax.legend(fontsize=7, loc="upper right")
    ax = axes[2]
    names = ["all", *R["before"]["train"]["layers"]]
    x = np.arange(len(names))
    wbar = 0.2
    for j, (p, m) in enumerate((a, b) for a in PHASES for b in MODES):
        col, _, _ = _STYLE[m]
        vals = [R[p][m]["top"][0]] + [R[p][m]["layers"][n]["lambda_max"] for n in names[1:]]
        ax.bar(x + (j - 1.5) * wbar, vals, wbar, color=col, alpha=0.45 if p == "before" else 0.95,
               hatch="//" if p == "before" else None, label=f"{m}, {p}")  # fmt: skip
    ax.set_xticks(x, [n if n == "all" else f"{n}\n({R['before']['train']['layers'][n]['dim']})"
                      for n in names], fontsize=7)  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylabel(r"$\lambda_{max}$ of the Hessian block")
    ax.set_title(f"(c) whole Hessian and per-layer blocks (dim {s['dim']})", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    if data.get("meta", {}).get("quick"):
        fig.suptitle("quick run (small network, few steps)", fontsize=8)
    C.save_figure(fig, NAME, out)


def CHECK(data: dict) -> tuple[bool, str]:
    """Cauchy interlacing: every layer block's lambda_max <= the whole Hessian's, and every
    SLQ Ritz value <= lambda_max (rel. 1e-6); SLQ weights sum to 1 per run; training raised
    the test accuracy."""
    R = data["results"]
    ok = True
    ratios = {}
    for p in PHASES:
        for m in MODES:
            r = R[p][m]
            lmax = r["top"][0]
            tol = 1e-6 * max(abs(lmax), abs(r["lambda_min"]))
            ok &= all(v["lambda_max"] <= lmax + tol for v in r["layers"].values())
            ok &= bool(np.all(np.asarray(r["top"][:-1]) >= np.asarray(r["top"][1:]) - tol))
            nodes, w = np.asarray(r["slq"]["nodes"]), np.asarray(r["slq"]["weights"])
            ok &= bool(np.all(nodes <= lmax + tol) and np.all(nodes >= r["lambda_min"] - tol))
            ok &= bool(np.allclose(w.sum(axis=1), 1.0, atol=1e-8))
        ratios[p] = R[p]["eval"]["top"][0] / R[p]["train"]["top"][0]
    acc = data["accuracy"]
    ok &= acc["after"] > acc["before"]
    msg = (
        f"interlacing and SLQ consistency ok={ok}; test accuracy {acc['before']:.2f} -> "
        f"{acc['after']:.2f}; lambda_max eval/train {ratios['before']:.3g} before, "
        f"{ratios['after']:.3g} after training; gradient cosine train vs eval "
        f"{R['before']['grad_cosine']:.3f} before, {R['after']['grad_cosine']:.3f} after"
    )
    return bool(ok), msg


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

"""Measurements of the deep-network claims on :class:`bntheory.nets.MLP`.

Each function returns a frozen record and names its source. All losses and gradients are
of the train-mode objective (batch statistics). Sources:

* Santurkar, Tsipras, Ilyas & Madry (2018), NeurIPS: landscape along the gradient
  (Fig. 4), internal covariate shift (Def. 2.1, Fig. 3), Theorems 4.1 and 4.2.
* Bjorck, Gomes, Selman & Weinberger (2018), NeurIPS: largest trainable learning rate,
  relative loss change after one step at initialization.
* Arora, Li & Lyu (2019), ICLR: scale invariance, Lemma 2.4, effective learning rate.
* Karakida, Akaho & Amari (2019), NeurIPS: largest and mean eigenvalue of the Fisher
  information (Gauss-Newton) of wide random networks, with/without BN in the last layer.
* Ioffe & Szegedy (2015), Sec. 4.1 / Fig. 1: sigmoid-input percentiles, test accuracy.
* Gradient flow through depth (the reference article's 90-layer claim).
* The reference article's own readings, measured: the moment-based shift it attributes to
  Santurkar et al., Hessian isotropy (attributed to Bjorck et al.), class separation of
  hidden representations (Fisher 1936 criterion), sigmoid saturation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory.gradcheck import as_generator
from bntheory.nets.data import gaussian_mixture, load_digits_split
from bntheory.nets.mlp import MLP
from bntheory.nets.train import safe_loss_and_grad, train

__all__ = [
    "ActivationShift",
    "AroraResult",
    "FisherResult",
    "GradientFlowResult",
    "HessianIsotropy",
    "ICSResult",
    "IoffeFigure1",
    "LRSweepResult",
    "LandscapeResult",
    "MomentShiftResult",
    "RelativeLossChange",
    "TheoremCheck",
    "activation_shift",
    "arora_scale_invariance",
    "bjorck_lr_sweep",
    "fisher_spectrum",
    "gradient_flow",
    "hessian_isotropy",
    "histogram_kl",
    "internal_covariate_shift",
    "ioffe_figure1",
    "layer_input_moment_shift",
    "relative_loss_change",
    "santurkar_landscape",
    "santurkar_theorem41",
    "santurkar_theorem42",
    "separation_index",
]

Array = np.ndarray


def _check_net(net) -> MLP:
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP, got {type(net).__name__}")
    return net


def _check_lr(lr, name: str = "lr") -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not lr > 0:
        raise ValueError(f"{name} must be a positive number, got {lr!r}")
    if not np.isfinite(lr):
        raise ValueError(f"{name} must be finite, got {lr!r}")
    return float(lr)


def _check_steps(steps, name: str = "steps", minimum: int = 1) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {steps!r}")
    return int(steps)


class _Batches:
    """Reshuffled mini-batch iterator (full batch when ``batch_size`` is None)."""

    def __init__(self, n: int, batch_size: int | None, gen: np.random.Generator) -> None:
        if batch_size is not None and not (2 <= batch_size <= n):
            raise ValueError(f"batch_size must lie in [2, {n}], got {batch_size}")
        self.n, self.bs, self.gen = n, batch_size, gen
        self.order, self.pos = gen.permutation(n), 0

    def next(self) -> Array:
        if self.bs is None:
            return np.arange(self.n)
        if self.pos + self.bs > self.n:
            self.order, self.pos = self.gen.permutation(self.n), 0
        idx = self.order[self.pos : self.pos + self.bs]
        self.pos += self.bs
        return idx


def _loss_grad(net: MLP, theta: Array, X: Array, Y: Array) -> tuple[float, Array | None]:
    net.set_flat(theta)
    res = safe_loss_and_grad(net, X, Y)
    if res is None:
        return float("inf"), None
    return res


# ============================================================================ Santurkar
@dataclass(frozen=True, slots=True)
class LandscapeResult:
    """Landscape along the gradient at each training step (Santurkar et al. 2018, Fig. 4).

    Attributes
    ----------
    status : {"completed", "diverged"}
    steps : ndarray
        Training steps at which the landscape was probed.
    s_grid : ndarray
        Step multipliers ``s``: probes at ``w - lr * s * grad``.
    loss_range : ndarray
        ``max_s L - min_s L`` over the probes (``inf`` if a probe overflowed).
    grad_predictiveness : ndarray
        ``max_s ||grad L(w - lr s g) - grad L(w)||`` (``inf`` if a probe overflowed).
    beta_smoothness : ndarray
        ``max_s ||grad L(w - lr s g) - grad L(w)|| / (lr s ||g||)`` ("effective
        beta-smoothness").
    train_loss : ndarray
        Mini-batch loss at every step.
    """

    status: str
    steps: Array = field(repr=False)
    s_grid: Array = field(repr=False)
    loss_range: Array = field(repr=False)
    grad_predictiveness: Array = field(repr=False)
    beta_smoothness: Array = field(repr=False)
    train_loss: Array = field(repr=False)


def santurkar_landscape(
    net: MLP,
    X,
    Y,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    s_grid: Sequence[float] = tuple(np.arange(0.5, 4.11, 0.6)),
    every: int = 1,
    rng: int | np.random.Generator | None = None,
) -> LandscapeResult:
    """Train with (S)GD and, every ``every`` steps, probe the loss and gradient along the
    current gradient direction on the current mini-batch (Santurkar et al. 2018, Sec. 3.1,
    Fig. 4). The exact grid of the paper is not available (THEORY.md Sec. 4); the default
    ``s = 0.5, 1.1, ..., 3.5`` follows the spacing of a public JAX replication.
    """
    net = _check_net(net)
    lr = _check_lr(lr)
    steps = _check_steps(steps)
    every = _check_steps(every, "every")
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    s_grid = np.asarray(s_grid, dtype=float)
    if s_grid.ndim != 1 or s_grid.size < 1 or np.any(s_grid <= 0):
        raise ValueError("s_grid must be a non-empty 1-D array of positive multipliers")
    batches = _Batches(X.shape[0], batch_size, as_generator(rng))
    rec_steps, lrange, gpred, beta, losses = [], [], [], [], []
    status = "completed"
    theta = net.get_flat()
    for t in range(steps):
        idx = batches.next()
        Xb, Yb = X[idx], Y[idx]
        L, g = _loss_grad(net, theta, Xb, Yb)
        if g is None:
            status = "diverged"
            break
        losses.append(L)
        if t % every == 0:
            with np.errstate(all="ignore"):
                gn = float(np.linalg.norm(g))
            Ls, dg, bs = [], [], []
            for s in s_grid:
                with np.errstate(all="ignore"):
                    Ls_, gs = _loss_grad(net, theta - lr * s * g, Xb, Yb)
                Ls.append(Ls_)
                if gs is None:
                    dg.append(np.inf)
                    bs.append(np.inf)
                else:
                    with np.errstate(all="ignore"):  # huge but finite gradients -> inf
                        d = float(np.linalg.norm(gs - g))
                        dg.append(d)
                        bs.append(d / (lr * s * gn) if gn > 0 else 0.0)
            rec_steps.append(t)
            lrange.append(max(Ls) - min(Ls) if np.all(np.isfinite(Ls)) else np.inf)
            gpred.append(max(dg))
            beta.append(max(bs))
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = "diverged"
            break
    net.set_flat(theta if np.all(np.isfinite(theta)) else net.get_flat())
    return LandscapeResult(
        status,
        np.asarray(rec_steps),
        s_grid,
        np.asarray(lrange, dtype=float),
        np.asarray(gpred, dtype=float),
        np.asarray(beta, dtype=float),
        np.asarray(losses, dtype=float),
    )


@dataclass(frozen=True, slots=True)
class ICSResult:
    """Internal covariate shift (Santurkar et al. 2018, Def. 2.1; Fig. 3).

    Attributes
    ----------
    steps : ndarray
    l2 : ndarray (n_records, n_layers)
        ``||G_{t,i} - G'_{t,i}||``: change of layer ``i``'s gradient when layers ``< i`` take
        their step first (same mini-batch). Layer 0 has no earlier layer (0 by definition).
    cosine : ndarray (n_records, n_layers)
        Cosine between ``G`` and ``G'`` (1 for layer 0).
    relative : ndarray
        ``l2 / ||G||``.
    status : str
    """

    steps: Array = field(repr=False)
    l2: Array = field(repr=False)
    cosine: Array = field(repr=False)
    relative: Array = field(repr=False)
    status: str


def internal_covariate_shift(
    net: MLP,
    X,
    Y,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    every: int = 1,
    rng: int | np.random.Generator | None = None,
) -> ICSResult:
    """ICS by Santurkar et al. (2018), Definition 2.1, measured while training with (S)GD.

    ``G_{t,i} = grad_{W_i} L(W_1^t, ..., W_k^t)`` and ``G'_{t,i} = grad_{W_i}
    L(W_1^{t+1}, ..., W_{i-1}^{t+1}, W_i^t, ..., W_k^t)`` on the same batch; ``W_i`` is all
    parameters of dense layer ``i`` (weights, bias, BN scale and shift).
    """
    net = _check_net(net)
    lr = _check_lr(lr)
    steps = _check_steps(steps)
    every = _check_steps(every, "every")
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    batches = _Batches(X.shape[0], batch_size, as_generator(rng))
    nl = net.n_layers
    theta = net.get_flat()
    rec, l2s, coss, rels = [], [], [], []
    status = "completed"
    for t in range(steps):
        idx = batches.next()
        Xb, Yb = X[idx], Y[idx]
        _, g = _loss_grad(net, theta, Xb, Yb)
        if g is None:
            status = "diverged"
            break
        if t % every == 0:
            l2, cs, rl = np.zeros(nl), np.ones(nl), np.zeros(nl)
            for i in range(1, nl):
                sl = net.layer_slices[i]
                th2 = theta.copy()
                th2[: sl.start] -= lr * g[: sl.start]  # earlier layers updated
                _, g2 = _loss_grad(net, th2, Xb, Yb)
                if g2 is None:
                    l2[i], cs[i], rl[i] = np.inf, 0.0, np.inf
                    continue
                G, G2 = g[sl], g2[sl]
                with np.errstate(all="ignore"):  # a diverging plain net: inf, not a warning
                    nG, nG2 = np.linalg.norm(G), np.linalg.norm(G2)
                    l2[i] = np.linalg.norm(G - G2)
                    cs[i] = float(G @ G2 / (nG * nG2)) if nG > 0 and nG2 > 0 else 1.0
                    rl[i] = l2[i] / nG if nG > 0 else 0.0
                if not np.isfinite(cs[i]):
                    cs[i] = 0.0  # the cosine of overflowing vectors is undefined
            rec.append(t)
            l2s.append(l2)
            coss.append(cs)
            rels.append(rl)
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = "diverged"
            break
    if np.all(np.isfinite(theta)):
        net.set_flat(theta)
    shape = (-1, nl)
    return ICSResult(
        np.asarray(rec),
        np.asarray(l2s).reshape(shape),
        np.asarray(coss).reshape(shape),
        np.asarray(rels).reshape(shape),
        status,
    )


@dataclass(frozen=True, slots=True)
class TheoremCheck:
    """An inequality ``lhs <= rhs`` checked numerically, per BN feature.

    Attributes
    ----------
    lhs, rhs : ndarray
        Per feature.
    rel_gap : ndarray
        ``(rhs - lhs) / max(|rhs|, |lhs|)``: 0 means equality, negative means violated.
    holds : bool
        ``lhs <= rhs`` up to ``1e-10`` relative, for every feature.
    max_abs_rel_gap : float
    source : str
    """

    lhs: Array = field(repr=False)
    rhs: Array = field(repr=False)
    rel_gap: Array = field(repr=False)
    holds: bool
    max_abs_rel_gap: float
    source: str


def _theorem_check(lhs: Array, rhs: Array, source: str) -> TheoremCheck:
    lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
    scale = np.maximum(np.maximum(np.abs(lhs), np.abs(rhs)), 1e-300)
    gap = (rhs - lhs) / scale
    return TheoremCheck(
        lhs, rhs, gap, bool(np.all(gap >= -1e-10)), float(np.max(np.abs(gap))), source
    )


def _bn_layer(net: MLP, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise TypeError("layer must be an int")
    if layer not in net.bn_layers:
        raise ValueError(f"layer {layer} has no BN (BN layers: {sorted(net.bn_layers)})")
    return int(layer)


def santurkar_theorem41(net: MLP, X, Y, layer: int) -> TheoremCheck:
    r"""Santurkar et al. (2018), Theorem 4.1 on BN layer ``layer``, every feature ``j``.

    .. math::
        \|\nabla_{y_j}\hat{\mathcal L}\|^2 \le \frac{\gamma^2}{\sigma_j^2}\Big(
        \|\nabla_{z_j}\mathcal L\|^2 - \tfrac1m\langle\mathbf 1,\nabla_{z_j}\mathcal L\rangle^2
        - \tfrac1m\langle\nabla_{z_j}\mathcal L,\hat y_j\rangle^2\Big)

    with ``y_j`` the BN input (pre-activation) column, ``z_j`` the BN output, ``m`` the batch
    size. With ``eps > 0`` the scale is read as ``sigma_j^2 + eps`` and ``\hat y_j`` is the
    actual normalized value, so ``||\hat y_j||^2 = m sigma^2/(sigma^2+eps) < m``; then the
    bound is strict (gap ``(1 - sigma^2/(sigma^2+eps)) <g, \hat y>^2 / m`` times the
    prefactor). At ``eps = 0`` it is an equality (THEORY.md Sec. 4).
    """
    net = _check_net(net)
    layer = _bn_layer(net, layer)
    tr = net.trace(X, Y)
    g, gy = tr.g_z[layer], tr.g_a[layer]
    xh, inv, gam = tr.x_hat[layer], tr.inv_std[layer], tr.gamma[layer]
    m = g.shape[0]
    lhs = np.sum(gy * gy, axis=0)
    rhs = (gam * inv) ** 2 * (
        np.sum(g * g, axis=0) - np.sum(g, axis=0) ** 2 / m - np.sum(g * xh, axis=0) ** 2 / m
    )
    return _theorem_check(lhs, rhs, "Santurkar et al. (2018), Theorem 4.1")


def santurkar_theorem42(net: MLP, X, Y, layer: int) -> TheoremCheck:
    r"""Santurkar et al. (2018), Theorem 4.2 (first inequality) on BN layer ``layer``.

    For each feature ``j``, with ``v = \nabla_{y_j}\hat{\mathcal L}`` (gradient with respect
    to the BN input column), ``\hat H`` the Hessian of the loss with respect to that column
    and ``H_{jj}`` the Hessian with respect to the BN output column ``z_j``:

    .. math::
        v^\top \hat H v \le \frac{\gamma^2}{\sigma^2} v^\top H_{jj} v
        - \frac{\gamma}{m\sigma^2}\langle \nabla_{z_j}\mathcal L, \hat y_j\rangle \|v\|^2 .

    Both quadratic forms are exact (R-operator, :meth:`MLP.activation_hessian_quadratic`).
    ``sigma^2`` is read as ``sigma_j^2 + eps``. Equality at ``eps = 0`` (derived in
    THEORY.md Sec. 4: ``v`` lies in the range of the BN projection).
    """
    net = _check_net(net)
    layer = _bn_layer(net, layer)
    tr = net.trace(X, Y)
    g, gy = tr.g_z[layer], tr.g_a[layer]
    xh, inv, gam = tr.x_hat[layer], tr.inv_std[layer], tr.gamma[layer]
    m, C = g.shape
    lhs, rhs = np.zeros(C), np.zeros(C)
    for j in range(C):
        T = np.zeros_like(gy)
        T[:, j] = gy[:, j]
        lhs[j] = net.activation_hessian_quadratic(X, Y, layer, "a", T)
        qz = net.activation_hessian_quadratic(X, Y, layer, "z", T)
        vv = float(gy[:, j] @ gy[:, j])
        rhs[j] = (gam[j] * inv[j]) ** 2 * qz - gam[j] * inv[j] ** 2 / m * float(
            g[:, j] @ xh[:, j]
        ) * vv
    return _theorem_check(lhs, rhs, "Santurkar et al. (2018), Theorem 4.2")


# ============================================================================ Bjorck
@dataclass(frozen=True, slots=True)
class LRSweepResult:
    """Learning-rate sweep (Bjorck et al. 2018).

    Attributes
    ----------
    lrs : ndarray
    final_loss : ndarray
        Full-batch train-mode loss after training (``inf`` when diverged).
    initial_loss : float
    status : tuple of str
        ``"completed"``, ``"diverged"`` or ``"skipped"`` (not run, ``stop_at_largest``) per
        learning rate.
    trained : ndarray of bool
        Completed and ``final_loss <= threshold * initial_loss``.
    max_lr : float or None
        Largest learning rate that trained (None if none did).
    """

    lrs: Array = field(repr=False)
    final_loss: Array = field(repr=False)
    initial_loss: float
    status: tuple[str, ...]
    trained: Array = field(repr=False)
    max_lr: float | None


def bjorck_lr_sweep(
    net: MLP,
    X,
    Y,
    lrs: Sequence[float],
    *,
    steps: int,
    batch_size: int | None = None,
    threshold: float = 0.5,
    rng: int | np.random.Generator | None = 0,
    stop_at_largest: bool = False,
) -> LRSweepResult:
    """Largest learning rate that still trains (Bjorck et al. 2018, Sec. 2: only the BN
    network trains at large learning rates). Every run starts from ``net``'s current
    parameters (restored afterwards) with the same mini-batch order; "trains" means no
    divergence and a final full-batch loss at most ``threshold`` times the initial one.

    ``stop_at_largest=True`` runs the rates from the largest down and stops at the first
    that trains: the same ``max_lr`` (the first success from the top is the largest one)
    at a fraction of the cost; the rates not run get status ``"skipped"`` (final loss nan,
    not trained).
    """
    net = _check_net(net)
    lrs = np.sort(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or lrs.size < 1 or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError("lrs must be a non-empty 1-D array of positive learning rates")
    if not (0 < threshold <= 1):
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    X = net._check_X(X)
    Yc = net._check_Y(Y, X.shape[0])
    theta0 = net.get_flat()
    seed = int(as_generator(rng).integers(2**63))
    L0 = net.loss(X, Yc)
    finals, statuses = [np.nan] * lrs.size, ["skipped"] * lrs.size
    order = range(lrs.size - 1, -1, -1) if stop_at_largest else range(lrs.size)
    for i in order:
        net.set_flat(theta0)
        r = train(net, X, Yc, lr=float(lrs[i]), steps=steps, batch_size=batch_size, rng=seed)
        if r.status == "diverged":
            finals[i] = np.inf
        else:
            res = safe_loss_and_grad(net, X, Yc)
            finals[i] = np.inf if res is None else res[0]
        statuses[i] = r.status if np.isfinite(finals[i]) else "diverged"
        if stop_at_largest and statuses[i] == "completed" and finals[i] <= threshold * L0:
            break
    net.set_flat(theta0)
    finals_a = np.asarray(finals, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.array([s == "completed" for s in statuses]) & (finals_a <= threshold * L0)
    return LRSweepResult(
        lrs, finals_a, float(L0), tuple(statuses), ok, float(lrs[ok].max()) if ok.any() else None
    )


@dataclass(frozen=True, slots=True)
class RelativeLossChange:
    """``(L(x - alpha grad L) - L(x)) / L(x)`` at the current point (Bjorck et al. 2018)."""

    alphas: Array = field(repr=False)
    rel_change: Array = field(repr=False)
    loss: float
    grad_norm: float


def relative_loss_change(net: MLP, X, Y, alphas: Sequence[float]) -> RelativeLossChange:
    """Relative loss change after one full gradient step of size ``alpha`` (Bjorck et al.
    2018, Sec. 3); ``inf`` where the step overflows."""
    net = _check_net(net)
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or np.any(alphas <= 0) or np.any(~np.isfinite(alphas)):
        raise ValueError("alphas must be a 1-D array of positive step sizes")
    theta = net.get_flat()
    L, g = net.loss_and_grad(X, Y)
    out = []
    for a in alphas:
        La, _ = _loss_grad(net, theta - a * g, net._check_X(X), net._check_Y(Y, len(X)))
        out.append((La - L) / L if np.isfinite(La) else np.inf)
    net.set_flat(theta)
    return RelativeLossChange(alphas, np.asarray(out), float(L), float(np.linalg.norm(g)))


# ============================================================================ Arora
@dataclass(frozen=True, slots=True)
class AroraResult:
    """Scale invariance of the weights feeding BN (Arora, Li & Lyu 2019, Lemma 2.4).

    Attributes
    ----------
    layers : tuple of int
        Scale-invariant layers (BN, no bias).
    orthogonality : ndarray (steps,)
        ``max_{layer, unit} |<w, grad_w L>| / (||w|| ||grad_w L||)`` at each step.
    norm_identity : ndarray (steps,)
        ``max |‖w_{t+1}‖² - ‖w_t‖² - η²‖grad‖²| / ‖w_{t+1}‖²`` per step (per unit row).
    weight_norms : ndarray (steps + 1, n_layers)
        Frobenius norm of each scale-invariant ``W`` along the run.
    effective_lr : ndarray (steps + 1, n_layers)
        ``eta / mean_j ||w_j||^2`` (Arora et al.: the learning rate on the sphere).
    """

    layers: tuple[int, ...]
    orthogonality: Array = field(repr=False)
    norm_identity: Array = field(repr=False)
    weight_norms: Array = field(repr=False)
    effective_lr: Array = field(repr=False)


def arora_scale_invariance(net: MLP, X, Y, *, lr: float, steps: int = 1) -> AroraResult:
    """Run ``steps`` GD steps and check, for every unit ``j`` of every BN layer without bias
    (incoming weights ``w_j = W[:, j]``), ``w_j ⟂ grad_{w_j} L`` and
    ``||w_j^{t+1}||^2 = ||w_j^t||^2 + eta^2 ||grad_{w_j} L||^2`` (Arora, Li & Lyu 2019,
    Lemma 2.4; exact for ``eps = 0``, approximate for ``eps > 0``)."""
    net = _check_net(net)
    lr = _check_lr(lr)
    steps = _check_steps(steps)
    layers = tuple(k for k in sorted(net.bn_layers) if not net.has_bias[k])
    if not layers:
        raise ValueError("net has no scale-invariant layer (BN without bias)")
    spec = {s.layer: s for s in net.specs if s.kind == "W"}
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    orth, ident, norms, elr = [], [], [], []

    def record_norms() -> None:
        ws = [net.params(k)["W"] for k in layers]
        norms.append([np.linalg.norm(W) for W in ws])
        elr.append([lr / np.mean(np.sum(W * W, axis=0)) for W in ws])

    record_norms()
    for _ in range(steps):
        theta = net.get_flat()
        _, g = net.loss_and_grad(X, Y)
        o, d = 0.0, 0.0
        new = theta - lr * g
        for k in layers:
            s = spec[k]
            W, G, W2 = (a[s.slice].reshape(s.shape) for a in (theta, g, new))
            nw, ng = np.linalg.norm(W, axis=0), np.linalg.norm(G, axis=0)
            dots = np.abs(np.sum(W * G, axis=0))
            o = max(o, float(np.max(dots / np.maximum(nw * ng, 1e-300))))
            lhs = np.sum(W2 * W2, axis=0)
            d = max(d, float(np.max(np.abs(lhs - nw**2 - lr**2 * ng**2) / lhs)))
        orth.append(o)
        ident.append(d)
        net.set_flat(new)
        record_norms()
    return AroraResult(
        layers, np.asarray(orth), np.asarray(ident), np.asarray(norms), np.asarray(elr)
    )


# ============================================================================ Karakida
@dataclass(frozen=True, slots=True)
class FisherResult:
    """Spectrum summary of the Fisher information / Gauss-Newton matrix
    ``F = J^T J / N`` of the train-mode output map (Karakida et al. 2019).

    Attributes
    ----------
    lambda_max : float
        Largest eigenvalue (exact: top eigenvalue of the small Gram matrix ``J J^T / N``).
    trace : float
        ``tr F = ||J||_F^2 / N`` (exact).
    mean_eigenvalue : float
        ``tr F / dim``.
    dim : int
        Number of parameters.
    gram_eigenvalues : ndarray
        All non-zero-candidate eigenvalues (of ``J J^T / N``), descending.
    """

    lambda_max: float
    trace: float
    mean_eigenvalue: float
    dim: int
    gram_eigenvalues: Array = field(repr=False)


def fisher_spectrum(net: MLP, X) -> FisherResult:
    """Exact ``lambda_max`` and trace of ``F = J^T J / N`` (for the MSE loss, the Fisher
    information of a unit-variance Gaussian output model = Gauss-Newton matrix; Karakida,
    Akaho & Amari 2019). ``J`` is the ``(N d_out) x dim`` Jacobian of the train-mode outputs
    (with BN, every output depends on the whole batch). The non-zero spectrum of ``F`` is
    that of the ``(N d_out)``-square Gram matrix ``J J^T / N``, whose column ``r`` is
    ``J (J^T e_r) / N``: one VJP and one JVP per column, memory ``O(dim)``.
    """
    net = _check_net(net)
    X = net._check_batch(X, True)
    n, d_out = X.shape[0], net.sizes[-1]
    fw = net._forward(X, True)
    R = n * d_out
    K = np.zeros((R, R))
    tr = 0.0
    for r in range(R):
        E = np.zeros((n, d_out))
        E.flat[r] = 1.0
        row = net._backward(fw, E)[0]  # J^T e_r
        tr += float(row @ row)
        K[:, r] = net._rop(fw, None, None, row, backward=False)[1].ravel()
    K = 0.5 * (K + K.T) / n
    ev = np.linalg.eigvalsh(K)[::-1]
    tr /= n
    return FisherResult(float(ev[0]), tr, tr / net.dim, net.dim, ev)


# ============================================================================ gradient flow
@dataclass(frozen=True, slots=True)
class GradientFlowResult:
    """Per-layer gradient norms at initialization and after training.

    Attributes
    ----------
    init : ndarray (n_layers,)
        ``||grad_{layer k} L||`` (all parameters of dense layer ``k``) at initialization.
    trained : ndarray (n_layers,)
        The same after ``steps`` of training (the last finite parameters if diverged).
    status : str
    final_loss : float
    """

    init: Array = field(repr=False)
    trained: Array = field(repr=False)
    status: str
    final_loss: float


def gradient_flow(
    net: MLP,
    X,
    Y,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    rng: int | np.random.Generator | None = 0,
) -> GradientFlowResult:
    """Per-layer gradient norms (full batch, train mode) at initialization and after brief
    (S)GD training: the reference article's claim that BN prevents the exponential decay of
    gradient norms in a 90-layer network (its ref. [12])."""
    net = _check_net(net)
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])

    def norms() -> tuple[Array, float]:
        res = safe_loss_and_grad(net, X, Y)
        if res is None:
            return np.full(net.n_layers, np.inf), np.inf
        L, g = res
        return np.array([np.linalg.norm(g[s]) for s in net.layer_slices]), L

    g0, _ = norms()
    r = train(net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=rng)
    g1, L1 = norms()
    return GradientFlowResult(g0, g1, r.status, float(L1))


# ============================================================================ Ioffe & Szegedy
def histogram_kl(p_samples, q_samples, *, bins: int = 30, alpha: float = 0.5) -> float:
    """Histogram estimate of ``KL(p || q)`` from samples.

    Binning: ``bins`` equal-width bins spanning the pooled 0.5th-99.5th percentiles of both
    samples, plus one open bin on each side (so no sample is dropped). Smoothing: ``alpha``
    pseudo-counts are added to every bin of both histograms (additive/Jeffreys smoothing for
    ``alpha = 0.5``) before normalizing, so the estimate is finite; it is biased upward by
    about ``(bins - 1) / (2 n)`` for identical distributions with ``n`` samples each.
    """
    p = np.asarray(p_samples, float).ravel()
    q = np.asarray(q_samples, float).ravel()
    if p.size < 2 or q.size < 2 or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("p_samples and q_samples must hold at least 2 finite values each")
    if bins < 1 or alpha <= 0:
        raise ValueError("bins must be >= 1 and alpha > 0")
    pooled = np.concatenate([p, q])
    lo, hi = np.percentile(pooled, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1e-12
    edges = np.concatenate([[-np.inf], np.linspace(lo, hi, bins + 1), [np.inf]])
    cp = np.histogram(p, edges)[0] + alpha
    cq = np.histogram(q, edges)[0] + alpha
    P, Q = cp / cp.sum(), cq / cq.sum()
    return float(np.sum(P * np.log(P / Q)))


@dataclass(frozen=True, slots=True)
class ActivationShift:
    """Distribution shift of one activation over training.

    Attributes
    ----------
    percentiles : ndarray (n_checkpoints, 3)
        {15, 50, 85}th percentiles (Ioffe & Szegedy 2015, Fig. 1(b, c)).
    kl_from_first : ndarray
        :func:`histogram_kl` between the first checkpoint and each checkpoint.
    mean_shift, std_shift : ndarray
        ``|mean_k - mean_0|`` and ``|std_k - std_0|`` (Santurkar et al. 2018, Fig. 2 measure).
    """

    percentiles: Array = field(repr=False)
    kl_from_first: Array = field(repr=False)
    mean_shift: Array = field(repr=False)
    std_shift: Array = field(repr=False)


def activation_shift(samples, *, bins: int = 30, alpha: float = 0.5) -> ActivationShift:
    """Percentiles, KL to the first checkpoint and moment shifts of ``samples``
    (``(n_checkpoints, n_values)``)."""
    S = np.asarray(samples, float)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2:
        raise ValueError(f"samples must have shape (n_checkpoints, n_values>=2), got {S.shape}")
    pct = np.percentile(S, [15, 50, 85], axis=1).T
    kl = np.array([histogram_kl(S[0], s, bins=bins, alpha=alpha) for s in S])
    mu, sd = S.mean(axis=1), S.std(axis=1)
    return ActivationShift(pct, kl, np.abs(mu - mu[0]), np.abs(sd - sd[0]))


def _saturated_fraction(net: MLP, X: Array, at: float) -> float:
    """Fraction of the hidden nonlinearities' inputs ``z`` (all units, train mode on ``X``)
    with ``|z| > at``."""
    with np.errstate(all="ignore"):
        fw = net._forward(X, True)
    zs = [np.abs(z) for z in fw.z[: net.n_layers - 1]]
    return float(sum(np.count_nonzero(~(z <= at)) for z in zs) / sum(z.size for z in zs))


@dataclass(frozen=True, slots=True)
class IoffeFigure1:
    """Ioffe & Szegedy (2015), Fig. 1 analogue, for the network without and with BN.

    Attributes
    ----------
    dataset : str
        ``"digits"``, or ``"gaussian_mixture"`` when asked for (``use_digits=False``).
    eval_steps : ndarray
    accuracy_plain, accuracy_bn : ndarray
        Test accuracy (eval mode) at ``eval_steps``.
    shift_plain, shift_bn : ActivationShift
        Sigmoid input of unit ``unit`` of the last hidden layer on the test inputs.
    status_plain, status_bn : str
    saturation_plain, saturation_bn : ndarray (2,)
        Fraction of all hidden sigmoid inputs (every unit of the 3 hidden layers, test set,
        train mode) with ``|z| > saturated_at`` at initialization and after training.
    grad_norms_plain, grad_norms_bn : ndarray (steps, 4)
        Mini-batch gradient norm of each dense layer's parameters at every step
        (:attr:`bntheory.nets.TrainResult.grad_norms`).
    """

    dataset: str
    eval_steps: Array = field(repr=False)
    accuracy_plain: Array = field(repr=False)
    accuracy_bn: Array = field(repr=False)
    shift_plain: ActivationShift
    shift_bn: ActivationShift
    status_plain: str
    status_bn: str
    saturation_plain: Array = field(default=None, repr=False)
    saturation_bn: Array = field(default=None, repr=False)
    grad_norms_plain: Array = field(default=None, repr=False)
    grad_norms_bn: Array = field(default=None, repr=False)


def ioffe_figure1(
    *,
    steps: int = 3000,
    lr: float = 0.5,
    batch_size: int = 60,
    eval_every: int = 250,
    unit: int = 0,
    hidden: int = 100,
    rng: int | np.random.Generator | None = 0,
    use_digits: bool = True,
    saturated_at: float = 4.0,
) -> IoffeFigure1:
    """Fig. 1 of Ioffe & Szegedy (2015): 3 fully connected sigmoid hidden layers of 100 units,
    softmax cross-entropy, SGD with mini-batches of 60, with and without BN on every hidden
    layer, same initial weights and batch order. Data: scikit-learn's 8x8 digits (no
    download) instead of MNIST (``ImportError`` naming ``pip install 'bntheory[data]'`` if
    scikit-learn is missing: never a silent substitute); a 10-class Gaussian mixture in 64-D
    only when asked for with ``use_digits=False``. The paper does not give the optimizer's learning rate (THEORY.md Sec. 1).
    Activations are the sigmoid inputs of unit ``unit`` of the last hidden layer on the
    test set, normalized with the test set's own batch statistics (train mode over the whole
    test set), so that the step-0 distribution is not distorted by running averages that
    have not been updated yet; accuracy is measured in eval mode. Saturation (the reference
    article: ICS drives sigmoids into saturation): fraction of all hidden sigmoid inputs with
    ``|z| > saturated_at`` (default 4, where ``sigmoid'(z) < 0.018``, 7 % of its maximum).
    """
    gen = as_generator(rng)
    seed_init, seed_data, seed_order = (int(s) for s in gen.integers(2**63, size=3))
    if saturated_at <= 0 or not np.isfinite(saturated_at):
        raise ValueError(f"saturated_at must be a positive number, got {saturated_at!r}")
    if use_digits:  # no silent substitute: a missing scikit-learn raises ImportError
        d, name = load_digits_split(rng=seed_data), "digits"
    else:
        d, name = (
            gaussian_mixture(1347, 450, 64, 10, separation=3.0, rng=seed_data),
            ("gaussian_mixture"),
        )
    out, sat = {}, {}
    for use_bn in (False, True):
        net = MLP(
            [d.X_train.shape[1], hidden, hidden, hidden, d.n_classes],
            "sigmoid",
            bn=use_bn,
            loss="cross_entropy",
            rng=seed_init,
        )
        sat0 = _saturated_fraction(net, d.X_test, saturated_at)
        r = train(
            net, d.X_train, d.Y_train, lr=lr, steps=steps, batch_size=batch_size,
            rng=seed_order, X_test=d.X_test, Y_test=d.Y_test, eval_every=eval_every,
            probe=[(2, unit)], probe_training=True,
        )  # fmt: skip
        out[use_bn] = r
        sat[use_bn] = np.array([sat0, _saturated_fraction(net, d.X_test, saturated_at)])
    return IoffeFigure1(
        name,
        out[True].eval_steps,
        out[False].test_accuracy,
        out[True].test_accuracy,
        activation_shift(out[False].activations[(2, unit)]),
        activation_shift(out[True].activations[(2, unit)]),
        out[False].status,
        out[True].status,
        sat[False],
        sat[True],
        out[False].grad_norms,
        out[True].grad_norms,
    )


# ============================================================================ moment shift
@dataclass(frozen=True, slots=True)
class MomentShiftResult:
    """Shift of the mean and standard deviation of every dense layer's input between
    consecutive training iterations (the reference article's reading of Santurkar et al.
    2018: "the L2 difference in mean and standard deviation of layer inputs").

    Attributes
    ----------
    steps : ndarray
        Iterations ``t`` (the shift is from ``t`` to ``t + 1``).
    mean_shift, std_shift : ndarray (steps, n_layers)
        ``||mu_k(t+1) - mu_k(t)||_2`` and ``||sd_k(t+1) - sd_k(t)||_2`` of the per-feature
        mean / standard deviation of layer ``k``'s input over the probe set.
    relative : ndarray (steps, n_layers)
        ``sqrt(mean_shift^2 + std_shift^2) / ||sd_k(t)||_2`` (scale free, so networks with
        and without BN are comparable). Layer 0's input is the data: 0.
    status : str
    """

    steps: Array = field(repr=False)
    mean_shift: Array = field(repr=False)
    std_shift: Array = field(repr=False)
    relative: Array = field(repr=False)
    status: str


def _input_moments(net: MLP, X: Array) -> tuple[list[Array], list[Array]] | None:
    try:
        with np.errstate(all="ignore"):
            fw = net._forward(X, True)
    except (FloatingPointError, ValueError):
        return None
    mus = [h.mean(axis=0) for h in fw.inputs]
    sds = [h.std(axis=0) for h in fw.inputs]
    if not all(
        np.all(np.isfinite(m)) and np.all(np.isfinite(s)) for m, s in zip(mus, sds, strict=True)
    ):
        return None
    return mus, sds


def layer_input_moment_shift(
    net: MLP,
    X,
    Y,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    X_probe=None,
    rng: int | np.random.Generator | None = None,
) -> MomentShiftResult:
    """Train with (S)GD and record, after every step, how much the mean and standard
    deviation of each dense layer's input (on the fixed probe set ``X_probe``, default
    ``X``, train mode) moved: the measure the reference article attributes to Santurkar et
    al. (2018), whose Def. 2.1 measures gradient change instead
    (:func:`internal_covariate_shift`). With the same ``rng`` both functions see the same
    mini-batches, so they follow the same trajectory.
    """
    net = _check_net(net)
    lr = _check_lr(lr)
    steps = _check_steps(steps)
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    Xp = X if X_probe is None else net._check_X(X_probe)
    batches = _Batches(X.shape[0], batch_size, as_generator(rng))
    nl = net.n_layers
    theta = net.get_flat()
    prev = _input_moments(net, Xp)
    rec, ms, ss, rel = [], [], [], []
    status = "completed" if prev is not None else "diverged"
    for t in range(steps if prev is not None else 0):
        idx = batches.next()
        _, g = _loss_grad(net, theta, X[idx], Y[idx])
        if g is None:
            status = "diverged"
            break
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = "diverged"
            break
        net.set_flat(theta)
        cur = _input_moments(net, Xp)
        if cur is None:
            status = "diverged"
            break
        dm = np.array([np.linalg.norm(cur[0][k] - prev[0][k]) for k in range(nl)])
        ds = np.array([np.linalg.norm(cur[1][k] - prev[1][k]) for k in range(nl)])
        sd = np.array([np.linalg.norm(prev[1][k]) for k in range(nl)])
        with np.errstate(all="ignore"):
            r = np.where(sd > 0, np.hypot(dm, ds) / np.where(sd > 0, sd, 1.0), 0.0)
        rec.append(t)
        ms.append(dm)
        ss.append(ds)
        rel.append(r)
        prev = cur
    net.set_flat(theta if np.all(np.isfinite(theta)) else net.get_flat())
    shape = (-1, nl)
    return MomentShiftResult(
        np.asarray(rec),
        np.asarray(ms, dtype=float).reshape(shape),
        np.asarray(ss, dtype=float).reshape(shape),
        np.asarray(rel, dtype=float).reshape(shape),
        status,
    )


# ============================================================================ isotropy
@dataclass(frozen=True, slots=True)
class HessianIsotropy:
    """Isotropy of the train-mode Hessian spectrum (the reference article, attributing to
    Bjorck et al. 2018: BN makes the curvature "more isotropic").

    Attributes
    ----------
    eigenvalues : ndarray
        All eigenvalues of the dense Hessian, ascending.
    lambda_abs_max : float
        ``max |lambda|`` (the spectral norm).
    mean_abs : float
        ``mean |lambda|`` (nuclear norm / dim).
    anisotropy : float
        ``lambda_abs_max / mean_abs``: 1 for an isotropic spectrum (``H = c I``), up to
        ``dim`` for rank one.
    participation : float
        ``(sum |lambda|)^2 / (dim sum lambda^2)`` in ``(0, 1]``: effective rank / dim.
    negative_fraction : float
        ``sum_{lambda<0} |lambda| / sum |lambda|``.
    dim : int
    """

    eigenvalues: Array = field(repr=False)
    lambda_abs_max: float
    mean_abs: float
    anisotropy: float
    participation: float
    negative_fraction: float
    dim: int


def hessian_isotropy(
    net: MLP,
    X,
    Y,
    *,
    method: str = "slq",
    n_probes: int = 2,
    n_steps: int = 30,
    rng: int | np.random.Generator | None = None,
) -> HessianIsotropy:
    """Isotropy of the spectrum of the train-mode Hessian of ``net``'s loss on the batch
    ``(X, Y)`` at the current parameters.

    ``method="dense"``: all ``dim`` eigenvalues (``dim`` exact Hessian-vector products, then
    ``eigvalsh``; small nets and tests). ``method="slq"``: stochastic Lanczos quadrature
    (Ubaru, Chen & Saad 2017) with ``n_probes`` Rademacher start vectors and ``n_steps``
    Lanczos steps each (:func:`bntheory.measures.lanczos`): ``mean |lambda|`` and
    ``mean lambda^2`` are the quadrature estimates ``sum_j tau_j f(theta_j)`` of
    ``tr f(H) / dim`` averaged over the probes, ``max |lambda|`` the largest Ritz value
    (which converges first); ``eigenvalues`` then holds the Ritz values of all probes.
    """
    from bntheory.measures import hessian_operator, lanczos

    net = _check_net(net)
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    if method not in ("dense", "slq"):
        raise ValueError(f"method must be 'dense' or 'slq', got {method!r}")
    n_probes = _check_steps(n_probes, "n_probes")
    n_steps = _check_steps(n_steps, "n_steps")
    d = net.dim
    with np.errstate(all="ignore"):
        if method == "dense":
            H = np.empty((d, d))
            e = np.zeros(d)
            for i in range(d):
                e[i] = 1.0
                H[:, i] = net.hvp(X, Y, e)
                e[i] = 0.0
            if not np.all(np.isfinite(H)):
                raise FloatingPointError("the Hessian is not finite at the current parameters")
            ev = np.linalg.eigvalsh(0.5 * (H + H.T))
            a = np.abs(ev)
            m1, m2, amax = float(a.mean()), float(np.mean(ev * ev)), float(a.max())
            neg = float(a[ev < 0].sum() / a.sum()) if a.sum() > 0 else 0.0
        else:
            op = hessian_operator(net.objective(X, Y), net.get_flat())
            gen = as_generator(rng)
            thetas, m1s, m2s, negs = [], [], [], []
            for _ in range(n_probes):
                z = gen.choice([-1.0, 1.0], size=d)
                lz = lanczos(op, n_steps, v0=z)
                T = np.diag(lz.alphas) + np.diag(lz.betas, 1) + np.diag(lz.betas, -1)
                th, U = np.linalg.eigh(T)
                if not np.all(np.isfinite(th)):
                    raise FloatingPointError("the Hessian is not finite at the current parameters")
                tau = U[0] ** 2
                thetas.append(th)
                m1s.append(float(tau @ np.abs(th)))
                m2s.append(float(tau @ th**2))
                negs.append(float(tau @ np.where(th < 0, -th, 0.0)))
            ev = np.sort(np.concatenate(thetas))
            m1, m2, amax = float(np.mean(m1s)), float(np.mean(m2s)), float(np.max(np.abs(ev)))
            neg = float(np.mean(negs) / m1) if m1 > 0 else 0.0
    return HessianIsotropy(
        ev,
        amax,
        m1,
        amax / m1 if m1 > 0 else float("inf"),
        m1 * m1 / m2 if m2 > 0 else float("nan"),
        neg,
        d,
    )


# ============================================================================ clustering
def separation_index(H, labels) -> float:
    """Class separation of representations ``H`` (n, features): the Fisher criterion
    ``tr(S_b) / tr(S_w)`` (between-class over within-class scatter, both as sums of squared
    distances to the class / overall means; Fisher 1936). Invariant to a global scale and
    to rotations of ``H``; larger = better separated clusters."""
    H = np.asarray(H, dtype=float)
    y = np.asarray(labels).reshape(-1)
    if H.ndim != 2 or H.shape[0] != y.size or H.shape[0] < 2:
        raise ValueError(f"H must be (n, features) with one label per row, got {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("H contains NaN or inf")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("labels must contain at least 2 classes")
    mu = H.mean(axis=0)
    sb = sw = 0.0
    for c in classes:
        Hc = H[y == c]
        mc = Hc.mean(axis=0)
        sb += Hc.shape[0] * float(np.sum((mc - mu) ** 2))
        sw += float(np.sum((Hc - mc) ** 2))
    return sb / sw if sw > 0 else float("inf")

"""The papers' measures for PyTorch models, with the definitions of :mod:`bntheory.nets`.

* Santurkar, Tsipras, Ilyas & Madry (2018): :func:`santurkar_landscape`,
  :func:`landscape_at` (in :mod:`bntheory.torch.landscape`), :func:`internal_covariate_shift`
  (in :mod:`bntheory.torch.ics`).
* Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019): :func:`gradient_growth`, the
  per-layer growth of the squared gradient norm at initialization.
* Karakida, Akaho & Amari (2019): :func:`fisher_spectrum`, the largest eigenvalue and trace
  of the Fisher information.
* Arora, Li & Lyu (2019): :func:`scale_invariance`, the identities of weights followed by BN.

Every measure is of the train-mode objective (batch statistics) on a private copy of the
model (:class:`~bntheory.torch.TorchObjective`); the model itself is never modified. On a
network the NumPy :class:`~bntheory.nets.MLP` can express, each agrees with its
``bntheory.nets`` counterpart to round-off (``tests/torch/test_measures.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bntheory.nets.measurements import FisherResult
from bntheory.torch._layers import bn_fed_units, flat_index, layer_groups
from bntheory.torch.landscape import (
    S_GRID,
    LandscapePoint,
    internal_covariate_shift,
    landscape_at,
    santurkar_landscape,
)
from bntheory.torch.objective import Batch, ParamSelection, TorchObjective, _is_bn, require_torch

if TYPE_CHECKING:
    import torch

__all__ = [
    "FISHER_KINDS",
    "FISHER_OUTPUTS",
    "S_GRID",
    "FisherResult",
    "GradientGrowth",
    "LandscapePoint",
    "ScaleInvariance",
    "fisher_spectrum",
    "gradient_growth",
    "internal_covariate_shift",
    "landscape_at",
    "santurkar_landscape",
    "scale_invariance",
]

#: Output models of the Fisher information: unit-variance Gaussian (MSE) or softmax.
FISHER_OUTPUTS = ("gaussian", "categorical")
#: ``"true"``: expectation over the model's own output distribution (Karakida et al.);
#: ``"empirical"``: outer products of the per-example gradients at the given labels.
FISHER_KINDS = ("true", "empirical")


# ============================================================================ Yang et al.
@dataclass(frozen=True, slots=True)
class GradientGrowth:
    """Squared gradient norms per layer at the current parameters (Yang et al. 2019).

    Attributes
    ----------
    layers : tuple of str
        Layer names (modules that open a layer, forward order).
    sq_grad_weights : ndarray
        ``||dL/dW_l||^2`` of each layer's parameters.
    bn_layers : tuple of str
        BN modules, forward order.
    sq_grad_bn_input : ndarray
        ``||dL/da||^2`` of each BN layer's input ``a`` (pre-BN pre-activation, summed over
        batch and features): the quantity of Yang et al.'s rate.
    ratios : ndarray
        ``sq_grad_bn_input[l] / sq_grad_bn_input[l + 1]``: growth going down one BN layer.
    rate : float
        Geometric mean of ``ratios`` over the BN layers ``[lo, hi)`` of ``window``:
        ``(g[lo] / g[hi]) ** (1 / (hi - lo))``, as
        :func:`bntheory.nets.yang.yang_gradient_rate` (nan with fewer than 2 BN layers).
    rate_weights : float
        The same from ``sq_grad_weights`` (window over layers).
    window : (int, int)
    """

    layers: tuple[str, ...]
    sq_grad_weights: np.ndarray = field(repr=False)
    bn_layers: tuple[str, ...]
    sq_grad_bn_input: np.ndarray = field(repr=False)
    ratios: np.ndarray = field(repr=False)
    rate: float
    rate_weights: float
    window: tuple[int, int]


def gradient_growth(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: Batch,
    *,
    window: tuple[int, int] | None = None,
    params: ParamSelection = None,
) -> GradientGrowth:
    """Per-layer squared-gradient norms and their growth factor (Yang et al. 2019, Sec. 6).

    Yang et al. show that a deep BN network at initialization has gradients that explode
    going down: ``||dL/da_l||^2`` grows by a constant factor per layer (closed forms in
    :func:`bntheory.nets.yang.yang_formula`). This measures it on one batch of any model.

    Parameters
    ----------
    model : torch.nn.Module
        With BN layers (any ``_BatchNorm``); not modified.
    loss_fn : callable
        ``loss_fn(output, y) -> scalar``.
    batch : (X, y)
        One batch, evaluated with train-mode BN (batch statistics).
    window : (lo, hi), optional
        BN layers (forward-order indices) the rate is averaged over, ``0 <= lo < hi <=
        n_bn - 1`` (``ValueError`` otherwise); default all (``(0, n_bn - 1)``).
    params : optional
        Parameter selection for the weight gradients (:class:`TorchObjective`).

    Returns
    -------
    GradientGrowth
        Squared gradient norms per layer and per BN input, their ratios and the growth
        rate per layer (nan with fewer than 2 BN layers).
    """
    torch = require_torch()
    obj = TorchObjective(model, loss_fn, batch, bn="train", params=params)
    groups = layer_groups(obj)
    bns = [(n, m) for n, m in obj._net.named_modules() if _is_bn(m)]
    seen: dict = {}
    hooks = [
        m.register_forward_pre_hook(lambda mod, inp: seen.__setitem__(mod, inp[0])) for _, m in bns
    ]
    t = obj._tensor(obj.x0).requires_grad_(True)
    try:
        loss = obj._call(t)
    finally:
        for h in hooks:
            h.remove()
    acts = [seen[m] for _, m in bns if m in seen]
    grads = torch.autograd.grad(loss, [t, *acts], allow_unused=True)
    g = grads[0].detach().double().numpy()
    gw = np.array([float(np.sum(g[flat_index(obj, names)] ** 2)) for _, names in groups])
    ga = np.array(
        [0.0 if a is None else float((a.detach().double() ** 2).sum()) for a in grads[1:]]
    )

    def rate(values: np.ndarray, win: tuple[int, int]) -> float:
        lo, hi = win
        if values.size < 2 or not (0 <= lo < hi < values.size) or values[hi] <= 0:
            return float("nan")
        return float((values[lo] / values[hi]) ** (1.0 / (hi - lo)))

    n = ga.size
    if window is None:
        win = (0, max(n - 1, 1))
    else:
        if (
            isinstance(window, (str, bytes))
            or not isinstance(window, (tuple, list))
            or len(window) != 2
            or not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in window)
        ):
            raise TypeError(f"window must be a pair of ints (lo, hi), got {window!r}")
        win = (int(window[0]), int(window[1]))
        if not (0 <= win[0] < win[1] <= max(n - 1, 1)):
            raise ValueError(f"window must satisfy 0 <= lo < hi <= {n - 1}, got {window}")
    with np.errstate(all="ignore"):
        ratios = ga[:-1] / ga[1:] if n > 1 else np.zeros(0)
    return GradientGrowth(
        tuple(name for name, _ in groups),
        gw,
        tuple(name for name, _ in bns),
        ga,
        ratios,
        rate(ga, win),
        rate(gw, (win[0], min(win[1], gw.size - 1))),
        win,
    )


# ============================================================================ Karakida et al.
def _jacobian_rows(obj: TorchObjective) -> tuple[np.ndarray, np.ndarray]:
    """Output ``o`` (``N x d_out``) and the Jacobian ``J`` (``N d_out x dim``) of the
    train-mode outputs (every output depends on the whole batch through BN)."""
    torch = require_torch()
    t = obj._tensor(obj.x0)
    out, vjp = torch.func.vjp(obj._output, t)
    if out.ndim != 2:
        raise ValueError(f"model: the Fisher needs outputs of shape (N, d_out), got {out.shape}")
    R = out.numel()
    eye = torch.eye(R, dtype=out.dtype).reshape(R, *out.shape)
    (J,) = torch.vmap(vjp)(eye)
    return out.detach().double().numpy(), J.detach().double().numpy()


def fisher_spectrum(
    model: torch.nn.Module,
    batch: Batch,
    *,
    output: str = "gaussian",
    kind: str = "true",
    params: ParamSelection = None,
    bn: str = "train",
) -> FisherResult:
    """Largest eigenvalue and trace of the Fisher information (Karakida, Akaho & Amari 2019).

    ``output="gaussian"``: the output model ``y ~ N(o, I)`` (the MSE loss
    ``(1/2N) sum ||o_i - y_i||^2``); its *true* Fisher ``F = J^T J / N`` is the Gauss-Newton
    matrix and does not depend on the labels; it is the matrix Karakida et al. analyse and
    :func:`bntheory.nets.measurements.fisher_spectrum` computes. ``output="categorical"``:
    softmax outputs (the cross-entropy loss); true Fisher ``J^T diag_i(diag(p_i) - p_i
    p_i^T) J / N`` (= the generalized Gauss-Newton matrix of cross-entropy). ``kind=
    "empirical"``: ``(1/N) sum_i grad l_i grad l_i^T`` with the per-example losses ``l_i`` at
    the batch's labels (Kunstner, Hennig & Balles 2019 on why it is not the Fisher). With
    train-mode BN, ``J`` is the Jacobian of the batch-coupled outputs.

    Parameters
    ----------
    model : torch.nn.Module
        Output of shape ``(N, d_out)``; not modified.
    batch : (X, y)
        ``y`` is used only by ``kind="empirical"`` (targets, or class labels for
        ``"categorical"``).
    output : {"gaussian", "categorical"}
        Output model (:data:`FISHER_OUTPUTS`; ``ValueError`` otherwise).
    kind : {"true", "empirical"}
        Expectation over the model's outputs or at the labels (:data:`FISHER_KINDS`).
    params : optional
        Parameter selection (:class:`TorchObjective`): ``F`` is over these.
    bn : {"train", "eval", "frozen"}
        BN mode of the outputs.

    Returns
    -------
    FisherResult
        Exact: the eigenvalues of the ``N d_out`` (true) or ``N`` (empirical) square Gram
        matrix, whose non-zero eigenvalues are those of ``F``.
    """
    if output not in FISHER_OUTPUTS:
        raise ValueError(f"output must be one of {FISHER_OUTPUTS}, got {output!r}")
    if kind not in FISHER_KINDS:
        raise ValueError(f"kind must be one of {FISHER_KINDS}, got {kind!r}")
    obj = TorchObjective(model, lambda o, y: o.sum(), batch, bn=bn, params=params)
    o, J = _jacobian_rows(obj)
    n, d_out = o.shape
    if output == "categorical":
        z = o - o.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
    if kind == "true":
        if output == "gaussian":
            A = J
        else:  # J_i^T (diag p - p p^T) J_i = (S_i J_i)^T (S_i J_i), S_i its square root
            Ji = J.reshape(n, d_out, -1)
            rows = []
            for i in range(n):
                w, V = np.linalg.eigh(np.diag(p[i]) - np.outer(p[i], p[i]))
                S = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
                rows.append(S @ Ji[i])
            A = np.concatenate(rows)
    else:
        y = obj._y.detach().numpy()
        if output == "gaussian":
            E = o - y.reshape(n, d_out)  # d l_i / d o_i, l_i = ||o_i - y_i||^2 / 2
        else:
            if y.ndim != 1:
                raise ValueError("batch: kind='empirical' with 'categorical' needs class labels")
            E = p - np.eye(d_out)[y.astype(int)]
        # grad l_i = J^T (e_i (x) E_i): row r = (i, c) of J weighted by E[i, c]
        A = (E.reshape(-1, 1) * J).reshape(n, d_out, -1).sum(axis=1)
    K = A @ A.T / n
    ev = np.linalg.eigvalsh(0.5 * (K + K.T))[::-1]
    tr = float(np.trace(K))
    return FisherResult(float(ev[0]), tr, tr / obj.dim, obj.dim, ev)


# ============================================================================ Arora et al.
@dataclass(frozen=True, slots=True)
class ScaleInvariance:
    """Scale invariance of weights followed by BN (Arora, Li & Lyu 2019, Lemma 2.4).

    The fields of :class:`bntheory.nets.measurements.AroraResult`, with module names.

    Attributes
    ----------
    layers : tuple of str
        Modules whose output feeds a BN layer (their units are scale-invariant).
    orthogonality : ndarray (steps,)
        ``max_{layer, unit} |<w, grad_w L>| / (||w|| ||grad_w L||)`` at each step.
    norm_identity : ndarray (steps,)
        ``max |‖w_{t+1}‖² - ‖w_t‖² - lr²‖grad_w L‖²| / ‖w_{t+1}‖²`` per step (per unit).
    weight_norms : ndarray (steps + 1, n_layers)
        Frobenius norm of each layer's unit vectors along the run.
    effective_lr : ndarray (steps + 1, n_layers)
        ``lr / mean_j ||w_j||^2``.
    """

    layers: tuple[str, ...]
    orthogonality: np.ndarray = field(repr=False)
    norm_identity: np.ndarray = field(repr=False)
    weight_norms: np.ndarray = field(repr=False)
    effective_lr: np.ndarray = field(repr=False)


def scale_invariance(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: Batch,
    *,
    lr: float,
    steps: int = 1,
    params: ParamSelection = None,
) -> ScaleInvariance:
    """Run ``steps`` full-batch GD steps on a copy and check Arora et al.'s identities.

    For every output unit ``j`` of every module whose output goes straight into a BN layer
    (found by watching a forward pass; ``w_j`` is the weight row / output-channel filter
    together with its bias entry, if any), train-mode BN makes the loss invariant to
    ``w_j -> c w_j``, hence ``w_j ⟂ grad_{w_j} L`` and, for plain GD,
    ``||w_j^{t+1}||^2 = ||w_j^t||^2 + lr^2 ||grad_{w_j} L||^2`` (Arora, Li & Lyu 2019,
    Lemma 2.4; exact for ``eps = 0``, approximate for ``eps > 0``). Same definitions as
    :func:`bntheory.nets.measurements.arora_scale_invariance`.

    Parameters
    ----------
    model : torch.nn.Module
        With at least one selected Linear/Conv weight feeding a BN layer (``ValueError``
        otherwise); not modified (a copy is trained).
    loss_fn : callable
        ``loss_fn(output, y) -> scalar``.
    batch : (X, y)
        The full batch of every GD step (train-mode BN).
    lr : float
        Learning rate of plain GD (> 0).
    steps : int
        Number of GD steps (>= 1); the run stops early if the loss or gradient overflows.
    params : optional
        Parameter selection (:class:`TorchObjective`); unselected parameters stay fixed.

    Returns
    -------
    ScaleInvariance
        Per step the worst orthogonality and norm-identity residuals over all units; per
        layer the weight norms and effective learning rates along the run.
    """
    from bntheory.torch.landscape import _check_count, _check_positive, safe_loss_and_grad

    lr = _check_positive(lr, "lr")
    steps = _check_count(steps, "steps")
    obj = TorchObjective(model, loss_fn, batch, bn="train", params=params)
    fed = bn_fed_units(obj)
    if not fed:
        raise ValueError("model has no selected weight whose output feeds a BN layer")
    theta = obj.x0.copy()
    orth, ident, norms, elr = [], [], [], []

    def record(th: np.ndarray) -> None:
        sq = [np.sum(th[f["units"]] ** 2, axis=1) for f in fed]
        norms.append([float(np.sqrt(s.sum())) for s in sq])
        elr.append([lr / float(np.mean(s)) for s in sq])

    record(theta)
    for _ in range(steps):
        _, g = safe_loss_and_grad(obj, theta)
        if g is None:
            break
        new = theta - lr * g
        o = d = 0.0
        for f in fed:
            W, G, W2 = theta[f["units"]], g[f["units"]], new[f["units"]]
            nw, ng = np.linalg.norm(W, axis=1), np.linalg.norm(G, axis=1)
            dots = np.abs(np.sum(W * G, axis=1))
            o = max(o, float(np.max(dots / np.maximum(nw * ng, 1e-300))))
            lhs = np.sum(W2 * W2, axis=1)
            d = max(d, float(np.max(np.abs(lhs - nw**2 - lr**2 * ng**2) / lhs)))
        orth.append(o)
        ident.append(d)
        theta = new
        record(theta)
    return ScaleInvariance(
        tuple(f["module"] for f in fed),
        np.asarray(orth),
        np.asarray(ident),
        np.asarray(norms),
        np.asarray(elr),
    )

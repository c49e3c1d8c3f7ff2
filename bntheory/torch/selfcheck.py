"""``selfcheck``: a torch model against its NumPy twin, :class:`bntheory.nets.MLP`.

For a model the NumPy MLP can express (a ``torch.nn.Sequential``, possibly nested, of
``Linear``, ``BatchNorm1d`` and one kind of activation from ``Tanh``, ``ReLU``, ``Sigmoid``,
``Identity``; BN between ``Linear`` and the activation, as in Ioffe & Szegedy 2015, Sec. 3.2;
cross-entropy or mean-squared-error loss), :func:`selfcheck` builds the twin, copies the
weights and running statistics, and compares the train-mode loss, gradient and
Hessian-vector products of :class:`~bntheory.torch.TorchObjective` (torch autograd) with the
MLP's hand-written backward pass and exact R-operator (Pearlmutter 1994), and the eval-mode
loss. Two independent implementations agreeing to round-off is the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bntheory.torch.objective import Batch, TorchObjective, require_torch

if TYPE_CHECKING:
    import torch

__all__ = ["SelfCheckReport", "selfcheck"]

#: torch activation class name -> bntheory.nets activation
_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "Sigmoid": "sigmoid", "Identity": "linear"}


@dataclass(frozen=True, slots=True)
class SelfCheckReport:
    """Agreement of a torch model with its NumPy twin (:func:`selfcheck`).

    Attributes
    ----------
    loss : float
        Train-mode loss (torch).
    loss_error : float
        ``|L_torch - L_numpy| / |L_numpy|``.
    grad_error : float
        ``||g_torch - g_numpy|| / ||g_numpy||``.
    hvp_error : float
        Largest ``||Hv_torch - Hv_numpy|| / ||Hv_numpy||`` over the random directions.
    eval_loss_error : float or None
        Relative error of the eval-mode (running statistics) loss; None without running
        statistics.
    tol : float
    passed : bool
        Every error at most ``tol``.
    twin : str
        ``repr`` of the NumPy MLP.
    net : MLP
        The twin itself (weights copied from the model).
    """

    loss: float
    loss_error: float
    grad_error: float
    hvp_error: float
    eval_loss_error: float | None
    tol: float
    passed: bool
    twin: str
    net: object = field(repr=False)

    def __str__(self) -> str:
        ev = "n/a" if self.eval_loss_error is None else f"{self.eval_loss_error:.2e}"
        return (
            f"selfcheck vs {self.twin}: loss {self.loss_error:.2e}, gradient "
            f"{self.grad_error:.2e}, HVP {self.hvp_error:.2e}, eval loss {ev} "
            f"(tol {self.tol:.0e}): {'passed' if self.passed else 'FAILED'}"
        )


def _leaves(module) -> list:
    torch = require_torch()
    if isinstance(module, torch.nn.Sequential):
        return [leaf for m in module for leaf in _leaves(m)]
    return [module]


def _unsupported(why: str) -> TypeError:
    return TypeError(f"model: not expressible as a bntheory.nets.MLP ({why})")


def _parse(model) -> dict:
    """Layers of ``model`` as dicts ``{lin, bn, act}``; TypeError naming ``model`` otherwise."""
    torch = require_torch()
    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise _unsupported(f"expected a torch.nn.Sequential, got {type(model).__name__}")
    layers: list[dict] = []
    for m in _leaves(model):
        kind = type(m).__name__
        if isinstance(m, nn.Linear):
            layers.append({"lin": m, "bn": None, "act": None})
        elif isinstance(m, nn.BatchNorm1d):
            if not layers or layers[-1]["bn"] is not None or layers[-1]["act"] is not None:
                raise _unsupported("BatchNorm1d must directly follow a Linear")
            layers[-1]["bn"] = m
        elif kind in _ACTIVATIONS and type(m) in (nn.Tanh, nn.ReLU, nn.Sigmoid, nn.Identity):
            if not layers or layers[-1]["act"] is not None:
                raise _unsupported(f"{kind} must follow a Linear or BatchNorm1d")
            layers[-1]["act"] = _ACTIVATIONS[kind]
        else:
            raise _unsupported(
                f"module {kind} is not Linear, BatchNorm1d or a supported activation"
            )
    if not layers:
        raise _unsupported("no Linear layer")
    if layers[-1]["act"] not in (None, "linear"):
        raise _unsupported("the output layer must have no nonlinearity (the MLP's is linear)")
    acts = {lay["act"] or "linear" for lay in layers[:-1]}
    if len(acts) > 1:
        raise _unsupported(f"one activation for all hidden layers, got {sorted(acts)}")
    sizes = [layers[0]["lin"].in_features]
    for lay in layers:
        if lay["lin"].in_features != sizes[-1]:
            raise _unsupported("consecutive Linear layers do not chain")
        sizes.append(lay["lin"].out_features)
    bn = [k for k, lay in enumerate(layers) if lay["bn"] is not None]
    bns = [layers[k]["bn"] for k in bn]
    if any(lay["bn"] is not None and lay["lin"].bias is not None for lay in layers):
        raise _unsupported("a Linear before BN has a bias (the MLP has none there; bias=False)")
    plain_bias = {lay["lin"].bias is not None for lay in layers if lay["bn"] is None}
    if len(plain_bias) > 1:
        raise _unsupported("Linear layers without BN must all have a bias or all have none")
    if len({b.eps for b in bns}) > 1 or len({b.affine for b in bns}) > 1:
        raise _unsupported("all BatchNorm1d layers must share eps and affine")
    return {
        "layers": layers,
        "sizes": sizes,
        "activation": acts.pop() if acts else "linear",
        "bn": bn,
        "eps": bns[0].eps if bns else 1e-5,
        "affine": bns[0].affine if bns else True,
        "bias": plain_bias.pop() if plain_bias else True,
    }


def _loss(loss_fn, d_out: int) -> tuple[str, float]:
    """``(MLP loss name, c)`` with ``loss_fn = c * MLP loss``; TypeError naming ``loss_fn``."""
    torch = require_torch()
    F, nn = torch.nn.functional, torch.nn
    if loss_fn is F.cross_entropy:
        return "cross_entropy", 1.0
    if loss_fn is F.mse_loss:
        return "mse", 2.0 / d_out
    if isinstance(loss_fn, nn.CrossEntropyLoss):
        if loss_fn.reduction == "mean" and loss_fn.weight is None and not loss_fn.label_smoothing:
            return "cross_entropy", 1.0
    if isinstance(loss_fn, nn.MSELoss) and loss_fn.reduction == "mean":
        return "mse", 2.0 / d_out
    raise TypeError(
        "loss_fn: selfcheck supports F.cross_entropy, F.mse_loss and nn.CrossEntropyLoss / "
        f"nn.MSELoss with reduction='mean' (no weights, no smoothing), got {loss_fn!r}"
    )


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    nb = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float(np.linalg.norm(a))


def selfcheck(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: Batch,
    *,
    n_vectors: int = 3,
    tol: float = 1e-10,
    rng: int = 0,
) -> SelfCheckReport:
    """Compare ``TorchObjective(model, loss_fn, batch)`` with the NumPy twin of ``model``.

    Parameters
    ----------
    model : torch.nn.Sequential
        Expressible as :class:`bntheory.nets.MLP` (module docstring); otherwise a TypeError
        naming ``model`` says why. Not modified.
    loss_fn : callable
        ``F.cross_entropy``, ``F.mse_loss`` or their ``nn`` modules (``reduction="mean"``).
    batch : (X, y)
        Inputs ``(N, d_in)``; class labels (cross-entropy) or targets ``(N, d_out)``.
    n_vectors : int
        Random directions ``v`` for the HVP comparison.
    tol : float
        Largest relative error that passes (float64 round-off is ~1e-14).
    rng : int
        Seed of the directions.

    Returns
    -------
    SelfCheckReport
        Relative errors of the train-mode loss, gradient and HVPs (and of the eval-mode
        loss), ``passed`` when all are at most ``tol``, and the twin MLP.

    Raises
    ------
    TypeError, ValueError
        Naming ``model`` or ``loss_fn`` (unsupported), ``n_vectors`` (not an int in
        ``[1, 1000]``: 0 would check no Hessian-vector product) or ``tol``.
    """
    from bntheory.nets import MLP

    if isinstance(n_vectors, bool) or not isinstance(n_vectors, (int, np.integer)):
        raise TypeError(f"n_vectors must be an int, got {type(n_vectors).__name__}")
    if not 1 <= n_vectors <= 1000:
        raise ValueError(f"n_vectors must be in [1, 1000], got {n_vectors}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    spec = _parse(model)
    name, c = _loss(loss_fn, spec["sizes"][-1])
    net = MLP(
        spec["sizes"],
        spec["activation"],
        bn=spec["bn"],
        eps=spec["eps"],
        train_affine=spec["affine"],
        bias=spec["bias"],
        loss=name,
        rng=0,
    )
    obj = TorchObjective(model, loss_fn, batch, bn="train", params=lambda n, p: True)
    tslot = {s.name: s for s in obj._slots}
    pname = {id(p): n for n, p in model.named_parameters()}
    theta = np.zeros(net.dim)
    perm = np.zeros(obj.dim, dtype=int)  # torch flat position -> numpy flat position
    for s in net.specs:
        lay = spec["layers"][s.layer]
        mod = {"W": lay["lin"], "b": lay["lin"], "gamma": lay["bn"], "beta": lay["bn"]}[s.kind]
        p = mod.weight if s.kind in ("W", "gamma") else mod.bias
        ts = tslot[pname[id(p)]]
        idx = np.arange(s.slice.start, s.slice.stop).reshape(s.shape)
        if s.kind == "W":
            idx = idx.T  # numpy (in, out), torch (out, in)
        perm[ts.start : ts.stop] = idx.reshape(-1)
        theta[idx.reshape(-1)] = obj.x0[ts.start : ts.stop]
    net.set_flat(theta)
    for k in spec["bn"]:
        b = spec["layers"][k]["bn"]
        if b.running_mean is not None:
            net.batchnorms[k].running_mean = b.running_mean.detach().double().numpy().copy()
            net.batchnorms[k].running_var = b.running_var.detach().double().numpy().copy()
    X = obj._X.detach().double().numpy()
    Y = obj._y.detach().numpy()
    L_np, g_np = net.loss_and_grad(X, Y)
    L_t, g_t = obj.loss_and_grad(obj.x0)
    gen = np.random.default_rng(rng)
    hvp_err = 0.0
    for _ in range(n_vectors):
        v = gen.standard_normal(obj.dim)
        v_np = np.empty(net.dim)
        v_np[perm] = v
        hvp_err = max(hvp_err, _rel(obj.hvp(obj.x0, v), c * net.hvp(X, Y, v_np)[perm]))
    ev_err = None
    if all(spec["layers"][k]["bn"].running_mean is not None for k in spec["bn"]):
        ev = TorchObjective(model, loss_fn, batch, bn="eval", params=lambda n, p: True)
        ev_err = _rel(ev.loss(ev.x0), c * net.loss(X, Y, training=False))
    errs = [_rel(L_t, c * L_np), _rel(g_t, c * g_np[perm]), hvp_err]
    passed = all(e <= tol for e in errs) and (ev_err is None or ev_err <= tol)
    return SelfCheckReport(float(L_t), *errs, ev_err, float(tol), bool(passed), repr(net), net)

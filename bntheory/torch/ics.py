"""Internal covariate shift of Santurkar et al. (2018), Definition 2.1, for PyTorch models:
the gradient of each layer before and after the earlier layers' update, on the same
mini-batch, while a private copy of the model trains with (S)GD. Same records and
definitions as :func:`bntheory.nets.measurements.internal_covariate_shift` (see
:mod:`bntheory.torch.landscape` for the shared setup)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bntheory.nets.measurements import ICSResult
from bntheory.status import Status
from bntheory.torch._layers import flat_index, layer_groups
from bntheory.torch.landscape import _Data, _setup, safe_loss_and_grad
from bntheory.torch.objective import ParamSelection

if TYPE_CHECKING:
    import torch

__all__ = ["internal_covariate_shift"]


def internal_covariate_shift(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: ArrayLike | torch.Tensor,
    y: ArrayLike | torch.Tensor,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    every: int = 1,
    params: ParamSelection = None,
    layers: Sequence[Sequence[str]] | None = None,
    rng: int | np.random.Generator | None = None,
) -> ICSResult:
    """ICS of Santurkar et al. (2018), Definition 2.1, while training a copy with (S)GD.

    ``G_{t,i} = grad_{W_i} L(W_1^t, ..., W_k^t)`` and ``G'_{t,i} = grad_{W_i}
    L(W_1^{t+1}, ..., W_{i-1}^{t+1}, W_i^t, ..., W_k^t)`` on the same mini-batch; ``l2`` is
    ``||G - G'||``, ``cosine`` their cosine, ``relative`` ``l2 / ||G||`` (layer 0: 0, 1, 0),
    exactly as :func:`bntheory.nets.measurements.internal_covariate_shift`.

    Parameters
    ----------
    model, loss_fn, X, y, lr, steps, batch_size, every, params, rng
        As for :func:`santurkar_landscape`.
    layers : sequence of sequences of str, optional
        The layers ``W_i`` in forward order, as parameter names. Default: one layer per
        module with parameters, BN scale and shift joining the layer before
        (:func:`bntheory.torch.layer_groups`; the NumPy MLP's layers).

    Returns
    -------
    ICSResult
        Per probed step ``t`` and layer ``i`` (arrays of shape ``(n_probed, n_layers)``):
        ``l2``, ``cosine``, ``relative``; a probe whose shifted gradient overflowed gives
        ``inf``, 0, ``inf``. ``status`` ``"diverged"`` when training became non-finite.

    Raises
    ------
    ValueError
        As :func:`santurkar_landscape`, and for ``layers`` naming unknown or unselected
        parameters.
    """
    obj, lr, steps, every = _setup(model, loss_fn, X, y, lr, steps, every, params)
    if layers is None:
        groups = [names for _, names in layer_groups(obj)]
    else:
        groups = [list(g) for g in layers]
        bad = [n for g in groups for n in g if n not in obj.names]
        if bad or not groups:
            raise ValueError(f"layers: unknown or unselected parameter names {bad}")
    idx = [flat_index(obj, g) for g in groups]
    nl = len(groups)
    data = _Data(obj, X, y, batch_size, rng)
    theta = obj.x0.copy()
    rec, l2s, coss, rels = [], [], [], []
    status = Status.COMPLETED
    for t in range(steps):
        ob = data.next(obj)
        _, g = safe_loss_and_grad(ob, theta)
        if g is None:
            status = Status.DIVERGED
            break
        if t % every == 0:
            l2, cs, rl = np.zeros(nl), np.ones(nl), np.zeros(nl)
            for i in range(1, nl):
                before = np.concatenate(idx[:i])
                th2 = theta.copy()
                th2[before] -= lr * g[before]  # earlier layers updated
                _, g2 = safe_loss_and_grad(ob, th2)
                if g2 is None:
                    l2[i], cs[i], rl[i] = np.inf, 0.0, np.inf
                    continue
                G, G2 = g[idx[i]], g2[idx[i]]
                with np.errstate(all="ignore"):
                    nG, nG2 = np.linalg.norm(G), np.linalg.norm(G2)
                    l2[i] = np.linalg.norm(G - G2)
                    cs[i] = float(G @ G2 / (nG * nG2)) if nG > 0 and nG2 > 0 else 1.0
                    rl[i] = l2[i] / nG if nG > 0 else 0.0
                if not np.isfinite(cs[i]):
                    cs[i] = 0.0
            rec.append(t)
            l2s.append(l2)
            coss.append(cs)
            rels.append(rl)
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = Status.DIVERGED
            break
    shape = (-1, nl)
    return ICSResult(
        np.asarray(rec),
        np.asarray(l2s).reshape(shape),
        np.asarray(coss).reshape(shape),
        np.asarray(rels).reshape(shape),
        status.value,
    )

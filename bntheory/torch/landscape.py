"""Santurkar et al. (2018) for PyTorch models: the landscape along the gradient and internal
covariate shift (Def. 2.1), with the definitions of :mod:`bntheory.nets.measurements`.

Same mathematics, same records: :func:`santurkar_landscape` and
:func:`internal_covariate_shift` return :class:`bntheory.nets.measurements.LandscapeResult`
and :class:`~bntheory.nets.measurements.ICSResult`, use the same default step grid
(``s = 0.5, 1.1, ..., 3.5``, read from :func:`bntheory.nets.measurements.santurkar_landscape`'s
signature) and the same mini-batch order for the same ``rng``, so on a network the NumPy
:class:`~bntheory.nets.MLP` can express they give the same numbers (tests).

All losses and gradients are of the train-mode objective (batch statistics) of a private
copy of the model (:class:`~bntheory.torch.TorchObjective`): probes never update BN running
statistics, and the user's model is never modified (these functions train the copy with
plain (S)GD; the model keeps its parameters).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bntheory._checks import as_generator
from bntheory.nets import measurements as _nm
from bntheory.nets.checks import check_batch_size
from bntheory.nets.loop import MiniBatches
from bntheory.nets.measurements import LandscapeResult
from bntheory.status import Status
from bntheory.torch.objective import ParamSelection, TorchObjective

if TYPE_CHECKING:
    import torch

__all__ = [
    "S_GRID",
    "LandscapePoint",
    "internal_covariate_shift",
    "landscape_at",
    "santurkar_landscape",
]

#: Step multipliers of the landscape probes, shared with ``bntheory.nets``: the probes sit
#: at ``w - lr * s * grad`` (the paper's exact grid is not published; this spacing follows a
#: public JAX replication).
S_GRID = tuple(
    float(s) for s in inspect.signature(_nm.santurkar_landscape).parameters["s_grid"].default
)


def safe_loss_and_grad(obj: TorchObjective, x: np.ndarray) -> tuple[float, np.ndarray | None]:
    """``obj.loss_and_grad(x)``, with a non-finite point, loss or gradient as ``(inf, None)``.

    Parameters
    ----------
    obj : TorchObjective
    x : ndarray
        Flat parameters.

    Returns
    -------
    (float, ndarray or None)
    """
    if not np.all(np.isfinite(x)):
        return float("inf"), None
    L, g = obj.loss_and_grad(x)
    if not (np.isfinite(L) and np.all(np.isfinite(g))):
        return float("inf"), None
    return L, g


@dataclass(frozen=True, slots=True)
class LandscapePoint:
    """The landscape along the gradient at one point (Santurkar et al. 2018, Sec. 3.1, Fig. 4).

    Attributes
    ----------
    loss, grad_norm : float
        At the point (train mode).
    s_grid : ndarray
        Multipliers ``s``; probes at ``w - lr * s * g``.
    losses : ndarray
        Loss at each probe (``inf`` where it overflowed).
    grad_changes : ndarray
        ``||grad L(w - lr s g) - grad L(w)||`` per probe.
    loss_range : float
        ``max_s L - min_s L`` (``inf`` if a probe overflowed).
    grad_predictiveness : float
        ``max_s ||grad L(w - lr s g) - g||``.
    beta_smoothness : float
        ``max_s ||grad L(w - lr s g) - g|| / (lr s ||g||)`` (effective beta-smoothness).
    """

    loss: float
    grad_norm: float
    s_grid: np.ndarray = field(repr=False)
    losses: np.ndarray = field(repr=False)
    grad_changes: np.ndarray = field(repr=False)
    loss_range: float
    grad_predictiveness: float
    beta_smoothness: float


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def _check_grid(s_grid) -> np.ndarray:
    try:
        s = np.asarray(s_grid, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"s_grid must be a 1-D array of positive numbers, got {s_grid!r:.60}"
        ) from None
    if s.ndim != 1 or s.size < 1 or np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("s_grid must be a non-empty 1-D array of positive multipliers")
    return s


def _check_point(x, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as a float array of the objective's flat shape (errors name ``x``)."""
    try:
        out = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"x must be an array of numbers, got {type(x).__name__}") from None
    if out.shape != shape:
        raise ValueError(f"x must have shape {shape} (the flat parameters), got {out.shape}")
    return out


def landscape_at(
    obj: TorchObjective,
    x: np.ndarray | None = None,
    *,
    lr: float,
    s_grid: Sequence[float] = S_GRID,
    loss_grad: tuple[float, np.ndarray] | None = None,
) -> LandscapePoint:
    """Loss and gradient along the negative gradient at ``x`` (Santurkar et al. 2018, Fig. 4).

    Parameters
    ----------
    obj : TorchObjective
        Usually ``bn="train"``; the probes use ``obj``'s batch.
    x : ndarray, optional
        Flat parameters (default ``obj.x0``).
    lr : float
        Learning rate: the probes sit at ``x - lr * s * grad``.
    s_grid : sequence of float
        Step multipliers (default :data:`S_GRID`, as in ``bntheory.nets``).
    loss_grad : (float, ndarray), optional
        The loss and gradient at ``x`` when already known (saves one backward pass).

    Returns
    -------
    LandscapePoint
        Non-finite probes are ``inf`` (never NaN, never an exception).

    Raises
    ------
    ValueError, TypeError
        Naming ``lr``, ``s_grid`` or ``x`` (wrong shape, not numbers).
    """
    lr = _check_positive(lr, "lr")
    s = _check_grid(s_grid)
    x = obj.x0 if x is None else _check_point(x, obj.x0.shape)
    L, g = loss_grad if loss_grad is not None else safe_loss_and_grad(obj, x)
    if g is None:
        inf = np.full(s.size, np.inf)
        return LandscapePoint(float("inf"), float("inf"), s, inf, inf, np.inf, np.inf, np.inf)
    with np.errstate(all="ignore"):
        gn = float(np.linalg.norm(g))
    Ls, dg, bs = [], [], []
    for si in s:
        with np.errstate(all="ignore"):
            Li, gi = safe_loss_and_grad(obj, x - lr * si * g)
        Ls.append(Li)
        if gi is None:
            dg.append(np.inf)
            bs.append(np.inf)
            continue
        with np.errstate(all="ignore"):
            d = float(np.linalg.norm(gi - g))
        dg.append(d)
        bs.append(d / (lr * si * gn) if gn > 0 else 0.0)
    Ls_a = np.asarray(Ls, dtype=float)
    lrange = float(Ls_a.max() - Ls_a.min()) if np.all(np.isfinite(Ls_a)) else np.inf
    return LandscapePoint(
        float(L), gn, s, Ls_a, np.asarray(dg), lrange, float(max(dg)), float(max(bs))
    )


class _Data:
    """The training set as tensors, with the mini-batch order of ``bntheory.nets``."""

    def __init__(self, obj: TorchObjective, X, y, batch_size, rng) -> None:
        from bntheory.torch.objective import _prepare_batch

        self.X, self.y = _prepare_batch((X, y), obj.dtype)
        n = int(self.X.shape[0])
        self.batches = MiniBatches(n, check_batch_size(batch_size, n), as_generator(rng))
        self.full = batch_size is None

    def next(self, obj: TorchObjective) -> TorchObjective:
        import torch

        idx = self.batches.next()  # None: the full batch, taken as arange(n) (same copy)
        idx = torch.as_tensor(np.arange(self.batches.n) if idx is None else idx)
        return obj.with_batch((self.X[idx], self.y[idx]))


def _setup(model, loss_fn, X, y, lr, steps, every, params):
    lr = _check_positive(lr, "lr")
    steps = _check_count(steps, "steps")
    every = _check_count(every, "every")
    obj = TorchObjective(model, loss_fn, (X, y), bn="train", params=params)
    return obj, lr, steps, every


def santurkar_landscape(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: ArrayLike | torch.Tensor,
    y: ArrayLike | torch.Tensor,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    s_grid: Sequence[float] = S_GRID,
    every: int = 1,
    params: ParamSelection = None,
    rng: int | np.random.Generator | None = None,
) -> LandscapeResult:
    """Train a copy of ``model`` with (S)GD and probe the landscape every ``every`` steps.

    The definitions and defaults of :func:`bntheory.nets.measurements.santurkar_landscape`
    (Santurkar et al. 2018, Sec. 3.1, Fig. 4): at step ``t`` on the current mini-batch,
    loss range ``max_s L - min_s L``, gradient predictiveness ``max_s ||grad L(w - lr s g)
    - g||`` and effective beta-smoothness (that over ``lr s ||g||``) for ``s`` in ``s_grid``.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified (a private copy is trained).
    loss_fn : callable
        ``loss_fn(output, y) -> scalar``.
    X, y : array_like or tensor
        Training set: inputs with samples along axis 0, and targets or class labels.
    lr : float
        Learning rate of plain (S)GD (no momentum) and of the probes (> 0).
    steps : int
        Training steps (>= 1).
    batch_size : int, optional
        Mini-batch size in ``[2, n]`` (reshuffled epochs, the order of ``bntheory.nets``);
        None: full batch.
    s_grid : sequence of float
        Probe multipliers (default :data:`S_GRID`).
    every : int
        Probe every ``every`` steps.
    params : optional
        Parameter selection (:class:`TorchObjective`); the others stay fixed.
    rng : int, Generator or None
        Seed of the mini-batch order.

    Returns
    -------
    LandscapeResult
        Per probed step: ``loss_range``, ``grad_predictiveness``, ``beta_smoothness``; the
        mini-batch loss of every step; ``status`` ``"diverged"`` when a loss, gradient or
        parameter became non-finite (the arrays then stop there).

    Raises
    ------
    ValueError
        Naming the argument: ``lr`` not positive and finite, ``steps`` or ``every`` not an
        int >= 1, a bad ``s_grid`` or ``batch_size``.
    """
    obj, lr, steps, every = _setup(model, loss_fn, X, y, lr, steps, every, params)
    s = _check_grid(s_grid)
    data = _Data(obj, X, y, batch_size, rng)
    theta = obj.x0.copy()
    rec, lrange, gpred, beta, losses = [], [], [], [], []
    status = Status.COMPLETED
    for t in range(steps):
        ob = data.next(obj)
        L, g = safe_loss_and_grad(ob, theta)
        if g is None:
            status = Status.DIVERGED
            break
        losses.append(L)
        if t % every == 0:
            p = landscape_at(ob, theta, lr=lr, s_grid=s, loss_grad=(L, g))
            rec.append(t)
            lrange.append(p.loss_range)
            gpred.append(p.grad_predictiveness)
            beta.append(p.beta_smoothness)
        with np.errstate(all="ignore"):
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            status = Status.DIVERGED
            break
    return LandscapeResult(
        status.value,
        np.asarray(rec),
        s,
        np.asarray(lrange, dtype=float),
        np.asarray(gpred, dtype=float),
        np.asarray(beta, dtype=float),
        np.asarray(losses, dtype=float),
    )


# Definition 2.1 lives in bntheory.torch.ics (this module's size); re-exported here, where
# it was defined before.
from bntheory.torch.ics import internal_covariate_shift  # noqa: E402

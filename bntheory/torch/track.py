"""Curvature tracking inside the user's own PyTorch training loop.

>>> with track(model, F.cross_entropy, lr=0.05, every=10) as tr:      # doctest: +SKIP
...     for X, y in loader:
...         tr.step((X, y))          # before optimizer.step(): measures every 10th call
...         opt.zero_grad(); F.cross_entropy(model(X), y).backward(); opt.step()
>>> tr.result.plot()                                                 # doctest: +SKIP

Every ``every`` calls the tracker measures, on that call's batch and at the model's current
parameters, the train-mode objective (:class:`~bntheory.torch.TorchObjective`, BN with
batch statistics: the objective the loop minimises): the largest Hessian eigenvalue by
Lanczos warm-started from the previous measurement's top eigenvector (:func:`warm_lanczos`),
the Hessian trace (Hutchinson), and Santurkar et al.'s (2018) landscape measures along the
gradient (:func:`bntheory.torch.landscape.landscape_at`). It flags the *edge of stability*
(Cohen, Kaur, Li, Kolter & Talwalkar 2021, ICLR): gradient descent with step ``lr`` is
stable on a quadratic only while ``lambda_max < 2 / lr`` (``(2 + 2 beta) / lr`` with heavy-
ball momentum ``beta``, their Sec. 2 / App. B). The model is never modified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bntheory.status import Status
from bntheory.torch.landscape import (
    S_GRID,
    _check_count,
    _check_grid,
    _check_positive,
    landscape_at,
)
from bntheory.torch.objective import BN_MODES, Batch, ParamSelection, TorchObjective

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure
    from scipy.sparse.linalg import LinearOperator

__all__ = ["TrackResult", "Tracker", "track", "warm_lanczos"]

#: Below this dimension lambda_max is taken from the dense Hessian.
_DENSE_DIM = 20


@dataclass(frozen=True, slots=True)
class TrackResult:
    """What :class:`Tracker` recorded, one entry per measurement.

    Attributes
    ----------
    steps : ndarray of int
        Call index (training step) of each measurement.
    loss, grad_norm : ndarray
        Train-mode loss and gradient norm on the step's batch.
    lambda_max : ndarray
        Largest Hessian eigenvalue.
    matvecs : ndarray of int
        Hessian-vector products Lanczos used (warm starts need fewer).
    trace, trace_se : ndarray
        Hutchinson trace estimate and its standard error.
    loss_range, grad_predictiveness, beta_smoothness : ndarray
        Santurkar et al. (2018) landscape measures (empty arrays when not measured).
    lr : float
    threshold : float
        Edge of stability ``(2 + 2 momentum) / lr``.
    edge_of_stability : ndarray of bool
        ``lambda_max >= threshold``.
    status : Status
        ``COMPLETED``, or ``DIVERGED`` when a loss or gradient became non-finite (no later
        measurement).
    bn : str
    """

    steps: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    grad_norm: np.ndarray = field(repr=False)
    lambda_max: np.ndarray = field(repr=False)
    matvecs: np.ndarray = field(repr=False)
    trace: np.ndarray = field(repr=False)
    trace_se: np.ndarray = field(repr=False)
    loss_range: np.ndarray = field(repr=False)
    grad_predictiveness: np.ndarray = field(repr=False)
    beta_smoothness: np.ndarray = field(repr=False)
    lr: float
    threshold: float
    edge_of_stability: np.ndarray = field(repr=False)
    status: Status
    bn: str

    @property
    def first_edge_step(self) -> int | None:
        """The first measured step at the edge of stability, or None."""
        hit = np.nonzero(self.edge_of_stability)[0]
        return int(self.steps[hit[0]]) if hit.size else None

    def plot(self) -> Figure:
        """Matplotlib figure: ``lambda_max`` against ``2/lr``, the trace, and the landscape.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        n = 3 if self.beta_smoothness.size else 2
        fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.0), constrained_layout=True)
        ax = axes[0]
        ax.plot(self.steps, self.lambda_max, marker="o", ms=3, label=r"$\lambda_{max}$")
        ax.axhline(
            self.threshold, color="0.3", ls="--", label=f"edge of stability {self.threshold:.3g}"
        )
        ax.set_xlabel("step")
        ax.set_ylabel(f"Hessian (bn={self.bn})")
        ax.legend(fontsize=7)
        ax = axes[1]
        ax.errorbar(self.steps, self.trace, yerr=self.trace_se, marker="o", ms=3, capsize=2)
        ax.set_xlabel("step")
        ax.set_ylabel("trace (Hutchinson)")
        if n == 3:
            ax = axes[2]
            ax.plot(self.steps, self.beta_smoothness, marker="o", ms=3, label="beta-smoothness")
            ax.plot(self.steps, self.grad_predictiveness, marker="s", ms=3, label="grad. pred.")
            ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.legend(fontsize=7)
        return fig


def warm_lanczos(
    op: LinearOperator, v0: np.ndarray, *, tol: float = 1e-4, max_matvecs: int = 400
) -> tuple[float, np.ndarray, int]:
    """Largest eigenpair by Lanczos restarted from its own Ritz vector, started at ``v0``.

    Each cycle runs :func:`bntheory.measures.lanczos` (full re-orthogonalisation) from the
    current vector for ``m`` steps (8, doubling up to 64), takes the top Ritz pair
    ``(theta, y)`` and stops once its residual ``||A y - theta y|| = beta_m |s_m|`` is at
    most ``tol |theta|`` (Saad 2011, *Numerical Methods for Large Eigenvalue Problems*,
    Sec. 6.3), at a breakdown, or after ``max_matvecs`` products. Started from the previous
    measurement's eigenvector, a slowly moving top eigenvector converges in one short cycle.

    Parameters
    ----------
    op : scipy.sparse.linalg.LinearOperator
        Symmetric operator of shape ``(d, d)`` (e.g.
        :func:`bntheory.measures.hessian_operator`).
    v0 : ndarray, shape (d,)
        Start vector (nonzero; need not be normalized).
    tol : float
        Relative residual tolerance.
    max_matvecs : int
        Budget of operator products.

    Returns
    -------
    (float, ndarray, int)
        The Ritz value, the unit Ritz vector and the number of products used.

    Raises
    ------
    ValueError, TypeError
        Naming ``v0`` (wrong length, zero, not finite), ``tol`` or ``max_matvecs``.
    """
    from bntheory.measures import lanczos

    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    max_matvecs = _check_count(max_matvecs, "max_matvecs")
    d = op.shape[0]
    try:
        v, used, m = np.asarray(v0, dtype=float), 0, 8
    except (TypeError, ValueError):
        raise TypeError(f"v0 must be an array of numbers, got {type(v0).__name__}") from None
    top = np.max(np.abs(v)) if v.size and np.all(np.isfinite(v)) else 0.0
    if top > 0:  # scale-free start: a huge or tiny v0 would over/underflow its norm
        v = v / top
    while True:
        res = lanczos(op, min(m, d), v0=v, return_basis=True)
        n = res.alphas.size
        used += n
        T = np.diag(res.alphas) + np.diag(res.betas, 1) + np.diag(res.betas, -1)
        theta, S = np.linalg.eigh(T)
        y = res.basis @ S[:, -1]
        y /= np.linalg.norm(y)
        resid = res.residual_beta * abs(S[-1, -1])
        if res.breakdown or resid <= tol * abs(theta[-1]) or used >= max_matvecs or n >= d:
            return float(theta[-1]), y, used
        v, m = y, min(2 * m, 64)


class Tracker:
    """Records curvature every ``every`` training steps of the user's loop (module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained (read, never modified).
    loss_fn : callable
        ``loss_fn(output, y) -> scalar``: the training loss.
    lr : float
        The optimizer's learning rate (for the landscape probes and the edge of stability).
    every : int
        Measure on every ``every``-th call of :meth:`step` (call 0 included).
    bn : {"train", "eval", "frozen"}
        BN mode of the measured Hessian (default ``"train"``, the trained objective).
    params : optional
        Parameter selection (:class:`TorchObjective`).
    n_probes : int
        Hutchinson probes per trace (0: no trace; else at least 2, for its standard error).
    landscape : bool
        Also measure Santurkar et al.'s landscape along the gradient.
    s_grid : sequence of float
        Landscape step multipliers (shared with ``bntheory.nets``).
    momentum : float
        Heavy-ball momentum of the optimizer (moves the edge of stability to
        ``(2 + 2 momentum) / lr``).
    tol : float
        Relative Ritz residual at which ``lambda_max`` is accepted (:func:`warm_lanczos`).
    rng : int
        Seed of the first Lanczos start vector and of the trace probes.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        *,
        lr: float,
        every: int = 10,
        bn: str = "train",
        params: ParamSelection = None,
        n_probes: int = 10,
        landscape: bool = True,
        s_grid: Sequence[float] = S_GRID,
        momentum: float = 0.0,
        tol: float = 1e-4,
        rng: int = 0,
    ) -> None:
        if bn not in BN_MODES:
            raise ValueError(f"bn must be one of {BN_MODES}, got {bn!r}")
        if (
            isinstance(n_probes, bool)
            or not isinstance(n_probes, (int, np.integer))
            or n_probes < 0
            or n_probes == 1  # a trace's standard error needs two probes
        ):
            raise ValueError(f"n_probes must be 0 or an int >= 2, got {n_probes!r}")
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
        self.model, self.loss_fn = model, loss_fn
        self.lr = _check_positive(lr, "lr")
        self.every = _check_count(every, "every")
        self.bn, self.params, self.n_probes = bn, params, int(n_probes)
        self.landscape, self.s_grid = bool(landscape), tuple(_check_grid(s_grid))
        self.threshold = (2.0 + 2.0 * float(momentum)) / self.lr
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < 1:
            raise ValueError(f"tol must be a number in [0, 1), got {tol!r}")
        self.tol = float(tol)
        self._gen = np.random.default_rng(rng)
        self._calls = 0
        self._v: np.ndarray | None = None
        self._rows: list[dict] = []
        self.status = Status.COMPLETED

    # ------------------------------------------------------------------ the loop API
    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, batch: Batch) -> bool:
        """Same as :meth:`step` (so the tracker is a callback)."""
        return self.step(batch)

    def step(self, batch: Batch) -> bool:
        """Count one training step; measure on ``batch`` if it is a measuring step.

        Parameters
        ----------
        batch : (X, y)
            The step's batch (call before ``optimizer.step()`` to measure the point the
            update starts from).

        Returns
        -------
        bool
            Whether a measurement was taken (False on the steps between, and on every step
            once a measurement found the model diverged).
        """
        t = self._calls
        self._calls += 1
        if t % self.every or self.status == Status.DIVERGED:
            return False
        self._measure(t, batch)
        return True

    def _lambda_max(self, obj: TorchObjective, x: np.ndarray) -> tuple[float, int]:
        from bntheory.measures import hessian_operator

        if obj.dim <= _DENSE_DIM:
            return float(np.linalg.eigvalsh(obj.hessian(x))[-1]), obj.dim
        v0 = self._v if self._v is not None and self._v.shape == (obj.dim,) else None
        if v0 is None:
            v0 = self._gen.standard_normal(obj.dim)
        lam, vec, used = warm_lanczos(hessian_operator(obj, x), v0, tol=self.tol)
        self._v = vec
        return lam, used

    def _measure(self, t: int, batch) -> None:
        from bntheory.measures import hessian_operator, hutchinson_trace

        obj = TorchObjective(self.model, self.loss_fn, batch, bn=self.bn, params=self.params)
        x = obj.x0
        L, g = obj.loss_and_grad(x)
        if not (np.isfinite(L) and np.all(np.isfinite(g))):
            self.status = Status.DIVERGED
            return
        lam, mv = self._lambda_max(obj, x)
        row = {"step": t, "loss": L, "grad_norm": float(np.linalg.norm(g)), "lambda_max": lam}
        row["matvecs"] = mv
        if self.n_probes:
            tr = hutchinson_trace(
                hessian_operator(obj, x), self.n_probes, rng=int(self._gen.integers(2**31))
            )
            row["trace"], row["trace_se"] = float(tr.estimate), float(tr.standard_error)
        else:
            row["trace"] = row["trace_se"] = float("nan")
        if self.landscape:
            p = landscape_at(obj, x, lr=self.lr, s_grid=self.s_grid, loss_grad=(L, g))
            row.update(
                loss_range=p.loss_range,
                grad_predictiveness=p.grad_predictiveness,
                beta_smoothness=p.beta_smoothness,
            )
        self._rows.append(row)

    # ------------------------------------------------------------------ the result
    @property
    def result(self) -> TrackResult:
        """Everything recorded so far, as a frozen :class:`TrackResult`."""

        def col(key: str, dtype=float) -> np.ndarray:
            return np.array([r[key] for r in self._rows if key in r], dtype=dtype)

        lam = col("lambda_max")
        return TrackResult(
            col("step", int),
            col("loss"),
            col("grad_norm"),
            lam,
            col("matvecs", int),
            col("trace"),
            col("trace_se"),
            col("loss_range"),
            col("grad_predictiveness"),
            col("beta_smoothness"),
            self.lr,
            self.threshold,
            lam >= self.threshold,
            self.status,
            self.bn,
        )


def track(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    lr: float,
    every: int = 10,
    **options: object,
) -> Tracker:
    """A :class:`Tracker` to use as a context manager or callback in a training loop.

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained (read at each measurement, never modified).
    loss_fn : callable
        ``loss_fn(output, y) -> scalar``: the training loss.
    lr : float
        The optimizer's learning rate.
    every : int
        Measure every ``every`` steps.
    **options
        Further :class:`Tracker` options (``bn``, ``params``, ``n_probes``, ``landscape``,
        ``s_grid``, ``momentum``, ``tol``, ``rng``).

    Returns
    -------
    Tracker
        Call ``tracker.step(batch)`` once per training step, then read
        ``tracker.result()`` (:class:`TrackResult`).
    """
    return Tracker(model, loss_fn, lr=lr, every=every, **options)

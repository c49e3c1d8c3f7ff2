"""The ``solve`` driver and the frozen ``Result`` record (shape after optimistix / scipy.optimize)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bntheory._checks import as_int, as_real

__all__ = ["Result", "Diagnostics", "solve"]

Array = np.ndarray

#: A run is declared diverged when the loss exceeds this factor times max(|loss_0|, 1)
#: (or anything becomes non-finite): long before float64 overflow.
DIVERGENCE_FACTOR = 1e12


@dataclass(frozen=True, slots=True)
class Result:
    """Trajectory of one solver run.

    Attributes
    ----------
    x : ndarray
        Final effective weight in the ORIGINAL space (``g w / ||w||_S`` for BN solvers), so
        runs with and without BN compare directly.
    params : ndarray
        Final raw parameters (``w`` for GD; stacked ``(a, w)`` for BNGD / GDNP).
    losses, gaps, grad_norms : ndarray
        Per iterate ``k = 0..n_steps`` (length ``n_steps + 1``): loss of the effective weight,
        loss minus the optimum (``None`` when the optimum is unknown; computed without
        cancellation where the problem allows), and the norm of the gradient of the ORIGINAL
        objective at the effective weight.
    status : str
        ``"converged"``, ``"max_steps"`` or ``"diverged"``.
    message : str
        Human-readable reason.
    n_steps : int
        Number of steps taken (arrays are truncated at the last finite iterate).
    history : dict
        Solver-specific per-iterate arrays (same length as ``losses``).
    """

    x: Array
    params: Array
    losses: Array
    gaps: Array | None
    grad_norms: Array
    status: str
    message: str
    n_steps: int
    history: dict[str, Array] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """``status == "converged"``."""
        return self.status == "converged"


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """What a solver reports about its current iterate (internal protocol)."""

    loss: float
    gap: float | None
    grad_norm: float
    x: Array
    extra: dict[str, float]


def _finite(d: Diagnostics) -> bool:
    ok = np.isfinite(d.loss) and np.isfinite(d.grad_norm) and bool(np.all(np.isfinite(d.x)))
    if d.gap is not None:
        ok = ok and np.isfinite(d.gap)
    return bool(ok and all(np.isfinite(v) for v in d.extra.values()))


def _state_finite(state: object) -> bool:
    """Whether every number in a solver state (nested tuples/lists of arrays and scalars)
    is finite; non-numeric entries are ignored."""
    if isinstance(state, (tuple, list)):
        return all(_state_finite(e) for e in state)
    if isinstance(state, (np.ndarray, float, int, np.floating, np.integer)):
        arr = np.asarray(state)
        return not np.issubdtype(arr.dtype, np.number) or bool(np.all(np.isfinite(arr)))
    return True


def solve(
    problem: Any,
    solver: Any,
    x0: object,
    *,
    max_steps: int = 1000,
    tol: float = 1e-12,
    callback: Callable[[int, Diagnostics], bool | None] | None = None,
) -> Result:
    """Run ``solver`` on ``problem`` from ``x0``.

    Parameters
    ----------
    problem : LeastSquares, GaussianHalfspace, ...
        The objective in the original weight space (BN solvers reparametrize it themselves).
    solver : GradientDescent, BNGD or GDNP
    x0 : array_like or tuple
        Initial raw parameters: ``w0`` for GD; ``(a0, w0)`` (tuple or stacked vector) for
        BN solvers.
    max_steps : int
        Maximum number of steps (``>= 0``).
    tol : float
        Converged when ``||grad f(x_k)|| <= tol * max(1, ||grad f(x_0)||)`` (gradient of the
        original objective at the effective weight).
    callback : callable, optional
        ``callback(k, diagnostics)``; returning ``True`` stops the run (status "converged"
        with message "stopped by callback").

    Returns
    -------
    Result
    """
    max_steps = as_int(max_steps, "max_steps", minimum=0)
    tol = as_real(tol, "tol", nonneg=True)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    if not (
        hasattr(problem, "dim") and (hasattr(problem, "loss") or hasattr(problem, "loss_grad_gap"))
    ):
        raise TypeError(
            "problem must be a problem object (LeastSquares, GaussianHalfspace, ...) with "
            f"dim, loss and grad, got {type(problem).__name__}"
        )
    for name in ("start", "step"):
        if not hasattr(solver, name):
            raise TypeError(
                f"solver must be a GradientDescent, BNGD or GDNP instance, got {type(solver).__name__}"
            )
    with np.errstate(all="ignore"):
        try:
            state = solver.start(problem, x0)
        except ArithmeticError as exc:  # Python-float overflow / division by zero
            raise ValueError(
                f"x0: the solver cannot start from it ({type(exc).__name__}: {exc})"
            ) from exc
    diags: list[Diagnostics] = []
    status, message = "max_steps", f"reached max_steps={max_steps}"
    threshold = None
    stop_grad = None
    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            try:
                diag, nxt = solver.step(problem, state, evaluate_only=(k == max_steps))
            except ArithmeticError as exc:
                # Python floats raise (ZeroDivisionError, OverflowError) where NumPy
                # would give inf/NaN: the same thing, a non-finite iterate.
                status, message = "diverged", f"{type(exc).__name__} at step {k}: {exc}"
                break
            except ValueError as exc:
                # The arguments were validated by solver.start, so a problem that rejects
                # a point mid-run (non-finite or overflowing intermediate, e.g. inside
                # GDNP's bisection) means the run left the representable range.
                if k == 0:
                    raise ValueError(f"x0: the first step fails ({exc})") from exc
                status, message = "diverged", f"step {k} left the float range: {exc}"
                break
            if not _finite(diag):
                status, message = "diverged", f"non-finite iterate at step {k}"
                break
            if threshold is None:
                threshold = DIVERGENCE_FACTOR * max(abs(diag.loss), 1.0)
                stop_grad = tol * max(1.0, diag.grad_norm)
            diags.append(diag)
            last_state = state
            if diag.loss > threshold:
                status, message = (
                    "diverged",
                    f"loss {diag.loss:.3g} > {DIVERGENCE_FACTOR:.0e} x initial at step {k}",
                )
                break
            if diag.grad_norm <= stop_grad:
                status, message = (
                    "converged",
                    f"gradient norm {diag.grad_norm:.3g} <= {stop_grad:.3g} at step {k}",
                )
                break
            if callback is not None and callback(k, diag):
                status, message = "converged", f"stopped by callback at step {k}"
                break
            if nxt is None:
                break
            if not _state_finite(nxt):
                status, message = "diverged", f"non-finite iterate after step {k}"
                break
            state = nxt
    if not diags:
        raise ValueError("x0 gives a non-finite initial loss or gradient")
    keys = diags[0].extra.keys()
    gaps = None if diags[0].gap is None else np.array([d.gap for d in diags])
    return Result(
        x=np.array(diags[-1].x, dtype=float),
        params=np.array(solver.raw(last_state), dtype=float),
        losses=np.array([d.loss for d in diags]),
        gaps=gaps,
        grad_norms=np.array([d.grad_norm for d in diags]),
        status=status,
        message=message,
        n_steps=len(diags) - 1,
        history={key: np.array([d.extra[key] for d in diags]) for key in keys},
    )

"""The ``solve`` driver and the frozen ``Result`` record (shape after optimistix / scipy.optimize)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bntheory._checks import as_int, as_real
from bntheory.status import DIVERGENCE_FACTOR, Status

if TYPE_CHECKING:
    from bntheory.protocols import Problem, Solver

__all__ = ["DIVERGENCE_FACTOR", "Diagnostics", "FrozenDict", "Result", "Status", "solve"]

Array = np.ndarray
# DIVERGENCE_FACTOR (re-exported from bntheory.status, 1e12): a run is declared diverged
# when the loss exceeds this factor times max(|loss_0|, 1) (or anything becomes
# non-finite), long before float64 overflow.


class FrozenDict(dict):
    """A ``dict`` that refuses to change after construction (``Result.history``).

    Reading, iterating, ``dict(h)``, ``copy.deepcopy`` and pickling work as for a dict;
    assignment, deletion and the mutating methods raise ``TypeError``.
    """

    def _readonly(self, *args: object, **kwargs: object) -> None:
        raise TypeError("Result.history is read-only (copy it with dict(res.history))")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        return (FrozenDict, (dict(self),))

    def __deepcopy__(self, memo: dict) -> FrozenDict:
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))


def _ro(a: Array | None) -> Array | None:
    if a is not None:
        a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True)
class Result:
    """Trajectory of one solver run.

    Every array (and ``history``) is read-only.

    Attributes
    ----------
    x : ndarray
        Final EFFECTIVE weight in the ORIGINAL space (``g w / ||w||_S`` for BN solvers), so
        runs with and without BN compare directly. Not the raw parameters ``solve`` was
        started from (see ``params``), except for plain GD where both are ``w``.
    params : ndarray
        Final RAW parameters, the same kind as ``x0`` (``w`` for GD; the stacked
        ``(a, w)`` or ``(g, w)`` for BNGD / GDNP): pass them back as ``x0`` to continue.
    losses, gaps, grad_norms : ndarray
        Per iterate ``k = 0..n_steps`` (length ``n_steps + 1``): loss of the effective weight,
        loss minus the optimum (``None`` when the optimum is unknown; computed without
        cancellation where the problem allows), and the norm of the gradient of the ORIGINAL
        objective at the effective weight.
    status : bntheory.status.Status
        ``Status.CONVERGED``, ``MAX_STEPS`` or ``DIVERGED`` (a ``str`` enum: equal to
        ``"converged"``, ``"max_steps"``, ``"diverged"``).
    message : str
        Human-readable reason.
    n_steps : int
        Number of steps taken (arrays are truncated at the last finite iterate).
    history : FrozenDict
        Solver-specific per-iterate arrays (same length as ``losses``).
    iterates : ndarray or None
        Effective weights kept by ``solve(..., keep=...)``: ``None`` for ``keep="last"``
        (the default; ``x`` is the last one), shape ``(len(iterate_steps), d)`` otherwise.
    iterate_steps : ndarray or None
        The step indices ``k`` of the rows of ``iterates``.
    """

    x: Array
    params: Array
    losses: Array
    gaps: Array | None
    grad_norms: Array
    status: Status
    message: str
    n_steps: int
    history: dict[str, Array] = field(default_factory=dict)
    iterates: Array | None = None
    iterate_steps: Array | None = None

    @property
    def success(self) -> bool:
        """``status == "converged"``."""
        return self.status == Status.CONVERGED


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
    problem: Problem,
    solver: Solver,
    x0: object,
    *,
    max_steps: int = 1000,
    tol: float = 1e-12,
    callback: Callable[[int, Diagnostics], bool | None] | None = None,
    keep: str = "last",
    every: int | None = None,
) -> Result:
    """Run ``solver`` on ``problem`` from ``x0``.

    Parameters
    ----------
    problem : bntheory.protocols.Problem
        The objective in the original weight space (LeastSquares, GaussianHalfspace, ...;
        BN solvers reparametrize it themselves).
    solver : bntheory.protocols.Solver
        GradientDescent, BNGD, GDNP or any object with ``start``, ``step`` and ``raw``.
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
    keep : {"last", "all"}
        Which effective weights to keep besides the scalar per-step records (losses,
        gaps, gradient norms, history, which are always kept: ``O(max_steps)`` memory):
        ``"last"`` (default) keeps only the final one (``Result.x``), so memory does not
        grow with ``max_steps x d``; ``"all"`` keeps every iterate in
        ``Result.iterates`` (``(n_steps + 1) x d`` floats).
    every : int, optional
        Keep the iterates of steps ``0, every, 2 every, ...`` and the last one (overrides
        ``keep``; ``every=1`` is ``keep="all"``).

    Returns
    -------
    Result
        ``res.x`` is the final EFFECTIVE weight in the original space (``g w / ||w||_S``
        for BNGD / GDNP: what the losses and gradients are measured at), ``res.params``
        the final RAW parameters of the same kind as ``x0``; every array is read-only.
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
    if keep not in ("last", "all"):
        raise ValueError(f"keep must be 'last' or 'all', got {keep!r}")
    stride = None
    if every is not None:
        stride = as_int(every, "every")
    elif keep == "all":
        stride = 1
    rec = _Recorder(min(max_steps + 1, 1024), stride)
    status, message = Status.MAX_STEPS, f"reached max_steps={max_steps}"
    threshold = None
    stop_grad = None
    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            try:
                diag, nxt = solver.step(problem, state, evaluate_only=(k == max_steps))
            except ArithmeticError as exc:
                # Python floats raise (ZeroDivisionError, OverflowError) where NumPy
                # would give inf/NaN: the same thing, a non-finite iterate.
                status, message = Status.DIVERGED, f"{type(exc).__name__} at step {k}: {exc}"
                break
            except ValueError as exc:
                # The arguments were validated by solver.start, so a problem that rejects
                # a point mid-run (non-finite or overflowing intermediate, e.g. inside
                # GDNP's bisection) means the run left the representable range.
                if k == 0:
                    raise ValueError(f"x0: the first step fails ({exc})") from exc
                status, message = Status.DIVERGED, f"step {k} left the float range: {exc}"
                break
            if not _finite(diag):
                status, message = Status.DIVERGED, f"non-finite iterate at step {k}"
                break
            if threshold is None:
                threshold = DIVERGENCE_FACTOR * max(abs(diag.loss), 1.0)
                stop_grad = tol * max(1.0, diag.grad_norm)
            rec.append(k, diag)
            last_state = state
            if diag.loss > threshold:
                status, message = (
                    Status.DIVERGED,
                    f"loss {diag.loss:.3g} > {DIVERGENCE_FACTOR:.0e} x initial at step {k}",
                )
                break
            if diag.grad_norm <= stop_grad:
                status, message = (
                    Status.CONVERGED,
                    f"gradient norm {diag.grad_norm:.3g} <= {stop_grad:.3g} at step {k}",
                )
                break
            if callback is not None and callback(k, diag):
                status, message = Status.CONVERGED, f"stopped by callback at step {k}"
                break
            if nxt is None:
                break
            if not _state_finite(nxt):
                status, message = Status.DIVERGED, f"non-finite iterate after step {k}"
                break
            state = nxt
    if rec.n == 0:
        raise ValueError("x0 gives a non-finite initial loss or gradient")
    return rec.result(
        params=np.array(solver.raw(last_state), dtype=float), status=status, message=message
    )


class _Recorder:
    """Per-step records in preallocated arrays (doubling when full): scalars of every step,
    the effective weight of the last step, and the iterates asked for (``stride``)."""

    def __init__(self, capacity: int, stride: int | None):
        self.cap = max(int(capacity), 1)
        self.n = 0
        self.stride = stride
        self.losses = np.empty(self.cap)
        self.grad_norms = np.empty(self.cap)
        self.gaps: Array | None = None
        self.extra: dict[str, Array] = {}
        self.has_gap = True
        self.last_x: Array | None = None
        self.last_k = -1
        self.iterates: list[Array] = []
        self.steps: list[int] = []

    def _grow(self) -> None:
        self.cap *= 2
        for name in ("losses", "grad_norms"):
            setattr(self, name, np.resize(getattr(self, name), self.cap))
        if self.gaps is not None:
            self.gaps = np.resize(self.gaps, self.cap)
        self.extra = {k: np.resize(v, self.cap) for k, v in self.extra.items()}

    def append(self, k: int, d: Diagnostics) -> None:
        if self.n == 0:
            self.has_gap = d.gap is not None
            if self.has_gap:
                self.gaps = np.empty(self.cap)
            self.extra = {key: np.empty(self.cap) for key in d.extra}
        if self.n == self.cap:
            self._grow()
        i = self.n
        self.losses[i] = d.loss
        self.grad_norms[i] = d.grad_norm
        if self.has_gap:
            self.gaps[i] = d.gap
        for key, arr in self.extra.items():
            arr[i] = d.extra[key]
        self.last_x, self.last_k = d.x, k
        if self.stride is not None and k % self.stride == 0:
            self.iterates.append(np.array(d.x, dtype=float))
            self.steps.append(k)
        self.n += 1

    def result(self, *, params: Array, status: str, message: str) -> Result:
        n = self.n
        iterates = steps = None
        if self.stride is not None:
            if not self.steps or self.steps[-1] != self.last_k:
                self.iterates.append(np.array(self.last_x, dtype=float))
                self.steps.append(self.last_k)
            iterates = np.array(self.iterates)
            steps = np.array(self.steps, dtype=int)
        return Result(
            x=_ro(np.array(self.last_x, dtype=float)),
            params=_ro(params),
            losses=_ro(self.losses[:n].copy()),
            gaps=None if self.gaps is None else _ro(self.gaps[:n].copy()),
            grad_norms=_ro(self.grad_norms[:n].copy()),
            status=Status(status),
            message=message,
            n_steps=n - 1,
            history=FrozenDict({key: _ro(arr[:n].copy()) for key, arr in self.extra.items()}),
            iterates=_ro(iterates),
            iterate_steps=_ro(steps),
        )

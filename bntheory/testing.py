"""pytest helpers for rate and bound assertions in research test suites.

Failure messages print the measured value next to the stated one, e.g.
``measured rate 0.9712 (gaps[200:800]) > stated 0.9608 * (1 + 0.01)``.

A rate asserted on a solver :class:`~bntheory.solvers.Result` is only meaningful when the
run behaved as intended: by default :func:`assert_rate_at_most` and
:func:`assert_rate_close` fail on a run whose status is not ``"converged"`` (a diverged
run has a long decaying stretch before its blow-up that the rate fit would happily pick,
a false pass). Runs stopped at ``max_steps`` on purpose (``tol=0``) opt in with
``allow_status=("converged", "max_steps")``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bntheory._checks import as_real
from bntheory.measures import RateFit, fit_linear_rate

__all__ = [
    "STATUSES",
    "assert_bound_holds",
    "assert_converges",
    "assert_rate_at_most",
    "assert_rate_close",
    "fit_rate",
]

Array = np.ndarray

#: Every status a solver run can end with (:func:`bntheory.solvers.solve`).
STATUSES = ("converged", "max_steps", "diverged")


def _real_array(x: object, name: str) -> Array:
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers") from exc
    if np.iscomplexobj(raw):
        raise TypeError(f"{name} must be real, got complex dtype {raw.dtype}")
    try:
        return np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers") from exc


def _series(result: object, quantity: str) -> Array:
    if not isinstance(quantity, str):
        raise TypeError(f"quantity must be a str, got {type(quantity).__name__}")
    if isinstance(result, (np.ndarray, list, tuple)):
        return _real_array(result, "result")
    if not (hasattr(result, "losses") and hasattr(result, "status")):
        raise TypeError(
            "result must be a solver Result (with status, losses, gaps, grad_norms) or a "
            f"1-D array of values, got {type(result).__name__}"
        )
    if quantity in ("gaps", "losses", "grad_norms"):
        vals = getattr(result, quantity, None)
    else:
        history = getattr(result, "history", None)
        vals = history.get(quantity) if isinstance(history, dict) else None
    if vals is None:
        raise ValueError(f"quantity {quantity!r} is not available on this result")
    return _real_array(vals, f"result.{quantity}")


def _allowed(allow_status: object) -> tuple[str, ...]:
    if isinstance(allow_status, str):
        allow_status = (allow_status,)
    if not isinstance(allow_status, Iterable):
        raise TypeError(
            f"allow_status must be a status or a tuple of statuses {STATUSES}, "
            f"got {type(allow_status).__name__}"
        )
    out = tuple(allow_status)
    bad = [s for s in out if s not in STATUSES]
    if bad or not out:
        raise ValueError(f"allow_status must hold statuses from {STATUSES}, got {out!r}")
    return out


def _check_status(result: object, allow_status: tuple[str, ...]) -> None:
    """Fail (AssertionError) when ``result`` is a Result whose status is not allowed."""
    if isinstance(result, (np.ndarray, list, tuple)):
        return
    status = result.status
    if status not in allow_status:
        n = getattr(result, "n_steps", "?")
        msg = getattr(result, "message", "")
        raise AssertionError(
            f"result.status is {status!r} after {n} steps ({msg}), not one of {allow_status}: "
            f"a rate fitted on a {status} run is not the rate of a converging run; pass "
            f"allow_status=({', '.join(repr(s) for s in (*allow_status, status))}) to "
            "assert it anyway"
        )


def _fit(values: Array, window: tuple[int, int] | None, name: str) -> RateFit:
    try:
        return fit_linear_rate(values, window=window)
    except (ValueError, TypeError) as exc:
        # fit_linear_rate names its own parameter; name the caller's instead
        raise type(exc)(str(exc).replace("result_or_values", name)) from exc


def fit_rate(values: object, window: tuple[int, int] | None = None) -> RateFit:
    """Per-step linear rate of a positive sequence: :func:`bntheory.measures.fit_linear_rate`.

    With ``window=None`` the fit finds the linear (asymptotic) phase itself; pass
    ``window=(start, stop)`` to fix it (e.g. after BNGD's effective step has settled).
    """
    return _fit(_real_array(values, "values"), window, "values")


def assert_rate_at_most(
    result: object,
    bound: float,
    *,
    rtol: float = 0.0,
    quantity: str = "gaps",
    window: tuple[int, int] | None = None,
    allow_status: str | Iterable[str] = ("converged",),
) -> RateFit:
    """Assert the fitted per-step rate of ``quantity`` is ``<= bound * (1 + rtol)``.

    ``result`` is a :class:`~bntheory.solvers.Result` (``quantity`` = "gaps", "losses",
    "grad_norms" or a history key) or a 1-D array. Returns the fit.

    ``allow_status``: the statuses of a Result that may be asserted on (default: only
    "converged"); the assertion fails on any other, e.g. on a "diverged" run whose
    decaying stretch before the blow-up would fit a small rate. Runs stopped on purpose at
    ``max_steps`` need ``allow_status=("converged", "max_steps")``. Arrays carry no status.
    """
    bound = as_real(bound, "bound", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    allowed = _allowed(allow_status)
    values = _series(result, quantity)
    _check_status(result, allowed)
    fit = _fit(values, window, "result")
    a, b = fit.window
    assert fit.rate <= bound * (1 + rtol), (
        f"measured rate {fit.rate:.6g} ({quantity}[{a}:{b}], 95% CI [{fit.ci_low:.6g}, {fit.ci_high:.6g}]) "
        f"> stated {bound:.6g} * (1 + {rtol:g})"
    )
    return fit


def assert_rate_close(
    result: object,
    expected: float,
    *,
    rtol: float,
    quantity: str = "gaps",
    window: tuple[int, int] | None = None,
    allow_status: str | Iterable[str] = ("converged",),
) -> RateFit:
    """Assert ``|fitted rate - expected| <= rtol * expected``; returns the fit.

    ``allow_status`` as in :func:`assert_rate_at_most` (default: only "converged").
    """
    expected = as_real(expected, "expected", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    allowed = _allowed(allow_status)
    values = _series(result, quantity)
    _check_status(result, allowed)
    fit = _fit(values, window, "result")
    a, b = fit.window
    rel = abs(fit.rate - expected) / max(expected, 1e-300)
    assert rel <= rtol, (
        f"measured rate {fit.rate:.6g} ({quantity}[{a}:{b}]) vs stated {expected:.6g}: "
        f"relative difference {rel:.3g} > rtol {rtol:g}"
    )
    return fit


def assert_converges(result: object, *, gap_tol: float | None = None) -> None:
    """Assert ``result.status == "converged"`` (and ``gaps[-1] <= gap_tol`` when given)."""
    if not hasattr(result, "status"):
        raise TypeError(f"result must be a solver Result, got {type(result).__name__}")
    if gap_tol is not None:
        gap_tol = as_real(gap_tol, "gap_tol", nonneg=True)
    assert result.status == "converged", (
        f"expected status 'converged', got {result.status!r} after "
        f"{getattr(result, 'n_steps', '?')} steps: {getattr(result, 'message', '')}"
    )
    if gap_tol is not None:
        gaps = getattr(result, "gaps", None)
        if gaps is None:
            raise ValueError("gap_tol given but the result has no gaps (optimum unknown)")
        assert gaps[-1] <= gap_tol, f"final gap {gaps[-1]:.3g} > stated {gap_tol:.3g}"


def assert_bound_holds(
    values: object, bound: object, *, rtol: float = 0.0, atol: float = 0.0
) -> float:
    """Assert ``values <= bound * (1 + rtol) + atol`` elementwise; returns the worst ratio values/bound.

    The failure message names the worst index with its measured and stated values. A NaN
    in ``values`` or ``bound`` is an error (it would compare False and pass silently); an
    infinite bound is no constraint.
    """
    v = _real_array(values, "values")
    b = _real_array(bound, "bound")
    try:
        bnd = np.broadcast_to(b, v.shape)
    except ValueError as exc:
        raise ValueError(
            f"bound of shape {b.shape} does not broadcast to values of shape {v.shape}"
        ) from exc
    rtol = as_real(rtol, "rtol", nonneg=True)
    atol = as_real(atol, "atol", nonneg=True)
    if not np.all(np.isfinite(v)):
        raise ValueError("values contains NaN or inf")
    if np.any(np.isnan(bnd)):
        raise ValueError("bound contains NaN")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # a bound near the float64 limit times (1 + rtol) is inf: no constraint, as it should
        excess = v - (bnd * (1 + rtol) + atol)
        ratio = np.where(bnd > 0, v / bnd, np.where(v > 0, np.inf, 0.0))
    worst = float(np.max(ratio)) if ratio.size else 0.0
    if np.any(excess > 0):
        i = int(np.argmax(excess))
        raise AssertionError(
            f"bound violated at index {i}: measured {v.flat[i]:.6g} > stated {bnd.flat[i]:.6g} "
            f"(rtol {rtol:g}, atol {atol:g}; ratio {ratio.flat[i]:.6g}); "
            f"{int(np.sum(excess > 0))} of {v.size} points violate"
        )
    return worst

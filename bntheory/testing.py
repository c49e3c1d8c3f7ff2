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
from bntheory.measures import RateFit, fit_linear_rate, sequence_of
from bntheory.status import Status

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
STATUSES = (str(Status.CONVERGED), str(Status.MAX_STEPS), str(Status.DIVERGED))


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


def _series(result: object, quantity: str, allow_status: tuple[str, ...]) -> Array:
    """The sequence to fit: :func:`bntheory.measures.sequence_of` without its gap fallback
    (a rate asserted on ``gaps`` must be a rate of the true gaps), naming ``result``.

    The status is checked before the values are (a diverged run may hold inf or NaN: the
    failure to report is the status)."""
    if not isinstance(quantity, str):
        raise TypeError(f"quantity must be a str, got {type(quantity).__name__}")
    is_array = isinstance(result, (np.ndarray, list, tuple))
    if not is_array and not (hasattr(result, "losses") and hasattr(result, "status")):
        raise TypeError(
            "result must be a solver Result (with status, losses, gaps, grad_norms) or a "
            f"1-D array of values, got {type(result).__name__}"
        )
    _check_status(result, allow_status)
    try:
        if is_array:  # an array is the sequence itself, whatever ``quantity`` names
            return sequence_of(result)
        return sequence_of(result, quantity, gap_fallback=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("result_or_values", "result")) from exc


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
    status = str(result.status)  # a Status member prints as its plain word
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

    Parameters
    ----------
    values : array_like, shape (n,)
        Positive values (gaps, losses, gradient norms).
    window : tuple of int, optional
        ``(start, stop)``: fit exactly ``start <= k < stop``.

    Returns
    -------
    RateFit
        The fitted rate, its confidence interval and the window used.
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

    Parameters
    ----------
    result : Result or array_like
        A solver result or the 1-D sequence itself.
    bound : float
        The stated rate (``>= 0``).
    rtol : float
        Relative slack on the bound (``>= 0``).
    quantity : str
        ``"gaps"``, ``"losses"``, ``"grad_norms"`` or a key of ``result.history``
        (ignored for an array).
    window : tuple of int, optional
        ``(start, stop)``: fit exactly ``start <= k < stop``.
    allow_status : str or iterable of str
        The statuses of a Result that may be asserted on (default: only "converged"); the
        assertion fails on any other, e.g. on a "diverged" run whose decaying stretch
        before the blow-up would fit a small rate. Runs stopped on purpose at
        ``max_steps`` need ``allow_status=("converged", "max_steps")``. Arrays carry no
        status.

    Returns
    -------
    RateFit
        The fit.

    Raises
    ------
    AssertionError
        When the rate exceeds the bound or the status is not allowed (raised explicitly,
        so the check also runs under ``python -O``).
    """
    bound = as_real(bound, "bound", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    allowed = _allowed(allow_status)
    values = _series(result, quantity, allowed)
    fit = _fit(values, window, "result")
    a, b = fit.window
    # explicit raise, not ``assert``: the check must hold under ``python -O`` too
    if not fit.rate <= bound * (1 + rtol):
        raise AssertionError(
            f"measured rate {fit.rate:.6g} ({quantity}[{a}:{b}], 95% CI "
            f"[{fit.ci_low:.6g}, {fit.ci_high:.6g}]) > stated {bound:.6g} * (1 + {rtol:g})"
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
    """Assert ``|fitted rate - expected| <= rtol * expected``.

    Parameters
    ----------
    result : Result or array_like
        A solver result or the 1-D sequence itself.
    expected : float
        The stated rate (``>= 0``).
    rtol : float
        Relative tolerance (``>= 0``).
    quantity : str
        As in :func:`assert_rate_at_most`.
    window : tuple of int, optional
        ``(start, stop)``: fit exactly ``start <= k < stop``.
    allow_status : str or iterable of str
        As in :func:`assert_rate_at_most` (default: only "converged").

    Returns
    -------
    RateFit
        The fit.

    Raises
    ------
    AssertionError
        When the rate is off by more than ``rtol`` or the status is not allowed.
    """
    expected = as_real(expected, "expected", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    allowed = _allowed(allow_status)
    values = _series(result, quantity, allowed)
    fit = _fit(values, window, "result")
    a, b = fit.window
    rel = abs(fit.rate - expected) / max(expected, 1e-300)
    if not rel <= rtol:
        raise AssertionError(
            f"measured rate {fit.rate:.6g} ({quantity}[{a}:{b}]) vs stated {expected:.6g}: "
            f"relative difference {rel:.3g} > rtol {rtol:g}"
        )
    return fit


def assert_converges(result: object, *, gap_tol: float | None = None) -> None:
    """Assert ``result.status == "converged"`` (and ``gaps[-1] <= gap_tol`` when given).

    Parameters
    ----------
    result : Result
        A solver result.
    gap_tol : float, optional
        Largest accepted final gap (``>= 0``); needs a result with gaps.

    Raises
    ------
    AssertionError
        When the run did not converge or its final gap is too large.
    """
    if not hasattr(result, "status"):
        raise TypeError(f"result must be a solver Result, got {type(result).__name__}")
    if gap_tol is not None:
        gap_tol = as_real(gap_tol, "gap_tol", nonneg=True)
    if result.status != Status.CONVERGED:
        raise AssertionError(
            f"expected status 'converged', got {str(result.status)!r} after "
            f"{getattr(result, 'n_steps', '?')} steps: {getattr(result, 'message', '')}"
        )
    if gap_tol is not None:
        gaps = getattr(result, "gaps", None)
        if gaps is None:
            raise ValueError("gap_tol given but the result has no gaps (optimum unknown)")
        if not gaps[-1] <= gap_tol:
            raise AssertionError(f"final gap {gaps[-1]:.3g} > stated {gap_tol:.3g}")


def assert_bound_holds(
    values: object, bound: object, *, rtol: float = 0.0, atol: float = 0.0
) -> float:
    """Assert ``values <= bound * (1 + rtol) + atol`` elementwise.

    The failure message names the worst index with its measured and stated values. A NaN
    in ``values`` or ``bound`` is an error (it would compare False and pass silently); an
    infinite bound is no constraint.

    Parameters
    ----------
    values : array_like
        Measured values (finite).
    bound : array_like
        Stated bounds, broadcast to the shape of ``values``.
    rtol, atol : float
        Relative and absolute slack (``>= 0``).

    Returns
    -------
    float
        The worst ratio ``values / bound``.

    Raises
    ------
    AssertionError
        At the first violated index (the message counts all violations).
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

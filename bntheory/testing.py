"""pytest helpers for rate and bound assertions in research test suites.

Failure messages print the measured value next to the stated one, e.g.
``measured rate 0.9712 (gaps[200:800]) > stated 0.9608 * (1 + 0.01)``.
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_real
from bntheory.measures import RateFit, fit_linear_rate

__all__ = [
    "assert_bound_holds",
    "assert_converges",
    "assert_rate_at_most",
    "assert_rate_close",
    "fit_rate",
]

Array = np.ndarray


def _series(result: object, quantity: str) -> Array:
    if isinstance(result, (np.ndarray, list, tuple)):
        return np.asarray(result, dtype=float)
    if quantity in ("gaps", "losses", "grad_norms"):
        vals = getattr(result, quantity)
    else:
        vals = result.history.get(quantity) if hasattr(result, "history") else None
    if vals is None:
        raise ValueError(f"quantity {quantity!r} is not available on this result")
    return np.asarray(vals, dtype=float)


def fit_rate(values: object, window: tuple[int, int] | None = None) -> RateFit:
    """Per-step linear rate of a positive sequence: :func:`bntheory.measures.fit_linear_rate`.

    With ``window=None`` the fit finds the linear (asymptotic) phase itself; pass
    ``window=(start, stop)`` to fix it (e.g. after BNGD's effective step has settled).
    """
    return fit_linear_rate(np.asarray(values, dtype=float), window=window)


def assert_rate_at_most(
    result: object,
    bound: float,
    *,
    rtol: float = 0.0,
    quantity: str = "gaps",
    window: tuple[int, int] | None = None,
) -> RateFit:
    """Assert the fitted per-step rate of ``quantity`` is ``<= bound * (1 + rtol)``.

    ``result`` is a :class:`~bntheory.solvers.Result` (``quantity`` = "gaps", "losses",
    "grad_norms" or a history key) or a 1-D array. Returns the fit.
    """
    bound = as_real(bound, "bound", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    fit = fit_rate(_series(result, quantity), window)
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
) -> RateFit:
    """Assert ``|fitted rate - expected| <= rtol * expected``; returns the fit."""
    expected = as_real(expected, "expected", nonneg=True)
    rtol = as_real(rtol, "rtol", nonneg=True)
    fit = fit_rate(_series(result, quantity), window)
    a, b = fit.window
    rel = abs(fit.rate - expected) / max(expected, 1e-300)
    assert rel <= rtol, (
        f"measured rate {fit.rate:.6g} ({quantity}[{a}:{b}]) vs stated {expected:.6g}: "
        f"relative difference {rel:.3g} > rtol {rtol:g}"
    )
    return fit


def assert_converges(result: object, *, gap_tol: float | None = None) -> None:
    """Assert ``result.status == "converged"`` (and ``gaps[-1] <= gap_tol`` when given)."""
    assert result.status == "converged", (
        f"expected status 'converged', got {result.status!r} after {result.n_steps} steps: {result.message}"
    )
    if gap_tol is not None:
        if result.gaps is None:
            raise ValueError("gap_tol given but the result has no gaps (optimum unknown)")
        assert result.gaps[-1] <= gap_tol, f"final gap {result.gaps[-1]:.3g} > stated {gap_tol:.3g}"


def assert_bound_holds(
    values: object, bound: object, *, rtol: float = 0.0, atol: float = 0.0
) -> float:
    """Assert ``values <= bound * (1 + rtol) + atol`` elementwise; returns the worst ratio values/bound.

    The failure message names the worst index with its measured and stated values.
    """
    v = np.asarray(values, dtype=float)
    bnd = np.broadcast_to(np.asarray(bound, dtype=float), v.shape)
    rtol = as_real(rtol, "rtol", nonneg=True)
    atol = as_real(atol, "atol", nonneg=True)
    if not np.all(np.isfinite(v)):
        raise ValueError("values contains NaN or inf")
    excess = v - (bnd * (1 + rtol) + atol)
    with np.errstate(divide="ignore", invalid="ignore"):
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

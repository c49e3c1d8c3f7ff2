"""Analysis helpers of the optimization experiments: log-axis values, thinned trajectories and
BNGD's measured against linearized gap decay (re-exported by :mod:`._common`)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bngd_rate_record", "log_floor", "log_rate_error", "thin_index", "trajectory"]


def log_floor(values: np.ndarray, floor: float = 1e-300) -> np.ndarray:
    """Positive values for a log axis; non-positive / missing entries become NaN (not drawn).

    Parameters
    ----------
    values : array_like
        Values.
    floor : float
        Values at or below it become NaN.

    Returns
    -------
    numpy.ndarray
        Float array.
    """
    v = np.asarray(values, dtype=float)
    return np.where(v > floor, v, np.nan)


def thin_index(n: int, max_points: int = 400) -> np.ndarray:
    """At most ``max_points`` indices spread evenly over ``0..n-1`` (first and last kept).

    Parameters
    ----------
    n : int
        Length of the series.
    max_points : int
        Largest number of indices.

    Returns
    -------
    numpy.ndarray
        Sorted integer indices.
    """
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def trajectory(res: Any, *, history: tuple[str, ...] = (), max_points: int = 400) -> dict:
    """Thinned per-step record of a solver Result: steps, gaps, losses, chosen history keys.

    Parameters
    ----------
    res : bntheory.solvers.Result
        A solver run.
    history : tuple of str
        Keys of ``res.history`` to keep.
    max_points : int
        Largest number of steps kept (see :func:`thin_index`).

    Returns
    -------
    dict
        ``status``, ``message``, ``n_steps``, ``k``, ``losses`` (and gaps, history keys).
    """
    n = len(res.losses)
    idx = thin_index(n, max_points)
    rec = {
        "status": res.status,
        "message": res.message,
        "n_steps": int(res.n_steps),
        "k": idx,
        "losses": np.asarray(res.losses)[idx],
    }
    if res.gaps is not None:
        rec["gaps"] = np.asarray(res.gaps)[idx]
        rec["gap0"] = float(res.gaps[0])
        rec["gap_final"] = float(res.gaps[-1])
    for key in history:
        rec[key] = np.asarray(res.history[key])[idx]
    return rec


def bngd_rate_record(res: Any, problem: Any, solver: Any, x0: Any) -> dict:
    """Compare BNGD's measured gap decay on its settled phase with the linearized prediction.

    Linearization (Cai, Li & Shen 2019, "A quantitative analysis of the effect of batch
    normalization on gradient descent", Sec. 3): near ``w = s w*`` the H-residual ``r = w* - (u^T w / ||w||_H^2) w`` evolves as
    ``r_{k+1} ~ (I - eps_hat_k H*) r_k`` and the direction gap is ``1/2 r^T H r``. Starting
    from the measured ``r`` at the window start (the run is replayed to that step) and
    using the measured effective steps, the predicted direction gap at step ``k`` is
    ``1/2 sum_i lambda_i c_i^2 prod_j (1 - eps_hat_j lambda_i)^2`` (``c = V^T r``,
    ``H* = V diag(lambda) V^T``). Measured and predicted mean per-step rates over the window
    are compared (``log_rate_error``).

    Window: from the first step after which ``eps_hat`` stays within 1 % of its final value
    and below ``2/lambda_max(H*)`` to the step where the direction gap falls below
    ``1e-10`` of its initial value (round-off floor). ``settled`` is False when that window
    has fewer than 20 steps. ``asymptotic_rate`` is the slowest-mode rate
    ``max_i (1 - eps_hat lambda_i)^2`` at the final ``eps_hat`` (the rate the gap tends to).

    Parameters
    ----------
    res : bntheory.solvers.Result
        The BNGD run (history ``direction_gap`` and ``eps_hat``).
    problem : bntheory.problems.LeastSquares
        The problem it ran on.
    solver : bntheory.solvers.BNGD
        The solver (to replay the run to the window start).
    x0 : array_like
        The run's starting parameters.

    Returns
    -------
    dict
        ``settle_step``, ``floor_step``, ``asymptotic_rate``, ``settled`` and, when settled,
        ``fitted_rate``, ``predicted_rate``, ``fit_window``, ``pred_k``, ``pred_gap``,
        ``log_rate_error``.
    """
    from bntheory.measures import effective_hessian
    from bntheory.solvers import solve

    H, u, w_star = problem.H, problem.u, problem.w_star
    dgap = np.asarray(res.history["direction_gap"], dtype=float)
    eps = np.asarray(res.history["eps_hat"], dtype=float)
    lam, V = np.linalg.eigh(effective_hessian(H, w_star))
    lam_pos = lam[np.abs(lam) > 1e-12 * lam[-1]]
    bad = (np.abs(eps / eps[-1] - 1) >= 0.01) | (eps * lam[-1] >= 2.0)
    k_settle = int(np.nonzero(bad)[0][-1] + 1) if bad.any() else 0
    below = np.nonzero(dgap <= 1e-10 * dgap[0])[0]
    k_floor = int(below[0]) if below.size else len(dgap) - 1
    rec: dict = {
        "settle_step": k_settle,
        "floor_step": k_floor,
        "asymptotic_rate": float(np.max((1 - eps[-1] * lam_pos) ** 2)),
    }
    if k_floor - k_settle < 20 or dgap[k_floor] <= 0:
        rec.update(
            settled=False,
            fitted_rate=None,
            predicted_rate=None,
            fit_window=None,
            pred_k=None,
            pred_gap=None,
            log_rate_error=None,
        )
        return rec
    start = solve(problem, solver, x0, max_steps=k_settle, tol=0.0)
    w = np.asarray(start.params, dtype=float)[1:]
    r = w_star - (float(u @ w) / float(w @ H @ w)) * w
    c2 = (V.T @ r) ** 2
    steps = eps[k_settle:k_floor]
    fac = np.cumprod((1 - np.outer(steps, lam)) ** 2, axis=0)  # (n, d)
    pred = np.concatenate([[0.5 * float(lam @ c2)], 0.5 * (fac @ (lam * c2))])
    n = k_floor - k_settle
    measured = (dgap[k_floor] / dgap[k_settle]) ** (1 / n)
    predicted = (pred[-1] / pred[0]) ** (1 / n)
    idx = thin_index(n + 1, 200)
    rec.update(
        settled=True,
        fitted_rate=float(measured),
        predicted_rate=float(predicted),
        fit_window=[k_settle, k_floor],
        start_gap_match=float(abs(pred[0] / dgap[k_settle] - 1)),
        pred_k=(k_settle + idx),
        pred_gap=pred[idx],
        log_rate_error=log_rate_error(measured, predicted),
    )
    return rec


def log_rate_error(fitted: float, predicted: float) -> float:
    """``|log(fitted)/log(predicted) - 1|``: relative error of the per-step log-decrement.

    Parameters
    ----------
    fitted, predicted : float
        Per-step rates in (0, 1).

    Returns
    -------
    float
        The relative error.
    """
    return abs(np.log(fitted) / np.log(predicted) - 1.0)

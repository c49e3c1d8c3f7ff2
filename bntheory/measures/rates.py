"""Linear-convergence rate fits: per-step contraction of a geometric sequence.

A sequence converging linearly satisfies ``y_k ~ C r^k``; its log is a straight line of
slope ``log r``. :func:`fit_linear_rate` finds the linear phase automatically (see its
docstring for the exact rule) and fits the slope by least squares, with a confidence
interval from the slope's standard error (Student t, ``n - 2`` degrees of freedom;
e.g. Draper & Smith (1998), *Applied Regression Analysis*, Sec. 1.4).

Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent": for BNGD with a large weight learning rate the
loss gap first *grows* while the effective step ``eps_hat`` self-tunes, then contracts
by ``max |1 - eps_hat lambda|^2`` per step. The fit therefore prefers the LAST long
linear stretch before the round-off floor, not the first or the steepest one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_real_array
from ._validation import positive_float, positive_int

__all__ = ["RateFit", "fit_linear_rate", "sequence_of"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class RateFit:
    """Result of :func:`fit_linear_rate`.

    Attributes
    ----------
    rate : float
        Per-step contraction factor ``r = exp(slope)`` of the fitted quantity (a gap rate
        ``r`` corresponds to an iterate rate ``sqrt(r)`` for quadratics).
    ci_low, ci_high : float
        Confidence interval (default 95 %) for ``r`` from the slope's standard error.
    window : tuple of int
        ``(start, stop)``: the fit used indices ``start <= k < stop``.
    n_points : int
        ``stop - start``.
    log_slope : float
        Fitted slope of ``log y_k`` against ``k``.
    stderr : float
        Standard error of ``log_slope``.
    residual_rms : float
        ``sqrt(SSE / (n - 2))`` of the fit in natural-log units.
    """

    rate: float
    ci_low: float
    ci_high: float
    window: tuple[int, int]
    n_points: int
    log_slope: float
    stderr: float
    residual_rms: float


def sequence_of(
    result_or_values: object,
    quantity: str = "gaps",
    *,
    gap_fallback: bool = True,
) -> Array:
    """Extract the 1-D sequence to fit from a Result (duck-typed) or an array.

    For a Result: ``quantity="gaps"`` uses ``result.gaps`` when present and not None, else
    (with ``gap_fallback``) ``result.losses - min(result.losses)`` (the minimum itself
    becomes 0, i.e. floor); ``"losses"`` and ``"grad_norms"`` use those attributes; any
    other name is looked up in the Result's ``history`` dict. An array is used as is.

    Parameters
    ----------
    result_or_values : Result or array_like
        A solver result (anything with ``losses``, ``gaps`` or ``grad_norms``) or the
        sequence itself.
    quantity : str
        ``"gaps"``, ``"losses"``, ``"grad_norms"`` or a key of ``result.history``.
    gap_fallback : bool
        For ``quantity="gaps"`` on a Result without gaps (optimum unknown), use
        ``losses - min(losses)``; when False that is a ``ValueError``.

    Returns
    -------
    numpy.ndarray
        The float64 1-D sequence (a copy).

    Raises
    ------
    TypeError
        For a non-str ``quantity`` or complex or non-numeric values.
    ValueError
        For an unknown ``quantity``, a quantity the Result lacks, a sequence that is not
        1-D or one containing NaN.
    """
    if not isinstance(quantity, str):
        raise TypeError(f"quantity must be a str, got {type(quantity).__name__}")
    obj = result_or_values
    is_result = hasattr(obj, "losses") or hasattr(obj, "gaps") or hasattr(obj, "grad_norms")
    history = getattr(obj, "history", None) if is_result else None
    if quantity not in ("gaps", "losses", "grad_norms") and not (
        isinstance(history, dict) and quantity in history
    ):
        if is_result and isinstance(history, dict):
            raise ValueError(f"quantity {quantity!r} is not available on this result")
        raise ValueError(f"quantity must be 'gaps', 'losses' or 'grad_norms', got {quantity!r}")
    if is_result:
        if quantity == "gaps":
            gaps = getattr(obj, "gaps", None)
            if gaps is not None:
                y = as_real_array(gaps, "result_or_values.gaps")
            elif not gap_fallback:
                raise ValueError(
                    "quantity 'gaps' is not available on this result (optimum unknown)"
                )
            else:
                losses = getattr(obj, "losses", None)
                if losses is None:
                    raise ValueError("result_or_values has neither gaps nor losses")
                y = as_real_array(losses, "result_or_values.losses")
                y = y - np.min(y)
        elif quantity in ("losses", "grad_norms"):
            val = getattr(obj, quantity, None)
            if val is None:
                raise ValueError(f"result_or_values has no {quantity}")
            y = as_real_array(val, f"result_or_values.{quantity}")
        else:
            y = as_real_array(history[quantity], f"result_or_values.history[{quantity!r}]")
    else:
        y = as_real_array(obj, "result_or_values")
    if y.ndim != 1:
        raise ValueError(f"result_or_values must give a 1-D sequence, got shape {y.shape}")
    if np.any(np.isnan(y)):
        raise ValueError("result_or_values contains NaN")
    return y


def _ols(k: Array, z: Array) -> tuple[float, float, float, Array]:
    """Slope, its standard error, residual RMS (n - 2 dof) and residuals of z ~ a + b k."""
    kc = k - k.mean()
    zc = z - z.mean()
    sxx = float(kc @ kc)
    b = float(kc @ zc) / sxx
    res = zc - b * kc
    n = k.shape[0]
    s2 = float(res @ res) / (n - 2)
    return b, float(np.sqrt(s2 / sxx)), float(np.sqrt(s2)), res


def _find_window(
    z: Array, k: Array, *, tol: float, min_points: int, min_fraction: float, flat_fraction: float
) -> tuple[int, int] | None:
    """Index pair (i, j) into (k, z) of the chosen window (inclusive), or None."""
    n = z.shape[0]
    if n < min_points:
        return None
    imax, imin = int(np.argmax(z)), int(np.argmin(z))
    if imax == imin or z[imax] == z[imin]:
        return None
    s_ref = (z[imax] - z[imin]) / abs(k[imax] - k[imin])
    x = (k - k.mean()) / max(float(np.ptp(k)), 1.0)
    zz = z - z.mean()
    zero = np.zeros(1)
    Sx = np.concatenate([zero, np.cumsum(x)])
    Sz = np.concatenate([zero, np.cumsum(zz)])
    Sxx = np.concatenate([zero, np.cumsum(x * x)])
    Sxz = np.concatenate([zero, np.cumsum(x * zz)])
    Szz = np.concatenate([zero, np.cumsum(zz * zz)])
    xscale = max(float(np.ptp(k)), 1.0)
    best_len = np.zeros(n, dtype=int)
    best_end = np.full(n, -1)
    jall = np.arange(n)
    n_start = n - min_points + 1
    for i0 in range(0, n_start, 128):
        i = np.arange(i0, min(i0 + 128, n_start))[:, None]
        m = (jall[None, :] - i + 1).astype(float)
        valid = m >= min_points
        mm = np.where(valid, m, 1.0)
        sx = Sx[None, 1:] - Sx[i]
        sz = Sz[None, 1:] - Sz[i]
        cxx = Sxx[None, 1:] - Sxx[i] - sx * sx / mm
        cxz = Sxz[None, 1:] - Sxz[i] - sx * sz / mm
        czz = Szz[None, 1:] - Szz[i] - sz * sz / mm
        pos = valid & (cxx > 0)
        slope = np.where(pos, cxz / np.where(pos, cxx, 1.0), 0.0)
        sse = np.maximum(czz - slope * cxz, 0.0)
        rms = np.sqrt(sse / np.maximum(mm - 2, 1))
        ok = pos & (rms <= tol) & (np.abs(slope) / xscale >= flat_fraction * s_ref)
        anyok = ok.any(axis=1)
        last = n - 1 - np.argmax(ok[:, ::-1], axis=1)
        rows = i[:, 0][anyok]
        best_end[rows] = last[anyok]
        best_len[rows] = last[anyok] - rows + 1
    if best_len.max() < min_points:
        return None
    cand = np.nonzero(best_len >= max(min_points, min_fraction * best_len.max()))[0]
    last_end = best_end[cand].max()
    i0 = int(cand[best_end[cand] == last_end].min())
    return i0, int(last_end)


def _trim(z: Array, start: int, stop: int, min_keep: int) -> tuple[int, int]:
    """Drop window ends that stray from the line through the window's middle half."""
    while stop - start > min_keep:
        n = stop - start
        k = np.arange(start, stop, dtype=float)
        zz = z[start:stop]
        core = slice(n // 4, n - n // 4)
        kc0, zc0 = k[core].mean(), zz[core].mean()
        kc = k[core] - kc0
        sxx = float(kc @ kc)
        bc = float(kc @ (zz[core] - zc0)) / sxx
        res_c = zz[core] - zc0 - bc * kc
        sigma = 1.4826 * float(np.median(np.abs(res_c - np.median(res_c))))
        dev = zz - zc0 - bc * (k - kc0)
        q = max(3, n // 10)
        score = []
        for sl, pt in ((slice(0, q), 0), (slice(n - q, n), n - 1)):
            se = sigma * np.sqrt(1.0 / q + 1.0 / kc.shape[0] + (k[sl].mean() - kc0) ** 2 / sxx)
            se1 = sigma * np.sqrt(1.0 + 1.0 / kc.shape[0] + (k[pt] - kc0) ** 2 / sxx)
            score.append(
                max(
                    abs(float(dev[sl].mean())) / max(3.0 * se, 1e-12),
                    abs(float(dev[pt])) / max(4.0 * se1, 1e-12),
                )
            )
        if max(score) <= 1.0:
            break
        step = min(max(1, n // 200), n - min_keep)
        if score[0] >= score[1]:
            start += step
        else:
            stop -= step
    return start, stop


def fit_linear_rate(
    result_or_values: object,
    *,
    window: tuple[int, int] | None = None,
    quantity: str = "gaps",
    tol: float = 1e-3,
    floor_rtol: float = 0.0,
    min_points: int = 8,
    min_fraction: float = 0.5,
    flat_fraction: float = 0.1,
    confidence: float = 0.95,
    max_points: int = 2000,
) -> RateFit:
    """Fit the per-step linear rate ``r`` of ``y_k ~ C r^k`` over its linear phase.

    Parameters
    ----------
    result_or_values : Result-like or array_like
        A solver result (``gaps``/``losses``/``grad_norms`` attributes) or a 1-D array of
        positive values. See :func:`sequence_of`.
    window : (int, int), optional
        Fit exactly ``start <= k < stop`` (all values there must be positive).
    quantity : str
        Which sequence of a Result to fit: ``"gaps"``, ``"losses"``, ``"grad_norms"`` or a
        key of ``result.history``.
    tol, floor_rtol, min_points, min_fraction, flat_fraction, max_points
        Parameters of the window search, as described above.
    confidence : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    RateFit

    Raises
    ------
    ValueError
        Bad input (named), or no linear window of ``min_points`` points exists.

    Notes
    -----
    How the window is found (``window=None``):

    1. **Floor cut.** Let ``y_ref = max_k y_k`` over the positive entries. The sequence is
       cut at the first index where ``y_k <= floor_rtol * y_ref`` (this includes zero or
       negative gaps); that point and everything after it is the round-off floor. The
       default ``floor_rtol = 0`` cuts only at the first non-positive value and leaves the
       floor to steps 3 and 5 (a noisy floor fails the RMS test, a constant one the
       flatness test, a bend into it is trimmed); ``floor_rtol = 1e-13`` gives a hard cut
       for gaps computed as ``loss - J*``. A hard cut at ``1e-13`` is NOT the default
       because a gap computed without cancellation (e.g. ``1/2 (w - w*)^T H (w - w*)``) stays accurate far
       below it, and cutting there can leave only the pre-asymptotic phase (measured on
       BNGD with a small learning rate: rate off by 7e-5, outside its CI).
    2. **Log.** ``z_k = log y_k`` on the remaining prefix. If it has more than
       ``max_points`` points, the search (not the final fit) uses every ``s``-th point,
       ``s = ceil(len / max_points)``.
    3. **Linear windows.** A window ``[i, j]`` (at least ``min_points`` points) is
       *linear* if the least-squares line through ``(k, z_k)`` has residual RMS
       ``sqrt(SSE / (n - 2)) <= tol`` (natural-log units: ``tol = 1e-3`` means the
       sequence is geometric to 0.1 %), and *not flat*: ``|slope| >= flat_fraction *
       s_ref`` with ``s_ref = (max z - min z) / |argmax z - argmin z|`` the average slope
       between the highest and the lowest point (a floor that flattens out, or a
       constant tail, fails this). For each start ``i`` the maximal window is the
       largest such ``j``.
    4. **Choice.** Among maximal windows whose length is at least ``min_fraction`` times
       the longest one, take the one that ends LAST; among those, the one that starts
       earliest. This skips an initial transient (including the growth phase of BNGD with
       a large learning rate) and prefers the asymptotic regime.
    5. **Trim.** Fit a line to the middle half of the window (``n`` points) and let
       ``s = 1.4826 MAD`` of its residuals be a robust noise level. The first and the
       last ``q = max(3, n // 10)`` points stray if the mean of their deviations from
       that line exceeds ``max(3 se, 1e-12)``, ``se`` being the standard error of that
       mean (noise plus the line's extrapolation error), or if the end point alone
       deviates by more than ``max(4 se_1, 1e-12)`` (``se_1`` its own standard error).
       While an end strays, drop ``max(1, n // 200)`` points from the end with the larger ratio and refit; at
       most half of the window is trimmed. This removes the tail of a decaying
       transient and the start of a bend into the floor, which the RMS criterion of
       step 3 tolerates up to ``tol``, so the slope is not biased by them.

    The final fit is ordinary least squares of ``log y_k`` on ``k``; ``rate =
    exp(slope)`` and the ``confidence`` interval is ``exp(slope +- t_{n-2} stderr)``.
    The interval covers the statistical (noise) error only: a transient that is still a
    few noise levels large at the window start, in a linear phase of only ~20 points,
    can bias the rate by about one standard error.
    """
    y = sequence_of(result_or_values, quantity)
    tol = positive_float(tol, "tol")
    floor_rtol = positive_float(floor_rtol, "floor_rtol", allow_zero=True)
    min_points = positive_int(min_points, "min_points", minimum=3)
    max_points = positive_int(max_points, "max_points", minimum=10)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction}")
    flat_fraction = positive_float(flat_fraction, "flat_fraction", allow_zero=True)
    if y.shape[0] < 3:
        raise ValueError(f"result_or_values must have at least 3 values, got {y.shape[0]}")

    if window is not None:
        try:
            start, stop = (int(window[0]), int(window[1]))
        except (TypeError, ValueError, IndexError) as exc:
            raise TypeError("window must be a pair of integers (start, stop)") from exc
        if start < 0:
            start += y.shape[0]
        if stop < 0:
            stop += y.shape[0]
        if not 0 <= start < stop <= y.shape[0] or stop - start < 3:
            raise ValueError(
                f"window must satisfy 0 <= start < stop <= {y.shape[0]} with >= 3 points, got {window}"
            )
        seg = y[start:stop]
        if np.any(~np.isfinite(seg)) or np.any(seg <= 0):
            raise ValueError("window contains non-positive or non-finite values")
    else:
        pos = y[np.isfinite(y) & (y > 0)]
        if pos.size == 0:
            raise ValueError("result_or_values has no positive finite values")
        bad = ~np.isfinite(y) | (y <= floor_rtol * pos.max())
        cut = int(np.argmax(bad)) if bad.any() else y.shape[0]
        stride = int(np.ceil(cut / max_points)) if cut > max_points else 1
        k_s = np.arange(0, cut, stride)
        found = _find_window(
            np.log(y[k_s]),
            k_s.astype(float),
            tol=tol,
            min_points=min(min_points, max(3, cut // stride)),
            min_fraction=min_fraction,
            flat_fraction=flat_fraction,
        )
        if found is None:
            raise ValueError(
                f"result_or_values: no linear window of >= {min_points} points with residual RMS <= {tol:g} "
                "before the floor (increase tol or pass window=)"
            )
        start, stop = int(k_s[found[0]]), int(k_s[found[1]]) + 1
        start, stop = _trim(np.log(y[:stop]), start, stop, max(min_points, (stop - start + 1) // 2))

    kk = np.arange(start, stop, dtype=float)
    b, se, rms, _ = _ols(kk, np.log(y[start:stop]))
    n = stop - start
    from scipy.stats import t as student_t  # lazy: scipy.stats costs ~0.3 s to import

    tq = float(student_t.ppf(0.5 + confidence / 2, n - 2))
    return RateFit(
        rate=float(np.exp(b)),
        ci_low=float(np.exp(b - tq * se)),
        ci_high=float(np.exp(b + tq * se)),
        window=(int(start), int(stop)),
        n_points=int(n),
        log_slope=float(b),
        stderr=float(se),
        residual_rms=float(rms),
    )

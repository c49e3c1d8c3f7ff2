"""GD in normalized parametrization (GDNP) of Kohler et al. (2019), Sec. 3-4.

Direction and length are optimized separately: for ``t = 0, 1, ...``

* direction step ``w_{t+1} = w_t - eta_t grad_w F(g_t, w_t)``, with the OLS step-size rule
  ``eta_t = ||w_t||_S^2 / (step_factor L |rho(w_t)|)`` measured on ``rho``: since
  ``grad_w F = c_t grad rho`` for these models (``F`` depends on the direction only through
  ``u^T w/||w||_S``), we divide by ``c_t = <grad_w F, grad rho>/||grad rho||^2`` so that the
  step on ``rho`` is exactly Kohler's OLS step (our choice for the halfspace rule, whose
  exact form is not available: THEORY.md Sec. 3 [U]/[R]);
* length step ``g_{t+1} = Bisection(T_s, dF/dg, w_{t+1})``.

``step_factor = 2`` is the default: THEORY.md Sec. 3 [D+] found the bound
``rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*)`` never violated WITH the factor 2
and violated in most runs without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bntheory._checks import as_int, as_real
from bntheory.problems.normalized import Normalized

from ._base import Diagnostics
from .bngd import split_params

__all__ = ["GDNP", "bisection"]

Array = np.ndarray


def bisection(
    fun: Callable[[float], float], lo: float, hi: float, n_steps: int
) -> tuple[float, float, float]:
    """``n_steps`` bisection iterations on a sign change of ``fun`` in ``[lo, hi]``.

    Returns ``(midpoint, lo, hi)`` of the final bracket; the root is within ``(hi - lo)/2``
    of the midpoint, i.e. ``2^{-n_steps - 1} |b_0 - a_0|`` (Kohler et al.'s ``2^{-T_s}`` term).

    Work is bounded whatever ``n_steps`` is: once the bracket holds two adjacent float64
    numbers the midpoint equals an end and no further iteration can change the bracket,
    so the loop stops there (after at most about 2,100 halvings; the result is the same
    as running all ``n_steps`` iterations).

    Parameters
    ----------
    fun : callable
        ``float -> float`` with a sign change in ``[lo, hi]``.
    lo, hi : float
        The initial bracket.
    n_steps : int
        Iterations (Kohler et al.'s ``T_s``).

    Returns
    -------
    tuple of float
        ``(midpoint, lo, hi)`` of the final bracket.
    """
    flo = fun(lo)
    for _ in range(n_steps):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            # bracket at float64 resolution: every further iteration would evaluate the
            # same midpoint and change nothing (the same result, without the work)
            if fun(mid) == 0.0:
                return mid, mid, mid
            break
        fm = fun(mid)
        if fm == 0.0:
            return mid, mid, mid
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi), lo, hi


@dataclass(frozen=True, slots=True)
class GDNP:
    """Kohler et al.'s GDNP (see module docstring).

    Parameters
    ----------
    step_factor : float
        The factor in ``eta_t = ||w||_S^2 / (step_factor L |rho(w)|)``; default 2.
    n_bisection : int
        ``T_s``, bisection iterations per length step (default 50: machine precision).
        Any value is accepted: the bisection stops early once its bracket is two adjacent
        float64 numbers (at most about 2,100 halvings), so a huge ``T_s`` costs no more
        than that and gives the same result.
    bracket : (float, float), optional
        Initial bracket ``[a_0, b_0]`` of every bisection. Default: start from ``[-1, 1]``
        and double both ends until ``dF/dg`` changes sign (at most 60 doublings); the
        bracket actually used is recorded in the history.
    L : float, optional
        Smoothness constant; default ``lambda_max(S)``.
    init_bisection : bool
        Replace ``g_0`` by the bisection value at ``w_0`` (default True), so the first
        direction step already uses an (approximately) optimal length.

    Notes
    -----
    History keys: ``rho``, ``rho_gap`` (``rho(w_t) - rho*`` without cancellation), ``g``,
    ``bracket_lo``, ``bracket_hi`` (final bisection bracket that produced ``g_t``), ``eta``,
    ``c`` (the proportionality factor ``c_t``). Works on ``LeastSquares`` and on
    ``GaussianHalfspace`` problems (the problem is wrapped by ``Normalized``).
    """

    step_factor: float = 2.0
    n_bisection: int = 50
    bracket: tuple[float, float] | None = None
    L: float | None = None
    init_bisection: bool = True

    def __post_init__(self) -> None:
        as_real(self.step_factor, "step_factor", positive=True)
        as_int(self.n_bisection, "n_bisection", minimum=0)
        if self.bracket is not None:
            lo = as_real(self.bracket[0], "bracket[0]")
            hi = as_real(self.bracket[1], "bracket[1]")
            if not lo < hi:
                raise ValueError(
                    f"bracket must satisfy bracket[0] < bracket[1], got {self.bracket}"
                )
        if self.L is not None:
            as_real(self.L, "L", positive=True)

    def _length(self, nb: Normalized, w: Array) -> tuple[float, float, float]:
        def dfdg(g: float) -> float:
            return nb.partial_g(g, w)

        if self.bracket is not None:
            lo, hi = float(self.bracket[0]), float(self.bracket[1])
        else:
            lo, hi = -1.0, 1.0
            for _ in range(60):
                if (dfdg(lo) > 0) != (dfdg(hi) > 0):
                    break
                lo, hi = 2 * lo, 2 * hi
        if (dfdg(lo) > 0) == (dfdg(hi) > 0):
            raise ValueError(f"bracket [{lo:.3g}, {hi:.3g}] has no sign change of dF/dg")
        return bisection(dfdg, lo, hi, self.n_bisection)

    def start(self, problem: object, x0: object) -> tuple:
        """Initial state (the problem wrapped by ``Normalized``, ``L``, ``g0``, ``w0``, bracket).

        Parameters
        ----------
        problem : LeastSquares or GaussianHalfspace
            The objective in the original space.
        x0 : tuple or array_like
            ``(g0, w0)`` or the stacked ``[g0, *w0]``.

        Returns
        -------
        tuple
            The solver state.
        """
        nb = Normalized(problem)
        g0, w0 = split_params(x0, nb.base_dim)
        L = float(self.L) if self.L is not None else nb.L
        if self.init_bisection:
            g0, lo, hi = self._length(nb, w0)
        else:
            lo = hi = g0
        return (nb, L, g0, w0, lo, hi)

    def step(
        self, problem: object, state: tuple, *, evaluate_only: bool = False
    ) -> tuple[Diagnostics, tuple | None]:
        """Report the effective weight ``g w / ||w||_S``; a direction step, then a length
        step by bisection.

        Parameters
        ----------
        problem : LeastSquares or GaussianHalfspace
            The objective (the state holds its ``Normalized`` wrapper).
        state : tuple
            The current state.
        evaluate_only : bool
            Only report (no next state).

        Returns
        -------
        tuple
            ``(diagnostics, next_state or None)``.
        """
        nb, L, g, w, lo, hi = state
        base = nb.base
        w_unit, scale = nb.unit_scale(
            w
        )  # power-of-2 rescaling (exact): no under/overflow of ||w||_S
        n = nb.s_norm(w_unit) * scale
        x = g * w_unit / nb.s_norm(w_unit)
        if hasattr(base, "loss_grad_gap"):
            loss, gx, gap = base.loss_grad_gap(x)
        else:
            loss, gx = float(base.loss(x)), np.asarray(base.grad(x), float)
            gap = loss - base.f_star if getattr(base, "f_star", None) is not None else None
        rho = nb.rho(w)
        grho = nb.grad_rho(w)
        theta = nb.stack(g, w)
        gw = nb.grad(theta)[1:]
        gg = float(grho @ grho)
        c = float(gw @ grho) / gg if gg > 0 else 0.0
        eta = n**2 / (self.step_factor * L * abs(rho) * abs(c)) if (c != 0 and rho != 0) else 0.0
        extra = {
            "rho": rho,
            "rho_gap": nb.rho_gap(w),
            "g": g,
            "bracket_lo": lo,
            "bracket_hi": hi,
            "eta": eta,
            "c": c,
        }
        diag = Diagnostics(loss, gap, float(np.linalg.norm(gx)), x, extra)
        if evaluate_only:
            return diag, None
        w_new = w - eta * gw
        g_new, lo_new, hi_new = self._length(nb, w_new)
        return diag, (nb, L, g_new, w_new, lo_new, hi_new)

    @staticmethod
    def raw(state: tuple) -> Array:
        """The stacked raw parameters ``[g, *w]`` of ``state``.

        Parameters
        ----------
        state : tuple
            A GDNP state.

        Returns
        -------
        numpy.ndarray
            ``[g, *w]``.
        """
        return np.concatenate([[state[2]], state[3]])

"""Plain gradient descent ``w_{k+1} = w_k - lr grad f(w_k)`` (the baseline without BN)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bntheory._checks import as_real, as_vector

from ._base import Diagnostics

__all__ = ["GradientDescent"]

Array = np.ndarray
_RULES = ("1/L", "2/(L+mu)")


@dataclass(frozen=True, slots=True)
class GradientDescent:
    """Gradient descent with a constant step.

    Parameters
    ----------
    lr : float or {"1/L", "2/(L+mu)"}
        Step size ``> 0``, or a named rule resolved from the problem's Hessian spectrum
        (``problem.L``, ``problem.mu``; quadratics only). On least squares GD converges iff
        ``0 < lr < 2/lambda_max`` and its iterate rate is ``max_i |1 - lr lambda_i|``:
        ``1 - 1/kappa`` at ``1/L`` and ``(kappa-1)/(kappa+1)`` at ``2/(L+mu)``
        (Nesterov 2004, Thm 2.1.15; THEORY.md Sec. 2 [D]).

    Notes
    -----
    How the named rules get ``L`` and ``mu`` on a :class:`~bntheory.problems.LeastSquares`
    (issue 13; decided by measurement, one BLAS thread):

    * a generator that knows the spectrum (``ill_conditioned``, ``structured``): the
      constructed values, nothing is computed;
    * ``L`` of a dense ``H`` with ``d > 1000`` and of any matrix-free ``H``: Lanczos
      (ARPACK) to machine precision, with a residual certificate; dense ``eigvalsh`` up to
      ``d = 1000`` (the reference);
    * ``mu`` of a matrix-free ``H``: Lanczos on ``H^{-1}`` (the exact structured inverse,
      or CG to 1e-12); of a dense ``H``: the eigenvalues-only ``eigvalsh``, cached. Lanczos
      on ``H^{-1}`` by solves with the stored Cholesky factor (shift-invert at 0) was
      measured 3.4x slower than ``eigvalsh`` at d = 4000 (23.5 s vs 6.9 s: the triangular
      solves are memory-bound and a clustered bottom of the spectrum needs ~160 of them),
      so it is not used for arrays. ``"1/L"`` never needs ``mu``.
    """

    lr: float | str

    def __post_init__(self) -> None:
        if isinstance(self.lr, str):
            if self.lr not in _RULES:
                raise ValueError(f"lr must be a positive float or one of {_RULES}, got {self.lr!r}")
        else:
            as_real(self.lr, "lr", positive=True)

    def resolve_lr(self, problem: object) -> float:
        """The numeric step size on ``problem``.

        Parameters
        ----------
        problem : Problem
            The objective; a named rule needs ``problem.L`` (and ``mu``).

        Returns
        -------
        float
            The step size.
        """
        if not isinstance(self.lr, str):
            return float(self.lr)
        # hasattr would evaluate the properties (mu costs a full spectrum on a dense H):
        # look the names up on the type / instance instead
        missing = [
            n
            for n in ("L", "mu")
            if not (hasattr(type(problem), n) or n in getattr(problem, "__dict__", {}))
        ]
        if missing:
            raise ValueError(
                f"lr={self.lr!r} needs a problem with a known spectrum (attributes L and mu)"
            )
        # "1/L" needs no lambda_min (a second, costlier eigenvalue at large d); a
        # LeastSquares above d = 1000 or matrix-free gives L by Lanczos, not eigvalsh
        L = float(problem.L)
        if self.lr == "1/L":
            return 1.0 / L
        return 2.0 / (L + float(problem.mu))

    def start(self, problem: object, x0: object) -> tuple[Array, float]:
        """Initial state ``(w0, lr)``.

        Parameters
        ----------
        problem : Problem
            The objective.
        x0 : (d,) array_like
            The initial weight.

        Returns
        -------
        tuple
            ``(w0, lr)``.
        """
        return as_vector(x0, "x0", problem.dim), self.resolve_lr(problem)

    def step(
        self, problem: object, state: tuple[Array, float], *, evaluate_only: bool = False
    ) -> tuple[Diagnostics, tuple[Array, float] | None]:
        """Report ``w_k`` and take ``w_{k+1} = w_k - lr grad f(w_k)``.

        Parameters
        ----------
        problem : Problem
            The objective.
        state : tuple
            ``(w_k, lr)``.
        evaluate_only : bool
            Only report (no next state).

        Returns
        -------
        tuple
            ``(diagnostics, next_state or None)``.
        """
        w, lr = state
        if hasattr(problem, "loss_grad_gap"):
            loss, g, gap = problem.loss_grad_gap(w)
        else:
            loss, g = float(problem.loss(w)), np.asarray(problem.grad(w), float)
            f_star = getattr(problem, "f_star", None)
            gap = None if f_star is None else loss - f_star
        diag = Diagnostics(loss, gap, float(np.linalg.norm(g)), w, {})
        return diag, (None if evaluate_only else (w - lr * g, lr))

    @staticmethod
    def raw(state: tuple[Array, float]) -> Array:
        """The weight ``w`` of ``state``.

        Parameters
        ----------
        state : tuple
            ``(w, lr)``.

        Returns
        -------
        numpy.ndarray
            ``w``.
        """
        return state[0]

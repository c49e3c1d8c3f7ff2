"""The contracts between problems, solvers and :func:`bntheory.solvers.solve` (issue 11).

Structural types (``typing.Protocol``, checkable at run time with ``isinstance``): any
object with these members works, whatever its class. The shapes follow optimistix's
solver / state split and scipy.optimize's callable objectives.

* :class:`Problem`: an objective on ``R^d`` with exact loss, gradient and
  Hessian-vector product. :class:`~bntheory.problems.LeastSquares`,
  :class:`~bntheory.problems.GaussianHalfspace`, :class:`~bntheory.problems.EmpiricalHalfspace`
  and :class:`~bntheory.problems.Normalized` satisfy it.
* :class:`QuadraticProblem`: a :class:`Problem` that also knows its curvature
  constants (``L``, ``mu``) and optimum, as the step rules ``"1/L"`` / ``"2/(L+mu)"``
  and the bounds need (:class:`~bntheory.problems.LeastSquares`).
* :class:`Solver`: ``start`` builds a state from raw parameters, ``step`` reports the
  current iterate (:class:`~bntheory.solvers.Diagnostics`) and returns the next state,
  ``raw`` recovers the raw parameters. :class:`~bntheory.solvers.GradientDescent`,
  :class:`~bntheory.solvers.BNGD` and :class:`~bntheory.solvers.GDNP` satisfy it.

The arrays a problem exposes (``H``, ``u``, ``w_star``, ``S``, ...) are read-only and so
are those of a :class:`~bntheory.solvers.Result`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from bntheory.solvers import Diagnostics

__all__ = ["Problem", "QuadraticProblem", "Solver"]

Array = np.ndarray


@runtime_checkable
class Problem(Protocol):
    """An objective ``f: R^d -> R`` with exact first and second-order information.

    Attributes
    ----------
    dim : int
        The dimension ``d``.
    """

    dim: int

    def loss(self, w: object) -> float:
        """``f(w)``.

        Parameters
        ----------
        w : (d,) array_like
            The point.

        Returns
        -------
        float
            The objective (a named ValueError when it overflows float64).
        """
        ...

    def grad(self, w: object) -> Array:
        """``grad f(w)``.

        Parameters
        ----------
        w : (d,) array_like
            The point.

        Returns
        -------
        numpy.ndarray, shape (d,)
            The gradient.
        """
        ...

    def hvp(self, w: object, v: object) -> Array:
        """``Hess f(w) v``.

        Parameters
        ----------
        w : (d,) array_like
            The point.
        v : (d,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray, shape (d,)
            The Hessian-vector product.
        """
        ...


@runtime_checkable
class QuadraticProblem(Problem, Protocol):
    """A :class:`Problem` with known curvature constants and optimum (least squares).

    Attributes
    ----------
    L, mu : float
        ``lambda_max`` and ``lambda_min`` of the (constant) Hessian.
    w_star : numpy.ndarray
        The minimiser (read-only).
    J_star : float
        The minimum value.
    """

    L: float
    mu: float
    w_star: Array
    J_star: float


@runtime_checkable
class Solver(Protocol):
    """What :func:`bntheory.solvers.solve` drives."""

    def start(self, problem: Problem, x0: object) -> Any:
        """The initial state from the raw parameters ``x0``.

        Parameters
        ----------
        problem : Problem
            The objective.
        x0 : array_like or tuple
            Raw parameters (``w0``, or ``(a0, w0)`` for the BN solvers).

        Returns
        -------
        object
            The solver's state (opaque to ``solve``).
        """
        ...

    def step(
        self, problem: Problem, state: Any, *, evaluate_only: bool = False
    ) -> tuple[Diagnostics, Any]:
        """Report the current iterate and take one step.

        Parameters
        ----------
        problem : Problem
            The objective.
        state : object
            The current state.
        evaluate_only : bool
            Only report (the last iteration): the returned next state is None.

        Returns
        -------
        tuple
            ``(diagnostics, next_state)``.
        """
        ...

    def raw(self, state: Any) -> Array:
        """The raw parameters of ``state``.

        Parameters
        ----------
        state : object
            A state returned by :meth:`start` or :meth:`step`.

        Returns
        -------
        numpy.ndarray
            ``w`` (GD) or the stacked ``(a, w)`` (BNGD, GDNP).
        """
        ...

"""Smoothness (gradient-Lipschitz) constants: global, along trajectories, along lines.

References
----------
Nesterov (2004), *Introductory Lectures on Convex Optimization*, Sec. 1.2.2: ``f`` is
``L``-smooth iff ``||grad f(x) - grad f(y)|| <= L ||x - y||``; for a twice differentiable
``f`` the best global ``L`` is ``sup_x ||nabla^2 f(x)||_2`` (= ``lambda_max(H)`` for a
convex quadratic). Santurkar, Tsipras, Ilyas & Madry (2018), Sec. 3.2 / Fig. 4:
"effective beta-smoothness" = the largest ratio of gradient change to distance moved
along the gradient direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bntheory._checks import as_real_array

from ._validation import as_operator, finite_vector
from .eigen import top_eigenvalues
from .operators import hessian_operator

__all__ = [
    "LineProfile",
    "SmoothnessProfile",
    "global_smoothness",
    "gradient_lipschitz_along",
    "local_smoothness",
    "trajectory_smoothness",
]

Array = np.ndarray


def _ro(a: Array) -> Array:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def global_smoothness(
    problem_or_H: object, x: object | None = None, *, rng: object = None
) -> float:
    """Spectral norm of the Hessian, ``||nabla^2 f(x)||_2 = max_i |lambda_i|``.

    For a quadratic (constant Hessian ``H``) this is the global smoothness constant
    ``L = lambda_max(H)`` when ``H`` is PSD (Nesterov 2004, Sec. 1.2.2). For a
    non-quadratic problem it is the *local* curvature at ``x`` (a lower bound on the
    global ``L``).

    Parameters
    ----------
    problem_or_H : array_like (d, d), LinearOperator, or problem
        A symmetric matrix/operator, or an object with ``dim`` and ``hvp`` (uses
        ``hessian(x)`` when it exists).
    x : array_like, optional
        Point for a problem; default ``zeros(dim)``.
    rng : int, Generator or None
        Seeds ``eigsh`` when the matrix-free path is taken.

    Returns
    -------
    float
        ``max_i |lambda_i|`` of the Hessian.
    """
    obj = problem_or_H
    if hasattr(obj, "hvp") and hasattr(obj, "dim"):
        d = int(obj.dim)
        xx = np.zeros(d) if x is None else finite_vector(x, "x", d)
        if hasattr(obj, "hessian"):
            try:
                Hm = np.asarray(obj.hessian(xx), dtype=np.float64)
            except NotImplementedError:
                Hm = None
            if Hm is not None:
                return float(abs(top_eigenvalues(Hm, 1, which="LM")[0]))
        op = hessian_operator(obj, xx)
        return float(abs(top_eigenvalues(op, 1, which="LM", rng=rng)[0]))
    A, M = as_operator(obj, "problem_or_H")
    return float(abs(top_eigenvalues(M if M is not None else A, 1, which="LM", rng=rng)[0]))


@dataclass(frozen=True, slots=True)
class SmoothnessProfile:
    """Gradient-change ratios along a trajectory.

    Attributes
    ----------
    max_ratio : float
        ``max_k ||g_{k+1} - g_k|| / ||x_{k+1} - x_k||`` over steps that moved (0 if none).
    per_step : ndarray, shape (T - 1,)
        The ratio of each step; 0 for steps with ``x_{k+1} == x_k`` (see ``moved``).
    moved : ndarray of bool, shape (T - 1,)
        Whether step ``k`` had a non-zero displacement.
    step_norms : ndarray, shape (T - 1,)
        ``||x_{k+1} - x_k||``.
    """

    max_ratio: float
    per_step: Array
    moved: Array
    step_norms: Array


def local_smoothness(grads: object, xs: object) -> SmoothnessProfile:
    """Observed smoothness along a trajectory: ``||g_{k+1} - g_k|| / ||x_{k+1} - x_k||``.

    Source: definition of ``L``-smoothness (Nesterov 2004, Sec. 1.2.2) evaluated on
    consecutive iterates; every ratio is a lower bound on the global ``L``.

    Parameters
    ----------
    grads, xs : array_like, shape (T, d)
        Gradients and iterates, ``T >= 2``.

    Returns
    -------
    SmoothnessProfile
        The ``T - 1`` ratios and their maximum.
    """
    G = as_real_array(grads, "grads")
    X = as_real_array(xs, "xs")
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"xs must be a 2-D array with at least 2 rows, got shape {X.shape}")
    if G.shape != X.shape:
        raise ValueError(f"grads must have the same shape as xs {X.shape}, got {G.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("xs contains NaN or infinite entries")
    if not np.all(np.isfinite(G)):
        raise ValueError("grads contains NaN or infinite entries")
    dx = np.linalg.norm(np.diff(X, axis=0), axis=1)
    dg = np.linalg.norm(np.diff(G, axis=0), axis=1)
    moved = dx > 0
    ratio = np.zeros_like(dx)
    ratio[moved] = dg[moved] / dx[moved]
    mr = float(ratio.max()) if moved.any() else 0.0
    mv = moved.copy()
    mv.flags.writeable = False
    return SmoothnessProfile(max_ratio=mr, per_step=_ro(ratio), moved=mv, step_norms=_ro(dx))


def trajectory_smoothness(problem: object, xs: object) -> SmoothnessProfile:
    """:func:`local_smoothness` with gradients recomputed by ``problem.grad``.

    Parameters
    ----------
    problem : object
        Anything with ``grad(x)``.
    xs : array_like, shape (T, d), or a solver Result
        Iterates, or a ``Result`` of ``solve(..., keep="all")`` (or ``every=k``), whose
        ``iterates`` are used (a Result without iterates raises ValueError: ``solve``
        keeps only the last iterate unless asked).

    Returns
    -------
    SmoothnessProfile
        As :func:`local_smoothness`.
    """
    if not hasattr(problem, "grad"):
        raise TypeError("problem must have a 'grad(x)' method")
    if hasattr(xs, "iterates") and hasattr(xs, "losses"):
        if xs.iterates is None:
            raise ValueError(
                "xs: this Result kept no iterates; run solve(..., keep='all') (or every=k)"
            )
        xs = xs.iterates
    X = as_real_array(xs, "xs")
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"xs must be a 2-D array with at least 2 rows, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("xs contains NaN or infinite entries")
    G = np.stack([np.asarray(problem.grad(x), dtype=np.float64) for x in X])
    return local_smoothness(G, X)


@dataclass(frozen=True, slots=True)
class LineProfile:
    """Loss and gradient along ``x + s * direction`` (Santurkar et al. 2018, Fig. 4).

    Attributes
    ----------
    steps : ndarray (n,)
        The multipliers ``s``.
    losses : ndarray (n,)
        ``f(x + s d)``.
    grad_changes : ndarray (n,)
        ``||grad f(x + s d) - grad f(x)||`` ("gradient predictiveness").
    ratios : ndarray (n,)
        ``grad_changes / (|s| ||d||)``; 0 where ``s == 0``.
    loss_range : float
        ``max - min`` of ``losses`` together with ``f(x)`` ("loss landscape variation").
    effective_smoothness : float
        ``max(ratios)`` ("effective beta-smoothness").
    """

    steps: Array
    losses: Array
    grad_changes: Array
    ratios: Array
    loss_range: float
    effective_smoothness: float


def gradient_lipschitz_along(
    problem: object, x: object, direction: object, steps: object
) -> LineProfile:
    """Gradient change and loss variation along a line (Santurkar et al. 2018, Sec. 3.2).

    Santurkar et al. move along the gradient, ``direction = -lr * grad f(x)``, with a grid
    of multipliers ``steps``; the maximum ratio of gradient change to distance moved is
    their "effective beta-smoothness".

    Parameters
    ----------
    problem : object
        Anything with ``dim``, ``loss(x)`` and ``grad(x)``.
    x, direction : array_like, shape (dim,)
        Base point and (non-zero) direction.
    steps : array_like, shape (n,)
        Multipliers ``s``.

    Returns
    -------
    LineProfile
        Losses and gradient changes at ``x + s direction`` for each ``s``, and the
        maximum ratio of gradient change to distance moved.
    """
    for attr in ("dim", "loss", "grad"):
        if not hasattr(problem, attr):
            raise TypeError(f"problem must have '{attr}'")
    d = int(problem.dim)
    x0 = finite_vector(x, "x", d)
    v = finite_vector(direction, "direction", d)
    nv = float(np.linalg.norm(v))
    if nv == 0:
        raise ValueError("direction must be non-zero")
    s = finite_vector(steps, "steps")
    if s.shape[0] == 0:
        raise ValueError("steps must be non-empty")
    f0 = float(problem.loss(x0))
    g0 = np.asarray(problem.grad(x0), dtype=np.float64)
    losses = np.empty_like(s)
    dg = np.empty_like(s)
    for i, si in enumerate(s):
        xi = x0 + si * v
        losses[i] = float(problem.loss(xi))
        dg[i] = float(np.linalg.norm(np.asarray(problem.grad(xi), dtype=np.float64) - g0))
    if not (np.all(np.isfinite(losses)) and np.all(np.isfinite(dg))):
        raise ValueError(
            "steps: the loss or gradient is not finite along the line (steps too large)"
        )
    ratios = np.zeros_like(s)
    nz = s != 0
    ratios[nz] = dg[nz] / (np.abs(s[nz]) * nv)
    allf = np.append(losses, f0)
    return LineProfile(
        steps=_ro(s),
        losses=_ro(losses),
        grad_changes=_ro(dg),
        ratios=_ro(ratios),
        loss_range=float(allf.max() - allf.min()),
        effective_smoothness=float(ratios.max()),
    )

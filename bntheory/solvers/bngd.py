"""Batch-normalized gradient descent on ordinary least squares (Cai, Li & Shen 2019).

Model ``y ~ a w^T x / ||w||_H``; objective ``J(a, w) = 1/2 (c - 2 a w^T u / ||w||_H + a^2)``;
updates (THEORY.md Sec. 2 [D], Cai, Li & Shen 2019, Sec. 2):

    a_{k+1} = a_k + lr_a (w_k^T u / ||w_k||_H - a_k)
    w_{k+1} = w_k + lr_w a_k / ||w_k||_H (u - (w_k^T u / ||w_k||_H^2) H w_k)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bntheory._checks import as_generator, as_int, as_real, as_vector

from ._base import Diagnostics

__all__ = ["BNGD", "split_params"]

Array = np.ndarray


def split_params(x0: object, dim: int) -> tuple[float, Array]:
    """Parse BN parameters given as ``(a0, w0)`` or a stacked vector ``[a0, *w0]``.

    Parameters
    ----------
    x0 : tuple or (dim + 1,) array_like
        ``(a0, w0)`` or the stacked vector.
    dim : int
        Dimension of ``w``.

    Returns
    -------
    tuple
        ``(a0, w0)`` with ``w0`` non-zero.

    Raises
    ------
    TypeError
        For a ``dim`` that is not an int, or non-numeric parameters.
    ValueError
        For ``dim < 1``, a wrong length or ``w0 = 0``.
    """
    dim = as_int(dim, "dim", minimum=1)
    if isinstance(x0, tuple) and len(x0) == 2:
        a0 = as_real(x0[0], "x0[0] (a0)")
        w0 = as_vector(x0[1], "x0[1] (w0)", dim)
    else:
        theta = as_vector(x0, "x0", dim + 1)
        a0, w0 = float(theta[0]), theta[1:].copy()
    if not np.any(w0):
        raise ValueError("w0 must be non-zero: BN is undefined at w = 0")
    return a0, w0


@dataclass(frozen=True)
class BNGD:
    """Cai et al.'s BNGD on a :class:`~bntheory.problems.LeastSquares` problem.

    Parameters
    ----------
    lr_w : float
        Learning rate of the direction weights ``w`` (> 0).
    lr_a : float
        Learning rate of the scale ``a`` (> 0; Cai et al.'s theory covers ``(0, 1]`` [U]).
    batch_size : int, optional
        With a problem built by ``LeastSquares.from_samples``, each step draws a mini-batch
        (without replacement) and uses its moments ``H_B = X_c^T X_c / m``,
        ``u_B = X_c^T y / m`` (``X_c`` batch-centered: BN's batch mean is subtracted) in place of
        the population ones: exactly the gradient of ``J`` with batch statistics.
    rng : int, Generator or None
        Seed of the mini-batch draws.

    Notes
    -----
    History keys: ``a``, ``w_norm`` (``||w_k||_2``), ``w_hnorm`` (``||w_k||_H``),
    ``eps_hat`` (effective step ``lr_w q / ||w_k||_H^2``, THEORY.md Sec. 2 (iii)),
    ``direction_gap`` (``J(a*(w_k), w_k) - J* = 1/2 min_gamma ||w* - gamma w_k||_H^2``) and
    ``grad_w_norm``. ``gaps`` is ``J(a_k, w_k) - J*``, evaluated without cancellation as
    ``1/2 (a - mu)^2 + 1/2 r^T H r`` with ``mu = w^T u/||w||_H`` and ``r = w* - mu w/||w||_H``.
    """

    lr_w: float
    lr_a: float = 1.0
    batch_size: int | None = None
    rng: int | np.random.Generator | None = None

    def __post_init__(self) -> None:
        as_real(self.lr_w, "lr_w", positive=True)
        as_real(self.lr_a, "lr_a", positive=True)
        if self.batch_size is not None:
            as_int(self.batch_size, "batch_size", minimum=2)

    def start(self, problem: object, x0: object) -> tuple[float, Array, np.random.Generator | None]:
        """Initial state ``(a0, w0, generator)``.

        Parameters
        ----------
        problem : LeastSquares
            The objective.
        x0 : tuple or array_like
            ``(a0, w0)`` or the stacked ``[a0, *w0]``.

        Returns
        -------
        tuple
            ``(a0, w0, mini-batch generator or None)``.
        """
        for attr in ("H", "u", "w_star", "J_star"):
            if not hasattr(problem, attr):
                raise TypeError("problem must be a LeastSquares instance for BNGD")
        a0, w0 = split_params(x0, problem.dim)
        with np.errstate(all="ignore"):
            eps0 = self.lr_w * problem.q / float(w0 @ problem.H @ w0)
        if not np.isfinite(eps0):
            raise ValueError(
                "lr_w: the effective step lr_w q / ||w0||_H^2 overflows float64 (reduce lr_w or "
                "scale up w0)"
            )
        gen = None
        if self.batch_size is not None:
            if getattr(problem, "X", None) is None:
                raise ValueError("batch_size needs a problem built with LeastSquares.from_samples")
            if self.batch_size > problem.X.shape[0]:
                raise ValueError(
                    f"batch_size must be <= n = {problem.X.shape[0]}, got {self.batch_size}"
                )
            gen = as_generator(self.rng)
        return (a0, w0, gen)

    def _batch_moments(self, problem: object, gen: np.random.Generator) -> tuple[Array, Array]:
        idx = gen.choice(problem.X.shape[0], size=self.batch_size, replace=False)
        Xb = problem.X[idx]
        if hasattr(Xb, "toarray"):  # sparse samples: the batch is small, densify it
            Xb = Xb.toarray()
        Xc = Xb - Xb.mean(axis=0)
        m = self.batch_size
        return Xc.T @ Xc / m, Xc.T @ problem.y[idx] / m

    def step(
        self, problem: object, state: tuple, *, evaluate_only: bool = False
    ) -> tuple[Diagnostics, tuple | None]:
        """Report the effective weight ``a w / ||w||_H`` and take one BNGD step.

        Parameters
        ----------
        problem : LeastSquares
            The objective.
        state : tuple
            ``(a, w, generator)``.
        evaluate_only : bool
            Only report (no next state).

        Returns
        -------
        tuple
            ``(diagnostics, next_state or None)``.
        """
        a, w, gen = state
        H, u, w_star = problem.H, problem.u, problem.w_star
        Hw = H @ w
        n2 = float(w @ Hw)
        n = np.sqrt(n2)
        mu = float(u @ w) / n
        e = w / n
        proj = u - (mu / n) * Hw  # = H (w* - mu e): the H-residual of w* off the ray of w
        r = w_star - mu * e
        dir_gap = 0.5 * max(float(r @ proj), 0.0)
        gap = 0.5 * (a - mu) ** 2 + dir_gap
        grad_x = ((a - mu) / n) * Hw - proj  # H x - u at x = a e
        extra = {
            "a": a,
            "w_norm": float(np.linalg.norm(w)),
            "w_hnorm": n,
            "eps_hat": self.lr_w * problem.q / n2,
            "direction_gap": dir_gap,
            "grad_w_norm": abs(a) / n * float(np.linalg.norm(proj)),
        }
        diag = Diagnostics(problem.J_star + gap, gap, float(np.linalg.norm(grad_x)), a * e, extra)
        if evaluate_only:
            return diag, None
        if gen is not None:
            HB, uB = self._batch_moments(problem, gen)
            HwB = HB @ w
            nB2 = float(w @ HwB)
            muB = float(uB @ w) / np.sqrt(nB2)
            projB = uB - (float(uB @ w) / nB2) * HwB
            a_new = a + self.lr_a * (muB - a)
            w_new = w + (self.lr_w * a / np.sqrt(nB2)) * projB
        else:
            a_new = a + self.lr_a * (mu - a)
            w_new = w + (self.lr_w * a / n) * proj
        return diag, (a_new, w_new, gen)

    @staticmethod
    def raw(state: tuple) -> Array:
        """The stacked raw parameters ``[a, *w]`` of ``state``.

        Parameters
        ----------
        state : tuple
            ``(a, w, generator)``.

        Returns
        -------
        numpy.ndarray
            ``[a, *w]``.
        """
        return np.concatenate([[state[0]], state[1]])

"""Batch-normalization reparametrization of a linear model: ``w~ = g w / ||w||_S``.

For a linear model ``x^T w`` with zero-mean inputs, population BN gives
``BN(x^T w) = x^T w / ||w||_S`` with ``S = E[x x^T]``; a learned scale ``g`` (Cai et al.'s
``a``, Kohler et al.'s ``g``) makes the effective weight ``w~ = g w / ||w||_S``
(Cai, Li & Shen 2019, Sec. 2; Kohler et al. 2019, Eq. 9; THEORY.md Secs. 2-3 [D]).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from bntheory._checks import as_real, as_vector
from bntheory.problems._kohler_rho import KohlerRho

__all__ = ["Normalized"]

Array = np.ndarray


class Normalized(KohlerRho):
    """Objective ``F(g, w) = f(g w / ||w||_S)`` in the stacked vector ``theta = (g, w)``.

    Parameters
    ----------
    problem : LeastSquares or GaussianHalfspace
        Base problem in the effective weight ``w~``; must expose ``dim``, ``loss``,
        ``grad``, ``hvp``, ``norm_matrix`` (``S``) and ``u`` (for Kohler's ``rho``).

    Notes
    -----
    ``F`` is scale invariant in ``w``: ``F(g, c w) = F(g, w)`` for ``c > 0``, hence
    ``w^T grad_w F = 0`` and ``grad_w F(g, c w) = grad_w F(g, w) / c``
    (Ioffe & Szegedy 2015, Sec. 3.3; Arora et al. 2019, Lemma 2.4 [T]).
    For least squares, ``F`` is Cai et al.'s ``J(a, w) = 1/2 (c - 2 a w^T u/||w||_H + a^2)``.
    """

    def __init__(self, problem: object):
        for attr in ("dim", "loss", "grad", "hvp", "norm_matrix", "u"):
            if not hasattr(problem, attr):
                raise TypeError(
                    f"problem must provide {attr!r} (a LeastSquares or GaussianHalfspace)"
                )
        self.base = problem
        self.base_dim = int(problem.dim)
        self.dim = self.base_dim + 1
        self.u = np.asarray(problem.u, float)
        S = problem.norm_matrix
        self._operator = isinstance(S, LinearOperator)
        if self._operator:
            # matrix-free S (LeastSquares.from_operator / structured / from_samples): only
            # products S v; S^-1 u by the problem's own solver (exact, Cholesky or CG)
            self.S = S
            self.w_rho = np.asarray(problem.solve(self.u), float)
        else:
            self.S = np.asarray(S, float)
            chol = np.linalg.cholesky(self.S)
            #: ``S^{-1} u``: the optimal direction of Kohler's rho.
            self.w_rho = scipy.linalg.cho_solve((chol, True), self.u)
        self.q = float(self.u @ self.w_rho)
        self._eig: Array | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def eigenvalues(self) -> Array:
        """Eigenvalues of ``S`` (ascending, cached)."""
        if self._eig is None:
            base_eig = getattr(self.base, "eigenvalues", None)
            self._eig = np.asarray(base_eig if base_eig is not None else np.linalg.eigvalsh(self.S))
        return self._eig

    @property
    def L(self) -> float:
        """``lambda_max(S)``."""
        if self._operator:
            return float(self.base.L)
        return float(self.eigenvalues[-1])

    @property
    def mu(self) -> float:
        """``lambda_min(S)``."""
        if self._operator:
            return float(self.base.mu)
        return float(self.eigenvalues[0])

    def split(self, theta: object) -> tuple[float, Array]:
        """``theta -> (g, w)``; raises ValueError when ``w = 0``.

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).

        Returns
        -------
        tuple
            ``(g, w)``.
        """
        theta = as_vector(theta, "theta", self.dim)
        w = theta[1:]
        if not np.any(w):
            raise ValueError("w (theta[1:]) must be non-zero: BN is undefined at w = 0")
        return float(theta[0]), w

    @staticmethod
    def unit_scale(w: Array) -> tuple[Array, float]:
        """``(w / c, c)``, ``c`` the power of 2 with ``max|w / c|`` in ``[1/2, 1)``.

        The division is exact (a power of 2), so a scale-invariant quantity (BN's
        ``g w / ||w||_S``, Kohler's ``rho``) evaluated at ``w / c`` is the same number
        without over- or underflow of ``||w||_S`` for huge or tiny ``w``.

        Parameters
        ----------
        w : numpy.ndarray
            A non-zero finite float64 vector.

        Returns
        -------
        tuple
            ``(w / c, c)``.
        """
        _, e = np.frexp(float(np.max(np.abs(w))))
        with np.errstate(over="ignore"):  # max|w| >= 2**1023: c = 2**1024 is inf
            c = float(np.ldexp(1.0, int(e)))
        return np.ldexp(w, -int(e)), c  # = w / c exactly, also when c overflows

    _unit = unit_scale  # the earlier private name

    def _split_scaled(self, theta: object) -> tuple[float, Array, float]:
        """``theta -> (g, w / c, c)`` with ``c`` the power of 2 nearest ``max|w|``.

        ``F`` is scale invariant in ``w``, so the loss and the derivatives are evaluated at
        the unit-scale ``w / c`` (exactly, ``c`` being a power of 2) and rescaled: no
        overflow or underflow of ``||w||_S^k`` for huge or tiny ``w``.
        """
        g, w = self.split(theta)
        return (g, *self._unit(w))

    @staticmethod
    def _finite(out: Array) -> Array:
        if not np.all(np.isfinite(out)):
            raise ValueError(
                "theta: the derivative overflows float64 at this scale of w = theta[1:] "
                "(F is scale invariant in w: rescale theta[1:])"
            )
        return out

    @staticmethod
    def stack(g: float, w: Array) -> Array:
        """``(g, w) -> theta``.

        Parameters
        ----------
        g : float
            The length (scale) parameter.
        w : (d,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray
            ``[g, *w]``.
        """
        return np.concatenate([[float(g)], np.asarray(w, float)])

    def s_norm(self, w: Array) -> float:
        """``||w||_S = sqrt(w^T S w)``.

        Parameters
        ----------
        w : numpy.ndarray
            The direction.

        Returns
        -------
        float
            ``||w||_S``.
        """
        return float(np.sqrt(w @ (self.S @ w)))

    def effective(self, theta: object) -> Array:
        """Effective weight ``w~ = g w / ||w||_S`` in the original space.

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).

        Returns
        -------
        numpy.ndarray
            ``g w / ||w||_S``.
        """
        g, w, _ = self._split_scaled(theta)
        return g * w / self.s_norm(w)

    # ------------------------------------------------------------------ objective
    def loss(self, theta: object) -> float:
        """``f(g w / ||w||_S)``.

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).

        Returns
        -------
        float
            ``F(theta) = f(g w / ||w||_S)``.
        """
        return float(self.base.loss(self.effective(theta)))

    def J(self, a: float, w: object) -> float:
        """Cai et al.'s ``J(a, w)`` (= :meth:`loss` at ``(a, w)``).

        Parameters
        ----------
        a : float
            The length ``g``.
        w : (d,) array_like
            The direction.

        Returns
        -------
        float
            ``F(a, w)``.
        """
        return self.loss(self.stack(as_real(a, "a"), as_vector(w, "w", self.base_dim)))

    def grad(self, theta: object) -> Array:
        """Gradient ``((w/n)^T h, (g/n)(h - S w (w^T h)/n^2))``, ``h = grad f(w~)``, ``n = ||w||_S``.

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).

        Returns
        -------
        numpy.ndarray
            ``grad F(theta)``, shape ``(d + 1,)``.
        """
        g, w, c = self._split_scaled(theta)
        n = self.s_norm(w)
        h = np.asarray(self.base.grad(g * w / n), float)
        wh = float(w @ h)
        Sw = self.S @ w
        with np.errstate(over="ignore"):
            out = self.stack(wh / n, (g / n) * (h - Sw * (wh / n**2)) / c)
        return self._finite(out)

    def partial_g(self, g: float, w: Array) -> float:
        """``dF/dg`` at ``(g, w)`` (the function Kohler et al.'s bisection zeroes).

        Parameters
        ----------
        g : float
            The length.
        w : numpy.ndarray
            The direction.

        Returns
        -------
        float
            ``dF/dg`` at ``(g, w)``.
        """
        # dF/dg is scale invariant in w: evaluate at w / 2^e, max|w / 2^e| in [1/2, 1).
        g = as_real(g, "g")
        w = as_vector(w, "w", self.base_dim)
        if not np.any(w):
            raise ValueError("w must be non-zero: BN is undefined at w = 0")
        w, _ = self._unit(w)
        n = self.s_norm(w)
        return float(w @ np.asarray(self.base.grad(g * w / n))) / n

    def hvp(self, theta: object, v: object) -> Array:
        """Hessian-vector product by the chain rule (second-order term of the BN map included).

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).
        v : (d + 1,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray
            ``Hess F(theta) v``.
        """
        g, w, c = self._split_scaled(theta)
        v = as_vector(v, "v", self.dim)
        # At the unit-scale point (g, w/c) the Hessian is D H D with D = diag(1, c I):
        # H v = D^-1 H1 D^-1 v, H1 the Hessian at (g, w/c). The two parts of D^-1 v are
        # applied separately (linearity) so that v_w / c cannot overflow.
        if c == 1.0:
            return self._hvp_unit(g, w, v)
        v_g, v_w = v.copy(), v.copy()
        v_g[1:] = 0.0
        v_w[0] = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            r = self._hvp_unit(g, w, v_g) + self._hvp_unit(g, w, v_w) / c
            r[1:] /= c
        return self._finite(r)

    def _hvp_unit(self, g: float, w: Array, v: Array) -> Array:
        dg, dw = float(v[0]), v[1:]
        S = self.S
        Sw = S @ w
        n2 = float(w @ Sw)
        n = np.sqrt(n2)
        wt = g * w / n
        h = np.asarray(self.base.grad(wt), float)
        wh = float(w @ h)
        wSdw = float(Sw @ dw)
        # Jacobian of w~ applied to v, then Hessian of f, then Jacobian transpose.
        dwt = (w / n) * dg + (g / n) * (dw - w * (wSdw / n2))
        Hd = np.asarray(self.base.hvp(wt, dwt), float)
        jt_g = float(w @ Hd) / n
        jt_w = (g / n) * (Hd - Sw * (float(w @ Hd) / n2))
        # Derivative of J^T with h held fixed.
        dh = float(dw @ h)
        proj = h - Sw * (wh / n2)
        sec_g = dh / n - wh * wSdw / n**3
        sec_w = (
            (dg / n) * proj
            - g * wSdw / n**3 * proj
            + (g / n) * (-(S @ dw) * (wh / n2) - Sw * (dh / n2) + Sw * (2 * wh * wSdw / n2**2))
        )
        return self.stack(jt_g + sec_g, jt_w + sec_w)

    def hessian(self, theta: object) -> Array:
        """Dense Hessian from ``dim`` HVPs (small dimensions only), symmetrized.

        Parameters
        ----------
        theta : (d + 1,) array_like
            Stacked parameters ``[g, *w]`` (``w`` non-zero).

        Returns
        -------
        numpy.ndarray
            The symmetrized dense Hessian, ``(d + 1, d + 1)``.
        """
        theta = as_vector(theta, "theta", self.dim)
        Hm = np.column_stack([self.hvp(theta, e) for e in np.eye(self.dim)])
        return 0.5 * (Hm + Hm.T)

"""The setting of Santurkar et al. (2018), Sec. 4: a downstream loss composed with one BN feature.

``L_hat(y) = L(BN(y))`` with ``BN(y) = gamma (y - mu(y)) / sigma(y)`` over a batch of ``m``
values of one feature (``eps = 0``, ``beta = 0``) and a quadratic downstream loss
``L(z) = z^T H z / 2 + b^T z`` (``H`` is the Hessian of the loss with respect to the BN
output). The loss and gradient use :mod:`bntheory.bn`; the Hessian-vector product is an
independent closed form (the R-operator of ``(gamma / sigma) P(y) grad L``, with
``P = I - 1 1^T / m - y_hat y_hat^T / m``; Santurkar et al. 2018, Fact C.1 and the proof of
Thm 4.2), so that measures built on it (:mod:`bntheory.measures`) do not rely on finite
differences of the library's backward pass.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from bntheory._checks import as_matrix, as_real, as_vector

__all__ = ["BNQuadratic"]

Array = np.ndarray


class BNQuadratic:
    """``L_hat(y) = L(BN(y))`` with ``L(z) = z^T H z / 2 + b^T z`` (Santurkar et al. 2018, Sec. 4).

    Parameters
    ----------
    H : array_like, shape (m, m)
        Symmetric Hessian of the downstream loss with respect to the BN output.
    b : array_like, shape (m,)
        Linear term of the downstream loss.
    gamma : float
        BN scale (``> 0``); ``beta = 0`` and ``eps = 0``.

    Notes
    -----
    ``L_hat`` is invariant under ``y -> a y + c 1`` (``a > 0``), so its Hessian annihilates
    ``1`` everywhere and ``y - mu`` at stationary points; the condition number is read on
    the orthogonal complement of ``span{1, y_hat}``.
    """

    def __init__(self, H: Array, b: Array, gamma: float = 1.0) -> None:
        H = as_matrix(H, "H")
        b = as_vector(b, "b")
        if H.shape[0] != H.shape[1] or H.shape[0] < 3:
            raise ValueError(f"H must be a square matrix of size >= 3, got shape {H.shape}")
        amax = float(np.max(np.abs(H)))
        Hs = H / amax if amax > 0 else H  # scaled: no overflow for entries near 1e308
        if not np.allclose(Hs, Hs.T, rtol=1e-12, atol=0.0):
            raise ValueError("H must be symmetric")
        if b.shape != (H.shape[0],):
            raise ValueError(f"b must be a finite vector of shape ({H.shape[0]},), got {b.shape}")
        gamma = as_real(gamma, "gamma", positive=True)
        self.H, self.b, self.gamma = 0.5 * H + 0.5 * H.T, b, gamma
        self.dim = H.shape[0]

    # ----------------------------------------------------------------- library path
    def _check_y(self, y: Array) -> Array:
        y = as_vector(y, "y")
        if y.shape != (self.dim,):
            raise ValueError(f"y must be a finite vector of shape ({self.dim},), got {y.shape}")
        if not y.max() > y.min():  # not np.ptp: max - min overflows near 1e308
            raise ValueError("y must not be constant (BN with eps = 0 is undefined there)")
        return y

    @staticmethod
    def _rescaled(y: Array) -> tuple[Array, int]:
        """``(y * 2**k, k)`` with ``k`` bringing ``max |y|`` near 1 when it is extreme, else
        ``(y, 0)``.

        ``L_hat(y) = L_hat(s y)`` for ``s > 0`` (``eps = 0``), so the gradient scales by
        ``s`` and the Hessian by ``s**2``; the rescaling is exact (``np.ldexp``, also for
        subnormal ``y``), and ordinary ``y`` is left untouched (bit-identical results).
        """
        top = float(np.max(np.abs(y)))
        if 2.0**-400 <= top <= 2.0**400:
            return y, 0
        k = -int(np.frexp(top)[1])
        return np.ldexp(y, k), k

    def normalize(self, y: Array) -> Array:
        """``BN(y)`` (:func:`bntheory.bn.batch_norm_forward`, ``eps = 0``).

        Parameters
        ----------
        y : array_like (m,)
            Finite, not constant.

        Returns
        -------
        ndarray (m,)
        """
        from bntheory.bn import batch_norm_forward

        y, _ = self._rescaled(self._check_y(y))
        return batch_norm_forward(y[:, None], self.gamma, 0.0, eps=0.0)[0][:, 0]

    def loss(self, y: Array) -> float:
        """``L_hat(y) = L(BN(y))``.

        Parameters
        ----------
        y : array_like (m,)

        Returns
        -------
        float
        """
        z = self.normalize(y)
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(0.5 * z @ self.H @ z + self.b @ z)
        if not np.isfinite(value):
            raise ValueError("the loss overflows float64 here (rescale H, b or gamma)")
        return value

    def grad(self, y: Array) -> Array:
        """``grad_y L_hat`` (:func:`bntheory.bn.batch_norm_backward` of ``H z + b``).

        Parameters
        ----------
        y : array_like (m,)

        Returns
        -------
        ndarray (m,)
        """
        from bntheory.bn import batch_norm_backward, batch_norm_forward

        y, k = self._rescaled(self._check_y(y))
        z, cache = batch_norm_forward(y[:, None], self.gamma, 0.0, eps=0.0)
        g = self.H @ z[:, 0] + self.b
        dy = batch_norm_backward(g[:, None], cache)[0][:, 0]
        if k == 0:
            return dy
        with np.errstate(over="ignore", under="ignore"):
            return self._finite(np.ldexp(dy, k), "gradient")

    @staticmethod
    def _finite(value: Array, what: str) -> Array:
        if not np.all(np.isfinite(value)):
            raise ValueError(f"the {what} at this y over- or underflows float64 (rescale y)")
        return value

    # ----------------------------------------------------------------- closed forms
    def _stats(self, y: Array) -> tuple[float, Array]:
        u = y - y.mean()
        sigma = float(np.sqrt(u @ u / self.dim))
        return sigma, u / sigma

    def _project(self, w: Array, xh: Array) -> Array:
        return w - w.mean() - xh * (xh @ w) / self.dim

    def hvp(self, y: Array, v: Array) -> Array:
        """Exact ``Hess_y L_hat @ v``: R-operator of ``(gamma / sigma) P g`` with
        ``g = H z + b`` (closed form, independent of :mod:`bntheory.bn`).

        Parameters
        ----------
        y, v : array_like (m,)
            Point and direction.

        Returns
        -------
        ndarray (m,)
        """
        y, k = self._rescaled(self._check_y(y))
        v = as_vector(v, "v")
        if v.shape != (self.dim,):
            raise ValueError(f"v must have shape ({self.dim},), got {v.shape}")
        m, gam = self.dim, self.gamma
        sigma, xh = self._stats(y)
        g = self.H @ (gam * xh) + self.b
        dxh = self._project(v, xh) / sigma  # d x_hat [v]
        dsigma = float(xh @ v) / m  # d sigma [v]
        first = gam / sigma * self._project(self.H @ (gam * dxh), xh)
        second = -gam * dsigma / sigma**2 * self._project(g, xh)
        third = -gam / (sigma * m) * (dxh * (xh @ g) + xh * (dxh @ g))
        if k == 0:
            return first + second + third
        with np.errstate(over="ignore", under="ignore"):
            return self._finite(np.ldexp(first + second + third, 2 * k), "Hessian-vector product")

    def complement_basis(self, y: Array) -> Array:
        """Orthonormal basis of the complement of ``span{1, y_hat}``.

        Parameters
        ----------
        y : array_like (m,)

        Returns
        -------
        ndarray (m, m - 2)
        """
        _, xh = self._stats(self._rescaled(self._check_y(y))[0])
        Q, _ = np.linalg.qr(np.column_stack([np.ones(self.dim), xh, np.eye(self.dim)]))
        return Q[:, 2 : self.dim]

    def global_minimizer(self) -> tuple[Array, float]:
        """A global minimizer ``y*`` of ``L_hat`` and the Lagrange multiplier ``mu``.

        ``BN`` maps onto ``{z : 1^T z = 0, ||z||^2 = m gamma^2}``; on that sphere the global
        minimum of the quadratic satisfies ``(C - mu I) w = -c`` with ``mu < lambda_min(C)``
        (the trust-region characterisation; Moré & Sorensen 1983), ``C``, ``c`` the
        restriction to ``1^perp``. ``mu`` is the root of the secular equation (Brent).
        ``BN(z*) = z*``, so ``y* = z*``.

        Returns
        -------
        tuple of (ndarray (m,), float)
            ``y*`` and ``mu``.
        """
        m = self.dim
        Q, _ = np.linalg.qr(np.column_stack([np.ones(m), np.eye(m)]))
        Q = Q[:, 1:m]
        lam, V = np.linalg.eigh(Q.T @ self.H @ Q)
        c = V.T @ (Q.T @ self.b)
        r2 = m * self.gamma**2
        if abs(c[0]) < 1e-12 * (np.linalg.norm(c) + 1e-300):
            raise ValueError("b has no component on the lowest eigenvector (hard case)")

        def phi(mu: float) -> float:
            return float(np.sum(c**2 / (lam - mu) ** 2) - r2)

        hi = lam[0] - abs(c[0]) / np.sqrt(r2) * 1e-9
        lo = lam[0] - np.linalg.norm(c) / np.sqrt(r2) - 1.0
        mu = brentq(phi, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
        w = -c / (lam - mu)
        return Q @ (V @ w), float(mu)

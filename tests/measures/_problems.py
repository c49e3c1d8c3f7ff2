"""Small problems written for the measures tests (independent of bntheory.problems)."""

from __future__ import annotations

import numpy as np


def random_spd(
    d: int, rng: np.random.Generator, *, lo: float = 1.0, hi: float = 1e3, spectrum=None
):
    """``H = Q diag(lam) Q^T`` with a Haar-random ``Q``; returns ``(H, lam_ascending)``."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    lam = (
        np.geomspace(lo, hi, d) if spectrum is None else np.sort(np.asarray(spectrum, dtype=float))
    )
    H = (Q * lam) @ Q.T
    return 0.5 * (H + H.T), lam


class Quadratic:
    """f(x) = 1/2 x^T H x - b^T x."""

    def __init__(self, H, b):
        self.H = np.asarray(H, dtype=float)
        self.b = np.asarray(b, dtype=float)
        self.dim = self.H.shape[0]

    def loss(self, x):
        return 0.5 * x @ self.H @ x - self.b @ x

    def grad(self, x):
        return self.H @ x - self.b

    def hvp(self, x, v):
        return self.H @ v

    def hessian(self, x):
        return self.H.copy()


class HvpOnlyQuadratic:
    """Same objective as :class:`Quadratic` without ``hessian`` (forces matrix-free paths)."""

    def __init__(self, H, b):
        self._q = Quadratic(H, b)
        self.dim = self._q.dim
        self.loss, self.grad, self.hvp = self._q.loss, self._q.grad, self._q.hvp


class Logistic:
    """f(w) = mean log(1 + exp(-y_i x_i^T w)) + lam/2 ||w||^2, labels y in {-1, +1}."""

    def __init__(self, X, y, lam=1e-2):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.lam = lam
        self.n, self.dim = self.X.shape

    def _margins(self, w):
        return self.y * (self.X @ w)

    def loss(self, w):
        return float(np.mean(np.logaddexp(0.0, -self._margins(w))) + 0.5 * self.lam * w @ w)

    def grad(self, w):
        s = 0.5 * (1.0 - np.tanh(0.5 * self._margins(w)))  # sigmoid(-m)
        return -(self.X.T @ (self.y * s)) / self.n + self.lam * w

    def _curv(self, w):
        p = 0.5 * (1.0 + np.tanh(0.5 * self._margins(w)))
        return p * (1.0 - p)

    def hvp(self, w, v):
        return self.X.T @ (self._curv(w) * (self.X @ v)) / self.n + self.lam * v

    def hessian(self, w):
        return (self.X.T * self._curv(w)) @ self.X / self.n + self.lam * np.eye(self.dim)


def logistic_problem(n: int, d: int, rng: np.random.Generator, lam: float = 1e-2) -> Logistic:
    X = rng.standard_normal((n, d)) * np.geomspace(0.2, 3.0, d)
    w_true = rng.standard_normal(d)
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return Logistic(X, y, lam)

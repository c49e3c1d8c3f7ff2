"""Learning halfspaces with Gaussian inputs: population loss ``E[phi(z^T w)]``, ``z = -y x``.

Two models (Kohler et al. 2019, Sec. 4, Eq. 16; THEORY.md Sec. 3):

* **Kohler model** (their assumption (A2) [U]): ``z ~ N(u, S)``. Then ``z^T w ~ N(u^T w, w^T S w)``
  and every expectation is one-dimensional (Stein's lemma gives the gradient and HVP).
* **Teacher model**: ``x ~ N(0, S)``, ``y = sign(w_t^T x)`` flipped with probability ``flip``.
  ``(w_t^T x, w^T x)`` is 2-D Gaussian; conditioning on ``b = w^T x`` leaves closed-form
  truncated-normal moments of ``a = w_t^T x / ||w_t||_S`` in ``a > 0`` / ``a < 0``, so the
  remaining integral is again one-dimensional (split at ``b = 0``).

Quadrature accuracy: see :mod:`bntheory.problems.gaussian_expectations`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.optimize

from bntheory._checks import as_generator, as_int, as_real, as_spd, as_vector

from .empirical_halfspace import EmpiricalHalfspace
from .gaussian_expectations import (  # noqa: F401  (private names re-exported for old imports)
    LOSSES,
    WOverflowError,
    _check_w,
    _get_loss,
    _half_line_density,
    _half_line_nodes,
    _logistic,
    _normal_expect,
    _s_norm,
    _sigmoid_derivs,
    _sigmoid_loss,
    _trapezoid_grid,
    _trunc_moments,
)
from .ls_data import frozen

__all__ = ["GaussianHalfspace", "EmpiricalHalfspace", "LOSSES"]

Array = np.ndarray
_SQRT2PI = np.sqrt(2 * np.pi)
#: above this standard deviation, 1-D expectations use graded Gauss-Legendre panels
_WIDE = 1e3


class GaussianHalfspace:
    """Population halfspace-learning objective ``f(w) = E[phi(z^T w)]``, ``z = -y x``.

    Use :meth:`from_moments` (Kohler model, ``z ~ N(u, S)``) or :meth:`teacher_model`
    (``x ~ N(0, S)``, labels from a teacher direction). Attributes: ``dim``, ``S``,
    ``u = E[z]``, ``norm_matrix`` (BN normalization matrix: ``S``), ``Phi`` (``sup|phi'|``,
    Kohler's (A3)), ``model`` ("kohler" or "teacher"), ``loss_name``.
    """

    def __init__(
        self,
        S: object,
        *,
        u: object | None = None,
        teacher: object | None = None,
        flip: float = 0.0,
        loss: str = "logistic",
    ):
        S, chol = as_spd(S, "S")
        # read-only (issue 11): assigning into S or u would leave f_star and the factor stale
        self.S, self._chol = frozen(S, copy=False), frozen(chol, copy=False)
        self.dim = self.S.shape[0]
        self._phi, self.Phi = _get_loss(loss)
        self.loss_name = loss
        if (u is None) == (teacher is None):
            raise ValueError("give exactly one of u (Kohler model) and teacher (teacher model)")
        self.flip = as_real(flip, "flip")
        if not 0 <= self.flip <= 0.5:
            raise ValueError(f"flip must be in [0, 1/2], got {self.flip}")
        if u is not None:
            self.model = "kohler"
            self.u = frozen(as_vector(u, "u", self.dim))
            self.teacher = None
        else:
            self.model = "teacher"
            t = as_vector(teacher, "teacher", self.dim)
            nt = _s_norm(self.S, t)
            if nt == 0:
                raise ValueError("teacher must be non-zero")
            self.teacher = frozen(t)
            self._e1 = frozen(t / nt, copy=False)
            self._Se1 = frozen(self.S @ self._e1, copy=False)
            # E[z] = -E[y x] = -(1 - 2 flip) E[|a|] S e1, a = e1^T x ~ N(0, 1).
            self.u = frozen(-(1 - 2 * self.flip) * np.sqrt(2 / np.pi) * self._Se1, copy=False)
        self._f_star: float | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_moments(cls, u: object, S: object, loss: str = "logistic") -> GaussianHalfspace:
        """Kohler et al.'s model (A2): ``z = -y x ~ N(u, S)``.

        Parameters
        ----------
        u : (d,) array_like
            ``E[z]``.
        S : (d, d) array_like
            Covariance of ``z`` (symmetric positive definite).
        loss : str
            ``"logistic"`` or ``"sigmoid"``.

        Returns
        -------
        GaussianHalfspace
            The Kohler-model problem.
        """
        return cls(S, u=u, loss=loss)

    @classmethod
    def teacher_model(
        cls, S: object, teacher: object, *, flip: float = 0.0, loss: str = "logistic"
    ) -> GaussianHalfspace:
        """``x ~ N(0, S)``, ``y = sign(teacher^T x)``, each label flipped with probability ``flip``.

        Parameters
        ----------
        S : (d, d) array_like
            Covariance of ``x``.
        teacher : (d,) array_like
            Non-zero teacher direction.
        flip : float
            Label-flip probability in ``[0, 1/2]``.
        loss : str
            ``"logistic"`` or ``"sigmoid"``.

        Returns
        -------
        GaussianHalfspace
            The teacher-model problem.
        """
        return cls(S, teacher=teacher, flip=flip, loss=loss)

    @classmethod
    def from_samples(cls, X: object, y: object, loss: str = "logistic") -> EmpiricalHalfspace:
        """Empirical objective ``(1/n) sum phi(-y_i x_i^T w)`` (see :class:`EmpiricalHalfspace`).

        Parameters
        ----------
        X : (n, d) array_like
            Inputs.
        y : (n,) array_like
            Labels in {-1, +1}.
        loss : str
            ``"logistic"`` or ``"sigmoid"``.

        Returns
        -------
        EmpiricalHalfspace
            The empirical problem.
        """
        return EmpiricalHalfspace(X, y, loss=loss)

    def sample(self, n: int, rng: int | np.random.Generator | None = None) -> tuple[Array, Array]:
        """Draw ``(X, y)``: ``n`` inputs and labels in {-1, +1} from the model.

        Kohler model: ``z ~ N(u, S)``, ``y = +-1`` with probability 1/2 independently,
        ``x = -y z`` (a joint law whose ``z`` has the stated distribution).

        Parameters
        ----------
        n : int
            Number of samples.
        rng : int, Generator or None
            Seed.

        Returns
        -------
        tuple
            ``(X, y)``: ``(n, d)`` inputs and ``(n,)`` labels.
        """
        n = as_int(n, "n")
        gen = as_generator(rng)
        G = gen.standard_normal((n, self.dim)) @ self._chol.T
        if self.model == "kohler":
            z = G + self.u
            y = np.where(gen.random(n) < 0.5, 1.0, -1.0)
            return -y[:, None] * z, y
        y = np.where(G @ self._e1 >= 0, 1.0, -1.0)
        y = np.where(gen.random(n) < self.flip, -y, y)
        return G, y

    # ------------------------------------------------------------------ population objective
    def _w(self, w: object) -> Array:
        return as_vector(w, "w", self.dim)

    def loss(self, w: object) -> float:
        """Population loss ``E[phi(z^T w)]``.

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        float
            ``E[phi(z^T w)]``.
        """
        w = self._w(w)
        if self.model == "kohler":
            return _normal_expect(self._phi, (0,), *self._m_s(w))[0]
        return self._teacher_expect(w, ((0, 0),))[0]

    def _m_s(self, w: Array) -> tuple[float, float]:
        """``(u^T w, ||w||_S)`` of the Kohler model, checked finite."""
        with np.errstate(over="ignore", invalid="ignore"):
            m = float(self.u @ w)
        sn = _s_norm(self.S, w)
        _check_w(m, sn)
        return m, sn

    def _S_times(self, x: Array) -> Array:
        with np.errstate(over="ignore", invalid="ignore"):
            Sx = self.S @ x
        if not np.all(np.isfinite(Sx)):
            raise WOverflowError("w is too large: S w overflows float64")
        return Sx

    def grad(self, w: object) -> Array:
        """Gradient; Kohler model: ``E[phi'] u + E[phi''] S w`` (Stein's lemma).

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        numpy.ndarray
            The gradient, shape ``(d,)``.
        """
        w = self._w(w)
        Sw = self._S_times(w)
        if self.model == "kohler":
            e1, e2 = _normal_expect(self._phi, (1, 2), *self._m_s(w))
            return e1 * self.u + e2 * Sw
        alpha, r = self._split(w)
        Ea, Eb = self._teacher_expect(w, ((1, 1), (2, 0)))
        return Ea * self._Se1 + Eb * (self.S @ r)

    def hvp(self, w: object, v: object) -> Array:
        """Hessian-vector product ``E[phi''(z^T w) z z^T] v`` (Stein's lemma twice).

        Parameters
        ----------
        w : (d,) array_like
            The weight.
        v : (d,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray
            ``Hess f(w) v``.
        """
        w = self._w(w)
        v = as_vector(v, "v", self.dim)
        # the HVP is linear in v: work with v / 2^e (max|v / 2^e| in [1/2, 1), an exact
        # scaling, so ordinary inputs give bit-identical results) and scale back, which
        # avoids overflow in w^T S v for huge w and v
        vmax = float(np.max(np.abs(v))) if v.size else 0.0
        if vmax == 0.0:
            return np.zeros(self.dim)
        e = int(np.frexp(vmax)[1])
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.ldexp(self._hvp_scaled(w, np.ldexp(v, -e)), e)
        if not np.all(np.isfinite(out)):
            raise WOverflowError("v is too large: the Hessian-vector product overflows float64")
        return out

    def _hvp_scaled(self, w: Array, v: Array) -> Array:
        Sw, Sv = self._S_times(w), self.S @ v
        if self.model == "kohler":
            e2, e3, e4 = _normal_expect(self._phi, (2, 3, 4), *self._m_s(w))
            uv, wSv = float(self.u @ v), float(w @ Sv)
            return e2 * (Sv + self.u * uv) + e3 * (self.u * wSv + Sw * uv) + e4 * Sw * wSv
        alpha, r = self._split(w)
        Sr = self.S @ r
        G0, G2, G1, G00 = self._teacher_expect(w, ((2, 0), (2, 2), (3, 1), (4, 0)))
        e1Sv, rSv = float(self._e1 @ Sv), float(r @ Sv)
        return (
            G0 * (Sv - self._Se1 * e1Sv)
            + self._Se1 * (e1Sv * G2)
            + (self._Se1 * rSv + Sr * e1Sv) * G1
            + Sr * (rSv * G00)
        )

    def hessian(self, w: object) -> Array:
        """Dense Hessian from ``dim`` HVPs (small dimensions).

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        numpy.ndarray
            The dense Hessian, ``(d, d)``.
        """
        w = self._w(w)
        Hm = np.column_stack([self.hvp(w, e) for e in np.eye(self.dim)])
        return 0.5 * (Hm + Hm.T)

    @property
    def norm_matrix(self) -> Array:
        """``S``: Kohler's reparametrization ``g w/||w||_S`` (teacher model: population BN of ``x^T w``)."""
        return self.S

    @property
    def f_star(self) -> float:
        """Minimum of the population loss.

        Kohler model: the loss depends on ``w`` through ``m = u^T w`` and ``s = ||w||_S``;
        for increasing ``phi`` it decreases in ``m`` and ``m >= -s sqrt(u^T S^-1 u)``, so
        ``f* = min_{g >= 0} E phi(g (xi - sqrt(u^T S^-1 u)))`` (1-D, bounded Brent).
        Teacher model: minimum along the teacher direction (optimal by symmetry when
        ``flip < 1/2``; an assumption, not proven here); 0 in the noise-free limit.
        """
        if self._f_star is None:
            if self.model == "kohler":
                root_q = float(np.sqrt(self.u @ scipy.linalg.cho_solve((self._chol, True), self.u)))

                def fg(g: float) -> float:
                    return _normal_expect(self._phi, (0,), -g * root_q, g)[0]
            else:

                def fg(g: float) -> float:
                    return self.loss(g * self._e1)

            grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 61)])
            vals = [fg(g) for g in grid]
            k = int(np.argmin(vals))
            lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
            res = scipy.optimize.minimize_scalar(
                fg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
            )
            self._f_star = float(min(res.fun, vals[k]))
        return self._f_star

    # ------------------------------------------------------------------ teacher model internals
    def _split(self, w: Array) -> tuple[float, Array]:
        with np.errstate(over="ignore", invalid="ignore"):
            alpha = float(self._Se1 @ w)
            r = w - alpha * self._e1
        if not (np.isfinite(alpha) and np.all(np.isfinite(r))):
            raise WOverflowError("w is too large: its teacher component overflows float64")
        return alpha, r

    def _teacher_expect(self, w: Array, jk: tuple[tuple[int, int], ...]) -> list[float]:
        """``E[d^j ell/db^j (a, b) a^k]`` for each ``(j, k)``; ``a = e1^T x``, ``b = w^T x``.

        ``ell(a, b) = (1-p) phi(-sign(a) b) + p phi(sign(a) b)``. Conditioning on ``b``:
        ``a | b ~ N(alpha b / tau^2, sigma_r^2 / tau^2)`` with ``tau^2 = alpha^2 + sigma_r^2``.
        """
        alpha, r = self._split(w)
        sr = _s_norm(self.S, r)
        tau = float(np.hypot(alpha, sr))
        _check_w(alpha, tau)
        p, phi = self.flip, self._phi
        out = []
        if tau == 0.0:
            # b = 0 and a ~ N(0, 1): E[a^k 1{a>0}] = 1/2, 1/sqrt(2 pi), 1/2.
            half = (0.5, 1 / _SQRT2PI, 0.5)
            for j, k in jk:
                d0 = float(phi(np.zeros(1), j)[0])
                lp = (1 - p) * (-1) ** j * d0 + p * d0
                lm = (1 - p) * d0 + p * (-1) ** j * d0
                out.append(half[k] * (lp + (-1) ** k * lm))
            return out
        xi, dens = _half_line_density(tau)
        sc = sr / tau
        for j, k in jk:
            total = 0.0
            for sgn in (1.0, -1.0):
                b = sgn * tau * xi
                # tau**2 over/underflows outside [1e-150, 1e150]: use the scaled form there
                m = alpha * b / tau**2 if 1e-150 < tau < 1e150 else (alpha / tau) * (b / tau)
                mp = _trunc_moments(m, sc, k)
                mm = (-1) ** k * _trunc_moments(-m, sc, k)
                dpos, dneg = phi(b, j), phi(-b, j)
                lp = (1 - p) * (-1) ** j * dneg + p * dpos
                lm = (1 - p) * dpos + p * (-1) ** j * dneg
                total += float(dens @ (lp * mp + lm * mm))
            out.append(total)
        return out

    def __repr__(self) -> str:
        return f"GaussianHalfspace(dim={self.dim}, model={self.model!r}, loss={self.loss_name!r})"

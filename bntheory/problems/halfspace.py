"""Learning halfspaces with Gaussian inputs: population loss ``E[phi(z^T w)]``, ``z = -y x``.

Two models (Kohler et al. 2019, Sec. 4, Eq. 16; THEORY.md Sec. 3):

* **Kohler model** (their assumption (A2) [U]): ``z ~ N(u, S)``. Then ``z^T w ~ N(u^T w, w^T S w)``
  and every expectation is one-dimensional (Stein's lemma gives the gradient and HVP).
* **Teacher model**: ``x ~ N(0, S)``, ``y = sign(w_t^T x)`` flipped with probability ``flip``.
  ``(w_t^T x, w^T x)`` is 2-D Gaussian; conditioning on ``b = w^T x`` leaves closed-form
  truncated-normal moments of ``a = w_t^T x / ||w_t||_S`` in ``a > 0`` / ``a < 0``, so the
  remaining integral is again one-dimensional (split at ``b = 0``).

Quadrature accuracy (documented, tested against Monte Carlo and brute-force quadrature):
1-D Gaussian expectations use the trapezoidal rule in ``xi ~ N(0, 1)`` on ``[-10, 10]`` with
step ``min(1/8, 1/(4 s))`` (``s`` the standard deviation of the argument of ``phi``). For
integrands analytic in the strip ``|Im t| < pi`` (logistic, sigmoid) the error is below
``exp(-2 pi^2 / (s h)) <= e^-79`` plus the tail mass ``< 1e-21``, i.e. round-off level.
For ``s > 1e3`` (the uniform grid would need ``40 s`` points) they use the graded
Gauss-Legendre panels below, centred on the kink ``xi = -m/s`` (relative error ~1e-12).
Half-line integrals of the teacher model use composite 8-point Gauss-Legendre on
``[0, 10]`` with geometrically graded panels near 0 (1e-10 .. 10), uniform panels of
width ``min(1/4, 1/(4 tau))`` where ``|tau xi| < 40`` and of width 1/4 beyond: relative error ~1e-12 in our checks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.special import expit, ndtr

from bntheory._checks import as_int, as_matrix, as_real, as_spd, as_vector
from bntheory.gradcheck import as_generator

__all__ = ["GaussianHalfspace", "EmpiricalHalfspace", "LOSSES"]

Array = np.ndarray
_SQRT2PI = np.sqrt(2 * np.pi)
#: above this standard deviation, 1-D expectations use graded Gauss-Legendre panels
_WIDE = 1e3


# ---------------------------------------------------------------------- losses
def _sigmoid_derivs(t: Array, k: int) -> Array:
    """k-th derivative of the logistic sigmoid ``s(t) = 1/(1+e^-t)``, k = 0..4."""
    s = expit(t)
    if k == 0:
        return s
    d1 = s * (1 - s)
    if k == 1:
        return d1
    if k == 2:
        return d1 * (1 - 2 * s)
    if k == 3:
        return d1 * (1 - 6 * s + 6 * s * s)
    if k == 4:
        return d1 * (1 - 14 * s + 36 * s * s - 24 * s**3)
    raise ValueError(f"derivative order must be <= 4, got {k}")


def _logistic(t: Array, k: int) -> Array:
    """Softplus ``log(1 + e^t)`` (logistic loss) and its derivatives; ``|phi'| <= 1``."""
    if k == 0:
        return np.logaddexp(0.0, t)
    return _sigmoid_derivs(t, k - 1)


def _sigmoid_loss(t: Array, k: int) -> Array:
    """Sigmoid loss ``1/(1 + e^-t)`` (bounded, non-convex); ``|phi'| <= 1/4``."""
    return _sigmoid_derivs(t, k)


#: name -> (phi(t, k) giving the k-th derivative, Phi = sup |phi'|)
LOSSES = {"logistic": (_logistic, 1.0), "sigmoid": (_sigmoid_loss, 0.25)}


def _get_loss(loss: str):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    return LOSSES[loss]


def _normal_expect(phi, orders: tuple[int, ...], m: float, s: float) -> list[float]:
    """``E phi^{(k)}(m + s xi)``, ``xi ~ N(0,1)``, for each k in ``orders`` (trapezoid, see module doc)."""
    if s == 0.0:
        return [float(phi(np.array([m]), k)[0]) for k in orders]
    if not (np.isfinite(s) and np.isfinite(m)):
        return [float("nan")] * len(orders)
    if s > _WIDE:
        # Wide Gaussian: the uniform grid would need 40 s points. Gauss-Legendre panels
        # graded around the kink xi0 = -m/s instead (the nodes of the teacher model,
        # fine where |s (xi - xi0)| < 40), cut at |xi| <= 10; O(1000) nodes for any s.
        eta, we = _half_line_nodes(2.0 * s)
        eta, we = 2.0 * eta, 2.0 * we
        xi0 = -m / s
        # the argument of phi is t = m + s xi = s (xi - xi0) = +-s eta, taken directly:
        # for s > ~1e11 the nodes xi0 +- eta (eta ~ 40/s) round to xi0 itself
        eta_m = eta[1:] if eta[0] == 0 else eta
        xi = np.concatenate([xi0 + eta, xi0 - eta_m])
        t = np.concatenate([s * eta, -s * eta_m])
        wq = np.concatenate([we, we[1:] if eta[0] == 0 else we])
        keep = np.abs(xi) <= 10.0
        xi, wq, t = xi[keep], wq[keep] * np.exp(-0.5 * xi[keep] ** 2) / _SQRT2PI, t[keep]
        # k >= 3: Gaussian integration by parts (Stein), E phi^(k)(m + s xi) =
        # s^-(k-1) E[phi'(m + s xi) He_{k-1}(xi)]; the direct sum of phi^(k) cancels to
        # O(1/s^(k-1)) and drowns in round-off (O(eps/s)) once s > ~1e5
        hermite = {3: xi * xi - 1.0, 4: xi * (xi * xi - 3.0)}
        d1 = phi(t, 1) if any(k in hermite for k in orders) else None
        out = []
        for k in orders:
            if k in hermite:
                val = float(wq @ (d1 * hermite[k]))
                for _ in range(k - 1):  # / s^(k-1) without overflow of s^(k-1)
                    val /= s
                out.append(val)
            else:
                out.append(float(wq @ phi(t, k)))
        return out
    h = min(0.125, 0.25 / s)
    n = int(np.ceil(10.0 / h))
    xi, w = _trapezoid_grid(n)
    t = m + s * xi
    return [float(w @ phi(t, k)) for k in orders]


@lru_cache(maxsize=128)
def _trapezoid_grid(n: int) -> tuple[Array, Array]:
    """Nodes ``xi`` (``2n + 1`` points on ``[-10, 10]``) and weights ``phi(xi) h`` of the
    trapezoidal rule, built once per ``n`` (GDNP's bisection asks for them ~10^5 times)."""
    xi = np.linspace(-10.0, 10.0, 2 * n + 1)
    w = np.exp(-0.5 * xi * xi) * (xi[1] - xi[0]) / _SQRT2PI
    xi.flags.writeable = False
    w.flags.writeable = False
    return xi, w


def _s_norm(S: Array, w: Array) -> float:
    """``||w||_S = sqrt(w^T S w)`` (clipped at 0), without overflow or underflow.

    For ``max|w|`` outside ``[1e-100, 1e100]`` it is computed as ``c ||w / c||_S`` with
    ``c = max|w|`` (the plain formula, used otherwise, overflows beyond ~1e154); the result
    is ``inf`` only when the norm itself exceeds the float64 range.
    """
    c = float(np.max(np.abs(w))) if w.size else 0.0
    if c == 0.0:
        return 0.0
    if 1e-100 <= c <= 1e100:
        return float(np.sqrt(max(float(w @ S @ w), 0.0)))
    v = w / c
    return c * float(np.sqrt(max(float(v @ (S @ v)), 0.0)))  # python float: inf, no warning


class WOverflowError(ValueError, OverflowError):
    """``w`` (or ``v``) is so large that the objective overflows float64.

    A ``ValueError`` (bad argument) and an ``OverflowError`` (an ``ArithmeticError``, which
    the solvers record as divergence, never a crash).
    """


def _check_w(m: float, s: float) -> None:
    """Raise when ``u^T w`` or ``||w||_S`` is beyond the float64 range (``w`` too large)."""
    if not (np.isfinite(m) and np.isfinite(s) and np.isfinite(abs(m) + 10.0 * s)):
        raise WOverflowError(
            "w is too large: u^T w or ||w||_S (times the quadrature range) overflows float64"
        )


_GL8 = np.polynomial.legendre.leggauss(8)
_GRADED = np.geomspace(1e-10, 10.0, 60)


@lru_cache(maxsize=256)
def _half_line_nodes(tau: float) -> tuple[Array, Array]:
    """Gauss-Legendre nodes/weights on [0, 10] (graded near 0, uniform width min(1/4, 1/(4 tau))).

    Cached per ``tau`` (read-only arrays): the bisection on ``g`` re-evaluates the same
    ``tau`` values, and the Legendre rule and graded panel ends are module constants."""
    # phi(tau xi) has its curvature where |tau xi| < 40 (beyond, phi is linear or constant
    # up to e^-40): fine panels there, panels of width 1/4 elsewhere.
    tau = max(tau, 1e-300)
    fine_end = min(10.0, 40.0 / tau)
    h = min(0.25, 0.25 / tau)
    parts = [
        [0.0],
        _GRADED,
        np.arange(h, fine_end, h),
        np.arange(fine_end, 10.0, 0.25),
    ]
    brk = np.unique(np.concatenate([*parts, [10.0]]))
    x, w = _GL8
    lo, hi = brk[:-1, None], brk[1:, None]
    nodes = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * w).ravel()
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


@lru_cache(maxsize=256)
def _half_line_density(tau: float) -> tuple[Array, Array]:
    """``(xi, weights * N(0,1) density at xi)`` of :func:`_half_line_nodes`, cached."""
    xi, wq = _half_line_nodes(tau)
    dens = wq * np.exp(-0.5 * xi * xi) / _SQRT2PI
    dens.flags.writeable = False
    return xi, dens


def _trunc_moments(m: Array, s: float, k: int) -> Array:
    """``E[a^k 1{a > 0}]`` for ``a ~ N(m, s^2)`` (k = 0, 1, 2), elementwise in ``m``."""
    if s == 0.0:
        pos = (m > 0).astype(float)
        return pos * m**k
    z = m / s
    Phi = ndtr(z)
    pdf = np.exp(-0.5 * z * z) / _SQRT2PI
    if k == 0:
        return Phi
    if k == 1:
        return m * Phi + s * pdf
    if k == 2:
        return (m * m + s * s) * Phi + m * s * pdf
    raise ValueError("k must be 0, 1 or 2")


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
        self.S, self._chol = as_spd(S, "S")
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
            self.u = as_vector(u, "u", self.dim)
            self.teacher = None
        else:
            self.model = "teacher"
            t = as_vector(teacher, "teacher", self.dim)
            nt = _s_norm(self.S, t)
            if nt == 0:
                raise ValueError("teacher must be non-zero")
            self.teacher = t
            self._e1 = t / nt
            self._Se1 = self.S @ self._e1
            # E[z] = -E[y x] = -(1 - 2 flip) E[|a|] S e1, a = e1^T x ~ N(0, 1).
            self.u = -(1 - 2 * self.flip) * np.sqrt(2 / np.pi) * self._Se1
        self._f_star: float | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_moments(cls, u: object, S: object, loss: str = "logistic") -> GaussianHalfspace:
        """Kohler et al.'s model (A2): ``z = -y x ~ N(u, S)``."""
        return cls(S, u=u, loss=loss)

    @classmethod
    def teacher_model(
        cls, S: object, teacher: object, *, flip: float = 0.0, loss: str = "logistic"
    ) -> GaussianHalfspace:
        """``x ~ N(0, S)``, ``y = sign(teacher^T x)``, each label flipped with probability ``flip``."""
        return cls(S, teacher=teacher, flip=flip, loss=loss)

    @classmethod
    def from_samples(cls, X: object, y: object, loss: str = "logistic") -> EmpiricalHalfspace:
        """Empirical objective ``(1/n) sum phi(-y_i x_i^T w)`` (see :class:`EmpiricalHalfspace`)."""
        return EmpiricalHalfspace(X, y, loss=loss)

    def sample(self, n: int, rng: int | np.random.Generator | None = None) -> tuple[Array, Array]:
        """Draw ``(X, y)``: ``n`` inputs and labels in {-1, +1} from the model.

        Kohler model: ``z ~ N(u, S)``, ``y = +-1`` with probability 1/2 independently,
        ``x = -y z`` (a joint law whose ``z`` has the stated distribution).
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
        """Population loss ``E[phi(z^T w)]``."""
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
        """Gradient; Kohler model: ``E[phi'] u + E[phi''] S w`` (Stein's lemma)."""
        w = self._w(w)
        Sw = self._S_times(w)
        if self.model == "kohler":
            e1, e2 = _normal_expect(self._phi, (1, 2), *self._m_s(w))
            return e1 * self.u + e2 * Sw
        alpha, r = self._split(w)
        Ea, Eb = self._teacher_expect(w, ((1, 1), (2, 0)))
        return Ea * self._Se1 + Eb * (self.S @ r)

    def hvp(self, w: object, v: object) -> Array:
        """Hessian-vector product ``E[phi''(z^T w) z z^T] v`` (Stein's lemma twice)."""
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
        """Dense Hessian from ``dim`` HVPs (small dimensions)."""
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


class EmpiricalHalfspace:
    """Empirical halfspace objective ``(1/n) sum_i phi(-y_i x_i^T w)``.

    ``norm_matrix = X^T X / n``, ``u = -(1/n) X^T y`` (sample versions of ``S`` and ``E[z]``).
    """

    def __init__(self, X: object, y: object, *, loss: str = "logistic"):
        self.X = as_matrix(X, "X")
        n, self.dim = self.X.shape
        self.y = as_vector(y, "y", n)
        if not np.all(np.isin(self.y, (-1.0, 1.0))):
            raise ValueError("y must contain only -1 and +1")
        self._phi, self.Phi = _get_loss(loss)
        self.Z = -self.y[:, None] * self.X
        with np.errstate(over="ignore", invalid="ignore"):
            self.u = self.Z.mean(axis=0)
            self.norm_matrix = self.X.T @ self.X / n
        if not (np.all(np.isfinite(self.u)) and np.all(np.isfinite(self.norm_matrix))):
            raise ValueError("X: values too large, the second moments X^T X / n overflow")
        self.model = "empirical"

    def loss(self, w: object) -> float:
        """Mean loss."""
        return float(np.mean(self._phi(self.Z @ as_vector(w, "w", self.dim), 0)))

    def grad(self, w: object) -> Array:
        """Mean gradient ``(1/n) sum phi'(z_i^T w) z_i``."""
        t = self.Z @ as_vector(w, "w", self.dim)
        return self.Z.T @ self._phi(t, 1) / len(t)

    def hvp(self, w: object, v: object) -> Array:
        """``(1/n) sum phi''(z_i^T w) z_i z_i^T v``."""
        t = self.Z @ as_vector(w, "w", self.dim)
        return self.Z.T @ (self._phi(t, 2) * (self.Z @ as_vector(v, "v", self.dim))) / len(t)

    def hessian(self, w: object) -> Array:
        """Dense Hessian."""
        t = self.Z @ as_vector(w, "w", self.dim)
        return (self.Z.T * self._phi(t, 2)) @ self.Z / len(t)

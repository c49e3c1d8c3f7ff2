"""Kohler et al.'s (2019, Sec. 3) Rayleigh-type objective ``rho(w) = -(u^T w)^2 / (w^T S w)``.

A mixin of :class:`bntheory.problems.normalized.Normalized` (which provides ``S``, ``u``,
``q = u^T S^{-1} u``, ``w_rho = S^{-1} u``, ``base_dim`` and ``_unit``).
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_vector

__all__ = ["KohlerRho"]

Array = np.ndarray


class KohlerRho:
    """Kohler et al.'s ``rho`` on a normalized problem (mixin; see the module docstring)."""

    def _rho_w(self, w: object) -> tuple[Array, float]:
        """Validated non-zero ``w`` at unit scale (``rho`` is undefined at ``w = 0``)."""
        w = as_vector(w, "w", self.base_dim)
        if not np.any(w):
            raise ValueError(
                "w must be non-zero: rho(w) = -(u^T w)^2 / (w^T S w) is undefined at w = 0"
            )
        return self._unit(w)

    def rho(self, w: object) -> float:
        """Kohler et al. (2019), Sec. 3: ``rho(w) = -(u^T w)^2 / (w^T S w)``.

        Parameters
        ----------
        w : (d,) array_like
            Non-zero direction.

        Returns
        -------
        float
            ``rho(w)``.
        """
        w, _ = self._rho_w(w)  # rho is scale invariant
        return -(float(self.u @ w) ** 2) / float(w @ (self.S @ w))

    def grad_rho(self, w: object) -> Array:
        """``grad rho = -2 (u^T w)/(w^T S w) u + 2 (u^T w)^2/(w^T S w)^2 S w`` (Kohler et al. 2019, Sec. 3).

        Parameters
        ----------
        w : (d,) array_like
            Non-zero direction.

        Returns
        -------
        numpy.ndarray
            ``grad rho(w)``.

        Raises
        ------
        ValueError
            If ``w`` is zero, not finite, or so small that ``grad rho(w)`` (of size ``1/|w|``)
            overflows float64.
        """
        # grad rho(w) = grad rho(w / c) / c (rho is scale invariant).
        w, c = self._rho_w(w)
        Sw = self.S @ w
        n2 = float(w @ Sw)
        uw = float(self.u @ w)
        with np.errstate(over="ignore"):
            g = (-2 * uw / n2 * self.u + 2 * uw**2 / n2**2 * Sw) / c
        if not np.isfinite(g).all():  # |grad rho| ~ 1/|w|: above the float range for tiny w
            raise ValueError(
                f"w is too small (norm scale {c:.3g}): grad rho ~ 1/|w| overflows float64"
            )
        return g

    @property
    def rho_star(self) -> float:
        """``rho* = -u^T S^{-1} u``."""
        return -self.q

    def rho_gap(self, w: object) -> float:
        """``rho(w) - rho* = min_gamma ||S^{-1}u - gamma w||_S^2`` (no cancellation; Kohler et al. 2019, Sec. 3).

        Parameters
        ----------
        w : (d,) array_like
            Non-zero direction.

        Returns
        -------
        float
            ``rho(w) - rho* >= 0``.
        """
        w, _ = self._rho_w(w)
        Sw = self.S @ w
        r = self.w_rho - (float(self.u @ w) / float(w @ Sw)) * w
        return float(r @ (self.S @ r))

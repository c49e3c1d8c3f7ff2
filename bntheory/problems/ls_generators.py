"""Random least-squares instances with a prescribed spectrum of ``H``.

Dense Haar-rotated instances (:meth:`ill_conditioned`, the setting of Cai, Li & Shen
2019, Sec. 5), structured ones whose ``H = Q diag(lambda) Q^T`` is never formed
(:meth:`structured`, ``Q`` a product of Householder reflections; Golub & Van Loan 2013,
Sec. 5.1) and features with heterogeneous scales (:meth:`heterogeneous_features`).
A mixin of :class:`~bntheory.problems.LeastSquares`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bntheory._checks import as_generator, as_int, as_real

from .ls_data import frozen
from .ls_instances import (
    ILL_CONDITIONED_ARRAYS,
    ILL_CONDITIONED_MAX_BYTES,
    LEAN_MIN_DIM,
    alignment,
    generator_args,
    haar_spd,
    spectrum_of,
)
from .operators import HouseholderBasis, SpectralOperator

if TYPE_CHECKING:
    from .least_squares import LeastSquares

__all__ = ["LeastSquaresGenerators"]

Array = np.ndarray


class LeastSquaresGenerators:
    """Random-instance constructors of ``LeastSquares`` (mixin)."""

    @classmethod
    def structured(
        cls,
        dim: int,
        kappa: float,
        spectrum: str = "geometric",
        *,
        align: str | float | None = None,
        noise: float = 1.0,
        n_reflections: int = 4,
        rng: int | np.random.Generator | None = None,
        max_bytes: int | None = None,
    ) -> LeastSquares:
        """Ill-conditioned instance of any ``kappa`` at any ``d`` in ``O(d)`` memory.

        ``H = Q diag(lambda) Q^T`` with ``Q`` a product of ``n_reflections`` Householder
        reflections along Gaussian directions (``O(k d)`` memory and time per product;
        :class:`~bntheory.problems.operators.HouseholderBasis`), ``lambda`` and the
        alignment of ``w*`` exactly as in :meth:`ill_conditioned` (same ``spectrum`` and
        ``align`` options). ``w* = Q coef`` and ``u = Q (lambda coef)`` are exact, so
        ``L``, ``mu``, ``kappa`` are the constructed ones and ``kappa*`` comes from the
        secular equation (:meth:`effective_conditioning`). The eigenvectors are not
        Haar-distributed (``Q`` differs from the identity by a rank-``k`` term).

        Parameters
        ----------
        dim : int
            Dimension ``d >= 1``.
        kappa : float
            Condition number ``>= 1`` (eigenvalues in ``[1/kappa, 1]``).
        spectrum : {"geometric", "linear", "two-cluster", "spiked"}
            As in :meth:`ill_conditioned`.
        align : None, str or float
            As in :meth:`ill_conditioned`.
        noise : float
            Residual variance: ``J* = noise / 2``.
        n_reflections : int
            Number ``k >= 0`` of Householder reflections in ``Q`` (0: ``Q = I``).
        rng : int, Generator or None
            Seed.
        max_bytes : int, optional
            Memory limit: the instance holds about ``8 (n_reflections + 8) d`` bytes;
            default :data:`ILL_CONDITIONED_MAX_BYTES` (2 GiB). A larger instance raises
            ValueError before anything is allocated; pass a larger ``max_bytes`` on purpose.

        Returns
        -------
        LeastSquares
            ``matrix_free = True``; ``H`` is a
            :class:`~bntheory.problems.operators.SpectralOperator`.
        """
        dim = as_int(dim, "dim")
        kappa, noise = generator_args(dim, kappa, spectrum, noise)
        k = as_int(n_reflections, "n_reflections", minimum=0)
        limit = ILL_CONDITIONED_MAX_BYTES if max_bytes is None else as_int(max_bytes, "max_bytes")
        need = 8 * (k + 8) * dim
        if need > limit:
            raise ValueError(
                f"dim={dim}, n_reflections={k}: the instance needs about {need} bytes, above "
                f"max_bytes={limit}; pass a larger max_bytes on purpose"
            )
        gen = as_generator(rng)
        lam = spectrum_of(dim, kappa, spectrum)
        if not np.all(lam > 0):
            raise ValueError(f"kappa={kappa:g}: the smallest eigenvalue 1/kappa underflows float64")
        basis = HouseholderBasis.random(dim, k, gen) if k else None
        coef = alignment(dim, align, gen)
        op = SpectralOperator(lam, basis)
        w_star = op.from_eigen(coef)
        u = op.from_eigen(lam * coef)
        q = float(coef @ (lam * coef))
        prob = cls._from_parts(op, u, q + noise, w_star, eigenvalues=lam, solve=op.solve)
        prob._eig = frozen(
            lam, copy=False
        )  # ascending by construction; coordinates below match this order
        prob._eig_coords = frozen(coef, copy=False)
        prob.q = q
        prob.J_star = 0.5 * noise
        prob.w_star_residual = 0.0
        return prob

    @classmethod
    def ill_conditioned(
        cls,
        dim: int,
        kappa: float,
        spectrum: str = "geometric",
        *,
        basis: str = "random",
        align: str | float | None = None,
        noise: float = 1.0,
        rng: int | np.random.Generator | None = None,
        max_bytes: int | None = None,
    ) -> LeastSquares:
        """Random instance with prescribed spectrum of ``H`` and alignment of ``w*``.

        Parameters
        ----------
        dim : int
            Dimension ``d >= 1`` (``d = 1`` needs ``kappa = 1``).
        kappa : float
            Condition number ``>= 1``. Eigenvalues lie in ``[1/kappa, 1]`` (so ``L = 1``).
        spectrum : {"geometric", "linear", "two-cluster", "spiked"}
            ``geometric``: ``kappa^{-(d-1-i)/(d-1)}``; ``linear``: evenly spaced;
            ``two-cluster``: ``floor(d/2)`` eigenvalues at ``1/kappa``, the rest at 1;
            ``spiked``: one eigenvalue 1, the other ``d-1`` geometric in
            ``[1/kappa, min(1, 10/kappa)]``.
        basis : {"random", "identity"}
            Eigenvectors: Haar-random orthogonal (QR with sign fix) or the standard basis.
        align : None, "random", "top", "bottom", "extremes" or float in [0, 1]
            Direction of ``w*`` (unit norm) in the eigenbasis: random Gaussian (None /
            "random"), the top or bottom eigenvector, ``(v_min + v_max)/sqrt(2)``, or a float
            ``t`` mixing a random unit direction ``r`` with the top one:
            ``w* ∝ (1 - t) r + t v_max``. Aligning ``w*`` with an isolated eigenvalue
            ("spiked" + "top") makes Cai's ``kappa*`` much smaller than ``kappa``.
        noise : float
            Residual variance: ``c = q + noise``, so ``J* = noise / 2``.
        rng : int, Generator or None
            Seed.
        max_bytes : int, optional
            Largest accepted peak memory, estimated as ``2 * 8 d^2`` bytes (two dense
            ``d x d`` float64 arrays: ``H`` and its Cholesky factor; the construction
            stays at that peak above ``d = 512``, and below it the original arithmetic
            uses about 8, i.e. at most 16 MB); default :data:`ILL_CONDITIONED_MAX_BYTES`
            (2 GiB, ``d`` up to about 11,500). A larger ``dim`` raises ValueError before
            anything is allocated; pass a larger ``max_bytes`` on purpose.

        Returns
        -------
        LeastSquares
            The dense instance, its exact spectrum cached (``eigenvalues``, ``L``, ``mu``)
            and ``w*`` the constructed one (not a solve).

        Raises
        ------
        ValueError
            Bad arguments (named); ``dim`` above the memory limit; ``kappa`` so large that
            ``H`` is not numerically positive definite in float64 (random basis: about
            ``kappa > 1e15``; identity basis: ``1/kappa`` below the float64 range).
        """
        dim = as_int(dim, "dim")
        limit = ILL_CONDITIONED_MAX_BYTES if max_bytes is None else as_int(max_bytes, "max_bytes")
        need = ILL_CONDITIONED_ARRAYS * 8 * dim * dim
        if need > limit:
            raise ValueError(
                f"dim={dim} needs about {need / 1e9:.3g} GB at peak ({ILL_CONDITIONED_ARRAYS} "
                f"dense d x d float64 arrays), above max_bytes={limit}; pass a larger "
                "max_bytes to allow it"
            )
        kappa, noise = generator_args(dim, kappa, spectrum, noise)
        if basis not in ("random", "identity"):
            raise ValueError(f"basis must be 'random' or 'identity', got {basis!r}")
        gen = as_generator(rng)
        lam = spectrum_of(dim, kappa, spectrum)
        if not np.all(lam > 0):
            raise ValueError(f"kappa={kappa:g}: the smallest eigenvalue 1/kappa underflows float64")
        too_large = (
            f"kappa={kappa:g} is too large for dim={dim} with basis={basis!r}: "
            "H = Q diag(lambda) Q^T is not numerically positive definite in float64"
        )
        if basis == "random" and dim > LEAN_MIN_DIM:
            # two d x d arrays at peak (in-place QR, H = B B^T, Cholesky after B is freed)
            H, C, w_star, u, coef = haar_spd(gen, lam, align)
            if C is None:
                raise ValueError(f"{too_large}; use a smaller kappa or basis='identity'")
            q = float(coef @ (lam * coef))
            return cls._from_dense_parts(H, C, u, q + noise, w_star, lam)
        if dim > LEAN_MIN_DIM:  # identity basis: H = diag(lam) exactly, C = diag(sqrt(lam))
            coef = alignment(dim, align, gen)
            H = np.zeros((dim, dim))
            np.fill_diagonal(H, lam)
            C = np.zeros((dim, dim), order="F")  # LAPACK order: no copy in cho_solve
            np.fill_diagonal(C, np.sqrt(lam))
            q = float(coef @ (lam * coef))
            return cls._from_dense_parts(H, C, lam * coef, q + noise, coef, lam)
        if basis == "random":
            Q, R = np.linalg.qr(gen.standard_normal((dim, dim)))
            Q = Q * np.sign(np.diag(R))
        else:
            Q = np.eye(dim)
        coef = alignment(dim, align, gen)
        w_star = Q @ coef
        H = (Q * lam) @ Q.T
        H = 0.5 * (H + H.T)
        u = Q @ (lam * coef)
        q = float(coef @ (lam * coef))
        try:
            prob = cls(H, u, q + noise, _eigenvalues=lam)
        except ValueError as exc:
            raise ValueError(
                f"{too_large} ({exc}); use a smaller kappa or basis='identity'"
            ) from exc
        return prob._with_w_star(w_star)

    @classmethod
    def heterogeneous_features(
        cls,
        dim: int,
        *,
        scale_ratio: float | None = None,
        growth: float | None = None,
        correlation: float | str = 0.0,
        noise: float = 1.0,
        rng: int | np.random.Generator | None = None,
    ) -> LeastSquares:
        """Features with exponentially increasing standard deviations: ``H = D C D``.

        The setting the reference article describes for Cai et al.'s experiments
        ("features generated with heterogeneous variances (e.g. exponentially increasing
        scales)"). ``D = diag(s)`` with ``s_i = scale_ratio^{i/(d-1)}`` (default ratio 100)
        or ``s_i = growth^i``; ``C`` is the identity (``correlation=0``), the equicorrelation
        matrix ``(1-r) I + r 1 1^T`` (float ``0 <= r < 1``), or ``"random"``: a Wishart
        matrix with ``2d`` degrees of freedom normalized to unit diagonal. The teacher is
        ``w* ~ N(0, I_d / d)``; ``u = H w*``; ``c = q + noise``.

        Parameters
        ----------
        dim : int
            Dimension ``d >= 1``.
        scale_ratio : float, optional
            ``s_{d-1} / s_0`` (default 100); exclusive with ``growth``.
        growth : float, optional
            Per-feature growth factor of the scales.
        correlation : float or "random"
            Equicorrelation ``r`` in ``[0, 1)`` or a random Wishart correlation.
        noise : float
            Residual variance: ``J* = noise / 2``.
        rng : int, Generator or None
            Seed.

        Returns
        -------
        LeastSquares
            The dense instance.
        """
        dim = as_int(dim, "dim")
        if scale_ratio is not None and growth is not None:
            raise ValueError("give only one of scale_ratio and growth")
        gen = as_generator(rng)
        if growth is not None:
            growth = as_real(growth, "growth", positive=True)
            s = growth ** np.arange(dim, dtype=float)
        else:
            ratio = (
                100.0 if scale_ratio is None else as_real(scale_ratio, "scale_ratio", positive=True)
            )
            s = ratio ** (np.arange(dim) / max(dim - 1, 1))
        if isinstance(correlation, str):
            if correlation != "random":
                raise ValueError(
                    f"correlation must be a float in [0, 1) or 'random', got {correlation!r}"
                )
            G = gen.standard_normal((dim, 2 * dim))
            W = G @ G.T
            dd = np.sqrt(np.diag(W))
            C = W / np.outer(dd, dd)
        else:
            r = as_real(correlation, "correlation")
            if not 0 <= r < 1:
                raise ValueError(f"correlation must be in [0, 1), got {r}")
            C = (1 - r) * np.eye(dim) + r * np.ones((dim, dim))
        H = s[:, None] * C * s[None, :]
        w_star = gen.standard_normal(dim) / np.sqrt(dim)
        u = H @ w_star
        noise = as_real(noise, "noise", nonneg=True)
        return cls(H, u, float(w_star @ u) + noise)

    def _with_w_star(self, w_star: Array) -> LeastSquares:
        # The generators know w* exactly; replacing the Cholesky solve removes its error.
        self.w_star = frozen(w_star)
        return self

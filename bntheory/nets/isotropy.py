"""Isotropy of the train-mode Hessian spectrum of :class:`bntheory.nets.MLP` (the reference
article's reading of Bjorck et al. 2018: BN makes the curvature "more isotropic"), exact
(dense) or by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.checks import check_count, check_net
from bntheory.nets.mlp import MLP

__all__ = ["HessianIsotropy", "hessian_isotropy"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class HessianIsotropy:
    """Isotropy of the train-mode Hessian spectrum (the reference article, attributing to
    Bjorck et al. 2018: BN makes the curvature "more isotropic").

    Attributes
    ----------
    eigenvalues : ndarray
        All eigenvalues of the dense Hessian, ascending.
    lambda_abs_max : float
        ``max |lambda|`` (the spectral norm).
    mean_abs : float
        ``mean |lambda|`` (nuclear norm / dim).
    anisotropy : float
        ``lambda_abs_max / mean_abs``: 1 for an isotropic spectrum (``H = c I``), up to
        ``dim`` for rank one.
    participation : float
        ``(sum |lambda|)^2 / (dim sum lambda^2)`` in ``(0, 1]``: effective rank / dim.
    negative_fraction : float
        ``sum_{lambda<0} |lambda| / sum |lambda|``.
    dim : int
    """

    eigenvalues: Array = field(repr=False)
    lambda_abs_max: float
    mean_abs: float
    anisotropy: float
    participation: float
    negative_fraction: float
    dim: int


#: largest ``n_probes`` (and ``n_steps``) of :func:`hessian_isotropy`: each probe is a
#: Lanczos run of ``n_steps`` Hessian-vector products
MAX_PROBES = 10_000


def hessian_isotropy(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    method: str = "slq",
    n_probes: int = 2,
    n_steps: int = 30,
    rng: int | np.random.Generator | None = None,
) -> HessianIsotropy:
    """Isotropy of the spectrum of the train-mode Hessian of ``net``'s loss on the batch
    ``(X, Y)`` at the current parameters.

    ``method="dense"``: all ``dim`` eigenvalues (``dim`` exact Hessian-vector products, then
    ``eigvalsh``; small nets and tests). ``method="slq"``: stochastic Lanczos quadrature
    (Ubaru, Chen & Saad 2017) with ``n_probes`` Rademacher start vectors and ``n_steps``
    Lanczos steps each (:func:`bntheory.measures.lanczos`): ``mean |lambda|`` and
    ``mean lambda^2`` are the quadrature estimates ``sum_j tau_j f(theta_j)`` of
    ``tr f(H) / dim`` averaged over the probes, ``max |lambda|`` the largest Ritz value
    (which converges first); ``eigenvalues`` then holds the Ritz values of all probes.

    Parameters
    ----------
    net : MLP
        At the parameters to analyse.
    X, Y : array_like
        The batch (train mode).
    method : {"slq", "dense"}
    n_probes, n_steps : int
        SLQ start vectors and Lanczos steps per vector.
    rng : int, Generator or None
        Seed of the SLQ start vectors.

    Returns
    -------
    HessianIsotropy
    """
    from bntheory.measures import hessian_operator, lanczos

    net = check_net(net)
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    if method not in ("dense", "slq"):
        raise ValueError(f"method must be 'dense' or 'slq', got {method!r}")
    n_probes = check_count(n_probes, "n_probes")
    n_steps = check_count(n_steps, "n_steps")
    if n_probes > MAX_PROBES:
        raise ValueError(f"n_probes must be <= MAX_PROBES = {MAX_PROBES}, got {n_probes}")
    if n_steps > MAX_PROBES:
        raise ValueError(f"n_steps must be <= {MAX_PROBES}, got {n_steps}")
    d = net.dim
    with np.errstate(all="ignore"):
        if method == "dense":
            H = np.empty((d, d))
            e = np.zeros(d)
            for i in range(d):
                e[i] = 1.0
                H[:, i] = net.hvp(X, Y, e)
                e[i] = 0.0
            if not np.all(np.isfinite(H)):
                raise FloatingPointError("the Hessian is not finite at the current parameters")
            ev = np.linalg.eigvalsh(0.5 * (H + H.T))
            a = np.abs(ev)
            m1, m2, amax = float(a.mean()), float(np.mean(ev * ev)), float(a.max())
            neg = float(a[ev < 0].sum() / a.sum()) if a.sum() > 0 else 0.0
        else:
            op = hessian_operator(net.objective(X, Y), net.get_flat())
            gen = as_generator(rng)
            thetas, m1s, m2s, negs = [], [], [], []
            for _ in range(n_probes):
                z = gen.choice([-1.0, 1.0], size=d)
                lz = lanczos(op, n_steps, v0=z)
                T = np.diag(lz.alphas) + np.diag(lz.betas, 1) + np.diag(lz.betas, -1)
                th, U = np.linalg.eigh(T)
                if not np.all(np.isfinite(th)):
                    raise FloatingPointError("the Hessian is not finite at the current parameters")
                tau = U[0] ** 2
                thetas.append(th)
                m1s.append(float(tau @ np.abs(th)))
                m2s.append(float(tau @ th**2))
                negs.append(float(tau @ np.where(th < 0, -th, 0.0)))
            ev = np.sort(np.concatenate(thetas))
            m1, m2, amax = float(np.mean(m1s)), float(np.mean(m2s)), float(np.max(np.abs(ev)))
            neg = float(np.mean(negs) / m1) if m1 > 0 else 0.0
    return HessianIsotropy(
        ev,
        amax,
        m1,
        amax / m1 if m1 > 0 else float("inf"),
        m1 * m1 / m2 if m2 > 0 else float("nan"),
        neg,
        d,
    )

"""GD in normalized parametrization (GDNP) of Kohler et al. (2019), Sec. 3-4.

Direction and length are optimized separately: for ``t = 0, 1, ...``

* direction step ``w_{t+1} = w_t - eta_t grad_w F(g_t, w_t)``, with the OLS step-size rule
  ``eta_t = ||w_t||_S^2 / (step_factor L |rho(w_t)|)`` measured on ``rho``: since
  ``grad_w F = c_t grad rho`` for these models (``F`` depends on the direction only through
  ``u^T w/||w||_S``), we divide by ``c_t = <grad_w F, grad rho>/||grad rho||^2`` so that the
  step on ``rho`` is exactly Kohler's OLS step (our choice for the halfspace rule, whose
  exact form is not available: THEORY.md Sec. 3 [U]/[R]);
* length step ``g_{t+1} = Bisection(T_s, dF/dg, w_{t+1})``.

``step_factor = 2`` is the default: THEORY.md Sec. 3 [D+] found the bound
``rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*)`` never violated WITH the factor 2
and violated in most runs without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bntheory._checks import as_int, as_real
from bntheory.problems.normalized import Normalized

from ._base import Diagnostics
from .bngd import split_params

__all__ = ["GDNP", "KohlerCheck", "bisection", "kohler_bound_ratio", "kohler_grid"]

Array = np.ndarray


def bisection(fun, lo: float, hi: float, n_steps: int) -> tuple[float, float, float]:
    """``n_steps`` bisection iterations on a sign change of ``fun`` in ``[lo, hi]``.

    Returns ``(midpoint, lo, hi)`` of the final bracket; the root is within ``(hi - lo)/2``
    of the midpoint, i.e. ``2^{-n_steps - 1} |b_0 - a_0|`` (Kohler et al.'s ``2^{-T_s}`` term).

    Work is bounded whatever ``n_steps`` is: once the bracket holds two adjacent float64
    numbers the midpoint equals an end and no further iteration can change the bracket,
    so the loop stops there (after at most about 2,100 halvings; the result is the same
    as running all ``n_steps`` iterations).
    """
    flo = fun(lo)
    for _ in range(n_steps):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            # bracket at float64 resolution: every further iteration would evaluate the
            # same midpoint and change nothing (the same result, without the work)
            if fun(mid) == 0.0:
                return mid, mid, mid
            break
        fm = fun(mid)
        if fm == 0.0:
            return mid, mid, mid
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi), lo, hi


@dataclass(frozen=True, slots=True)
class GDNP:
    """Kohler et al.'s GDNP (see module docstring).

    Parameters
    ----------
    step_factor : float
        The factor in ``eta_t = ||w||_S^2 / (step_factor L |rho(w)|)``; default 2.
    n_bisection : int
        ``T_s``, bisection iterations per length step (default 50: machine precision).
        Any value is accepted: the bisection stops early once its bracket is two adjacent
        float64 numbers (at most about 2,100 halvings), so a huge ``T_s`` costs no more
        than that and gives the same result.
    bracket : (float, float), optional
        Initial bracket ``[a_0, b_0]`` of every bisection. Default: start from ``[-1, 1]``
        and double both ends until ``dF/dg`` changes sign (at most 60 doublings); the
        bracket actually used is recorded in the history.
    L : float, optional
        Smoothness constant; default ``lambda_max(S)``.
    init_bisection : bool
        Replace ``g_0`` by the bisection value at ``w_0`` (default True), so the first
        direction step already uses an (approximately) optimal length.

    Notes
    -----
    History keys: ``rho``, ``rho_gap`` (``rho(w_t) - rho*`` without cancellation), ``g``,
    ``bracket_lo``, ``bracket_hi`` (final bisection bracket that produced ``g_t``), ``eta``,
    ``c`` (the proportionality factor ``c_t``). Works on ``LeastSquares`` and on
    ``GaussianHalfspace`` problems (the problem is wrapped by ``Normalized``).
    """

    step_factor: float = 2.0
    n_bisection: int = 50
    bracket: tuple[float, float] | None = None
    L: float | None = None
    init_bisection: bool = True

    def __post_init__(self) -> None:
        as_real(self.step_factor, "step_factor", positive=True)
        as_int(self.n_bisection, "n_bisection", minimum=0)
        if self.bracket is not None:
            lo = as_real(self.bracket[0], "bracket[0]")
            hi = as_real(self.bracket[1], "bracket[1]")
            if not lo < hi:
                raise ValueError(
                    f"bracket must satisfy bracket[0] < bracket[1], got {self.bracket}"
                )
        if self.L is not None:
            as_real(self.L, "L", positive=True)

    def _length(self, nb: Normalized, w: Array) -> tuple[float, float, float]:
        def dfdg(g: float) -> float:
            return nb.partial_g(g, w)

        if self.bracket is not None:
            lo, hi = float(self.bracket[0]), float(self.bracket[1])
        else:
            lo, hi = -1.0, 1.0
            for _ in range(60):
                if (dfdg(lo) > 0) != (dfdg(hi) > 0):
                    break
                lo, hi = 2 * lo, 2 * hi
        if (dfdg(lo) > 0) == (dfdg(hi) > 0):
            raise ValueError(f"bracket [{lo:.3g}, {hi:.3g}] has no sign change of dF/dg")
        return bisection(dfdg, lo, hi, self.n_bisection)

    def start(self, problem: object, x0: object):
        nb = Normalized(problem)
        g0, w0 = split_params(x0, nb.base_dim)
        L = float(self.L) if self.L is not None else nb.L
        if self.init_bisection:
            g0, lo, hi = self._length(nb, w0)
        else:
            lo = hi = g0
        return (nb, L, g0, w0, lo, hi)

    def step(self, problem: object, state, *, evaluate_only: bool = False):
        nb, L, g, w, lo, hi = state
        base = nb.base
        w_unit, scale = nb._unit(w)  # power-of-2 rescaling (exact): no under/overflow of ||w||_S
        n = nb.s_norm(w_unit) * scale
        x = g * w_unit / nb.s_norm(w_unit)
        if hasattr(base, "loss_grad_gap"):
            loss, gx, gap = base.loss_grad_gap(x)
        else:
            loss, gx = float(base.loss(x)), np.asarray(base.grad(x), float)
            gap = loss - base.f_star if getattr(base, "f_star", None) is not None else None
        rho = nb.rho(w)
        grho = nb.grad_rho(w)
        theta = nb.stack(g, w)
        gw = nb.grad(theta)[1:]
        gg = float(grho @ grho)
        c = float(gw @ grho) / gg if gg > 0 else 0.0
        eta = n**2 / (self.step_factor * L * abs(rho) * abs(c)) if (c != 0 and rho != 0) else 0.0
        extra = {
            "rho": rho,
            "rho_gap": nb.rho_gap(w),
            "g": g,
            "bracket_lo": lo,
            "bracket_hi": hi,
            "eta": eta,
            "c": c,
        }
        diag = Diagnostics(loss, gap, float(np.linalg.norm(gx)), x, extra)
        if evaluate_only:
            return diag, None
        w_new = w - eta * gw
        g_new, lo_new, hi_new = self._length(nb, w_new)
        return diag, (nb, L, g_new, w_new, lo_new, hi_new)

    @staticmethod
    def raw(state) -> Array:
        return np.concatenate([[state[2]], state[3]])


# ---------------------------------------------------------------------- the Kohler bound on a grid
@dataclass(frozen=True, slots=True)
class KohlerCheck:
    """Worst measured/bound ratio of GDNP runs against ``(1 - mu/L)^{2t} (rho(w_0) - rho*)``.

    ``rows`` holds one dict per run: kind, kappa, dim, seed, spectrum, ratio (``rho`` gap),
    loss_ratio (halfspace: loss gap over ``Phi^2 (1-mu/L)^{2t} (rho_0 - rho*)``), steps.
    """

    worst_ratio: float
    worst_loss_ratio: float
    worst_case: dict
    rows: tuple[dict, ...]


def kohler_bound_ratio(
    result, problem: object, *, floor: float = 1e-12, quantity: str = "rho_gap"
) -> float:
    """``max_t measured_t / ((1 - mu/L)^{2t} (rho(w_0) - rho*))`` over one GDNP run.

    Steps ``t >= 1`` count, and only where the bound exceeds ``floor * (rho(w_0) - rho*)`` count (below it the
    measurement is at the round-off floor; for ``kappa = 1`` the bound is 0 after one step).
    ``quantity="rho_gap"`` (default) or ``"loss_gap"`` (the halfspace loss gap, compared with
    ``Phi^2`` times the bound: Kohler et al.'s halfspace statement without the bisection term).
    """
    from bntheory.bounds import kohler_ols_bound

    nb = Normalized(problem)
    rg = np.asarray(result.history["rho_gap"], float)
    t = np.arange(rg.size)
    bound = np.asarray(kohler_ols_bound(t, rg[0], nb.mu, nb.L), float)
    if quantity == "loss_gap":
        if result.gaps is None:
            raise ValueError("result has no gaps")
        vals = np.asarray(result.gaps, float)
        bound = bound * float(getattr(problem, "Phi", 1.0)) ** 2
    elif quantity == "rho_gap":
        vals = rg
    else:
        raise ValueError(f"quantity must be 'rho_gap' or 'loss_gap', got {quantity!r}")
    # t = 0 is excluded: there the ratio is 1 (rho) by construction.
    mask = (t >= 1) & (
        bound > floor * rg[0] * max(float(getattr(problem, "Phi", 1.0)) ** 2, 1e-300)
    )
    if not mask.any():
        return 0.0
    return float(np.max(vals[mask] / bound[mask]))


def kohler_grid(
    kappas: tuple[float, ...] = (1, 10, 100, 1000),
    dims: tuple[int, ...] = (2, 10, 50),
    seeds: tuple[int, ...] = (0, 1, 2),
    *,
    kinds: tuple[str, ...] = ("ols", "halfspace"),
    spectra: tuple[str, ...] = ("geometric", "two-cluster"),
    n_steps: int = 200,
    step_factor: float = 2.0,
    n_bisection: int = 40,
    loss: str = "logistic",
) -> KohlerCheck:
    """Run GDNP over a grid of instances and return the worst measured/bound ratio.

    Instances: ``LeastSquares.ill_conditioned(dim, kappa, spectrum, rng=seed)``; for
    ``kind="halfspace"`` the same ``(H, u)`` become Kohler's ``z ~ N(u, S=H)`` with the given
    loss. Start: ``g_0 = 1``, ``w_0 ~ N(0, I)`` (seed ``seed + 1000``).
    """
    from bntheory.problems import GaussianHalfspace, LeastSquares

    from ._base import solve

    rows = []
    for kind in kinds:
        if kind not in ("ols", "halfspace"):
            raise ValueError(f"kinds must contain 'ols' or 'halfspace', got {kind!r}")
        for kappa in kappas:
            for dim in dims:
                for spectrum in spectra:
                    for seed in seeds:
                        if dim == 1 and kappa != 1:
                            continue
                        ls = LeastSquares.ill_conditioned(dim, kappa, spectrum, rng=seed)
                        prob = (
                            ls
                            if kind == "ols"
                            else GaussianHalfspace.from_moments(ls.u, ls.H, loss=loss)
                        )
                        w0 = np.random.default_rng(seed + 1000).standard_normal(dim)
                        res = solve(
                            prob,
                            GDNP(step_factor=step_factor, n_bisection=n_bisection),
                            (1.0, w0),
                            max_steps=n_steps,
                            tol=0.0,
                        )
                        ratio = kohler_bound_ratio(res, prob)
                        lratio = (
                            kohler_bound_ratio(res, prob, quantity="loss_gap")
                            if kind == "halfspace"
                            else np.nan
                        )
                        rows.append(
                            dict(
                                kind=kind,
                                kappa=kappa,
                                dim=dim,
                                spectrum=spectrum,
                                seed=seed,
                                ratio=ratio,
                                loss_ratio=lratio,
                                steps=res.n_steps,
                                status=res.status,
                            )
                        )
    worst = max(rows, key=lambda r: r["ratio"])
    lr = [r["loss_ratio"] for r in rows if np.isfinite(r["loss_ratio"])]
    return KohlerCheck(
        float(worst["ratio"]), float(max(lr)) if lr else float("nan"), worst, tuple(rows)
    )

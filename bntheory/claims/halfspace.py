"""Halfspace learning with BN (Kohler, Daneshmand, Lucchi, Zhou, Neymeyr & Hofmann 2019,
"Exponential convergence rates for Batch Normalization: The power of length-direction
decoupling in non-convex optimization").

The checks run the library: :class:`bntheory.problems.GaussianHalfspace` (Kohler's model
``z = -y x ~ N(u, S)``, population loss by quadrature), its BN reparametrization
:class:`bntheory.problems.Normalized` (``w~ = g w/||w||_S``, Kohler's ``rho``), GDNP
(:class:`bntheory.solvers.GDNP`) and plain GD (:class:`bntheory.solvers.GradientDescent`)
through :func:`bntheory.solvers.solve`. They only measure; the readings declared on each
:class:`~bntheory.claims.core.Claim` decide.

What is known about the source: the abstract and one page of Kohler et
al. are available [P]; the OLS theorem ``rho(w_t) - rho* <= (1-mu/L)^{2t} (rho(w_0) - rho*)``
and the halfspace theorem (a bound on the LOSS gap) are recollections marked [U]. GDNP's step
size ``eta_t = ||w||_S^2 / (2 L |rho|)`` is this project's rule (Kohler's exact rule is not
available), and for it the OLS bound is derived from the model [D]; checks of that bound
are therefore close to tautological (they test the implementation against the proof), which
is why their mutation tests double the step.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from bntheory.claims.core import (
    Claim,
    Measurement,
    P,
    Reading,
    SourceFact,
    measurement_seeds,
    shared_result,
)

# --------------------------------------------------------------------------- helpers


def _problem(seed: int, dim: int, kappa: float, spectrum: str = "geometric"):
    """Kohler's halfspace model ``z ~ N(u, S)`` (logistic loss) with the spectrum of ``S`` in
    ``[1/kappa, 1]`` and ``u = S w*`` from :meth:`LeastSquares.ill_conditioned`."""
    from bntheory.problems import GaussianHalfspace, LeastSquares

    ls = LeastSquares.ill_conditioned(dim, kappa, spectrum, rng=int(seed))
    return _with_f_star(GaussianHalfspace.from_moments(ls.u, ls.H))


@functools.lru_cache(maxsize=1)
def _hermite_rule() -> tuple[np.ndarray, np.ndarray]:
    """200-node Gauss-Hermite (probabilists') rule, weights normalised to 1 (read-only)."""
    x, wts = np.polynomial.hermite_e.hermegauss(200)
    wts = wts / wts.sum()
    x.setflags(write=False)
    wts.setflags(write=False)
    return x, wts


def _with_f_star(prob):
    """Set the problem's minimum ``f*`` from a 1-D Gauss-Hermite computation (200 nodes).

    The library's own ``f_star`` scans lengths up to 1e3 with up to 8e4 trapezoid nodes and
    costs about twice as much per instance, which the ledger's time budget feels. Kohler
    model: ``f* = min_g E phi(g (xi - sqrt(u^T S^-1 u)))`` (derived from the model); the two
    agree to round-off (``tests/claims/test_halfspace.py``). Falls back to the library when
    the optimal length is outside ``[0, 50]``.
    """
    import scipy.optimize

    x, wts = _hermite_rule()
    root_q = math.sqrt(float(prob.u @ np.linalg.solve(prob.S, prob.u)))

    def fg(g: float) -> float:
        return float(wts @ np.logaddexp(0.0, g * (x - root_q)))

    res = scipy.optimize.minimize_scalar(
        fg, bounds=(0.0, 50.0), method="bounded", options={"xatol": 1e-12}
    )
    if res.x < 49.0:
        prob._f_star = float(res.fun)
    return prob


def _iterations_to(prob, solver, x0, target: float, cap: int) -> float:
    """Iterations until the loss gap ``f(w~_t) - f*`` is ``<= target``; ``inf`` when ``cap``
    is reached, the run diverges or the gap grows above twice its initial value (a step
    that does not converge)."""
    from bntheory.solvers import solve

    state = {"hit": math.inf, "gap0": None}

    def cb(k, d):
        if state["gap0"] is None:
            state["gap0"] = d.gap
        if d.gap <= target:
            state["hit"] = float(k)
            return True
        return bool(d.gap > 2.0 * state["gap0"])

    solve(prob, solver, x0, max_steps=cap, tol=0.0, callback=cb)
    return state["hit"]


# --------------------------------------------------------------------------- hs-01
def _check_objective(quick: bool, rng: np.random.Generator) -> Measurement:
    """(a) The library's population objective is the article's expectation
    ``E[phi(-y x^T w)]`` (Monte Carlo over samples ``(x, y)``, with its standard error);
    (b) decoupling: the minimizing direction of ``F(g, w) = f(g w/||w||_S)`` does not
    depend on the length ``g > 0`` (Kohler et al. 2019, Sec. 4: with Gaussian ``z`` the
    objective depends on the direction only through ``u^T w/||w||_S``; derived from the model).
    """
    import scipy.optimize

    from bntheory.problems import GaussianHalfspace, Normalized

    d, n = 5, (200_000 if quick else 2_000_000)
    A = rng.normal(size=(d, d))
    S = A @ A.T / d + 0.2 * np.eye(d)
    hs = GaussianHalfspace.from_moments(rng.normal(size=d), S)
    w = rng.normal(size=d)
    X, y = hs.sample(n, rng=int(rng.integers(2**31)))
    mc_vals = np.logaddexp(0.0, -y * (X @ w))  # the article's phi(-y x^T w), logistic phi
    mc, se = float(mc_vals.mean()), float(mc_vals.std(ddof=1) / math.sqrt(n))
    quad = float(hs.loss(w))
    rel = (mc - quad) / quad
    half = 1.96 * se / quad

    # (b) an ill-conditioned instance: minimize F(g, .) over w for several lengths g
    prob = _problem(int(rng.integers(2**31)), 6, 30.0)
    nb = Normalized(prob)
    ref = np.linalg.solve(prob.S, prob.u)
    ref = -ref / np.linalg.norm(ref)  # f decreases in -u^T w: the optimum is along -S^-1 u
    w0 = rng.normal(size=prob.dim)
    angles = []
    for g in (0.5, 1.0, 2.0, 4.0):

        def fun(v, g=g):
            # F is scale invariant in w: the penalty (||w||^2 - 1)^2 pins the length
            # without moving the minimizing direction (BFGS alone lets ||w|| drift)
            th = nb.stack(g, v)
            r = float(v @ v) - 1.0
            return nb.loss(th) + r * r, nb.grad(th)[1:] + 4.0 * r * v

        res = scipy.optimize.minimize(
            fun, w0, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 500}
        )
        v = res.x / np.linalg.norm(res.x)
        c = float(v @ ref)
        angles.append(math.atan2(float(np.linalg.norm(v - c * ref)), abs(c)))
    return Measurement(
        f"E[phi(-y x^T w)]: Monte Carlo {mc:.5f} (SE {se:.1e}, n = {n}) vs quadrature "
        f"{quad:.5f}; argmin_w F(g, w) for g in {{0.5, 1, 2, 4}}: max angle to -S^-1 u "
        f"{max(angles):.1e} rad",
        {
            "rel_diff_mc": rel,
            "mc": mc,
            "quadrature": quad,
            "se": se,
            "max_angle_direction": max(angles),
        },
        {"rel_diff_mc": (rel - half, rel + half)},
        note="S-normalization makes the direction problem the same for every length g",
    )


# --------------------------------------------------------------------------- hs-02
#: What Kohler et al. analyse, checked against the paper's text ("we will prove that GD enjoys a linear
#: convergence rate", Sec. 3; the abstract's "provably converging algorithm"); GDNP uses full
#: gradients of the population objective, no stochastic gradients.
KOHLER_RESULT = SourceFact(
    "Kohler et al. (2019), 'Exponential convergence rates for Batch Normalization: The power of length-direction decoupling in non-convex optimization', abstract and Sec. 3",
    {"optimizer": "GD", "result": "linear convergence rate"},
)


def _check_sgd(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(
        KOHLER_RESULT,
        note="the algorithm is GDNP: full-gradient steps on the direction, bisection on the length",
    )


# --------------------------------------------------------------------------- hs-03
def _check_strong_convexity(quick: bool, rng: np.random.Generator) -> Measurement:
    """Spectrum of the Hessian of ``F(g, w) = f(g w/||w||_S)`` at random points and at the
    minimizer ``(g*, -S^-1 u)``."""
    import scipy.optimize

    from bntheory.problems import Normalized

    prob = _problem(int(rng.integers(2**31)), 8, 50.0)
    nb = Normalized(prob)
    rel_min = []
    for _ in range(5):
        th = nb.stack(float(rng.uniform(0.5, 3.0)), rng.normal(size=prob.dim))
        ev = np.linalg.eigvalsh(nb.hessian(th))
        rel_min.append(float(ev[0] / np.max(np.abs(ev))))
    w_opt = -np.linalg.solve(prob.S, prob.u)
    res = scipy.optimize.minimize_scalar(
        lambda g: nb.loss(nb.stack(g, w_opt)),
        bounds=(1e-3, 50.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    ev_opt = np.linalg.eigvalsh(nb.hessian(nb.stack(float(res.x), w_opt)))
    rel_opt = float(ev_opt[0] / np.max(np.abs(ev_opt)))
    return Measurement(
        f"Hessian of F(g, w) = f(g w/||w||_S): lambda_min/max|lambda| from {min(rel_min):.2f} "
        f"to {max(rel_min):.2f} at 5 random points; {rel_opt:.1e} at the minimizer",
        {
            "min_rel_eig_random": min(rel_min),
            "max_rel_eig_random": max(rel_min),
            "rel_eig_at_opt": rel_opt,
        },
        note="F(g, c w) = F(g, w): (0, w) is a direction of zero curvature at every point",
    )


# --------------------------------------------------------------------------- GDNP bank
#: GDNP's bisection steps T_s in the bank: 2^-40 |b_0 - a_0| / mu^2 is below 1e-9 here.
_BANK_BISECTION = 40
#: Runs stop once (1 - mu/L)^{2t} falls below this fraction (bound floor, see hs-04/05).
_BANK_FLOOR = 1e-6


def _bank_run(seed: int, k: int) -> dict:
    """One GDNP run of the bank: instance ``k`` (even: geometric spectrum, odd: two-cluster,
    the case where Kohler's bound is tight), ``dim`` in [4, 10], ``kappa`` in [5, 15]."""
    from bntheory.problems import Normalized
    from bntheory.solvers import GDNP, solve

    r = np.random.default_rng(seed)
    dim = int(r.integers(4, 11))
    kappa = float(10 ** r.uniform(math.log10(5), math.log10(15)))
    spectrum = "geometric" if k % 2 == 0 else "two-cluster"
    prob = _problem(int(r.integers(2**31)), dim, kappa, spectrum)
    nb = Normalized(prob)
    T = int(math.ceil(math.log(_BANK_FLOOR) / (2 * math.log(1 - nb.mu / nb.L))))
    res = solve(
        prob,
        GDNP(n_bisection=_BANK_BISECTION),
        (1.0, r.normal(size=dim)),
        max_steps=T,
        tol=0.0,
    )
    h = res.history
    return {
        "mu": nb.mu,
        "L": nb.L,
        "Phi": float(prob.Phi),
        "status": res.status,
        "rho_gap": [float(x) for x in h["rho_gap"]],
        "loss_gap": [float(x) for x in res.gaps],
        "grad_norm": [float(x) for x in res.grad_norms],
        "bracket": [float(b - a) for a, b in zip(h["bracket_lo"], h["bracket_hi"], strict=True)],
    }


def _bank(quick: bool, rng: np.random.Generator) -> list[dict]:
    """GDNP runs shared by hs-04, hs-05 and hs-06 (pre-registered: 4 quick, 12 full)."""
    seeds = measurement_seeds("hs-gdnp-bank", quick, rng, n=4 if quick else 12)
    return [
        shared_result(f"hs-gdnp-bank-{k}", s, lambda s=s, k=k: _bank_run(s, k))
        for k, s in enumerate(seeds)
    ]


def _bound_ratios(run: dict, exponent: float, quantity: str, extra: bool = False) -> float:
    """``max_t run[quantity]_t / bound_t`` over ``t >= 1`` where the bound
    ``c (1 - mu/L)^{exponent t}`` is above ``_BANK_FLOOR`` times its initial value.

    ``c``: the quantity's own initial value (``rho_gap``, ``loss_gap`` with the article's
    rate), or ``Phi^2 (rho(w_0) - rho*)`` plus the bisection term
    ``2^-T_s zeta |b_0 - a_0| / mu^2 = zeta (final bracket width) / mu^2`` with
    ``zeta = sup|phi''| = 1/4`` (``extra=True``: the halfspace statement). The bounds are
    the library's predictions (:func:`bntheory.bounds.kohler_ols_bound`,
    :func:`bntheory.bounds.kohler_halfspace_bound`); the article's ``(1 - mu/L)^t`` is
    Kohler's factor ``(1 - mu/L)^{2 s}`` at ``s = t / 2``.
    """
    from bntheory.bounds import kohler_halfspace_bound, kohler_ols_bound

    q = np.asarray(run[quantity], float)
    mu, L = run["mu"], run["L"]
    t = np.arange(q.size)
    s = t * (exponent / 2)  # exact: exponent is 1 or 2 and t an integer
    decay = np.asarray(kohler_ols_bound(s, 1.0, mu, L), float)
    if extra:
        # the bound is affine in (rho_gap0, bracket width): its main term over all steps
        # at once, plus the bisection term of each step, where the measured final bracket
        # width stands for 2^-T_s |b_0 - a_0| (so T_s = 0 in the call)
        kw = {"Phi": run["Phi"], "zeta": 0.25, "n_bisection": 0}
        main = kohler_halfspace_bound(s, run["rho_gap"][0], mu, L, bracket_width=0.0, **kw)
        bisection = [
            kohler_halfspace_bound(0, 0.0, mu, L, bracket_width=width, **kw)
            for width in run["bracket"]
        ]
        bound = np.asarray(main, float) + np.asarray(bisection, float)
    else:
        bound = np.asarray(kohler_ols_bound(s, q[0], mu, L), float)
    mask = (t >= 1) & (decay >= _BANK_FLOOR)
    return float(np.max(q[mask] / bound[mask]))


# --------------------------------------------------------------------------- hs-04
def _check_rate(quick: bool, rng: np.random.Generator) -> Measurement:
    """GDNP runs of the bank: the loss gap against the article's ``(1 - mu/L)^t`` and
    ``rho(w_t) - rho*`` against ``(1 - mu/L)^{2t}`` (our reading of Kohler et al.)."""
    runs = _bank(quick, rng)
    art = max(_bound_ratios(r, 1.0, "loss_gap") for r in runs)
    koh = max(_bound_ratios(r, 2.0, "rho_gap") for r in runs)
    kappas = [r["L"] / r["mu"] for r in runs]
    return Measurement(
        f"GDNP on {len(runs)} instances (kappa {min(kappas):.1f}-{max(kappas):.1f}): max_t "
        f"(loss gap)/((1-mu/L)^t gap_0) = {art:.3g}; max_t (rho gap)/((1-mu/L)^(2t) "
        f"rho gap_0) = {koh:.3g}",
        {
            "max_lossgap_over_article_bound": art,
            "max_rhogap_over_kohler_bound": koh,
            "n_instances": float(len(runs)),
        },
        note=(
            "GDNP's step eta_t = ||w||_S^2/(2 L |rho|) is this project's rule; for it the "
            "rho bound is derived from the model, so the check tests the implementation "
            "against that proof"
        ),
    )


# --------------------------------------------------------------------------- hs-05
def _check_gradient_bound(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's bound on ``||grad f(w~_T)||`` and the same right-hand side on the loss
    gap ``f(w~_T) - f*`` (our reading of Kohler et al.'s halfspace theorem, [U])."""
    runs = _bank(quick, rng)
    grad = max(_bound_ratios(r, 2.0, "grad_norm", extra=True) for r in runs)
    loss = max(_bound_ratios(r, 2.0, "loss_gap", extra=True) for r in runs)
    return Measurement(
        f"GDNP on {len(runs)} instances: max_t ||grad f|| / (Phi^2 (1-mu/L)^(2t) "
        f"(rho_0 - rho*) + bisection term) = {grad:.3g}; same for the loss gap: {loss:.3g}",
        {"max_gradnorm_over_bound": grad, "max_lossgap_over_bound": loss},
        note=(
            "the gradient norm decays like the square root of the loss gap, so it eventually "
            "exceeds a bound that decays like the gap"
        ),
    )


# --------------------------------------------------------------------------- hs-06
def _sgd_iterations(quick: bool, rng: np.random.Generator) -> dict:
    """SGD on Kohler's BN objective ``F(g, w) = E phi(g z^T w/||w||_S)`` (population BN
    statistics, fresh minibatches of 32 samples ``z ~ N(u, S)``, ``kappa = 10``), step
    ``1/(1 + t/100)`` on ``g`` and ``w``; all runs advance together (vectorized).

    Returns, per run, the decay exponent ``p`` of the population loss gap (least-squares
    slope of ``-log gap`` against ``log t``) over the two last decades of iterations,
    ``[T/100, T/10]`` and ``[T/10, T]``: a power law ``gap ~ t^-p`` keeps ``p``, a linear
    rate (geometric decay, ``O(log 1/eps)`` iterations) multiplies it by about 10.
    """
    from scipy.special import expit

    seeds = measurement_seeds("hs-sgd", quick, rng, n=12 if quick else 16)
    cap = 3_000 if quick else 30_000
    batch, eta0, t0, dim = 32, 1.0, 100.0, 5
    probs = [_problem(s, dim, 10.0) for s in seeds]
    R = len(probs)
    S = np.stack([p.S for p in probs])
    U = np.stack([p.u for p in probs])
    C = np.linalg.cholesky(S)
    noise = np.random.default_rng(seeds[0] + 1)
    g = np.ones(R)
    W = noise.normal(size=(R, dim))
    checkpoints = np.unique(np.geomspace(1, cap, 150).astype(int))
    is_cp = np.zeros(cap + 1, bool)
    is_cp[checkpoints] = True
    ref = np.array([math.log(2.0) - p.f_star for p in probs])
    gaps = []
    for t in range(cap + 1):
        if is_cp[t]:
            row = []
            for i, p in enumerate(probs):
                n_i = math.sqrt(float(W[i] @ S[i] @ W[i]))
                row.append((p.loss(g[i] * W[i] / n_i) - p.f_star) / ref[i])
            gaps.append(row)
        Z = U[:, None, :] + np.einsum("rij,rbj->rbi", C, noise.standard_normal((R, batch, dim)))
        SW = np.einsum("rij,rj->ri", S, W)
        n = np.sqrt(np.einsum("ri,ri->r", W, SW))
        a = np.einsum("rbi,ri->rb", Z, W)
        p = expit(g[:, None] * a / n[:, None])  # phi' of the logistic loss
        pa = np.mean(p * a, axis=1)
        dg = pa / n
        dW = (g / n)[:, None] * (np.mean(p[:, :, None] * Z, axis=1) - (pa / n**2)[:, None] * SW)
        eta = eta0 / (1.0 + t / t0)
        g = g - eta * dg
        W = W - eta * dW
    G = np.asarray(gaps)  # (checkpoints, runs)
    slopes = []
    for lo, hi in ((cap / 100, cap / 10), (cap / 10, cap)):
        sel = (checkpoints >= lo) & (checkpoints <= hi)
        lt = np.log(checkpoints[sel])
        slopes.append([-float(np.polyfit(lt, np.log(G[sel, i]), 1)[0]) for i in range(R)])
    return {"early": slopes[0], "late": slopes[1], "cap": cap, "final_gap": G[-1].tolist()}


def _increment_ratio(n1: float, n2: float, n3: float) -> float:
    """``(N(eps_3) - N(eps_2)) / (N(eps_2) - N(eps_1))`` for eps a factor 10 apart each
    (at least one iteration in the denominator): about 1 for ``O(log 1/eps)`` iterations
    (a linear rate), about ``10^p`` for ``O(eps^-p)``; ``inf`` when ``eps_3`` is not reached."""
    if not math.isfinite(n3):
        return math.inf
    return (n3 - n2) / max(n2 - n1, 1.0)


def _check_linear_iters(quick: bool, rng: np.random.Generator) -> Measurement:
    """Iterations ``N(eps)`` to an eps-accurate solution: SGD with BN (the article's
    setting) and full-gradient GDNP (Kohler et al.'s algorithm, the bank's runs)."""
    from bntheory.claims.stats import mean_ci

    sgd = _sgd_iterations(quick, rng)
    increase = [b - a for a, b in zip(sgd["early"], sgd["late"], strict=True)]
    runs = _bank(quick, rng)
    np_ratios = []
    for r in runs:
        q = np.asarray(r["rho_gap"], float) / r["rho_gap"][0]
        n = [float(np.argmax(q <= e)) if np.any(q <= e) else math.inf for e in (1e-2, 1e-3, 1e-4)]
        np_ratios.append(_increment_ratio(*n))
    v, iv = mean_ci("sgd_exponent_increase", increase)
    v.update(
        {
            "sgd_early_exponent": float(np.mean(sgd["early"])),
            "sgd_late_exponent": float(np.mean(sgd["late"])),
            "sgd_final_gap": float(np.median(sgd["final_gap"])),
            "sgd_steps": float(sgd["cap"]),
            "gdnp_max_increment_ratio": max(np_ratios),
        }
    )
    return Measurement(
        f"SGD with BN ({len(increase)} runs, {sgd['cap']} steps): decay exponent of the loss gap "
        f"{v['sgd_early_exponent']:.2f} over [T/100, T/10], {v['sgd_late_exponent']:.2f} over "
        f"[T/10, T] (increase {v['sgd_exponent_increase']:.2f}); relative gap at T "
        f"{v['sgd_final_gap']:.1e}. GDNP ({len(runs)} runs): iterations rho gap 1e-2 -> 1e-3 "
        f"-> 1e-4, increment ratio at most {max(np_ratios):.3g}",
        v,
        iv,
        note=(
            "SGD's gradient noise does not vanish at the optimum (z ~ N(u, S) is not separable): "
            "the gap decays like a power of t, not geometrically"
        ),
    )


# --------------------------------------------------------------------------- hs-07
_ACC_KAPPAS = (10.0, 100.0)
#: Bisection steps per GDNP iteration: 2^-14 of a bracket of width <= 8 moves the loss by
#: < 1e-7, far below the target gap.
_ACC_BISECTION = 14
_ACC_CAP = 3000


def _acc_run(seed: int, kappa: float) -> dict:
    """GD vs GDNP on one instance: iterations to the gap ``1e-4 (f(0) - f*)`` at the textbook
    step and at the best step of the grid ``textbook x 2^(k/2)``, k = 0..7 (GD) / 0..3 (GDNP,
    whose larger steps stop converging). A grid step is run only up to the best count so far
    (a step that needs more iterations cannot be the best)."""
    from bntheory.solvers import GDNP, GradientDescent

    r = np.random.default_rng(seed)
    dim = 8
    prob = _problem(int(r.integers(2**31)), dim, kappa)
    w0 = r.normal(size=dim) / math.sqrt(dim)
    target = 1e-4 * (math.log(2.0) - prob.f_star)
    # textbook GD step 1/L_f: L_f = sup|phi''| lambda_max(E z z^T) = lambda_max(S + u u^T)/4
    lf = float(np.linalg.eigvalsh(prob.S + np.outer(prob.u, prob.u))[-1]) / 4
    out = {}
    for name, n_grid, make, x0 in (
        ("gd", 8, lambda c: GradientDescent(c / lf), w0),
        # GDNP's textbook step is Kohler's rule as implemented (step_factor 2)
        ("np", 4, lambda c: GDNP(step_factor=2.0 / c, n_bisection=_ACC_BISECTION), (1.0, w0)),
    ):
        best = _iterations_to(prob, make(1.0), x0, target, _ACC_CAP)
        out[f"{name}_textbook"] = best
        for k in range(1, n_grid):
            if not math.isfinite(best):
                cap = _ACC_CAP
            else:
                cap = int(best)
            best = min(best, _iterations_to(prob, make(2 ** (k / 2)), x0, target, cap))
        out[f"{name}_tuned"] = best
    return out


def _check_acceleration(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims.stats import log_ratio_ci

    seeds = measurement_seeds("hs-acceleration", quick, rng, n=3 if quick else 20)
    values: dict = {}
    intervals: dict = {}
    parts = []
    for kappa in _ACC_KAPPAS:
        rows = [_acc_run(s, kappa) for s in seeds]
        for mode in ("tuned", "textbook"):
            gd = [x[f"gd_{mode}"] for x in rows]
            npi = [x[f"np_{mode}"] for x in rows]
            name = f"speedup_{mode}_k{int(kappa)}"
            if all(math.isfinite(v) for v in gd + npi):
                v, iv = log_ratio_ci(name, gd, npi)
            else:
                v, iv = {name: math.nan}, {}
            values.update(v)
            intervals.update(iv)
            values[f"gd_{mode}_k{int(kappa)}"] = float(np.median(gd))
            values[f"gdnp_{mode}_k{int(kappa)}"] = float(np.median(npi))
        parts.append(
            f"kappa {kappa:g}: GD/GDNP iterations tuned {values[f'gd_tuned_k{int(kappa)}']:g}/"
            f"{values[f'gdnp_tuned_k{int(kappa)}']:g} (speedup "
            f"{values[f'speedup_tuned_k{int(kappa)}']:.2f}), textbook "
            f"{values[f'gd_textbook_k{int(kappa)}']:g}/{values[f'gdnp_textbook_k{int(kappa)}']:g}"
            f" (speedup {values[f'speedup_textbook_k{int(kappa)}']:.2f})"
        )
    return Measurement(
        f"iterations to gap 1e-4 (f(0) - f*), median of {len(seeds)} instances: "
        + "; ".join(parts),
        values,
        intervals,
        note=f"each GDNP iteration also runs {_ACC_BISECTION} bisection steps (not counted)",
    )


# --------------------------------------------------------------------------- hs-08
#: Spread ``max/min`` of the feature variances (GD, input normalization).
_VAR_KAPPAS = (10.0, 100.0, 1000.0)
#: The same for GDNP (its bisection makes kappa = 1000 expensive).
_VAR_KAPPAS_GDNP = (10.0, 100.0)


def _margin_iterations(prob, solver, x0, r_star: float, cap: int) -> float:
    """Iterations until the normalized margin ``-u^T w~/||w~||_S`` (mean over standard
    deviation of the margin ``y x^T w~``; Kohler's ``sqrt(-rho)``) reaches 99 % of its
    maximum ``sqrt(u^T S^-1 u)``."""
    from bntheory.solvers import solve

    hit = {"k": math.inf}

    def cb(k, d):
        x = d.x
        if -(prob.u @ x) / math.sqrt(x @ prob.S @ x) >= 0.99 * r_star:
            hit["k"] = float(k)
            return True
        return False

    solve(prob, solver, x0, max_steps=cap, tol=0.0, callback=cb)
    return hit["k"]


def _same_task(u, S, f_star: float):
    """Kohler's model with moments ``(u, S)`` that is a linear change of the features of a
    problem with minimum ``f_star`` (the minimum is invariant: ``f*`` carried over)."""
    from bntheory.problems import GaussianHalfspace

    prob = GaussianHalfspace.from_moments(u, S)
    prob._f_star = float(f_star)
    return prob


def _input_bn(prob, f_star: float):
    """Per-feature normalization of the inputs (BN on the input layer, population
    statistics): ``x_j -> x_j / sqrt(E x_j^2)`` with ``E x x^T = S + u u^T`` in Kohler's
    model (``E x = 0``), i.e. ``z -> D^-1/2 z``."""
    sd = np.sqrt(np.diag(prob.S) + prob.u**2)
    return _same_task(prob.u / sd, prob.S / np.outer(sd, sd), f_star)


def _variance_run(seed: int) -> dict:
    """One task (``dim`` 6, correlation spectrum in [1/3, 1]) with its features rescaled so
    that their variances spread geometrically over a factor ``kappa``: iterations of GD
    (textbook step ``1/L_f``), of GD on per-feature normalized inputs (BN of the inputs,
    population statistics: ``x_j / sqrt(E x_j^2)``, ``E x x^T = S + u u^T``) and of GDNP
    (Kohler's BN of ``x^T w``) to 99 % of the best margin."""
    from bntheory.solvers import GDNP, GradientDescent

    r = np.random.default_rng(seed)
    dim = 6
    base = _problem(int(r.integers(2**31)), dim, 3.0)
    w0 = 1e-3 * r.normal(size=dim)
    r_star = math.sqrt(float(base.u @ np.linalg.solve(base.S, base.u)))
    out: dict = {"gd": [], "input_bn": [], "gdnp": []}
    for kappa in _VAR_KAPPAS:
        s = np.sqrt(kappa ** (np.arange(dim) / (dim - 1)))
        prob = _same_task(base.u * s, base.S * np.outer(s, s), base.f_star)
        std = _input_bn(prob, base.f_star)
        for key, p in (("gd", prob), ("input_bn", std)):
            lf = float(np.linalg.eigvalsh(p.S + np.outer(p.u, p.u))[-1]) / 4
            out[key].append(_margin_iterations(p, GradientDescent(1 / lf), w0, r_star, 20000))
        if kappa in _VAR_KAPPAS_GDNP:
            # the margin depends on the direction only: a coarse length step suffices
            out["gdnp"].append(
                _margin_iterations(prob, GDNP(n_bisection=8), (1.0, w0), r_star, 5000)
            )
    return out


def _slope(iters: list[float], kappas) -> float:
    """Least-squares slope of ``log(iterations)`` against ``log(kappa)``."""
    if not all(math.isfinite(v) and v > 0 for v in iters):
        return math.inf if not all(math.isfinite(v) for v in iters) else 0.0
    return float(np.polyfit(np.log(kappas), np.log(iters), 1)[0])


def _check_feature_variance(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims.stats import mean_ci

    seeds = measurement_seeds("hs-feature-variance", quick, rng, n=5 if quick else 10)
    rows = [_variance_run(s) for s in seeds]
    values: dict = {}
    intervals: dict = {}
    for key in ("gd", "input_bn", "gdnp"):
        ks = _VAR_KAPPAS_GDNP if key == "gdnp" else _VAR_KAPPAS
        v, iv = mean_ci(f"slope_{key}", [_slope(x[key], ks) for x in rows])
        values.update(v)
        intervals.update(iv)
        for j, kappa in enumerate(ks):
            values[f"iters_{key}_k{int(kappa)}"] = float(np.median([x[key][j] for x in rows]))

    def row(key):
        ks = _VAR_KAPPAS_GDNP if key == "gdnp" else _VAR_KAPPAS
        return "/".join(f"{values[f'iters_{key}_k{int(k)}']:g}" for k in ks)

    return Measurement(
        "iterations to 99 % of the best margin, feature variances spread by kappa = "
        f"10/100/1000 (median of {len(seeds)} tasks): GD {row('gd')}, GD on per-feature "
        f"normalized inputs {row('input_bn')}, GDNP (BN of x^T w; kappa 10/100) "
        f"{row('gdnp')}; "
        f"slope of log iterations vs log kappa {values['slope_gd']:.2f} / "
        f"{values['slope_input_bn']:.2f} / {values['slope_gdnp']:.2f}",
        values,
        intervals,
        note="the features are rescaled copies of one task, so the best margin is the same",
    )


# --------------------------------------------------------------------------- the claims
_ROUNDOFF_WHY = (
    "1e-4: the gaps are computed to ~1e-15 absolute (quadrature, f* by 1-D minimization) and "
    "only steps where the bound is above 1e-6 of its initial value (>= ~1e-8 absolute) count, "
    "so round-off moves a ratio by < 1e-6; a bound that holds has ratio <= 1"
)

CLAIMS = [
    Claim(
        "hs-01",
        "halfspace",
        "f(w_tilde) = E_{y,x}[phi(-y x^T w_tilde)] ... decouples the optimization into length "
        "and direction",
        "Kohler et al. (2019), Eq. (16), Sec. 4",
        "numerical",
        "objective and decoupling",
        _check_objective,
        literal=Reading(
            "the population objective is E[phi(-y x^T w~)], and with BN (w~ = g w/||w||_S) the "
            "minimizing direction of F(g, w) is the same for every length g > 0",
            (
                P("rel_diff_mc", "in", (-0.02, 0.02)),
                P("max_angle_direction", "<=", 1e-4),
            ),
            "0.02: four times the 95 % half-width of the Monte Carlo estimate (~0.5 % at 2e5 "
            "samples), so an exact formula passes at ~6 standard errors while a wrong sign or "
            "scale (tens of percent) fails; 1e-4 rad: BFGS stops at gradient 1e-11 on a problem "
            "with curvature >= 1e-3, i.e. direction errors < 1e-6 rad, while a normalization "
            "that couples length and direction moves the minimizer by O(0.1-1) rad at kappa 30",
        ),
        explain=(
            "The library's population objective is the article's expectation: Monte Carlo "
            "{mc:.5f} against quadrature {quadrature:.5f} (relative difference "
            "{rel_diff_mc:.1e}). With BN's normalization by the standard deviation ||w||_S the "
            "minimizing direction of F(g, w) is the same for lengths g from one half to 4 "
            "(largest angle {max_angle_direction:.1e} rad): length and direction decouple, "
            "because with Gaussian z the objective sees the direction only through "
            "u^T w/||w||_S."
        ),
    ),
    Claim(
        "hs-02",
        "halfspace",
        "Kohler et al. (2018) demonstrates that BN provides a linear speedup in SGD",
        "Kohler et al. (2019), abstract and Sec. 3",
        "literature",
        "SGD linear speedup",
        _check_sgd,
        literal=Reading(
            "Kohler et al. show a linear speedup of SGD",
            (P("optimizer", "is", "SGD"), P("result", "is", "linear speedup")),
            "categorical facts of the source: exact match",
        ),
        corrected=Reading(
            "Kohler et al. prove a linear convergence rate for (full-gradient) GD in the "
            "normalized parametrization",
            (P("optimizer", "is", "GD"), P("result", "is", "linear convergence rate")),
            "categorical facts of the source: exact match",
            source="Kohler et al. (2019), Sec. 3 ('we will prove that GD enjoys a linear "
            "convergence rate'; checked against the paper's text)",
        ),
        evidence="source",
        explain=(
            "Kohler et al. analyse {optimizer} (GDNP: full gradients of the population "
            "objective on the direction, bisection on the length) and prove a {result}; they do "
            "not analyse SGD or claim a 'linear speedup'. hs-06 measures what SGD does here."
        ),
    ),
    Claim(
        "hs-03",
        "halfspace",
        "Post-BN, the effective loss landscape becomes mu-strongly convex with an L-Lipschitz "
        "continuous gradient",
        "Kohler et al. (2019)",
        "numerical",
        "strongly convex",
        _check_strong_convexity,
        literal=Reading(
            "the Hessian of F(g, w) = f(g w/||w||_S) is positive definite (lambda_min > 0) "
            "everywhere, in particular at random points and at the minimizer",
            (
                P("min_rel_eig_random", ">=", 1e-6),
                P("rel_eig_at_opt", ">=", 1e-6),
            ),
            "1e-6 of the largest |eigenvalue|: six orders above the round-off of the "
            "chain-rule Hessian (~1e-12 relative), and a modulus mu below 1e-6 L would give a "
            "rate 1 - mu/L above 1 - 1e-6, i.e. no usable linear rate",
        ),
        explain=(
            "F is not strongly convex, not even convex: at random points the smallest "
            "eigenvalue of its Hessian is negative (lambda_min/max|lambda| between "
            "{min_rel_eig_random:.2f} and {max_rel_eig_random:.2f}), and at the minimizer it is "
            "{rel_eig_at_opt:.1e} of the largest, zero up to round-off: F(g, c w) = F(g, w), so "
            "the radial direction (0, w) has zero curvature. GDNP's linear rate (hs-04) comes "
            "from the Rayleigh-quotient structure of rho (derived from the model), not from strong "
            "convexity."
        ),
    ),
    Claim(
        "hs-04",
        "halfspace",
        "enabling linear convergence at the rate 1 - mu/L per iteration",
        "Kohler et al. (2019), 'Exponential convergence rates for Batch Normalization: The power of length-direction decoupling in non-convex optimization', OLS / GDNP theorem (recalled, not confirmed in an "
        "available text)",
        "numerical",
        "(1 - mu/L) per iteration",
        _check_rate,
        literal=Reading(
            "under GDNP the loss gap contracts at least by 1 - mu/L per iteration: "
            "f(w~_t) - f* <= (1 - mu/L)^t (f(w~_0) - f*), mu, L the extreme eigenvalues of S",
            (P("max_lossgap_over_article_bound", "<=", 1.0, tol=1e-4),),
            _ROUNDOFF_WHY,
        ),
        corrected=Reading(
            "rho(w_t) - rho* <= (1 - mu/L)^(2t) (rho(w_0) - rho*): factor (1 - mu/L)^2 per "
            "iteration on the direction problem",
            (P("max_rhogap_over_kohler_bound", "<=", 1.0, tol=1e-4),),
            _ROUNDOFF_WHY,
            source="our reading of Kohler et al. (2019), OLS theorem: a recollection marked "
            "not confirmed in any available text; for this project's step rule the bound is "
            "derived from the model",
        ),
        explain=(
            "On {n_instances:.0f} instances (geometric and two-cluster spectra of S) the loss "
            "gap of GDNP stays below the article's (1 - mu/L)^t: worst ratio "
            "{max_lossgap_over_article_bound:.3g}. The sharper (1 - mu/L)^(2t) bound on rho(w_t) "
            "- rho* (our unverified reading of Kohler et al.) also holds, worst ratio "
            "{max_rhogap_over_kohler_bound:.3g}; it is nearly tautological here, since GDNP's "
            "step rule is this project's and the bound is proved for it. The premise of the "
            "article's sentence (strong convexity) is false (hs-03)."
        ),
    ),
    Claim(
        "hs-05",
        "halfspace",
        "the gradient norm satisfies ||grad f(w_Td)|| <= (1-mu/L)^{2T_d} Phi^2 (rho(w_0) - "
        "rho*) + error term",
        "Kohler et al. (2019), 'Exponential convergence rates for Batch Normalization: The power of length-direction decoupling in non-convex optimization', halfspace theorem (recalled, not confirmed in an "
        "available text)",
        "numerical",
        "gradient-norm bound",
        _check_gradient_bound,
        literal=Reading(
            "||grad f(w~_t)|| <= (1 - mu/L)^(2t) Phi^2 (rho(w_0) - rho*) + 2^-T_s zeta "
            "|b_0 - a_0| / mu^2 along GDNP (zeta = sup|phi''| = 1/4, Phi = sup|phi'| = 1)",
            (P("max_gradnorm_over_bound", "<=", 1.0, tol=1e-4),),
            _ROUNDOFF_WHY,
        ),
        corrected=Reading(
            "the same right-hand side bounds the LOSS gap f(w~_t) - f*",
            (P("max_lossgap_over_bound", "<=", 1.0, tol=1e-4),),
            _ROUNDOFF_WHY,
            source="our reading of Kohler et al. (2019), halfspace theorem: a recollection "
            "not confirmed in any available text (the paper's text is not available)",
        ),
        explain=(
            "Read as a bound on the gradient norm, the inequality fails along GDNP: the "
            "gradient norm (near the optimum of order the square root of the loss gap) "
            "exceeds the right-hand side by up to a factor {max_gradnorm_over_bound:.3g}. The same "
            "right-hand side bounds the loss gap (worst ratio {max_lossgap_over_bound:.3g}), "
            "which is our unverified reading of Kohler et al.'s theorem (recalled, not "
            "confirmed in an available text). Phi bounds |phi'| (not an initial margin) and rho is the Rayleigh quotient "
            "-(u^T w)^2/||w||_S^2 (not a margin)."
        ),
    ),
    Claim(
        "hs-06",
        "halfspace",
        "achieving an iteration complexity of O(log(1/eps)) for strongly convex losses to reach "
        "an eps-accurate solution in stochastic gradient descent (SGD)",
        "Kohler et al. (2019)",
        "numerical",
        "O(log 1/eps) iterations in SGD",
        _check_linear_iters,
        literal=Reading(
            "SGD with BN reaches an eps-accurate solution in O(log 1/eps) iterations, i.e. its "
            "loss gap decays geometrically: the decay exponent p (gap ~ t^-p locally) grows "
            "from the decade [T/100, T/10] to [T/10, T] by at least 1",
            (P("sgd_exponent_increase", ">=", 1.0),),
            "1: the local exponent of a geometric decay r^t is t (-ln r), so its mean over the "
            "decade [T/10, T] exceeds that over [T/100, T/10] by about 0.35 T (-ln r), >= 1 "
            "as soon as the run shrinks the gap by e^3; a power law leaves it unchanged (0); "
            "the 95 % t-interval over the runs decides",
        ),
        corrected=Reading(
            "full-gradient GDNP reaches eps in O(log 1/eps) iterations: each further decade "
            "of accuracy of rho(w) - rho* costs about the same number of iterations",
            (P("gdnp_max_increment_ratio", "<=", 3.0),),
            "3: iterations per decade may change by the ratio of the transient and asymptotic "
            "rates, while an eps^-p complexity with p >= 1/2 gives a ratio >= 10^0.5",
            source="Kohler et al. (2019), Sec. 3 ('GD enjoys a linear convergence rate', "
            "checked against the paper's text); GDNP rate derived from the model for this "
            "project's step",
        ),
        explain=(
            "SGD on the BN objective (fresh minibatches, step 1/(1 + t/100)) does not converge "
            "linearly: its loss gap decays like t^-p with p = {sgd_early_exponent:.2f} over the "
            "decade [T/100, T/10] and {sgd_late_exponent:.2f} over [T/10, T] (T = "
            "{sgd_steps:.0f}), a power law, as expected when the gradient noise does not vanish "
            "at the optimum. Full-gradient GDNP, the algorithm Kohler et al. analyse, does need "
            "O(log 1/eps) iterations: each further decade of accuracy costs at most "
            "{gdnp_max_increment_ratio:.3g} times the iterations of the previous one."
        ),
    ),
    Claim(
        "hs-07",
        "halfspace",
        "This normalization effect leads to faster convergence",
        "Kohler et al. (2019), Sec. 3-4 (GDNP)",
        "numerical",
        "BN (GDNP) converges faster than GD",
        _check_acceleration,
        literal=Reading(
            "on an ill-conditioned halfspace problem (kappa(S) = 100) GDNP needs fewer "
            "iterations than GD to reach the loss gap 1e-4 (f(0) - f*), both at each method's "
            "best step of the same grid and at its textbook step",
            (
                P("speedup_tuned_k100", ">=", 1.0),
                P("speedup_textbook_k100", ">=", 1.0),
            ),
            "1: 'faster' means fewer iterations; the 95 % t-interval of the geometric-mean "
            "ratio over the instances decides (the step grid's resolution, a factor sqrt 2, is "
            "the same for both methods)",
        ),
        explain=(
            "At kappa = 100 GD needs {gd_tuned_k100:g} iterations (median) at its best step and "
            "GDNP {gdnp_tuned_k100:g}, a speedup of {speedup_tuned_k100:.2f}; at the textbook "
            "steps (1/L_f for GD, Kohler's rule for GDNP) {gd_textbook_k100:g} against "
            "{gdnp_textbook_k100:g} ({speedup_textbook_k100:.2f}). At kappa = 10 the speedups "
            "are {speedup_tuned_k10:.2f} (tuned) and {speedup_textbook_k10:.2f} (textbook). "
            "Iterations only: each GDNP iteration also runs a bisection on the length."
        ),
        stability_note=(
            "full mode, master seeds 0-4: holds on four, inconclusive on one (the "
            "instance-to-instance spread of the speedup puts one seed's interval across 1)"
        ),
        quick_note=(
            "quick runs 3 instances per kappa (full: 20); the speedup varies by a factor of "
            "about 1.6 (one sd) between instances, so the quick 95 % interval at kappa = 100 "
            "straddles 1 (inconclusive) where the full run decides"
        ),
    ),
    Claim(
        "hs-08",
        "halfspace",
        "Without BN, high-variance features in the input distribution can disproportionately "
        "slow down margin growth ... BN equalizes feature variances through normalization, "
        "promoting balanced updates and mitigating these slowdowns",
        "Kohler et al. (2019) (as cited by the article)",
        "numerical",
        "slowdown without BN, none with BN",
        _check_feature_variance,
        # review note: E's first literal reading tested per-feature input normalization,
        # which removes the slowdown by this test's construction; the lead moved that reading
        # to the corrected one and made the literal reading the BN the article's source
        # analyses (both quantities were measured from the start)
        literal=Reading(
            "GD's iterations to 99 % of the best margin grow with the spread of the feature "
            "variances (slope of log iterations vs log spread >= 1/2), and with BN as in the "
            "analysis the article cites (Kohler et al.'s normalization of x^T w, trained by "
            "GDNP) they do not (slope <= 0.1)",
            (
                P("slope_gd", ">=", 0.5),
                P("slope_gdnp", "<=", 0.1),
            ),
            "1/2: halfway (on the log scale) between no slowdown and GD's textbook dependence "
            "on the condition number (slope 1); 0.1: one tenth of it; 95 % t-intervals over "
            "the tasks decide",
        ),
        corrected=Reading(
            "the slowdown is removed by normalizing each input feature (what 'equalizes "
            "feature variances' describes), not by the BN of x^T w analysed by Kohler et al.",
            (
                P("slope_gd", ">=", 0.5),
                P("slope_input_bn", "<=", 0.1),
            ),
            "as for the literal reading",
            source=(
                "per-feature standardization of the inputs (LeCun et al. 1998, 'Efficient "
                "BackProp', Sec. 4.3); Kohler et al. (2019) normalize x^T w (their Sec. 3)"
            ),
        ),
        explain=(
            "Rescaling the features of one task so that their variances spread by a factor "
            "kappa slows GD's margin growth: {iters_gd_k10:g} iterations at kappa = 10, "
            "{iters_gd_k100:g} at 100 and {iters_gd_k1000:g} at 1000 (median; slope of log "
            "iterations against log kappa {slope_gd:.2f}). Normalizing each input feature "
            "undoes the rescaling (exactly, by the construction of this test) and with it the "
            "slowdown ({iters_input_bn_k10:g}, "
            "{iters_input_bn_k100:g} and {iters_input_bn_k1000:g} iterations). Kohler et al.'s "
            "BN normalizes x^T w, not the "
            "features, and does not remove it: GDNP needs {iters_gdnp_k10:g} and "
            "{iters_gdnp_k100:g} iterations at kappa = 10 and 100 (slope {slope_gdnp:.2f})."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure); "-" when none.
PLACES: dict[str, tuple[str, str, str]] = {
    "hs-01": (
        "problems.GaussianHalfspace, problems.Normalized",
        "tests/problems/test_halfspace.py, tests/claims/test_halfspace.py",
        "-",
    ),
    "hs-02": ("claims.halfspace (source facts)", "tests/claims/test_halfspace.py", "-"),
    "hs-03": (
        "problems.Normalized.hessian",
        "tests/problems/test_normalized.py, tests/claims/test_halfspace.py",
        "-",
    ),
    "hs-04": (
        "solvers.GDNP",
        "tests/solvers/test_gdnp.py, tests/claims/test_halfspace.py",
        "gdnp_halfspace",
    ),
    "hs-05": (
        "solvers.GDNP",
        "tests/solvers/test_gdnp.py, tests/claims/test_halfspace.py",
        "gdnp_halfspace",
    ),
    "hs-06": ("solvers.GDNP, claims.halfspace (SGD loop)", "tests/claims/test_halfspace.py", "-"),
    "hs-07": ("solvers.GDNP, solvers.GradientDescent", "tests/claims/test_halfspace.py", "-"),
    "hs-08": ("solvers.GradientDescent, solvers.GDNP", "tests/claims/test_halfspace.py", "-"),
}

"""Loss-landscape smoothness (Santurkar, Tsipras, Ilyas & Madry 2018, Thms 4.1, 4.2, Fig. 4).

Every check measures; the readings on the claims decide (``bntheory.claims.core``). The
activation-space setting of Santurkar et al. (2018), Sec. 4 (a downstream loss ``L(z)``
composed with one BN feature, ``L_hat(y) = L(BN(y))``) is :class:`bntheory.nets.bnquad.BNQuadratic`;
the network experiments are those of :mod:`bntheory.claims._netexp` (shared with the ICS
section through :func:`~bntheory.claims.core.shared_result`).
"""

from __future__ import annotations

import math

import numpy as np

from bntheory.claims.core import (
    Claim,
    Measurement,
    P,
    Reading,
    SourceFact,
    per_seed,
)

#: Learning rate of the deep-linear-network landscape probes (Santurkar et al. 2018, Fig. 4,
#: scaled down) on which land-02 and land-05 are decided: the unnormalized net trains there.
DLN_LR = 0.02
#: Reported as well: near the unnormalized net's stability edge (it diverges on some seeds,
#: which then have no landscape ratio).
DLN_LR_EDGE = 0.05

#: Random states (and minima) of the BN-composed quadratic per land-04 setting: a
#: Clopper-Pearson 95 % interval of a fraction near 0.99 excludes 0.95 from about 400 on.
N_STATES = 400

#: Ioffe & Szegedy (2015), Sec. 3.2: where BN goes and what it normalizes.
IOFFE_PLACEMENT = SourceFact(
    "Ioffe & Szegedy (2015), Sec. 3.2",
    {"placement": "pre-activation", "normalized": "pre-activation"},
)

#: The reference article's own sentence in "Loss landscape smoothness" ("Batch
#: normalization, applied post-activation, normalizes the pre-activation values"), and its
#: introduction / "Procedures" ("typically applied immediately before the nonlinearity").
ARTICLE_PLACEMENT = SourceFact(
    "the reference article, sections 'Loss landscape smoothness' and 'Procedures'",
    {
        "placement": "post-activation",
        "normalized": "pre-activation",
        "placement_in_procedures": "pre-activation",
    },
)


# --------------------------------------------------------------------------- helpers
def _random_state(rng: np.random.Generator, m: int):
    """A downstream quadratic ``L(z) = z^T H z / 2 + b^T z``: ``H = A A^T / m + 0.1 I`` and
    ``b`` with ``A``, ``b`` standard normal (the setting of Santurkar et al. 2018, Sec. 4,
    with an arbitrary positive definite ``H``)."""
    A = rng.normal(size=(m, m))
    H = A @ A.T / m + 0.1 * np.eye(m)
    b = rng.normal(size=m)
    return H, b


def _bound41(g, xh, gamma, var, m):
    """The right-hand side of Santurkar et al. (2018), Thm 4.1, from the article's formula."""
    return gamma**2 / var * (g @ g - g.sum() ** 2 / m - (g @ xh) ** 2 / m)


def _symbolic_proven(names: tuple[str, ...]) -> bool:
    from bntheory.claims._symbolic import items

    return all(bool(it.holds) for it in items(names))


# --------------------------------------------------------------------------- land-01
def _check_thm41(quick: bool, rng: np.random.Generator) -> Measurement:
    """Santurkar et al. (2018), Thm 4.1 at eps = 0: ``||grad_y L_hat||^2`` from the library's
    backward pass over the article's right-hand side, on random states; and the SymPy proof
    of the same identity (``thm41_eps0_equality``)."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    m, ratios = 16, []
    for _ in range(20):
        sigma, gamma = 10 ** rng.uniform(-1, 1), rng.uniform(0.5, 2)
        y = rng.normal(size=(m, 1)) * sigma + rng.normal()
        g = rng.normal(size=m)
        _, cache = batch_norm_forward(y, gamma, 0.0, eps=0.0)
        dyh = batch_norm_backward(g[:, None], cache)[0][:, 0]
        rhs = _bound41(g, cache.x_hat[:, 0], gamma, float(cache.var[0]), m)
        ratios.append(float(dyh @ dyh / rhs))
    proven = _symbolic_proven(("thm41_eps0_equality",))
    return Measurement(
        f"||grad_y L_hat||^2 / (Thm 4.1 right side) in [{min(ratios):.12f}, {max(ratios):.12f}] "
        f"over 20 random states (eps = 0); SymPy equality proof: {proven}",
        {"max_ratio": max(ratios), "min_ratio": min(ratios), "symbolic_proven": proven},
        note="eps = 0 as in Santurkar et al.; the bound holds with equality",
    )


# --------------------------------------------------------------------------- DLN (land-02, land-05)
def _dln_rows(quick: bool, rng: np.random.Generator, lr: float) -> list[dict]:
    from bntheory.claims._netexp import dln_landscape

    return per_seed(
        "dln-landscape", lambda s: dln_landscape(s, lr), quick, rng, variant=f"-lr{lr:g}"
    )


def _dln_ratio(quick: bool, rng: np.random.Generator, lr: float, key: str, name: str):
    """Paired no-BN / BN ratio of ``key`` (``"range"`` or ``"beta"``) over seeds at ``lr``:
    geometric mean with its 95% interval over the seeds on which both runs completed, and
    the number of seeds on which one diverged (a diverged run has no landscape to compare)."""
    from bntheory.claims.stats import log_ratio_ci

    rows = _dln_rows(quick, rng, lr)
    ok = [r for r in rows if math.isfinite(r[f"{key}_plain"]) and math.isfinite(r[f"{key}_bn"])]
    vals: dict = {f"{name}_diverged": float(len(rows) - len(ok))}
    if len(ok) < 2:
        return vals | {name: math.nan, f"{name}_log10": math.nan}, {}
    v, iv = log_ratio_ci(name, [r[f"{key}_plain"] for r in ok], [r[f"{key}_bn"] for r in ok])
    return vals | v, iv


def _describe_ratio(vals: dict, ivs: dict, name: str) -> str:
    lo, hi = ivs.get(name, (math.nan, math.nan))
    return (
        f"{vals[name]:.3g}x (95% CI {lo:.3g}-{hi:.3g}; "
        f"{vals[name + '_diverged']:.0f} seeds with a diverged run left out)"
    )


def _check_beta_smoothness(quick: bool, rng: np.random.Generator) -> Measurement:
    """Effective beta-smoothness (Santurkar et al. 2018, Fig. 4(c)) without / with BN, paired
    by seed, in the 10-layer deep linear network at the decided learning rate (and, reported,
    at the larger one)."""
    vals, ivs = {"lr": DLN_LR, "lr_edge": DLN_LR_EDGE}, {}
    for lr in (DLN_LR, DLN_LR_EDGE):
        v, iv = _dln_ratio(quick, rng, lr, "beta", "beta_ratio" + ("" if lr == DLN_LR else "_edge"))
        vals |= v
        ivs |= iv
    return Measurement(
        "effective beta-smoothness no-BN / BN (geometric mean over seeds): "
        + "; ".join(
            f"lr {lr:g}: " + _describe_ratio(vals, ivs, name)
            for lr, name in ((DLN_LR, "beta_ratio"), (DLN_LR_EDGE, "beta_ratio_edge"))
        ),
        vals,
        ivs,
        note="10-layer deep linear network (width 16), MSE, SGD batch 32, first 10 steps; "
        "beta = max over probes w - lr s grad (s = 0.5..4.1) of ||grad change|| / distance; "
        f"decided at lr {DLN_LR:g}, where the unnormalized net trains",
    )


def _check_loss_variation(quick: bool, rng: np.random.Generator) -> Measurement:
    """Loss variation along the gradient (Santurkar et al. 2018, Fig. 4(a)) without / with
    BN, paired by seed, at the decided learning rate (and, reported, at the larger one)."""
    vals, ivs = {"lr": DLN_LR, "lr_edge": DLN_LR_EDGE}, {}
    for lr in (DLN_LR, DLN_LR_EDGE):
        v, iv = _dln_ratio(
            quick, rng, lr, "range", "variation_ratio" + ("" if lr == DLN_LR else "_edge")
        )
        vals |= v
        ivs |= iv
    return Measurement(
        "loss range along the gradient, no-BN / BN (geometric mean over seeds): "
        + "; ".join(
            f"lr {lr:g}: " + _describe_ratio(vals, ivs, name)
            for lr, name in ((DLN_LR, "variation_ratio"), (DLN_LR_EDGE, "variation_ratio_edge"))
        ),
        vals,
        ivs,
        note="Santurkar et al. (2018), Fig. 4, scaled down: 10-layer deep linear network "
        "(width 16, MSE), SGD batch 32, first 10 steps; loss range over w - lr s grad, "
        "s = 0.5..4.1, relative to the current loss, mean over the steps; decided at lr "
        f"{DLN_LR:g}, where the unnormalized net trains",
    )


# --------------------------------------------------------------------------- land-03
def _check_thm42(quick: bool, rng: np.random.Generator) -> Measurement:
    """Santurkar et al. (2018), Thm 4.2: ``v^T Hess(L_hat) v`` along ``v = grad_y L_hat``
    (central differences of the library's backward pass) vs the article's right-hand side."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    def grad_hat(y, H, b, gamma):
        z, cache = batch_norm_forward(y[:, None], gamma, 0.0, eps=0.0)
        return batch_norm_backward((H @ z[:, 0] + b)[:, None], cache)[0][:, 0]

    m, excess, dev = 8, [], []
    for _ in range(6):
        sigma, gamma = 10 ** rng.uniform(-0.5, 0.5), rng.uniform(0.5, 2)
        H, b = _random_state(rng, m)
        y = rng.normal(size=m) * sigma + rng.normal()
        z, cache = batch_norm_forward(y[:, None], gamma, 0.0, eps=0.0)
        g = H @ z[:, 0] + b
        v = batch_norm_backward(g[:, None], cache)[0][:, 0]
        h = 1e-5 * np.linalg.norm(y) / np.linalg.norm(v)
        Hv = (grad_hat(y + h * v, H, b, gamma) - grad_hat(y - h * v, H, b, gamma)) / (2 * h)
        lhs = float(v @ Hv)
        s2, yh = float(cache.var[0]), cache.x_hat[:, 0]
        rhs = gamma**2 / s2 * (v @ H @ v) - gamma / (m * s2) * (g @ yh) * (v @ v)
        scale = abs(rhs) + gamma**2 / s2 * abs(v @ H @ v)
        excess.append((lhs - rhs) / scale)
        dev.append(abs(lhs - rhs) / scale)
    return Measurement(
        f"v^T Hess(L_hat) v minus Thm 4.2 right side, relative: max {max(excess):.1e} "
        f"(|deviation| max {max(dev):.1e}) over 6 random states",
        {"max_rel_excess": float(max(excess)), "max_rel_dev": float(max(dev))},
        note="Hessian along the gradient by central differences (relative error ~h^2 ~ 1e-10)",
    )


# --------------------------------------------------------------------------- land-04
def _kappa_on_complement(p, y) -> float:
    """kappa of ``Hess L_hat`` (dense, from exact HVPs) restricted to the complement of
    ``span{1, y_hat}``; ``inf`` when it is not positive definite there."""
    from bntheory.measures import condition_number, dense_matrix, hessian_operator

    Hh = dense_matrix(hessian_operator(p, y))
    B = p.complement_basis(y)
    try:
        return condition_number(B.T @ Hh @ B)
    except ValueError:
        return math.inf


def _check_condition(quick: bool, rng: np.random.Generator) -> Measurement:
    """kappa of the BN-composed Hessian (on the complement of ``{1, y_hat}``) vs kappa(H) at
    the two pre-registered kinds of points: global minima of ``L_hat`` and random points."""
    from bntheory.claims.stats import proportion_ci
    from bntheory.measures import condition_number
    from bntheory.nets.bnquad import BNQuadratic

    m = 8
    red_min = red_rand = pd_rand = 0
    ratios_min, mus = [], []
    for _ in range(N_STATES):
        H, b = _random_state(rng, m)
        p = BNQuadratic(H, b, 1.0)
        kH = condition_number(H)
        ys, mu = p.global_minimizer()
        mus.append(mu)
        r = _kappa_on_complement(p, ys) / kH
        ratios_min.append(r)
        red_min += bool(r <= 1.0)
        y = rng.normal(size=m) + rng.normal()
        k = _kappa_on_complement(p, y)
        pd_rand += bool(math.isfinite(k))
        red_rand += bool(k <= kH)
    vals, ivs = proportion_ci("fraction_reduced_minima", red_min, N_STATES)
    v2, i2 = proportion_ci("fraction_reduced_random", red_rand, N_STATES)
    v3, i3 = proportion_ci("fraction_pd_random", pd_rand, N_STATES)
    vals |= v2 | v3
    ivs |= i2 | i3
    vals["median_kappa_ratio_minima"] = float(np.median(ratios_min))
    vals["max_kappa_ratio_minima"] = float(np.max(ratios_min))
    vals["fraction_positive_multiplier"] = float(np.mean(np.array(mus) > 0))
    return Measurement(
        f"kappa(Hess L_hat on complement of {{1, y_hat}}) <= kappa(H): at global minima in "
        f"{red_min}/{N_STATES}, at random points in {red_rand}/{N_STATES} (positive definite "
        f"there in {pd_rand}/{N_STATES})",
        vals,
        ivs,
        note="m = 8, gamma = 1, H = A A^T/m + 0.1 I, b ~ N(0, I); Hessians from exact HVPs "
        "(bntheory.nets.bnquad) via bntheory.measures",
    )


# --------------------------------------------------------------------------- land-06
def _check_lr_10x(quick: bool, rng: np.random.Generator) -> Measurement:
    """Largest trainable learning rate with / without BN (Bjorck et al. 2018 setting, shared
    with the ICS section's ``lr-sweep``)."""
    from bntheory.claims._netexp import lr_sweep, per_seed
    from bntheory.claims.stats import log_ratio_ci

    rows = per_seed("lr-sweep", lr_sweep, quick, rng)
    plain_ok = [r["plain"] > 0 for r in rows]
    vals: dict = {"seeds_plain_never_trains": float(len(rows) - sum(plain_ok))}
    ivs: dict = {}
    if all(plain_ok):
        v, iv = log_ratio_ci("lr_ratio", [r["bn"] for r in rows], [r["plain"] for r in rows])
        vals |= v
        ivs |= iv
    else:
        vals |= {"lr_ratio": math.nan, "lr_ratio_log10": math.nan}
    lo, hi = ivs.get("lr_ratio", (math.nan, math.nan))
    return Measurement(
        f"largest trainable SGD learning rate BN / no BN: {vals['lr_ratio']:.3g}x "
        f"(95% CI {lo:.3g}-{hi:.3g}, {len(rows)} seeds)",
        vals,
        ivs,
        note="8 hidden ReLU layers (He init), cross-entropy, SGD batch 64, 100 steps, lr grid "
        "1e-2..31.6 in half decades; 'trains' = no divergence and loss halved",
    )


# --------------------------------------------------------------------------- land-07
def _check_thm41_eps(quick: bool, rng: np.random.Generator) -> Measurement:
    """Thm 4.1 with the eps > 0 of the forward pass: the literal form (sigma^2 the batch
    variance, y_hat = (y - mu)/sigma) and the corrected form (sigma^2 + eps, the BN output),
    on random upstream gradients and on ``g = x - mu``; plus the SymPy proofs."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    m, eps, gamma = 16, 1e-3, 1.0
    exc_lit, exc_cor, pred = [], [], []
    for k in range(40):
        x = rng.normal(size=m) * 10 ** rng.uniform(-1.5, 0.0) + rng.normal()
        _, cache = batch_norm_forward(x[:, None], gamma, 0.0, eps=eps)
        var = float(np.var(x))
        g = x - x.mean() if k == 0 else rng.normal(size=m)
        dx = batch_norm_backward(g[:, None], cache)[0][:, 0]
        lhs = float(dx @ dx)
        lit = _bound41(g, (x - x.mean()) / math.sqrt(var), gamma, var, m)
        cor = _bound41(g, cache.x_hat[:, 0], gamma, var + eps, m)
        scale = gamma**2 / var * float(g @ g)
        exc_lit.append((lhs - lit) / scale)
        exc_cor.append((lhs - cor) / scale)
        if k == 0:
            # predicted violation at g = x - mu: gamma^2 m sigma^2 eps^2 / (sigma^2+eps)^3
            pred.append(gamma**2 * m * var * eps**2 / (var + eps) ** 3 / scale)
    proven = _symbolic_proven(("thm41_eps_gap", "thm41_eps_sigma_xhat"))
    cex = _symbolic_proven(("thm41_eps_literal_fails",))
    return Measurement(
        f"eps = {eps:g}: literal bound exceeded by up to {max(exc_lit):.2e} (relative), at "
        f"g = x - mu by {exc_lit[0]:.2e} (predicted O(eps^2): {pred[0]:.2e}); corrected bound "
        f"exceeded by up to {max(exc_cor):.1e}; SymPy: corrected forms proven {proven}, "
        f"literal counterexample {cex}",
        {
            "max_excess_literal": float(max(exc_lit)),
            "max_excess_literal_random_g": float(max(exc_lit[1:])),
            "excess_literal_at_x_minus_mu": float(exc_lit[0]),
            "predicted_excess_at_x_minus_mu": float(pred[0]),
            "max_excess_corrected": float(max(exc_cor)),
            "symbolic_corrected_proven": proven,
            "symbolic_literal_counterexample": cex,
            "eps": eps,
        },
        note="relative to gamma^2 ||g||^2 / sigma^2; 39 random g and g = x - mu",
    )


# --------------------------------------------------------------------------- land-08
def _check_placement(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's placement sentence against Ioffe & Szegedy (2015), Sec. 3.2."""
    a, s = ARTICLE_PLACEMENT.values, IOFFE_PLACEMENT.values
    return Measurement.from_source(
        IOFFE_PLACEMENT,
        f"article (landscape section): applied {a['placement']}, normalizes {a['normalized']} "
        f"values; article (Procedures): {a['placement_in_procedures']}; Ioffe & Szegedy: "
        f"applied {s['placement']}, normalizing x = Wu + b",
        article_placement=a["placement"],
        article_normalized=a["normalized"],
        article_placement_in_procedures=a["placement_in_procedures"],
    )


# --------------------------------------------------------------------------- claims
_FD = "central differences of the backward pass: relative error ~h^2 ~ 1e-10; 1e-6 is generous"

CLAIMS = [
    Claim(
        "land-01",
        "loss-landscape",
        "||grad_{y_j} L_hat||^2 <= gamma^2/sigma_j^2 (||grad L||^2 - 1/m <1, grad L>^2 - 1/m <grad L, y_hat_j>^2)",
        "Santurkar et al. (2018), Thm 4.1",
        "numerical",
        "gradient-norm bound",
        _check_thm41,
        literal=Reading(
            "the squared gradient norm through BN never exceeds the article's right side (eps = 0), "
            "and SymPy proves the identity behind it",
            (P("max_ratio", "<=", 1.0, tol=1e-9), P("symbolic_proven", "is", True)),
            "1e-9: float64 round-off of two O(m) sums over 16 entries with sigma in [0.1, 10] "
            "(relative error ~1e-14, kept generous)",
        ),
        explain=(
            "Over random states (eps = 0) the ratio of the squared gradient norm to the "
            "right-hand side of Santurkar et al.'s gradient bound lies in [{min_ratio:.12f}, {max_ratio:.12f}]: the bound holds "
            "with equality, as the SymPy proof shows."
        ),
    ),
    Claim(
        "land-02",
        "loss-landscape",
        "reducing the Lipschitz constant of the gradient, ensuring that ||grad L(theta) - grad L(theta')|| <= beta ||theta - theta'||",
        "Santurkar et al. (2018), Sec. 3.2, Fig. 4(c)",
        "experiment",
        "BN reduces beta-smoothness",
        _check_beta_smoothness,
        literal=Reading(
            "BN lowers the effective beta-smoothness (gradient-Lipschitz constant along the "
            "gradient) of the training loss",
            (P("beta_ratio", ">=", 1.0),),
            "'reduces' = no-BN/BN ratio above 1; decided on the 95% t-interval of the mean log "
            "ratio over seeds (paired by seed), no extra slack",
        ),
        explain=(
            "Effective beta-smoothness without BN divided by with BN, geometric mean over "
            "seeds: {beta_ratio:.3g} at lr {lr:g} (10-layer deep linear network, first 10 SGD "
            "steps); at lr {lr_edge:g} {beta_ratio_edge:.3g} on the seeds where neither run "
            "diverged ({beta_ratio_edge_diverged:.0f} left out)."
        ),
    ),
    Claim(
        "land-03",
        "loss-landscape",
        "a similar bound applies to the Hessian quadratic form",
        "Santurkar et al. (2018), Thm 4.2",
        "numerical",
        "quadratic-form bound",
        _check_thm42,
        literal=Reading(
            "along the gradient, the quadratic form of the BN-composed Hessian does not exceed "
            "Theorem 4.2's right-hand side",
            (P("max_rel_excess", "<=", 0.0, tol=1e-6),),
            _FD,
        ),
        explain=(
            "Along the gradient the Hessian quadratic form exceeds the right-hand side of "
            "Santurkar et al.'s quadratic-form bound by at most {max_rel_excess:.1e} (relative; the finite-difference error), "
            "and differs from it by at most {max_rel_dev:.1e}: equality at eps = 0."
        ),
    ),
    Claim(
        "land-04",
        "loss-landscape",
        "This rescaling reduces the condition number of the Hessian",
        "Santurkar et al. (2018), Sec. 4 (bounds on the gradient and the quadratic form only)",
        "numerical",
        "kappa(Hessian) reduced",
        _check_condition,
        literal=Reading(
            "the BN-composed Hessian (on the complement of its invariant directions 1 and y_hat) "
            "has a smaller condition number than H, at minima and at arbitrary points alike",
            (
                P("fraction_reduced_minima", ">=", 0.95),
                P("fraction_reduced_random", ">=", 0.95),
            ),
            "'reduces' read as a general statement: in at least 95 % of draws, decided on the "
            "Clopper-Pearson 95 % interval over the pre-registered number of draws",
        ),
        corrected=Reading(
            "at minima of L_hat (where the Hessian is positive semi-definite and kappa governs "
            "local convergence) the condition number on the complement is at most kappa(H)",
            (P("fraction_reduced_minima", ">=", 0.95),),
            "as the literal reading, restricted to the minima",
            source=(
                "Cauchy interlacing: at a minimum the Hessian on the complement is "
                "gamma^2/sigma^2 (B^T H B - mu I) with the sphere's Lagrange multiplier mu "
                "(proof of Santurkar et al. 2018, Thm 4.2)"
            ),
        ),
        explain=(
            "At global minima of the BN-composed quadratic the condition number on the "
            "complement of {{1, y_hat}} is at most kappa(H) in a fraction "
            "{fraction_reduced_minima:.3f} of draws (median ratio "
            "{median_kappa_ratio_minima:.3f}; by interlacing it can only grow where the sphere's "
            "Lagrange multiplier is positive, fraction {fraction_positive_multiplier:.3f}); at "
            "random points the "
            "Hessian there is positive definite in only {fraction_pd_random:.3f} and kappa is "
            "reduced in {fraction_reduced_random:.3f}. Santurkar et al. bound the gradient and "
            "the quadratic form along the gradient, not the condition number."
        ),
    ),
    Claim(
        "land-05",
        "loss-landscape",
        "reducing loss variation by up to two orders of magnitude early in training",
        "Santurkar et al. (2018), Fig. 4",
        "experiment",
        "up to ~100x smaller loss variation",
        _check_loss_variation,
        literal=Reading(
            "early in training, BN reduces the loss variation along the gradient by about two "
            "orders of magnitude",
            (P("variation_ratio_log10", "in", (1.5, 2.5)),),
            "'two orders of magnitude' = 100x to within half a decade (10^1.5-10^2.5, the "
            "rounding to a power of ten); 95% t-interval of the mean log10 ratio over seeds",
        ),
        explain=(
            "Loss range along the gradient without BN over with BN, geometric mean over seeds: "
            "{variation_ratio:.3g}x at lr {lr:g} (10-layer deep linear network, first 10 SGD "
            "steps); at lr {lr_edge:g}, near the unnormalized net's stability edge, "
            "{variation_ratio_edge:.3g}x on the seeds where neither run diverged "
            "({variation_ratio_edge_diverged:.0f} left out)."
        ),
    ),
    Claim(
        "land-06",
        "loss-landscape",
        "higher learning rates - up to 10 times larger - without divergence",
        "Santurkar et al. (2018), Fig. 1",
        "experiment",
        "up to 10x larger learning rate",
        _check_lr_10x,
        literal=Reading(
            "the largest learning rate at which the BN network trains is about 10x that of the "
            "unnormalized network",
            (P("lr_ratio_log10", "in", (0.5, 1.5)),),
            "10x to within half a decade (the grid's own spacing); 95% t-interval of the mean "
            "log10 ratio over seeds",
        ),
        explain=(
            "The largest trainable SGD learning rate with BN is {lr_ratio:.3g}x that without "
            "(geometric mean over seeds; 8-layer ReLU net, half-decade grid)."
        ),
    ),
    Claim(
        "land-07",
        "loss-landscape",
        "||grad_{y_j} L_hat||^2 <= gamma^2/sigma_j^2 (...) [with the eps > 0 of the forward pass]",
        "Santurkar et al. (2018), Thm 4.1 (stated for eps = 0)",
        "numerical",
        "bound with sigma_j (eps > 0)",
        _check_thm41_eps,
        literal=Reading(
            "with the article's eps > 0 in the forward pass, the bound holds read literally "
            "(sigma_j^2 the batch variance, y_hat = (y - mu)/sigma_j) for every upstream gradient",
            (
                P("max_excess_literal", "<=", 0.0, tol=1e-12),
                P("symbolic_literal_counterexample", "is", False),
            ),
            "1e-12: float64 round-off of the relative excess (sums of 16 terms)",
        ),
        corrected=Reading(
            "with sigma_j^2 read as sigma_j^2 + eps and y_hat as the BN output, the bound holds",
            (
                P("max_excess_corrected", "<=", 0.0, tol=1e-12),
                P("symbolic_corrected_proven", "is", True),
            ),
            "1e-12: float64 round-off of the relative excess",
            source="Santurkar et al. (2018), Thm 4.1 (eps = 0) with sigma -> sqrt(sigma^2 + eps)",
        ),
        explain=(
            "With eps = {eps:g} the literal reading fails only for upstream gradients whose "
            "centred part lies within an angle of order sqrt(eps)/sigma of x - mu, by at most "
            "gamma^2 eps^2 <g, u>^2 / (sigma^2 + eps)^3 (u the unit vector along x - mu), i.e. "
            "O(eps^2): {excess_literal_at_x_minus_mu:.2e} at g = x - mu (relative; predicted "
            "{predicted_excess_at_x_minus_mu:.2e}), while the largest excess over random "
            "gradients is {max_excess_literal_random_g:.1e}. Read with sigma^2 + eps and the BN "
            "output it holds (excess at most {max_excess_corrected:.1e}; SymPy proofs)."
        ),
    ),
    Claim(
        "land-08",
        "loss-landscape",
        "Batch normalization, applied post-activation, normalizes the pre-activation values",
        "Ioffe & Szegedy (2015), Sec. 3.2; the reference article's introduction and Procedures",
        "literature",
        "BN applied post-activation",
        _check_placement,
        literal=Reading(
            "BN is applied after the nonlinearity and normalizes the pre-activation values",
            (P("placement", "is", "post-activation"), P("normalized", "is", "pre-activation")),
            "categorical facts of Ioffe & Szegedy's Sec. 3.2 (exact match)",
        ),
        corrected=Reading(
            "BN is applied immediately before the nonlinearity, normalizing the pre-activation "
            "x = Wu + b (as the article itself says in its introduction and Procedures)",
            (P("placement", "is", "pre-activation"), P("normalized", "is", "pre-activation")),
            "categorical facts (exact match)",
            source="Ioffe & Szegedy (2015), Sec. 3.2",
        ),
        evidence="source",
        explain=(
            "The landscape section says BN is applied {article_placement} yet normalizes the "
            "{article_normalized} values; its Procedures section and Ioffe & Szegedy place it "
            "{placement} (right before the nonlinearity), normalizing x = Wu + b: the sentence "
            "contradicts itself and the article's own procedure."
        ),
    ),
]

#: Where each claim is implemented and tested, and its figure (for paper_notes.md).
PLACES = {
    "land-01": (
        "bn.batch_norm_backward; symbolic (thm41_eps0_equality)",
        "tests/test_bn.py, tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "land-02": (
        "claims._netexp.dln_landscape (nets.measurements.santurkar_landscape)",
        "tests/nets/test_measurements.py",
        "landscape",
    ),
    "land-03": ("bn.batch_norm_backward (finite-difference HVP)", "tests/test_bn.py", "-"),
    "land-04": (
        "nets.bnquad.BNQuadratic; measures.dense_matrix, condition_number",
        "tests/nets/test_bnquad.py",
        "-",
    ),
    "land-05": (
        "claims._netexp.dln_landscape (nets.measurements.santurkar_landscape)",
        "tests/nets/test_measurements.py",
        "landscape",
    ),
    "land-06": (
        "claims._netexp.lr_sweep (nets.measurements.bjorck_lr_sweep)",
        "tests/nets/test_measurements.py",
        "-",
    ),
    "land-07": (
        "bn.batch_norm_forward/backward; symbolic (thm41_eps_gap, thm41_eps_sigma_xhat, thm41_eps_literal_fails)",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "land-08": ("claims.landscape (source facts)", "tests/claims/test_landscape.py", "-"),
}

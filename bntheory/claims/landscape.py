"""Loss-landscape smoothness (Santurkar, Tsipras, Ilyas & Madry 2018, Thms 4.1, 4.2, Fig. 4)."""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import (
    Claim,
    Outcome,
    Verdict,
    decide_at_most,
    decide_close,
)


def _state(rng, m, sigma, gamma):
    from bntheory.bn import batch_norm_forward

    y = rng.normal(size=(m, 1)) * sigma + rng.normal()
    A = rng.normal(size=(m, m))
    H = A @ A.T / m + 0.1 * np.eye(m)  # Hessian of the downstream quadratic loss L(z)
    b = rng.normal(size=m)
    z, cache = batch_norm_forward(y, gamma, 0.0, eps=0.0)
    g = H @ z[:, 0] + b  # dL/dz
    return y, H, b, g, cache


def _grad_hat(y, H, b, gamma):
    """Gradient of L_hat(y) = L(BN(y)) with L(z) = z^T H z / 2 + b^T z."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    z, cache = batch_norm_forward(y[:, None], gamma, 0.0, eps=0.0)
    return batch_norm_backward((H @ z[:, 0] + b)[:, None], cache)[0][:, 0]


def _check_thm41(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward

    m, ratios, red = 16, [], []
    for _ in range(20):
        sigma, gamma = 10 ** rng.uniform(-1, 1), rng.uniform(0.5, 2)
        _, _, _, g, cache = _state(rng, m, sigma, gamma)
        dyh = batch_norm_backward(g[:, None], cache)[0][:, 0]
        s2, yh = float(cache.var[0]), cache.x_hat[:, 0]
        rhs = gamma**2 / s2 * (g @ g - g.sum() ** 2 / m - (g @ yh) ** 2 / m)
        ratios.append(float(dyh @ dyh / rhs))
        red.append(float(np.linalg.norm(dyh) / np.linalg.norm(g)))
    v = decide_at_most(max(ratios), 1.0, rtol=1e-9)
    return Outcome(
        v,
        f"||grad_y L_hat||^2 / bound in [{min(ratios):.12f}, {max(ratios):.12f}] (equality, eps=0)",
        {"max_ratio": max(ratios), "min_ratio": min(ratios)},
        "the bound of Theorem 4.1 (with 1/m on both terms) holds with equality for eps = 0",
    )


def _check_reduction(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward

    m = 16
    rows = []
    for _ in range(40):
        sigma, gamma = 10 ** rng.uniform(-1, 1), 1.0
        _, _, _, g, cache = _state(rng, m, sigma, gamma)
        dyh = batch_norm_backward(g[:, None], cache)[0][:, 0]
        rows.append((gamma / np.sqrt(cache.var[0]), np.linalg.norm(dyh) / np.linalg.norm(g)))
    rows = np.array(rows)
    frac_reduced = float(np.mean(rows[:, 1] <= 1.0))
    small = rows[rows[:, 0] <= 1.0]
    v_small = decide_at_most(float(small[:, 1].max()) if len(small) else np.nan, 1.0)
    v = (
        v_small
        if frac_reduced == 1.0
        else (Verdict.HOLDS_WITH_CORRECTION if v_small is Verdict.HOLDS else Verdict.REFUTED)
    )
    return Outcome(
        v,
        f"||grad_y L_hat|| <= ||grad_z L|| in {100 * frac_reduced:.0f}% of states; always when gamma/sigma <= 1",
        {
            "fraction_reduced": frac_reduced,
            "max_ratio_gamma_over_sigma_le_1": float(small[:, 1].max()) if len(small) else None,
            "max_ratio_overall": float(rows[:, 1].max()),
        },
        "correction: the gradient is reduced only up to the factor gamma/sigma (Thm 4.1); with "
        "gamma > sigma the BN network's gradient can be LARGER",
    )


def _check_thm42(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward

    m, ratios = 8, []
    for _ in range(6):
        sigma, gamma = 10 ** rng.uniform(-0.5, 0.5), rng.uniform(0.5, 2)
        y, H, b, g, cache = _state(rng, m, sigma, gamma)
        y = y[:, 0]
        v = batch_norm_backward(g[:, None], cache)[0][:, 0]  # grad_y L_hat
        h = 1e-5 * np.linalg.norm(y) / np.linalg.norm(v)
        Hv = (_grad_hat(y + h * v, H, b, gamma) - _grad_hat(y - h * v, H, b, gamma)) / (2 * h)
        lhs = float(v @ Hv)
        s2, yh = float(cache.var[0]), cache.x_hat[:, 0]
        rhs = gamma**2 / s2 * (v @ H @ v) - gamma / (m * s2) * (g @ yh) * (v @ v)
        ratios.append(abs(lhs - rhs) / (abs(rhs) + gamma**2 / s2 * abs(v @ H @ v)))
    dev = float(max(ratios))
    # central differences: relative error ~ h^2 ~ 1e-10, so 1e-6 is generous
    vv = decide_at_most(dev, 1e-6)
    return Outcome(
        vv,
        f"g^T Hess(L_hat) g vs Thm 4.2 right-hand side: max rel. deviation {dev:.1e} (equality)",
        {"max_rel_dev": dev},
        "holds with equality on the gradient direction (derivation: BN's second derivative along "
        "v orthogonal to 1 and y_hat is -gamma y_hat ||v||^2/(m sigma^2))",
    )


def _check_condition(quick: bool, rng: np.random.Generator) -> Outcome:
    """kappa of the BN-composed Hessian on the complement of {1, y_hat} vs kappa(H)."""
    from bntheory.bn import batch_norm_backward

    m, out = 8, []
    for _ in range(10):
        y, H, b, g, cache = _state(rng, m, 1.0, 1.0)
        y = y[:, 0]
        h = 1e-5
        cols = [
            (_grad_hat(y + h * e, H, b, 1.0) - _grad_hat(y - h * e, H, b, 1.0)) / (2 * h)
            for e in np.eye(m)
        ]
        Hh = np.array(cols)
        Hh = (Hh + Hh.T) / 2
        yh = cache.x_hat[:, 0]
        Q, _ = np.linalg.qr(np.column_stack([np.ones(m), yh, np.eye(m)]))
        B = Q[:, 2:]  # orthonormal basis of the complement of span{1, y_hat}
        ev = np.linalg.eigvalsh(B.T @ Hh @ B)
        evH = np.linalg.eigvalsh(H)
        full = np.linalg.eigvalsh(Hh)
        kap = ev.max() / ev.min() if ev.min() > 0 else np.inf
        out.append((kap / (evH.max() / evH.min()), np.min(np.abs(full))))
        _ = batch_norm_backward  # imported for symmetry with the other checks
    out = np.array(out)
    frac = float(np.mean(out[:, 0] <= 1.0))
    v = Verdict.HOLDS_WITH_CORRECTION if frac == 1.0 else Verdict.REFUTED
    return Outcome(
        v,
        f"kappa(BN Hessian on complement of {{1, y_hat}}) / kappa(H) <= 1 in {100 * frac:.0f}% of states "
        f"(max {np.max(out[:, 0]):.2f}); full Hessian singular (|lambda|_min {np.max(out[:, 1]):.0e})",
        {
            "fraction_reduced": frac,
            "max_kappa_ratio": float(np.max(out[:, 0])),
            "max_abs_smallest_eig": float(np.max(out[:, 1])),
        },
        "correction: Santurkar et al. bound the gradient norm and the quadratic form along the "
        "gradient, not the condition number; the full BN Hessian is singular (directions 1 and "
        "y_hat), and on the complement its spectrum is gamma^2/sigma^2 P H P shifted by "
        "-gamma <g, y_hat>/(m sigma^2), which can raise or lower kappa",
    )


def _check_loss_variation(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.claims._netexp import loss_variation

    plain, bn = loss_variation(False, quick, rng), loss_variation(True, quick, rng)
    ratio = plain["loss_range_rel"] / bn["loss_range_rel"]
    v = decide_close(float(np.log10(ratio)), 2.0, rtol=0.0, atol=1.0)  # "up to two orders"
    return Outcome(
        v,
        f"deep linear net, loss range along the gradient: no-BN/BN = {ratio:.2f}; beta-smoothness {plain['beta_smoothness']:.3g} vs {bn['beta_smoothness']:.3g}",
        {
            "variation_ratio": ratio,
            "beta_plain": plain["beta_smoothness"],
            "beta_bn": bn["beta_smoothness"],
        },
        "substitute of Santurkar Fig. 4 (VGG / 25-layer DLN, not 'loss contours'), small deep "
        "linear net, step multipliers 0.5-4 x lr, first steps of training",
    )


def _check_lr_10x(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.claims._netexp import max_stable_lr

    lr_plain, lr_bn = max_stable_lr(False, quick, rng), max_stable_lr(True, quick, rng)
    ratio = lr_bn / lr_plain if lr_plain > 0 else float("inf")
    v = decide_close(float(np.log10(ratio)), 1.0, rtol=0.0, atol=0.5)
    return Outcome(
        v,
        f"largest stable learning rate, BN/no-BN = {ratio:.3g} ({lr_bn:.3g} vs {lr_plain:.3g})",
        {"ratio": ratio, "lr_bn": lr_bn, "lr_plain": lr_plain},
        "substitute: 4-layer tanh MLP, full-batch GD, teacher-student regression",
    )


CLAIMS = [
    Claim(
        "land-01",
        "loss-landscape",
        "||grad_{y_j} L_hat||^2 <= gamma^2/sigma_j^2 (||grad L||^2 - 1/m <1, grad L>^2 - 1/m <grad L, y_hat_j>^2)",
        "Santurkar et al. (2018), Thm 4.1",
        "numerical",
        "gradient-norm bound",
        _check_thm41,
    ),
    Claim(
        "land-02",
        "loss-landscape",
        "reducing the Lipschitz constant of the gradient ... bounds how rapidly the gradient changes",
        "Santurkar et al. (2018), Thm 4.1",
        "numerical",
        "BN reduces gradient norms",
        _check_reduction,
    ),
    Claim(
        "land-03",
        "loss-landscape",
        "a similar bound applies to the Hessian quadratic form",
        "Santurkar et al. (2018), Thm 4.2",
        "numerical",
        "quadratic-form bound",
        _check_thm42,
    ),
    Claim(
        "land-04",
        "loss-landscape",
        "This rescaling reduces the condition number of the Hessian",
        "Santurkar et al. (2018), Sec. 4",
        "numerical",
        "kappa(Hessian) reduced",
        _check_condition,
    ),
    Claim(
        "land-05",
        "loss-landscape",
        "reducing loss variation by up to two orders of magnitude early in training",
        "Santurkar et al. (2018), Fig. 4",
        "experiment",
        "~100x smaller loss variation",
        _check_loss_variation,
    ),
    Claim(
        "land-06",
        "loss-landscape",
        "higher learning rates - up to 10 times larger - without divergence",
        "Santurkar et al. (2018), Fig. 1",
        "experiment",
        "10x larger learning rate",
        _check_lr_10x,
    ),
]

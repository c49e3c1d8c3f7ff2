"""Gradient-flow claims: deep networks at initialization (bntheory.nets, bntheory.bn).

Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), Theorem 8, give the per-layer
growth factor of the SQUARED gradient norm of a deep ReLU network with BN at init; it
exceeds 1 for every batch size (gradient explosion), which contradicts the article's
"singular values clustered around 1".
"""

from __future__ import annotations

import math

import numpy as np

from bntheory.claims.core import (
    Claim,
    Outcome,
    Verdict,
    decide_at_least,
    decide_at_most,
    decide_close,
    not_testable,
    worst,
)


def yang_relu_rate(B: int) -> float:
    r"""Per-layer growth of the squared gradient norm, ReLU + BN at init, batch size ``B``.

    Yang et al. (2019), Theorem 8 with :math:`\alpha = 1`:
    :math:`\lambda = \frac{B-2+\mathcal J'(c)+\mathcal J(c)}{(B-3)(1-\mathcal J(c))}`,
    :math:`c=-1/(B-1)`, :math:`\mathcal J(c)=\frac1\pi(\sqrt{1-c^2}+(\pi-\arccos c)c)`,
    :math:`\mathcal J'(c)=(\pi-\arccos c)/\pi`. Tends to :math:`\pi/(\pi-1)` as B grows.
    """
    if B < 4:
        raise ValueError(f"B must be >= 4, got {B}")
    c = -1.0 / (B - 1)
    J = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi
    Jp = (math.pi - math.acos(c)) / math.pi
    return (B - 2 + Jp + J) / ((B - 3) * (1 - J))


def _layer_sq_norms(width, depth, batch, activation, bn, sigma_w2, rng, residual=False):
    from bntheory.nets import MLP

    sizes = [width] * (depth + 1) + [width]
    net = MLP(
        sizes,
        activation,
        bn=bn,
        eps=0.0 if bn else 1e-5,
        sigma_w2=sigma_w2,
        train_affine=False,
        bias=False,
        residual=residual,
        loss="linear",
        rng=rng,
    )
    X = rng.normal(size=(batch, width))
    Y = rng.normal(size=(batch, width))
    tr = net.trace(X, Y)
    g = np.array([float(np.sum(tr.g_a[k] ** 2)) for k in range(depth)])
    act = np.array([float(np.sqrt(np.mean(tr.a[k] ** 2))) for k in range(depth)])
    return g, act


def _rate(g: np.ndarray, lo: int, hi: int) -> float:
    """Geometric-mean growth of g backward (from layer k+1 to k) over layers lo..hi."""
    r = g[lo:hi] / g[lo + 1 : hi + 1]
    return float(np.exp(np.mean(np.log(r))))


def _check_singular_values(quick: bool, rng: np.random.Generator) -> Outcome:
    width, depth, batch = (192, 25, 32) if quick else (500, 50, 32)
    nets = 2 if quick else 5
    rates = [
        _rate(_layer_sq_norms(width, depth, batch, "relu", True, 1.0, rng)[0], 5, depth - 5)
        for _ in range(nets)
    ]
    measured = float(np.mean(rates))
    theory = yang_relu_rate(batch)
    v_theory = decide_close(measured, theory, rtol=0.05)  # finite width bias ~ 1/N (THEORY Sec. 7)
    v_article = decide_at_most(measured, 1.1)  # "clustered around 1": growth close to 1 per layer
    v = v_article if v_theory is not Verdict.REFUTED else Verdict.INCONCLUSIVE
    return Outcome(
        v,
        f"ReLU+BN at init, B={batch}, width {width}: squared-gradient growth {measured:.3f}/layer "
        f"(Yang Thm 8: {theory:.3f}); x{measured ** (depth - 10):.1e} over {depth - 10} layers",
        {
            "rate_measured": measured,
            "rate_yang_thm8": theory,
            "batch": float(batch),
            "width": float(width),
        },
        "Yang et al. (2019): BN causes gradient explosion at initialization (rate > 1 for every "
        "batch size, pi/(pi-1) ~ 1.47 for large B); the layer Jacobians are not near-isometries",
    )


def _check_exponential(quick: bool, rng: np.random.Generator) -> Outcome:
    width, depth, batch = (128, 30, 64) if quick else (512, 60, 128)
    out = {}
    verdicts = []
    for s2 in (1.0, 3.0):
        g, _ = _layer_sq_norms(width, depth, batch, "relu", False, s2, rng)
        slope = float(np.polyfit(np.arange(depth), 0.5 * np.log(g), 1)[0])  # log-norm per layer
        pred = -0.5 * math.log(s2 / 2.0)  # backward towards the input: norm x sqrt(s2/2) per layer
        out[f"slope_sigma_w2_{s2:g}"] = slope
        out[f"predicted_sigma_w2_{s2:g}"] = pred
        verdicts.append(decide_close(slope, pred, rtol=0.0, atol=0.05))
    return Outcome(
        worst(*verdicts),
        f"no BN, ReLU: d log||grad|| / d layer = {out['slope_sigma_w2_1']:.3f} (sigma_w^2=1, vanishing towards input), "
        f"{out['slope_sigma_w2_3']:.3f} (sigma_w^2=3, exploding); mean-field prediction -+0.5 log(sigma_w^2/2)",
        out,
        "exp(-c depth) with c = 0.5 log(2/sigma_w^2); c = 0 at He initialization",
    )


def _check_gamma_scale(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    x = rng.normal(size=(32, 4)) * 3
    dy = rng.normal(size=(32, 4))
    norms = []
    for g in (0.5, 1.0, 2.0):
        _, cache = batch_norm_forward(x, g, 0.0)
        norms.append(float(np.linalg.norm(batch_norm_backward(dy, cache)[0])))
    r1, r2 = norms[2] / norms[1], norms[0] / norms[1]
    v = worst(decide_close(r1, 2.0, rtol=1e-12), decide_close(r2, 0.5, rtol=1e-12))
    return Outcome(
        v,
        f"||dL/dx|| scales with gamma: x{r1:.6f} at gamma=2, x{r2:.6f} at gamma=0.5",
        {"ratio_gamma2": r1, "ratio_gamma0.5": r2},
    )


def _check_divide_sigma(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    m = 32
    x = rng.normal(size=(m, 1)) * 4 + 2
    dy = rng.normal(size=(m, 1))
    gamma = 1.5
    _, cache = batch_norm_forward(x, gamma, 0.0, eps=0.0)
    dx = batch_norm_backward(dy, cache)[0][:, 0]
    sigma = float(np.sqrt(cache.var[0]))
    naive = gamma / sigma * dy[:, 0]  # the article's dL/dy * dy/dx_hat / sigma
    xh = cache.x_hat[:, 0]
    P = np.eye(m) - np.ones((m, m)) / m - np.outer(xh, xh) / m
    exact = gamma / sigma * P @ dy[:, 0]
    err_exact = float(np.linalg.norm(dx - exact) / np.linalg.norm(exact))
    ratio = float(np.linalg.norm(dx) / np.linalg.norm(naive))
    _, cache2 = batch_norm_forward(10 * x, gamma, 0.0, eps=0.0)
    scale = float(np.linalg.norm(batch_norm_backward(dy, cache2)[0]) / np.linalg.norm(dx))
    v = worst(decide_at_most(err_exact, 1e-12), decide_close(scale, 0.1, rtol=1e-9))
    if v is Verdict.HOLDS and ratio < 1 - 1e-6:
        v = Verdict.HOLDS_WITH_CORRECTION
    return Outcome(
        v,
        f"dL/dx = (gamma/sigma) P dL/dy to {err_exact:.0e}; ||dL/dx|| / ||gamma dL/dy / sigma|| = {ratio:.3f}; x10 input -> x{scale:.3f} gradient",
        {"rel_err_projection_form": err_exact, "norm_ratio_vs_naive": ratio, "scale_x10": scale},
        "correction: exactly dL/dx = (gamma/sigma) (I - 11^T/m - x_hat x_hat^T/m) dL/dy; the "
        "projection removes the components along 1 and x_hat (Santurkar et al. 2018, Fact C.1)",
    )


def _check_stable_forward(quick: bool, rng: np.random.Generator) -> Outcome:
    width, depth, batch = (64, 30, 32) if quick else (512, 60, 128)
    _, act_bn = _layer_sq_norms(width, depth, batch, "relu", True, 1.0, rng)
    _, act_plain = _layer_sq_norms(width, depth, batch, "relu", False, 1.0, rng)
    spread_bn = float(act_bn.max() / act_bn.min())
    spread_plain = float(act_plain.max() / act_plain.min())
    v = decide_at_most(spread_bn, 2.0)
    return Outcome(
        v,
        f"RMS pre-activation over {depth} layers: max/min {spread_bn:.2f} with BN, {spread_plain:.1e} without (sigma_w^2=1)",
        {"spread_bn": spread_bn, "spread_no_bn": spread_plain},
    )


def _check_90_layers(quick: bool, rng: np.random.Generator) -> Outcome:
    width, batch = (64, 32) if quick else (256, 64)
    depth = 90
    out = {}
    for act in ("tanh", "relu"):
        for bn in (False, True):
            g, _ = _layer_sq_norms(width, depth, batch, act, bn, 1.0, rng)
            out[f"{act}_{'bn' if bn else 'plain'}_first_over_last"] = float(np.sqrt(g[0] / g[-1]))
    return not_testable(
        "the article's reference [12] (90-layer nets on permutation-invariant MNIST, backward "
        "gradient normalization) is not available, and training such nets is out of scope",
        substitute="90-layer nets at init on Gaussian inputs: ratio of gradient norms first/last layer",
        measured=", ".join(f"{k}: {v:.2e}" for k, v in out.items()),
        numbers=out,
    )


def _check_resnet(quick: bool, rng: np.random.Generator) -> Outcome:
    width, depth, batch = (128, 30, 32) if quick else (512, 60, 64)
    g_res, _ = _layer_sq_norms(width, depth, batch, "relu", True, 1.0, rng, residual=True)
    g_pl, _ = _layer_sq_norms(width, depth, batch, "relu", True, 1.0, rng)
    r_res, r_pl = _rate(g_res, 5, depth - 5), _rate(g_pl, 5, depth - 5)
    v = decide_at_least(r_pl - r_res, 0.0)  # substitute holds if skip connections temper the growth
    return not_testable(
        "training >100-layer ResNets is out of scope",
        substitute=f"per-layer squared-gradient growth at init, BN-ReLU with skips {r_res:.3f} vs without {r_pl:.3f}"
        f" (skips {'temper' if v is Verdict.HOLDS else 'do not temper'} the explosion)",
        numbers={"rate_residual": r_res, "rate_plain": r_pl},
    )


def _check_divide_sigma_sym(quick: bool, rng: np.random.Generator) -> Outcome:
    """check_divide_sigma plus the SymPy proofs jacobian_eps0, jacobian (bntheory.symbolic.verify_backward)."""
    from bntheory.claims._symbolic import add_symbolic

    return add_symbolic(_check_divide_sigma(quick, rng), ("jacobian_eps0", "jacobian"))


CLAIMS = [
    Claim(
        "gf-01",
        "gradient-flow",
        "the effective Jacobian of a batch-normalized layer tends to have singular values clustered around 1",
        "Yang et al. (2019), Thm 8 (contradicts); Ioffe & Szegedy (2015), Sec. 3.3 (conjecture)",
        "numerical",
        "per-layer gradient growth ~ 1",
        _check_singular_values,
    ),
    Claim(
        "gf-02",
        "gradient-flow",
        "vanishing gradients, scaling exponentially as exp(-c depth) ... or exploding gradients",
        "mean-field theory of deep nets (Poole et al. 2016; Yang et al. 2019)",
        "numerical",
        "exp(-c depth)",
        _check_exponential,
    ),
    Claim(
        "gf-03",
        "gradient-flow",
        "the learnable scaling parameter gamma ... allowing the network to adaptively control gradient magnitudes",
        "Ioffe & Szegedy (2015), Sec. 3",
        "numerical",
        "gradient proportional to gamma",
        _check_gamma_scale,
    ),
    Claim(
        "gf-04",
        "gradient-flow",
        "dL/dx ~ (dL/dy)(dy/dx)/sigma ... this division by sigma normalizes the gradient magnitude",
        "Santurkar et al. (2018), Fact C.1",
        "numerical",
        "dL/dx ~ dL/dy / sigma",
        _check_divide_sigma_sym,
    ),
    Claim(
        "gf-05",
        "gradient-flow",
        "constraining activations to have zero mean and unit variance ... keeps activation magnitudes in a stable range",
        "Ioffe & Szegedy (2015)",
        "numerical",
        "bounded activations across depth",
        _check_stable_forward,
    ),
    Claim(
        "gf-06",
        "gradient-flow",
        "in 90-layer models trained on permutation-invariant MNIST, batch normalization helps prevent exponential decay of gradient norms",
        "article ref [12]",
        "experiment",
        "no exponential decay with BN",
        _check_90_layers,
    ),
    Claim(
        "gf-07",
        "gradient-flow",
        "skip connections ... together, they enable stable training of networks exceeding 100 layers deep",
        "article refs [13,14]",
        "experiment",
        ">100 layers trainable",
        _check_resnet,
    ),
]

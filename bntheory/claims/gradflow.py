"""Gradient-flow claims: deep networks at initialization and after training.

Every check measures; the readings on the claims decide (``bntheory.claims.core``).
Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), Theorem 8, give the per-layer
growth factor of the SQUARED gradient norm of a deep ReLU network with BN at init; it
exceeds 1 for every batch size (gradient explosion), against the article's "singular
values clustered around 1". The very deep trained networks (gf-06, gf-07) are
:func:`bntheory.nets.depth.depth_profile` on permutation-invariant MNIST (full mode requires
it; quick mode falls back to scikit-learn's 8x8 digits when MNIST is not installed, and the
measurement says which).
"""

from __future__ import annotations

import math

import numpy as np

from bntheory.claims.core import Claim, Measurement, P, Reading, measurement_seeds, shared_result

#: Batch size of gf-01 (Yang et al.'s B).
YANG_BATCH = 32


def yang_relu_rate(B: int) -> float:
    r"""Per-layer growth of the squared gradient norm, ReLU + BN at init, batch size ``B``.

    Yang et al. (2019), Theorem 8 with :math:`\alpha = 1`:
    :math:`\lambda = \frac{B-2+\mathcal J'(c)+\mathcal J(c)}{(B-3)(1-\mathcal J(c))}`,
    :math:`c=-1/(B-1)`, :math:`\mathcal J(c)=\frac1\pi(\sqrt{1-c^2}+(\pi-\arccos c)c)`,
    :math:`\mathcal J'(c)=(\pi-\arccos c)/\pi`. Tends to :math:`\pi/(\pi-1)` as B grows.
    (Same formula as :func:`bntheory.bounds.yang_relu_rate`; here it fixes a reading's value
    at import time without importing the library.) Yang, Pennington, Rao, Sohl-Dickstein &
    Schoenholz (2019), "A Mean Field Theory of Batch Normalization".

    Parameters
    ----------
    B : int
        Batch size, at least 4 (the formula has ``B - 3`` in the denominator).

    Returns
    -------
    float
        The factor ``lambda > 1`` by which the expected squared gradient norm grows per
        layer going backwards, at initialization.

    Raises
    ------
    ValueError
        If ``B < 4``.
    """
    if B < 4:
        raise ValueError(f"B must be >= 4, got {B}")
    c = -1.0 / (B - 1)
    J = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi
    Jp = (math.pi - math.acos(c)) / math.pi
    return (B - 2 + Jp + J) / ((B - 3) * (1 - J))


def _layer_stats(width, depth, batch, activation, bn, sigma_w2, seed, residual=False):
    """Squared gradient norms of the hidden pre-activations and RMS of the hidden layer
    inputs of a random net at init (linear loss on Gaussian targets, Gaussian inputs)."""
    from bntheory.nets import MLP

    g = np.random.default_rng(seed)
    net = MLP(
        [width] * (depth + 2),
        activation,
        bn=bn,
        eps=0.0 if bn else 1e-5,
        sigma_w2=sigma_w2,
        train_affine=False,
        bias=False,
        residual=residual,
        loss="linear",
        rng=g,
    )
    X = g.normal(size=(batch, width))
    Y = g.normal(size=(batch, width))
    with np.errstate(all="ignore"):
        tr = net.trace(X, Y)
        sq = np.array([float(np.sum(tr.g_a[k] ** 2)) for k in range(depth)])
        rms = np.array([float(np.sqrt(np.mean(tr.a[k] ** 2))) for k in range(depth)])
    return sq, rms


def _rate(g: np.ndarray, lo: int, hi: int) -> float:
    """Geometric-mean growth of g backward (from layer k+1 to k) over layers lo..hi."""
    r = g[lo:hi] / g[lo + 1 : hi + 1]
    return float(np.exp(np.mean(np.log(r))))


# --------------------------------------------------------------------------- gf-01
def _check_singular_values(quick: bool, rng: np.random.Generator) -> Measurement:
    """Per-layer growth of the squared gradient norm of ReLU + BN nets at init (Yang et al.
    2019, Thm 8 setting: eps = 0, gamma = 1 fixed, no bias), over independent nets."""
    from bntheory.claims.stats import mean_ci

    width, depth = (192, 25) if quick else (500, 50)
    rates = [
        _rate(_layer_stats(width, depth, YANG_BATCH, "relu", True, 1.0, s)[0], 5, depth - 5)
        for s in measurement_seeds("gf-01", quick, rng, n=3 if quick else 5)
    ]
    vals, ivs = mean_ci("rate", rates)
    lo, hi = ivs.get("rate", (math.nan, math.nan))
    vals |= {"rate_yang_thm8": yang_relu_rate(YANG_BATCH), "batch": float(YANG_BATCH)}
    vals |= {"width": float(width), "growth_over_depth": float(vals["rate"] ** (depth - 10))}
    vals["depth_span"] = float(depth - 10)
    return Measurement(
        f"ReLU+BN at init, B={YANG_BATCH}, width {width}: squared-gradient growth "
        f"{vals['rate']:.3f}/layer (95% CI {lo:.3f}-{hi:.3f}, {len(rates)} nets; Yang Thm 8: "
        f"{vals['rate_yang_thm8']:.3f})",
        vals,
        ivs,
        note="geometric mean of ||g_k||^2/||g_{k+1}||^2 over layers 5..depth-5",
    )


# --------------------------------------------------------------------------- gf-02
def _check_exponential(quick: bool, rng: np.random.Generator) -> Measurement:
    """Slope of log ||grad|| across depth without BN (ReLU, sigma_w^2 = 1 and 3) against
    the mean-field prediction ``-0.5 log(sigma_w^2 / 2)`` per layer (Poole et al. 2016)."""
    from bntheory.claims.stats import mean_ci

    width, depth, batch = 256, 30, 64  # same nets in both modes; full has more of them
    vals, ivs = {}, {}
    for s2 in (1.0, 3.0):
        slopes = []
        for s in measurement_seeds("gf-02", quick, rng, n=3 if quick else 5):
            g, _ = _layer_stats(width, depth, batch, "relu", False, s2, s)
            slopes.append(float(np.polyfit(np.arange(depth), 0.5 * np.log(g), 1)[0]))
        v, iv = mean_ci(f"slope_sigma_w2_{s2:g}", slopes)
        vals |= v
        ivs |= iv
        vals[f"predicted_sigma_w2_{s2:g}"] = -0.5 * math.log(s2 / 2.0)
    return Measurement(
        f"no BN, ReLU: d log||grad|| / d layer = {vals['slope_sigma_w2_1']:.3f} (sigma_w^2 = 1, "
        f"predicted {vals['predicted_sigma_w2_1']:.3f}), {vals['slope_sigma_w2_3']:.3f} "
        f"(sigma_w^2 = 3, predicted {vals['predicted_sigma_w2_3']:.3f})",
        vals,
        ivs,
        note="slope > 0: the norm shrinks towards the input (vanishing), < 0: it grows",
    )


# --------------------------------------------------------------------------- gf-03, gf-04
def _fd_input_grad(x, dy, gamma, h=1e-6):
    """Gradient of ``<dy, BN(x; gamma)>`` with respect to ``x`` by central differences of the
    library's forward pass only (eps = 0), independent of the backward pass."""
    from bntheory.bn import batch_norm_forward

    def f(xx):
        return float(np.sum(dy * batch_norm_forward(xx, gamma, 0.0, eps=0.0)[0]))

    out = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        step = h * max(1.0, abs(float(x[idx])))
        xp, xm = x.copy(), x.copy()
        xp[idx] += step
        xm[idx] -= step
        out[idx] = (f(xp) - f(xm)) / (2 * step)
    return out


def _check_gamma_scale(quick: bool, rng: np.random.Generator) -> Measurement:
    """``||dL/dx||`` at gamma = 0.5, 1, 2 (finite differences of the forward pass)."""
    x = rng.normal(size=(32, 4)) * 3
    dy = rng.normal(size=(32, 4))
    norms = [float(np.linalg.norm(_fd_input_grad(x, dy, g))) for g in (0.5, 1.0, 2.0)]
    r2, r05 = norms[2] / norms[1], norms[0] / norms[1]
    return Measurement(
        f"||dL/dx|| scales with gamma: x{r2:.8f} at gamma = 2, x{r05:.8f} at gamma = 0.5",
        {"ratio_gamma2": r2, "ratio_gamma05": r05},
        note="gradient of <dy, BN(x; gamma)> by central differences of the forward pass",
    )


def _check_divide_sigma(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's ``dL/dx ~ (dL/dy)(dy/dx)/sigma``: the 1/sigma scaling and the naive form
    ``gamma dL/dy / sigma`` against finite differences of the forward pass, the library's
    backward pass and the SymPy proofs of the exact Jacobian."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward
    from bntheory.claims._symbolic import items
    from bntheory.claims.stats import mean_ci

    m, gamma = 32, 1.5
    x = rng.normal(size=(m, 1)) * 4 + 2
    dy = rng.normal(size=(m, 1))
    fd = _fd_input_grad(x, dy, gamma)[:, 0]
    fd10 = _fd_input_grad(10 * x, dy, gamma)[:, 0]
    _, cache = batch_norm_forward(x, gamma, 0.0, eps=0.0)
    sigma, xh = float(np.sqrt(cache.var[0])), cache.x_hat[:, 0]
    proj = gamma / sigma * (dy[:, 0] - dy.mean() - xh * (xh @ dy[:, 0]) / m)
    err_proj = float(np.linalg.norm(fd - proj) / np.linalg.norm(proj))
    errs = []
    for _ in range(200):
        d = rng.normal(size=(m, 1))
        exact = batch_norm_backward(d, cache)[0][:, 0]
        errs.append(float(np.linalg.norm(exact - gamma * d[:, 0] / sigma) / np.linalg.norm(exact)))
    vals, ivs = mean_ci("rel_err_naive", errs)
    proven = all(bool(it.holds) for it in items(("jacobian_eps0", "jacobian")))
    vals |= {
        "scale_x10": float(np.linalg.norm(fd10) / np.linalg.norm(fd)),
        "rel_err_projection_form": err_proj,
        "symbolic_jacobian_proven": proven,
        "batch": float(m),
    }
    return Measurement(
        f"x10 input -> x{vals['scale_x10']:.6f} gradient; naive gamma dL/dy / sigma off by "
        f"{vals['rel_err_naive']:.3f} (mean relative error, 200 random dL/dy); exact "
        f"(gamma/sigma) P dL/dy matches finite differences to {err_proj:.1e}; SymPy: {proven}",
        vals,
        ivs,
        note="P = I - 11^T/m - x_hat x_hat^T/m (Santurkar et al. 2018, Fact C.1)",
    )


# --------------------------------------------------------------------------- gf-05
def _check_stable_forward(quick: bool, rng: np.random.Generator) -> Measurement:
    """Spread (max/min over layers) of the RMS of the hidden layers' pre-activations, ReLU,
    at an exploding initialization scale (sigma_w^2 = 4), with and without BN."""
    from bntheory.claims.stats import mean_ci

    width, depth, batch = (64, 30, 32) if quick else (256, 60, 128)
    bn_s, plain_s = [], []
    for s in measurement_seeds("gf-05", quick, rng):
        _, rb = _layer_stats(width, depth, batch, "relu", True, 4.0, s)
        _, rp = _layer_stats(width, depth, batch, "relu", False, 4.0, s)
        bn_s.append(float(np.log10(rb.max() / rb.min())))
        plain_s.append(float(np.log10(rp.max() / rp.min())))
    vals, ivs = mean_ci("log10_spread_bn", bn_s)
    v2, i2 = mean_ci("log10_spread_plain", plain_s)
    vals |= v2
    ivs |= i2
    vals |= {"spread_bn": 10 ** vals["log10_spread_bn"], "depth": float(depth)}
    vals["spread_plain"] = 10 ** vals["log10_spread_plain"]
    return Measurement(
        f"RMS pre-activation over {depth} layers (ReLU, sigma_w^2 = 4): max/min "
        f"{vals['spread_bn']:.3g} with BN, {vals['spread_plain']:.3g} without",
        vals,
        ivs,
    )


# --------------------------------------------------------------------------- gf-06, gf-07
#: Very deep nets: (width, SGD steps, training points) per mode; lr 0.01, batch 32.
DEEP = {True: (16, 5, 128), False: (32, 60, 256)}
DEEP_SEEDS = {True: 3, False: 5}


def _profile(quick, key, seed, activation, bn, depth, residual=False) -> dict:
    from bntheory.nets.depth import depth_profile

    width, steps, n = DEEP[quick]

    def run() -> dict:
        p = depth_profile(
            activation, bn, depth, width, residual=residual, steps=steps, lr=0.01,
            batch_size=32, n_train=n, rng=seed,
        )  # fmt: skip
        return {
            "init": p.log10_first_over_last_init,
            "trained": p.log10_first_over_last_trained,
            "loss_init": p.loss_init,
            "loss_trained": p.loss_trained if math.isfinite(p.loss_trained) else None,
            "diverged": float(p.status != "completed"),
            "mnist": float(p.dataset == "MNIST"),
        }

    return shared_result(f"{key}-{'q' if quick else 'f'}", seed, run)


def _require_data(quick: bool) -> None:
    """The data must load before any shared computation starts (a missing data set is the
    claim's not-testable-here reason, never a substitute). Full mode needs MNIST, the data
    set the article names; quick mode takes MNIST when it is installed and otherwise
    scikit-learn's 8x8 digits, under that name (the measured text says which)."""
    from bntheory.claims.core import Unavailable
    from bntheory.nets.data import DataUnavailable
    from bntheory.nets.depth import permutation_invariant_data

    try:
        _, _, name = permutation_invariant_data(DEEP[quick][2])
    except DataUnavailable as exc:
        raise Unavailable(
            f"neither MNIST nor digits is available ({exc}); pip install 'bntheory[data]'"
        ) from exc
    if not quick and name != "MNIST":
        from bntheory.nets.data import install_hint

        raise Unavailable(
            f"full mode runs the article's permutation-invariant MNIST nets and MNIST is not "
            f"installed: {install_hint('mnist')}"
        )


def _dataset_name(rows) -> str:
    return "MNIST" if all(r["mnist"] for r in rows) else "digits"


def _check_90_layers(quick: bool, rng: np.random.Generator) -> Measurement:
    """90-layer nets (tanh, sigma_w^2 = 1; ReLU, He) with and without BN: log10 of the
    first-over-last hidden layer gradient norm at init and after SGD, over seeds."""
    from bntheory.claims.stats import mean_ci

    _require_data(quick)
    seeds = measurement_seeds("gf-06", quick, rng, n=DEEP_SEEDS[quick])
    vals, ivs, parts, rows_all = {}, {}, [], []
    for act in ("tanh", "relu"):
        rows = {
            bn: [_profile(quick, f"gf06-{act}-{bn}", s, act, bn, 90) for s in seeds]
            for bn in (False, True)
        }
        rows_all += rows[True] + rows[False]
        for phase in ("init", "trained"):
            b = [r[phase] for r in rows[True]]
            p = [r[phase] for r in rows[False]]
            v, iv = mean_ci(f"bn_{act}_{phase}", b)
            v2, iv2 = mean_ci(f"plain_{act}_{phase}", p)
            v3, iv3 = mean_ci(f"gain_{act}_{phase}", [x - y for x, y in zip(b, p, strict=True)])
            vals |= v | v2 | v3
            ivs |= iv | iv2 | iv3
            parts.append(
                f"{act} {phase}: BN {vals[f'bn_{act}_{phase}']:+.2f}, no BN "
                f"{vals[f'plain_{act}_{phase}']:+.2f}"
            )
    name = _dataset_name(rows_all)
    vals["dataset"] = name
    vals["diverged_runs"] = float(sum(r["diverged"] for r in rows_all))
    width, steps, n = DEEP[quick]
    vals |= {"steps": float(steps), "width": float(width), "n_seeds": float(len(seeds))}
    return Measurement(
        f"90-layer nets on {name}, log10(||grad first layer|| / ||grad last hidden layer||): "
        + "; ".join(parts),
        vals,
        ivs,
        note=f"width {width}, SGD lr 0.01 batch 32 for {steps} steps on {n} {name} images "
        "(flattened); gradient norms on the full training subset, train mode",
    )


def _check_resnet(quick: bool, rng: np.random.Generator) -> Measurement:
    """110-layer ReLU nets: BN + identity skips vs plain (neither), trained with SGD."""
    from bntheory.claims.stats import mean_ci

    _require_data(quick)
    seeds = measurement_seeds("gf-07", quick, rng, n=DEEP_SEEDS[quick])
    res = [_profile(quick, "gf07-resbn", s, "relu", True, 110, residual=True) for s in seeds]
    pla = [_profile(quick, "gf07-plain", s, "relu", False, 110) for s in seeds]
    vals, ivs = {}, {}

    def progress(r):
        if r["loss_trained"] is None:
            return math.nan
        return math.log10(r["loss_trained"] / r["loss_init"])

    for tag, rows in (("resbn", res), ("plain", pla)):
        for q, xs in (
            ("progress", [progress(r) for r in rows]),
            ("init", [r["init"] for r in rows]),
            ("trained", [r["trained"] for r in rows]),
        ):
            v, iv = mean_ci(f"{tag}_{q}", xs)
            vals |= v
            ivs |= iv
        vals[f"{tag}_diverged"] = float(sum(r["diverged"] for r in rows))
    v, iv = mean_ci(
        "progress_gain",
        [progress(a) - progress(b) for a, b in zip(res, pla, strict=True)],
    )
    vals |= v
    ivs |= iv
    name = _dataset_name(res + pla)
    width, steps, n = DEEP[quick]
    vals |= {"dataset": name, "steps": float(steps), "n_seeds": float(len(seeds))}
    return Measurement(
        f"110-layer ReLU nets on {name}: log10(final/initial loss) BN+skip "
        f"{vals['resbn_progress']:+.3f}, plain {vals['plain_progress']:+.3f}; log10 first/last "
        f"gradient after training BN+skip {vals['resbn_trained']:+.2f}, plain "
        f"{vals['plain_trained']:+.2f}; diverged runs {vals['resbn_diverged']:.0f} / "
        f"{vals['plain_diverged']:.0f}",
        vals,
        ivs,
        note=f"width {width}, He init, SGD lr 0.01 batch 32 for {steps} steps on {n} {name} "
        "images (flattened); 'plain' = neither BN nor skips",
    )


# --------------------------------------------------------------------------- claims
_FD = (
    "central differences (h = 1e-6) of the forward pass: relative error ~h^2 plus round-off "
    "~1e-16/h ~ 1e-10; 1e-6 is generous"
)

CLAIMS = [
    Claim(
        "gf-01",
        "gradient-flow",
        "the effective Jacobian of a batch-normalized layer tends to have singular values clustered around 1",
        "Yang et al. (2019), Thm 8 (contradicts); Ioffe & Szegedy (2015), Sec. 3.3 (conjecture)",
        "numerical",
        "per-layer gradient growth ~ 1",
        _check_singular_values,
        literal=Reading(
            "through a BN layer (ReLU net at init) the squared gradient norm is preserved: it "
            "changes by at most 10 % per layer",
            (P("rate", "in", (1 / 1.1, 1.1)),),
            "'clustered around 1' read as within 10 % per layer (over 15 layers already a "
            "factor 4); 95% t-interval over independent nets",
        ),
        corrected=Reading(
            "the squared gradient norm grows by Yang et al.'s factor per layer (gradient "
            "explosion at initialization)",
            (P("rate", "==", yang_relu_rate(YANG_BATCH), rtol=0.05),),
            "5 %: finite-width bias of order 1/width plus the depth-window fit",
            source="Yang et al. (2019), Theorem 8",
        ),
        explain=(
            "In ReLU networks with BN at initialization (batch {batch:.0f}, width {width:.0f}) "
            "the squared gradient norm grows by {rate:.3f} per layer towards the input (Yang et "
            "al.'s Theorem 8: {rate_yang_thm8:.3f}), a factor {growth_over_depth:.2g} over "
            "{depth_span:.0f} layers: gradients explode, the layer Jacobians are not near-isometries."
        ),
    ),
    Claim(
        "gf-02",
        "gradient-flow",
        "vanishing gradients, scaling exponentially as exp(-c depth) ... or exploding gradients",
        "mean-field theory of deep nets (Poole et al. 2016; Yang et al. 2019)",
        "numerical",
        "exp(-c depth)",
        _check_exponential,
        literal=Reading(
            "without normalization the gradient norm changes exponentially with depth, at the "
            "mean-field rate: vanishing for sigma_w^2 = 1, exploding for sigma_w^2 = 3 (ReLU)",
            (
                P("slope_sigma_w2_1", "==", -0.5 * math.log(0.5), tol=0.05),
                P("slope_sigma_w2_3", "==", -0.5 * math.log(1.5), tol=0.05),
            ),
            "0.05 per layer: finite-width fluctuation of the per-layer log-norm (~1/sqrt(width)) "
            "averaged over the depth; 95% t-interval over nets",
        ),
        explain=(
            "Without BN (ReLU), log ||grad|| changes linearly with depth: slope "
            "{slope_sigma_w2_1:.3f} per layer at sigma_w^2 = 1 (mean field "
            "{predicted_sigma_w2_1:.3f}, vanishing towards the input) and {slope_sigma_w2_3:.3f} "
            "at sigma_w^2 = 3 ({predicted_sigma_w2_3:.3f}, exploding)."
        ),
    ),
    Claim(
        "gf-03",
        "gradient-flow",
        "the learnable scaling parameter gamma ... allowing the network to adaptively control gradient magnitudes",
        "Ioffe & Szegedy (2015), Sec. 3",
        "numerical",
        "gradient proportional to gamma",
        _check_gamma_scale,
        literal=Reading(
            "the gradient reaching the BN input is proportional to gamma",
            (
                P("ratio_gamma2", "==", 2.0, rtol=1e-6),
                P("ratio_gamma05", "==", 0.5, rtol=1e-6),
            ),
            _FD,
        ),
        explain=(
            "Doubling gamma multiplies the input gradient by {ratio_gamma2:.6f}, halving it by "
            "{ratio_gamma05:.6f} (finite differences of the forward pass): gamma sets the "
            "gradient's scale."
        ),
    ),
    Claim(
        "gf-04",
        "gradient-flow",
        "dL/dx ~ (dL/dy)(dy/dx)/sigma ... this division by sigma normalizes the gradient magnitude",
        "Santurkar et al. (2018), Fact C.1",
        "numerical",
        "dL/dx ~ dL/dy / sigma",
        _check_divide_sigma,
        literal=Reading(
            "the gradient scales as 1/sigma and is approximately gamma dL/dy / sigma",
            (P("scale_x10", "==", 0.1, rtol=1e-6), P("rel_err_naive", "<=", 0.1)),
            "scale: " + _FD + "; '~' read as within 10 % (mean relative error over random "
            "upstream gradients, 95% t-interval)",
        ),
        corrected=Reading(
            "the gradient scales as 1/sigma and is exactly (gamma/sigma) P dL/dy with P the "
            "projection off 1 and x_hat",
            (
                P("scale_x10", "==", 0.1, rtol=1e-6),
                P("rel_err_projection_form", "<=", 1e-6),
                P("symbolic_jacobian_proven", "is", True),
            ),
            _FD,
            source="Santurkar et al. (2018), Fact C.1; Ioffe & Szegedy (2015), Sec. 3",
        ),
        explain=(
            "Scaling the input by ten scales the gradient by {scale_x10:.6f}: the division by "
            "sigma is exact. The naive form gamma dL/dy / sigma is off by {rel_err_naive:.3f} on "
            "average (batch {batch:.0f}, random upstream gradients); the exact gradient is "
            "(gamma/sigma)(I - 11^T/m - x_hat x_hat^T/m) dL/dy (finite-difference error "
            "{rel_err_projection_form:.1e}, SymPy proof), which removes the components along 1 "
            "and x_hat."
        ),
    ),
    Claim(
        "gf-05",
        "gradient-flow",
        "constraining activations to have zero mean and unit variance ... keeps activation magnitudes in a stable range",
        "Ioffe & Szegedy (2015)",
        "numerical",
        "bounded activations across depth",
        _check_stable_forward,
        literal=Reading(
            "at an initialization scale at which an unnormalized ReLU net's activations grow "
            "exponentially, BN keeps them within a factor 2 across depth",
            (
                P("log10_spread_bn", "<=", math.log10(2.0)),
                P("log10_spread_plain", ">=", 1.0),
            ),
            "'stable range' = max/min RMS over the layers at most 2; the contrast (the "
            "amplification BN is said to remove) at least one decade without BN; 95% "
            "t-intervals over nets",
        ),
        explain=(
            "At sigma_w^2 = 4 the RMS pre-activation varies by a factor {spread_bn:.3g} over "
            "{depth:.0f} ReLU layers with BN and {spread_plain:.3g} without."
        ),
    ),
    Claim(
        "gf-06",
        "gradient-flow",
        "in 90-layer models trained on permutation-invariant MNIST, batch normalization helps prevent exponential decay of gradient norms",
        "article ref [12]",
        "experiment",
        "no exponential decay with BN",
        _check_90_layers,
        literal=Reading(
            "in 90-layer nets, with BN the gradient norm does not decay by more than a decade "
            "from the last hidden layer to the first, at initialization and after training, "
            "and decays less than without BN (tanh and ReLU)",
            tuple(
                P(f"{kind}_{act}_{phase}", ">=", bound)
                for act in ("tanh", "relu")
                for phase in ("init", "trained")
                for kind, bound in (("bn", -1.0), ("gain", 0.0))
            ),
            "'exponential decay' over 90 layers = more than one decade (log10 first/last < -1); "
            "'helps ... compared to no normalization' = paired BN minus no-BN log10 ratio >= 0; "
            "95% t-intervals over seeds",
        ),
        stability_note=(
            "full mode, master seeds 0-4: inconclusive on all five (with the BN kernels "
            "before issue 13's, inconclusive on four and refuted on one): after training "
            "the per-seed gradient profiles scatter widely (early layers of some BN nets "
            "freeze; one seed-4 net ends 10^-68 from its input), so the intervals sit across "
            "the thresholds, and a change of round-off alone moves the trained means (tanh "
            "with BN at seed 0: +1.52 before the kernel change, -0.45 after)"
        ),
        quick_note=(
            "quick trains 5 SGD steps at width 16 on 128 images (full: 60 steps, width 32, "
            "256 images), so its 'after training' profile is close to the initial one"
        ),
        explain=(
            "90-layer nets on {dataset} (width {width:.0f}, {steps:.0f} SGD steps), log10 of "
            "the first over the last hidden layer's gradient norm, mean over seeds: tanh with "
            "BN {bn_tanh_init:+.2f} at init and {bn_tanh_trained:+.2f} after training (without "
            "BN {plain_tanh_init:+.2f} / {plain_tanh_trained:+.2f}); ReLU with BN "
            "{bn_relu_init:+.2f} / {bn_relu_trained:+.2f} (without {plain_relu_init:+.2f} / "
            "{plain_relu_trained:+.2f}); positive means larger towards the input."
        ),
    ),
    Claim(
        "gf-07",
        "gradient-flow",
        "skip connections ... together, they enable stable training of networks exceeding 100 layers deep",
        "article refs [13,14]; He et al. (2016)",
        "experiment",
        ">100 layers trainable",
        _check_resnet,
        literal=Reading(
            "a 110-layer net with BN and skip connections trains stably (no divergence, the "
            "loss falls, no gradient vanishing at init or after training) and makes more "
            "progress than the same net with neither",
            (
                P("resbn_diverged", "<=", 0.0),
                P("resbn_progress", "<=", 0.0),
                P("resbn_init", ">=", -1.0),
                P("resbn_trained", ">=", -1.0),
                P("progress_gain", "<=", 0.0),
            ),
            "'stable' = no diverged run, log10(final/initial loss) below 0 and less than a "
            "decade of gradient decay over the depth; 'enable' = more relative loss decrease "
            "than the plain net (paired by seed); 95% t-intervals over seeds",
        ),
        quick_note=(
            "quick trains 5 SGD steps at width 16 on 128 images (full: 60 steps, width 32, "
            "256 images): too few for the loss decrease to clear its interval, so quick is "
            "inconclusive where full decides"
        ),
        explain=(
            "110-layer ReLU nets on {dataset} ({steps:.0f} SGD steps): with BN and skips the "
            "loss changes by {resbn_progress:+.3f} decades ({resbn_diverged:.0f} diverged "
            "runs), the plain net's by {plain_progress:+.3f} ({plain_diverged:.0f} diverged); "
            "log10 first/last gradient after training {resbn_trained:+.2f} with BN and skips, "
            "{plain_trained:+.2f} plain."
        ),
    ),
]

#: Where each claim is implemented and tested, and its figure (for paper_notes.md).
PLACES = {
    "gf-01": (
        "bounds.yang_relu_rate, nets.MLP",
        "tests/test_bounds.py, tests/nets/test_yang.py",
        "yang_rate",
    ),
    "gf-02": ("nets.MLP.trace", "tests/nets/test_mlp.py", "gradient_depth"),
    "gf-03": ("bn.batch_norm_forward (finite differences)", "tests/test_bn.py", "-"),
    "gf-04": (
        "bn.batch_norm_forward/backward; symbolic (jacobian)",
        "tests/test_bn.py, tests/claims/test_gradflow.py",
        "-",
    ),
    "gf-05": ("nets.MLP.trace", "tests/nets/test_mlp.py, tests/test_bn.py", "gradient_depth"),
    "gf-06": (
        "nets.depth.depth_profile (nets.measurements.gradient_flow)",
        "tests/nets/test_depth.py",
        "gradient_depth",
    ),
    "gf-07": (
        "nets.depth.depth_profile (residual MLP)",
        "tests/nets/test_depth.py",
        "gradient_depth",
    ),
}

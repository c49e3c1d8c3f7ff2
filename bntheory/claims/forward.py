"""Forward pass: Ioffe & Szegedy (2015), Algorithm 1, Sec. 3 and Sec. 3.2.

Each check measures the library's Algorithm 1 (:func:`bntheory.bn.batch_norm_forward`)
against an independent NumPy transcription of the reference article's formulas, or the
property the article states; the readings on the claims decide.
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import Claim, Measurement, P, Reading

#: The article's eps ("typically 10^-5", backpropagation section).
EPS = 1e-5

#: Round-off allowance of a float64 BN output normalised by its largest value: sums of
#: m <= 1024 terms in pairwise summation (O(log m) ulp), one centring whose cancellation
#: is bounded by |mu|/sigma <= 1e2 for the batches used here, a sqrt and a division:
#: about 1e3 ulp = 2e-13; 1e-12 leaves a factor 5.
ROUNDOFF = 1e-12


def _batch(rng: np.random.Generator, n: int, c: int, scale: float = 3.0) -> np.ndarray:
    """Columns with different scales (1.5-6) and offsets (about +-5)."""
    return rng.normal(size=(n, c)) * scale * rng.uniform(0.5, 2.0, size=c) + rng.normal(size=c) * 5


# --------------------------------------------------------------------------- fwd-01
def _check_stats(quick: bool, rng: np.random.Generator) -> Measurement:
    """Algorithm 1 with the biased ``1/m`` variance against the article's formulas."""
    from bntheory.bn import batch_norm_forward

    m, c = 16, 5
    x = _batch(rng, m, c)
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    y, _ = batch_norm_forward(x, gamma, beta, EPS)
    # the article's formulas, written out term by term
    mu = np.sum(x, axis=0) / m
    var = np.sum((x - mu) ** 2, axis=0) / m
    ref = gamma * (x - mu) / np.sqrt(var + EPS) + beta
    scale = float(np.max(np.abs(ref)))
    err = float(np.max(np.abs(y - ref)) / scale)
    # the same formulas with the unbiased 1/(m-1) variance, to show what the check resolves
    var_unb = np.sum((x - mu) ** 2, axis=0) / (m - 1)
    ref_unb = gamma * (x - mu) / np.sqrt(var_unb + EPS) + beta
    err_unb = float(np.max(np.abs(y - ref_unb)) / scale)
    return Measurement(
        f"max |BN(x) - article's formulas| / max |y| = {err:.1e} (1/m variance); "
        f"{err_unb:.1e} against the 1/(m-1) variance",
        {"rel_err": err, "rel_err_if_unbiased": err_unb, "m": float(m)},
        note="reference: the article's mu_B, sigma_B^2 (1/m), x_hat, y written out in NumPy",
    )


# --------------------------------------------------------------------------- fwd-02
def _typical_preactivations(rng: np.random.Generator, m: int, width: int) -> np.ndarray:
    """Pre-activations x = W u of a He-initialised layer on standardised inputs u."""
    u = rng.normal(size=(m, width))
    w = rng.normal(size=(width, width)) * np.sqrt(2.0 / width)
    return u @ w


def _check_unit_variance(quick: bool, rng: np.random.Generator) -> Measurement:
    """Mean and variance of x_hat in the article's setting and for low-variance channels."""
    from bntheory.bn import batch_norm_forward

    m, width = 32, 64
    # (a) the article's typical setting: eps = 1e-5, pre-activations of a He-initialised layer
    x = _typical_preactivations(rng, m, width)
    xh, cache = batch_norm_forward(x, 1.0, 0.0, EPS)
    mean_a, var_a = xh.mean(axis=0), xh.var(axis=0)
    pred_a = cache.var / (cache.var + EPS)
    # (b) channels whose batch variance is comparable to eps (near-dead units)
    sig2 = np.array([1e-3, 1e-4, 1e-5, 1e-6])
    z = rng.normal(size=(m, 1))
    z = (z - z.mean()) / z.std()
    xb = z * np.sqrt(sig2) + 0.1 * rng.normal(size=sig2.size)  # |mu| / sigma <= ~1e2
    xhb, cache_b = batch_norm_forward(xb, 1.0, 0.0, EPS)
    var_b = xhb.var(axis=0)
    pred_b = cache_b.var / (cache_b.var + EPS)
    dev_unit_a = float(np.max(np.abs(var_a - 1.0)))
    return Measurement(
        f"typical layer: max |Var(x_hat) - 1| = {dev_unit_a:.1e}, max |mean| = "
        f"{np.max(np.abs(mean_a)):.0e}; sigma_B^2 ~ eps: Var(x_hat) = "
        + ", ".join(f"{v:.3g}" for v in var_b),
        {
            "max_abs_mean": float(max(np.max(np.abs(mean_a)), np.max(np.abs(xhb.mean(axis=0))))),
            "max_dev_from_unit_typical": dev_unit_a,
            "median_batch_var_typical": float(np.median(cache.var)),
            "max_dev_from_formula": float(
                max(np.max(np.abs(var_a - pred_a)), np.max(np.abs(var_b - pred_b)))
            ),
            "min_var_xhat_small_channels": float(np.min(var_b)),
            "eps": EPS,
        },
        note="Var(x_hat) over the batch equals sigma_B^2/(sigma_B^2+eps); it is 1 only if eps "
        "is neglected (Ioffe & Szegedy 2015, Sec. 3)",
    )


# --------------------------------------------------------------------------- fwd-03
def _check_identity(quick: bool, rng: np.random.Generator) -> Measurement:
    """gamma = sqrt(sigma_B^2 + eps), beta = mu_B make the BN layer the identity."""
    from bntheory.bn import batch_norm_forward

    x = _batch(rng, 32, 4)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    y, _ = batch_norm_forward(x, np.sqrt(var + EPS), mu, EPS)
    err = float(np.max(np.abs(y - x)) / np.max(np.abs(x)))
    return Measurement(
        f"gamma = sqrt(sigma_B^2+eps), beta = mu_B: max |y - x| / max |x| = {err:.1e}",
        {"rel_err": err},
    )


# --------------------------------------------------------------------------- fwd-04
def _per_channel_reference(x: np.ndarray, gamma, beta, eps: float):
    """Independent reference of Ioffe & Szegedy (2015), Sec. 3.2: one loop per channel over
    all ``n p q`` values of that feature map, one ``(gamma, beta)`` per channel."""
    n, c = x.shape[:2]
    y = np.empty_like(x)
    counts = []
    for k in range(c):
        vals = [float(v) for v in x[:, k].ravel()]  # every value of feature map k
        mk = len(vals)
        mu = sum(vals) / mk
        var = sum((v - mu) ** 2 for v in vals) / mk
        y[:, k] = gamma[k] * (x[:, k] - mu) / np.sqrt(var + eps) + beta[k]
        counts.append(mk)
    return y, counts


def _check_conv(quick: bool, rng: np.random.Generator) -> Measurement:
    """Convolutional BN against a per-channel loop over batch and locations."""
    from bntheory.bn import batch_norm_forward

    n, c, p, q = 4, 3, 5, 6
    x = rng.normal(size=(n, c, p, q)) * 2 + 1
    x += rng.normal(size=(1, c, p, q))  # location-dependent offsets: per-location stats differ
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    y, cache = batch_norm_forward(x, gamma, beta, EPS)
    yref, counts = _per_channel_reference(x, gamma, beta, EPS)
    scale = float(np.max(np.abs(yref)))
    err = float(np.max(np.abs(y - yref)) / scale)
    # per-location statistics (over the batch only) would give this difference
    mu_loc, var_loc = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    y_loc = gamma[:, None, None] * (x - mu_loc) / np.sqrt(var_loc + EPS) + beta[:, None, None]
    err_loc = float(np.max(np.abs(y_loc - yref)) / scale)
    return Measurement(
        f"(N,C,H,W) = {x.shape}: library m' = {cache.m}, reference counts {counts[0]} values "
        f"per channel; max rel. diff {err:.1e} (per-location statistics: {err_loc:.2f})",
        {
            "rel_err": err,
            "m_eff_over_mpq": float(cache.m) / (n * p * q),
            "reference_count_over_mpq": float(counts[0]) / (n * p * q),
            "rel_err_if_per_location": err_loc,
            "params_per_channel": float(np.size(cache.gamma)) / c,
        },
    )


# --------------------------------------------------------------------------- fwd-05
def _check_eps_zero_var(quick: bool, rng: np.random.Generator) -> Measurement:
    """A constant batch (sigma_B^2 = 0) and a near-constant one through Algorithm 1."""
    from bntheory.bn import batch_norm_forward

    beta = np.array([0.5, -1.0])
    x = np.full((8, 2), 3.0)  # integer values: the batch sums and x - mu_B are exact
    x_tiny = x + rng.normal(size=(8, 2)) * 1e-12  # sigma_B^2 ~ 1e-24
    outs = []
    for xb in (x, x_tiny):
        try:
            with np.errstate(all="ignore"):
                y, _ = batch_norm_forward(xb, 2.0, beta, eps=EPS)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            y = np.full_like(xb, np.nan)
        outs.append(y)
    finite = bool(all(np.all(np.isfinite(y)) for y in outs))
    err = float(np.max(np.abs(outs[0] - beta))) if finite else float("inf")
    big = float(np.max(np.abs(outs[1] - beta))) if finite else float("inf")
    return Measurement(
        f"sigma_B^2 = 0: finite output {finite}, max |y - beta| = {err:.1e}; "
        f"sigma_B^2 ~ 1e-24: max |y - beta| = {big:.1e}",
        {
            "output_finite": finite,
            "max_abs_err_vs_beta": err,
            "max_dev_tiny_variance": big,
            "tiny_variance": float(np.max(x_tiny.var(axis=0))),
            "eps": EPS,
        },
    )


# --------------------------------------------------------------------------- fwd-06
def _check_bias(quick: bool, rng: np.random.Generator) -> Measurement:
    """Effect of the bias b of x = Wu + b on the BN output and the gradient that reaches b."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    m, k, d = 32, 6, 4
    u = rng.normal(size=(m, k))
    w = rng.normal(size=(k, d))
    b = rng.normal(size=d) * 10
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.normal(size=d)
    y0, _ = batch_norm_forward(u @ w, gamma, beta, EPS)
    y1, cache = batch_norm_forward(u @ w + b, gamma, beta, EPS)
    out_effect = float(np.max(np.abs(y1 - y0)) / np.max(np.abs(y0)))
    dy = rng.normal(size=(m, d))
    dx, _, _ = batch_norm_backward(dy, cache)
    grad_b = dx.sum(axis=0)  # dL/db = sum_i dL/dx_i
    grad_w = u.T @ dx
    grad_effect = float(np.linalg.norm(grad_b) / np.linalg.norm(grad_w))
    return Measurement(
        f"max |BN(Wu+b) - BN(Wu)| / max |BN(Wu)| = {out_effect:.1e}; "
        f"|dL/db| / |dL/dW| = {grad_effect:.1e}",
        {"bias_output_effect": out_effect, "bias_grad_ratio": grad_effect},
    )


CLAIMS = [
    Claim(
        "fwd-01",
        "forward-pass",
        "mu_B = 1/m sum x_i, sigma_B^2 = 1/m sum (x_i - mu_B)^2 ... y_i = gamma x_hat_i + beta",
        "Ioffe & Szegedy (2015), Alg. 1",
        "numerical",
        "Alg. 1 with biased 1/m variance",
        _check_stats,
        literal=Reading(
            "the article's formulas (1/m variance, eps inside the square root) are "
            "Algorithm 1: they reproduce bntheory.bn's Algorithm 1 to round-off",
            (P("rel_err", "<=", ROUNDOFF),),
            "float64 round-off of sums of m = 16 terms, one centring and a square root "
            "(ROUNDOFF, module docstring); the 1/(m-1) variance differs by about 1/(2m)",
        ),
        explain=(
            "The article's formulas, written out in NumPy, reproduce the library's "
            "Algorithm 1 to a relative {rel_err:.1e}; the same formulas with the unbiased "
            "1/(m-1) variance would differ by {rel_err_if_unbiased:.1e}, so the check "
            "resolves the biased training-mode variance."
        ),
    ),
    Claim(
        "fwd-02",
        "forward-pass",
        "These statistics normalize the input distribution to have zero mean and unit variance.",
        "Ioffe & Szegedy (2015), Alg. 1 and Sec. 3",
        "numerical",
        "x_hat: mean 0, variance 1",
        _check_unit_variance,
        literal=Reading(
            "with eps = 1e-5 (the article's value) and the pre-activations of a "
            "He-initialised layer, x_hat has mean 0 and variance 1 over the batch",
            (
                P("max_abs_mean", "<=", ROUNDOFF),
                P("max_dev_from_unit_typical", "<=", ROUNDOFF),
            ),
            "x_hat is the output of a formula, so its mean and variance are exact up to "
            "float64 round-off (ROUNDOFF); the article states no precision of its own",
        ),
        corrected=Reading(
            "x_hat has mean 0 and variance sigma_B^2/(sigma_B^2+eps) over the batch, which is "
            "1 only if eps is neglected",
            (
                P("max_abs_mean", "<=", ROUNDOFF),
                P("max_dev_from_formula", "<=", ROUNDOFF),
            ),
            "the same round-off allowance as the literal reading",
            source="Ioffe & Szegedy (2015), Sec. 3 ('... the variance of 1 ... if we neglect eps')",
        ),
        explain=(
            "x_hat has mean 0 (to {max_abs_mean:.0e}) and variance sigma_B^2/(sigma_B^2+eps) "
            "(to {max_dev_from_formula:.0e}). In the article's typical setting (eps = {eps:.0e}, "
            "pre-activations of a He-initialised layer, median batch variance "
            "{median_batch_var_typical:.2f}) the variance falls short of 1 by at most "
            "{max_dev_from_unit_typical:.1e}: 'unit variance' holds only after neglecting eps, "
            "as Ioffe & Szegedy say; for channels whose batch variance is comparable to eps "
            "it drops to {min_var_xhat_small_channels:.2g}."
        ),
    ),
    Claim(
        "fwd-03",
        "forward-pass",
        "This allows the layer to recover the original distribution if needed",
        "Ioffe & Szegedy (2015), Sec. 3 (identity transform)",
        "numerical",
        "gamma=sqrt(var+eps), beta=mu gives y=x",
        _check_identity,
        literal=Reading(
            "with gamma = sqrt(sigma_B^2 + eps) and beta = mu_B the BN layer returns its input",
            (P("rel_err", "<=", ROUNDOFF),),
            "float64 round-off of one centring, square root and division (ROUNDOFF)",
        ),
        explain=(
            "Setting gamma = sqrt(sigma_B^2 + eps) and beta = mu_B per channel returns the "
            "layer's input to a relative {rel_err:.0e}: the identity is representable, "
            "exactly for the batch whose statistics gamma and beta are set to (fixed "
            "parameters applied to other batches are not measured here)."
        ),
    ),
    Claim(
        "fwd-04",
        "forward-pass",
        "statistics aggregated across the spatial dimensions ... effective mini-batch size of m' = m p q",
        "Ioffe & Szegedy (2015), Sec. 3.2",
        "numerical",
        "m' = m*p*q, one (gamma,beta) per channel",
        _check_conv,
        literal=Reading(
            "convolutional BN normalises each channel with the statistics of all m p q values "
            "of its feature map and applies one (gamma, beta) per channel",
            (
                P("rel_err", "<=", ROUNDOFF),
                P("m_eff_over_mpq", "==", 1.0),
                P("params_per_channel", "==", 1.0),
            ),
            "float64 round-off for the outputs (ROUNDOFF); counts are exact integers",
        ),
        explain=(
            "Against an independent per-channel loop over all m p q values of each feature "
            "map, the library's (N, C, H, W) BN agrees to a relative {rel_err:.0e} with "
            "m'/(m p q) = {m_eff_over_mpq:.0f}; statistics per location instead would differ "
            "by {rel_err_if_per_location:.2f}."
        ),
    ),
    Claim(
        "fwd-05",
        "forward-pass",
        "epsilon ... preventing division by zero when the batch variance is small",
        "Ioffe & Szegedy (2015), Alg. 1",
        "numerical",
        "finite output for zero variance",
        _check_eps_zero_var,
        literal=Reading(
            "with eps > 0 a constant batch gives a finite output (beta) instead of 0/0",
            (P("output_finite", "is", True), P("max_abs_err_vs_beta", "<=", ROUNDOFF)),
            "x - mu_B is exactly 0 for a constant batch of integers (exact sums), so y = beta "
            "exactly; ROUNDOFF is the module's float64 allowance",
        ),
        explain=(
            "With eps = {eps:.0e} a constant batch gives the finite output beta (to "
            "{max_abs_err_vs_beta:.0e}), and a batch with variance {tiny_variance:.0e} stays within "
            "{max_dev_tiny_variance:.1e} of beta: eps bounds 1/sqrt(sigma_B^2 + eps)."
        ),
    ),
    Claim(
        "fwd-06",
        "forward-pass",
        "applied ... immediately after the linear transformation ... (e.g., x = Wu + b)",
        "Ioffe & Szegedy (2015), Sec. 3.2",
        "numerical",
        "BN applied to x = Wu + b",
        _check_bias,
        literal=Reading(
            "BN is applied to x = Wu + b with the bias b a working parameter of the layer "
            "(it changes the output or receives a gradient)",
            (P("bias_output_effect", ">=", 1e-8),),
            "any effect above float64 round-off (ROUNDOFF, with a margin of 1e4) counts as "
            "an effect of b",
        ),
        corrected=Reading(
            "BN is applied to x = Wu: a bias before BN has no effect on the output and "
            "receives zero gradient (beta takes its role)",
            (
                P("bias_output_effect", "<=", ROUNDOFF),
                P("bias_grad_ratio", "<=", ROUNDOFF),
            ),
            "float64 round-off (ROUNDOFF): mean subtraction removes b exactly in exact arithmetic",
            source="Ioffe & Szegedy (2015), Sec. 3.2 (the bias b can be ignored)",
        ),
        explain=(
            "Adding a bias b before BN changes the output by a relative "
            "{bias_output_effect:.0e} and the gradient reaching b is {bias_grad_ratio:.0e} of "
            "that of W: the mean subtraction cancels b, so Ioffe & Szegedy normalise x = Wu "
            "and let beta play the bias's role; writing x = Wu + b is harmless but b is a "
            "dead parameter."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "fwd-01": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-02": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-03": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-04": ("bn.batch_norm_forward (N, C, H, W)", "tests/test_bn.py", "-"),
    "fwd-05": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-06": ("bn.batch_norm_forward, bn.batch_norm_backward", "tests/test_bn.py", "-"),
}

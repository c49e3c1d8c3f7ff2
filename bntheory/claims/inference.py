"""Inference phase: Ioffe & Szegedy (2015), Algorithm 2 and Sec. 3.1.

Population statistics (Alg. 2 lines 8-10) are measured by Monte Carlo over a
pre-registered number of seeds with t-intervals; the update-rule conventions of the
frameworks and the text of Algorithm 2 are stored as cited source facts.
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import Claim, Measurement, P, Reading, SourceFact

#: Seeds of the Monte Carlo measurements (quick and full alike; full uses more batches).
N_SEEDS_MC = 5

#: float64 round-off allowance of an affine map of O(1)-O(10) values (about 1e3 ulp).
ROUNDOFF = 1e-12

#: Keras / TensorFlow 2 ``tf.keras.layers.BatchNormalization`` (API docstring).
KERAS_BN = SourceFact(
    "TensorFlow/Keras, tf.keras.layers.BatchNormalization API documentation (TF 2.x): "
    "'moving_mean = moving_mean * momentum + mean(batch) * (1 - momentum)', momentum=0.99",
    {"keras_momentum_weights": "old value", "keras_default_momentum": 0.99},
)

#: PyTorch ``torch.nn.BatchNorm1d/2d`` (API documentation).
PYTORCH_BN = SourceFact(
    "PyTorch, torch.nn.BatchNorm2d documentation: 'x_new = (1 - momentum) * x + momentum * "
    "x_t', momentum=0.1 by default",
    {"pytorch_momentum_weights": "new value", "pytorch_default_momentum": 0.1},
)

#: Ioffe & Szegedy (2015), Algorithm 2 lines 7-10 and the sentence that follows it.
ALGORITHM_2 = SourceFact(
    "Ioffe & Szegedy (2015), Alg. 2 lines 7-10 and Sec. 3.1",
    {
        "alg2_population_statistics": "averages over training mini-batches after training",
        "alg2_network_during_estimate": "frozen trained network",
        "alg2_uses_ema": False,
        "paper_mentions_moving_averages": True,
    },
)


# --------------------------------------------------------------------------- inf-01
def _check_unbiased(quick: bool, rng: np.random.Generator) -> Measurement:
    """Alg. 2 lines 8-10 on T i.i.d. Gaussian mini-batches, over seeds."""
    from bntheory.bn import population_statistics
    from bntheory.claims._symbolic import general_proofs
    from bntheory.claims.core import measurement_seeds
    from bntheory.claims.stats import mean_ci

    m, T, c = 8, (400 if quick else 2000), 30
    mu, sig = np.linspace(-2.0, 2.0, c), np.geomspace(0.2, 3.0, c)  # 30 populations
    rel_var, rel_var_plain, mean_err = [], [], []
    for s in measurement_seeds("inf-01", quick, rng, n=N_SEEDS_MC):
        g = np.random.default_rng(s)
        data = g.normal(size=(T, m, c)) * sig + mu
        mean, var = population_statistics(list(data))
        rel = var / sig**2 - 1.0
        rel_var.append(float(np.mean(rel)))
        rel_var_plain.append(float(np.mean((m - 1) / m * (1 + rel) - 1.0)))
        mean_err.append(float(np.mean((mean - mu) / sig)))
    v1, i1 = mean_ci("rel_bias_var", rel_var)
    v2, i2 = mean_ci("rel_bias_var_without_factor", rel_var_plain)
    v3, i3 = mean_ci("bias_mean_in_sd", mean_err)
    sym = general_proofs(("running_var_unbiased",))["running_var_unbiased"]
    return Measurement(
        f"m = {m}, T = {T}, {N_SEEDS_MC} seeds: relative bias of m/(m-1) E_B[sigma_B^2] "
        f"{v1['rel_bias_var']:+.4f} [{i1['rel_bias_var'][0]:+.4f}, {i1['rel_bias_var'][1]:+.4f}]"
        f"; without the factor {v2['rel_bias_var_without_factor']:+.4f}; SymPy (all m): {sym}",
        v1 | v2 | v3 | {"m": float(m), "T": float(T), "proven_symbolic_m": sym},
        i1 | i2 | i3,
    )


# --------------------------------------------------------------------------- inf-02
def _check_neglect(quick: bool, rng: np.random.Generator) -> Measurement:
    """What the m/(m-1) estimate misses of Var[x], against the variance of the batch means."""
    from bntheory.bn import population_statistics
    from bntheory.claims.core import measurement_seeds
    from bntheory.claims.stats import mean_ci

    m, T, c, sig2 = 16, (500 if quick else 2000), 32, 4.0
    gap, share, ratio = [], [], []
    for s in measurement_seeds("inf-02", quick, rng, n=N_SEEDS_MC):
        g = np.random.default_rng(s)
        data = g.normal(size=(T, m, c)) * np.sqrt(sig2)  # c independent populations
        _, var = population_statistics(list(data))
        missed = float(np.mean(1.0 - var / sig2))  # what the estimate misses, relative
        var_means = float(np.mean(np.var(data.mean(axis=1), axis=0, ddof=1))) / sig2
        gap.append(missed)
        share.append(var_means * m)  # Var[mu_B] / Var[x], in units of 1/m
        ratio.append(missed / var_means)
    v1, i1 = mean_ci("rel_gap", gap)
    v2, i2 = mean_ci("share_times_m", share)
    v3, i3 = mean_ci("gap_over_share", ratio)
    return Measurement(
        f"m = {m}: 1 - (m/(m-1) E[sigma_B^2]) / Var[x] = {v1['rel_gap']:+.4f}; "
        f"Var[mu_B] / Var[x] = {v2['share_times_m']:.3f} / m; missed share of Var[mu_B] "
        f"{v3['gap_over_share']:+.3f}",
        v1 | v2 | v3 | {"m": float(m), "inv_m": 1.0 / m},
        i1 | i2 | i3,
        note="law of total variance: Var[x] = E[sigma_B^2] + Var[mu_B] with "
        "E[sigma_B^2] = (m-1)/m Var[x], so the m/(m-1) factor accounts for Var[mu_B]",
    )


# --------------------------------------------------------------------------- inf-03
def _check_momentum(quick: bool, rng: np.random.Generator) -> Measurement:
    k, t, a = KERAS_BN.values, PYTORCH_BN.values, ALGORITHM_2.values
    return Measurement(
        "Keras/TF: momentum weights the "
        f"{k['keras_momentum_weights']} (default {k['keras_default_momentum']}); PyTorch: "
        f"momentum weights the {t['pytorch_momentum_weights']} (default "
        f"{t['pytorch_default_momentum']}); Alg. 2 uses an EMA: {a['alg2_uses_ema']}",
        dict(k)
        | dict(t)
        | {
            "alg2_uses_ema": a["alg2_uses_ema"],
            "pytorch_default_weight_on_old": 1.0 - float(t["pytorch_default_momentum"]),
        },
        citation=f"{KERAS_BN.citation}; {PYTORCH_BN.citation}; {ALGORITHM_2.citation}",
    )


# --------------------------------------------------------------------------- inf-04
def _check_ema_vs_alg2(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(ALGORITHM_2)


# --------------------------------------------------------------------------- inf-05
def _check_inference_affine(quick: bool, rng: np.random.Generator) -> Measurement:
    """Eval-mode BN against the article's formula, and one example in two different batches."""
    from bntheory.bn import BatchNorm

    c = 4
    bn = BatchNorm(c, momentum=None)
    bn.gamma = rng.uniform(0.5, 2.0, size=c)
    bn.beta = rng.normal(size=c)
    for _ in range(20):
        bn.forward(rng.normal(size=(16, c)) * 2 + 1, training=True)
    mu, var = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.normal(size=(10, c)) * 2 + 1
    other = np.vstack([x[:1], rng.normal(size=(9, c)) * 5 - 3])  # x[0] with other companions
    y = bn.forward(x, training=False)
    y_other = bn.forward(other, training=False)
    ref = bn.gamma * (x - mu) / np.sqrt(var + bn.eps) + bn.beta  # the article's formula
    scale = float(np.max(np.abs(ref)))
    err_formula = float(np.max(np.abs(y - ref)) / scale)
    err_companions = float(np.max(np.abs(y[0] - y_other[0])) / scale)
    y_train = bn.forward(x, training=True)
    y_train_other = bn.forward(other, training=True)
    train_dep = float(np.max(np.abs(y_train[0] - y_train_other[0])) / scale)
    return Measurement(
        f"eval mode vs gamma (x - E)/sqrt(Var + eps) + beta: {err_formula:.0e}; same example, "
        f"other batch: {err_companions:.0e} (train mode: {train_dep:.2f})",
        {
            "rel_err_formula": err_formula,
            "rel_change_other_batch": err_companions,
            "rel_change_other_batch_train_mode": train_dep,
        },
    )


# --------------------------------------------------------------------------- inf-06
def _check_train_noise(quick: bool, rng: np.random.Generator) -> Measurement:
    """Spread of a fixed example's BN output over random batch companions, over seeds."""
    from bntheory.bn import batch_norm_forward, batch_norm_inference
    from bntheory.claims.core import measurement_seeds
    from bntheory.claims.stats import mean_ci

    ms = [4, 16, 64, 256]
    reps = 400 if quick else 2000
    x0 = 1.0
    std32, slopes, inf_std = [], [], []
    for s in measurement_seeds("inf-06", quick, rng, n=N_SEEDS_MC):
        g = np.random.default_rng(s)
        stds = []
        for m in ms + [32]:
            # column r is one mini-batch: the fixed example x0 and m - 1 random companions
            x = np.vstack([np.full((1, reps), x0), g.normal(size=(m - 1, reps))])
            y, _ = batch_norm_forward(x, 1.0, 0.0)
            stds.append(float(np.std(y[0])))
            if m == 32:
                yi = batch_norm_inference(x, np.zeros(reps), np.ones(reps), 1.0, 0.0)
                inf_std.append(float(np.std(yi[0])))
        std32.append(stds[-1])
        spread = np.array(stds[:-1])
        slopes.append(
            float(np.polyfit(np.log(ms), np.log(spread), 1)[0])
            if np.all(spread > 0)
            else float("nan")  # no noise at all: no exponent
        )
    v1, i1 = mean_ci("train_std_m32", std32)
    v2, i2 = mean_ci("noise_exponent", slopes)
    return Measurement(
        f"std of a fixed example's train-mode output over batches (m = 32): "
        f"{v1['train_std_m32']:.3f}, shrinking as m^{v2['noise_exponent']:.2f}; "
        f"inference: {max(inf_std):.0e}",
        v1 | v2 | {"inference_std": max(inf_std)},
        i1 | i2,
    )


# --------------------------------------------------------------------------- inf-07
#: Batch sizes of inf-07: a typical one and an atypically small one.
INF07_SIZES = (32, 2)
#: Weight of the new batch in the running averages (PyTorch's default; the article's 0.9).
INF07_MOMENTUM = 0.1


def _running_mismatch(m: int, seed: int, snapshots: int) -> tuple[float, float]:
    """Relative RMS error of ``BatchNorm.running_var`` and RMS error of ``running_mean`` (in
    population standard deviations) against the known Gaussian population, over 64
    populations (channels) and ``snapshots`` times spaced 50 batches apart after a burn-in of
    100 batches (the initial values 0 / 1 have decayed by ``0.9^100 < 3e-5``; snapshots
    50 batches apart are correlated by ``0.9^50 < 1e-2``)."""
    from bntheory.bn import BatchNorm

    c = 64
    mu, sig = np.linspace(-2.0, 2.0, c), np.geomspace(0.2, 3.0, c)
    g = np.random.default_rng(seed)
    layer = BatchNorm(c, momentum=INF07_MOMENTUM)
    rel_var, err_mean = [], []
    for t in range(100 + 50 * snapshots):
        layer.forward(g.normal(size=(m, c)) * sig + mu, training=True)
        if t >= 100 and (t - 100) % 50 == 49:
            rel_var.append(layer.running_var / sig**2 - 1.0)
            err_mean.append((layer.running_mean - mu) / sig)
    return (
        float(np.sqrt(np.mean(np.square(rel_var)))),
        float(np.sqrt(np.mean(np.square(err_mean)))),
    )


def _check_running_mismatch(quick: bool, rng: np.random.Generator) -> Measurement:
    """Mismatch of the running averages (momentum 0.1, m/(m-1) correction) with the
    population statistics at a typical and an atypically small batch size, over seeds."""
    from bntheory.claims.core import measurement_seeds
    from bntheory.claims.stats import log_ratio_ci, mean_ci

    snapshots = 2 if quick else 8
    rows = {m: [] for m in INF07_SIZES}
    for s in measurement_seeds("inf-07", quick, rng, n=N_SEEDS_MC):
        for m in INF07_SIZES:
            rows[m].append(_running_mismatch(m, s, snapshots))
    vals, ivs = {}, {}
    for m in INF07_SIZES:
        for k, name in enumerate((f"rel_rms_var_m{m}", f"rms_mean_m{m}")):
            v, i = mean_ci(name, [r[k] for r in rows[m]])
            vals |= v
            ivs |= i
    v, i = log_ratio_ci(
        "var_ratio_small_typical", [r[0] for r in rows[2]], [r[0] for r in rows[32]]
    )
    vals |= v
    ivs |= i
    w = INF07_MOMENTUM
    for m in INF07_SIZES:  # stationary EMA of unbiased s^2: Var = w/(2-w) * 2/(m-1) sigma^4
        vals[f"predicted_rel_rms_var_m{m}"] = float(np.sqrt(w / (2 - w) * 2 / (m - 1)))
    return Measurement(
        f"running averages (momentum {w:g}) vs the population: relative RMS error of the "
        f"variance {vals['rel_rms_var_m32']:.4f} at m = 32, {vals['rel_rms_var_m2']:.4f} at "
        f"m = 2 (ratio {vals['var_ratio_small_typical']:.2f}); RMS error of the mean "
        f"{vals['rms_mean_m32']:.4f} / {vals['rms_mean_m2']:.4f} population sd",
        vals | {"momentum": w, "snapshots": float(snapshots)},
        ivs,
        note="the m/(m-1) correction makes each batch's variance unbiased at every m; what "
        "grows at small m is the variance of the running estimate, sqrt(w/(2-w) 2/(m-1)) "
        "relative for Gaussian data",
    )


# --------------------------------------------------------------------------- inf-08
#: Features per sample and batch size of inf-08.
INF08_FEATURES, INF08_BATCH = 16, 8


def _layer_norm(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """Layer normalization (Ba, Kiros & Hinton 2016, Eq. 4): mean and variance of each
    sample over its features, ``y = gamma (x - mu_i)/sqrt(sigma_i^2 + eps) + beta``.
    Written here independently of :mod:`bntheory.bn`."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _check_layer_norm(quick: bool, rng: np.random.Generator) -> Measurement:
    """A fixed sample's LN and train-mode BN outputs while its batch companions are
    resampled (from populations of random location and scale), over seeds.

    Round-off bound of the LN change (Higham 2002, Sec. 3.1, first order): each evaluation
    of a row's mean, variance and ``x_hat`` carries an absolute error of at most
    ``(H + 5) u (1 + |x_hat|)`` per entry, so two evaluations of the same row differ by at
    most twice that; the quantity decided is the change divided by this bound."""
    from bntheory.bn import batch_norm_forward
    from bntheory.claims.core import measurement_seeds
    from bntheory.claims.stats import mean_ci

    H, m = INF08_FEATURES, INF08_BATCH
    draws = 100 if quick else 400
    u = float(np.finfo(np.float64).eps) / 2
    ln_over_bound, bn_change, row_mean, row_var = [], [], [], []
    for s in measurement_seeds("inf-08", quick, rng, n=N_SEEDS_MC):
        g = np.random.default_rng(s)
        x0 = g.normal(size=H) * 1.5 + 0.5
        ln_ref = bn_ref = None
        ln_dev = bn_dev = 0.0
        for _ in range(draws):
            comp = g.normal(size=(m - 1, H)) * g.uniform(0.5, 3.0) + g.normal() * 2.0
            batch = np.vstack([x0, comp])
            y_ln = _layer_norm(batch, 1.0, 0.0)
            y_bn, _ = batch_norm_forward(batch, np.ones(H), np.zeros(H))
            if ln_ref is None:
                ln_ref, bn_ref = y_ln[0], y_bn[0]
                bound = 2 * (H + 5) * u * float(np.max(1.0 + np.abs(y_ln[0])))
            ln_dev = max(ln_dev, float(np.max(np.abs(y_ln[0] - ln_ref))))
            bn_dev = max(bn_dev, float(np.max(np.abs(y_bn[0] - bn_ref))))
            var_rows = np.var(batch, axis=1)
            row_mean.append(float(np.max(np.abs(y_ln.mean(axis=1)))))
            row_var.append(float(np.max(np.abs(y_ln.var(axis=1) - var_rows / (var_rows + 1e-5)))))
        ln_over_bound.append(ln_dev / bound)
        bn_change.append(bn_dev)
    v, i = mean_ci("bn_max_change", bn_change)
    vals = v | {
        "ln_max_change_over_roundoff_bound": max(ln_over_bound),
        "ln_max_row_mean": max(row_mean),
        "ln_max_row_var_err": max(row_var),
        "features": float(H),
        "batch": float(m),
        "draws": float(draws),
    }
    return Measurement(
        f"one sample's output over {draws} resampled sets of {m - 1} companions: LN change "
        f"{vals['ln_max_change_over_roundoff_bound']:.2g} x its round-off bound; train-mode BN "
        f"change {vals['bn_max_change']:.3f}; LN rows: |mean| <= {vals['ln_max_row_mean']:.0e},"
        f" variance error <= {vals['ln_max_row_var_err']:.0e}",
        vals,
        i,
    )


# --------------------------------------------------------------------------- inf-09
def _alg1_forward(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """Ioffe & Szegedy (2015), Algorithm 1 written out (biased batch variance), for any
    batch size including m = 1, which :func:`bntheory.bn.batch_norm_forward` (like PyTorch)
    refuses."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.sum(axis=0) / x.shape[0]
    var = np.sum((x - mu) ** 2, axis=0) / x.shape[0]
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _check_tiny_batches(quick: bool, rng: np.random.Generator) -> Measurement:
    """Train-mode BN on batches of one and of two samples: what of the input survives."""
    from bntheory.bn import batch_norm_forward
    from bntheory.claims.stats import proportion_ci

    n = 2000 if quick else 20000
    c, eps = 8, 1e-5
    # n independent inputs side by side: channel k of input r is column r * c + k
    gamma = np.tile(rng.uniform(0.5, 2.0, size=c), n)
    beta = np.tile(rng.normal(size=c), n)
    scales = np.repeat(10.0 ** rng.uniform(-1.0, 1.0, size=n), c)
    x1 = (rng.normal(size=(1, n * c)) * 3.0 + np.tile(rng.normal(size=c), n)) * scales
    m1_dev = float(np.max(np.abs(_alg1_forward(x1, gamma, beta, eps) - beta)))
    try:
        batch_norm_forward(x1[:, :c], gamma[:c], beta[:c], eps)
        refuses = False
    except ValueError:
        refuses = True
    x2u = rng.normal(size=(2, n * c))  # unit-scale pairs
    x2 = x2u * scales
    y, _ = batch_norm_forward(x2, gamma, beta, eps)
    var = (x2[0] - x2[1]) ** 2 / 4
    pred = gamma * np.sign(x2[0] - x2[1]) / np.sqrt(1.0 + eps / var)
    # first-order round-off bound of |y - beta - pred| / gamma (Higham 2002, Sec. 3.1): x - mu_B
    # carries 2 u max|x|, magnified by 1/sqrt(var + eps); var, the square root and the
    # products a few u of |x_hat| <= 1; forming y - beta loses u max(|y|, |beta|)
    u = float(np.finfo(np.float64).eps) / 2
    xmax = np.maximum(np.abs(x2[0]), np.abs(x2[1]))
    bound = 8 * u * (1.0 + (np.abs(beta) + np.abs(y[0])) / gamma + xmax / np.sqrt(var + eps))
    closed_err = float(np.max(np.abs(y[0] - beta - pred) / gamma / bound))
    yu, _ = batch_norm_forward(x2u[:, ::c], gamma[::c], beta[::c], eps)  # one channel per pair
    pm_gamma = int(np.sum(np.abs(yu[0] - beta[::c]) >= (1 - 1e-3) * gamma[::c]))

    v, i = proportion_ci("m2_fraction_pm_gamma", pm_gamma, n)
    vals = v | {
        "m1_max_abs_y_minus_beta": m1_dev,
        "m2_closed_form_err_over_bound": closed_err,
        "library_refuses_m1": refuses,
        "inputs": float(n),
    }
    return Measurement(
        f"{n} inputs (scales 0.1-10): m = 1: max |y - beta| = {m1_dev:.0e}; m = 2: "
        f"|y - beta| = gamma/sqrt(1 + eps/sigma_B^2) to {closed_err:.2g} x round-off, within 0.1 % of "
        f"+-gamma for {vals['m2_fraction_pm_gamma']:.3f} of unit-scale pairs; library "
        f"refuses m = 1: {refuses}",
        vals,
        i,
    )


CLAIMS = [
    Claim(
        "inf-01",
        "inference",
        "mu ~ 1/T sum mu_B^t and sigma^2 ~ m/(m-1) 1/T sum sigma_B^{2,t} ... providing an unbiased estimate",
        "Ioffe & Szegedy (2015), Alg. 2, lines 8-10",
        "numerical",
        "unbiased population estimate",
        _check_unbiased,
        literal=Reading(
            "the mean of batch means and m/(m-1) times the mean of batch variances are "
            "unbiased estimates of the population mean and variance",
            (
                P("rel_bias_var", "==", 0.0, tol=0.05),
                P("bias_mean_in_sd", "==", 0.0, tol=0.05),
                P("proven_symbolic_m", "is", True),
            ),
            "0.05 is 40 % of the bias 1/m = 0.125 that the m/(m-1) factor removes at m = 8, "
            "and several times the 95 % half-width expected from the Monte Carlo error "
            "(relative SE sqrt(2/((m-1) T)) per population, 30 populations, 5 seeds)",
        ),
        explain=(
            "Over {rel_bias_var_n:.0f} seeds of T = {T:.0f} mini-batches of m = {m:.0f}, "
            "m/(m-1) times the mean batch variance has relative bias {rel_bias_var:+.4f} "
            "(without the factor: {rel_bias_var_without_factor:+.3f}, i.e. -1/m), and SymPy "
            "proves E[sigma_B^2] = (m-1)/m sigma^2 for every m."
        ),
    ),
    Claim(
        "inf-02",
        "inference",
        "(approximating by neglecting the typically small variance of the batch means)",
        "law of total variance; Ioffe & Szegedy (2015), Alg. 2",
        "numerical",
        "batch-mean variance neglected",
        _check_neglect,
        literal=Reading(
            "the estimate m/(m-1) E_B[sigma_B^2] neglects the variance of the batch means: "
            "it falls short of Var[x] by (at least half of) Var[mu_B]",
            (P("gap_over_share", ">=", 0.5),),
            "'neglecting' Var[mu_B] means missing it; half of it is the midpoint between "
            "missing all of it (1) and none (0); Monte Carlo CI over 5 seeds",
        ),
        corrected=Reading(
            "nothing is neglected: m/(m-1) E_B[sigma_B^2] = Var[x], the factor m/(m-1) "
            "accounting exactly for Var[mu_B] = Var[x]/m",
            (
                P("rel_gap", "==", 0.0, tol=0.02),
                P("share_times_m", "==", 1.0, tol=0.25),
            ),
            "0.02 is a third of the share 1/m = 0.0625 (m = 16) the reading says is accounted "
            "for; 0.25: Var[mu_B] must be 1/m of Var[x] to within a quarter, several times "
            "its Monte Carlo CI (relative SE sqrt(2/(T c)) per seed, c = 32 populations)",
            source="law of total variance; Ioffe & Szegedy (2015), Alg. 2 line 10 (unbiased)",
        ),
        explain=(
            "The m/(m-1) estimate misses {rel_gap:+.4f} of Var[x], while the batch means carry "
            "{share_times_m:.3f}/m of it: the estimate misses {gap_over_share:+.2f} of the "
            "batch-mean variance it is said to neglect. By the law of total variance the "
            "factor m/(m-1) is exactly what accounts for Var[mu_B] (1/m of Var[x] for "
            "i.i.d. batches): nothing is neglected."
        ),
    ),
    Claim(
        "inf-03",
        "inference",
        "running_mean <- momentum x running_mean + (1 - momentum) x mu_B ... momentum (commonly set to 0.9 or 0.99)",
        "Keras/TF and PyTorch documentation; Ioffe & Szegedy (2015), Alg. 2",
        "literature",
        "EMA, momentum 0.9/0.99 on the old value",
        _check_momentum,
        literal=Reading(
            "the parameter called momentum weights the old running value and is commonly "
            "0.9 or 0.99 (Keras/TensorFlow and PyTorch)",
            (
                P("keras_momentum_weights", "is", "old value"),
                P("keras_default_momentum", "in", (0.9, 0.99)),
                P("pytorch_momentum_weights", "is", "old value"),
            ),
            "conventions are categorical; defaults are exact documented values",
        ),
        corrected=Reading(
            "the formula is the Keras/TensorFlow convention; PyTorch's momentum (default 0.1) "
            "weights the new batch, i.e. 0.9 on the old value; Ioffe & Szegedy's Alg. 2 "
            "uses no moving average",
            (
                P("keras_momentum_weights", "is", "old value"),
                P("keras_default_momentum", "in", (0.9, 0.99)),
                P("pytorch_momentum_weights", "is", "new value"),
                P("pytorch_default_weight_on_old", "in", (0.9, 0.99), tol=1e-12),
                P("alg2_uses_ema", "is", False),
            ),
            "categorical facts; 1e-12 absorbs the float subtraction 1 - 0.1",
            source="Keras and PyTorch BatchNorm documentation; Ioffe & Szegedy (2015), Alg. 2",
        ),
        evidence="source",
        explain=(
            "The formula is Keras/TensorFlow's (momentum weights the {keras_momentum_weights}, "
            "default {keras_default_momentum}); in PyTorch momentum weights the "
            "{pytorch_momentum_weights} (default {pytorch_default_momentum}, i.e. "
            "{pytorch_default_weight_on_old:.1f} on the old value), so the article's values "
            "plugged into PyTorch's momentum would weight the newest batch most. Ioffe & "
            "Szegedy's Algorithm 2 uses no moving average."
        ),
    ),
    Claim(
        "inf-04",
        "inference",
        "These population statistics are estimated during training by maintaining running averages",
        "Ioffe & Szegedy (2015), Alg. 2 and Sec. 3.1",
        "literature",
        "running averages during training",
        _check_ema_vs_alg2,
        literal=Reading(
            "the cited method estimates the population statistics during training with "
            "running averages",
            (P("alg2_population_statistics", "is", "running averages during training"),),
            "categorical fact of the cited algorithm",
        ),
        corrected=Reading(
            "Alg. 2 averages batch statistics over training mini-batches with the trained, "
            "frozen network; Ioffe & Szegedy add that moving averages instead let one track "
            "the accuracy of a model as it trains, which is what frameworks implement",
            (
                P(
                    "alg2_population_statistics",
                    "is",
                    "averages over training mini-batches after training",
                ),
                P("alg2_network_during_estimate", "is", "frozen trained network"),
                P("paper_mentions_moving_averages", "is", True),
            ),
            "categorical facts of the cited algorithm and text",
            source="Ioffe & Szegedy (2015), Alg. 2 lines 7-10 and Sec. 3.1",
        ),
        evidence="source",
        explain=(
            "Algorithm 2 computes the population statistics as {alg2_population_statistics}, "
            "with the {alg2_network_during_estimate}. Ioffe & Szegedy also write that using "
            "moving averages instead lets one track the accuracy of a model as it trains; "
            "running averages during training are therefore the paper's own alternative and "
            "the frameworks' default, not its Algorithm 2."
        ),
    ),
    Claim(
        "inf-05",
        "inference",
        "x_hat = (x - mu)/sqrt(sigma^2 + eps) followed by y = gamma x_hat + beta ... consistent, batch-independent predictions",
        "Ioffe & Szegedy (2015), Alg. 2, line 11",
        "numerical",
        "deterministic affine map",
        _check_inference_affine,
        literal=Reading(
            "in inference BN is the article's formula with fixed statistics, and an example's "
            "output does not depend on the other examples of its batch",
            (
                P("rel_err_formula", "<=", ROUNDOFF),
                P("rel_change_other_batch", "<=", ROUNDOFF),
            ),
            "float64 round-off of an affine map (ROUNDOFF)",
        ),
        explain=(
            "In eval mode the layer equals gamma (x - E[x])/sqrt(Var[x] + eps) + beta to "
            "{rel_err_formula:.0e}, and the same example in another batch gets the same "
            "output (difference {rel_change_other_batch:.0e}); in train mode it changes by "
            "{rel_change_other_batch_train_mode:.2f}."
        ),
    ),
    Claim(
        "inf-06",
        "inference",
        "mini-batch statistics introduce stochastic noise that acts as a form of regularization",
        "Ioffe & Szegedy (2015), Sec. 3.4",
        "numerical",
        "train-mode output is noisy, inference is not",
        _check_train_noise,
        literal=Reading(
            "in training a fixed example's output varies with its batch companions; with "
            "fixed (inference) statistics it does not",
            (
                P("train_std_m32", ">=", 0.01),
                P("inference_std", "<=", ROUNDOFF),
            ),
            "noise counts as present above 1 % of the unit output scale, twelve orders above "
            "round-off; inference output must be constant to round-off (ROUNDOFF); CI over "
            "5 seeds",
        ),
        explain=(
            "With batch size 32 a fixed example's train-mode output has standard deviation "
            "{train_std_m32:.3f} over random companions, shrinking with batch size as "
            "m^{noise_exponent:.2f}; with fixed statistics it is constant ({inference_std:.0e}). "
            "That this noise regularizes is not measured here."
        ),
    ),
    Claim(
        "inf-07",
        "inference",
        "relying on the precomputed running averages ... though this can introduce minor "
        "mismatches if training batches were atypically sized",
        "Ioffe & Szegedy (2015), Alg. 2 and Sec. 3.1 (moving averages); Wu & He (2018)",
        "numerical",
        "minor mismatches at atypical batch sizes",
        _check_running_mismatch,
        literal=Reading(
            "the running averages (momentum 0.1, m/(m-1) correction) match the population "
            "mean and variance to a minor error (at most 10 % relative RMS, the mean in "
            "population sd) at a typical batch size m = 32, and the mismatch is larger but "
            "still minor at an atypically small m = 2 (at least twice that at m = 32)",
            (
                P("rel_rms_var_m32", "<=", 0.10),
                P("rms_mean_m32", "<=", 0.10),
                P("rel_rms_var_m2", "<=", 0.10),
                P("rms_mean_m2", "<=", 0.10),
                P("var_ratio_small_typical", ">=", 2.0),
            ),
            "the article gives no number: 'minor' is read as at most a tenth of the quantity "
            "(one order of magnitude below it; a 10 % variance error rescales normalized "
            "outputs by about 5 %); 'larger' as at least a factor 2; 95 % t-intervals over "
            "5 seeds, each an RMS over 64 populations and 2 (quick) or 8 (full) snapshots "
            "50 batches apart (standard error of an RMS from n samples about 1/sqrt(2n))",
        ),
        corrected=Reading(
            "at a typical batch size the mismatch is minor, but with small batches the "
            "running estimates are inaccurate: the variance mismatch at m = 2 is not minor "
            "(above 10 %) and at least twice that at m = 32",
            (
                P("rel_rms_var_m32", "<=", 0.10),
                P("rms_mean_m32", "<=", 0.10),
                P("rel_rms_var_m2", ">=", 0.10),
                P("var_ratio_small_typical", ">=", 2.0),
            ),
            "same thresholds as the literal reading: 'minor' is at most 10 %, 'larger' a "
            "factor 2; 95 % t-intervals over 5 seeds",
            source="Wu & He (2018), Group Normalization, abstract: BN's error increases "
            "rapidly as the batch size becomes smaller, caused by inaccurate batch statistics "
            "estimation; Ioffe (2017), Batch Renormalization, abstract",
        ),
        explain=(
            "With PyTorch's default momentum ({momentum:g} on the new batch) the running "
            "variance of a Gaussian population is off by {rel_rms_var_m32:.3f} (relative RMS) "
            "at batch size 32 and by {rel_rms_var_m2:.3f} at batch size 2, a factor "
            "{var_ratio_small_typical:.1f}; the running mean by {rms_mean_m32:.3f} and "
            "{rms_mean_m2:.3f} population standard deviations. The m/(m-1) correction keeps "
            "the estimate unbiased at every batch size; what grows is its noise, as "
            "sqrt(w/(2-w) 2/(m-1)) ({predicted_rel_rms_var_m32:.3f} and "
            "{predicted_rel_rms_var_m2:.3f} predicted). The mismatch is minor at a typical "
            "batch size, not at a batch size of 2. Only i.i.d. Gaussian data are measured, "
            "not a trained network."
        ),
    ),
    Claim(
        "inf-08",
        "inference",
        "batch-independent normalization techniques like layer normalization, which "
        "normalizes across features within each individual sample rather than across a batch",
        "Ba, Kiros & Hinton (2016), Eq. 4",
        "numerical",
        "LN output independent of the batch",
        _check_layer_norm,
        literal=Reading(
            "layer normalization normalizes each sample over its features (every output row "
            "has mean 0 and variance sigma_i^2/(sigma_i^2 + eps) to round-off) and a sample's "
            "output does not change when its batch companions are resampled (to within its "
            "round-off bound), whereas train-mode BN's does (by at least a tenth)",
            (
                P("ln_max_row_mean", "<=", ROUNDOFF),
                P("ln_max_row_var_err", "<=", ROUNDOFF),
                P("ln_max_change_over_roundoff_bound", "<=", 1.0),
                P("bn_max_change", ">=", 0.1),
            ),
            "row mean and variance of O(1) values over 16 features: errors of a few hundred "
            "ulp at most (ROUNDOFF); the LN change is divided by its first-order round-off "
            "bound 2 (H + 5) u max(1 + |x_hat|) (see the check), so 1 is the most round-off "
            "can give; BN's dependence on the batch counts as present above a tenth of the "
            "unit output scale; 95 % t-interval over 5 seeds",
        ),
        explain=(
            "Layer normalization, written from Ba et al.'s Eq. 4, gives every sample zero mean "
            "(to {ln_max_row_mean:.0e}) and the expected variance over its features (to "
            "{ln_max_row_var_err:.0e}); over {draws:.0f} resampled sets of batch companions a "
            "fixed sample's LN output changes by {ln_max_change_over_roundoff_bound:.2g} times "
            "its round-off bound, while its train-mode BN output changes by up to "
            "{bn_max_change:.2f} (largest change per seed, mean over seeds)."
        ),
    ),
    Claim(
        "inf-09",
        "inference",
        "processing small or single-sample inputs ... where computing fresh mini-batch "
        "statistics is infeasible or unreliable due to high variance in small samples",
        "Ioffe & Szegedy (2015), Alg. 1",
        "numerical",
        "batch statistics infeasible for single samples",
        _check_tiny_batches,
        literal=Reading(
            "with fresh batch statistics nothing of a single sample survives (m = 1: y = beta "
            "whatever the input), and a batch of two keeps only which input is larger (m = 2: "
            "y = beta +- gamma/sqrt(1 + eps/sigma_B^2), within 0.1 % of beta +- gamma for most "
            "unit-scale inputs)",
            (
                P("m1_max_abs_y_minus_beta", "<=", ROUNDOFF),
                P("m2_closed_form_err_over_bound", "<=", 1.0),
                P("m2_fraction_pm_gamma", ">=", 0.5),
            ),
            "x - mu_B is exactly 0 at m = 1 (ROUNDOFF is a formality); at m = 2 the closed "
            "form and the layer are compared with the first-order round-off bound "
            "8 u (1 + (|beta| + |y|)/gamma + max|x|/sqrt(sigma_B^2 + eps)) (see the check), so "
            "1 is the most round-off can give; "
            "'most' is a majority (Clopper-Pearson interval)",
        ),
        explain=(
            "Train-mode BN of a single sample returns beta whatever the input (largest "
            "deviation {m1_max_abs_y_minus_beta:.0e} over {inputs:.0f} inputs; that the "
            "library refuses such a batch is {library_refuses_m1}). With two samples each output is beta +- "
            "gamma/sqrt(1 + eps/sigma_B^2) (the layer meets this closed form to "
            "{m2_closed_form_err_over_bound:.2g} times its round-off bound), and "
            "for a fraction {m2_fraction_pm_gamma:.3f} of unit-scale pairs it is within a "
            "thousandth of beta +- gamma: only the order of the two inputs survives."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "inf-01": (
        "bn.population_statistics; symbolic (running_var_unbiased)",
        "tests/test_bn.py",
        "-",
    ),
    "inf-02": ("bn.population_statistics", "tests/test_bn.py", "-"),
    "inf-03": ("claims.inference (source facts)", "tests/test_bn.py", "-"),
    "inf-04": ("claims.inference (source facts)", "-", "-"),
    "inf-05": ("bn.BatchNorm (eval mode)", "tests/test_bn.py", "-"),
    "inf-06": ("bn.batch_norm_forward, bn.batch_norm_inference", "tests/test_bn.py", "-"),
    "inf-07": ("bn.BatchNorm (running averages)", "tests/test_bn.py", "-"),
    "inf-08": (
        "claims.inference._layer_norm; bn.batch_norm_forward",
        "tests/claims/test_inference.py",
        "-",
    ),
    "inf-09": (
        "claims.inference._alg1_forward; bn.batch_norm_forward",
        "tests/claims/test_inference.py",
        "-",
    ),
}

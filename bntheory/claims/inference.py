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
}

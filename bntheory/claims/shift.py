"""Covariate-shift quantification (Ioffe & Szegedy 2015, Fig. 1; Santurkar et al. 2018).

Source claims store what the cited papers show (:data:`SANTURKAR_ICS_MEASURE` and
:data:`bntheory.claims.ics.IOFFE_FIG1`); measured claims return confidence intervals over the
pre-registered seeds (quick 3, full 10; ``core.N_SEEDS``).
"""

from __future__ import annotations

import numpy as np

from bntheory.claims._netexp import fmt_ci
from bntheory.claims.core import Claim, Measurement, P, Reading, SourceFact, untestable_check

SECTION = "covariate-shift-quantification"

#: Seeds of cs-08 in quick mode (the Gaussian-mixture substitute; the per-seed log ratio
#: scatters with a standard deviation of about 0.75 in a pilot). Full mode uses the 3 MNIST
#: seeds of ics-02 (``_netexp.N_IOFFE_MNIST``: the paper's 50,000-step protocol is what
#: bounds their number). The full entry is kept for callers of the old table.
N_LAYERS = {True: 6, False: 10}

#: Santurkar et al. (2018), Def. 2.1 and Fig. 3: ICS of layer i is
#: the change of its GRADIENT when the earlier layers take their step (l2 difference and
#: cosine); mean/variance plots appear only for the noisy-BN ablation (Fig. 2).
SANTURKAR_ICS_MEASURE = SourceFact(
    "Santurkar et al. (2018), Def. 2.1, Fig. 3",
    {
        "ics_measure": "l2 difference and cosine of layer gradients (Def. 2.1)",
        "networks": "VGG on CIFAR-10 and a 25-layer deep linear network",
    },
)


def _ioffe_fig1_fact() -> SourceFact:
    from bntheory.claims import ics

    return ics.IOFFE_FIG1


def _check_histograms(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(_ioffe_fig1_fact())


def _check_early_layers_source(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(_ioffe_fig1_fact())


def _check_measure(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(SANTURKAR_ICS_MEASURE)


def _check_comparable(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import N_DLN, dln_moment_shift, paired_ratio_ci, per_seed
    from bntheory.claims.ics import ics_ratio
    from bntheory.claims.stats import mean_ci

    v, iv = ics_ratio(quick, rng)
    rows = per_seed("dln-ics", dln_moment_shift, quick, rng, variant="-moments", n=N_DLN)
    ok = [r["completed_plain"] * r["completed_bn"] for r in rows]
    a, b = paired_ratio_ci(
        "moment_ratio",
        [r["moment_bn"] if o else np.nan for r, o in zip(rows, ok, strict=True)],
        [r["moment_plain"] if o else np.nan for r, o in zip(rows, ok, strict=True)],
    )
    v |= a
    iv |= b
    for name in ("moment_bn", "moment_plain"):
        a, b = mean_ci(name, [r[name] for r in rows])
        v |= a
        iv |= b
    return Measurement(
        f"BN / no BN shift, 10-layer deep linear net: article's mean/std measure "
        f"{v['moment_ratio']:.3g} (95 % CI {fmt_ci(iv, 'moment_ratio')}); Santurkar's "
        f"gradient measure (Def. 2.1) {v['ics_ratio']:.3g} (95 % CI {fmt_ci(iv, 'ics_ratio')})",
        v,
        iv,
        note=(
            "same runs as ics-03 (width 16, MSE on a linear teacher, SGD lr 0.02, batch 32, "
            "10 steps, same data and batch order); mean/std measure = ||(change of the "
            "per-feature mean, change of the per-feature std)|| / ||std|| of each layer's "
            "input on the training set between consecutive steps, mean over layers >= 1"
        ),
    )


def _check_shift_vs_speed(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import N_DLN_CORR, dln_ics, per_seed, spearman_ci
    from bntheory.claims.stats import mean_ci

    rows = per_seed("dln-ics", dln_ics, quick, rng, n=N_DLN_CORR[quick])
    ok = [r for r in rows if r["completed_plain"] and r["completed_bn"]]
    x = [r[f"rel_{t}"] for r in ok for t in ("plain", "bn")]
    y = [r[f"speed_{t}"] for r in ok for t in ("plain", "bn")]
    v, iv = spearman_ci("rho", x, y)
    v["n_runs"] = float(len(x))
    v["n_diverged_seeds"] = float(len(rows) - len(ok))
    for name in ("speed_bn", "speed_plain"):
        a, b = mean_ci(name, [r[name] for r in ok])
        v |= a
        iv |= b
    return Measurement(
        f"Spearman correlation of Santurkar's ICS with training speed over {len(x)} runs "
        f"(with and without BN, {len(ok)} seeds): {v['rho']:.3g} (95 % CI "
        f"{fmt_ci(iv, 'rho')}); speed {v['speed_bn']:.3g} (BN) vs {v['speed_plain']:.3g}",
        v,
        iv,
        note=(
            "the runs of ics-03 (10-layer deep linear net, SGD lr 0.02, batch 32, 10 steps, "
            "each with and without BN; quick: the 20 seeds of ics-03, full: 160 seeds); ICS = "
            "mean relative ||G - G'||/||G|| over layers >= 1 and every second step; speed = log(L_0 / L_10) / 10 (full-batch loss); seeds "
            "with a diverged run are left out and counted"
        ),
    )


def _check_early_layers(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import (
        ioffe_mnist_rows,
        paired_ratio_ci,
        per_seed,
        sigmoid_drift_layers,
    )
    from bntheory.claims.stats import mean_ci

    if quick:
        rows = per_seed("sigmoid-layers", sigmoid_drift_layers, quick, rng, n=N_LAYERS[quick])
        where = "10-class Gaussian mixture (the quick substitute, not MNIST)"
    else:  # the ics-02 runs, walked backwards so that the two claims split the work
        rows = ioffe_mnist_rows(rng, reverse=True)
        where = "MNIST at Ioffe & Szegedy's protocol"
    red = {
        k: [r[f"drift_plain_layer{k}"] / r[f"drift_bn_layer{k}"] for r in rows] for k in range(3)
    }
    v, iv = paired_ratio_ci("early_over_late", red[0], red[2])
    for k in range(3):
        a, b = mean_ci(f"reduction_layer{k}", red[k])
        v |= a
        iv |= b
    v["n_seeds"] = float(len(rows))
    v["dataset"] = where
    return Measurement(
        f"{where}: drift reduction (no BN / BN) first vs last hidden layer: ratio "
        f"{v['early_over_late']:.3g} (95 % CI {fmt_ci(iv, 'early_over_late')}); per layer "
        + ", ".join(f"{v[f'reduction_layer{k}']:.3g}" for k in range(3))
        + f"; {len(rows)} seeds",
        v,
        iv,
        note=_EARLY_NOTE[quick],
    )


#: What cs-08 runs in each mode.
_EARLY_NOTE = {
    True: (
        "quick: 3 sigmoid hidden layers of width 32, one unit (unit 0) per layer, 10-class "
        "Gaussian mixture in 20-D (a designed setting, not MNIST), SGD lr 0.5, batch 60, 300 "
        "steps, 6 seeds; drift = max |percentile - initial| of {15, 50, 85}th percentiles / "
        "initial 15-85 spread"
    ),
    False: (
        "full: the MNIST runs of ics-02 (Ioffe & Szegedy's Sec. 4.1 protocol, "
        "784-100-100-100-10 sigmoid, SGD batch 60, 50,000 steps, declared lr 0.5; 3 seeds, "
        "shared with the ioffe_fig1_mnist experiment); per-layer drift = median over the "
        "layer's 100 units of max |percentile - initial| ({15, 50, 85}th, test set, "
        "inference network) / initial 15-85 spread"
    ),
}


_CI_WHY = (
    "decided on the 95 % t-interval of the mean paired log ratio over the pre-registered "
    "seeds (quick 3, full 10), which carries the seed-to-seed Monte Carlo error; "
)

CLAIMS = [
    Claim(
        "cs-01",
        SECTION,
        "A common approach is the Kullback-Leibler (KL) divergence between the activation "
        "distributions",
        "none given",
        "literature",
        "KL(p_1 || p_k)",
        untestable_check,
        evidence="none",
        untestable=(
            "how common a measure is in the literature at large is a bibliometric fact with "
            "no citation here; neither cited paper uses a KL divergence (Ioffe & Szegedy "
            "Fig. 1: percentiles; Santurkar et al. Def. 2.1: gradient change), see cs-02 and "
            "cs-04"
        ),
    ),
    Claim(
        "cs-02",
        SECTION,
        "experiments on a multi-layer network trained on MNIST ... visualized in histograms "
        "of layer inputs",
        "Ioffe & Szegedy (2015), Fig. 1",
        "literature",
        "MNIST histograms",
        _check_histograms,
        literal=Reading(
            "Ioffe & Szegedy's MNIST experiment shows histograms of layer inputs",
            (P("dataset", "is", "MNIST"), P("plot", "is", "histograms of layer inputs")),
            "categorical facts of the source: exact match",
        ),
        corrected=Reading(
            "the MNIST experiment shows percentile curves of one unit's sigmoid input over "
            "training",
            (
                P("dataset", "is", "MNIST"),
                P("plot", "is", "15/50/85th percentiles over training"),
            ),
            "categorical facts of the source: exact match",
            source="Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1(b,c)",
        ),
        evidence="source",
        explain=(
            "The data set ({dataset}) is right, but Fig. 1(b,c) plots the {plot} of the "
            "sigmoid input of one unit of the {layer_shown}, not histograms."
        ),
    ),
    Claim(
        "cs-03",
        SECTION,
        "Results indicated that this stabilization is particularly pronounced in early layers",
        "Ioffe & Szegedy (2015), Fig. 1 (last hidden layer)",
        "literature",
        "Ioffe & Szegedy report it for early layers",
        _check_early_layers_source,
        literal=Reading(
            "Ioffe & Szegedy's results show the stabilization in early layers",
            (P("layer_shown", "is", "early hidden layers"),),
            "categorical facts of the source: exact match",
        ),
        evidence="source",
        explain=(
            "Ioffe & Szegedy show one unit of the {layer_shown} only and say nothing about "
            "early layers; cs-08 measures the layer dependence."
        ),
    ),
    Claim(
        "cs-04",
        SECTION,
        "Using a measure based on the L2 difference in mean and standard deviation of layer inputs",
        "Santurkar et al. (2018), Def. 2.1",
        "literature",
        "mean/std-based ICS",
        _check_measure,
        literal=Reading(
            "Santurkar et al. measure shift by the L2 difference of the mean and standard "
            "deviation of layer inputs",
            (P("ics_measure", "is", "l2 difference of layer-input mean and std"),),
            "categorical facts of the source: exact match",
        ),
        evidence="source",
        explain=(
            "Santurkar et al.'s measure is the {ics_measure}: how much a layer's gradient "
            "changes when the earlier layers take their step (on {networks}). cs-06 measures "
            "both."
        ),
    ),
    Claim(
        "cs-05",
        SECTION,
        "reaching 83% accuracy on CIFAR-10 with a VGG-like ReLU network versus 80% without",
        "Santurkar et al. (2018), Fig. 1",
        "literature",
        "83% vs 80%",
        untestable_check,
        evidence="none",
        untestable=(
            "the 83 %/80 % figures are not in the available text of Santurkar et al. (a "
            "third-party summary only), and VGG training on CIFAR-10 is out of reach on 2 "
            "CPU cores; ics-08 compares trainable learning rates of a small MLP"
        ),
    ),
    Claim(
        "cs-06",
        SECTION,
        "batch-normalized networks exhibit comparable or sometimes greater shift magnitudes",
        "Santurkar et al. (2018), Fig. 3",
        "experiment",
        "shift(BN) >= shift(no BN)",
        _check_comparable,
        literal=Reading(
            "with the article's measure (change of layer-input mean and std), the shift with "
            "BN is comparable to (at least 0.8x) or greater than without",
            (P("moment_ratio", ">=", 0.8),),
            _CI_WHY + "'comparable' = within 20 % (the precision a figure-level comparison "
            "of the two curves supports), 'or greater' = no upper bound",
        ),
        corrected=Reading(
            "with Santurkar's gradient measure (Def. 2.1), the shift with BN is at least 0.8x "
            "that without",
            (P("ics_ratio", ">=", 0.8),),
            _CI_WHY + "same 20 % reading of 'comparable'",
            source="Santurkar et al. (2018), Def. 2.1, Fig. 3",
        ),
        explain=(
            "On the same runs, the article's mean/std measure gives BN / no BN = "
            "{moment_ratio:.3g} (BN {moment_bn:.3g}, no BN {moment_plain:.3g}), Santurkar et "
            "al.'s gradient measure {ics_ratio:.3g}."
        ),
    ),
    Claim(
        "cs-07",
        SECTION,
        "This lack of correlation between measured shift and training speed",
        "Santurkar et al. (2018), Sec. 2, Fig. 3",
        "experiment",
        "no correlation of ICS with speed",
        _check_shift_vs_speed,
        literal=Reading(
            "across runs with and without BN, measured ICS and training speed are at most "
            "weakly correlated (|Spearman rho| <= 0.3)",
            (P("rho", "in", (-0.3, 0.3)),),
            "0.3: the conventional bound of a 'small' correlation (Cohen 1988); decided on "
            "the 95 % Fisher-z interval of the Spearman correlation (Fieller, Hartley & "
            "Pearson 1957) over two runs per pre-registered seed (full 160 seeds)",
        ),
        corrected=Reading(
            "more measured ICS does not go with slower training (rho >= -0.3)",
            (P("rho", ">=", -0.3),),
            "the ICS hypothesis predicts a negative correlation; same bound and interval",
            source="Santurkar et al. (2018), Sec. 2 (BN: as much ICS, faster training)",
        ),
        explain=(
            "Over {n_runs:.0f} runs of the deep linear net (with and without BN), the rank "
            "correlation between Santurkar's ICS and the training speed is {rho:.3g}; BN "
            "trains at speed {speed_bn:.3g} against {speed_plain:.3g} without."
        ),
        stability_note=(
            "the correlation sits on the pre-registered 0.3 bound (full mode, 160 seeds: rho "
            "about 0.3-0.4 with a 95 % half-width of about 0.1), so across master seeds the "
            "verdict moves between inconclusive and holds-with-correction; separating it from "
            "the bound would need several times the runs"
        ),
        quick_note=(
            "quick uses the 20 seeds of ics-03 (40 runs): its interval is three times wider "
            "than full mode's (160 seeds) and cannot separate a moderate correlation from the "
            "0.3 bound, so quick may come out inconclusive where full decides"
        ),
    ),
    Claim(
        "cs-08",
        SECTION,
        "this stabilization is particularly pronounced in early layers",
        "reference article (measured; Ioffe & Szegedy show only the last hidden layer)",
        "experiment",
        "largest drift reduction in the first layer",
        _check_early_layers,
        literal=Reading(
            "BN reduces the drift of the sigmoid inputs at least as much in the first hidden "
            "layer as in the last",
            (P("early_over_late", ">=", 1.0),),
            _CI_WHY + "'particularly pronounced in early layers' = reduction factor of the "
            "first layer >= that of the last",
        ),
        quick_note=(
            "quick runs a 10-class Gaussian mixture (unit 0 of each layer, 300 steps, 6 "
            "seeds); full runs the MNIST networks of ics-02 at Ioffe & Szegedy's protocol "
            "(median unit of each layer, 50,000 steps, 3 seeds)"
        ),
        explain=(
            "On {dataset}, the drift reduction by BN (no BN / BN) is {reduction_layer0:.3g} "
            "in the first, "
            "{reduction_layer1:.3g} in the second and {reduction_layer2:.3g} in the last "
            "hidden layer (first / last = {early_over_late:.3g}, geometric mean over seeds)."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "cs-01": ("-", "-", "-"),
    "cs-02": ("claims.ics.IOFFE_FIG1 (source)", "tests/claims/test_shift.py", "ioffe_fig1"),
    "cs-03": ("claims.ics.IOFFE_FIG1 (source)", "tests/claims/test_shift.py", "ioffe_fig1"),
    "cs-04": ("claims.shift (source: Santurkar Def. 2.1)", "tests/claims/test_shift.py", "-"),
    "cs-05": ("-", "-", "-"),
    "cs-06": (
        "nets.measurements.internal_covariate_shift, layer_input_moment_shift",
        "tests/nets/test_measurements.py, tests/claims/test_shift.py",
        "-",
    ),
    "cs-07": (
        "nets.measurements.internal_covariate_shift",
        "tests/nets/test_measurements.py, tests/claims/test_shift.py",
        "-",
    ),
    "cs-08": (
        "nets.ioffe2015.ioffe_figure1_mnist (full), nets.train probes (quick)",
        "tests/nets/test_ioffe2015.py, tests/nets/test_train.py, tests/claims/test_shift.py",
        "ioffe_fig1_mnist",
    ),
}

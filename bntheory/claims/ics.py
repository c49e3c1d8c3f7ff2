"""Internal covariate shift and its modern interpretations (Ioffe & Szegedy 2015;
Santurkar et al. 2018; Bjorck et al. 2018).

Source claims store what the cited paper shows (:data:`IOFFE_FIG1`,
:data:`SANTURKAR_ABLATION`); measured claims run the multi-seed network experiments of
:mod:`bntheory.claims._netexp` and return confidence intervals of paired BN / no-BN log
ratios over the pre-registered seeds (quick 3, full 10; ``core.N_SEEDS``).
"""

from __future__ import annotations

import numpy as np

from bntheory.claims._netexp import fmt_ci
from bntheory.claims.core import Claim, Measurement, P, Reading, SourceFact, untestable_check

SECTION = "internal-covariate-shift"

#: Seeds of ics-06 (quick, full): the per-seed log ratio of the anisotropies scatters with
#: a standard deviation of about 0.4 (pilot), so 3 seeds (t = 4.3) leave an interval of about
#: +-1 in log; 6 seeds bring it to about +-0.4.
N_HESSIAN = {True: 6, False: 10}

#: Ioffe & Szegedy (2015), Sec. 4.1 and Fig. 1: the activation plots come from a network
#: with 3 fully connected sigmoid hidden layers of 100 units on MNIST (batch 60, 50000
#: steps); Fig. 1(b, c) show the {15, 50, 85}th percentiles of the sigmoid input of one
#: typical unit of the last hidden layer over training (Ioffe & Szegedy 2015, Sec. 4.1).
IOFFE_FIG1 = SourceFact(
    "Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1",
    {
        "dataset": "MNIST",
        "activation": "sigmoid",
        "hidden_layers": 3.0,
        "plot": "15/50/85th percentiles over training",
        "layer_shown": "last hidden layer",
    },
)

#: Santurkar et al. (2018), Sec. 2.1 ("noisy BatchNorm"): the
#: ablation ADDS time-varying noise with non-zero mean and non-unit variance after the BN
#: layers of a BN network (distributions destabilized) and finds training about as fast as
#: with BN; no network without BN gets stabilized distributions.
SANTURKAR_ABLATION = SourceFact(
    "Santurkar et al. (2018), Sec. 2.1 (noisy BatchNorm)",
    {
        "ablation_network_has_bn": True,
        "ablation_distributions": "destabilized",
        "ablation_trains_like_bn": True,
    },
)


# ----------------------------------------------------------------- source claims
def _check_fig1_source(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(IOFFE_FIG1)


def _check_stabilized_ablation(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(SANTURKAR_ABLATION)


# ----------------------------------------------------------------- measured claims
def fig1_digits_rows(quick: bool, rng: np.random.Generator) -> list[dict]:
    """Per-seed Ioffe & Szegedy (2015) Fig. 1 analogue on scikit-learn's 8x8 digits.

    :func:`bntheory.claims._netexp.ioffe_fig1` over the default seeds of ``ioffe-fig1``:
    ics-02 in quick mode and the Fig. 1 context values of ics-09.

    Parameters
    ----------
    quick : bool
        Quick (width 32, 200 steps) or full (width 64, 600 steps) analogue.
    rng : numpy.random.Generator
        The claim's generator (seeds outside a ledger run).

    Returns
    -------
    list of dict
        One record per seed.

    Raises
    ------
    bntheory.claims.core.Unavailable
        scikit-learn (the digits) is not installed.
    """
    from bntheory.claims._netexp import ioffe_fig1, per_seed

    return per_seed("ioffe-fig1", lambda s: ioffe_fig1(s, quick), quick, rng)


#: Settings of ics-02 per mode (the measured text and the note say which ran).
_FIG1_SETTING = {
    True: (
        "scikit-learn's 8x8 digits (the quick substitute, not MNIST)",
        "quick: Fig. 1 analogue, 3 sigmoid hidden layers of width 32 on scikit-learn's 8x8 "
        "digits, SGD batch 60, lr 0.5 (the paper gives none), 200 steps, same init and batch "
        "order",
    ),
    False: (
        "MNIST at Ioffe & Szegedy's protocol",
        "full: Ioffe & Szegedy's Sec. 4.1 protocol on MNIST (60,000 / 10,000 images): "
        "784-100-100-100-10 sigmoid, SGD batch 60, 50,000 steps, declared lr 0.5 (the paper "
        "gives none), percentiles over the test set from the inference network (Alg. 2); "
        "the runs of the ioffe_fig1_mnist experiment (shared sweep store), 3 seeds",
    ),
}


def _check_bn_stable(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import ioffe_mnist_rows, paired_ratio_ci
    from bntheory.claims.stats import mean_ci

    rows = fig1_digits_rows(quick, rng) if quick else ioffe_mnist_rows(rng)
    ok = [r["completed_plain"] * r["completed_bn"] for r in rows]
    dp = [r["drift_plain"] if o else np.nan for r, o in zip(rows, ok, strict=True)]
    db = [r["drift_bn"] if o else np.nan for r, o in zip(rows, ok, strict=True)]
    v, iv = paired_ratio_ci("drift_ratio", db, dp)
    for name, xs in (
        ("drift_plain", dp),
        ("drift_bn", db),
        ("acc_plain", [r["acc_plain"] for r in rows]),
        ("acc_bn", [r["acc_bn"] for r in rows]),
    ):
        a, b = mean_ci(name, xs)
        v |= a
        iv |= b
    v["n_seeds"] = float(len(rows))
    where, note = _FIG1_SETTING[quick]
    v["dataset"] = where
    return Measurement(
        f"{where}: percentile drift of a last-hidden-layer sigmoid input, BN / no BN = "
        f"{v['drift_ratio']:.3g} (95 % CI {fmt_ci(iv, 'drift_ratio')}), "
        f"{len(rows)} seeds",
        v,
        iv,
        note=note,
    )


def ics_rows(quick: bool, rng: np.random.Generator) -> list[dict]:
    """Per-seed Santurkar et al. (2018) Def. 2.1 ICS of the deep linear net.

    :func:`bntheory.claims._netexp.dln_ics` over ``_netexp.N_DLN`` seeds (shared with
    cs-06 and cs-07).

    Parameters
    ----------
    quick : bool
        Ledger mode (the runs are the same in both modes).
    rng : numpy.random.Generator
        The claim's generator (seeds outside a ledger run).

    Returns
    -------
    list of dict
        One record per seed.
    """
    from bntheory.claims._netexp import N_DLN, dln_ics, per_seed

    return per_seed("dln-ics", dln_ics, quick, rng, n=N_DLN)


def ics_ratio(
    quick: bool, rng: np.random.Generator
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Santurkar et al.'s relative ICS with BN over that without, paired by seed.

    Santurkar, Tsipras, Ilyas & Madry (2018), "How Does Batch Normalization Help
    Optimization?", Def. 2.1, measured by :func:`ics_rows` (the deep linear net of
    :func:`bntheory.claims._netexp.dln_ics`, one run with and one without BN per seed);
    shared by ics-03 and cs-06.

    Parameters
    ----------
    quick : bool
        Ledger mode (the runs are the same in both modes).
    rng : numpy.random.Generator
        The claim's generator (seeds outside a ledger run).

    Returns
    -------
    values : dict of str to float
        ``ics_ratio``: geometric mean over seeds of ``rel_bn / rel_plain`` (NaN when more
        than a quarter of the pairs diverged) with the companions of
        :func:`bntheory.claims.stats.log_ratio_ci`, ``ics_ratio_bad_pairs`` (seeds left
        out), ``n_seeds``, and the means over seeds of ``rel_bn``,
        ``rel_plain`` (relative ICS ``||G - G'|| / ||G||``) and ``cos_bn``, ``cos_plain``
        (cosine of ``G`` and ``G'``).
    intervals : dict of str to (float, float)
        95 % intervals of those quantities (paired log-ratio t-interval for the ratio,
        Student t-intervals for the means).
    """
    from bntheory.claims._netexp import paired_ratio_ci
    from bntheory.claims.stats import mean_ci

    rows = ics_rows(quick, rng)
    v, iv = paired_ratio_ci(
        "ics_ratio", [r["rel_bn"] for r in rows], [r["rel_plain"] for r in rows]
    )
    v["n_seeds"] = float(len(rows))
    for name in ("rel_bn", "rel_plain", "cos_bn", "cos_plain"):
        a, b = mean_ci(name, [r[name] for r in rows])
        v |= a
        iv |= b
    return v, iv


def _check_ics_persists(quick: bool, rng: np.random.Generator) -> Measurement:
    v, iv = ics_ratio(quick, rng)
    return Measurement(
        f"Santurkar ICS (Def. 2.1) ||G - G'||/||G||, BN / no BN = {v['ics_ratio']:.3g} "
        f"(95 % CI {fmt_ci(iv, 'ics_ratio')}); BN alone {v['rel_bn']:.3g}",
        v,
        iv,
        note=(
            "10-layer deep linear net of width 16 (Santurkar's has 25), MSE on a random "
            "linear teacher, SGD lr 0.02 (the plain net trains), batch 32, 10 steps, same "
            "data and batch order; mean over layers >= 1 and every second step; 20 seeds in "
            "quick and full mode; seeds whose plain or BN run diverged are left out and "
            "counted (ics_ratio_bad_pairs)"
        ),
    )


def _check_faster_despite_ics(quick: bool, rng: np.random.Generator) -> Measurement:
    """The runs of ics-03 / cs-07 (shared): training speed with and without BN."""
    from bntheory.claims._netexp import N_DLN_CORR, dln_ics, per_seed
    from bntheory.claims.stats import mean_ci, proportion_ci

    rows = per_seed("dln-ics", dln_ics, quick, rng, n=N_DLN_CORR[quick])
    ok = [r for r in rows if r["completed_plain"] and r["completed_bn"]]
    v, iv = mean_ci("speed_gain", [r["speed_bn"] - r["speed_plain"] for r in ok])
    n = len(rows)
    fail_bn = sum(1 for r in rows if not r["completed_bn"])
    fail_plain = sum(1 for r in rows if not r["completed_plain"])
    a, b = proportion_ci("diverged_bn", fail_bn, n)
    c, d = proportion_ci("diverged_plain", fail_plain, n)
    v |= a | c
    iv |= b | d
    v["diverged_excess"] = (fail_bn - fail_plain) / n
    v["speed_bn"] = float(np.mean([r["speed_bn"] for r in ok]))
    v["speed_plain"] = float(np.mean([r["speed_plain"] for r in ok]))
    v["ics_rel_bn"] = float(np.mean([r["rel_bn"] for r in ok]))
    v["ics_rel_plain"] = float(np.mean([r["rel_plain"] for r in ok]))
    return Measurement(
        f"10-layer deep linear net, {n} seeds: loss decay per step {v['speed_bn']:.3g} with BN "
        f"vs {v['speed_plain']:.3g} without (paired gain {v['speed_gain']:.3g}, 95 % CI "
        f"{fmt_ci(iv, 'speed_gain')}); diverged runs {fail_bn} with BN, {fail_plain} without; "
        f"relative ICS {v['ics_rel_bn']:.3g} vs {v['ics_rel_plain']:.3g}",
        v,
        iv,
        note="the runs of ics-03 and cs-07 (shared); speed = log(L_0 / L_10) / 10",
    )


def _check_isotropy(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import hessian_isotropy_bn, paired_ratio_ci, per_seed
    from bntheory.claims.stats import mean_ci

    rows = per_seed("hessian-isotropy", hessian_isotropy_bn, quick, rng, n=N_HESSIAN[quick])
    ok = [r["completed_plain"] * r["completed_bn"] for r in rows]
    v, iv = paired_ratio_ci(
        "aniso_ratio",
        [r["aniso_bn"] if o else np.nan for r, o in zip(rows, ok, strict=True)],
        [r["aniso_plain"] for r in rows],
    )
    a, b = paired_ratio_ci(
        "aniso_ratio_init", [r["aniso0_bn"] for r in rows], [r["aniso0_plain"] for r in rows]
    )
    v |= a
    iv |= b
    for name in ("aniso_bn", "aniso_plain", "aniso0_bn", "aniso0_plain", "part_bn", "part_plain"):
        a, b = mean_ci(name, [r[name] for r in rows])
        v |= a
        iv |= b
    return Measurement(
        f"Hessian anisotropy max|lambda|/mean|lambda|, BN / no BN: after training "
        f"{v['aniso_ratio']:.3g} (95 % CI {fmt_ci(iv, 'aniso_ratio')}), at init "
        f"{v['aniso_ratio_init']:.3g} (95 % CI {fmt_ci(iv, 'aniso_ratio_init')})",
        v,
        iv,
        note=(
            "6 seeds quick, 10 full; exact train-mode Hessian-vector products, stochastic "
            "Lanczos quadrature (2 "
            "probes x 30 steps); ReLU net [8, 16, 16, 16, 4], cross-entropy on a 4-class "
            "Gaussian mixture (128 points, full batch), at init and after 200 SGD steps (lr "
            "0.1, batch 32). Bjorck et al.'s available text (abstract) argues for larger "
            "learning rates; the preconditioning wording could not be located there"
        ),
    )


def _check_clustering(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import paired_ratio_ci, per_seed, representation_separation
    from bntheory.claims.stats import mean_ci

    rows = per_seed("representation-separation", representation_separation, quick, rng)
    ok = [r["completed_plain"] * r["completed_bn"] for r in rows]
    v, iv = paired_ratio_ci(
        "sep_ratio",
        [r["sep_bn"] if o else np.nan for r, o in zip(rows, ok, strict=True)],
        [r["sep_plain"] for r in rows],
    )
    for name in ("sep_bn", "sep_plain", "sep0_plain", "acc_bn", "acc_plain"):
        a, b = mean_ci(name, [r[name] for r in rows])
        v |= a
        iv |= b
    return Measurement(
        f"Fisher separation tr(S_b)/tr(S_w) of the last hidden layer (test set), BN / no BN "
        f"= {v['sep_ratio']:.3g} (95 % CI {fmt_ci(iv, 'sep_ratio')}); test accuracy "
        f"{v['acc_bn']:.3f} (BN) vs {v['acc_plain']:.3f}",
        v,
        iv,
        note=(
            "ReLU net [64, 64, 64, 64, 10] on scikit-learn's 8x8 digits, 400 SGD steps (lr "
            "0.1, batch 60), same init and batch order; the 2025 study (article ref. [10]) is "
            "not available, so its own measure is not known"
        ),
    )


def _check_larger_lr(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import lr_sweep, paired_ratio_ci, per_seed

    rows = per_seed("lr-sweep", lr_sweep, quick, rng)
    # a net for which no rate of the grid trains has no largest rate: a status, not a ratio
    v, iv = paired_ratio_ci(
        "lr_ratio",
        [r["bn"] for r in rows],
        [r["plain"] if r["plain"] > 0 else np.nan for r in rows],
    )
    v["lr_max_bn_median"] = float(np.median([r["bn"] for r in rows]))
    v["lr_max_plain_median"] = float(np.median([r["plain"] for r in rows]))
    return Measurement(
        f"largest trainable SGD learning rate, BN / no BN = {v['lr_ratio']:.3g} (95 % CI "
        f"{fmt_ci(iv, 'lr_ratio')}); medians {v['lr_max_bn_median']:.3g} (BN) vs "
        f"{v['lr_max_plain_median']:.3g}",
        v,
        iv,
        note=(
            "Bjorck et al. (2018) setting scaled down: 8 hidden ReLU layers of width 32 (He "
            "init), cross-entropy on a 4-class Gaussian mixture, SGD batch 64, 100 steps, lr "
            "grid 1e-2..31.6 in half decades; 'trains' = no divergence and final loss <= 0.5 "
            "x initial"
        ),
    )


def _check_saturation(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.claims._netexp import paired_ratio_ci, per_seed, sigmoid_saturation
    from bntheory.claims.stats import mean_ci

    rows = per_seed("sigmoid-saturation", sigmoid_saturation, quick, rng)
    ok = [r["completed_plain"] * r["completed_bn"] for r in rows]
    v, iv = mean_ci(
        "sat_diff",
        [r["sat_plain"] - r["sat_bn"] if o else np.nan for r, o in zip(rows, ok, strict=True)],
    )
    a, b = paired_ratio_ci(
        "atten_ratio", [r["atten_plain"] for r in rows], [r["atten_bn"] for r in rows]
    )
    v |= a
    iv |= b
    for name in ("sat_plain", "sat_bn", "sat0_plain", "acc_plain", "acc_bn"):
        a, b = mean_ci(name, [r[name] for r in rows])
        v |= a
        iv |= b
    # the Ioffe & Szegedy Fig. 1 setting (3 sigmoid layers), for context
    fig = fig1_digits_rows(quick, rng)
    v["fig1_sat_plain"] = float(np.mean([r["sat_plain"] for r in fig]))
    v["fig1_atten_plain"] = float(np.mean([r["atten_plain"] for r in fig]))
    v["fig1_atten_bn"] = float(np.mean([r["atten_bn"] for r in fig]))
    return Measurement(
        f"deep sigmoid net: saturated fraction (|z| > 4) {v['sat_plain']:.3g} without BN vs "
        f"{v['sat_bn']:.3g} with; gradient attenuation ratio no BN / BN {v['atten_ratio']:.3g} "
        f"(95 % CI {fmt_ci(iv, 'atten_ratio')}); test accuracy {v['acc_plain']:.3f} vs "
        f"{v['acc_bn']:.3f}",
        v,
        iv,
        note=(
            "6 sigmoid hidden layers of width 32 (init N(0, 1/fan_in)) on scikit-learn's 8x8 "
            "digits, 200 SGD steps (lr 0.5, batch 60, the Fig. 1 optimizer), same init and "
            "batch order; attenuation = (first-layer / output-layer gradient norm) over the "
            "last tenth of the steps divided by the same over the first tenth; fig1_* = the "
            "3-layer Fig. 1 setting"
        ),
    )


# ----------------------------------------------------------------- readings
_CI_WHY = (
    "decided on the 95 % t-interval of the mean paired log ratio over the pre-registered "
    "seeds (quick 3, full 10 unless the note says otherwise), which carries the "
    "seed-to-seed Monte Carlo error; "
)

CLAIMS = [
    Claim(
        "ics-01",
        SECTION,
        "plots of activation distributions in a sigmoid-activated network trained on ImageNet",
        "Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1 (MNIST)",
        "literature",
        "ImageNet sigmoid network",
        _check_fig1_source,
        literal=Reading(
            "Ioffe & Szegedy's activation-distribution plots come from a sigmoid network "
            "trained on ImageNet",
            (P("dataset", "is", "ImageNet"), P("activation", "is", "sigmoid")),
            "categorical facts of the source: exact match",
        ),
        corrected=Reading(
            "the plots come from a sigmoid network (3 hidden layers) trained on MNIST",
            (P("dataset", "is", "MNIST"), P("activation", "is", "sigmoid")),
            "categorical facts of the source: exact match",
            source="Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1",
        ),
        evidence="source",
        explain=(
            "Ioffe & Szegedy's Fig. 1 uses a {activation} network on {dataset} (their ImageNet "
            "experiments show no activation plots); it shows the {plot} of one unit of the "
            "{layer_shown}, not means and variances. ics-02 measures the same comparison."
        ),
    ),
    Claim(
        "ics-02",
        SECTION,
        "networks employing batch normalization maintain stable distributions throughout training",
        "Ioffe & Szegedy (2015), Fig. 1(b,c)",
        "experiment",
        "stable sigmoid inputs with BN",
        _check_bn_stable,
        literal=Reading(
            "with BN the sigmoid input of a last-hidden-layer unit drifts at most half as much "
            "over training as without BN (same init, data and batch order)",
            (P("drift_ratio", "<=", 0.5),),
            _CI_WHY + "'stable' against the plain net's 'significant shifts' is read as at "
            "least a factor two less percentile drift; a diverged run makes the ratio "
            "undefined (inconclusive)",
        ),
        explain=(
            "On {dataset}, the {{15, 50, 85}}th percentiles of a "
            "last-hidden-layer sigmoid input drift by {drift_plain:.3g} initial 15-85 spreads "
            "without BN and {drift_bn:.3g} with BN: a ratio of {drift_ratio:.3g} (geometric "
            "mean over {n_seeds:.0f} seeds). Test accuracy {acc_bn:.3f} with BN vs "
            "{acc_plain:.3f} without."
        ),
        quick_note=(
            "quick runs the Fig. 1 analogue on scikit-learn's 8x8 digits (width 32, 200 steps, "
            "3 seeds); full runs MNIST at Ioffe & Szegedy's protocol (50,000 steps, 3 seeds)"
        ),
    ),
    Claim(
        "ics-03",
        SECTION,
        "internal covariate shift persists even with batch normalization applied",
        "Santurkar et al. (2018), Def. 2.1, Fig. 3",
        "experiment",
        "ICS not removed by BN",
        _check_ics_persists,
        literal=Reading(
            "BN does not remove internal covariate shift (Santurkar's Def. 2.1): ICS with BN "
            "is at least half of that without",
            (P("ics_ratio", ">=", 0.5),),
            _CI_WHY + "'persists' is read as 'not reduced by more than a factor two'",
        ),
        explain=(
            "With Santurkar et al.'s gradient-based measure on a 10-layer deep linear net, "
            "the relative ICS is {rel_bn:.3g} with BN and {rel_plain:.3g} without (geometric-mean "
            "ratio {ics_ratio:.3g} over {n_seeds:.0f} seeds; {ics_ratio_bad_pairs:.0f} seeds "
            "with a diverged run left out)."
        ),
    ),
    Claim(
        "ics-04",
        SECTION,
        "networks without batch normalization, but with artificially stabilized layer "
        "distributions ... do not exhibit the same acceleration",
        "Santurkar et al. (2018), Sec. 2.1 (noisy BatchNorm)",
        "literature",
        "stabilized-distribution ablation",
        _check_stabilized_ablation,
        literal=Reading(
            "Santurkar et al.'s ablation stabilizes the layer distributions of networks without BN",
            (
                P("ablation_network_has_bn", "is", False),
                P("ablation_distributions", "is", "stabilized"),
            ),
            "categorical facts of the source: exact match",
        ),
        evidence="source",
        explain=(
            "Santurkar et al.'s ablation goes the other way: it injects time-varying noise "
            "after the BN layers of a BN network (distributions {ablation_distributions}) and "
            "training stays about as fast as with plain BN."
        ),
    ),
    Claim(
        "ics-05",
        SECTION,
        "Rauf et al. (2020), arguing that reducing ICS is essential and sufficient",
        "article ref [8]",
        "literature",
        "ICS reduction sufficient",
        untestable_check,
        evidence="none",
        untestable=(
            "a statement about the argument of Rauf et al. (2020), whose text is not "
            "available here; cs-07 measures the related question whether measured shift "
            "goes with training speed"
        ),
    ),
    Claim(
        "ics-06",
        SECTION,
        "Bjorck et al. argued that batch normalization acts as a form of preconditioning, "
        "transforming the curvature of the loss landscape to make it more isotropic",
        "Bjorck et al. (2018) (wording not located in the available abstract)",
        "experiment",
        "more isotropic Hessian with BN",
        _check_isotropy,
        literal=Reading(
            "the train-mode Hessian spectrum is more isotropic with BN than without, both at "
            "initialization and after training",
            (P("aniso_ratio", "<=", 1.0), P("aniso_ratio_init", "<=", 1.0)),
            _CI_WHY + "'more isotropic' = smaller max|lambda|/mean|lambda| (1 for an "
            "isotropic spectrum); the quadrature error of each estimate is part of the "
            "per-seed scatter",
        ),
        explain=(
            "The anisotropy max|lambda|/mean|lambda| of the train-mode Hessian of a small "
            "ReLU net is {aniso_bn:.3g} with BN and {aniso_plain:.3g} without after training "
            "(ratio {aniso_ratio:.3g}), {aniso0_bn:.3g} vs {aniso0_plain:.3g} at "
            "initialization (ratio {aniso_ratio_init:.3g}). The attribution to Bjorck et al. "
            "could not be checked: their available abstract argues for larger learning rates."
        ),
    ),
    Claim(
        "ics-07",
        SECTION,
        "batch normalization also improves the clustering characteristics of hidden "
        "representations",
        "article ref [10] (not available)",
        "experiment",
        "better-separated hidden representations",
        _check_clustering,
        literal=Reading(
            "after the same training, the last hidden layer's test representations are "
            "better separated by class with BN than without",
            (P("sep_ratio", ">=", 1.0),),
            _CI_WHY + "'improves' = a Fisher ratio tr(S_b)/tr(S_w) larger with BN",
        ),
        explain=(
            "The class separation tr(S_b)/tr(S_w) of the last hidden layer on held-out digits "
            "is {sep_bn:.3g} with BN and {sep_plain:.3g} without (ratio {sep_ratio:.3g}; "
            "{sep0_plain:.3g} at initialization), at test accuracies {acc_bn:.3f} and "
            "{acc_plain:.3f}. This is one measure on one small net; the 2025 study's own "
            "measure is not available."
        ),
    ),
    Claim(
        "ics-08",
        SECTION,
        "batch normalization enables the use of substantially larger learning rates without "
        "risking instability",
        "Santurkar et al. (2018); Bjorck et al. (2018)",
        "experiment",
        "larger stable learning rates",
        _check_larger_lr,
        literal=Reading(
            "the largest learning rate that trains is larger with BN by at least one grid "
            "step (a factor sqrt(10))",
            (P("lr_ratio", ">=", 10**0.5, rtol=1e-9),),
            _CI_WHY + "the grid has half-decade steps, so a smaller ratio cannot be told "
            "from 1; rtol 1e-9 absorbs the round-off of the grid values",
        ),
        explain=(
            "The largest SGD learning rate that trains an 8-layer ReLU net is "
            "{lr_max_bn_median:.3g} with BN and {lr_max_plain_median:.3g} without (medians); "
            "the geometric-mean ratio is {lr_ratio:.3g}."
        ),
    ),
    Claim(
        "ics-09",
        SECTION,
        "the saturation of nonlinear activation functions such as the sigmoid, which in turn "
        "causes vanishing gradients",
        "Ioffe & Szegedy (2015), Sec. 1",
        "experiment",
        "sigmoid saturation and vanishing gradients without BN",
        _check_saturation,
        literal=Reading(
            "in a deep sigmoid net trained without BN, sigmoid units saturate (at least ten "
            "percentage points more inputs with |z| > 4 than with BN) and the gradient "
            "reaching the first layer shrinks relative to BN (attenuation at most half)",
            (P("sat_diff", ">=", 0.1), P("atten_ratio", "<=", 0.5)),
            "sat_diff: t-interval of the mean paired difference over seeds; atten_ratio: "
            + _CI_WHY
            + "'saturation' is read as a substantial fraction of units in the flat tails "
            "(sigmoid' below 7 % of its maximum), 'vanishing' as a factor two",
        ),
        explain=(
            "In a 6-layer sigmoid net on digits, the fraction of saturated sigmoid inputs "
            "(|z| > 4) after training is {sat_plain:.3g} without BN and {sat_bn:.3g} with BN; "
            "the first layer's gradient, relative to the output layer's, changes over training by "
            "a factor {atten_ratio:.3g} of what it does with BN, and the plain net reaches test "
            "accuracy "
            "{acc_plain:.3f} vs {acc_bn:.3f}. In the 3-layer Fig. 1 setting the saturated "
            "fraction without BN is {fig1_sat_plain:.3g}."
        ),
    ),
    Claim(
        "ics-10",
        SECTION,
        "internal covariate shift persists even with batch normalization applied, yet training "
        "converges faster and more reliably compared to networks without it",
        "Santurkar et al. (2018), Sec. 2 and Fig. 3",
        "experiment",
        "BN trains faster and more reliably despite ICS",
        _check_faster_despite_ics,
        literal=Reading(
            "in the runs where ICS persists (ics-03), BN's loss decays faster per step "
            "(paired gain > 0) and BN runs diverge no more often than plain ones",
            (P("speed_gain", ">=", 1e-3), P("diverged_excess", "<=", 0.0)),
            "faster = a gain of at least 1e-3 per step (a 1 % lower loss after the 10 steps); "
            "95 % t-interval of the mean paired difference of the per-step log loss decay "
            "over the pre-registered seeds; divergence counts compared exactly (a count, "
            "no tolerance)",
        ),
        explain=(
            "In the deep-linear-net runs of ics-03 ({speed_gain_n:.0f} seeds with both runs "
            "completed), the loss decays by {speed_bn:.3g} per step (log scale) with BN and "
            "{speed_plain:.3g} without, while the relative ICS is {ics_rel_bn:.3g} with BN and "
            "{ics_rel_plain:.3g} without; diverged runs: a fraction {diverged_bn:.3g} with BN, "
            "{diverged_plain:.3g} without."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "ics-01": ("claims.ics (source: Ioffe & Szegedy Fig. 1)", "tests/claims/test_ics.py", "-"),
    "ics-02": (
        "nets.ioffe2015.ioffe_figure1_mnist (full), nets.measurements.ioffe_figure1 (quick)",
        "tests/nets/test_ioffe2015.py, tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "ioffe_fig1_mnist",
    ),
    "ics-10": (
        "nets.measurements.internal_covariate_shift (runs of ics-03)",
        "tests/claims/test_ics.py",
        "-",
    ),
    "ics-03": (
        "nets.measurements.internal_covariate_shift",
        "tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "-",
    ),
    "ics-04": ("claims.ics (source: Santurkar et al. Sec. 2.1)", "tests/claims/test_ics.py", "-"),
    "ics-05": ("-", "-", "-"),
    "ics-06": (
        "nets.measurements.hessian_isotropy",
        "tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "-",
    ),
    "ics-07": (
        "nets.measurements.separation_index",
        "tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "-",
    ),
    "ics-08": (
        "nets.measurements.bjorck_lr_sweep",
        "tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "-",
    ),
    "ics-09": (
        "nets.measurements (saturation), nets.train (gradient norms)",
        "tests/nets/test_measurements.py, tests/claims/test_ics.py",
        "-",
    ),
}

"""Internal covariate shift and its modern interpretations (Ioffe & Szegedy 2015;
Santurkar et al. 2018; Bjorck et al. 2018)."""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import (
    Claim,
    Outcome,
    decide_at_least,
    decide_at_most,
    decide_attribution,
    decide_over_seeds,
    describe_seeds,
    not_testable,
    seed_summary,
)


def _fig1(quick: bool, rng: np.random.Generator) -> list[dict]:
    from bntheory.claims._netexp import ioffe_fig1, per_seed

    return per_seed("ioffe-fig1", lambda s: ioffe_fig1(s, quick), quick, rng)


def _check_imagenet_plots(quick: bool, rng: np.random.Generator) -> Outcome:
    v = decide_attribution("ImageNet", "MNIST")
    rows = _fig1(quick, rng)
    plain, bn = [r["drift_plain"] for r in rows], [r["drift_bn"] for r in rows]
    return Outcome(
        v,
        f"source figure: MNIST (Ioffe & Szegedy Fig. 1); substitute (digits, 3 sigmoid layers): "
        f"last-layer percentile drift {describe_seeds(plain)} without BN vs {describe_seeds(bn)} with BN",
        seed_summary("drift_plain", plain) | seed_summary("drift_bn", bn),
        "refuted attribution: the activation plots of Ioffe & Szegedy (Fig. 1b,c) come from a "
        "3-layer sigmoid MLP on MNIST (15/50/85th percentiles of one last-hidden-layer unit), "
        "not from ImageNet",
    )


def _check_bn_stable(quick: bool, rng: np.random.Generator) -> Outcome:
    rows = _fig1(quick, rng)
    ratio = [r["drift_bn"] / r["drift_plain"] for r in rows]
    v = decide_over_seeds([decide_at_most(x, 0.5) for x in ratio])  # at least 2x less drift
    acc_bn, acc_pl = [r["acc_bn"] for r in rows], [r["acc_plain"] for r in rows]
    return Outcome(
        v,
        f"sigmoid-input percentile drift of a last-hidden-layer unit, BN/no-BN = {describe_seeds(ratio)}; "
        f"test accuracy median {np.median(acc_bn):.2f} (BN) vs {np.median(acc_pl):.2f}",
        seed_summary("drift_ratio_bn_over_plain", ratio)
        | seed_summary("acc_bn", acc_bn)
        | seed_summary("acc_plain", acc_pl)
        | {"digits": rows[0]["dataset_digits"]},
        "substitute of Fig. 1(b,c): 3 sigmoid hidden layers on scikit-learn's 8x8 digits (not "
        "MNIST), SGD batch 60, lr 0.5 (the paper gives no lr), same initial weights and batch "
        "order; 'stable' = at least 2x less drift than without BN, on every seed",
    )


def _ics(quick: bool, rng: np.random.Generator) -> list[dict]:
    from bntheory.claims._netexp import dln_ics, per_seed

    return per_seed("dln-ics", dln_ics, quick, rng)


def _check_ics_persists(quick: bool, rng: np.random.Generator) -> Outcome:
    rows = _ics(quick, rng)
    ratio = [r["rel_bn"] / r["rel_plain"] for r in rows]
    # "persists": BN does not remove it (ICS with BN at least half of that without)
    v = decide_over_seeds([decide_at_least(x, 0.5) for x in ratio])
    return Outcome(
        v,
        f"Santurkar ICS (Def. 2.1), deep linear net: ||G-G'||/||G|| BN/no-BN = {describe_seeds(ratio)}; "
        f"BN alone {describe_seeds([r['rel_bn'] for r in rows])}",
        seed_summary("ics_ratio_bn_over_plain", ratio)
        | seed_summary("ics_bn", [r["rel_bn"] for r in rows])
        | seed_summary("cos_bn", [r["cos_bn"] for r in rows])
        | seed_summary("cos_plain", [r["cos_plain"] for r in rows]),
        "10-layer deep linear net (Santurkar's DLN has 25), SGD lr 0.02 (the plain net trains), batch 32; 'persists' = "
        "ICS with BN at least half of that without, on every seed",
    )


def _check_stabilized_ablation(quick: bool, rng: np.random.Generator) -> Outcome:
    v = decide_attribution(
        "networks without BN with artificially stabilized distributions",
        "BN networks with injected noise that destabilizes distributions (noisy BatchNorm)",
    )
    return Outcome(
        v,
        "source ablation: 'noisy BatchNorm' (BN + random shifts/scales each step) trains as well as BN",
        {},
        "refuted attribution: Santurkar et al. (2018) did the opposite ablation - they INCREASED "
        "the distributional instability of BN networks with time-varying noise and found "
        "training unharmed; they did not stabilize distributions in networks without BN",
    )


def _check_rauf(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable(
        "Rauf et al. (2020) is not available; a stance in a debate, not a measurable quantity"
    )


def _check_bjorck(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable(
        "Bjorck et al. (2018) argue (abstract) that BN mainly enables larger learning rates; a "
        "'preconditioning / isotropic curvature' argument is not in the available text",
        substitute="land-04 measures the conditioning of the BN-composed Hessian",
    )


def _check_clustering(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable("the 2025 study (article ref [10]) is not available")


def lr_ratios(quick: bool, rng: np.random.Generator) -> tuple[list[float], list[dict]]:
    """Per-seed largest trainable lr with/without BN (shared with land-06)."""
    from bntheory.claims._netexp import lr_sweep, per_seed

    rows = per_seed("lr-sweep", lr_sweep, quick, rng)
    ratios = [r["bn"] / r["plain"] if r["plain"] > 0 else float("inf") for r in rows]
    return ratios, rows


def _check_larger_lr(quick: bool, rng: np.random.Generator) -> Outcome:
    ratios, rows = lr_ratios(quick, rng)
    v = decide_over_seeds([decide_at_least(x, 3.0) for x in ratios])  # >= one grid step
    return Outcome(
        v,
        f"largest trainable SGD learning rate, 8-layer ReLU MLP: BN/no-BN = {describe_seeds(ratios)}; "
        f"BN {describe_seeds([r['bn'] for r in rows])}, no BN {describe_seeds([r['plain'] for r in rows])}",
        seed_summary("ratio", ratios)
        | seed_summary("lr_max_bn", [r["bn"] for r in rows])
        | seed_summary("lr_max_plain", [r["plain"] for r in rows]),
        "Bjorck et al. (2018) setting scaled down: 8 hidden ReLU layers (He init), cross-entropy, "
        "SGD batch 64, 100 steps, lr grid 1e-2..31.6 (half decades); 'trains' = no divergence and "
        "final loss <= 0.5 x initial. 'Substantially larger' = at least one grid step (3.16x) on "
        "every seed",
    )


CLAIMS = [
    Claim(
        "ics-01",
        "internal-covariate-shift",
        "plots of activation distributions in a sigmoid-activated network trained on ImageNet",
        "Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1 (MNIST)",
        "literature",
        "ImageNet sigmoid network",
        _check_imagenet_plots,
    ),
    Claim(
        "ics-02",
        "internal-covariate-shift",
        "networks employing batch normalization maintain stable distributions throughout training",
        "Ioffe & Szegedy (2015), Fig. 1(b,c)",
        "experiment",
        "stable sigmoid inputs with BN",
        _check_bn_stable,
    ),
    Claim(
        "ics-03",
        "internal-covariate-shift",
        "internal covariate shift persists even with batch normalization applied",
        "Santurkar et al. (2018), Def. 2.1, Fig. 3",
        "experiment",
        "ICS not reduced by BN",
        _check_ics_persists,
    ),
    Claim(
        "ics-04",
        "internal-covariate-shift",
        "networks without batch normalization, but with artificially stabilized layer distributions ... do not exhibit the same acceleration",
        "Santurkar et al. (2018), Sec. 2.1 (noisy BatchNorm)",
        "literature",
        "stabilized-distribution ablation",
        _check_stabilized_ablation,
    ),
    Claim(
        "ics-05",
        "internal-covariate-shift",
        "Rauf et al. (2020), arguing that reducing ICS is essential and sufficient",
        "article ref [8]",
        "literature",
        "ICS reduction sufficient",
        _check_rauf,
    ),
    Claim(
        "ics-06",
        "internal-covariate-shift",
        "Bjorck et al. argued that batch normalization acts as a form of preconditioning",
        "Bjorck et al. (2018)",
        "literature",
        "BN = preconditioning",
        _check_bjorck,
    ),
    Claim(
        "ics-07",
        "internal-covariate-shift",
        "batch normalization also improves the clustering characteristics of hidden representations",
        "article ref [10]",
        "literature",
        "better clustering",
        _check_clustering,
    ),
    Claim(
        "ics-08",
        "internal-covariate-shift",
        "batch normalization enables the use of substantially larger learning rates without risking instability",
        "Santurkar et al. (2018); Bjorck et al. (2018)",
        "experiment",
        "larger stable learning rates",
        _check_larger_lr,
    ),
]

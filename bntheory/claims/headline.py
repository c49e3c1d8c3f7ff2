"""Headline numbers and history of the reference article.

The paper's numbers are those of Ioffe & Szegedy (2015), Sec. 4.2 / Table 2 / Fig. 3
("Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
Shift", checked against the paper's text); the checks do the arithmetic the article's
wording implies.
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import (
    Claim,
    Measurement,
    P,
    Reading,
    SourceFact,
    untestable_check,
)

#: Ioffe & Szegedy (2015), Sec. 4.2.2 and Fig. 3: steps (millions) to reach Inception's
#: 72.2 % top-1 validation accuracy.
STEPS_TO_INCEPTION_ACCURACY = SourceFact(
    "Ioffe & Szegedy (2015), Sec. 4.2.2, Fig. 3",
    {
        "steps_inception_M": 31.0,
        "steps_bn_x5_M": 2.1,
        "steps_bn_baseline_M": 13.3,
        "inception_top1_percent": 72.2,
    },
)

#: Ioffe & Szegedy (2015), Sec. 4.2.3 and Table 3: the 4.9 % top-5 validation error is that
#: of an ensemble of six BN-Inception networks (4.8 % test).
TOP5_RESULT = SourceFact(
    "Ioffe & Szegedy (2015), Sec. 4.2.3",
    {"top5_val_percent": 4.9, "top5_test_percent": 4.8, "model": "ensemble"},
)


#: Ioffe & Szegedy (2015), Sec. 4.2.2, Fig. 3 and Fig. 4: steps to reach Inception's 72.2 %
#: top-1 and the maximum validation accuracy of each network (checked against the paper's text).
INCEPTION_VARIANTS = SourceFact(
    "Ioffe & Szegedy (2015), Sec. 4.2.2, Figs. 3-4",
    {
        "max_acc_inception": 72.2,
        "max_acc_bn_baseline": 72.7,
        "max_acc_bn_x5": 73.0,
        "max_acc_bn_x30": 74.8,
        "steps_inception_M": 31.0,
        "steps_bn_baseline_M": 13.3,
    },
)


def _check_inception_v2(quick: bool, rng: np.random.Generator) -> Measurement:
    f = INCEPTION_VARIANTS.values
    acc_gain = f["max_acc_bn_baseline"] - f["max_acc_inception"]
    speedup = f["steps_inception_M"] / f["steps_bn_baseline_M"]
    best_gain = (
        max(f["max_acc_bn_baseline"], f["max_acc_bn_x5"], f["max_acc_bn_x30"])
        - f["max_acc_inception"]
    )
    return Measurement.from_source(
        INCEPTION_VARIANTS,
        f"BN-Baseline (BN added to Inception, same training): max accuracy "
        f"{f['max_acc_bn_baseline']} % vs {f['max_acc_inception']} %, "
        f"{speedup:.2f}x fewer steps to Inception's accuracy; best BN variant +{best_gain:.1f} points",
        "BN-Inception is the network later called Inception-v2",
        accuracy_gain_baseline=acc_gain,
        accuracy_gain_best=best_gain,
        step_speedup_baseline=speedup,
    )


def _check_14x(quick: bool, rng: np.random.Generator) -> Measurement:
    f = STEPS_TO_INCEPTION_ACCURACY.values
    ratio = f["steps_inception_M"] / f["steps_bn_x5_M"]
    baseline = f["steps_inception_M"] / f["steps_bn_baseline_M"]
    return Measurement.from_source(
        STEPS_TO_INCEPTION_ACCURACY,
        f"{f['steps_inception_M']}M / {f['steps_bn_x5_M']}M steps = {ratio:.2f} (BN-x5 vs "
        f"Inception); BN-Baseline {baseline:.2f}",
        "BN-x5 also raises the learning rate 5x, removes dropout and more (Sec. 4.2.1)",
        ratio=ratio,
        ratio_baseline=baseline,
    )


def _check_top5(quick: bool, rng: np.random.Generator) -> Measurement:
    return Measurement.from_source(TOP5_RESULT)


CLAIMS = [
    Claim(
        "head-01",
        "headline",
        "achieving comparable accuracy to prior methods with up to 14 times fewer steps on ImageNet",
        "Ioffe & Szegedy (2015), Sec. 4.2.2, Fig. 3",
        "literature",
        "14x fewer steps",
        _check_14x,
        literal=Reading(
            "the best BN variant needs 14x fewer steps than Inception to reach its accuracy",
            (P("ratio", "in", (14.0, 15.0)),),
            "the article states an integer: any ratio whose integer part is 14 matches",
        ),
        evidence="source",
        explain=(
            "Inception needs {steps_inception_M} million steps to reach its "
            "{inception_top1_percent} % top-1 accuracy, BN-x5 {steps_bn_x5_M} million: a ratio of {ratio:.2f}, so '14 times' "
            "is the paper's own rounding down. It needs the BN-x5 recipe (5x learning rate, no "
            "dropout, ...); plain BN-Baseline gives {ratio_baseline:.2f}x."
        ),
    ),
    Claim(
        "head-02",
        "headline",
        "surpassing it with a top-5 validation error of 4.9%",
        "Ioffe & Szegedy (2015), Sec. 4.2.3 (ensemble)",
        "literature",
        "4.9% top-5 (single model implied)",
        _check_top5,
        literal=Reading(
            "the batch-normalized model (one network) reaches 4.9 % top-5 validation error",
            (P("top5_val_percent", "==", 4.9, tol=0.05), P("model", "is", "single")),
            "0.05: the article quotes one decimal",
        ),
        corrected=Reading(
            "an ensemble of batch-normalized networks reaches 4.9 % top-5 validation error",
            (P("top5_val_percent", "==", 4.9, tol=0.05), P("model", "is", "ensemble")),
            "0.05: the article quotes one decimal",
            source="Ioffe & Szegedy (2015), Sec. 4.2.3",
        ),
        evidence="source",
        explain=(
            "The {top5_val_percent} % top-5 validation error ({top5_test_percent} % test) is "
            "that of an {model} of BN-Inception networks, not of a single model."
        ),
    ),
    Claim(
        "head-09",
        "headline",
        "its inclusion in major architectures like Inception-v2 in 2015, where it improved "
        "accuracy and training speed",
        "Ioffe & Szegedy (2015), Sec. 4.2.2, Figs. 3-4",
        "literature",
        "BN-Inception: higher accuracy, faster training",
        _check_inception_v2,
        literal=Reading(
            "adding BN to Inception (BN-Baseline, nothing else changed) raises the maximum "
            "validation accuracy and reduces the steps to Inception's accuracy",
            (P("accuracy_gain_baseline", ">=", 0.05), P("step_speedup_baseline", ">=", 1.0)),
            "0.05 points: half the last digit the paper reports (accuracies to 0.1 %); a "
            "speedup above 1 means fewer steps",
        ),
        evidence="source",
        explain=(
            "Adding BN to Inception with nothing else changed (BN-Baseline) reaches "
            "{max_acc_bn_baseline} % top-1 instead of {max_acc_inception} % and needs "
            "{step_speedup_baseline:.2f}x fewer steps to Inception's accuracy; with the "
            "further changes of BN-x30 the best accuracy is {max_acc_bn_x30} %."
        ),
    ),
    Claim(
        "head-03",
        "headline",
        "The paper received the ICML 2025 Test of Time Award.",
        "article refs [2,3,6]",
        "literature",
        "ICML 2025 Test of Time Award",
        untestable_check,
        evidence="none",
        untestable="a fact about conferences and awards; no computation can check it",
    ),
    Claim(
        "head-04",
        "headline",
        "appearing in over 90% of top-performing ImageNet classification models on leaderboards",
        "article ref [5]",
        "literature",
        ">90% of top ImageNet models by 2020",
        untestable_check,
        evidence="none",
        untestable=(
            "adoption statistics (share of leaderboard models) are bibliometric facts; the "
            "article's reference [5] is not available here"
        ),
    ),
    Claim(
        "head-05",
        "headline",
        "Residual Networks ... achieved unprecedented depths of over 100 layers on ImageNet without gradient vanishing issues",
        "He et al. (2016), 'Deep Residual Learning for Image Recognition' (not checked against its text here)",
        "literature",
        ">100 layers trainable",
        untestable_check,
        evidence="none",
        untestable=(
            "a statement about ImageNet ResNets: training them is out of reach on 2 CPU cores, "
            "and He et al. (2016), whose reported depths a source check would need, is not in "
            "the reference store; gf-07 measures the mechanism (a trained 110-layer BN + skip "
            "net vs plain) on MNIST or digits and reports it under that label, not ImageNet's"
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure); "-" when none.
PLACES: dict[str, tuple[str, str, str]] = {
    "head-01": ("claims.headline (source facts)", "tests/claims/test_headline.py", "-"),
    "head-02": ("claims.headline (source facts)", "tests/claims/test_headline.py", "-"),
    "head-03": ("-", "-", "-"),
    "head-04": ("-", "-", "-"),
    "head-05": ("-", "-", "gradient_depth (gf-07)"),
    "head-09": ("claims.headline (source facts)", "tests/claims/test_headline.py", "-"),
}

"""Headline numbers and history of the reference article.

The paper's numbers are those of Ioffe & Szegedy (2015), Sec. 4.2 / Table 2 / Fig. 3
(THEORY.md Sec. 1, tag [P]); the checks do the arithmetic the article's wording implies.
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import (
    Claim,
    Outcome,
    decide_attribution,
    decide_close,
    not_testable,
    worst,
)

# Ioffe & Szegedy (2015), Fig. 3 / Table: steps (in millions) to reach Inception's 72.2 %.
_STEPS_INCEPTION = 31.0
_STEPS_BN_X5 = 2.1
_STEPS_BN_BASELINE = 13.3
_TOP5_ENSEMBLE_VAL = 4.9  # % top-5 validation error, ensemble of 6 BN-Inception networks
_TOP5_ENSEMBLE_TEST = 4.8


def _check_14x(quick: bool, rng: np.random.Generator) -> Outcome:
    ratio = _STEPS_INCEPTION / _STEPS_BN_X5
    # "14 times fewer": the ratio rounded down must be 14 (the paper's own wording).
    v = decide_close(np.floor(ratio), 14.0, rtol=0.0, atol=0.0)
    return Outcome(
        v,
        f"31.0M / 2.1M steps = {ratio:.2f} (BN-x5 vs Inception)",
        {"ratio": ratio, "steps_inception_M": _STEPS_INCEPTION, "steps_bn_x5_M": _STEPS_BN_X5},
        "ratio of steps to reach Inception's 72.2% top-1; it needs BN-x5 (5x learning rate, "
        f"no dropout, ...); plain BN-Baseline gives only {_STEPS_INCEPTION / _STEPS_BN_BASELINE:.1f}x",
    )


def _check_top5(quick: bool, rng: np.random.Generator) -> Outcome:
    v_num = decide_close(4.9, _TOP5_ENSEMBLE_VAL, rtol=0.0, atol=0.05)
    # The article calls it the BN model's error; the paper reports it for an ensemble.
    v_who = decide_attribution(
        "single batch-normalized model", "ensemble of BN-Inception networks", minor=True
    )
    return Outcome(
        worst(v_num, v_who),
        f"paper: {_TOP5_ENSEMBLE_VAL}% top-5 val ({_TOP5_ENSEMBLE_TEST}% test), ensemble",
        {"top5_val_percent": _TOP5_ENSEMBLE_VAL, "top5_test_percent": _TOP5_ENSEMBLE_TEST},
        "correction: 4.9% is the top-5 validation error of an ENSEMBLE of batch-normalized "
        "Inception networks, not of a single model (single BN-x30: 74.8% top-1)",
    )


def _check_award(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable("a fact about conferences and awards; no computation can check it")


def _check_adoption(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable(
        "adoption statistics (framework release history, share of leaderboard models) are "
        "bibliometric facts; the article's reference [5] is not available here"
    )


def _check_resnet_depth(quick: bool, rng: np.random.Generator) -> Outcome:
    return not_testable(
        "training 100+-layer ResNets on ImageNet is out of scope",
        substitute="gf-06 measures per-block gradient growth of a residual BN net at init",
    )


CLAIMS = [
    Claim(
        "head-01",
        "headline",
        "achieving comparable accuracy to prior methods with up to 14 times fewer steps on ImageNet",
        "Ioffe & Szegedy (2015), Sec. 4.2.2, Fig. 3",
        "literature",
        "14x fewer steps",
        _check_14x,
    ),
    Claim(
        "head-02",
        "headline",
        "surpassing it with a top-5 validation error of 4.9%",
        "Ioffe & Szegedy (2015), Sec. 4.2.3 (ensemble)",
        "literature",
        "4.9% top-5 (single model implied)",
        _check_top5,
    ),
    Claim(
        "head-03",
        "headline",
        "The paper received the ICML 2025 Test of Time Award.",
        "article refs [2,3,6]",
        "literature",
        "ICML 2025 Test of Time Award",
        _check_award,
    ),
    Claim(
        "head-04",
        "headline",
        "appearing in over 90% of top-performing ImageNet classification models on leaderboards",
        "article ref [5]",
        "literature",
        ">90% of top ImageNet models by 2020",
        _check_adoption,
    ),
    Claim(
        "head-05",
        "headline",
        "Residual Networks ... achieved unprecedented depths of over 100 layers on ImageNet without gradient vanishing issues",
        "He et al. (2016) (not in THEORY.md)",
        "literature",
        ">100 layers trainable",
        _check_resnet_depth,
    ),
]

"""Decision helpers and records of the claims ledger."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bntheory.claims.core import (
    SECTIONS,
    Claim,
    Outcome,
    Verdict,
    decide_at_least,
    decide_at_most,
    decide_attribution,
    decide_close,
    not_testable,
    with_correction,
    worst,
)


def test_decide_close_every_verdict():
    # stated 1.0, rtol 1 %: inside -> holds, corrected -> holds-with-correction,
    # within 3x the tolerance -> inconclusive, beyond -> refuted, NaN -> inconclusive
    assert decide_close(1.005, 1.0, rtol=0.01) is Verdict.HOLDS
    assert decide_close(1.005, 1.0, rtol=0.01, corrected=True) is Verdict.HOLDS_WITH_CORRECTION
    assert decide_close(1.02, 1.0, rtol=0.01, inconclusive_factor=3) is Verdict.INCONCLUSIVE
    assert decide_close(1.05, 1.0, rtol=0.01, inconclusive_factor=3) is Verdict.REFUTED
    assert decide_close(float("nan"), 1.0, rtol=0.01) is Verdict.INCONCLUSIVE


def test_decide_bounds_flip_when_perturbed():
    assert decide_at_most(0.99, 1.0) is Verdict.HOLDS
    assert decide_at_most(1.01, 1.0) is Verdict.REFUTED
    assert decide_at_most(1.0 + 1e-12, 1.0, rtol=1e-9) is Verdict.HOLDS
    assert decide_at_most(0.5, 1.0, corrected=True) is Verdict.HOLDS_WITH_CORRECTION
    assert decide_at_least(1.01, 1.0) is Verdict.HOLDS
    assert decide_at_least(0.99, 1.0) is Verdict.REFUTED
    assert decide_at_least(math.inf, 1.0) is Verdict.INCONCLUSIVE


def test_decide_attribution():
    assert decide_attribution("MNIST", " mnist ") is Verdict.HOLDS
    assert decide_attribution("ImageNet", "MNIST") is Verdict.REFUTED
    assert decide_attribution("ImageNet", "MNIST", minor=True) is Verdict.HOLDS_WITH_CORRECTION


def test_worst_and_with_correction():
    assert worst(Verdict.HOLDS, Verdict.REFUTED, Verdict.INCONCLUSIVE) is Verdict.REFUTED
    assert worst(Verdict.HOLDS, Verdict.HOLDS_WITH_CORRECTION) is Verdict.HOLDS_WITH_CORRECTION
    assert worst(Verdict.HOLDS) is Verdict.HOLDS
    assert with_correction(Verdict.HOLDS) is Verdict.HOLDS_WITH_CORRECTION
    assert with_correction(Verdict.REFUTED) is Verdict.REFUTED
    with pytest.raises(ValueError, match="verdicts"):
        worst()


def test_bad_tolerances_named():
    with pytest.raises(ValueError, match="rtol"):
        decide_close(1.0, 1.0, rtol=-1)
    with pytest.raises(ValueError, match="inconclusive_factor"):
        decide_close(1.0, 1.0, rtol=0.1, inconclusive_factor=0.5)


def test_outcome_cleans_numbers_and_rejects_error():
    o = Outcome(Verdict.HOLDS, "x", {"a": np.float64(1.0) / 3, "b": float("nan")})
    assert o.numbers["a"] == pytest.approx(1 / 3, rel=1e-9)
    assert o.numbers["b"] is None
    with pytest.raises(ValueError, match="verdict"):
        Outcome(Verdict.ERROR, "x")
    with pytest.raises(TypeError, match="verdict"):
        Outcome("holds", "x")  # type: ignore[arg-type]


def test_not_testable_needs_reason():
    o = not_testable("no data", substitute="toy run")
    assert o.verdict is Verdict.NOT_TESTABLE and "toy run" in o.note
    with pytest.raises(ValueError, match="reason"):
        not_testable("")


def _dummy(quick, rng):
    return Outcome(Verdict.HOLDS, "ok")


def test_claim_validation():
    Claim("x-01", next(iter(SECTIONS)), "q", "s", "numerical", "v", _dummy)
    with pytest.raises(ValueError, match="section"):
        Claim("x-01", "nope", "q", "s", "numerical", "v", _dummy)
    with pytest.raises(ValueError, match="method"):
        Claim("x-01", "forward-pass", "q", "s", "guess", "v", _dummy)

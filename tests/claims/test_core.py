"""Decision helpers and records of the claims ledger."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bntheory.claims.core import (
    SECTIONS,
    Claim,
    Measurement,
    Outcome,
    P,
    Predicate,
    Reading,
    SourceFact,
    Verdict,
    decide,
)


def test_outcome_cleans_numbers_and_rejects_error():
    o = Outcome(Verdict.HOLDS, "x", {"a": np.float64(1.0) / 3, "b": float("nan")})
    assert o.numbers["a"] == pytest.approx(1 / 3, rel=1e-9)
    assert o.numbers["b"] is None
    with pytest.raises(ValueError, match="verdict"):
        Outcome(Verdict.ERROR, "x")
    with pytest.raises(TypeError, match="verdict"):
        Outcome("holds", "x")  # type: ignore[arg-type]


def _dummy(quick, rng):
    return Measurement("ok")


def test_claim_validation():
    Claim("x-01", next(iter(SECTIONS)), "q", "s", "numerical", "v", _dummy)
    with pytest.raises(ValueError, match="section"):
        Claim("x-01", "nope", "q", "s", "numerical", "v", _dummy)
    with pytest.raises(ValueError, match="method"):
        Claim("x-01", "forward-pass", "q", "s", "guess", "v", _dummy)


# --------------------------------------------------------------------------- the rule


def _m(x, iv=None, **extra):
    return Measurement("m", {"x": x, **extra}, {"x": iv} if iv else {})


@pytest.mark.parametrize(
    ("pred", "x", "iv", "want"),
    [
        (P("x", "<=", 1.0), 0.9, None, True),
        (P("x", "<=", 1.0), 1.1, None, False),
        (P("x", "<=", 1.0, tol=0.2), 1.1, None, True),
        (P("x", "<=", 1.0, rtol=0.05), 1.06, None, False),
        (P("x", "<=", 1.0), 0.9, (0.8, 1.2), None),  # interval straddles the bound
        (P("x", "<=", 1.0), 0.9, (0.8, 0.95), True),
        (P("x", "<=", 1.0), 1.3, (1.1, 1.5), False),
        (P("x", ">=", 1.0), 1.3, (1.1, 1.5), True),
        (P("x", ">=", 1.0), 1.3, (0.9, 1.5), None),
        (P("x", ">=", 1.0), 0.5, (0.2, 0.8), False),
        (P("x", "==", 2.0, rtol=0.01), 2.01, None, True),
        (P("x", "==", 2.0, rtol=0.01), 2.03, None, False),
        (P("x", "==", 2.0, tol=0.1), 2.0, (1.95, 2.05), True),
        (P("x", "==", 2.0, tol=0.1), 2.0, (1.5, 2.5), None),
        (P("x", "==", 2.0, tol=0.1), 3.0, (2.5, 3.5), False),
        (P("x", "in", (2, 5)), 3.0, (2.5, 3.5), True),
        (P("x", "in", (2, 5)), 3.0, (1.5, 3.5), None),
        (P("x", "in", (2, 5)), 9.0, (8, 10), False),
        (P("x", "in", (2, 5), tol=0.6), 1.5, None, True),
        (P("x", "<=", 1.0), float("nan"), None, None),  # non-finite -> undecided
        (P("x", "is", "MNIST"), "MNIST", None, True),
        (P("x", "is", "ImageNet"), "MNIST", None, False),
    ],
)
def test_predicate_truth_table(pred, x, iv, want):
    assert pred.evaluate(_m(x, iv)) is want


def test_predicate_validation_names_the_argument():
    with pytest.raises(ValueError, match="op"):
        Predicate("x", "<", 1.0)
    with pytest.raises(ValueError, match="tol"):
        P("x", "<=", 1.0, tol=-1)
    with pytest.raises(ValueError, match="lo <= hi"):
        P("x", "in", (3, 2))
    with pytest.raises(ValueError, match="finite"):
        P("x", "<=", float("inf"))
    with pytest.raises(KeyError, match="'y'"):
        P("y", "<=", 1.0).evaluate(_m(1.0))
    with pytest.raises(ValueError, match="why"):
        Reading("t", (P("x", "<=", 1.0),), "")
    with pytest.raises(ValueError, match="interval"):
        Measurement("m", {"x": 1.0}, {"y": (0.0, 2.0)})


def test_decide_every_branch():
    lit = Reading("x small", (P("x", "<=", 1.0),), "w")
    cor = Reading("x moderate", (P("x", "<=", 10.0),), "w", source="paper")
    H, C, R, I = (
        Verdict.HOLDS,
        Verdict.HOLDS_WITH_CORRECTION,
        Verdict.REFUTED,
        Verdict.INCONCLUSIVE,
    )
    assert decide(lit, cor, _m(0.5))[0] is H
    assert decide(lit, cor, _m(5.0))[0] is C
    assert decide(lit, cor, _m(50.0))[0] is R
    assert decide(lit, None, _m(5.0))[0] is R
    assert decide(lit, cor, _m(1.0, (0.5, 1.5)))[0] is I  # literal undecided
    assert decide(lit, cor, _m(9.0, (5.0, 15.0)))[0] is I  # literal false, corrected undecided
    # a conjunction: one false predicate makes the reading false
    both = Reading("x and y", (P("x", "<=", 1.0), P("y", "is", True)), "w")
    assert both.evaluate(_m(0.5, y=True)) is True
    assert both.evaluate(_m(0.5, y=False)) is False
    assert both.evaluate(_m(0.5, (0.0, 2.0), y=False)) is False
    assert both.evaluate(_m(0.5, (0.0, 2.0), y=True)) is None


def test_source_measurement_and_claim_contract():
    fact = SourceFact("Paper (2015), Fig. 1", {"dataset": "MNIST"})
    m = Measurement.from_source(fact, extra=1.5)
    assert m.citation == "Paper (2015), Fig. 1" and m.values == {"dataset": "MNIST", "extra": 1.5}
    lit = Reading("on ImageNet", (P("dataset", "is", "ImageNet"),), "categorical")
    with pytest.raises(ValueError, match="source"):
        Claim(
            "t-01",
            "headline",
            "q",
            "s",
            "literature",
            "v",
            _nothing,
            literal=lit,
            corrected=Reading("x", (P("dataset", "is", "MNIST"),), "w"),
        )
    with pytest.raises(ValueError, match="untestable"):
        Claim("t-01", "headline", "q", "s", "literature", "v", _nothing, evidence="none")
    with pytest.raises(ValueError, match="evidence"):
        Claim("t-01", "headline", "q", "s", "literature", "v", _nothing, evidence="typed")


def _nothing(quick, rng):
    return Measurement("-")


def test_runner_decides_and_reports_readings():
    from bntheory.claims.core import Unavailable
    from bntheory.claims.runner import run_claim

    lit = Reading("x <= 1", (P("x", "<=", 1.0),), "w")
    cor = Reading("x <= 10", (P("x", "<=", 10.0),), "w", source="paper")

    def check(quick, rng):
        return Measurement("x = 5", {"x": 5.0})

    r = run_claim(
        Claim("t-01", "headline", "q", "s", "numerical", "v", check, literal=lit, corrected=cor)
    )
    assert r.verdict is Verdict.HOLDS_WITH_CORRECTION
    d = r.to_dict()
    assert d["decision"] == {"literal": False, "corrected": True}
    assert d["literal"]["predicates"] == ["x <= 1"] and d["corrected"]["source"] == "paper"

    def missing(quick, rng):
        raise Unavailable("scikit-learn not installed; pip install bntheory[data]")

    r = run_claim(Claim("t-02", "headline", "q", "s", "numerical", "v", missing, literal=lit))
    assert r.verdict is Verdict.NOT_TESTABLE and "pip install bntheory[data]" in r.outcome.note
    # a Measurement without a literal reading is an error, not a verdict
    r = run_claim(Claim("t-03", "headline", "q", "s", "numerical", "v", check))
    assert r.status == "error" and "literal" in r.error


def test_stats_intervals_against_closed_forms():
    from scipy import stats as st

    from bntheory.claims.stats import exponent, log_ratio_ci, mean_ci, proportion_ci

    x = [1.0, 2.0, 4.0, 7.0]
    v, iv = mean_ci("x", x)
    half = st.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2
    assert v["x"] == pytest.approx(3.5) and iv["x"] == pytest.approx((3.5 - half, 3.5 + half))
    v, iv = log_ratio_ci("r", [2.0, 8.0], [1.0, 2.0])  # ratios 2 and 4: geometric mean sqrt(8)
    assert v["r"] == pytest.approx(math.sqrt(8.0))
    lo, hi = iv["r"]
    assert lo < v["r"] < hi
    with pytest.raises(ValueError, match="positive"):
        log_ratio_ci("r", [1.0, -1.0], [1.0, 1.0])
    # Clopper-Pearson: 0 of 10 -> upper bound 1 - 0.025^(1/10)
    v, iv = proportion_ci("p", 0, 10)
    assert iv["p"][0] == 0.0 and iv["p"][1] == pytest.approx(1 - 0.025**0.1)
    assert exponent(math.exp(-0.5)) == pytest.approx(0.5) and math.isnan(exponent(1.0))

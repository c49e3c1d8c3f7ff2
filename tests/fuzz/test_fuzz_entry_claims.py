"""Fuzzing of the claims ledger's machinery (issue 10): the decision rule, measurements,
the runner on synthetic claims, seeds and shared results, the reports (JSON, Markdown,
notes, HTML) and the confidence intervals of the network measurements.

References are independent of the code under test: the decision of a predicate is checked
by evaluating the comparison on a grid of points of the confidence interval (all satisfy ->
true, none -> false, else undecided); seeds against NumPy's ``SeedSequence``; Spearman's
rho against a rank-then-Pearson computation; the geometric mean ratio against
``exp(mean(log(a / b)))``. Bad input must raise a ``ValueError``/``TypeError`` naming the
argument (``KeyError`` for a lookup of an unknown name, as documented).
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import expect_valid_or_named_error, fuzz_settings, ints_any, scalars_any

_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_OPS = ["<=", ">=", "==", "in", "is"]


def _reference_decision(op, value, tol, rtol, q, interval):
    """Decide ``q <op> value`` by testing every point of a grid of the interval."""
    if op == "is":
        return q == value
    if q is None or isinstance(q, str):
        return None
    lo, hi = interval if interval is not None else (q, q)
    if lo is None or hi is None:
        return None
    if op == "in":
        a, b = value[0] - tol, value[1] + tol
        inside = lambda x: a <= x <= b  # noqa: E731
        marks = [a, b]
    else:
        slack = tol + rtol * abs(value)
        t_hi, t_lo = value + slack, value - slack
        inside = {
            "<=": lambda x: x <= t_hi,
            ">=": lambda x: x >= t_lo,
            "==": lambda x: t_lo <= x <= t_hi,
        }[op]
        marks = [t_lo, t_hi]
    pts = [lo, hi, *np.linspace(lo, hi, 33)] + [m for m in marks if lo <= m <= hi]
    sat = [inside(float(x)) for x in pts]
    return True if all(sat) else (False if not any(sat) else None)


@st.composite
def _predicates(draw):
    op = draw(st.sampled_from(_OPS))
    if op == "in":
        lo, hi = sorted(draw(st.tuples(_finite, _finite)))
        value = (lo, hi)
    elif op == "is":
        value = draw(st.one_of(st.booleans(), st.sampled_from(["MNIST", "digits"])))
    else:
        value = draw(_finite)
    tol = draw(st.sampled_from([0.0, 0.01, 1.0]))
    rtol = draw(st.sampled_from([0.0, 0.1]))
    return op, value, tol, rtol


@fuzz_settings(200)
@given(
    _predicates(),
    st.one_of(_finite, st.sampled_from([float("nan"), float("inf"), True, "MNIST"])),
    st.one_of(st.none(), st.tuples(_finite, _finite).map(sorted)),
)
def test_predicate_evaluate_against_grid_reference(pred, q, interval):
    from bntheory.claims.rule import Measurement, P

    op, value, tol, rtol = pred
    p = P("q", op, value, tol=tol, rtol=rtol)
    assert p.describe().startswith("q ")
    ivs = {} if interval is None or isinstance(q, str) else {"q": tuple(interval)}
    m = Measurement("m", {"q": q}, ivs)
    got = p.evaluate(m)
    mq = m.values["q"]  # NaN/inf stored as None
    ref = _reference_decision(op, p.value, tol, rtol, mq, m.intervals.get("q"))
    assert got == ref, (op, p.value, tol, rtol, mq, m.intervals)
    with pytest.raises(KeyError, match="zz"):
        P("zz", op, value).evaluate(m)


@fuzz_settings(200)
@given(
    st.one_of(st.sampled_from(["q", "", None, 3]), st.text(max_size=3)),
    st.one_of(st.sampled_from(_OPS), st.sampled_from(["<", "=", None, []])),
    st.one_of(
        scalars_any,
        st.tuples(scalars_any, scalars_any),
        st.sampled_from([(1, 2, 3), (2.0, 1.0), "ab", [0, 1], 10**400]),
    ),
    st.one_of(st.just(0.0), scalars_any),
    st.one_of(st.just(0.0), scalars_any),
)
def test_predicate_bad_input_is_named(quantity, op, value, tol, rtol):
    from bntheory.claims.rule import P

    names = ["quantity", "op", "value", "tol", "rtol"]
    p = expect_valid_or_named_error(P, names, quantity, op, value, tol=tol, rtol=rtol)
    if p is not None:
        assert p.op in _OPS and math.isfinite(p.tol) and math.isfinite(p.rtol)
        if p.op == "in":
            assert p.value[0] <= p.value[1]
        elif p.op != "is":
            assert math.isfinite(p.value)
        p.describe()


def test_predicate_and_measurement_regressions():
    """Regression: these raised errors that did not name the argument (``cannot unpack
    non-iterable int``, ``float() argument must be ...``, ``'<' not supported``) or an
    OverflowError."""
    from bntheory.claims.core import Outcome, Verdict
    from bntheory.claims.rule import Measurement, P

    for args, kw, word in [
        (("q", "in", 3), {}, "value"),
        (("q", "in", ("a", "b")), {}, "value"),
        (("q", "<=", None), {}, "value"),
        (("q", "<=", 1.0), {"tol": None}, "tol"),
        (("q", "<=", 1.0), {"rtol": "x"}, "rtol"),
        (("q", "<=", 10**400), {}, "value"),
    ]:
        with pytest.raises((TypeError, ValueError), match=word):
            P(*args, **kw)
    with pytest.raises(TypeError, match="values"):
        Measurement("m", {"q": [1.0]})
    with pytest.raises(TypeError, match="intervals"):
        Measurement("m", {"q": 1.0}, {"q": 3})
    assert Measurement("m", {"q": 10**400}).values["q"] is None  # non-finite -> None
    with pytest.raises(TypeError, match="numbers"):
        Outcome(Verdict.HOLDS, "m", {"x": complex(1, 1)})


@fuzz_settings(150)
@given(
    st.one_of(st.just("m"), scalars_any),
    st.one_of(
        st.dictionaries(st.sampled_from(["a", "b"]), st.one_of(_finite, scalars_any), max_size=2),
        st.sampled_from([None, [("a", 1.0)], "ab", 3]),
    ),
    st.one_of(
        st.dictionaries(
            st.sampled_from(["a", "b", "c"]),
            st.one_of(
                st.tuples(_finite, _finite), st.tuples(scalars_any, scalars_any), scalars_any
            ),
            max_size=2,
        ),
        st.sampled_from([None, 3]),
    ),
)
def test_measurement_bad_input_is_named(measured, values, intervals):
    from bntheory.claims.rule import Measurement

    names = ["measured", "values", "intervals", "interval"]
    m = expect_valid_or_named_error(Measurement, names, measured, values, intervals)
    if m is None:
        return
    d = m.to_dict()
    text = json.dumps(d, allow_nan=False)  # JSON-able, no NaN/inf (stored as None)
    assert json.loads(text)["numbers"] == {k: v for k, v in m.values.items()}
    for v in m.values.values():
        assert v is None or isinstance(v, (str, bool)) or math.isfinite(v)


def test_measurement_from_source_and_untestable_check():
    from bntheory.claims.core import untestable_check
    from bntheory.claims.rule import Measurement, SourceFact

    fact = SourceFact("Ioffe & Szegedy (2015), Fig. 1", {"dataset": "MNIST", "n": 3})
    m = Measurement.from_source(fact, note="x", n=4)
    assert m.values == {"dataset": "MNIST", "n": 4.0} and m.citation == fact.citation
    assert "dataset = MNIST" in m.measured and m.note == "x"
    u = untestable_check(True, np.random.default_rng(0))
    assert u.measured == "-" and u.values == {} and u.intervals == {}
    with pytest.raises(ValueError, match="citation"):
        SourceFact("", {})


@fuzz_settings(150)
@given(
    st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=3),
    st.one_of(st.none(), st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=3)),
)
def test_decide_follows_the_rule_table(lit_results, cor_results):
    """The readings are conjunctions (all true -> true, any false -> false, else None)
    and :func:`decide` follows the table of the core module's docstring."""
    from bntheory.claims.rule import Measurement, P, Reading, Verdict, decide

    # one quantity per predicate: 1.0 <= 0 false, <= 2 true, interval straddling -> None
    def reading(results, prefix):
        preds, vals, ivs = [], {}, {}
        for i, r in enumerate(results):
            name = f"{prefix}{i}"
            vals[name] = 1.0
            if r is None:
                ivs[name] = (0.0, 2.0)
            preds.append(P(name, "<=", {True: 2.0, False: -1.0, None: 1.0}[r]))
        return Reading("text", tuple(preds), "why", "src"), vals, ivs

    lit, v1, i1 = reading(lit_results, "l")
    cor, v2, i2 = reading(cor_results, "c") if cor_results else (None, {}, {})
    m = Measurement("m", {**v1, **v2}, {**i1, **i2})

    def conj(rs):
        return False if False in rs else (True if all(r is True for r in rs) else None)

    lv = conj(lit_results)
    cv = conj(cor_results) if cor_results else None
    verdict, detail = decide(lit, cor, m)
    assert detail["literal"] == lv == lit.evaluate(m)
    assert detail["corrected"] == (cv if cor is not None else "n/a")
    ref = {True: Verdict.HOLDS, None: Verdict.INCONCLUSIVE}.get(lv)
    if ref is None:
        if cor is None:
            ref = Verdict.REFUTED
        else:
            ref = {True: Verdict.HOLDS_WITH_CORRECTION, None: Verdict.INCONCLUSIVE}.get(
                cv, Verdict.REFUTED
            )
    assert verdict is ref
    d = lit.to_dict()
    assert d["predicates"] == [p.describe() for p in lit.predicates] and d["why"] == "why"


@fuzz_settings(60)
@given(
    st.one_of(st.sampled_from(list(Counter(["holds", "refuted", "inconclusive"]))), st.text()),
    st.one_of(st.just("m"), scalars_any),
    st.one_of(
        st.dictionaries(st.text(max_size=2), st.one_of(_finite, scalars_any), max_size=2),
        scalars_any,
    ),
)
def test_outcome(verdict, measured, numbers):
    from bntheory.claims.core import Outcome, Verdict

    v = Verdict(verdict) if verdict in {x.value for x in Verdict} else verdict
    out = expect_valid_or_named_error(
        Outcome, ["verdict", "measured", "numbers"], v, measured, numbers
    )
    if out is not None:
        d = out.to_dict()
        assert d["verdict"] == v.value and json.loads(json.dumps(d, allow_nan=False)) == d


# ---------------------------------------------------------------------- registry, runner
def test_registry_sections_and_describe():
    from bntheory.claims.core import SECTIONS
    from bntheory.claims.registry import all_claims, get_claim, sections

    s = sections()
    assert s == dict(SECTIONS) and s is not SECTIONS
    s.clear()
    assert sections()  # a copy: clearing it changes nothing
    for c in all_claims():
        d = c.describe()
        assert d["id"] == c.id and d["section"] in SECTIONS
        assert json.loads(json.dumps(d)) == d
        assert get_claim(c.id) is c


@fuzz_settings(60)
@given(st.one_of(st.text(max_size=8), st.sampled_from(["bwd-01", "", None, 3])), ints_any)
def test_claim_rng_and_get_claim(claim_id, seed):
    from bntheory.claims.registry import get_claim
    from bntheory.claims.runner import claim_rng

    g = expect_valid_or_named_error(claim_rng, ["claim_id", "seed"], claim_id, seed)
    if g is not None:
        ref = np.random.default_rng(
            np.random.SeedSequence([int(seed), zlib.crc32(claim_id.encode())])
        )
        assert np.array_equal(g.random(4), ref.random(4))
    if isinstance(claim_id, str):
        try:
            assert get_claim(claim_id).id == claim_id
        except KeyError as exc:
            assert "claim_id" in str(exc)


def test_claim_rng_regression():
    """Regression: a non-str claim id raised AttributeError ('int' has no 'encode')."""
    from bntheory.claims.runner import claim_rng

    with pytest.raises(TypeError, match="claim_id"):
        claim_rng(3, 0)


# synthetic claims: module-level checks, one per behaviour of the runner
def _check_mean(quick, rng):
    from bntheory.claims.rule import Measurement

    x = rng.standard_normal(64)
    se = x.std(ddof=1) / 8.0
    return Measurement(
        "mean of 64 normals", {"mean": x.mean()}, {"mean": (x.mean() - 3 * se, x.mean() + 3 * se)}
    )


def _check_outcome(quick, rng):
    from bntheory.claims.core import Outcome, Verdict

    return Outcome(Verdict.HOLDS, "legacy", {"x": 1.0})


def _check_wrong_type(quick, rng):
    return {"mean": 0.0}


def _check_raises(quick, rng):
    raise ValueError("boom <b>")


def _check_unavailable(quick, rng):
    from bntheory.claims.rule import Unavailable

    raise Unavailable("install the 'data' extra")


def _synthetic_claims(quote: str = "a quote"):
    from bntheory.claims.core import Claim
    from bntheory.claims.rule import P, Reading

    lit = Reading("mean is 0", (P("mean", "in", (-0.5, 0.5)),), "three standard errors")
    cor = Reading("mean below 1", (P("mean", "<=", 1.0),), "loose", source="Somebody (2020)")
    common = dict(section="forward-pass", source="Somebody (2020)", method="numerical", stated="0")
    return [
        Claim("zz-01", quote=quote, check=_check_mean, literal=lit, corrected=cor, **common),
        Claim("zz-02", quote=quote, check=_check_outcome, **common),
        Claim("zz-03", quote=quote, check=_check_wrong_type, literal=lit, **common),
        Claim("zz-04", quote=quote, check=_check_raises, literal=lit, **common),
        Claim("zz-05", quote=quote, check=_check_unavailable, literal=lit, **common),
        Claim("zz-06", quote=quote, check=_check_mean, **common),  # Measurement, no reading
        Claim("zz-07", quote=quote, check=_check_mean, evidence="none", untestable="why", **common),
    ]


@fuzz_settings(15)
@given(
    st.integers(0, 2**40),
    st.booleans(),
    st.text(max_size=12),
)
def test_run_claims_on_synthetic_claims(tmp_path_factory, seed, quick, quote):
    from bntheory.claims.html import to_html
    from bntheory.claims.notes import render_claim, render_notes, render_section, render_summary
    from bntheory.claims.report import report_dict, to_markdown, write_json
    from bntheory.claims.rule import Verdict, decide
    from bntheory.claims.runner import claim_rng, run_claim, run_claims

    claims = _synthetic_claims(quote + " <script>&")
    seen = []
    results = run_claims(claims, quick=quick, seed=seed, jobs=1, progress=seen.append)
    assert [r.claim.id for r in results] == [c.id for c in claims] == [r.claim.id for r in seen]
    by = {r.claim.id: r for r in results}
    # zz-01: the verdict is the rule applied to the measurement the check returns
    m = _check_mean(quick, claim_rng("zz-01", seed))
    verdict, decision = decide(claims[0].literal, claims[0].corrected, m)
    assert by["zz-01"].verdict is verdict and by["zz-01"].decision == decision
    assert by["zz-01"].measurement == m
    assert by["zz-02"].verdict is Verdict.HOLDS
    for cid, word in (("zz-03", "TypeError"), ("zz-04", "boom"), ("zz-06", "no literal")):
        assert by[cid].status == "error" and by[cid].verdict is Verdict.ERROR
        assert word in by[cid].error and "\n" not in by[cid].error
    assert by["zz-05"].verdict is Verdict.NOT_TESTABLE and "data" in by["zz-05"].outcome.note
    assert by["zz-07"].verdict is Verdict.NOT_TESTABLE
    assert run_claim(claims[0], quick=quick, seed=seed).outcome == by["zz-01"].outcome
    # the reports
    rep = report_dict(results, seed=seed, quick=quick, timings=False)
    assert rep["summary"] == {k: v for k, v in rep["summary"].items()} and sum(
        rep["summary"].values()
    ) == len(claims)
    counts = Counter(r.verdict.value for r in results)
    assert all(rep["summary"].get(k, 0) == n for k, n in counts.items())
    p = write_json(tmp_path_factory.mktemp("r") / "ledger.json", rep)
    assert json.loads(p.read_text()) == json.loads(json.dumps(rep))
    assert report_dict(results, seed=seed, quick=quick, timings=False) == rep  # deterministic
    md = to_markdown(results, seed=seed, quick=quick)
    assert all(f"**{c.id}**" in md for c in claims) and f"Seed {seed}" in md
    html = to_html(results, seed=seed, quick=quick, figures=tmp_path_factory.mktemp("f"))
    assert "<script>&" not in html and "&lt;script&gt;&amp;" in html
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    entries = rep["claims"]
    table = render_section(entries, {})
    assert table.count("\n") == len(entries) + 1
    for e in entries:
        block = render_claim(e)
        assert block.startswith(f"### {e['id']}") and "\n\n\n" not in block
    assert f"--seed {seed}" in render_summary(rep)
    notes = render_notes(rep, ledger="x.json")
    assert all(f"### {c.id}" in notes for c in claims) and notes.endswith("\n")


def test_run_claims_bad_arguments():
    from bntheory.claims.runner import run_claims

    for kw, word in (({"jobs": 0}, "jobs"), ({"jobs": 1.5}, "jobs"), ({"seed": -1}, "seed")):
        with pytest.raises(ValueError, match=word):
            run_claims([], **kw)
    assert run_claims([]) == []


def test_update_notes_and_places(tmp_path):
    from bntheory.claims.notes import places, update_notes
    from bntheory.claims.report import report_dict
    from bntheory.claims.runner import run_claims

    where = places()
    assert where and all(len(v) == 3 and all(isinstance(s, str) for s in v) for v in where.values())
    rep = report_dict(run_claims(_synthetic_claims()[:2]), seed=0, quick=True)
    text = update_notes(tmp_path / "notes.md", rep, ledger="ledger.json")
    assert (tmp_path / "notes.md").read_text() == text and "ledger.json" in text


@fuzz_settings(150)
@given(
    st.one_of(
        st.text(alphabet="{}:.0123456789fdegsx!r %ab[]", max_size=12),
        st.sampled_from(["{a:.3f}", "{a:d}", "{0}", "{a.real}", "{a[0]}", "{", "}", "{b}", None]),
    ),
    st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.one_of(_finite, st.none(), st.just("txt"), st.just(float("nan"))),
        max_size=2,
    ),
)
def test_render_explain(template, numbers):
    from bntheory.claims.notes import render_explain

    try:
        out = expect_valid_or_named_error(
            render_explain, ["template", "numbers"], template, numbers
        )
    except KeyError as exc:  # documented: a field that is not a measured value
        assert "not a measured value" in str(exc)
        return
    if out is not None:
        assert isinstance(out, str)
        for k, v in numbers.items():
            if "{" + k + "}" in template and "{{" not in template and (v is None or v != v):
                assert "n/a" in out


def test_render_explain_regression():
    """Regression: a positional field raised IndexError, a bad spec an unnamed ValueError,
    an attribute field AttributeError."""
    from bntheory.claims.notes import render_explain

    for t in ("{0}", "{a:d}", "{a.nope}", "{"):
        with pytest.raises(ValueError, match="template"):
            render_explain(t, {"a": 1.5})
    assert render_explain("{a:.2f} {b:.1e}", {"a": 1.234, "b": None}) == "1.23 n/a"


# ---------------------------------------------------------------------- seeds, shared results
@fuzz_settings(80)
@given(
    st.one_of(st.text(max_size=5), st.sampled_from(["", None, 3])),
    st.booleans(),
    st.one_of(st.none(), ints_any, st.just(10**9)),
    st.integers(0, 2**32),
)
def test_measurement_seeds_outside_a_run(key, quick, n, root):
    from bntheory.claims.seeding import N_SEEDS, measurement_seeds, per_seed

    seeds = expect_valid_or_named_error(
        measurement_seeds, ["key", "n"], key, quick, np.random.default_rng(root), n
    )
    if seeds is None:
        return
    k = N_SEEDS[quick] if n is None else int(n)
    ref_ss = np.random.SeedSequence(int(np.random.default_rng(root).integers(2**63)))
    ref = tuple(int(c.generate_state(1)[0]) for c in ref_ss.spawn(k))
    assert seeds == ref
    got = per_seed(key, lambda s: {"s": s}, quick, np.random.default_rng(root), n=n)
    assert got == [{"s": s} for s in ref]


def test_measurement_seeds_regression():
    """Regression: n=10**9 tried to spawn a billion seed sequences (a hang); n=True gave one."""
    from bntheory.claims.seeding import measurement_seeds

    rng = np.random.default_rng(0)
    for n, error in ((10**9, ValueError), (True, TypeError), (2.0, TypeError)):
        with pytest.raises(error, match="n must"):
            measurement_seeds("k", True, rng, n)


@fuzz_settings(60)
@given(st.one_of(st.integers(0, 2**64), ints_any), st.one_of(st.integers(0, 5), ints_any))
def test_subseeds(seed, n):
    from bntheory.claims.seeding import subseeds

    out = expect_valid_or_named_error(subseeds, ["seed", "n"], seed, n)
    if out is not None:
        ref = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(int(seed)).spawn(int(n))]
        assert out == ref and len(set(out)) == len(out)


def test_subseeds_regression():
    """Regression: a negative seed, or a float n, raised errors that did not name them."""
    from bntheory.claims.seeding import subseeds

    with pytest.raises(ValueError, match="seed"):
        subseeds(-1, 3)
    with pytest.raises(TypeError, match="n must"):
        subseeds(0, 2.5)


def test_shared_result_computes_once_per_run(tmp_path):
    from bntheory.claims.seeding import _RUN_CACHE, shared_result

    calls = []

    def fn():
        calls.append(1)
        return {"x": 1.5, "n": len(calls)}

    assert shared_result("k", 1, fn) == {"x": 1.5, "n": 1}  # outside a run: just fn()
    token = _RUN_CACHE.set(str(tmp_path))
    try:
        a = shared_result("k", 1, fn)
        b = shared_result("k", 1, fn)
        c = shared_result("k", 2, fn)
        with pytest.raises(ZeroDivisionError):
            shared_result("k", 3, lambda: 1 / 0)
        assert not (tmp_path / "k-3.lock").exists()  # the failing computation left no lock
    finally:
        _RUN_CACHE.reset(token)
    assert a == b == {"x": 1.5, "n": 2} and c["n"] == 3 and len(calls) == 3


def test_one_blas_thread():
    from threadpoolctl import threadpool_info

    from bntheory.claims.seeding import one_blas_thread

    with one_blas_thread():
        blas = [d for d in threadpool_info() if d.get("user_api") == "blas"]
        assert all(d["num_threads"] == 1 for d in blas)


# ---------------------------------------------------------------------- intervals
_samples = st.lists(
    st.one_of(st.floats(1e-3, 1e3), st.sampled_from([0.0, -1.0, float("nan"), float("inf")])),
    min_size=0,
    max_size=8,
)


@fuzz_settings(150)
@given(_samples, _samples, st.sampled_from([0.0, 0.25, 0.5, 1.0]))
def test_paired_ratio_ci(num, den, frac):
    from bntheory.claims._netexp_ci import fmt_ci, paired_ratio_ci

    out = expect_valid_or_named_error(
        paired_ratio_ci, ["numerator", "denominator"], "r", num, den, max_bad_fraction=frac
    )
    if out is None:
        assert len(num) != len(den)
        return
    v, iv = out
    a, b = np.asarray(num, float), np.asarray(den, float)
    good = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    assert v["r_bad_pairs"] == a.size - good.sum()
    if np.isnan(v["r"]):
        assert iv == {} and fmt_ci(iv, "r") == "n/a"
        return
    ref = math.exp(np.mean(np.log(a[good]) - np.log(b[good])))
    assert math.isclose(v["r"], ref, rel_tol=1e-9)
    lo, hi = iv["r"]
    assert lo <= v["r"] * (1 + 1e-12) and v["r"] <= hi * (1 + 1e-12)
    assert fmt_ci(iv, "r") == f"[{lo:.3g}, {hi:.3g}]"


def test_paired_ratio_ci_regression():
    """Regression: a length-1 denominator was broadcast and then raised IndexError."""
    from bntheory.claims._netexp_ci import paired_ratio_ci

    with pytest.raises(ValueError, match="numerator and denominator"):
        paired_ratio_ci("r", [1.0, 2.0, 3.0], [1.0])


@fuzz_settings(150)
@given(
    st.integers(0, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.one_of(st.integers(-3, 3).map(float), _finite), min_size=n, max_size=n),
            st.lists(st.one_of(st.integers(-3, 3).map(float), _finite), min_size=n, max_size=n),
        )
    ),
    st.one_of(st.just(0.95), st.sampled_from([0.5, 1.0, 0.0, 1.5, float("nan"), "x", True])),
)
def test_spearman_ci(xy, level):
    from bntheory.claims._netexp_ci import spearman_ci

    x, y = xy
    out = expect_valid_or_named_error(spearman_ci, ["x and y", "level"], "s", x, y, level=level)
    if out is None:
        return
    v, iv = out
    if len(set(x)) == 1 or len(set(y)) == 1:
        assert math.isnan(v["s"]) and iv == {}
        return
    rho = v["s"]
    assert -1 - 1e-12 <= rho <= 1 + 1e-12
    lo, hi = iv["s"]
    assert -1 <= lo <= hi <= 1
    if len(set(x)) == len(x) and len(set(y)) == len(y):  # no ties: Pearson of the ranks
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
        assert math.isclose(rho, np.corrcoef(rx, ry)[0, 1], abs_tol=1e-9)


def test_spearman_ci_regression():
    """Regression: a constant sample leaked SciPy's ConstantInputWarning and gave a (nan,
    nan) interval; a level outside (0, 1) gave a NaN interval."""
    import warnings

    from bntheory.claims._netexp_ci import spearman_ci

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, iv = spearman_ci("s", [1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])
    assert math.isnan(v["s"]) and iv == {}
    with pytest.raises(ValueError, match="level"):
        spearman_ci("s", [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0], level=1.5)

"""Fuzzing of the ledger's interval helpers (``bntheory.claims.stats``) and the sweep's
per-cell seeding (``bntheory.sweep.seeding``) (issue 10, "Done when").

Outcome on generated input: a result, finite for finite input (the documented NaN of
``exponent`` outside [0, 1) and of an interval over non-finite samples excepted), checked
against an independent reference (``scipy.stats``), or a ``ValueError``/``TypeError``
naming the argument; never another exception or a leaked warning.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import expect_valid_or_named_error, floats_any, fuzz_settings, scalars_any

samples_any = st.one_of(
    st.lists(floats_any, min_size=0, max_size=6),
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8),
    st.sampled_from([None, "abc", [[1.0, 2.0], [3.0]], 3.0, [1.0, "a"], {"a": 1}]),
)
levels = st.one_of(st.floats(0.01, 0.999), scalars_any)


def _finite_values(values, intervals):
    for v in values.values():
        assert math.isfinite(v), values
    for lo, hi in intervals.values():
        assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi, intervals


@fuzz_settings(150)
@given(samples_any, levels)
def test_mean_ci(samples, level):
    from scipy import stats

    from bntheory.claims.stats import mean_ci

    out = expect_valid_or_named_error(mean_ci, ["samples", "level"], "m", samples, level=level)
    if out is None:
        return
    values, intervals = out
    a = np.asarray(samples, dtype=float)
    if not np.all(np.isfinite(a)):
        assert math.isnan(values["m"]) and intervals == {}
        return
    _finite_values(values, intervals)
    if np.ptp(a) > 1e-6 * max(1.0, float(np.max(np.abs(a)))):
        ref = stats.t.interval(level, a.size - 1, loc=a.mean(), scale=stats.sem(a))
        assert np.allclose(intervals["m"], ref, rtol=1e-9, atol=1e-12)


@fuzz_settings(120)
@given(samples_any, samples_any, levels)
def test_log_ratio_ci(num, den, level):
    from bntheory.claims.stats import log_ratio_ci

    names = ["numerator", "denominator", "samples", "level"]
    out = expect_valid_or_named_error(log_ratio_ci, names, "r", num, den, level=level)
    if out is not None and math.isfinite(out[0]["r"]):
        _finite_values(*out)
        lo, hi = out[1]["r"]
        assert lo <= out[0]["r"] * (1 + 1e-12) and out[0]["r"] <= hi * (1 + 1e-12)


@fuzz_settings(120)
@given(
    st.one_of(st.integers(-2, 40), scalars_any),
    st.one_of(st.integers(-2, 40), scalars_any),
    levels,
)
def test_proportion_ci(k, n, level):
    from scipy import stats

    from bntheory.claims.stats import proportion_ci

    names = ["successes", "trials", "level"]
    out = expect_valid_or_named_error(proportion_ci, names, "p", k, n, level=level)
    if out is None:
        return
    _finite_values(*out)
    lo, hi = out[1]["p"]
    ref = stats.binomtest(int(k), int(n)).proportion_ci(level, method="exact")
    assert np.allclose([lo, hi], [ref.low, ref.high], rtol=1e-8, atol=1e-12)


@fuzz_settings(80)
@given(st.one_of(floats_any, scalars_any, st.floats(0, 1, exclude_max=True)))
def test_exponent(rate):
    from bntheory.claims.stats import exponent

    e = expect_valid_or_named_error(exponent, ["rate"], rate)
    if e is None:
        return
    r = float(rate)
    if 0 < r < 1:
        assert math.isfinite(e) and math.isclose(math.exp(-e), r, rel_tol=1e-12)
    elif r == 0:
        assert e == math.inf
    else:  # documented: not a rate
        assert math.isnan(e)


# regression tests of the named errors (each failed before the fix)
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda s: s.mean_ci("m", "abc"), "samples"),
        (lambda s: s.mean_ci("m", None), "samples"),
        (lambda s: s.mean_ci("m", [[1.0, 2.0], [3.0]]), "samples"),
        (lambda s: s.mean_ci("m", [1.0, 2.0], level="a"), "level"),
        (lambda s: s.mean_ci("m", [1e308, 1.7e308, -1e308]), "samples"),
        (lambda s: s.log_ratio_ci("r", [1e308, 1e308], [1e-308, 1e-300]), "numerator"),
        (lambda s: s.proportion_ci("p", 1, 3, level=2.0), "level"),
        (lambda s: s.exponent("abc"), "rate"),
        (lambda s: s.exponent(None), "rate"),
    ],
)
def test_stats_errors_name_the_argument(call, name):
    import warnings

    from bntheory.claims import stats

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError), match=name):
            call(stats)


def test_log_ratio_of_a_ratio_beyond_float_range_is_finite():
    """a / b overflows float64 for one pair, the log ratio does not (it used to warn)."""
    import warnings

    from bntheory.claims.stats import log_ratio_ci

    num, den = [1e300] + [2.0] * 20, [1e-100] + [1.0] * 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, _ = log_ratio_ci("r", num, den)
    ref = np.mean([math.log(1e300) - math.log(1e-100)] + [math.log(2.0)] * 20)
    assert math.isclose(v["r_log10"], ref / math.log(10), rel_tol=1e-12)


# ---------------------------------------------------------------------- sweep seeding
params_any = st.one_of(
    st.dictionaries(
        st.text(max_size=4), st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=3
    ),
    st.sampled_from(["abc", None, 3, [("a", 1)], {"a": object()}, {"a": {1, 2}}]),
)
ints_seed = st.one_of(st.integers(-2, 2**70), st.sampled_from([1.5, "1", None, True, np.int64(3)]))


@fuzz_settings(150)
@given(params_any, ints_seed, ints_seed)
def test_cell_key_and_seed(params, seed_index, root):
    from bntheory.sweep.seeding import cell_key, cell_seed

    names = ["params", "seed_index", "root_entropy"]
    key = expect_valid_or_named_error(cell_key, names, "f", params, seed_index, root)
    seq = expect_valid_or_named_error(cell_seed, names, params, seed_index, root)
    if key is not None:
        assert len(key) == 64 and int(key, 16) >= 0
        assert key == cell_key("f", dict(reversed(list(params.items()))), seed_index, root)
    if seq is not None:
        assert seq.entropy == int(root)
        assert seq.spawn_key[-1] == int(seed_index)


@fuzz_settings(40)
@given(st.sampled_from([len, np.mean, lambda x: x, object(), "abc", 3, None, math.sqrt]))
def test_fn_name(fn):
    from bntheory.sweep.seeding import fn_name

    name = expect_valid_or_named_error(fn_name, ["fn"], fn)
    assert name is None or (isinstance(name, str) and "." in name)

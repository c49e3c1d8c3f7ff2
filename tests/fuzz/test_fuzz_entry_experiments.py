"""Fuzzing of the experiment scripts' shared helpers (issue 10): JSON conversion, data
files, thinning and rates of solver runs, log-log slopes, seeds and plotting bands.

References: ``json`` and ``math.isfinite`` for the conversions, ``numpy.polyfit`` on
exact power laws for slopes, ``SeedSequence.spawn`` for seeds, the solver run's own arrays
indexed by an independently computed thinning. The experiments' command-line driver
(``_common.run``) and cached sweeps (``_common.sweep``) run in ``tests/experiments`` and
the subprocess tests of ``tests/test_processes.py``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import (
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    scalars_any,
)

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.sampled_from([np.float32(np.inf), np.int64(3), np.bool_(True), np.float64(np.nan)]),
    st.integers(0, 2).flatmap(lambda n: float_arrays((n,))),
)
_nested = st.recursive(
    _leaf,
    lambda s: st.one_of(
        st.lists(s, max_size=3), st.tuples(s), st.dictionaries(st.text(max_size=2), s, max_size=2)
    ),
    max_leaves=8,
)


def _finite_tree(obj) -> bool:
    """Independent walk: every float (incl. array entries) finite."""
    if isinstance(obj, dict):
        return all(_finite_tree(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite_tree(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return all(_finite_tree(float(v)) for v in obj.ravel()) if obj.dtype.kind == "f" else True
    if isinstance(obj, (float, np.floating)):
        return math.isfinite(float(obj))
    return True


@fuzz_settings(150)
@given(st.one_of(_nested, st.sampled_from([{1: np.arange(2)}, object(), complex(1, 2), b"x"])))
def test_to_jsonable_and_all_finite(obj):
    from bntheory.experiments._common import all_finite as all_finite_common
    from bntheory.experiments._jsonable import all_finite, to_jsonable

    assert all_finite(obj) == all_finite_common(obj) == _finite_tree(obj)
    out = expect_valid_or_named_error(to_jsonable, ["data"], obj)
    if out is None:
        return
    text = json.dumps(out, allow_nan=False)  # plain JSON: no NaN/inf (they became None)
    assert all_finite(json.loads(text))


@fuzz_settings(100)
@given(st.one_of(scalars_any, st.just(10**400), st.just(-(10**400))))
def test_finite_or_none(x):
    from bntheory.experiments._jsonable import finite_or_none

    out = expect_valid_or_named_error(finite_or_none, ["x"], x)
    if out is None:
        return
    try:
        ref = float(x)
    except OverflowError:
        ref = math.inf
    assert out == (ref if math.isfinite(ref) else None)


def test_finite_or_none_regression():
    """Regression: an int beyond the float range raised OverflowError (it is not finite:
    None), a str an unnamed ValueError."""
    from bntheory.experiments._jsonable import finite_or_none

    assert finite_or_none(10**400) is None
    with pytest.raises(TypeError, match="x must"):
        finite_or_none("abc")


@fuzz_settings(40)
@given(
    st.one_of(
        st.dictionaries(st.sampled_from("ab"), _nested, max_size=2), st.just({"c": object()})
    ),
    st.sampled_from(["run", "x_y", "ols-gd"]),
)
def test_save_and_load_data(tmp_path_factory, data, name):
    from bntheory.experiments._common import data_path, load_data, save_data
    from bntheory.experiments._jsonable import to_jsonable

    out = tmp_path_factory.mktemp("o")
    assert data_path(name, out) == out / "data" / f"{name}.json"
    p = expect_valid_or_named_error(save_data, ["data"], data, name, out)
    if p is None:
        assert not data_path(name, out).exists()
        return
    assert p == data_path(name, out)
    assert load_data(name, out) == json.loads(json.dumps(to_jsonable(data)))
    with pytest.raises(FileNotFoundError, match="missing"):
        load_data("missing", out)


@fuzz_settings(100)
@given(st.integers(0, 3000), st.integers(2, 500))
def test_thin_index(n, max_points):
    from bntheory.experiments._analysis import thin_index

    idx = thin_index(n, max_points)
    assert idx.dtype.kind == "i" and np.all(np.diff(idx) > 0) and len(idx) <= max(n, 0)
    if n <= max_points:
        np.testing.assert_array_equal(idx, np.arange(n))
    else:
        assert idx[0] == 0 and idx[-1] == n - 1 and len(idx) <= max_points
        # evenly spread: no gap wider than twice the ideal spacing
        assert np.max(np.diff(idx)) <= 2 * (n - 1) / (max_points - 1) + 1


@fuzz_settings(100)
@given(
    st.one_of(float_arrays((4,)), st.lists(st.floats(allow_nan=True), max_size=4)),
    st.sampled_from([1e-300, 0.0, 1.0]),
)
def test_log_floor(values, floor):
    from bntheory.experiments._analysis import log_floor

    out = log_floor(values, floor)
    v = np.asarray(values, dtype=float)
    ref = np.array([x if x > floor else np.nan for x in v.ravel()]).reshape(v.shape)
    np.testing.assert_array_equal(out, ref)


@fuzz_settings(100)
@given(st.floats(1e-6, 0.999999), st.floats(1e-6, 0.999999))
def test_log_rate_error(fitted, predicted):
    from bntheory.experiments._analysis import log_rate_error

    out = log_rate_error(fitted, predicted)
    assert math.isclose(
        out, abs(math.log(fitted) / math.log(predicted) - 1), rel_tol=1e-12, abs_tol=1e-15
    )


@fuzz_settings(15)
@given(st.integers(1, 400), st.integers(2, 50), st.sampled_from([(), ("eps_hat",)]))
def test_trajectory_and_bngd_rate_record(steps, max_points, history):
    """A BNGD run on a small least-squares problem: the trajectory is the run's own arrays
    at :func:`thin_index` positions; the rate record's window lies inside the run."""
    from bntheory.experiments._analysis import bngd_rate_record, thin_index, trajectory
    from bntheory.problems import LeastSquares
    from bntheory.solvers import BNGD, solve

    rng = np.random.default_rng(steps)
    prob = LeastSquares.ill_conditioned(4, 10.0, "geometric", rng=rng)
    w0 = rng.standard_normal(4)
    x0 = (float(np.sqrt(w0 @ prob.H @ w0)), w0)
    solver = BNGD(lr_w=0.5, lr_a=1.0)
    res = solve(prob, solver, x0, max_steps=steps, tol=1e-10)
    rec = trajectory(res, history=history, max_points=max_points)
    idx = thin_index(len(res.losses), max_points)
    np.testing.assert_array_equal(rec["k"], idx)
    np.testing.assert_array_equal(rec["losses"], np.asarray(res.losses)[idx])
    for key in history:
        np.testing.assert_array_equal(rec[key], np.asarray(res.history[key])[idx])
    assert rec["n_steps"] == res.n_steps and rec["status"] == res.status
    r = bngd_rate_record(res, prob, solver, x0)
    assert 0 <= r["settle_step"] and r["floor_step"] <= len(res.history["direction_gap"])
    assert np.isfinite(r["asymptotic_rate"]) and r["asymptotic_rate"] >= 0
    if r["settled"]:
        assert 0 < r["fitted_rate"] <= 1 + 1e-9 and 0 < r["predicted_rate"] <= 1 + 1e-9
        assert r["log_rate_error"] >= 0


@fuzz_settings(100)
@given(
    st.floats(-3, 3),
    st.floats(0.1, 10),
    st.integers(0, 6),
    st.one_of(st.none(), st.sampled_from(["nan", "neg", "const", "short"])),
)
def test_loglog_slope_against_power_law(slope, c, n, spoil):
    from bntheory.experiments._nets_common import loglog_slope

    x = np.geomspace(1.0, 100.0, n) if n else np.zeros(0)
    y = c * x**slope
    if spoil == "nan" and n:
        y[0] = np.nan
    elif spoil == "neg" and n:
        x[-1] = -1.0
    elif spoil == "const":
        x = np.full(n, 3.0)
    elif spoil == "short":
        y = y[:-1] if n else np.ones(1)
    got = expect_valid_or_named_error(loglog_slope, ["x and y"], x, y)
    if got is None:
        assert spoil == "short"
        return
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2 or spoil == "const":
        assert math.isnan(got)
    else:
        assert math.isclose(got, slope, abs_tol=1e-8)


def test_loglog_slope_regression():
    """Regression: one abscissa leaked a RuntimeWarning from polyfit; unpaired samples
    raised numpy's broadcast error."""
    import warnings

    from bntheory.experiments._nets_common import loglog_slope

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(loglog_slope([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="x and y"):
        loglog_slope([1.0, 2.0, 3.0], [1.0, 2.0])


@fuzz_settings(60)
@given(st.one_of(st.integers(0, 2**63), ints_any), st.one_of(st.integers(0, 6), ints_any))
def test_seeds(seed, n):
    from bntheory.experiments._nets_common import seeds

    out = expect_valid_or_named_error(seeds, ["seed", "n"], seed, n)
    if out is not None:
        ref = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(seed)).spawn(int(n))]
        assert out == ref


def test_seeds_regression():
    """Regression: n=10**9 hung in SeedSequence.spawn; a negative seed raised an unnamed
    ValueError."""
    from bntheory.experiments._nets_common import seeds

    with pytest.raises(ValueError, match="n must"):
        seeds(0, 10**9)
    with pytest.raises(ValueError, match="seed must"):
        seeds(-1, 2)


@fuzz_settings(30)
@given(st.integers(0, 5), st.booleans(), st.booleans())
def test_band(n, with_line, with_nan):
    import matplotlib.pyplot as plt

    from bntheory.experiments._nets_common import band, single_thread

    x = np.arange(n, dtype=float)
    lo, hi = x - 1.0, x + 1.0
    if with_nan and n:
        lo[0] = np.nan
    fig, ax = plt.subplots()
    try:
        with single_thread():
            band(ax, x, lo, hi, label="b", color="C0", line=x if with_line else None)
        assert len(ax.collections) == 1 and len(ax.lines) == int(with_line)
    finally:
        plt.close(fig)

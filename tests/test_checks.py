"""The validation policy of bntheory._checks: bool and complex are TypeErrors, bad values
ValueErrors, every message names the argument, and valid input comes back unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bntheory import _checks
from bntheory._checks import (
    as_finite_array,
    as_generator,
    as_int,
    as_matrix,
    as_real,
    as_real_array,
    as_spd,
    as_vector,
)

ARRAY_VALIDATORS = {
    "as_real_array": lambda x, n: as_real_array(x, n),
    "as_finite_array": lambda x, n: as_finite_array(x, n),
    "as_vector": lambda x, n: as_vector(x, n),
    "as_matrix": lambda x, n: as_matrix(x, n),
    "as_spd": lambda x, n: as_spd(x, n),
}
SCALAR_VALIDATORS = {
    "as_real": lambda x, n: as_real(x, n),
    "as_int": lambda x, n: as_int(x, n),
}

# (value, which validators see it as the wrong *kind*): TypeError for every validator
WRONG_KIND = [
    True,
    np.bool_(False),
    1 + 2j,
    np.complex128(1.0),
    "1.0",
    None,
]


@pytest.mark.parametrize("value", WRONG_KIND, ids=repr)
@pytest.mark.parametrize("validator", sorted(SCALAR_VALIDATORS))
def test_scalars_wrong_kind_is_type_error(validator, value):
    with pytest.raises(TypeError, match=r"^lr must be"):
        SCALAR_VALIDATORS[validator](value, "lr")


@pytest.mark.parametrize(
    "value",
    [np.array([True, False]), np.array([[1j, 0], [0, 1]]), [1, 2j], "abc", None, [[1], [1, 2]]],
    ids=["bool", "complex-matrix", "complex-list", "str", "None", "ragged"],
)
@pytest.mark.parametrize("validator", sorted(ARRAY_VALIDATORS))
def test_arrays_wrong_kind_is_type_error(validator, value):
    with pytest.raises(TypeError, match=r"^X\b"):
        ARRAY_VALIDATORS[validator](value, "X")


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: as_real(np.nan, "lr"), "finite"),
        (lambda: as_real(np.inf, "lr"), "finite"),
        (lambda: as_real(-1.0, "lr", positive=True), "> 0"),
        (lambda: as_real(0.0, "lr", positive=True), "> 0"),
        (lambda: as_real(-1e-300, "lr", nonneg=True), ">= 0"),
        (lambda: as_real(2.0, "lr", maximum=1.0), "<= 1.0"),
        (lambda: as_int(0, "lr"), ">= 1"),
        (lambda: as_int(5, "lr", minimum=0, maximum=4), "<= 4"),
        (lambda: as_vector([1.0, np.nan], "lr"), "NaN"),
        (lambda: as_vector([[1.0]], "lr"), "1-D"),
        (lambda: as_vector([], "lr"), "non-empty"),
        (lambda: as_vector([1.0, 2.0], "lr", dim=3), "length 3"),
        (lambda: as_matrix([1.0, 2.0], "lr"), "2-D"),
        (lambda: as_matrix(np.ones((2, 3)), "lr", shape=(2, 2)), "shape"),
        (lambda: as_finite_array(np.full((2, 2), np.inf), "lr"), "inf"),
        (lambda: as_finite_array(np.zeros((0, 3)), "lr"), "non-empty"),
        (lambda: as_spd([[1.0, 2.0], [0.0, 1.0]], "lr"), "symmetric"),
        (lambda: as_spd([[1.0, 0.0], [0.0, -1.0]], "lr"), "positive definite"),
        (lambda: as_generator(-1, "lr"), "non-negative"),
    ],
)
def test_bad_values_are_value_errors_naming_the_argument(call, word):
    with pytest.raises(ValueError, match=r"^lr\b") as info:
        call()
    assert word in str(info.value)


def test_generator_kinds():
    g = np.random.default_rng(3)
    assert as_generator(g) is g
    # an int seed and a SeedSequence give numpy's own stream (independent reference)
    assert as_generator(7).random() == np.random.default_rng(7).random()
    ss = np.random.SeedSequence(11)
    assert as_generator(ss).random() == np.random.default_rng(np.random.SeedSequence(11)).random()
    assert isinstance(as_generator(None), np.random.Generator)
    for bad in (True, 1.5, "3", [1]):
        with pytest.raises(TypeError, match="^rng"):
            as_generator(bad)


def test_gradcheck_reexports_as_generator():
    from bntheory import gradcheck

    assert gradcheck.as_generator is _checks.as_generator


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6))
def test_as_real_returns_the_value(x):
    v = as_real(x, "x")
    assert type(v) is float and v == float(x)


@given(st.integers(-(10**9), 10**9))
def test_as_int_accepts_python_and_numpy_ints(n):
    assert as_int(n, "n", minimum=-(10**9)) == n
    assert type(as_int(np.int64(n), "n", minimum=-(10**9))) is int
    with pytest.raises(TypeError, match="^n"):
        as_int(float(n), "n", minimum=-(10**9))


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=8))
def test_as_vector_copies_float64(xs):
    src = np.asarray(xs, dtype=np.float32)
    out = as_vector(src, "x")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, src.astype(np.float64))
    out[0] = 123.0  # a copy: the caller's array is untouched
    assert src[0] == np.float32(xs[0])


def test_as_spd_against_numpy_cholesky():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    m = a @ a.T + 5 * np.eye(5)
    sym, chol = as_spd(m, "S")
    np.testing.assert_allclose(sym, m, rtol=0, atol=0)
    np.testing.assert_allclose(chol, np.linalg.cholesky(m), rtol=1e-14)


def test_complex_array_leaks_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="complex"):
            as_real_array(np.array([1.0 + 0j]), "z")


def test_policy_is_documented():
    doc = _checks.__doc__.lower()
    for phrase in ("bool", "typeerror", "valueerror", "complex", "name"):
        assert phrase in doc

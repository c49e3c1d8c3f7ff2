"""Shared pieces of the hypothesis fuzz tests of the public API (issue: hardening).

Every outcome of a public entry point on generated input must be either a valid result
(finite where the input was finite) or a ``ValueError``/``TypeError`` whose message names
the offending argument. Any other exception, a NaN in an output for finite input, or a
leaked warning fails the test.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

SPECIAL = [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, np.nan, np.inf, -np.inf, 1.0, -1.0]

# float values: ordinary, huge, tiny and non-finite
floats_any = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)


floats32_any = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([0.0, 1e-38, -1e-38, 3e38, -3e38, np.nan, np.inf, -np.inf, 1.0]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
)


def float_arrays(shape, dtype=np.float64, elements=None):
    """Arrays of ``dtype`` with ordinary, huge, tiny and non-finite values."""
    if elements is None:
        elements = floats32_any if np.dtype(dtype) == np.float32 else floats_any
    return arrays(dtype, shape, elements=elements)


@contextmanager
def no_warnings():
    """Turn every warning into an error inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def expect_valid_or_named_error(fn, names, *args, **kwargs):
    """Call ``fn``; return its result, or None when it raised a ValueError/TypeError whose
    message names one of ``names``. Re-raise anything else (which fails the test)."""
    with no_warnings():
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            assert any(n in msg for n in names), f"error does not name an argument {names}: {msg!r}"
            return None


def all_finite(*arrays_) -> bool:
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays_)


# ---------------------------------------------------------------------- shared strategies
#: scalars of every kind a user might pass for a float argument
scalars_any = st.one_of(
    floats_any,
    st.integers(-(10**6), 10**6),
    st.sampled_from([True, False, None, "1.0", "abc", [1.0], (), complex(1, 1)]),
)

#: scalars for integer arguments (sizes, counts, steps)
ints_any = st.one_of(
    st.integers(-3, 8),
    st.sampled_from([True, 2.0, 1.5, None, "3", np.int64(3), 10**20]),
)


def small_shapes(max_dims: int = 2, max_side: int = 4):
    """Shapes with 0..max_dims axes of length 0..max_side (mostly 1-D / 2-D)."""
    return st.lists(st.integers(0, max_side), min_size=0, max_size=max_dims).map(tuple)


@st.composite
def spd_matrices(draw, dim: int, log10_scale=(-6.0, 6.0), log10_kappa=(0.0, 8.0)):
    """Symmetric positive-definite ``(dim, dim)`` matrices with a drawn scale and condition number."""
    seed = draw(st.integers(0, 2**32 - 1))
    gen = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.floats(*log10_scale))
    kappa = 10.0 ** draw(st.floats(*log10_kappa))
    lam = scale * kappa ** (-np.linspace(0.0, 1.0, dim)) if dim > 1 else np.array([scale])
    Q, _ = np.linalg.qr(gen.standard_normal((dim, dim)))
    A = (Q * lam) @ Q.T
    return 0.5 * (A + A.T)


def any_array_like(shape_strategy=None):
    """Arrays with special values, or odd array-likes (lists, strings, None, objects)."""
    shape_strategy = small_shapes() if shape_strategy is None else shape_strategy
    return st.one_of(
        shape_strategy.flatmap(float_arrays),
        st.sampled_from([None, "abc", [[1.0, 2.0], [3.0]], {"a": 1}, object(), [], [[]], 3.0]),
        st.lists(floats_any, min_size=0, max_size=4),
    )


def fuzz_settings(max_examples: int):
    """Settings of a fuzz test: ``max_examples`` cases, no deadline (shared, loaded cores)."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_no_nan_fields(result, *, arrays_only: bool = True) -> None:
    """No NaN in the float fields of a dataclass result: its float ndarrays, or with
    ``arrays_only=False`` every field NumPy reads as floats (scalars and lists too)."""
    for name in getattr(result, "__dataclass_fields__", {}):
        v = getattr(result, name)
        if arrays_only and not isinstance(v, np.ndarray):
            continue
        v = np.asarray(v)
        if v.dtype.kind == "f":
            assert not np.any(np.isnan(v)), name

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

"""Fuzz the network-experiment drivers at tiny sizes (issue 10): Santurkar et al.'s (2018)
theorem checks, landscape and ICS probes, the digits split and Ioffe & Szegedy's protocol
label. Valid input: finite results, and the theorems' bounds hold (they are proven
inequalities, equalities at eps = 0); bad input: a ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz._harness import (
    any_array_like,
    assert_no_nan_fields,
    expect_valid_or_named_error,
    fuzz_settings,
    ints_any,
    scalars_any,
)


def _net_and_data(seed: int, eps: float = 1e-5):
    from bntheory.nets import MLP

    rng = np.random.default_rng(seed)
    net = MLP([3, 5, 4, 2], bn=True, eps=eps, rng=seed)
    X = rng.standard_normal((8, 3))
    Y = np.eye(2)[rng.integers(0, 2, 8)]
    return net, X, Y


@fuzz_settings(30)
@given(st.integers(0, 2**16), st.one_of(st.integers(-1, 3), ints_any), st.sampled_from([0.0, 1e-3]))
def test_santurkar_theorems(seed, layer, eps):
    from bntheory.nets.santurkar2018_theorems import santurkar_theorem41, santurkar_theorem42

    net, X, Y = _net_and_data(seed, eps)
    for fn in (santurkar_theorem41, santurkar_theorem42):
        got = expect_valid_or_named_error(fn, ["layer"], net, X, Y, layer)
        if got is None:
            continue
        assert repr(got)
        for f in dataclasses.fields(got):
            v = getattr(got, f.name)
            if isinstance(v, (float, np.ndarray)):
                assert np.all(np.isfinite(v)), f.name


@fuzz_settings(20)
@given(
    st.integers(0, 2**16),
    st.one_of(st.floats(1e-3, 0.5), scalars_any),
    # no huge step counts: a long run is a legitimate request, not an error
    st.one_of(st.integers(1, 3), st.sampled_from([0, -1, 2.5, True, None, "3"])),
    st.one_of(st.none(), st.integers(2, 8), ints_any),
)
def test_landscape_and_ics_probes(seed, lr, steps, batch_size):
    from bntheory.nets.santurkar2018 import internal_covariate_shift, santurkar_landscape

    names = ["lr", "steps", "batch_size", "every", "s_grid"]
    for fn in (santurkar_landscape, internal_covariate_shift):
        net, X, Y = _net_and_data(seed)
        got = expect_valid_or_named_error(
            fn, names, net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=seed
        )
        if got is None:
            continue
        assert repr(got)
        assert_no_nan_fields(got)


@fuzz_settings(30)
@given(st.one_of(st.floats(0.01, 0.99), scalars_any), st.one_of(st.integers(0, 5), ints_any))
def test_load_digits_split(test_fraction, rng):
    from bntheory.nets.data import load_digits_split

    ds = expect_valid_or_named_error(
        load_digits_split, ["test_fraction", "rng"], test_fraction, rng
    )
    if ds is None:
        return
    n_test = ds.X_test.shape[0]
    assert ds.X_train.shape[0] + n_test == 1797 and ds.X_train.shape[1] == 64
    assert abs(n_test - test_fraction * 1797) <= 1
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.X_test))


@fuzz_settings(30)
@given(
    st.one_of(st.booleans(), scalars_any),
    st.one_of(st.integers(1, 60_000), ints_any),
    st.one_of(st.integers(1, 100), ints_any),  # protocol_label only compares them
    st.one_of(st.just("digits"), any_array_like()),
)
def test_protocol_label(quick, steps, batch, data):
    from bntheory.nets.data import load_digits_split
    from bntheory.nets.ioffe2015_protocol import (
        CUSTOM_LABEL,
        PAPER_LABEL,
        QUICK_LABEL,
        protocol_label,
    )

    ds = load_digits_split() if isinstance(data, str) else data
    label = expect_valid_or_named_error(
        protocol_label,
        ["quick", "steps", "batch", "data"],
        quick=quick,
        steps=steps,
        batch=batch,
        data=ds,
    )
    if label is not None:
        assert label in (QUICK_LABEL, CUSTOM_LABEL)  # the digits are never the paper's MNIST
        assert label != PAPER_LABEL

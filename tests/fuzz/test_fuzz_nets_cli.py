"""Fuzzing of bntheory.nets (MLP constructor, loss_and_grad, train), sweep.run_sweep
argument validation and the CLI (random argv through bntheory.cli.main)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bntheory import cli
from bntheory.nets import MLP, train
from bntheory.sweep import run_sweep

from ._harness import (
    all_finite,
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    scalars_any,
)


@fuzz_settings(120)
@given(
    st.one_of(
        st.lists(st.integers(1, 4), min_size=2, max_size=4),
        st.lists(ints_any, max_size=3),
        any_array_like(),
    ),
    st.sampled_from(["relu", "tanh", "sigmoid", "linear", "gelu", "", None]),
    st.sampled_from([True, False, "all", "none", "last", "output", "some", [0], [7], None]),
    st.one_of(st.floats(0, 1), scalars_any),
    st.sampled_from(["mse", "cross_entropy", "linear", "hinge"]),
    st.one_of(st.none(), st.floats(0.1, 4), scalars_any),
)
def test_mlp_constructor(sizes, activation, bn, eps, loss, sigma_w2):
    names = ["sizes", "activation", "bn", "eps", "loss", "sigma_w2"]
    net = expect_valid_or_named_error(
        MLP, names, sizes, activation, bn=bn, eps=eps, loss=loss, sigma_w2=sigma_w2, rng=0
    )
    if net is not None:
        assert all_finite(net.get_flat())


@st.composite
def net_batches(draw):
    d_in, d_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    net = MLP(
        [d_in, draw(st.integers(1, 4)), d_out],
        draw(st.sampled_from(["relu", "tanh", "sigmoid", "linear"])),
        bn=draw(st.booleans()),
        loss=draw(st.sampled_from(["mse", "cross_entropy", "linear"])),
        rng=draw(st.integers(0, 99)),
    )
    n = draw(st.integers(0, 5))
    if draw(st.booleans()):
        gen = np.random.default_rng(draw(st.integers(0, 99)))
        scale = 10.0 ** draw(st.floats(-150, 150))
        X = scale * gen.standard_normal((n, d_in))
        Y = gen.standard_normal((n, d_out))
    else:
        X = draw(float_arrays(st.sampled_from([(n, d_in), (n, d_in + 1), (n,)])))
        Y = draw(float_arrays(st.sampled_from([(n, d_out), (n + 1, d_out)])))
    return net, X, Y


@fuzz_settings(120)
@given(net_batches())
def test_loss_and_grad(case):
    net, X, Y = case
    out = expect_valid_or_named_error(net.loss_and_grad, ["X", "Y"], X, Y)
    if out is not None:
        assert not np.any(np.isnan(out[1])) and not np.isnan(out[0])


@fuzz_settings(60)
@given(net_batches(), st.sampled_from([1e-2, 1e3, 1e30, 1e300, 1.7e308]), st.integers(0, 6))
def test_train(case, lr, steps):
    net, X, Y = case
    res = expect_valid_or_named_error(
        train, ["X", "Y", "lr", "steps"], net, X, Y, lr=lr, steps=steps
    )
    if res is None:
        return
    assert res.status in ("completed", "diverged")
    assert all_finite(res.losses, res.grad_norms, res.theta)


def _cell(x, rng):
    return {"y": float(x)}


@fuzz_settings(80)
@given(
    st.sampled_from([_cell, None, "f", 3]),
    st.one_of(
        st.dictionaries(
            st.sampled_from(["x", "y"]), st.lists(st.integers(0, 2), max_size=2), max_size=2
        ),
        any_array_like(),
        st.just({"x": [np.nan]}),
    ),
    # huge seed counts included (formerly an OverflowError in sweep._normalize_seeds)
    st.one_of(
        st.integers(-1, 2),
        st.sampled_from([True, 2.0, None, "3", 10**20, 10**6 + 1, np.int64(2**62)]),
        st.lists(st.integers(-1, 3), max_size=2),
    ),
    st.one_of(st.none(), st.integers(-2, 5), st.sampled_from([1.5, "0", True])),
)
def test_run_sweep_arguments(fn, grid, seeds, root_seed):
    names = ["fn", "grid", "seeds", "root_seed", "x", "y", "axis", "axes"]
    expect_valid_or_named_error(
        run_sweep, names, fn, grid, seeds=seeds, root_seed=root_seed, progress=False
    )


TOKENS = [
    "verify",
    "list",
    "run",
    "reproduce",
    "--quick",
    "--json",
    "--markdown",
    "--only",
    "--jobs",
    "--seed",
    "--out",
    "--executor",
    "serial",
    "dask",
    "0",
    "-1",
    "2",
    "x",
    "no-such",
    "--bogus",
    "-h",
    "--version",
    "forward-pass",
    "fwd-01",
    "",
    "--",
    "a b",
    "nan",
    "1e400",
    "--only=",
    "--jobs=abc",
    "sub/dir",
    "\x00",
]


@fuzz_settings(150)
@given(argv=st.lists(st.sampled_from(TOKENS), min_size=0, max_size=5))
def test_cli_random_argv(argv, tmp_path_factory):
    """Random argv: a return code, or SystemExit; errors are one line on stderr.

    The expensive actions are stubbed (no claims are run, no experiment started)."""
    import contextlib
    import io

    import bntheory.claims as claims

    tmp = tmp_path_factory.mktemp("cli")
    err, out = io.StringIO(), io.StringIO()
    saved = (cli._run_experiment, claims.run_claims, cli.os.getcwd())
    cli._run_experiment = lambda e, *a, **k: (e.name, 0, 0.0)
    claims.run_claims = lambda cs, **kw: []
    try:
        cli.os.chdir(tmp)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = cli.main(list(argv))
            except SystemExit as exc:  # argparse --help / --version
                code = exc.code
    finally:
        cli._run_experiment, claims.run_claims = saved[0], saved[1]
        cli.os.chdir(saved[2])
    e = err.getvalue()
    assert "Traceback" not in e
    assert isinstance(code, int) or code is None
    if code not in (0, None):
        assert e.count("\n") == 1 and e.startswith("bntheory:"), repr(e)


@pytest.mark.slow
@fuzz_settings(1500)
@given(net_batches())
def test_loss_and_grad_long(case):
    test_loss_and_grad.hypothesis.inner_test(case)


@pytest.mark.slow
@fuzz_settings(1000)
@given(argv=st.lists(st.sampled_from(TOKENS), min_size=0, max_size=7))
def test_cli_random_argv_long(argv, tmp_path_factory):
    test_cli_random_argv.hypothesis.inner_test(argv=argv, tmp_path_factory=tmp_path_factory)

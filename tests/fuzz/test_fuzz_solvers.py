"""Fuzzing of bntheory.solvers: solve(problem, GradientDescent/BNGD/GDNP, x0, max_steps, tol)
with random problems, starts, step sizes (including huge ones) and bad arguments.
Outcome: a Result with finite arrays and a status in {converged, max_steps, diverged}
(huge step sizes give "diverged"), or a ValueError/TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bntheory.problems import GaussianHalfspace, LeastSquares
from bntheory.solvers import BNGD, GDNP, GradientDescent, solve

from ._harness import (
    all_finite,
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    ints_any,
    scalars_any,
)

STATUSES = {"converged", "max_steps", "diverged"}
lrs = st.one_of(
    st.floats(1e-3, 10.0),
    st.sampled_from([1e3, 1e30, 1e150, 1e300, 1.7e308, 5e-324]),
    scalars_any,
    st.sampled_from(["1/L", "2/(L+mu)", "1/mu"]),
)


def _problem(kind: str, dim: int, seed: int, log_kappa: float):
    ls = LeastSquares.ill_conditioned(dim, 1.0 if dim == 1 else 10.0**log_kappa, rng=seed)
    if kind == "ls":
        return ls
    if kind == "samples":
        gen = np.random.default_rng(seed)
        X = gen.standard_normal((dim + 4, dim)) * 10.0 ** gen.uniform(-3, 3, dim)
        return LeastSquares.from_samples(
            X, X @ gen.standard_normal(dim) + gen.standard_normal(dim + 4)
        )
    if kind == "kohler":
        return GaussianHalfspace.from_moments(ls.u / np.sqrt(ls.q), ls.H)
    return GaussianHalfspace.teacher_model(ls.H, ls.w_star, flip=0.1)


def _check_result(res, dim_x: int) -> None:
    assert res.status in STATUSES
    assert res.x.shape == (dim_x,)
    arrays = [res.x, res.params, res.losses, res.grad_norms, *res.history.values()]
    if res.gaps is not None:
        arrays.append(res.gaps)
    assert all_finite(*arrays), f"non-finite array in a {res.status} result"
    n = res.n_steps + 1
    assert len(res.losses) == len(res.grad_norms) == n


@st.composite
def solver_cases(draw):
    kind = draw(st.sampled_from(["ls", "samples", "kohler", "teacher"]))
    dim = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    prob = _problem(kind, dim, seed, draw(st.floats(0, 6)))
    which = draw(st.sampled_from(["gd", "bngd", "gdnp"]))
    gen = np.random.default_rng(seed)
    x0_dim = dim if which == "gd" else dim + 1
    x0 = draw(
        st.one_of(
            st.floats(-300, 300).map(
                lambda e: np.sign(e) * 10.0 ** abs(e) * gen.standard_normal(x0_dim) / 10.0**150
            ),
            st.just(gen.standard_normal(x0_dim)),
            float_arrays(st.sampled_from([(x0_dim,), (x0_dim + 1,)])),
            any_array_like(),
            st.just((1.0, np.zeros(dim))),
        )
    )
    if which == "gd":
        solver = (GradientDescent, {"lr": draw(lrs)})
    elif which == "bngd":
        solver = (
            BNGD,
            {
                "lr_w": draw(lrs),
                "lr_a": draw(st.one_of(st.floats(1e-3, 2.0), lrs)),
                "batch_size": draw(st.one_of(st.none(), st.integers(1, 10), ints_any)),
                "rng": seed,
            },
        )
    else:
        solver = (
            GDNP,
            {
                "step_factor": draw(st.one_of(st.floats(1e-3, 10), scalars_any)),
                "n_bisection": draw(
                    st.one_of(st.integers(0, 30), st.sampled_from([-1, 2.0, None]))
                ),
                "bracket": draw(
                    st.one_of(
                        st.none(),
                        st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
                        st.just((np.nan, 1.0)),
                    )
                ),
            },
        )
    max_steps = draw(
        st.one_of(st.integers(0, 25), st.sampled_from([-1, 2.0, True, None, "5", np.int64(3)]))
    )
    tol = draw(st.one_of(st.floats(0, 1e-3), scalars_any))
    return prob, solver, x0, max_steps, tol, x0_dim


@fuzz_settings(200)
@given(solver_cases())
def test_solve_fuzz(case):
    prob, (cls, kwargs), x0, max_steps, tol, x0_dim = case
    names = [
        *kwargs,
        "lr",
        "x0",
        "w0",
        "a0",
        "problem",
        "max_steps",
        "tol",
        "bracket",
        "batch_size",
    ]
    solver = expect_valid_or_named_error(cls, names, **kwargs)
    if solver is None:
        return
    res = expect_valid_or_named_error(solve, names, prob, solver, x0, max_steps=max_steps, tol=tol)
    if res is not None:
        _check_result(res, prob.dim)


@fuzz_settings(60)
@given(
    st.sampled_from(["ls", "samples", "kohler", "teacher"]),
    st.integers(1, 4),
    st.integers(0, 2**16),
    st.sampled_from([1e6, 1e30, 1e150, 1e300, 1.7e308]),
    st.sampled_from(["gd", "bngd"]),
)
def test_huge_lr_diverges_cleanly(kind, dim, seed, lr, which):
    """A step size far above 2/L gives status "diverged", finite arrays, no warning."""
    prob = _problem(kind, dim, seed, 2.0)
    if which == "bngd" and kind in ("kohler", "teacher"):
        return  # BNGD is defined on least squares only
    gen = np.random.default_rng(seed)
    if which == "gd":
        solver, x0 = GradientDescent(lr), gen.standard_normal(dim)
    else:
        solver, x0 = BNGD(lr_w=lr, lr_a=1.0), (1.0, gen.standard_normal(dim))
    res = expect_valid_or_named_error(solve, ["lr_w"], prob, solver, x0, max_steps=50, tol=0.0)
    if res is None:  # BNGD: lr_w q / ||w0||_H^2 itself overflows
        assert which == "bngd"
        return
    _check_result(res, prob.dim)
    if which == "gd" or kind != "kohler":
        # BNGD's direction step is orthogonal to w; a huge lr_w only grows ||w|| (the
        # effective step shrinks as 1/||w||^2, Cai et al. 2019), so it need not diverge.
        if which == "gd" and kind in ("ls", "samples"):
            assert res.status == "diverged", res.message


@pytest.mark.slow
@fuzz_settings(2000)
@given(solver_cases())
def test_solve_fuzz_long(case):
    test_solve_fuzz.hypothesis.inner_test(case)

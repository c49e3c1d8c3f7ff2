"""pytest helpers: pass on true statements, fail with measured-vs-stated messages."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.problems import LeastSquares
from bntheory.solvers import GradientDescent, solve
from bntheory.testing import (
    assert_bound_holds,
    assert_converges,
    assert_rate_at_most,
    assert_rate_close,
    fit_rate,
)


def test_fit_rate_exact_geometric():
    assert fit_rate(0.9 ** np.arange(100)).rate == pytest.approx(0.9, rel=1e-12)
    assert fit_rate(0.5 ** np.arange(40), (5, 30)).window == (5, 30)


def test_assert_rate_at_most():
    seq = 0.9 ** np.arange(80)
    assert_rate_at_most(seq, 0.9, rtol=1e-9)
    with pytest.raises(AssertionError, match=r"measured rate 0\.9.*stated 0\.8"):
        assert_rate_at_most(seq, 0.8)


def test_assert_rate_close_and_converges():
    ls = LeastSquares.ill_conditioned(5, 4, "two-cluster", rng=0)
    res = solve(ls, GradientDescent(1.0), np.zeros(5), max_steps=500)
    assert_converges(res, gap_tol=1e-20)
    assert_rate_close(res, (1 - 1 / 4) ** 2, rtol=1e-3)
    with pytest.raises(AssertionError, match="stated"):
        assert_rate_close(res, 0.1, rtol=1e-3)
    bad = solve(ls, GradientDescent(10.0), np.zeros(5), max_steps=500)
    with pytest.raises(AssertionError, match="diverged"):
        assert_converges(bad)


def test_assert_bound_holds():
    assert assert_bound_holds([1.0, 2.0], [2.0, 2.0]) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match=r"index 1: measured 3 > stated 2"):
        assert_bound_holds([1.0, 3.0], [2.0, 2.0])
    assert_bound_holds([1.0, 2.1], 2.0, rtol=0.1)


# ---------------------------------------------------------------- issue 10: no false pass


def _diverging_run():
    # GD with lr = 1 on eigenvalues (0.05, 2.5): the 0.05-component decays at 0.95 per step
    # (gap rate 0.9025) while the 2.5-component, started at 1e-150, grows at |1 - 2.5| = 1.5
    # per step and overflows the divergence threshold after a long decaying stretch.
    ls = LeastSquares(np.diag([0.05, 2.5]), [0.0, 0.0], 0.0)
    return solve(ls, GradientDescent(1.0), [1.0, 1e-150], max_steps=5000, tol=0.0)


def test_rate_assertions_fail_on_a_diverged_run():
    res = _diverging_run()
    assert res.status == "diverged"
    # Reference: GD's exact iterate rate max_i |1 - lr lambda_i| = 1.5 > 1 (closed form).
    with pytest.raises(AssertionError, match="status is 'diverged'"):
        assert_rate_at_most(res, 0.95)
    with pytest.raises(AssertionError, match="status is 'diverged'"):
        assert_rate_close(res, 0.95**2, rtol=0.01)
    # The caller may opt in (and then gets the fit of the decaying stretch, as asked).
    fit = assert_rate_at_most(res, 0.95, allow_status=("diverged",))
    assert fit.rate == pytest.approx(0.95**2, rel=1e-9)


def test_rate_assertions_need_opt_in_for_max_steps():
    ls = LeastSquares.ill_conditioned(5, 4, "two-cluster", rng=0)
    res = solve(ls, GradientDescent(1.0), np.ones(5), max_steps=30, tol=0.0)
    assert res.status == "max_steps"
    with pytest.raises(AssertionError, match="max_steps"):
        assert_rate_close(res, (1 - 1 / 4) ** 2, rtol=1e-3)
    assert_rate_close(res, (1 - 1 / 4) ** 2, rtol=1e-3, allow_status=("converged", "max_steps"))
    # plain arrays carry no status
    assert_rate_close(res.gaps, (1 - 1 / 4) ** 2, rtol=1e-3)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: assert_rate_at_most("abc", 0.5), TypeError, "result"),
        (lambda: assert_rate_at_most(None, 0.5), TypeError, "result"),
        (lambda: assert_rate_close(object(), 0.5, rtol=0.1), TypeError, "result"),
        (lambda: assert_rate_at_most([1.0, 0.5], 0.5), ValueError, "result"),
        (lambda: assert_rate_at_most([1.0, 1j, 0.5], 0.5), TypeError, "result"),
        (
            lambda: assert_rate_at_most(0.9 ** np.arange(50), 0.5, allow_status="ok"),
            ValueError,
            "allow_status",
        ),
        (
            lambda: assert_rate_at_most(0.9 ** np.arange(50), 0.5, allow_status=3),
            TypeError,
            "allow_status",
        ),
        (lambda: assert_converges(None), TypeError, "result"),
        (lambda: fit_rate([1.0, 2.0]), ValueError, "values"),
        (lambda: assert_bound_holds([1.0], [np.nan]), ValueError, "bound"),
        (lambda: assert_bound_holds([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "bound"),
        (lambda: assert_bound_holds([1j], [1.0]), TypeError, "values"),
    ],
)
def test_helpers_name_their_own_arguments(call, exc, name):
    with pytest.raises(exc, match=name) as info:
        call()
    assert "result_or_values" not in str(info.value)


def test_assert_bound_holds_huge_bound_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bound_holds([1.0], [1.7e308], rtol=1.0)


_FAILING_UNDER_O = r"""
import numpy as np
from types import SimpleNamespace

from bntheory.testing import (
    assert_bound_holds, assert_converges, assert_rate_at_most, assert_rate_close,
)

assert not __debug__, "this script must run under python -O"
k = np.arange(200)
diverged = SimpleNamespace(status="diverged", losses=np.ones(3), gaps=np.ones(3), n_steps=3)
cases = {
    "rate_at_most": lambda: assert_rate_at_most(0.9**k, 0.5),
    "rate_close": lambda: assert_rate_close(0.9**k, 0.5, rtol=0.01),
    "converges": lambda: assert_converges(diverged),
    "converges_gap": lambda: assert_converges(
        SimpleNamespace(status="converged", losses=np.ones(2), gaps=np.array([1.0, 0.5])),
        gap_tol=1e-3,
    ),
    "bound": lambda: assert_bound_holds([1.0, 3.0], [2.0, 2.0]),
}
for name, call in cases.items():
    try:
        call()
    except AssertionError:
        print(name, "failed")
    else:
        print(name, "PASSED")
"""


@pytest.mark.slow  # a fresh interpreter importing numpy and scipy: ~5-10 s on 2 busy cores
def test_helpers_fail_under_python_O():
    """The helpers raise AssertionError explicitly, so ``python -O`` (which strips bare
    ``assert`` statements) cannot turn a failing check into a silent pass."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-O", "-c", _FAILING_UNDER_O],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split("\n")
    lines = [ln for ln in out if ln]
    assert len(lines) == 5, out
    assert all(ln.endswith(" failed") for ln in lines), lines


def test_helpers_fail_when_compiled_without_asserts():
    """Fast in-process twin of the ``python -O`` test: bntheory/testing.py compiled with
    ``optimize=1`` (bare ``assert`` statements stripped) still fails on every failing case."""
    import types

    import bntheory.testing as mod

    with open(mod.__file__, encoding="utf-8") as fh:
        code = compile(fh.read(), mod.__file__, "exec", optimize=1)
    opt = types.ModuleType("bntheory_testing_optimized")
    exec(code, opt.__dict__)
    k = np.arange(200)
    from types import SimpleNamespace

    diverged = SimpleNamespace(status="diverged", losses=np.ones(3), gaps=np.ones(3), n_steps=3)
    for call in (
        lambda: opt.assert_rate_at_most(0.9**k, 0.5),
        lambda: opt.assert_rate_close(0.9**k, 0.5, rtol=0.01),
        lambda: opt.assert_converges(diverged),
        lambda: opt.assert_bound_holds([1.0, 3.0], [2.0, 2.0]),
    ):
        with pytest.raises(AssertionError):
            call()

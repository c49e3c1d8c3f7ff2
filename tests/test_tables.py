"""Optimistix-style tables over the public API (``bntheory.problems``, ``bntheory.solvers``).

1. Convergence: every solver x every problem type. Each cell is either "converges" (status
   "converged", final loss at the optimum computed independently: ``numpy.linalg.solve`` on
   moments built here from the raw data for least squares, BFGS from ``scipy.optimize`` for
   halfspaces; GD's fitted gap rate within Nesterov's ``(1 - 1/kappa)^2`` with ``kappa`` from
   ``numpy.linalg.eigvalsh``), "rejects" (a clear TypeError naming the problem, before any
   step), or a documented known failure (strict xfail).
2. Derivatives: every problem's ``grad`` against central finite differences of ``loss``,
   ``hvp`` against finite differences of ``grad`` and against the dense ``hessian``, and
   the symmetry of ``hvp``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
import scipy.optimize
from scipy.sparse.linalg import aslinearoperator

from bntheory.problems import GaussianHalfspace, LeastSquares, Normalized
from bntheory.solvers import BNGD, GDNP, GradientDescent, solve
from bntheory.testing import assert_rate_at_most, fit_rate

D = 6


@cache
def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240611)
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    h = q @ np.diag(np.geomspace(1.0, 10.0, D)) @ q.T
    h = 0.5 * (h + h.T)
    w_true = rng.normal(size=D)
    x = rng.normal(size=(300, D)) * np.geomspace(1.0, 3.0, D)
    xh = rng.normal(size=(400, D))
    return {
        "H": h,
        "w_true": w_true,
        "X": x,
        "y": x @ w_true + 0.3 * rng.normal(size=300),
        "Xh": xh,
        "yh": np.sign(xh @ np.ones(D) + 1.5 * rng.normal(size=400)),  # not separable
        "mu_z": 0.3 * np.ones(D) / np.sqrt(D),
        "teacher": np.linspace(1.0, 2.0, D),
    }


# ----------------------------------------------------------------------------- problems
def _ls_reference(H: np.ndarray, u: np.ndarray, c: float) -> tuple[float, np.ndarray]:
    w = np.linalg.solve(H, u)
    return 0.5 * (c - float(u @ w)), w


def _ls_moments(center: bool) -> tuple[np.ndarray, np.ndarray, float]:
    d = _data()
    X, y = d["X"], d["y"]
    if center:
        X, y = X - X.mean(axis=0), y - y.mean()
    n = X.shape[0]
    return X.T @ X / n, X.T @ y / n, float(y @ y) / n


def _ls_dense_moments() -> tuple[np.ndarray, np.ndarray, float]:
    d = _data()
    u = d["H"] @ d["w_true"]
    return d["H"], u, float(u @ d["w_true"]) + 0.2


class Case:
    """A problem, its independent reference optimum, Hessian bound and GD step."""

    def __init__(
        self,
        build: Callable[[], object],
        *,
        moments: Callable[[], tuple[np.ndarray, np.ndarray, float]] | None = None,
        second_moment: Callable[[], np.ndarray] | None = None,
        base: str | None = None,
        gd_lr: float | str | None = None,
    ) -> None:
        self.build, self.moments, self.second_moment = build, moments, second_moment
        self.base, self.gd_lr = base, gd_lr

    @property
    def problem(self) -> object:
        return _problem(self)


@cache
def _problem(case: Case) -> object:
    return case.build()


def _hs_second_moment(kind: str) -> np.ndarray:
    d = _data()
    S = d["H"] / 10
    if kind == "kohler":
        return S + np.outer(d["mu_z"], d["mu_z"])  # E[z z^T], z ~ N(mu, S)
    if kind == "teacher":
        return S  # z = -y x, y = +-1: E[z z^T] = E[x x^T]
    return d["Xh"].T @ d["Xh"] / d["Xh"].shape[0]


CASES: dict[str, Case] = {
    "ls-dense": Case(lambda: LeastSquares(*_ls_dense_moments()), moments=_ls_dense_moments),
    "ls-samples": Case(
        lambda: LeastSquares.from_samples(_data()["X"], _data()["y"]),
        moments=lambda: _ls_moments(False),
    ),
    "ls-samples-centered": Case(
        lambda: LeastSquares.from_samples(_data()["X"], _data()["y"], center=True),
        moments=lambda: _ls_moments(True),
    ),
    "ls-samples-matfree": Case(
        lambda: LeastSquares.from_samples(_data()["X"], _data()["y"], matrix_free=True),
        moments=lambda: _ls_moments(False),
    ),
    "ls-operator": Case(
        lambda: LeastSquares.from_operator(
            aslinearoperator(_ls_dense_moments()[0]), *_ls_dense_moments()[1:]
        ),
        moments=_ls_dense_moments,
    ),
    "hs-kohler": Case(
        lambda: GaussianHalfspace.from_moments(_data()["mu_z"], _data()["H"] / 10),
        second_moment=lambda: _hs_second_moment("kohler"),
    ),
    "hs-teacher": Case(
        lambda: GaussianHalfspace.teacher_model(_data()["H"] / 10, _data()["teacher"], flip=0.1),
        second_moment=lambda: _hs_second_moment("teacher"),
    ),
    "hs-empirical": Case(
        lambda: GaussianHalfspace.from_samples(_data()["Xh"], _data()["yh"]),
        second_moment=lambda: _hs_second_moment("empirical"),
    ),
    "normalized-ls": Case(lambda: Normalized(CASES["ls-dense"].problem), base="ls-dense"),
    "normalized-hs": Case(lambda: Normalized(CASES["hs-kohler"].problem), base="hs-kohler"),
}


@cache
def reference(name: str) -> tuple[float, np.ndarray | None]:
    """``(optimal loss, optimal effective weight or None)``, computed without the solvers."""
    case = CASES[name]
    if case.base is not None:
        return reference(case.base)
    if case.moments is not None:
        return _ls_reference(*case.moments())
    p = case.problem
    best = scipy.optimize.minimize(
        p.loss, np.zeros(p.dim), jac=p.grad, method="BFGS", options={"gtol": 1e-11}
    )
    return float(best.fun), None


def _gd_lr(name: str) -> float | str:
    case = CASES[name]
    if case.moments is not None:
        return "1/L"
    if case.second_moment is not None:  # logistic: phi'' <= 1/4, so H <= E[z z^T] / 4
        return 4.0 / float(np.linalg.eigvalsh(case.second_moment())[-1])
    return 0.5  # the normalized objective has no global smoothness constant


# ----------------------------------------------------------------------------- table 1
SOLVERS: dict[str, Callable[[str], object]] = {
    "gd": lambda name: GradientDescent(_gd_lr(name)),
    "bngd": lambda name: BNGD(lr_w=1.0, lr_a=1.0),
    "gdnp": lambda name: GDNP(),
}
LS = [n for n, c in CASES.items() if c.moments is not None]

# Expected outcome of every (solver, problem) cell.
EXPECTED: dict[tuple[str, str], str] = {}
for _p in CASES:
    EXPECTED["gd", _p] = "converges"
    EXPECTED["bngd", _p] = "converges" if _p in LS else "rejects"
    EXPECTED["gdnp", _p] = "rejects" if _p.startswith("normalized") else "converges"
# Kohler et al.'s GDNP takes the step eta = ||w||_S^2 / (L |rho(w)|) derived for the
# Gaussian model z ~ N(u, S), where the loss depends on w only through u^T w and ||w||_S;
# on an empirical objective that reduction fails: the loss oscillates around the optimum
# and eta reaches ~1e22 (measured: 300 steps, status max_steps, loss 0.3279 vs 0.3264).
EXPECTED["gdnp", "hs-empirical"] = "known-failure"


def _x0(solver: str, name: str) -> object:
    p = CASES[name].problem
    w = np.where(np.arange(D) % 2 == 0, 1.0, -0.5)  # not along any optimum
    if solver in ("bngd", "gdnp"):
        return (1.0, w)
    if name.startswith("normalized"):
        return np.r_[1.0, w]
    return np.zeros(p.dim)


# Cells over ~3 s on 2 busy cores (GDNP bisects to machine precision at every step; the
# teacher model's expectations are 2-D quadratures): run with -m slow.
SLOW = {("gdnp", n) for n in CASES if n not in ("ls-dense", "hs-kohler")}


def _cells() -> list:
    out = []
    for (solver, name), outcome in EXPECTED.items():
        marks = []
        if outcome == "known-failure":
            marks.append(pytest.mark.xfail(strict=True, reason="GDNP outside the Gaussian model"))
        if (solver, name) in SLOW:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(solver, name, outcome, id=f"{solver}-{name}", marks=marks))
    return out


@pytest.mark.parametrize(("solver", "name", "outcome"), _cells())
def test_convergence_table(solver, name, outcome):
    p = CASES[name].problem
    algo = SOLVERS[solver](name)
    if outcome == "rejects":
        with pytest.raises(TypeError, match="problem"):
            solve(p, algo, _x0(solver, name), max_steps=5)
        return
    max_steps = 300 if outcome == "known-failure" else 6000
    res = solve(p, algo, _x0(solver, name), max_steps=max_steps, tol=1e-9)
    assert res.status == "converged", (res.status, res.message)
    f_ref, w_ref = reference(name)
    assert abs(float(res.losses[-1]) - f_ref) <= 1e-9 * max(1.0, abs(f_ref))
    assert np.all(np.isfinite(res.losses))
    if w_ref is not None:
        w = np.asarray(res.x)
        if name.startswith("normalized"):
            w = p.effective(res.x)
        np.testing.assert_allclose(w, w_ref, rtol=1e-6, atol=1e-8 * np.linalg.norm(w_ref))
    if solver == "gd" and name in LS:
        # Nesterov (2004), Thm 2.1.15 at lr = 1/L: gap contracts by (1 - 1/kappa)^2 per step
        lam = np.linalg.eigvalsh(CASES[name].moments()[0])
        assert_rate_at_most(res, (1 - lam[0] / lam[-1]) ** 2, rtol=1e-2)
    elif name in LS:
        # linear convergence on quadratics (Cai et al. 2019 for BNGD, Kohler et al. 2019 for
        # GDNP): the fitted per-step gap rate is below 1 with its whole confidence interval
        fit = fit_rate(res.gaps)
        assert fit.ci_high < 1.0, fit


def test_table_covers_every_public_solver_and_problem():
    import bntheory.problems as problems
    import bntheory.solvers as solvers

    solver_classes = {GradientDescent, BNGD, GDNP}
    public = {
        getattr(solvers, n)
        for n in solvers.__all__
        if isinstance(getattr(solvers, n), type) and n not in ("Diagnostics", "Result", "Status")
    }
    assert public == solver_classes, public
    built = {type(c.problem) for c in CASES.values()}
    public_problems = {
        getattr(problems, n) for n in problems.__all__ if isinstance(getattr(problems, n), type)
    }
    assert public_problems <= built, public_problems - built


# ----------------------------------------------------------------------------- table 2
GRAD_CASES = dict(CASES)
GRAD_CASES["hs-kohler-sigmoid"] = Case(
    lambda: GaussianHalfspace.from_moments(_data()["mu_z"], _data()["H"] / 10, loss="sigmoid")
)
GRAD_CASES["hs-teacher-sigmoid"] = Case(
    lambda: GaussianHalfspace.teacher_model(_data()["H"] / 10, _data()["teacher"], loss="sigmoid")
)
GRAD_CASES["hs-empirical-sigmoid"] = Case(
    lambda: GaussianHalfspace.from_samples(_data()["Xh"], _data()["yh"], loss="sigmoid")
)
GRAD_CASES["normalized-ls-operator"] = Case(lambda: Normalized(CASES["ls-operator"].problem))
GRAD_CASES["normalized-hs-teacher"] = Case(lambda: Normalized(CASES["hs-teacher"].problem))


def _central(fun: Callable[[np.ndarray], object], x: np.ndarray, v: np.ndarray) -> np.ndarray:
    h = 1e-5 * max(1.0, float(np.linalg.norm(x)))
    return (np.asarray(fun(x + h * v), float) - np.asarray(fun(x - h * v), float)) / (2 * h)


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_derivative_table(name):
    p = GRAD_CASES[name].problem
    rng = np.random.default_rng(7)
    x = rng.normal(size=p.dim) * 0.5
    if name.startswith("normalized"):
        x[0] = 1.3  # the scale; the direction w = x[1:] is non-zero
    g = np.asarray(p.grad(x), float)
    # gradient: central differences of the loss along each coordinate
    fd = np.array([_central(p.loss, x, e) for e in np.eye(p.dim)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8 * max(1.0, np.abs(g).max()))
    # HVP: central differences of the gradient, the dense Hessian, and symmetry
    v, w = rng.normal(size=p.dim), rng.normal(size=p.dim)
    hv = np.asarray(p.hvp(x, v), float)
    scale = max(1.0, float(np.abs(hv).max()))
    np.testing.assert_allclose(hv, _central(p.grad, x, v), rtol=1e-5, atol=1e-7 * scale)
    hw = np.asarray(p.hvp(x, w), float)
    assert abs(w @ hv - v @ hw) <= 1e-10 * (np.linalg.norm(w) * np.linalg.norm(hv) + 1.0)
    if hasattr(p, "hessian"):
        H = np.asarray(p.hessian(x), float)
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * max(1.0, np.abs(H).max()))
        np.testing.assert_allclose(H @ v, hv, rtol=1e-9, atol=1e-12 * scale)

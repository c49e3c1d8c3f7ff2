"""Backpropagation through BN: Ioffe & Szegedy (2015), Sec. 3 (chain rule below Alg. 1).

The reference article's chain-rule formulas are transcribed once, term by term, in
:func:`article_backward` (vectorised over features). The checks measure them against
finite differences of an independent forward pass (:mod:`bntheory.gradcheck`), against
``sympy.diff`` of Algorithm 1 (:mod:`bntheory.symbolic`), and count the element
operations their evaluation performs (an instrumented array type) over a grid of batch
sizes ``m`` and feature dimensions ``d``.
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import Claim, Measurement, P, Reading

_EPS = 1e-5

#: Batch sizes of the SymPy proofs of bwd-02, quick and full (the proofs are exact; full
#: adds larger batches, whose dL/dx proofs cost most).
PROOF_MS = {True: (3, 4), False: (3, 4, 5, 6)}

#: Tolerances of :func:`bntheory.gradcheck.check_gradient`: the central finite difference
#: at h = u^(1/3) has truncation + rounding error about u^(2/3) = 4e-11 relative for
#: these smooth losses; a wrong term gives an O(1) error. The Taylor remainder of a
#: correct gradient has slope 2 (slope 1 when wrong); 0.25 covers the least-squares fit
#: over the automatically chosen window.
FD_TOL, SLOPE_TOL = 1e-6, 0.25


def article_backward(
    x: np.ndarray, dy: np.ndarray, gamma: float | np.ndarray, eps: float
) -> dict[str, np.ndarray | float]:
    """The article's backward formulas, as printed (Ioffe & Szegedy 2015, Sec. 3).

    The chain rule of "Batch Normalization: Accelerating Deep Network Training by Reducing
    Internal Covariate Shift", Sec. 3, term by term with the biased batch variance:
    ``dxhat = dy gamma``, ``dvar = sum dxhat (x - mu) (-1/2) (var + eps)^(-3/2)``,
    ``dmu = sum dxhat (-1/sqrt(var + eps)) + dvar sum(-2 (x - mu)) / m``,
    ``dx = dxhat / sqrt(var + eps) + dvar 2 (x - mu) / m + dmu / m``,
    ``dgamma = sum dy xhat``, ``dbeta = sum dy``. No simplification is applied, so a test
    can compare each printed equation with an independent derivative.

    Parameters
    ----------
    x, dy : ndarray, shape (m,) or (m, d)
        Layer input and upstream gradient dL/dy (same shape); axis 0 is the mini-batch of
        ``m`` samples, the optional axis 1 the ``d`` features (normalized independently).
    gamma : float or ndarray, shape (d,)
        BN scale.
    eps : float
        The ``epsilon`` added to the variance (``>= 0``; ``0`` divides by zero for a
        constant feature).

    Returns
    -------
    dict of str to ndarray or float
        ``dx``, ``dxhat`` and ``xhat`` of the shape of ``x``; ``dgamma``, ``dbeta``,
        ``dvar``, ``dmu``, ``dmu_first`` and ``dmu_second`` (the term the article says
        vanishes, ``dvar * sum(-2 (x - mu)) / m``) per feature: shape ``(d,)``, or scalars
        for a 1-D ``x``.
    """
    m = x.shape[0]
    mu = x.sum(axis=0) / m
    var = ((x - mu) ** 2).sum(axis=0) / m
    dxhat = dy * gamma
    dvar = (dxhat * (x - mu) * (-0.5) * (var + eps) ** -1.5).sum(axis=0)
    dmu_first = (dxhat * (-1.0 / np.sqrt(var + eps))).sum(axis=0)
    dmu_second = dvar * (-2.0 * (x - mu)).sum(axis=0) / m
    dmu = dmu_first + dmu_second
    dx = dxhat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / m + dmu / m
    xhat = (x - mu) / np.sqrt(var + eps)
    return {
        "dx": dx,
        "dgamma": (dy * xhat).sum(axis=0),
        "dbeta": dy.sum(axis=0),
        "dxhat": dxhat,
        "dvar": dvar,
        "dmu": dmu,
        "dmu_first": dmu_first,
        "dmu_second": dmu_second,
        "xhat": xhat,
    }


def _quadratic_loss(rng: np.random.Generator, shape):
    """L(y) = c.y + 0.5 sum(a y^2) with random c and a > 0 (a generic smooth loss)."""
    c = rng.normal(size=shape)
    a = rng.uniform(0.5, 2.0, size=shape)

    def loss(y):
        return float(np.sum(c * y) + 0.5 * np.sum(a * y * y))

    def dloss(y):
        return c + a * y

    return loss, dloss


def _forward(x: np.ndarray, gamma, beta) -> np.ndarray:
    """Algorithm 1, written independently of the formulas under test."""
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + _EPS) + beta


# --------------------------------------------------------------------------- bwd-01
def _check_chain_rule(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's dL/dx against finite differences and Taylor slopes of L(BN(x))."""
    from bntheory.gradcheck import check_gradient

    m, d = 8, 3
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.normal(size=d)
    x0 = rng.normal(size=(m, d)) * 2 + 1
    loss, dloss = _quadratic_loss(rng, (m, d))

    def f(v):
        return loss(_forward(v.reshape(m, d), gamma, beta))

    def g(v):
        xv = v.reshape(m, d)
        return article_backward(xv, dloss(_forward(xv, gamma, beta)), gamma, _EPS)["dx"].ravel()

    chk = check_gradient(f, g, x0.ravel(), rng)
    return Measurement(
        f"article's dL/dx vs central differences: rel. err {chk.rel_error:.1e}, "
        f"Taylor slope {chk.slope:.2f}",
        {"fd_rel_error": chk.rel_error, "taylor_slope": chk.slope},
    )


# --------------------------------------------------------------------------- bwd-02
def _check_symbolic(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's dL/dx_hat, dL/dsigma^2, dL/dmu_B, dL/dx against sympy.diff."""
    from bntheory.claims._symbolic import chain_rule_proofs

    ms = PROOF_MS[bool(quick)]
    vals = chain_rule_proofs(("dxhat", "dvar", "dmean", "dx"), ms)
    return Measurement(
        f"SymPy, m in {ms}, symbolic eps >= 0: {vals['proofs_holding']:.0f}/"
        f"{vals['proofs_total']:.0f} equations equal sympy.diff of Alg. 1",
        vals,
        note="exact proofs (the difference reduces to 0), not sampling",
    )


# --------------------------------------------------------------------------- bwd-03
def _check_dmu_second_term(quick: bool, rng: np.random.Generator) -> Measurement:
    """The second term of dL/dmu_B: exact zero (SymPy) and its float value."""
    from bntheory.claims._symbolic import general_proofs
    from bntheory.symbolic import backward
    from bntheory.symbolic.algebra import bn_symbols, vanishes

    ms = (2, 3, 4, 5)
    concrete = all(
        vanishes(backward.paper_dmean_second_term(bn_symbols(m)), bn_symbols(m))[0] for m in ms
    )
    sym_m = general_proofs(("dmean_second_term_zero",))["dmean_second_term_zero"]
    # in floating point: |sum (x_j - mu)| relative to sum |x_j - mu| (what cancels)
    rel = []
    for _ in range(8):
        x = rng.normal(size=16) * rng.uniform(0.1, 10) + rng.normal() * 100
        mu = x.sum() / x.size
        rel.append(abs(float(np.sum(x - mu))) / float(np.sum(np.abs(x - mu))))
    r = float(np.max(rel))
    return Measurement(
        f"SymPy: second term = 0 for m in {ms}: {concrete}; for symbolic m: {sym_m}; "
        f"float64: |sum (x_j - mu)| / sum |x_j - mu| <= {r:.1e}",
        {"proven_concrete_m": concrete, "proven_symbolic_m": sym_m, "max_rel_cancellation": r},
    )


# --------------------------------------------------------------------------- bwd-04
def _check_param_grads(quick: bool, rng: np.random.Generator) -> Measurement:
    """The article's dL/dgamma, dL/dbeta against finite differences in (gamma, beta)."""
    from bntheory.gradcheck import check_gradient

    m, c = 10, 3
    x = rng.normal(size=(m, c)) * 3 - 1
    w = rng.normal(size=(m, c))

    def split(p):
        return p[:c], p[c:]

    def f(p):
        y = _forward(x, *split(p))
        return float(np.sum(w * y) + 0.25 * np.sum(y**4))

    def grad(p):
        gm, bt = split(p)
        dy = w + _forward(x, gm, bt) ** 3
        out = article_backward(x, dy, gm, _EPS)
        return np.concatenate([out["dgamma"], out["dbeta"]])

    p0 = np.concatenate([rng.uniform(0.5, 2, size=c), rng.normal(size=c)])
    chk = check_gradient(f, grad, p0, rng)
    return Measurement(
        f"article's dL/dgamma, dL/dbeta vs central differences: rel. err {chk.rel_error:.1e}, "
        f"Taylor slope {chk.slope:.2f}",
        {"fd_rel_error": chk.rel_error, "taylor_slope": chk.slope},
    )


# --------------------------------------------------------------------------- bwd-05
class _Counted(np.ndarray):
    """An ndarray that counts the elements every ufunc call touches (for element-wise
    calls the largest operand size, for reductions the input size) in ``_COUNTER``."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [a.view(np.ndarray) if isinstance(a, _Counted) else a for a in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(
                o.view(np.ndarray) if isinstance(o, _Counted) else o for o in kwargs["out"]
            )
        out = getattr(ufunc, method)(*args, **kwargs)
        _COUNTER[0] += max(int(np.size(a)) for a in args)
        return out.view(_Counted) if isinstance(out, np.ndarray) else out


_COUNTER = [0]


def _count_ops(m: int, d: int, rng: np.random.Generator) -> int:
    """Element operations of one evaluation of :func:`article_backward` on (m, d) input."""
    x = rng.normal(size=(m, d)).view(_Counted)
    dy = rng.normal(size=(m, d)).view(_Counted)
    gamma = rng.uniform(0.5, 2.0, size=d).view(_Counted)
    _COUNTER[0] = 0
    article_backward(x, dy, gamma, _EPS)
    return _COUNTER[0]


def _slope(sizes, counts) -> float:
    return float(np.polyfit(np.log(sizes), np.log(counts), 1)[0])


def _check_cost(quick: bool, rng: np.random.Generator) -> Measurement:
    """Scaling exponents of the operation count of the article's formulas in m and d."""
    ms = [64, 128, 256, 512, 1024]
    ds = [8, 16, 32, 64, 128]
    ops_m = [_count_ops(m, 4, rng) for m in ms]
    ops_d = [_count_ops(64, d, rng) for d in ds]
    e_m, e_d = _slope(ms, ops_m), _slope(ds, ops_d)
    per = ops_m[-1] / (ms[-1] * 4)
    return Measurement(
        f"element operations of the article's backward formulas: exponent {e_m:.3f} in m "
        f"(d = 4, m = {ms[0]}-{ms[-1]}), {e_d:.3f} in d (m = 64); {per:.1f} per element",
        {
            "exponent_m": e_m,
            "exponent_d": e_d,
            "ops_per_element": per,
            "ops_m1024_d4": float(ops_m[-1]),
        },
        note="counted by an instrumented ndarray (every ufunc call adds the size of its "
        "largest operand); the formulas compute each batch sum once, as printed",
    )


CLAIMS = [
    Claim(
        "bwd-01",
        "backpropagation",
        "dL/dx_i = dL/dx_hat_i / sqrt(sigma^2+eps) + dL/dsigma^2 * 2(x_i-mu_B)/m + dL/dmu_B / m",
        "Ioffe & Szegedy (2015), Sec. 3 (chain rule)",
        "numerical",
        "chain-rule formulas of the article",
        _check_chain_rule,
        literal=Reading(
            "the article's chain rule gives the gradient of L(BN(x)) with respect to x",
            (
                P("fd_rel_error", "<=", FD_TOL),
                P("taylor_slope", "==", 2.0, tol=SLOPE_TOL),
            ),
            "central differences at h = u^(1/3) err by about u^(2/3) = 4e-11 (FD_TOL = 1e-6 "
            "leaves margin, a wrong term errs by O(1)); Taylor slope 2 for a correct gradient, "
            "1 for a wrong one (SLOPE_TOL)",
        ),
        explain=(
            "The article's formulas for dL/dx agree with central finite differences of an "
            "independently written forward pass to a relative {fd_rel_error:.0e}, and the "
            "first-order Taylor remainder decays with slope {taylor_slope:.2f} (2 for a "
            "correct gradient)."
        ),
    ),
    Claim(
        "bwd-02",
        "backpropagation",
        "dL/dx_hat_i = dL/dy_i * gamma ... auxiliary gradients dL/dsigma_B^2, dL/dmu_B",
        "Ioffe & Szegedy (2015), Sec. 3; bntheory.symbolic.backward.check_formula",
        "symbolic",
        "equations proven exactly (concrete m, any eps)",
        _check_symbolic,
        literal=Reading(
            "the article's dL/dx_hat, dL/dsigma_B^2, dL/dmu_B and dL/dx equal the true "
            "derivatives of Algorithm 1 (any eps >= 0)",
            (
                P("proven_dxhat", "is", True),
                P("proven_dvar", "is", True),
                P("proven_dmean", "is", True),
                P("proven_dx", "is", True),
            ),
            "exact symbolic proofs: no tolerance",
        ),
        explain=(
            "SymPy reduces the difference between each of the article's equations and "
            "sympy.diff of Algorithm 1 to exactly zero: {proofs_holding:.0f} of "
            "{proofs_total:.0f} proofs (four equations at several batch sizes, symbolic eps)."
        ),
    ),
    Claim(
        "bwd-03",
        "backpropagation",
        "the second term in dL/dmu_B evaluates to zero since sum (x_j - mu_B) = 0",
        "Ioffe & Szegedy (2015), Sec. 3",
        "symbolic",
        "second term = 0",
        _check_dmu_second_term,
        literal=Reading(
            "dL/dsigma_B^2 * sum_j -2(x_j - mu_B)/m is identically zero",
            (
                P("proven_concrete_m", "is", True),
                P("proven_symbolic_m", "is", True),
                P("max_rel_cancellation", "<=", 1e-10),
            ),
            "proofs are exact; in float64 |sum (x_j - mu)| <= m u max|x_j| = 16 * 1.1e-16 * "
            "(|mu| + 4 sigma) with |mu| <= 400, sigma >= 0.1, i.e. below 1e-11 of "
            "sum |x_j - mu| >= m * 0.08 sigma; 1e-10 leaves a factor 10",
        ),
        explain=(
            "SymPy proves the second term zero for each concrete batch size tried and for "
            "symbolic m; in float64 the sum of the centred values is at most "
            "{max_rel_cancellation:.0e} of the sum of their magnitudes (round-off)."
        ),
    ),
    Claim(
        "bwd-04",
        "backpropagation",
        "dL/dgamma = sum dL/dy_i x_hat_i, dL/dbeta = sum dL/dy_i",
        "Ioffe & Szegedy (2015), Sec. 3",
        "numerical",
        "parameter gradient formulas",
        _check_param_grads,
        literal=Reading(
            "the article's dL/dgamma and dL/dbeta are the gradient of L(BN(x)) in (gamma, beta)",
            (
                P("fd_rel_error", "<=", FD_TOL),
                P("taylor_slope", "==", 2.0, tol=SLOPE_TOL),
            ),
            "as bwd-01 (FD_TOL, SLOPE_TOL)",
        ),
        explain=(
            "The article's dL/dgamma = sum dL/dy_i x_hat_i and dL/dbeta = sum dL/dy_i agree "
            "with central differences of a quartic loss to a relative {fd_rel_error:.0e} "
            "(Taylor slope {taylor_slope:.2f})."
        ),
    ),
    Claim(
        "bwd-05",
        "backpropagation",
        "propagating gradients through BN incurs an additional cost of O(m * d) per layer",
        "article (no source equation)",
        "numerical",
        "O(m d) operations",
        _check_cost,
        literal=Reading(
            "the number of operations of the article's backward formulas grows linearly in "
            "the batch size m and in the feature dimension d",
            (
                P("exponent_m", "==", 1.0, tol=0.1),
                P("exponent_d", "==", 1.0, tol=0.1),
            ),
            "counts are exact; a count a m d + b d (per-feature constants b) has a fitted "
            "exponent in m within 0.1 of 1 on m = 64-1024 unless b > a m / 3; an algorithm "
            "that forms the m x m Jacobian has exponent 2",
        ),
        explain=(
            "Evaluating the article's formulas (each batch sum computed once) costs "
            "{ops_per_element:.0f} element operations per input value: the fitted exponents "
            "are {exponent_m:.3f} in m and {exponent_d:.3f} in d, so O(m d) per layer "
            "(operation counts; wall-clock time is not measured)."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "bwd-01": (
        "claims.backward.article_backward, gradcheck.check_gradient",
        "tests/test_bn.py",
        "-",
    ),
    "bwd-02": (
        "symbolic.backward.check_formula",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "bwd-03": (
        "symbolic (paper_dmean_second_term, dmean_second_term_zero)",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "bwd-04": (
        "claims.backward.article_backward, gradcheck.check_gradient",
        "tests/test_bn.py",
        "-",
    ),
    "bwd-05": ("claims.backward (instrumented operation count)", "-", "-"),
}

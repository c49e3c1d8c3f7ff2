"""Backpropagation through BN (Ioffe & Szegedy 2015, Sec. 3, chain rule below Alg. 1).

Checks: the article's chain-rule formulas written out literally, against finite
differences of the forward pass (``bntheory.gradcheck``) and against ``bntheory.bn``; the
SymPy proofs of ``bntheory.symbolic.verify_backward``; the O(m d) cost by counting the
operations of the formulas after common-subexpression elimination (SymPy).
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import Claim, Outcome, decide_at_most, decide_close, worst

_EPS = 1e-5


def _article_backward(x: np.ndarray, dy: np.ndarray, gamma: float, eps: float):
    """The article's formulas for one feature, term by term (Ioffe & Szegedy 2015, Sec. 3)."""
    m = x.shape[0]
    mu = x.mean()
    var = ((x - mu) ** 2).mean()
    dxhat = dy * gamma
    dvar = np.sum(dxhat * (x - mu) * (-0.5) * (var + eps) ** -1.5)
    dmu_first = np.sum(dxhat * (-1.0 / np.sqrt(var + eps)))
    dmu_second = dvar * np.sum(-2.0 * (x - mu)) / m
    dmu = dmu_first + dmu_second
    dx = dxhat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / m + dmu / m
    xhat = (x - mu) / np.sqrt(var + eps)
    return dx, np.sum(dy * xhat), np.sum(dy), dmu_first, dmu_second


def _loss_and_grad(rng, m):
    """A loss of the BN output: L(y) = c.y + 0.5 * sum(a * y^2), random c, a > 0."""
    c = rng.normal(size=m)
    a = rng.uniform(0.5, 2.0, size=m)

    def loss(y):
        return float(c @ y + 0.5 * np.sum(a * y * y))

    def dloss(y):
        return c + a * y

    return loss, dloss


def _check_chain_rule(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward, batch_norm_forward
    from bntheory.gradcheck import check_gradient

    m, gamma, beta = 8, 1.7, 0.3
    x = rng.normal(size=m) * 2 + 1
    loss, dloss = _loss_and_grad(rng, m)

    def fwd(xv):
        return gamma * (xv - xv.mean()) / np.sqrt(xv.var() + _EPS) + beta

    def f(xv):
        return loss(fwd(xv))

    def g(xv):
        return _article_backward(xv, dloss(fwd(xv)), gamma, _EPS)[0]

    chk = check_gradient(f, g, x, rng)
    y, cache = batch_norm_forward(x[:, None], gamma, beta, _EPS)
    dx_lib = batch_norm_backward(dloss(y[:, 0])[:, None], cache)[0][:, 0]
    dx_art = g(x)
    diff_lib = float(np.max(np.abs(dx_lib - dx_art)) / np.max(np.abs(dx_art)))
    v = worst(
        decide_at_most(chk.rel_error, 1e-6),
        decide_close(chk.slope, 2.0, rtol=0.0, atol=0.25),
        decide_at_most(diff_lib, 1e-12),
    )
    return Outcome(
        v,
        f"article's chain rule vs finite differences: rel. err {chk.rel_error:.1e}, Taylor slope {chk.slope:.2f}; vs bn.py {diff_lib:.1e}",
        {"fd_rel_error": chk.rel_error, "taylor_slope": chk.slope, "rel_diff_bn_py": diff_lib},
    )


#: The identities of the backward pass that bwd-02 relies on (verify_backward item names).
BACKWARD_ITEMS = (
    "chain_rule_dxhat",
    "chain_rule_dvar",
    "chain_rule_dmean",
    "chain_rule_dx",
    "chain_rule_dgamma",
    "chain_rule_dbeta",
    "closed_form_dx",
    "dmean_second_term_zero",
    "grad_sum_zero",
    "grad_xhat_inner_eps",
    "jacobian_eps",
    "jacobian",
)


def _check_symbolic(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.claims._symbolic import items, report

    its = items(BACKWARD_ITEMS)
    n, n_ok = len(its), sum(1 for it in its if it.holds)
    failed = sorted({it.name for it in its if not it.holds})
    rep = report()
    n_all, ok_all = len(rep.items), sum(1 for it in rep.items if it.holds)
    v = decide_close(float(n_ok), float(n), rtol=0.0)
    return Outcome(
        v,
        f"SymPy (m=4 and symbolic m): {n_ok}/{n} backward-pass identities proven "
        f"({ok_all}/{n_all} items of the whole report)"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        {"items": float(n), "proven": float(n_ok), "report_items": float(n_all)},
        "the paper's six chain-rule equations as printed equal sympy.diff of Alg. 1 (any eps); "
        "items: " + ", ".join(BACKWARD_ITEMS),
    )


def _check_dmu_second_term(quick: bool, rng: np.random.Generator) -> Outcome:
    ratios = []
    for _ in range(5):
        x = rng.normal(size=16) * rng.uniform(0.1, 10) + rng.normal() * 100
        dy = rng.normal(size=16)
        *_, first, second = _article_backward(x, dy, 1.3, _EPS)
        ratios.append(abs(second) / abs(first))
    r = float(np.max(ratios))
    return Outcome(
        decide_at_most(r, 1e-10),
        f"max |second term| / |first term| of dL/dmu_B = {r:.1e} (round-off)",
        {"max_ratio": r},
    )


def _check_param_grads(quick: bool, rng: np.random.Generator) -> Outcome:
    from bntheory.bn import batch_norm_backward, batch_norm_forward
    from bntheory.gradcheck import check_gradient

    m, c = 10, 3
    x = rng.normal(size=(m, c)) * 3 - 1
    loss_w = rng.normal(size=(m, c))

    def split(p):
        return p[:c], p[c:]

    def f(p):
        gm, bt = split(p)
        y, _ = batch_norm_forward(x, gm, bt, _EPS)
        return float(np.sum(loss_w * y) + 0.25 * np.sum(y**4))

    def grad(p):
        gm, bt = split(p)
        y, cache = batch_norm_forward(x, gm, bt, _EPS)
        dy = loss_w + y**3
        _, dg, db = batch_norm_backward(dy, cache)
        # the article's formulas: sum dy * x_hat and sum dy
        xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + _EPS)
        art = np.concatenate([np.sum(dy * xhat, axis=0), np.sum(dy, axis=0)])
        lib = np.concatenate([dg, db])
        grad.diff = max(getattr(grad, "diff", 0.0), float(np.max(np.abs(art - lib))))
        return art

    p0 = np.concatenate([rng.uniform(0.5, 2, size=c), rng.normal(size=c)])
    chk = check_gradient(f, grad, p0, rng)
    diff = float(getattr(grad, "diff", np.nan))
    v = worst(decide_at_most(chk.rel_error, 1e-6), decide_at_most(diff, 1e-10))
    return Outcome(
        v,
        f"dL/dgamma = sum dy*x_hat, dL/dbeta = sum dy: FD rel. err {chk.rel_error:.1e}, vs bn.py {diff:.1e}",
        {"fd_rel_error": chk.rel_error, "max_abs_diff_bn_py": diff, "taylor_slope": chk.slope},
    )


def _op_count(m: int) -> int:
    """Arithmetic operations of the article's backward formulas for one feature.

    The formulas are evaluated as written, as a straight-line program in which the named
    intermediates (mu_B, sigma_B^2, dL/dx_hat, dL/dsigma_B^2, dL/dmu_B, x_hat) are computed
    once and then used as symbols; ``sympy.count_ops`` counts each assignment.
    """
    import sympy as sp

    x = sp.symbols(f"x0:{m}", real=True)
    dy = sp.symbols(f"g0:{m}", real=True)
    gamma, eps, mu, var, dvar, dmu, s = sp.symbols("gamma epsilon mu var dvar dmu s", real=True)
    dxh = sp.symbols(f"h0:{m}", real=True)
    xh = sp.symbols(f"xh0:{m}", real=True)
    program = [sp.Add(*x) / m]  # mu_B
    program.append(sp.Add(*[(xi - mu) ** 2 for xi in x]) / m)  # sigma_B^2
    program.append(1 / sp.sqrt(var + eps))  # s = 1/sqrt(sigma^2 + eps)
    program += [gi * gamma for gi in dy]  # dL/dx_hat
    program.append(sp.Add(*[dxh[i] * (x[i] - mu) for i in range(m)]) * sp.Rational(-1, 2) * s**3)
    program.append(sp.Add(*[-dxh[i] * s for i in range(m)]))  # dL/dmu (second term is 0)
    program += [(xi - mu) * s for xi in x]  # x_hat
    program += [dxh[i] * s + dvar * 2 * (x[i] - mu) / m + dmu / m for i in range(m)]
    program += [sp.Add(*[dy[i] * xh[i] for i in range(m)]), sp.Add(*dy)]
    return int(sum(sp.count_ops(e) for e in program))


def _check_cost(quick: bool, rng: np.random.Generator) -> Outcome:
    ms = [4, 8, 16, 32] if quick else [4, 8, 16, 32, 64, 128]
    ops = [_op_count(m) for m in ms]
    slope = float(np.polyfit(np.log(ms[1:]), np.log(ops[1:]), 1)[0])
    v = decide_close(slope, 1.0, rtol=0.0, atol=0.15)
    return Outcome(
        v,
        "ops per feature: "
        + ", ".join(f"m={m}: {o}" for m, o in zip(ms, ops, strict=True))
        + f"; log-log slope {slope:.2f}",
        {"slope": slope} | {f"ops_m{m}": float(o) for m, o in zip(ms, ops, strict=True)},
        "operation count is linear in m per feature, so O(m d) per layer",
    )


def _check_dmu_second_term_sym(quick: bool, rng: np.random.Generator) -> Outcome:
    """check_dmu_second_term plus the SymPy proofs dmean_second_term_zero (bntheory.symbolic.verify_backward)."""
    from bntheory.claims._symbolic import add_symbolic

    return add_symbolic(_check_dmu_second_term(quick, rng), ("dmean_second_term_zero",))


CLAIMS = [
    Claim(
        "bwd-01",
        "backpropagation",
        "dL/dx_i = dL/dx_hat_i / sqrt(sigma^2+eps) + dL/dsigma^2 * 2(x_i-mu_B)/m + dL/dmu_B / m",
        "Ioffe & Szegedy (2015), Sec. 3 (chain rule)",
        "numerical",
        "chain-rule formulas of the article",
        _check_chain_rule,
    ),
    Claim(
        "bwd-02",
        "backpropagation",
        "dL/dx_hat_i = dL/dy_i * gamma ... auxiliary gradients dL/dsigma_B^2, dL/dmu_B",
        "Ioffe & Szegedy (2015), Sec. 3; bntheory.symbolic.verify_backward",
        "symbolic",
        "identities proven exactly (m=4)",
        _check_symbolic,
    ),
    Claim(
        "bwd-03",
        "backpropagation",
        "the second term in dL/dmu_B evaluates to zero since sum (x_j - mu_B) = 0",
        "Ioffe & Szegedy (2015), Sec. 3",
        "numerical",
        "second term = 0",
        _check_dmu_second_term_sym,
    ),
    Claim(
        "bwd-04",
        "backpropagation",
        "dL/dgamma = sum dL/dy_i x_hat_i, dL/dbeta = sum dL/dy_i",
        "Ioffe & Szegedy (2015), Sec. 3",
        "numerical",
        "parameter gradient formulas",
        _check_param_grads,
    ),
    Claim(
        "bwd-05",
        "backpropagation",
        "propagating gradients through BN incurs an additional cost of O(m * d) per layer",
        "article (no source equation)",
        "symbolic",
        "O(m d) operations",
        _check_cost,
    ),
]

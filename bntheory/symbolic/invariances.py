"""Scale invariance (Sec. 3.3), the unbiased running variance (Alg. 2) and conv = dense
(Sec. 3.2) of Ioffe & Szegedy (2015), "Batch Normalization", for a concrete batch size."""

from __future__ import annotations

import sympy as sp

from bntheory.symbolic._proof import IS, _all_vanish, _item, _sum
from bntheory.symbolic.algebra import bn_symbols, normalize_radicals
from bntheory.symbolic.derivatives import true_derivative
from bntheory.symbolic.report import IdentityResult

__all__ = ["expected_batch_variance", "invariance_items"]


def _items_scale(m: int) -> list[IdentityResult]:
    """Ioffe & Szegedy (2015), Sec. 3.3: BN(a W u) = BN(W u) and the 1/a gradient scaling, eps = 0."""
    pf = f"m={m}, eps=0, a>0"
    sym0 = bn_symbols(m, eps_zero=True)
    a = sp.Symbol("alpha", positive=True)

    def forward():
        scaled = [yi.xreplace({xi: a * xi for xi in sym0.x}) for yi in sym0.y]
        scaled = [normalize_radicals(e, sym0.base, sym0.s, sym0.x) for e in scaled]
        return _all_vanish([p - q for p, q in zip(scaled, sym0.y, strict=False)], sym0)

    # W is 1 x d. d = 1 keeps the proof cheap at m = 8; the d > 1 case adds nothing, since
    # d l/dW_k = sum_i (d l/dz_i) u_ki is linear in the rows of u (checked with d = 2 for
    # m <= 4, where it is affordable).
    d = 2 if m <= 4 else 1
    w = sp.symbols(f"w1:{d + 1}", real=True)
    uu = [sp.symbols(f"v{k + 1}_1:{m + 1}", real=True) for k in range(d)]
    z = [_sum(w[k] * uu[k][i] for k in range(d)) for i in range(m)]
    zsub = dict(zip(sym0.x, z, strict=False))
    loss_w = sym0.loss.xreplace(zsub)
    base_w = sym0.base.xreplace(zsub)
    wvars = set(w) | {v for row in uu for v in row}
    s = sym0.s

    def grads(wrt):
        g_w = [sp.diff(loss_w, v) for v in wrt]
        g_aw = [e.xreplace({wk: a * wk for wk in w}) for e in g_w]
        norm = [normalize_radicals(e, base_w, s, wvars) for e in g_w]
        norm_a = [normalize_radicals(e, base_w, s, wvars) for e in g_aw]
        return norm, norm_a

    # centered coordinates of each input row: u_ki = b_k + v_ki (i < m), u_km = b_k - sum_i v_ki
    bsym = sp.symbols(f"b1:{d + 1}", real=True)
    vsym = [sp.symbols(f"c{k + 1}_1:{m}", real=True) for k in range(d)]
    cmap = {}
    for k in range(d):
        cmap.update({uu[k][i]: bsym[k] + vsym[k][i] for i in range(m - 1)})
        cmap[uu[k][m - 1]] = bsym[k] - _sum(vsym[k])
    s2 = sp.expand(base_w.xreplace(cmap))

    def check(exprs):
        how = set()
        for k, e in enumerate(exprs):
            e = sp.expand(e.xreplace(cmap))
            if e == 0:
                how.add("expands to 0 with s free (homogeneity)")
                continue
            a_part, b_part = _reduce_mod_relation_public(e, s, s2)
            if not (a_part == 0 and b_part == 0):
                return False, f"component {k} does not vanish"
            how.add("expands to 0 after reducing s**2 = sigma_B(Wu)^2")
        return True, f"{len(exprs)} components: " + ", ".join(
            sorted(how)
        ) + "; sigma_B(aWu) = a sigma_B(Wu)"

    def weight_grad():
        g, ga = grads(w)
        return check([p - q / a for p, q in zip(ga, g, strict=False)])

    def input_grad():
        # row 1 of u only: rows are interchangeable (relabel w1 <-> w2), which halves the cost
        g, ga = grads(list(uu[0]))
        return check([p - q for p, q in zip(ga, g, strict=False)])

    return [
        _item(
            "scale_invariance_forward",
            "eps = 0, a > 0: BN(a z) = BN(z)",
            forward,
            pf,
            f"{IS}, Sec. 3.3",
        ),
        _item(
            "scale_invariance_weight_grad",
            "eps = 0, a > 0, z = W u (W: 1x2 for m <= 4, 1x1 above; batch of m inputs u): "
            "d l/d(aW) at aW = (1/a) d l/dW at W",
            weight_grad,
            pf,
            f"{IS}, Sec. 3.3",
        ),
        _item(
            "scale_invariance_input_grad",
            "eps = 0, a > 0, z = W u: d l/du at aW = d l/du at W (row 1 of u; row 2 by symmetry)",
            input_grad,
            pf,
            f"{IS}, Sec. 3.3",
        ),
    ]


def _reduce_mod_relation_public(e, s, s2):
    from bntheory.symbolic.algebra import _reduce_mod_relation

    return _reduce_mod_relation(e, s, s2)


def expected_batch_variance(m: int) -> tuple[sp.Expr, sp.Symbol, sp.Symbol]:
    """``E[sigma_B^2]`` for i.i.d. ``x_i`` with ``E x_i = mu``, ``E x_i x_j = mu^2 + sigma^2 delta_ij``.

    The biased batch variance of Ioffe & Szegedy (2015), Alg. 1, is expanded into monomials
    and the moments substituted. Returns ``(E, mu, sigma)``.

    Parameters
    ----------
    m : int
        Batch size, at least 2.

    Returns
    -------
    tuple
        ``(E, mu, sigma)``: the expectation and the two moment symbols it uses.
    """
    sym = bn_symbols(m)
    mu, sig = sp.symbols("mu sigma", positive=True)
    poly = sp.Poly(sp.expand(sym.var), *sym.x)
    total = sp.Integer(0)
    for monom, coeff in poly.terms():
        idx = [i for i, k in enumerate(monom) for _ in range(k)]
        if len(idx) != 2:
            raise AssertionError("batch variance must be a quadratic form")
        total += coeff * (mu**2 + (sig**2 if idx[0] == idx[1] else 0))
    return sp.expand(total), mu, sig


def _item_running_var(m: int) -> IdentityResult:
    def run():
        e, mu, sig = expected_batch_variance(m)
        ok1 = sp.expand(e - sp.Rational(m - 1, m) * sig**2) == 0
        ok2 = sp.expand(sp.Rational(m, m - 1) * e - sig**2) == 0
        return ok1 and ok2, f"E[sigma_B^2] = {e}"

    return _item(
        "running_var_unbiased",
        "i.i.d. x_i: E[sigma_B^2] = (m-1)/m sigma^2, so Alg. 2's m/(m-1) E[sigma_B^2] = sigma^2",
        run,
        f"m={m}",
        f"{IS}, Alg. 2",
    )


def _conv_shape(m: int) -> tuple[int, int, int]:
    """Split ``m' = m`` into (batch, p, q) with batch * p * q = m."""

    def spf(n):
        return next(k for k in range(2, n + 1) if n % k == 0)

    b = spf(m)
    if b == m:
        return 1, m, 1
    rest = m // b
    q = spf(rest)
    return (b, rest, 1) if q == rest else (b, rest // q, q)


def _item_conv(m: int) -> IdentityResult:
    nb, p, q = _conv_shape(m)
    sym = bn_symbols(m)

    def run():
        xs = [
            [[sp.Symbol(f"X{b}_{h}_{w}", real=True) for w in range(q)] for h in range(p)]
            for b in range(nb)
        ]
        ds = [
            [[sp.Symbol(f"D{b}_{h}_{w}", real=True) for w in range(q)] for h in range(p)]
            for b in range(nb)
        ]
        flat_x = [xs[b][h][w] for b in range(nb) for h in range(p) for w in range(q)]
        flat_d = [ds[b][h][w] for b in range(nb) for h in range(p) for w in range(q)]
        # conv-style per-channel statistics: mean of per-sample spatial means; variance over (b, h, w)
        sample_means = [
            _sum(xs[b][h][w] for h in range(p) for w in range(q)) / (p * q) for b in range(nb)
        ]
        mu = _sum(sample_means) / nb
        var = _sum(
            (xs[b][h][w] - mu) ** 2 for b in range(nb) for h in range(p) for w in range(q)
        ) / (nb * p * q)
        std = sp.sqrt(var + sym.eps)
        ys = [sym.gamma * (v - mu) / std + sym.beta for v in flat_x]
        loss = _sum(d * yv for d, yv in zip(flat_d, ys, strict=False))
        grads = [sp.diff(loss, v) for v in flat_x] + [
            sp.diff(loss, sym.gamma),
            sp.diff(loss, sym.beta),
        ]
        to_dense = dict(zip(flat_x, sym.x, strict=False)) | dict(zip(flat_d, sym.dy, strict=False))
        conv = [e.xreplace(to_dense) for e in ys + grads]
        conv = [normalize_radicals(e, sym.base, sym.s, sym.x) for e in conv]
        dense = (
            list(sym.y)
            + true_derivative(sym, "dx")
            + [true_derivative(sym, "dgamma"), true_derivative(sym, "dbeta")]
        )
        ok, det = _all_vanish([c - d for c, d in zip(conv, dense, strict=False)], sym)
        return ok, f"(batch, p, q) = ({nb}, {p}, {q}): outputs, d/dx, d/dgamma, d/dbeta: {det}"

    return _item(
        "conv_equals_dense",
        "conv BN (statistics per channel over batch and p x q locations) = dense BN on the flattened m' = m p q "
        "vector, outputs and gradients",
        run,
        f"m'={m} = {nb}*{p}*{q}",
        f"{IS}, Sec. 3.2",
    )


def invariance_items(m: int) -> list[IdentityResult]:
    """Items 7-9 for batch size ``m``: scale invariance, the unbiased running variance and
    conv = dense.

    Parameters
    ----------
    m : int
        Batch size (at least 2).

    Returns
    -------
    list of IdentityResult
        Five results, in the order of the report.
    """
    return [*_items_scale(m), _item_running_var(m), _item_conv(m)]

"""Parameter decoupling: scale invariance of BN (Ioffe & Szegedy 2015, Sec. 3.3; Arora, Li
& Lyu 2019, Lemma 2.4; Karakida, Akaho & Amari 2019).

Every check only measures (core.py's rule); the readings below decide. The BN transform is
the library's :func:`bntheory.bn.batch_norm_forward` / ``batch_norm_backward`` (checked
against PyTorch in tests/test_bn.py); the Fisher information of dec-05 is the closed form
of :mod:`bntheory.nets.karakida2019` (checked against
:func:`bntheory.nets.measurements.fisher_spectrum` in tests/nets/test_karakida2019.py).
"""

from __future__ import annotations

import numpy as np

from bntheory.claims.core import (
    Claim,
    Measurement,
    P,
    Reading,
    measurement_seeds,
    one_blas_thread,
)

#: Unit round-off of float64.
U64 = float(np.finfo(np.float64).eps) / 2


# --------------------------------------------------------------------------- dec-01
def _check_bn_wx(quick: bool, rng: np.random.Generator) -> Measurement:
    """BN(Wx) vs the article's ``gamma Wx/||Wx|| + beta`` and vs the population form
    ``gamma (w^T x - w^T mu)/||w||_Sigma + beta`` (per unit; Ioffe & Szegedy 2015, Alg. 1
    with population statistics; Cai, Li & Shen 2019's model ``a w^T x / ||w||_H``)."""
    from bntheory.bn import batch_norm_forward

    n, d, k = (20000 if quick else 200000), 5, 3
    A = rng.normal(size=(d, d))
    Sigma = A @ A.T + 0.5 * np.eye(d)
    mu = rng.normal(size=d) * 2
    X = rng.multivariate_normal(mu, Sigma, size=n)
    W = rng.normal(size=(k, d))
    gamma, beta = rng.uniform(0.5, 2, size=k), rng.normal(size=k)
    Z = X @ W.T
    y, _ = batch_norm_forward(Z, gamma, beta, eps=0.0)
    w_sigma = np.sqrt(np.einsum("kd,de,ke->k", W, Sigma, W))
    pop = gamma * (Z - W @ mu) / w_sigma + beta
    art = gamma * Z / np.linalg.norm(Z, axis=1, keepdims=True) + beta
    scale = np.sqrt(np.mean((y - beta) ** 2))
    err_pop = float(np.sqrt(np.mean((y - pop) ** 2)) / scale)
    err_art = float(np.sqrt(np.mean((y - art) ** 2)) / scale)
    return Measurement(
        f"relative RMS difference from the BN output ({n} samples, {k} units): article's "
        f"gamma Wx/||Wx|| + beta {err_art:.3f}; population form gamma (w^T x - w^T mu)/"
        f"||w||_Sigma + beta {err_pop:.4f}",
        {"rel_rms_err_article": err_art, "rel_rms_err_population_form": err_pop, "n": float(n)},
        note="BN works per unit over the batch: it centres w^T x and divides by the "
        "Sigma-norm of w, not by the Euclidean norm of the vector Wx of one sample",
    )


# --------------------------------------------------------------------------- dec-02
def _check_output_scale(quick: bool, rng: np.random.Generator) -> Measurement:
    """Standard deviation of BN(a W u) for a in {0.1, 1, 10} (Ioffe & Szegedy 2015,
    Sec. 3.3: BN(Wu) = BN((aW)u), so the output scale is gamma alone)."""
    from bntheory.bn import batch_norm_forward

    u = rng.normal(size=(256, 8))
    W = rng.normal(size=(8, 2))
    gamma = 1.7
    stds = []
    for a in (0.1, 1.0, 10.0):
        y, _ = batch_norm_forward(u @ (a * W), gamma, 0.0)
        stds.append(float(np.mean(y.std(axis=0))))
    ratio = stds[2] / stds[0]
    return Measurement(
        "mean std of the BN output for W scaled by 0.1, 1, 10: "
        + ", ".join(f"{s:.4f}" for s in stds)
        + f" (gamma = {gamma}); ratio between a = 10 and a = 0.1: {ratio:.5f}",
        {
            "std_a0.1": stds[0],
            "std_a1": stds[1],
            "std_a10": stds[2],
            "ratio": ratio,
            "std_over_gamma": stds[1] / gamma,
            "gamma": gamma,
        },
    )


# --------------------------------------------------------------------------- dec-03
def _sympy_scale_invariance(m: int = 4) -> bool:
    """SymPy: for a batch of ``m`` symbolic values and ``a > 0``, ``x_hat(a x) = x_hat(x)``
    exactly (eps = 0; Ioffe & Szegedy 2015, Sec. 3.3). An implementation independent of
    :mod:`bntheory.bn` and of :mod:`bntheory.symbolic`."""
    import sympy as sp

    a = sp.Symbol("a", positive=True)
    xs = sp.symbols(f"x1:{m + 1}", real=True)

    def x_hat(v):
        mean = sum(v) / m
        var = sum((vi - mean) ** 2 for vi in v) / m
        return [(vi - mean) / sp.sqrt(var) for vi in v]

    scaled = x_hat([a * x for x in xs])
    plain = x_hat(list(xs))
    return all(sp.cancel(s - p) == 0 for s, p in zip(scaled, plain, strict=True))


def _check_scale_invariance(quick: bool, rng: np.random.Generator) -> Measurement:
    from bntheory.bn import batch_norm_forward

    m = 64
    u = rng.normal(size=(m, 6))
    W = rng.normal(size=(6, 4))
    devs, devs_eps = {}, {}
    y0, _ = batch_norm_forward(u @ W, 1.0, 0.0, eps=0.0)
    y0e, _ = batch_norm_forward(u @ W, 1.0, 0.0)
    for a in (0.5, 2.0, 10.0, 100.0):
        ya, _ = batch_norm_forward(u @ (a * W), 1.0, 0.0, eps=0.0)
        yae, _ = batch_norm_forward(u @ (a * W), 1.0, 0.0)
        devs[a] = float(np.max(np.abs(ya - y0)))
        devs_eps[a] = float(np.max(np.abs(yae - y0e)))
    proven = _sympy_scale_invariance()
    return Measurement(
        f"max |BN(aWu) - BN(Wu)| over a in {{0.5, 2, 10, 100}}: {max(devs.values()):.1e} "
        f"(eps = 0), {max(devs_eps.values()):.1e} (eps = 1e-5); SymPy proof of "
        f"x_hat(a x) = x_hat(x) for a > 0: {'proven' if proven else 'NOT proven'}",
        {
            "max_dev_eps0": max(devs.values()),
            "max_dev_eps1e-5": max(devs_eps.values()),
            "sympy_proven": bool(proven),
            "batch": float(m),
        },
        note="with eps > 0 the invariance is broken by O(eps / (a^2 Var)) (largest at a = 0.5)",
    )


# --------------------------------------------------------------------------- dec-04
def _check_large_lr(quick: bool, rng: np.random.Generator) -> Measurement:
    """Ioffe & Szegedy (2015), Sec. 3.3 (the gradient scales as 1/a) and Arora, Li & Lyu
    (2019), Lemma 2.4 (w is orthogonal to its gradient, ||w||^2 grows by eta^2 ||g||^2, so
    the effective step eta/||w||^2 falls), measured with round-off bounds.

    Round-off bound of ``w . g`` (exactly 0 for eps = 0; Higham 2002, Sec. 3.1, first order):
    ``g = U^T dx`` with ``dx`` the BN backward; the errors of forming ``U^T dx`` and ``w . g``
    are at most ``gamma_n (|w|^T |U|^T |dx| + |w|^T |g|)`` with ``gamma_n = n u``,
    ``n = 4m + d``; an error ``delta`` of ``dx`` itself adds ``|z . delta|``, ``z = U w``, with
    ``||delta|| <= 3 gamma_n ||g_hat|| / s`` (each of the three terms of the backward is
    bounded by ``||g_hat||``, ``s`` the batch std). The quantity decided is
    ``|w . g| / bound`` (<= 1 when only round-off is present)."""
    from bntheory.bn import batch_norm_backward, batch_norm_forward

    m, d = 64, 6
    u = rng.normal(size=(m, d))
    t = rng.normal(size=m)
    gam = (4 * m + d) * U64

    def loss_grad(w):
        z = u @ w
        y, cache = batch_norm_forward(z[:, None], 1.0, 0.0, eps=0.0)
        r = y[:, 0] - t
        ghat = r / m
        dx = batch_norm_backward(ghat[:, None], cache)[0][:, 0]
        g = u.T @ dx
        s = float(np.std(z))
        bound = gam * (
            float(np.abs(w) @ (np.abs(u).T @ np.abs(dx)))
            + float(np.abs(w) @ np.abs(g))
            + 3 * float(np.linalg.norm(z)) * float(np.linalg.norm(ghat)) / s
        )
        return 0.5 * float(np.mean(r**2)), g, bound

    w = rng.normal(size=d)
    g1 = loss_grad(w)[1]
    g10 = loss_grad(10 * w)[1]
    ratio = float(np.linalg.norm(g10) / np.linalg.norm(g1))
    eta, steps = 50.0, 30
    eff0 = eta / float(w @ w)
    loss0 = loss_grad(w)[0]
    orth, ident = [], []
    for _ in range(steps):
        _, g, bound = loss_grad(w)
        orth.append(abs(float(w @ g)) / bound)
        w_new = w - eta * g
        lhs, rhs = float(w_new @ w_new), float(w @ w) + eta**2 * float(g @ g)
        # ||w'||^2 - ||w||^2 - eta^2||g||^2 = -2 eta w.g exactly; plus rounding of three sums
        ident_bound = 2 * eta * bound + 3 * d * U64 * (lhs + rhs)
        ident.append(abs(lhs - rhs) / ident_bound)
        w = w_new
    loss_T = loss_grad(w)[0]
    eff_T = eta / float(w @ w)
    return Measurement(
        f"|grad at 10w| / |grad at w| = {ratio:.12f}; max |w.g| / round-off bound "
        f"{max(orth):.2g}; max | ||w'||^2 - ||w||^2 - eta^2||g||^2 | / bound {max(ident):.2g} "
        f"over {steps} GD steps at eta = {eta:g}; effective step eta/||w||^2 {eff0:.3g} -> "
        f"{eff_T:.3g}; loss {loss0:.4f} -> {loss_T:.4f}",
        {
            "grad_ratio_a10": ratio,
            "max_orthogonality_over_bound": max(orth),
            "max_norm_identity_over_bound": max(ident),
            "effective_lr_initial": eff0,
            "effective_lr_final": eff_T,
            "loss_initial": loss0,
            "loss_final": loss_T,
            "loss_ratio": loss_T / loss0,
            "eta": eta,
        },
    )


# --------------------------------------------------------------------------- dec-05
#: Widths of the Karakida experiment (same in quick and full mode): the statement is
#: asymptotic in M, so the widest range that fits the time budget.
FISHER_WIDTHS = (32, 64, 128, 256, 512)
#: Seeds (quick, full): the BN exponents scatter by ~0.25 between seeds (the fixed-gamma
#: output BN divides by a noisy batch variance), so 10 seeds are needed to resolve 1/2.
FISHER_SEEDS = {True: 10, False: 10}
#: Fixed sample number of the "T fixed" setting: T << M over the width range (M/T from 2
#: to 32), where the mean-field argument predicts lambda_max = O(M/T) even after centring.
FISHER_T_FIXED = 16


def fisher_exponents(seed: int) -> dict[str, float]:
    """One seed of the Karakida et al. (2019) width experiment.

    Karakida, Akaho & Amari (2019), "The Normalization Method for Alleviating Pathological
    Sharpness in Wide Neural Networks": ``lambda_max`` of the Fisher information grows
    like the width ``M`` without normalization and BN in the last layer removes that growth.
    ReLU nets ``[M, M, M, 1]`` (input dimension proportional to the width, as in their
    mean-field setting; He initialization, no bias) on ``T`` standard Gaussian inputs; slope
    of ``log lambda_max`` of the Fisher information against ``log M`` over
    :data:`FISHER_WIDTHS`, for the output unit without normalization, with mean
    subtraction, and with BN (fixed gamma = 1), at a fixed sample number
    ``T =`` :data:`FISHER_T_FIXED` and at ``T = M``. Runs with one BLAS thread.

    Parameters
    ----------
    seed : int
        Seed of the weights and inputs (one ``numpy.random.default_rng(seed)`` stream,
        drawn width by width).

    Returns
    -------
    dict of str to float
        For ``norm`` in ``"none"``, ``"center"``, ``"bn"`` and ``tag`` in ``"Tfixed"``,
        ``"TpropM"``: ``exponent_<norm>_<tag>``, the least-squares slope of ``log
        lambda_max`` against ``log M`` (about 1 = grows with the width, about 0 = does not),
        and ``lmax_<norm>_<tag>_Mmax``, ``lambda_max`` at the largest width.
    """
    from bntheory.nets import karakida2019 as kk

    g = np.random.default_rng(seed)
    lw = np.log(np.asarray(FISHER_WIDTHS, float))
    lmax: dict[tuple[str, str], list[float]] = {}
    with one_blas_thread():
        for M in FISHER_WIDTHS:
            Ws = kk.relu_weights([M, M, M, 1], g)
            for tag, T in (("Tfixed", FISHER_T_FIXED), ("TpropM", M)):
                X = g.normal(size=(T, M))
                for norm, v in kk.fisher_lambda_max_all(Ws, X).items():
                    lmax.setdefault((norm, tag), []).append(v)
    out = {}
    for (norm, tag), vals in lmax.items():
        out[f"exponent_{norm}_{tag}"] = float(np.polyfit(lw, np.log(vals), 1)[0])
        out[f"lmax_{norm}_{tag}_Mmax"] = float(vals[-1])
    return out


def _check_fim(quick: bool, rng: np.random.Generator) -> Measurement:
    """Karakida, Akaho & Amari (2019): growth of lambda_max(FIM) with width, with and
    without BN in the last layer, at a fixed sample number and at T proportional to M."""
    from bntheory.claims.stats import mean_ci

    n = FISHER_SEEDS[bool(quick)]
    rows = [fisher_exponents(s) for s in measurement_seeds("fisher-width", quick, rng, n=n)]
    vals, ivs = {}, {}
    for key in rows[0]:
        if key.startswith("exponent_"):
            v, i = mean_ci(key, [r[key] for r in rows])
            vals.update(v)
            ivs.update(i)
    for tag in ("Tfixed", "TpropM"):
        for norm in ("bn", "center"):
            name = f"drop_{norm}_{tag}"
            v, i = mean_ci(
                name, [r[f"exponent_none_{tag}"] - r[f"exponent_{norm}_{tag}"] for r in rows]
            )
            vals.update(v)
            ivs.update(i)
    for key in rows[0]:
        if key.startswith("lmax_"):
            vals[key] = float(np.median([r[key] for r in rows]))
    ws = ", ".join(map(str, FISHER_WIDTHS))
    return Measurement(
        f"growth exponent of lambda_max(FIM) in width M ({ws}; {len(rows)} seeds): no "
        f"normalization {vals['exponent_none_Tfixed']:.2f} (T = {FISHER_T_FIXED}) / "
        f"{vals['exponent_none_TpropM']:.2f} (T = M); last-layer BN "
        f"{vals['exponent_bn_Tfixed']:.2f} / {vals['exponent_bn_TpropM']:.2f}; mean "
        f"subtraction only {vals['exponent_center_Tfixed']:.2f} / "
        f"{vals['exponent_center_TpropM']:.2f}",
        vals | {"T_fixed": float(FISHER_T_FIXED), "M_max": float(FISHER_WIDTHS[-1])},
        ivs,
        note="Karakida et al.'s width/sample condition could not be located (only their "
        "abstract of 'The Normalization Method for Alleviating Pathological Sharpness in Wide "
        "Neural Networks' is available); T = M is the setting where the mean-field "
        "argument (the centred FIM Gram matrix has entries O(M/T)) predicts O(1)",
    )


# --------------------------------------------------------------------------- dec-06
#: Scale factors of the first layer's weights in dec-06.
DEC06_SCALES = (0.1, 10.0)
#: Amplification allowed between the first BN layer and the network output in dec-06.
DEC06_AMPLIFICATION = 10.0


def _init_sensitivity(seed: int) -> dict:
    """One initialization of the dec-06 experiment: ReLU MLPs ``[16, 64, 64, 1]`` with BN on
    every hidden layer (eps = 1e-5) and a twin without BN sharing its weights; relative change
    of the train-mode output and of the MSE loss when the first layer's ``W`` is scaled."""
    from bntheory.nets.mlp import MLP

    g = np.random.default_rng(seed)
    sizes, n, eps = (16, 64, 64, 1), 256, 1e-5
    X = g.normal(size=(n, sizes[0]))
    Y = g.normal(size=(n, 1))
    bn_net = MLP(sizes, "relu", bn=True, eps=eps, rng=g)
    plain = MLP(sizes, "relu", bn="none", rng=g)
    for k in range(len(sizes) - 1):
        plain.params(k)["W"][...] = bn_net.params(k)["W"]
    W0 = bn_net.params(0)["W"].copy()
    var0 = np.var(X @ W0, axis=0)  # batch variance of each first-layer unit at a = 1
    out: dict[str, list[float]] = {}
    for name, net in (("bn", bn_net), ("plain", plain)):
        o1, l1 = net.forward(X, training=True), net.loss(X, Y, training=True)
        for a in DEC06_SCALES:
            net.params(0)["W"][...] = a * W0
            oa, la = net.forward(X, training=True), net.loss(X, Y, training=True)
            net.params(0)["W"][...] = W0
            d_out = float(np.linalg.norm(oa - o1))
            out.setdefault(f"{name}_out", []).append(d_out / float(np.linalg.norm(o1)))
            out.setdefault(f"{name}_loss", []).append(abs(la - l1) / l1)
            if name == "bn":
                # exact per-unit rescaling of the first BN output: x_hat(aWx) = c_j x_hat(Wx)
                c = np.sqrt((var0 + eps) / (var0 + eps / a**2))
                bound = DEC06_AMPLIFICATION * float(np.max(np.abs(1.0 - c)))
                r = bound * float(np.linalg.norm(o1) / np.linalg.norm(o1 - Y))
                out.setdefault("bn_out_over_bound", []).append(
                    d_out / float(np.linalg.norm(o1)) / bound
                )
                out.setdefault("bn_loss_over_bound", []).append(abs(la - l1) / l1 / (2 * r + r * r))
                out.setdefault("delta", []).append(float(np.max(np.abs(1.0 - c))))
    return {
        "bn_out_over_bound": max(out["bn_out_over_bound"]),
        "bn_loss_over_bound": max(out["bn_loss_over_bound"]),
        "bn_out_change": max(out["bn_out"]),
        "bn_loss_change": max(out["bn_loss"]),
        "delta": max(out["delta"]),
        "plain_out_change": min(out["plain_out"]),
        "plain_loss_change": min(out["plain_loss"]),
    }


def _check_init_sensitivity(quick: bool, rng: np.random.Generator) -> Measurement:
    """Sensitivity of an initialized network to the scale of its first weight matrix, with
    and without BN (Ioffe & Szegedy 2015, Sec. 3.3), over seeds.

    The bound for the BN net: scaling ``W`` by ``a`` rescales the first BN output of unit
    ``j`` exactly by ``c_j = sqrt((sigma_j^2 + eps)/(sigma_j^2 + eps/a^2))`` (batch mean
    and deviation scale with ``a``), so ``delta = max_j |1 - c_j| ~ eps |1/a^2 - 1| /
    (2 sigma_j^2)``; ReLU with ``beta = 0`` (at initialization) passes the rescaling on
    unchanged, and each later BN / linear stage can magnify a relative perturbation by about
    2 (``u -> u/||u||`` is 2/||u||-Lipschitz), so the output changes by at most
    ``DEC06_AMPLIFICATION * delta`` (10 covers two such stages with a margin 2.5). For the
    MSE loss, ``| ||o'-y||^2 - ||o-y||^2 | <= 2 ||o'-o|| ||o-y|| + ||o'-o||^2`` turns it into
    ``2 r + r^2`` with ``r = bound ||o|| / ||o - y||``."""
    n = 5 if quick else 10
    rows = [_init_sensitivity(s) for s in measurement_seeds("dec-06", quick, rng, n=n)]
    vals = {k: (min if k.startswith("plain") else max)(r[k] for r in rows) for k in rows[0]}
    return Measurement(
        f"first-layer W scaled by {DEC06_SCALES[0]:g} and {DEC06_SCALES[1]:g} ({len(rows)} "
        f"initializations): with BN the output changes by {vals['bn_out_change']:.1e} "
        f"({vals['bn_out_over_bound']:.2g} x the eps bound), the loss by "
        f"{vals['bn_loss_change']:.1e}; without BN by at least {vals['plain_out_change']:.2f} "
        f"and {vals['plain_loss_change']:.2f}",
        vals
        | {
            "a_small": DEC06_SCALES[0],
            "a_large": DEC06_SCALES[1],
            "seeds": float(len(rows)),
            "amplification": DEC06_AMPLIFICATION,
        },
        note="worst case over initializations and scales (largest for BN, smallest without)",
    )


# --------------------------------------------------------------------------- claims
CLAIMS = [
    Claim(
        "dec-01",
        "parameter-decoupling",
        "BN(Wx) ~ gamma (Wx / ||Wx||) + beta",
        "Ioffe & Szegedy (2015), Alg. 1 (population form: Cai et al. 2019; Kohler et al. 2019, Eq. 9)",
        "numerical",
        "gamma Wx/||Wx|| + beta",
        _check_bn_wx,
        literal=Reading(
            "BN of the linear map equals gamma Wx/||Wx|| + beta (||.|| the norm of the vector "
            "Wx of one sample) up to 10 % relative RMS",
            (P("rel_rms_err_article", "<=", 0.10),),
            "the article writes '~' without a tolerance; 10 % relative RMS is ten times the "
            "sampling error of batch statistics at n >= 2e4 (about sqrt(2/n) < 1e-2), so an "
            "exact formula cannot fail it",
        ),
        corrected=Reading(
            "per unit, BN(w^T x) = gamma (w^T x - w^T mu)/sqrt(w^T Sigma w) + beta (centred, "
            "divided by the Sigma-norm of w), up to the sampling error of the batch statistics",
            (P("rel_rms_err_population_form", "<=", 0.05),),
            "batch mean and variance differ from the population ones by O(1/sqrt(n)) "
            "(< 1e-2 relative at n >= 2e4); 0.05 leaves a factor 5",
            source="Ioffe & Szegedy (2015), Alg. 1 and Sec. 3.1 (population statistics); "
            "Cai, Li & Shen (2019), model y ~ a w^T x/||w||_H",
        ),
        explain=(
            "The article's gamma Wx/||Wx|| + beta differs from the BN output by "
            "{rel_rms_err_article:.2f} (relative RMS): BN does not divide by the norm of one "
            "sample's vector Wx. Per unit it centres w^T x and divides by the Sigma-norm of w; "
            "that population form matches the BN output to {rel_rms_err_population_form:.4f}, "
            "the sampling error of the batch statistics."
        ),
    ),
    Claim(
        "dec-02",
        "parameter-decoupling",
        "the effective output scale becomes gamma * ||W||",
        "Ioffe & Szegedy (2015), Sec. 3.3",
        "numerical",
        "output scale gamma ||W||",
        _check_output_scale,
        literal=Reading(
            "the BN output scale is proportional to ||W||: scaling W by 100 (a = 0.1 -> 10) "
            "scales the output std by 100",
            (P("ratio", "==", 100.0, rtol=0.1),),
            "10 %: generous against eps = 1e-5 (changes the std by < 1e-2 relative here) and "
            "sampling effects, which cancel in the ratio anyway",
        ),
        corrected=Reading(
            "the output scale is gamma alone: the std ratio is 1 and the std equals gamma",
            (P("ratio", "==", 1.0, tol=0.01), P("std_over_gamma", "==", 1.0, tol=0.01)),
            "eps = 1e-5 shrinks the std by a factor sqrt(var/(var + eps)), i.e. by "
            "eps/(2 a^2 ||w||^2) < 1e-2 unless ||w||^2 < 0.05 (chi-square(8) probability "
            "< 1e-9)",
            source="Ioffe & Szegedy (2015), Sec. 3.3: BN(Wu) = BN((aW)u)",
        ),
        explain=(
            "Scaling W by a factor 100 changes the standard deviation of the BN output by a "
            "factor {ratio:.5f}, not 100: the output scale is gamma (std/gamma = "
            "{std_over_gamma:.5f}); ||W|| has no effect because BN(aWu) = BN(Wu)."
        ),
    ),
    Claim(
        "dec-03",
        "parameter-decoupling",
        "reduces the network's sensitivity to weight initialization, as initial magnitude variations are normalized away",
        "Ioffe & Szegedy (2015), Sec. 3.3: BN(Wu) = BN((aW)u)",
        "numerical",
        "BN(aWu) = BN(Wu)",
        _check_scale_invariance,
        literal=Reading(
            "the magnitude of W is normalized away: BN(aWu) = BN(Wu) for every a > 0 "
            "(proven symbolically; numerically equal to round-off at eps = 0)",
            (P("sympy_proven", "is", True), P("max_dev_eps0", "<=", 1e-12)),
            "float error of x_hat: the batch mean and std each carry a relative error of at "
            "most about m u (m = 64, u = 1.1e-16) and |x_hat| <= sqrt(m) = 8, so differences "
            "stay below 64 * 8 * 1.1e-16 = 6e-14; 1e-12 leaves a factor 15",
        ),
        explain=(
            "BN(aWu) = BN(Wu) is proven in SymPy for a batch of symbols and any a > 0; "
            "numerically the two differ by at most {max_dev_eps0:.1e} at eps = 0 (round-off) "
            "and {max_dev_eps1e-5:.1e} with the default eps, which breaks the invariance by "
            "O(eps/(a^2 Var)). The statement concerns the magnitude of W only; the "
            "direction of the initial weights still matters."
        ),
    ),
    Claim(
        "dec-04",
        "parameter-decoupling",
        "It also permits aggressive weight updates and larger learning rates during training",
        "Ioffe & Szegedy (2015), Sec. 3.3; Arora, Li & Lyu (2019), Lemma 2.4",
        "numerical",
        "large steps do not destabilize",
        _check_large_lr,
        literal=Reading(
            "the mechanism the sources give: the gradient w.r.t. a BN-normalized weight scales "
            "as 1/a, is orthogonal to w, so ||w||^2 grows by eta^2||g||^2 per step (the "
            "effective step eta/||w||^2 shrinks by itself), and GD at a large step does not "
            "increase the loss",
            (
                P("grad_ratio_a10", "==", 0.1, rtol=1e-9),
                P("max_orthogonality_over_bound", "<=", 1.0),
                P("max_norm_identity_over_bound", "<=", 1.0),
                P("loss_ratio", "<=", 1.0),
            ),
            "the ratio 1/10 is exact for eps = 0 up to a relative error of a few m u ~ 1e-14 "
            "(1e-9 is a wide margin); w.g and the norm identity are compared with their "
            "first-order round-off bounds (Higham 2002, Sec. 3.1; see the check's docstring), "
            "so 1 is the largest value round-off alone can produce; the loss comparison is "
            "exact (no tolerance)",
        ),
        explain=(
            "The gradient at 10w is {grad_ratio_a10:.12f} times that at w (Ioffe & Szegedy: "
            "1/a); w.g and ||w'||^2 - ||w||^2 - eta^2||g||^2 stay within "
            "{max_orthogonality_over_bound:.2g} and {max_norm_identity_over_bound:.2g} of "
            "their round-off bounds (Arora et al.'s lemma on scale-invariant weights). At eta = "
            "{eta:g} the norm of w "
            "grows and the effective step eta/||w||^2 falls from {effective_lr_initial:.3g} "
            "to {effective_lr_final:.3g}, while the loss goes from {loss_initial:.4f} to "
            "{loss_final:.4f}: large nominal steps are tolerated because they are shrunk."
        ),
    ),
    Claim(
        "dec-05",
        "parameter-decoupling",
        "batch normalization improves the conditioning of the Fisher information matrix by reducing its maximum eigenvalue",
        "Karakida, Akaho & Amari (2019), abstract",
        "numerical",
        "lambda_max(FIM) reduced",
        _check_fim,
        literal=Reading(
            "BN (in the last layer, where Karakida et al. place it) removes the pathological "
            "growth of lambda_max(FIM) with the width M, whatever the sample number: the "
            "growth exponent drops by at least 1/2 at a fixed T and at T = M",
            (
                P("drop_bn_Tfixed", ">=", 0.5),
                P("drop_bn_TpropM", ">=", 0.5),
            ),
            "Karakida et al. contrast lambda_max = O(M) without normalization (exponent 1) "
            "with a 'drastically' smaller order; 1/2 is the midpoint between O(M) and O(1) on "
            "the exponent scale. Exponents (not ratios at one width) are insensitive to the "
            "O(1) rescaling of the output variance by a fixed-gamma BN; 95 % t-interval over "
            "seeds",
        ),
        corrected=Reading(
            "last-layer BN removes the O(M) growth only when the sample number grows with the "
            "width (here T = M); without normalization lambda_max grows with M",
            (P("exponent_none_TpropM", ">=", 0.5), P("drop_bn_TpropM", ">=", 0.5)),
            "same midpoint 1/2 between O(M) and O(1); 95 % t-interval over seeds",
            source="Karakida, Akaho & Amari (2019), abstract: 'if the width and sample number "
            "satisfy a specific condition' (the condition itself could not be located)",
        ),
        explain=(
            "Exact lambda_max of the Fisher information of random ReLU nets [M, M, M, 1], M up "
            "to {M_max:.0f}: without normalization it grows as M^{exponent_none_TpropM:.2f}. "
            "BN of the output unit lowers the exponent by {drop_bn_TpropM:.2f} when the "
            "sample number grows with the width (T = M), but only by {drop_bn_Tfixed:.2f} at "
            "a fixed T = {T_fixed:.0f}; mean subtraction alone behaves the same "
            "({drop_center_TpropM:.2f} / {drop_center_Tfixed:.2f}). This is Karakida et al.'s "
            "'specific condition' on width and sample number in the form the mean-field "
            "argument suggests; their exact condition is not available here. BN in the "
            "hidden layers is not measured."
        ),
    ),
    Claim(
        "dec-06",
        "parameter-decoupling",
        "This decoupling reduces the network's sensitivity to weight initialization, as "
        "initial magnitude variations are normalized away",
        "Ioffe & Szegedy (2015), Sec. 3.3: BN(Wu) = BN((aW)u)",
        "numerical",
        "initial weight scale normalized away (network level)",
        _check_init_sensitivity,
        literal=Reading(
            "at initialization, scaling the first layer's W by 0.1 or 10 leaves the output "
            "and the loss of a network with BN on every hidden layer unchanged up to the "
            "effect of eps (at most 10 delta, delta = max_j |1 - sqrt((sigma_j^2 + eps)/"
            "(sigma_j^2 + eps/a^2))| ~ eps/(2 a^2 sigma_j^2)), while the same network without "
            "BN changes by an order-one amount (output by at least half, loss by at least a "
            "tenth)",
            (
                P("bn_out_over_bound", "<=", 1.0),
                P("bn_loss_over_bound", "<=", 1.0),
                P("plain_out_change", ">=", 0.5),
                P("plain_loss_change", ">=", 0.1),
            ),
            "the bound is derived in the check's docstring: the exact per-unit rescaling "
            "delta of the first BN output, times 10 for the later layers, carried to the loss "
            "by Cauchy-Schwarz; worst case over 5 (quick) or 10 (full) initializations, so no "
            "interval is needed; order one for the network without BN: the output of a "
            "ReLU net with zero biases scales exactly by a (change 0.9 or 9), at least half; the "
            "loss by at least a tenth",
        ),
        explain=(
            "Scaling the first layer's weights by {a_small:g} or {a_large:g} at initialization "
            "changes the output of a ReLU network with BN on every hidden layer by at most "
            "{bn_out_change:.1e} (relative) and its loss by {bn_loss_change:.1e}, "
            "{bn_out_over_bound:.2g} times the bound derived from eps/(a^2 sigma^2) (first-"
            "layer rescaling {delta:.1e}); the same network without BN changes by at least "
            "{plain_out_change:.2f} (output) and {plain_loss_change:.2f} (loss). Worst case "
            "over {seeds:.0f} initializations; the training that follows is not measured."
        ),
    ),
]

#: Where each claim lives: (implemented in, tested in, figure).
PLACES: dict[str, tuple[str, str, str]] = {
    "dec-01": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "dec-02": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "dec-03": ("bn.batch_norm_forward; SymPy (claims.decoupling)", "tests/test_bn.py", "-"),
    "dec-04": ("bn.batch_norm_backward (Arora Lemma 2.4)", "tests/test_bn.py", "-"),
    "dec-05": ("nets.karakida2019.fisher_lambda_max", "tests/nets/test_karakida2019.py", "-"),
    "dec-06": ("nets.mlp.MLP (train-mode BN)", "tests/nets/test_mlp.py", "-"),
}

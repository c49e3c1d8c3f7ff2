"""Small network experiments shared by the deep-network claims (bntheory.nets).

Each is a scaled-down substitute of a published experiment, named in the docstring.
"""

from __future__ import annotations

import numpy as np


def sigmoid_drift(bn: bool, quick: bool, rng: np.random.Generator) -> dict:
    """Substitute of Ioffe & Szegedy (2015), Sec. 4.1, Fig. 1(b,c): 3 sigmoid hidden layers,
    SGD with batch 60; the {15, 50, 85}th percentiles of the input of the sigmoid of one unit
    per hidden layer, over training. Returns, per hidden layer, the drift of the percentiles
    (max over time of |p(t) - p(0)|, divided by the initial 15-85 spread)."""
    from bntheory.nets import MLP, gaussian_mixture, train

    width, steps = (32, 300) if quick else (100, 3000)
    data = gaussian_mixture(600, 300, 20, 10, separation=3.0, rng=rng)
    net = MLP(
        [20, width, width, width, 10], "sigmoid", bn=bn, loss="cross_entropy", sigma_w2=1.0, rng=rng
    )
    res = train(
        net,
        data.X_train,
        data.Y_train,
        lr=0.5,
        steps=steps,
        batch_size=60,
        rng=rng,
        X_test=data.X_test,
        Y_test=data.Y_test,
        eval_every=max(1, steps // 10),
        probe=[(k, 0) for k in range(3)],
    )
    out = {"status": res.status, "final_test_acc": float(res.test_accuracy[-1])}
    for k in range(3):
        a = res.activations[(k, 0)]
        p = np.percentile(a, [15, 50, 85], axis=1)  # (3, n_eval)
        spread = p[2, 0] - p[0, 0]
        out[f"drift_layer{k}"] = float(np.max(np.abs(p - p[:, :1])) / spread)
        # KL divergence of Gaussian fits, first vs last evaluation
        m0, s0, m1, s1 = a[0].mean(), a[0].std(), a[-1].mean(), a[-1].std()
        out[f"kl_layer{k}"] = float(np.log(s1 / s0) + (s0**2 + (m0 - m1) ** 2) / (2 * s1**2) - 0.5)
    return out


def dln_ics(bn: bool, quick: bool, rng: np.random.Generator) -> dict:
    """Santurkar et al. (2018), Def. 2.1 on a deep linear network (their Fig. 3 uses a
    25-layer DLN): ||G - G'|| / ||G|| and cos(G, G') for each layer, where G' is the
    gradient after the earlier layers took their step; averaged over layers and steps."""
    from bntheory.nets import MLP

    depth, width, steps, lr = (8, 16, 10, 0.05) if quick else (25, 32, 50, 0.05)
    n, d = 128, 16
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, 4)) / np.sqrt(d)
    net = MLP([d] + [width] * depth + [4], "linear", bn=bn, loss="mse", rng=rng)
    rel, cos = [], []
    for _ in range(steps):
        theta = net.get_flat()
        _, g = net.loss_and_grad(X, Y)
        new = theta - lr * g
        for k in range(1, net.n_layers):
            sl = net.layer_slices[k]
            prev = slice(0, sl.start)  # layers before k updated, layer k and later not
            th = theta.copy()
            th[prev] = new[prev]
            net.set_flat(th)
            _, g2 = net.loss_and_grad(X, Y)
            G, G2 = g[sl], g2[sl]
            rel.append(np.linalg.norm(G - G2) / np.linalg.norm(G))
            cos.append(G @ G2 / (np.linalg.norm(G) * np.linalg.norm(G2)))
        net.set_flat(new)
    return {"ics_rel": float(np.mean(rel)), "ics_cos": float(np.mean(cos))}


def max_stable_lr(bn: bool, quick: bool, rng: np.random.Generator) -> float:
    """Largest learning rate of a log grid at which full-batch GD on a deep tanh MLP
    (teacher-student regression) does not diverge and reduces the loss (Bjorck et al. 2018;
    Santurkar et al. 2018, Fig. 1 compare learning rates the same way)."""
    from bntheory.nets import MLP, teacher_student, train

    grid = np.logspace(-3, 2, 11) if quick else np.logspace(-3, 2, 21)
    steps = 60 if quick else 300
    data = teacher_student(256, 10, 16, 1, rng=rng)
    seed = int(rng.integers(2**31))
    best = 0.0
    for lr in grid:
        net = MLP([16, 32, 32, 32, 32, 1], "tanh", bn=bn, rng=seed)
        res = train(net, data.X_train, data.Y_train, lr=float(lr), steps=steps)
        if (
            res.status != "diverged"
            and np.isfinite(res.losses[-1])
            and res.losses[-1] < res.losses[0]
        ):
            best = float(lr)
    return best


def loss_variation(bn: bool, quick: bool, rng: np.random.Generator) -> dict:
    """Santurkar et al. (2018), Fig. 4(a,c): along the gradient direction at a training step,
    the range of L(w - s lr grad) over a grid of s, and the effective beta-smoothness
    max ||grad(w - s lr grad) - grad(w)|| / (s lr ||grad||); averaged over early steps."""
    from bntheory.nets import MLP

    depth, width, steps, lr = (10, 16, 5, 0.05) if quick else (25, 32, 20, 0.05)
    n, d = 128, 16
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, 4)) / np.sqrt(d)
    net = MLP([d] + [width] * depth + [4], "linear", bn=bn, loss="mse", rng=rng)
    ss = np.array([0.5, 1.0, 2.0, 4.0])
    ranges, betas = [], []
    for _ in range(steps):
        theta = net.get_flat()
        L0, g = net.loss_and_grad(X, Y)
        Ls, b = [L0], 0.0
        for s in ss:
            Ls_, gs = net.loss_and_grad_flat(theta - s * lr * g, X, Y)
            if not np.isfinite(Ls_):
                Ls_ = np.inf
            Ls.append(Ls_)
            b = max(b, float(np.linalg.norm(gs - g) / (s * lr * np.linalg.norm(g))))
        ranges.append((max(Ls) - min(Ls)) / L0)
        betas.append(b)
        net.set_flat(theta - lr * g)
    return {"loss_range_rel": float(np.mean(ranges)), "beta_smoothness": float(np.mean(betas))}

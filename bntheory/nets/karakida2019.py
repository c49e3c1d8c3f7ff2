"""Closed-form Fisher information of a random ReLU network, with and without batch
normalization in the last layer (Karakida, Akaho & Amari 2019).

The network is ``a(x) = W_{L+1}^T phi(W_L^T ... phi(W_1^T x))`` (no biases, one output
unit, ``W_l ~ N(0, sigma_w2 / fan_in)``), evaluated on a batch of ``T`` inputs. The Fisher
information of a unit-variance Gaussian output model (the Gauss-Newton matrix of the MSE
loss) is ``F = J^T J / T``, ``J`` the ``T x dim`` Jacobian of the outputs with respect to all
weights. Its non-zero spectrum is that of the ``T x T`` Gram matrix ``K = J J^T / T``, which
for a dense network decomposes layer by layer (the neural-tangent-kernel identity):

    (J_a J_a^T)_{ij} = sum_l <h_{l-1,i}, h_{l-1,j}> <delta_{l,i}, delta_{l,j}>,

with ``h_{l-1}`` the input of layer ``l`` and ``delta_l = d a / d(pre-activation of layer l)``.
Batch normalization of the output unit (train mode, batch statistics, fixed ``gamma = 1``,
``beta = 0``) makes every output depend on the whole batch: ``o = B a`` to first order with
``B = (1/s)(I - 1 1^T / T - o o^T / T)``, so ``J = B J_a`` and ``K = B (J_a J_a^T) B / T``;
mean subtraction alone (Karakida et al.'s key ingredient) has ``B = I - 1 1^T / T``.

The closed forms (:func:`fisher_gram` and friends) are an implementation independent of
:class:`bntheory.nets.MLP` (no R-operator, no per-column VJP/JVP); they cost
``O(T M^2 + T^3)`` for width ``M``, so widths of several hundred with ``T = M`` samples take
milliseconds. :func:`fisher_spectrum` measures the same spectrum on any :class:`MLP` through
its exact Jacobian products; ``tests/nets/test_karakida2019.py`` checks the two against each
other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.checks import check_net
from bntheory.nets.mlp import MLP

__all__ = [
    "OUTPUT_NORMS",
    "FisherResult",
    "fisher_gram",
    "fisher_lambda_max",
    "fisher_lambda_max_all",
    "fisher_spectrum",
    "output_norm_jacobian",
    "relu_weights",
]

Array = np.ndarray

#: Treatments of the output unit: none, mean subtraction, full BN (mean and variance).
OUTPUT_NORMS = ("none", "center", "bn")


def relu_weights(
    sizes: Sequence[int], rng: np.random.Generator, sigma_w2: float = 2.0
) -> list[Array]:
    """Random weights ``W_l ~ N(0, sigma_w2 / fan_in)`` of shape ``(fan_in, fan_out)``
    (He initialization for ``sigma_w2 = 2``; Karakida et al.'s random-weight setting).

    Parameters
    ----------
    sizes : sequence of int
        ``(d_in, ..., 1)``: one output unit.
    rng : Generator
    sigma_w2 : float
        Weight variance times fan-in.

    Returns
    -------
    list of ndarray
        ``W_l`` of shape ``(fan_in, fan_out)``.
    """
    from bntheory._checks import as_generator, as_int, as_real

    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
    sizes = [as_int(n, "sizes", minimum=1, maximum=10**5) for n in sizes]
    if len(sizes) < 2 or sizes[-1] != 1:
        raise ValueError(f"sizes must be (d_in, ..., 1) with one output unit, got {sizes}")
    if sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)) > 10**8:
        raise ValueError(f"sizes: more than 10**8 weights, got {sizes}")
    sigma_w2 = as_real(sigma_w2, "sigma_w2", positive=True)
    rng = as_generator(rng)
    return [
        rng.normal(scale=np.sqrt(sigma_w2 / a), size=(a, b))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def _check_inputs(Ws: object, X: object, norm: str = "none", eps: object = 0.0) -> tuple:
    """Validated ``(Ws, X, norm, eps)`` of the closed forms (errors name the argument)."""
    from bntheory._checks import as_matrix, as_real

    if isinstance(Ws, (str, bytes, np.ndarray)) or not isinstance(Ws, Sequence) or not Ws:
        raise TypeError("Ws must be a non-empty list of weight matrices (relu_weights)")
    Ws = [as_matrix(W, f"Ws[{k}]") for k, W in enumerate(Ws)]
    for k in range(1, len(Ws)):
        if Ws[k].shape[0] != Ws[k - 1].shape[1]:
            raise ValueError(
                f"Ws[{k}] must have {Ws[k - 1].shape[1]} rows (fan-out of Ws[{k - 1}]), "
                f"got shape {Ws[k].shape}"
            )
    if Ws[-1].shape[1] != 1:
        raise ValueError(f"Ws[-1] must have one column (one output unit), got {Ws[-1].shape}")
    X = as_matrix(X, "X", (None, Ws[0].shape[0]))
    if not isinstance(norm, str) or norm not in OUTPUT_NORMS:
        raise ValueError(f"norm must be one of {OUTPUT_NORMS}, got {norm!r}")
    eps = as_real(eps, "eps", nonneg=True)
    return Ws, X, norm, eps


def _finite(out: Array, norm: str) -> Array:
    if not np.all(np.isfinite(out)):
        hint = " or the output's batch variance is 0 (pass eps > 0)" if norm == "bn" else ""
        raise ValueError(f"X, Ws: the Fisher Gram matrix overflows float64{hint}")
    return out


def _jacobian_gram(Ws: Sequence[Array], X: Array) -> tuple[Array, Array]:
    """``J_a J_a^T`` (``T x T``) and the pre-normalization outputs ``a`` (length ``T``)."""
    hs, masks = [X], []
    h = X
    for W in Ws[:-1]:
        z = h @ W
        masks.append(z > 0)
        h = np.where(masks[-1], z, 0.0)
        hs.append(h)
    a = (h @ Ws[-1])[:, 0]
    if not np.isfinite(a).all():  # before output_norm_jacobian, which would blame its "a"
        raise ValueError("X, Ws: the network output overflows float64 (rescale X or Ws)")
    T = X.shape[0]
    K = np.zeros((T, T))
    delta = np.ones((T, 1))  # d a / d a for the output layer
    for k in range(len(Ws) - 1, -1, -1):
        K += (hs[k] @ hs[k].T) * (delta @ delta.T)
        if k > 0:
            delta = (delta @ Ws[k].T) * masks[k - 1]
    return K, a


def output_norm_jacobian(a: Array, norm: str, eps: float = 0.0) -> Array:
    """``d o / d a`` (``T x T``) of the output treatment ``norm`` at the batch ``a``.

    ``"none"``: identity; ``"center"``: ``I - 1 1^T / T``; ``"bn"``: train-mode BN with batch
    statistics (biased variance, Ioffe & Szegedy 2015, Alg. 1), ``gamma = 1``:
    ``(1/s)(I - 1 1^T/T - x_hat x_hat^T / T)``, ``s = sqrt(var + eps)``, ``x_hat = (a - mean)/s``.

    Parameters
    ----------
    a : ndarray (T,)
        Pre-normalization outputs.
    norm : {"none", "center", "bn"}
    eps : float
        BN epsilon.

    Returns
    -------
    ndarray (T, T)

    Raises
    ------
    TypeError
        For a non-numeric ``a`` or ``eps``.
    ValueError
        For a non-1-D or non-finite ``a``, an unknown ``norm``, ``eps < 0``, or ``"bn"`` at
        a batch of zero variance with ``eps = 0``.
    """
    from bntheory._checks import as_real, as_vector

    a = as_vector(a, "a")
    if not isinstance(norm, str) or norm not in OUTPUT_NORMS:
        raise ValueError(f"norm must be one of {OUTPUT_NORMS}, got {norm!r}")
    eps = as_real(eps, "eps", nonneg=True)
    if norm == "bn" and not float(np.var(a)) + eps > 0:
        raise ValueError("a has zero batch variance: BN of the output needs eps > 0")
    T = a.shape[0]
    if norm == "none":
        return np.eye(T)
    C = np.eye(T) - 1.0 / T
    if norm == "center":
        return C
    if norm == "bn":
        s = np.sqrt(np.var(a) + eps)
        xh = (a - a.mean()) / s
        return (C - np.outer(xh, xh) / T) / s
    raise ValueError(f"norm must be one of {OUTPUT_NORMS}, got {norm!r}")


def fisher_gram(Ws: Sequence[Array], X: Array, norm: str = "none", eps: float = 0.0) -> Array:
    """``K = J J^T / T``: its eigenvalues are the non-zero eigenvalues of the Fisher
    information ``F = J^T J / T`` of the outputs ``o = norm(a)`` on the batch ``X``.

    Parameters
    ----------
    Ws : sequence of ndarray
        Weights (:func:`relu_weights`).
    X : array_like (T, d_in)
        The batch.
    norm : {"none", "center", "bn"}
        Treatment of the output unit.
    eps : float
        BN epsilon.

    Returns
    -------
    ndarray (T, T)
    """
    Ws, X, norm, eps = _check_inputs(Ws, X, norm, eps)
    with np.errstate(all="ignore"):
        Ka, a = _jacobian_gram(Ws, X)
        B = output_norm_jacobian(a, norm, eps)
        K = B @ Ka @ B.T / X.shape[0]
        return _finite(0.5 * (K + K.T), norm)


def fisher_lambda_max(Ws: Sequence[Array], X: Array, norm: str = "none", eps: float = 0.0) -> float:
    """Largest eigenvalue of the Fisher information (see :func:`fisher_gram`).

    Parameters
    ----------
    Ws : sequence of ndarray
    X : array_like (T, d_in)
    norm : {"none", "center", "bn"}
    eps : float

    Returns
    -------
    float
    """
    return float(np.linalg.eigvalsh(fisher_gram(Ws, X, norm, eps))[-1])


def _project(K: Array, a: Array, norm: str, eps: float) -> Array:
    """``B K B^T`` for the output treatment ``norm`` (:func:`output_norm_jacobian`) in
    ``O(T^2)``: ``B = c (C - v v^T)`` with the centring ``C``, ``v = x_hat / sqrt(T)``
    (``C v = v``), ``c = 1/s`` (``v = 0``, ``c = 1`` for mean subtraction)."""
    if norm == "none":
        return K
    r = K.mean(axis=1, keepdims=True)
    KC = K - r - r.T + K.mean()  # C K C
    if norm == "center":
        return KC
    if norm != "bn":
        raise ValueError(f"norm must be one of {OUTPUT_NORMS}, got {norm!r}")
    s = np.sqrt(np.var(a) + eps)
    v = (a - a.mean()) / s / np.sqrt(a.shape[0])
    Kv = KC @ v
    out = KC - np.outer(Kv, v) - np.outer(v, Kv) + float(v @ Kv) * np.outer(v, v)
    return out / s**2


def _top_eigenvalue(K: Array) -> float:
    import scipy.linalg

    T = K.shape[0]
    K = 0.5 * (K + K.T)
    return float(scipy.linalg.eigh(K, eigvals_only=True, subset_by_index=[T - 1, T - 1])[0])


def fisher_lambda_max_all(Ws: Sequence[Array], X: Array, eps: float = 0.0) -> dict[str, float]:
    """``{norm: lambda_max}`` for every treatment in :data:`OUTPUT_NORMS`, sharing the
    Jacobian Gram matrix of the un-normalized output (projections in ``O(T^2)``).

    Parameters
    ----------
    Ws : sequence of ndarray
    X : array_like (T, d_in)
    eps : float
        BN epsilon.

    Returns
    -------
    dict of str to float
    """
    Ws, X, _, eps = _check_inputs(Ws, X, "none", eps)
    with np.errstate(all="ignore"):
        Ka, a = _jacobian_gram(Ws, X)
        Ka = Ka / X.shape[0]
        projected = {norm: _finite(_project(Ka, a, norm, eps), norm) for norm in OUTPUT_NORMS}
    return {norm: _top_eigenvalue(K) for norm, K in projected.items()}


@dataclass(frozen=True, slots=True)
class FisherResult:
    """Spectrum summary of the Fisher information / Gauss-Newton matrix
    ``F = J^T J / N`` of the train-mode output map (Karakida et al. 2019).

    Attributes
    ----------
    lambda_max : float
        Largest eigenvalue (exact: top eigenvalue of the small Gram matrix ``J J^T / N``).
    trace : float
        ``tr F = ||J||_F^2 / N`` (exact).
    mean_eigenvalue : float
        ``tr F / dim``.
    dim : int
        Number of parameters.
    gram_eigenvalues : ndarray
        All non-zero-candidate eigenvalues (of ``J J^T / N``), descending.
    """

    lambda_max: float
    trace: float
    mean_eigenvalue: float
    dim: int
    gram_eigenvalues: Array = field(repr=False)


def fisher_spectrum(net: MLP, X: Array) -> FisherResult:
    """Exact ``lambda_max`` and trace of ``F = J^T J / N`` (for the MSE loss, the Fisher
    information of a unit-variance Gaussian output model = Gauss-Newton matrix; Karakida,
    Akaho & Amari 2019). ``J`` is the ``(N d_out) x dim`` Jacobian of the train-mode outputs
    (with BN, every output depends on the whole batch). The non-zero spectrum of ``F`` is
    that of the ``(N d_out)``-square Gram matrix ``J J^T / N``, whose column ``r`` is
    ``J (J^T e_r) / N``: one VJP and one JVP per column, memory ``O(dim)``.

    Parameters
    ----------
    net : MLP
        At the parameters to analyse (any loss: only the output map enters).
    X : array_like (N, d_in)
        The batch (train mode, ``N >= 2`` with BN).

    Returns
    -------
    FisherResult
    """
    net = check_net(net)
    X = net.check_batch(X, True)
    n, d_out = X.shape[0], net.sizes[-1]
    fw = net.forward_trace(X, True)
    R = n * d_out
    K = np.zeros((R, R))
    tr = 0.0
    for r in range(R):
        E = np.zeros((n, d_out))
        E.flat[r] = 1.0
        row = net.backward(fw, E)  # J^T e_r
        tr += float(row @ row)
        K[:, r] = net.rop(fw, row, backward=False).output.ravel()
    K = 0.5 * (K + K.T) / n
    ev = np.linalg.eigvalsh(K)[::-1]
    tr /= n
    return FisherResult(float(ev[0]), tr, tr / net.dim, net.dim, ev)

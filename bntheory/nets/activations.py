"""Activation functions and losses of :class:`bntheory.nets.MLP`, with the derivatives the
exact backward pass and R-operator need.

Losses (``N`` samples, outputs ``o_i``, targets ``y_i``): ``"mse"``
``(1/2N) sum ||o_i - y_i||^2``; ``"cross_entropy"`` ``-(1/N) sum_i <y_i, log softmax(o_i)>``
(``y_i`` one-hot or probabilities); ``"linear"`` ``(1/N) sum_i <y_i, o_i>`` (the random linear
loss of Yang et al. 2019, Sec. 2).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "LOSSES", "activation", "loss_and_output_grad", "output_grad_tangent"]

Array = np.ndarray
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")
LOSSES = ("mse", "cross_entropy", "linear")


def _real_array(a: object, name: str) -> Array:
    """``a`` as a real float array (an ndarray of floats passes through untouched)."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a
    if a is None or isinstance(a, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a rectangular real numeric array") from exc
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64)


_NO_RO = object()


def _pair(out: object, Y: object, extra: object = _NO_RO) -> tuple[Array, Array, Array | None]:
    """``out``, ``Y`` (and ``Ro``) as real 2-D arrays of one shape (errors name them)."""
    out, Y = _real_array(out, "out"), _real_array(Y, "Y")
    if out.ndim != 2 or out.shape[0] < 1:
        raise ValueError(f"out must be a 2-D array (N >= 1, d_out), got shape {out.shape}")
    if Y.shape != out.shape:
        raise ValueError(f"Y must have the shape of out {out.shape}, got {Y.shape}")
    if extra is _NO_RO:
        extra = None
    else:
        extra = _real_array(extra, "Ro")
        if extra.shape != out.shape:
            raise ValueError(f"Ro must have the shape of out {out.shape}, got {extra.shape}")
    return out, Y, extra


def activation(name: str, z: Array) -> tuple[Array, Array, Array]:
    """Activation ``phi`` and its first two derivatives, elementwise.

    Parameters
    ----------
    name : {"linear", "relu", "tanh", "sigmoid"}
        The nonlinearity (ReLU's second derivative is 0 almost everywhere).
    z : ndarray
        Pre-activations.

    Returns
    -------
    tuple of ndarray
        ``phi(z), phi'(z), phi''(z)``, each of the shape of ``z``.

    Raises
    ------
    TypeError
        When ``z`` is not a real numeric array.
    ValueError
        For an unknown ``name``.
    """
    z = _real_array(z, "z")
    if name == "linear":
        return z, np.ones_like(z), np.zeros_like(z)
    if name == "relu":
        pos = z > 0
        return np.where(pos, z, 0.0), pos.astype(np.float64), np.zeros_like(z)
    if name == "tanh":
        t = np.tanh(z)
        d1 = 1.0 - t * t
        return t, d1, -2.0 * t * d1
    if name == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic function
        d1 = s * (1.0 - s)
        return s, d1, d1 * (1.0 - 2.0 * s)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def loss_and_output_grad(name: str, out: Array, Y: Array) -> tuple[float, Array]:
    """Loss of the outputs ``out`` against ``Y`` and its gradient with respect to ``out``.

    Parameters
    ----------
    name : {"mse", "cross_entropy", "linear"}
        The loss (see the module docstring).
    out : ndarray (N, d_out)
        Network outputs (logits for cross-entropy).
    Y : ndarray (N, d_out)
        Targets (one-hot or probabilities for cross-entropy; the linear loss's coefficients).

    Returns
    -------
    tuple of (float, ndarray)
        The loss and ``dL/d out`` of shape ``(N, d_out)``; the loss is ``inf`` (or NaN)
        when it overflows float64, which the callers turn into a status or a named error.

    Raises
    ------
    TypeError
        When ``out`` or ``Y`` is not a real numeric array.
    ValueError
        For an unknown loss, a non-2-D ``out`` or a ``Y`` of another shape.
    """
    out, Y, _ = _pair(out, Y)
    n = out.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "mse":
            r = out - Y
            return 0.5 * float(np.sum(r * r)) / n, r / n
        if name == "linear":
            return float(np.sum(Y * out)) / n, Y / n
        if name != "cross_entropy":
            raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
        m = np.max(out, axis=1, keepdims=True)
        e = np.exp(out - m)
        se = np.sum(e, axis=1, keepdims=True)
        logp = out - m - np.log(se)
        p = e / se
        rs = np.sum(Y, axis=1, keepdims=True)
        return -float(np.sum(Y * logp)) / n, (p * rs - Y) / n


def output_grad_tangent(name: str, out: Array, Y: Array, Ro: Array) -> Array:
    """Directional derivative of ``dL/d out`` along the output tangent ``Ro`` (the loss
    Hessian with respect to the outputs applied to ``Ro``; Pearlmutter 1994).

    Parameters
    ----------
    name : {"mse", "cross_entropy", "linear"}
        The loss.
    out : ndarray (N, d_out)
        Network outputs.
    Y : ndarray (N, d_out)
        Targets (only their row sums enter, for cross-entropy).
    Ro : ndarray (N, d_out)
        Tangent of the outputs.

    Returns
    -------
    ndarray (N, d_out)
        ``R{dL/d out}`` (non-finite where it overflows float64).

    Raises
    ------
    TypeError
        When ``out``, ``Y`` or ``Ro`` is not a real numeric array.
    ValueError
        For an unknown loss, a non-2-D ``out``, or ``Y``/``Ro`` of another shape.
    """
    out, Y, Ro = _pair(out, Y, Ro)
    n = out.shape[0]
    if name == "mse":
        return Ro / n
    if name == "linear":
        return np.zeros_like(Ro)
    if name != "cross_entropy":
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.max(out, axis=1, keepdims=True)
        e = np.exp(out - m)
        p = e / np.sum(e, axis=1, keepdims=True)
        pr = p * Ro
        return np.sum(Y, axis=1, keepdims=True) * (pr - p * np.sum(pr, axis=1, keepdims=True)) / n

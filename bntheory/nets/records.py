"""Records of one pass through :class:`bntheory.nets.MLP`.

:class:`ForwardTrace` is what a forward pass computed (the input of the backward pass and of
the R-operator); :class:`NetTrace` is a forward plus backward pass with every per-layer
gradient; :class:`Tangents` is what the R-operator (Pearlmutter 1994) returns;
:class:`ParamSpec` locates one parameter array inside the flat parameter vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = ["ForwardTrace", "NetTrace", "ParamSpec", "Tangents"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter array inside the flat vector.

    Attributes
    ----------
    name : str
        ``"W3"``, ``"b3"``, ``"gamma3"``, ``"beta3"``.
    layer : int
        Dense layer index (0-based; the output layer is ``n_layers - 1``).
    kind : str
        ``"W"``, ``"b"``, ``"gamma"`` or ``"beta"``.
    shape : tuple of int
    slice : slice
        Position in the flat vector.
    """

    name: str
    layer: int
    kind: str
    shape: tuple[int, ...]
    slice: slice


@dataclass(frozen=True, slots=True)
class NetTrace:
    """Everything one train-mode forward and backward pass computed, per layer.

    Lists are indexed by dense layer ``k``; entries that do not exist (e.g. ``x_hat`` of a
    layer without BN) are ``None``.

    Attributes
    ----------
    loss : float
    grad : ndarray
        Flat gradient of the loss.
    inputs : list of ndarray
        ``h_{k-1}``, the input of dense layer ``k``.
    a, z, h : list of ndarray
        Pre-BN pre-activation, post-BN pre-activation (input of ``phi``), output.
    x_hat : list of ndarray or None
        Normalized pre-activation of BN layers.
    inv_std : list of ndarray or None
        ``1 / sqrt(sigma_B^2 + eps)`` per feature of BN layers.
    var : list of ndarray or None
        Biased batch variance of ``a_k`` of BN layers.
    gamma : list of ndarray or None
        Scale of BN layers.
    g_a, g_z, g_h : list of ndarray
        Gradients of the loss with respect to ``a_k``, ``z_k`` and ``h_k``.
    output : ndarray
    """

    loss: float
    grad: Array = field(repr=False)
    inputs: list = field(repr=False)
    a: list = field(repr=False)
    z: list = field(repr=False)
    h: list = field(repr=False)
    x_hat: list = field(repr=False)
    inv_std: list = field(repr=False)
    var: list = field(repr=False)
    gamma: list = field(repr=False)
    g_a: list = field(repr=False)
    g_z: list = field(repr=False)
    g_h: list = field(repr=False)
    output: Array = field(repr=False)


class ForwardTrace:
    """What one forward pass of an :class:`~bntheory.nets.MLP` computed, per dense layer ``k``
    (:meth:`MLP.forward_trace`); the input of :meth:`MLP.backward` and :meth:`MLP.rop`.

    Attributes
    ----------
    inputs : list of ndarray
        ``h_{k-1}``, the input of dense layer ``k`` (``inputs[0]`` is the data).
    a, z, h : list of ndarray
        Pre-BN pre-activation, post-BN pre-activation (input of ``phi``), layer output.
    d1, d2 : list of ndarray or None
        ``phi'(z_k)`` and ``phi''(z_k)`` (times the dropout mask where one was applied);
        ``None`` for the output layer.
    cache : list of BNCache or None
        The BN forward cache of BN layers in train mode (:func:`bntheory.bn.batch_norm_forward`).
    out : ndarray
        Network output ``(N, d_out)``.
    """

    __slots__ = ("inputs", "a", "z", "h", "d1", "d2", "cache", "out")

    def __init__(self) -> None:
        self.inputs, self.a, self.z, self.h, self.d1, self.d2, self.cache = ([] for _ in range(7))
        self.out: Array | None = None


class Tangents(NamedTuple):
    """Result of the R-operator (:meth:`MLP.rop`) along one parameter direction ``v``.

    Attributes
    ----------
    grad : ndarray or None
        ``R{grad L} = H v`` (flat); None when only the forward tangent was asked for.
    output : ndarray
        ``R{o} = J v``, the tangent of the network output.
    g_a, g_z : list of ndarray or None
        ``R{dL/da_k}`` and ``R{dL/dz_k}`` per dense layer (None without the reverse pass).
    """

    grad: Array | None
    output: Array
    g_a: list | None
    g_z: list | None

"""Input validation of :class:`bntheory.nets.MLP`: every bad argument is a ``TypeError`` or
``ValueError`` naming the argument."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bntheory.nets.mlp import MLP

__all__ = [
    "check_architecture",
    "check_batch_size",
    "check_count",
    "check_int",
    "check_lr",
    "check_matrix",
    "check_net",
    "check_training",
    "parse_bn",
]

Array = np.ndarray


def check_int(value: object, name: str, minimum: int) -> int:
    """``value`` as an int ``>= minimum``.

    Parameters
    ----------
    value : object
        The argument to check (a bool is refused).
    name : str
        Argument name used in the error message.
    minimum : int
        Smallest allowed value.

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_matrix(A: object, name: str, cols: int | None = None, rows: int | None = None) -> Array:
    """``A`` as a finite real float64 matrix ``(N >= 1, features)``.

    Parameters
    ----------
    A : array_like
        The argument to check.
    name : str
        Argument name used in the error messages.
    cols, rows : int, optional
        Required number of columns / rows.

    Returns
    -------
    ndarray
        ``A`` as float64 (no copy when it already is).
    """
    if isinstance(A, (str, bytes)) or A is None:
        raise TypeError(f"{name} must be a numeric array, got {type(A).__name__}")
    try:
        arr = np.asarray(A)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a rectangular numeric array") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, features), got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows (one per sample), got shape {arr.shape}")
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must contain at least one sample, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_net(net: object) -> MLP:
    """``net`` if it is an :class:`~bntheory.nets.MLP`.

    Parameters
    ----------
    net : object

    Returns
    -------
    MLP
    """
    from bntheory.nets.mlp import MLP

    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP, got {type(net).__name__}")
    return net


def check_lr(lr: object, name: str = "lr") -> float:
    """``lr`` as a positive finite float.

    Parameters
    ----------
    lr : object
    name : str
        Argument name used in the error messages.

    Returns
    -------
    float
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not lr > 0:
        raise ValueError(f"{name} must be a positive number, got {lr!r}")
    if not np.isfinite(lr):
        raise ValueError(f"{name} must be finite, got {lr!r}")
    return float(lr)


def check_count(value: object, name: str = "steps", minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (a ``ValueError`` for every bad value).

    Parameters
    ----------
    value : object
    name : str
        Argument name used in the error messages.
    minimum : int

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_batch_size(batch_size: int | None, n: int, minimum: int = 2) -> int | None:
    """A mini-batch size in ``[minimum, n]``, or None (full batch).

    Parameters
    ----------
    batch_size : int or None
    n : int
        Number of training samples.
    minimum : int
        Smallest allowed size (2 for train-mode BN).

    Returns
    -------
    int or None
    """
    if batch_size is not None and (
        isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer))
    ):
        raise TypeError(f"batch_size must be an int or None, got {type(batch_size).__name__}")
    if batch_size is not None and not (minimum <= batch_size <= n):
        raise ValueError(f"batch_size must lie in [{minimum}, {n}], got {batch_size}")
    return batch_size


def check_training(
    net: object, X: object, Y: object, lr: object, steps: object
) -> tuple[MLP, np.ndarray, np.ndarray, float, int]:
    """The arguments every SGD driver of :mod:`bntheory.nets` shares, checked in one order.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        Training inputs and targets.
    lr : float
        Learning rate (positive, finite).
    steps : int
        Number of SGD steps (>= 1).

    Returns
    -------
    tuple
        ``(net, X, Y, lr, steps)`` checked and converted.
    """
    net = check_net(net)
    lr = check_lr(lr)
    steps = check_count(steps)
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    return net, X, Y, lr, steps


def check_architecture(
    sizes: Sequence[int],
    activation: str,
    loss: str,
    eps: float,
    sigma_w2: float | None,
    dropout: float,
) -> tuple[int, ...]:
    """Check the scalar arguments of :class:`~bntheory.nets.MLP` (see its docstring).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least 2 entries, each >= 1.
    activation, loss : str
        One of :data:`~bntheory.nets.activations.ACTIVATIONS` / ``LOSSES``.
    eps : float
        BN epsilon (>= 0).
    sigma_w2 : float or None
        Positive weight variance times fan-in.
    dropout : float
        In ``[0, 1)``.

    Returns
    -------
    tuple of int
        The widths.
    """
    from bntheory.nets.activations import ACTIVATIONS, LOSSES

    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError("sizes must be a sequence of ints (d_in, h_1, ..., d_out)")
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least 2 entries (d_in, d_out), got {sizes}")
    out = tuple(check_int(s, "sizes", 1) for s in sizes)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps < 0:
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    if sigma_w2 is not None and (
        isinstance(sigma_w2, bool)
        or not isinstance(sigma_w2, (int, float, np.integer, np.floating))
        or not np.isfinite(sigma_w2)
        or sigma_w2 <= 0
    ):
        raise ValueError(f"sigma_w2 must be a positive number, got {sigma_w2!r}")
    if (
        isinstance(dropout, bool)
        or not isinstance(dropout, (int, float, np.integer, np.floating))
        or not 0.0 <= float(dropout) < 1.0
    ):
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    return out


def parse_bn(bn: bool | str | Iterable[int] | None, L: int) -> frozenset[int]:
    """The dense layers that get BN (the ``bn`` argument of :class:`~bntheory.nets.MLP`).

    Parameters
    ----------
    bn : bool, "all", "none", "last", "output" or iterable of int
        ``True`` / ``"all"``: every hidden layer; ``"last"``: the last hidden layer;
        ``"output"``: the output layer; an iterable: those 0-based layer indices.
    L : int
        Number of dense layers.

    Returns
    -------
    frozenset of int
    """
    if bn is True or isinstance(bn, np.bool_) and bool(bn):
        return frozenset(range(L - 1))
    if bn is False or bn is None or isinstance(bn, np.bool_):
        return frozenset()
    if isinstance(bn, str):
        if bn == "all":
            return frozenset(range(L - 1))
        if bn == "none":
            return frozenset()
        if bn == "last":
            return frozenset({L - 2}) if L >= 2 else frozenset()
        if bn == "output":
            return frozenset({L - 1})
        raise ValueError(
            f"bn must be a bool, 'all', 'none', 'last', 'output' or layer indices, got {bn!r}"
        )
    try:
        items = list(bn)  # an ndarray of indices is an iterable too
    except TypeError as exc:
        raise TypeError("bn must be a bool, a string or an iterable of layer indices") from exc
    if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) for i in items):
        raise TypeError(f"bn layer indices must be ints, got {items!r}")
    idx = frozenset(int(i) for i in items)
    if any(i < 0 or i >= L for i in idx):
        raise ValueError(f"bn layer indices must lie in [0, {L - 1}], got {sorted(idx)}")
    return idx


def __getattr__(name: str):
    """``InputChecks`` moved to :mod:`bntheory.nets.input_checks`; re-exported lazily (that
    module imports this one)."""
    if name == "InputChecks":
        from bntheory.nets.input_checks import InputChecks

        return InputChecks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

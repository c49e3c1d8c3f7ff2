"""Which kernels compute training-mode BN on ``(N, C)`` input: ``"numpy"`` (the default,
:mod:`bntheory.bn._dense`) or ``"numba"`` (:mod:`bntheory.bn._numba`, fused compiled loops,
the optional extra ``fast``).

The choice is per thread and per :mod:`contextvars` context (:func:`use_kernels` is a
context manager), so a library that selects the compiled kernels cannot change the numbers
of code that did not ask for them. The two kernels agree to round-off, not bit for bit:
the claim ledger (:func:`bntheory.claims.runner.run_claim`) always runs on ``"numpy"``.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType

from . import _dense

__all__ = ["KERNELS", "current_kernels", "use_kernels"]

#: The kernel sets :func:`use_kernels` accepts.
KERNELS = ("numpy", "numba")

_CURRENT: ContextVar[str] = ContextVar("bntheory_bn_kernels", default="numpy")


_LOADED: dict[str, ModuleType] = {}


def _numba_module() -> ModuleType:
    """:mod:`bntheory.bn._numba`, or a ModuleNotFoundError naming the extra to install."""
    mod = _LOADED.get("numba")
    if mod is not None:
        return mod
    try:
        mod = _LOADED["numba"] = importlib.import_module("bntheory.bn._numba")
        return mod
    except ModuleNotFoundError as exc:
        if exc.name != "numba":
            raise
        raise ModuleNotFoundError(
            "use_kernels('numba') needs numba, the optional extra 'fast': "
            "pip install 'bntheory[fast]'",
            name="numba",
        ) from exc


def current_kernels() -> str:
    """The name of the kernels in use in this context.

    Returns
    -------
    str
        ``"numpy"`` or ``"numba"``.
    """
    return _CURRENT.get()


def module() -> ModuleType:
    """The kernel module in use.

    Returns
    -------
    module
        :mod:`bntheory.bn._dense` or :mod:`bntheory.bn._numba` (functions ``forward`` and
        ``backward`` with one interface).
    """
    return _dense if _CURRENT.get() == "numpy" else _numba_module()


@contextlib.contextmanager
def use_kernels(name: str) -> Iterator[str]:
    """Compute training-mode BN on ``(N, C)`` input with the named kernels inside a
    ``with`` block.

    ``"numba"`` runs each of the forward pass, the backward reductions and the input
    gradient as one compiled loop nest over the array (three reads and two writes of the
    array forward, four reads and one write backward; statistics accumulated in float64):
    faster than the NumPy kernels, equal to them to round-off but not bit for bit. The
    first call per dtype compiles (about a second; cached on disk afterwards). Input with
    spatial axes and inference mode are unaffected. The choice holds in this thread and
    context only: new threads and worker processes (sweeps, ``bntheory verify --jobs``)
    start with ``"numpy"``.

    Parameters
    ----------
    name : {"numpy", "numba"}
        The kernels.

    Yields
    ------
    str
        ``name``.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`KERNELS`.
    ModuleNotFoundError
        ``"numba"`` without numba installed (the extra ``fast``).

    Examples
    --------
    >>> import numpy as np
    >>> from bntheory.bn import batch_norm_forward, use_kernels
    >>> with use_kernels("numpy"):
    ...     y, cache = batch_norm_forward(np.arange(6.0).reshape(3, 2), 1.0, 0.0)
    """
    if not isinstance(name, str) or name not in KERNELS:
        raise ValueError(f"name must be one of {KERNELS}, got {name!r}")
    if name == "numba":
        _numba_module()  # fail here, by name, rather than at the first forward pass
    token = _CURRENT.set(name)
    try:
        yield name
    finally:
        _CURRENT.reset(token)

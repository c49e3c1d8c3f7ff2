"""The canonical JSON codec behind sweep cell files and cache keys (re-exported by
:mod:`bntheory._io`): sorted keys, no spaces, numpy arrays stored as tagged lists that come
back with their dtype and shape; float64 survives the round trip exactly (shortest
round-trip ``repr``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["MAX_DEPTH", "canonical_json", "decode", "dumps_canonical", "encode"]


def encode(obj: Any, where: str = "value") -> Any:
    """Turn ``obj`` into plain JSON types; numpy arrays become tagged dicts.

    Parameters
    ----------
    obj : Any
        Dicts (string keys), lists, tuples, strings, numbers, booleans, None, numpy scalars
        and numpy arrays (bool, integer, float or complex).
    where : str
        What ``obj`` is, for error messages.

    Returns
    -------
    Any
        The encoded value (tuples become lists, numpy scalars Python numbers).

    Raises
    ------
    TypeError
        A value that cannot be encoded, naming ``where``.
    ValueError
        A container that contains itself, or nesting deeper than :data:`MAX_DEPTH`.
    """
    return _encode(obj, where, [])


#: Deepest nesting of dicts and lists :func:`encode` accepts (far below Python's recursion
#: limit, far above any parameter set or result a sweep stores).
MAX_DEPTH = 100


def _encode(obj: Any, where: str, stack: list[int]) -> Any:
    """:func:`encode`, with ``stack`` the ids of the containers being encoded."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        # bool already handled; np.float64 is a float subclass -> plain float
        return float(obj) if isinstance(obj, float) else int(obj)
    if isinstance(obj, np.generic):
        if isinstance(obj, np.complexfloating):
            return _encode(np.asarray(obj), where, stack)
        return _encode(obj.item(), where, stack)
    if isinstance(obj, np.ndarray):
        kind = obj.dtype.kind
        if kind in "biuf":
            return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str, "shape": list(obj.shape)}
        if kind == "c":
            return {
                "__ndarray__": obj.real.tolist(),
                "imag": obj.imag.tolist(),
                "dtype": obj.dtype.str,
                "shape": list(obj.shape),
            }
        raise TypeError(f"{where}: numpy array of dtype {obj.dtype} is not supported")
    if isinstance(obj, (Mapping, list, tuple)):
        if id(obj) in stack:
            raise ValueError(f"{where}: a {type(obj).__name__} that contains itself")
        if len(stack) >= MAX_DEPTH:
            raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        stack.append(id(obj))
        try:
            return _encode_container(obj, where, stack)
        finally:
            stack.pop()
    raise TypeError(
        f"{where}: value of type {type(obj).__name__} is not JSON-able "
        "(use numbers, strings, booleans, None, lists, dicts or numpy arrays)"
    )


def _encode_container(obj: Any, where: str, stack: list[int]) -> Any:
    """The members of a dict, list or tuple, encoded."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict keys must be strings, got {k!r}")
            if k == "__ndarray__":
                raise TypeError(f"{where}: dict key '__ndarray__' is reserved")
            out[k] = _encode(v, where, stack)
        return out
    return [_encode(v, where, stack) for v in obj]


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`: tagged dicts become numpy arrays of their dtype and shape.

    Parameters
    ----------
    obj : Any
        Parsed JSON.

    Returns
    -------
    Any
        The value with arrays restored.

    Raises
    ------
    ValueError
        A malformed tagged array (missing ``dtype``/``shape``/``imag``, a dtype
        :func:`encode` never writes, data that does not fit the shape); the message names
        ``obj``.
    """
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return _decode_array(obj)
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def _decode_array(obj: dict) -> np.ndarray:
    """The array of one tagged dict (see :func:`decode`)."""
    try:
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "biufc":
            raise ValueError(f"dtype {dtype} is not one encode writes")
        shape = tuple(int(n) for n in obj["shape"])
        if any(n < 0 for n in shape):
            raise ValueError(f"negative shape {shape}")
        if dtype.kind == "c":
            re_ = np.asarray(obj["__ndarray__"], dtype=np.float64)
            im_ = np.asarray(obj["imag"], dtype=np.float64)
            if re_.shape != im_.shape:
                raise ValueError(f"real part of shape {re_.shape}, imag of shape {im_.shape}")
            # set the parts: ``re + 1j * im`` makes the real part NaN where im is infinite
            arr = np.empty(re_.shape, dtype=dtype)
            arr.real, arr.imag = re_, im_
            return arr.reshape(shape)
        return np.asarray(obj["__ndarray__"], dtype=dtype).reshape(shape)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"obj: malformed tagged array ({detail})") from None


def dumps_canonical(obj: Any) -> str:
    """Canonical JSON text of already encoded data: sorted keys, no spaces, ASCII.

    Parameters
    ----------
    obj : Any
        Plain JSON data (the output of :func:`encode`).

    Returns
    -------
    str
        The text; NaN and infinities are written as ``NaN``/``Infinity``.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def canonical_json(obj: Any, where: str = "params") -> str:
    """``dumps_canonical(encode(obj, where))``: the text hashed into cache keys.

    Parameters
    ----------
    obj : Any
        A value :func:`encode` accepts.
    where : str
        What ``obj`` is, for error messages.

    Returns
    -------
    str
        The canonical JSON text.
    """
    return dumps_canonical(encode(obj, where))

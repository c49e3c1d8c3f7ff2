"""Plain-JSON conversion of experiment data (NaN/inf stored as ``null``).

A diverged value is stored as ``None`` so that no data file holds a NaN;
:mod:`bntheory.experiments._common` re-exports these helpers for the scripts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["all_finite", "finite_or_none", "to_jsonable"]


def finite_or_none(x: float) -> float | None:
    """``float(x)`` if finite, else ``None`` (how a diverged value is stored).

    Parameters
    ----------
    x : float
        A number.

    Returns
    -------
    float or None
        ``float(x)``, None when it is NaN or infinite.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"x must be a real number, got {type(x).__name__}")
    try:
        x = float(x)
    except OverflowError:  # an int beyond the float range is not finite
        return None
    except (TypeError, ValueError):
        raise TypeError(f"x must be a real number, got {type(x).__name__}") from None
    return x if math.isfinite(x) else None


def to_jsonable(obj: Any) -> Any:
    """Recursively convert numpy containers/scalars to plain JSON; non-finite floats -> None.

    Parameters
    ----------
    obj : Any
        Dicts, lists, tuples, numpy arrays and scalars, numbers, strings, booleans, None.

    Returns
    -------
    Any
        Plain JSON data (arrays become nested lists).
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return finite_or_none(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"data: cannot store a value of type {type(obj).__name__} in JSON")


def all_finite(obj: Any) -> bool:
    """True iff no float in the nested structure is NaN or infinite (None is allowed).

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, arrays and numbers.

    Returns
    -------
    bool
        Whether every float is finite.
    """
    if isinstance(obj, dict):
        return all(all_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(all_finite(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind not in "fc" or bool(np.all(np.isfinite(obj)))
    if isinstance(obj, (float, np.floating)):
        return math.isfinite(float(obj))
    return True

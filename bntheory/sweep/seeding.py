"""Cache keys and random streams of sweep cells, keyed by the cell's parameters.

Each (cell, seed index) gets ``SeedSequence(root_entropy, spawn_key=(h, seed_index))`` where
``h`` is a 128-bit integer taken from the SHA-256 of the canonical JSON of the cell's
parameters: the construction behind ``SeedSequence.spawn`` (children differ only in
``spawn_key``), keyed by the cell's parameters instead of its position in the grid, so a
cell's stream does not depend on the executor, the number of workers, the order in which
cells finish, nor on the other cells of the grid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bntheory._checks import as_int
from bntheory._io import canonical_json

__all__ = ["MAX_SEEDS", "cell_key", "cell_seed", "fn_name", "spawn_seeds"]

#: Largest number of seeds :func:`spawn_seeds` spawns (a bigger request is a typo that would
#: otherwise hang in ``SeedSequence.spawn``).
MAX_SEEDS = 100_000


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``seed`` (``SeedSequence(seed).spawn``).

    The one implementation behind the claims' :func:`bntheory.claims.seeding.subseeds` and
    the experiments' seeds, so that a claim and the experiment behind its figure draw the
    same networks.

    Parameters
    ----------
    seed : int
        Parent seed (>= 0).
    n : int
        Number of child seeds, ``0..MAX_SEEDS``.

    Returns
    -------
    list of int
        The child seeds (the first 32-bit word of each child's state).

    Raises
    ------
    TypeError, ValueError
        ``seed`` not a non-negative int, ``n`` not an int in ``[0, MAX_SEEDS]``.
    """
    seed = as_int(seed, "seed", minimum=0)
    n = as_int(n, "n", minimum=0, maximum=MAX_SEEDS)
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(n)]


def fn_name(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a callable (the default name of a sweep's function).

    Parameters
    ----------
    fn : callable
        The function.

    Returns
    -------
    str
        Its qualified name.
    """
    module = getattr(fn, "__module__", None) or type(fn).__module__
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{qualname}"


def cell_key(fn_name: str, params: Mapping[str, Any], seed_index: int, root_entropy: int) -> str:
    """Cache key of one sweep cell.

    The SHA-256 (hex) of the canonical JSON (sorted keys, no spaces, arrays tagged) of
    ``{"fn": fn_name, "params": params, "seed_index": ..., "root_seed": ...}``. The order
    of the keys in ``params`` does not matter; ``1`` and ``1.0`` give different keys (the
    function may treat them differently), a tuple and a list with the same items the same.

    Parameters
    ----------
    fn_name : str
        Name of the cell function.
    params : mapping
        The cell's parameters.
    seed_index : int
        Seed index.
    root_entropy : int
        Entropy of the root seed sequence.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    TypeError
        When ``params`` is not a mapping, an index is not an int, or a parameter value is
        not JSON-able.
    ValueError
        For a negative ``seed_index`` or ``root_entropy``.
    """
    params, seed_index, root_entropy = _checked(params, seed_index, root_entropy)
    payload = {
        "fn": str(fn_name),
        "params": params,
        "seed_index": seed_index,
        "root_seed": root_entropy,
    }
    return hashlib.sha256(canonical_json(payload, "params").encode()).hexdigest()


def _checked(params: object, seed_index: object, root_entropy: object) -> tuple[dict, int, int]:
    """``(dict(params), seed_index, root_entropy)`` checked (errors name the argument)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of parameter names to values, got {params!r}")
    seed_index = as_int(seed_index, "seed_index", minimum=0)
    return dict(params), seed_index, as_int(root_entropy, "root_entropy", minimum=0)


def _params_word(params: Mapping[str, Any]) -> int:
    digest = hashlib.sha256(canonical_json(dict(params), "params").encode()).digest()
    return int.from_bytes(digest[:16], "little")


def cell_seed(
    params: Mapping[str, Any], seed_index: int, root_entropy: int
) -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` of one (cell, seed index).

    ``SeedSequence(root_entropy, spawn_key=(h, seed_index))`` with ``h`` the first 128
    bits of the SHA-256 of the canonical JSON of ``params``; the streams of different
    cells and seed indices are independent in the sense of ``SeedSequence.spawn``
    (O'Neill's SeedSequence design, as documented by NumPy).

    Parameters
    ----------
    params : mapping
        The cell's parameters.
    seed_index : int
        Seed index.
    root_entropy : int
        Entropy of the root seed sequence.

    Returns
    -------
    numpy.random.SeedSequence
        The cell's seed sequence.

    Raises
    ------
    TypeError
        When ``params`` is not a mapping, an index is not an int, or a parameter value is
        not JSON-able.
    ValueError
        For a negative ``seed_index`` or ``root_entropy``.
    """
    params, seed_index, root_entropy = _checked(params, seed_index, root_entropy)
    return np.random.SeedSequence(root_entropy, spawn_key=(_params_word(params), seed_index))

"""Entry points: :func:`verify_backward` (one batch size) and :func:`verify_backward_range`."""

from __future__ import annotations

from bntheory._checks import as_int
from bntheory.symbolic.backward import concrete_items
from bntheory.symbolic.general import general_items
from bntheory.symbolic.report import SymbolicReport

__all__ = ["verify_backward", "verify_backward_range"]


def _check_m(m: object, name: str = "m") -> int:
    return as_int(m, name, minimum=2)


def verify_backward(m: int = 4, *, general: bool = True) -> SymbolicReport:
    """Prove the BN backward-pass statements for batch size ``m`` (and, by default, for all m).

    Items (Ioffe & Szegedy 2015; Santurkar et al. 2018): the paper's chain-rule equations
    against ``sympy.diff``; the simplified closed form; the vanishing second term of
    ``dl/dmu``; ``sum dl/dx = 0`` and orthogonality to ``xhat``; the Jacobian as
    ``gamma/sigma`` times a rank ``m-2`` orthogonal projection (``eps = 0``) and what it is
    for ``eps > 0``; Theorem 4.1 (equality at ``eps = 0``; three readings for ``eps > 0``);
    scale invariance; the unbiased ``m/(m-1)`` running variance; conv = dense with
    ``m' = m p q``.

    Parameters
    ----------
    m : int
        Batch size, at least 2.
    general : bool
        Also include the proofs for symbolic ``m`` (``proven_for == "all m"``).

    Returns
    -------
    SymbolicReport
        ``.holds``, ``.items``, ``.to_markdown()``, ``.to_dict()``.
    """
    m = _check_m(m)
    items = concrete_items(m) + (general_items() if general else [])
    return SymbolicReport(items=tuple(items), ms=(m,))


def verify_backward_range(
    m_max: int = 8, *, m_min: int = 2, general: bool = True
) -> SymbolicReport:
    """:func:`verify_backward` for every ``m`` in ``m_min..m_max``, general proofs once.

    Parameters
    ----------
    m_max : int
        Largest batch size (at least ``m_min``).
    m_min : int
        Smallest batch size, at least 2.
    general : bool
        Also include the proofs for symbolic ``m``.

    Returns
    -------
    SymbolicReport
        All items, ``ms = (m_min, ..., m_max)``.
    """
    m_min, m_max = _check_m(m_min, "m_min"), _check_m(m_max, "m_max")
    if m_max < m_min:
        raise ValueError(f"m_max must be >= m_min={m_min}, got {m_max}")
    items = [it for m in range(m_min, m_max + 1) for it in concrete_items(m)]
    if general:
        items += general_items()
    return SymbolicReport(items=tuple(items), ms=tuple(range(m_min, m_max + 1)))

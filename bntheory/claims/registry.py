"""The registry of claims: every section module's ``CLAIMS`` list, in article order.

Section modules import only :mod:`bntheory.claims.core` and NumPy at import time; the
modules they check (``bntheory.bn``, ``bntheory.symbolic``, ``bntheory.problems``, ...)
are imported inside the check functions, so the ledger imports even when one of them is
missing, and the missing import becomes that claim's ``error`` status.
"""

from __future__ import annotations

from functools import lru_cache

from bntheory.claims.core import SECTIONS, Claim

__all__ = ["all_claims", "get_claim", "sections"]

_MODULES = (
    "headline",
    "practice",
    "forward",
    "backward",
    "inference",
    "ics",
    "landscape",
    "shift",
    "gradflow",
    "decoupling",
    "least_squares",
    "halfspace",
)


@lru_cache(maxsize=1)
def _load() -> tuple[Claim, ...]:
    import importlib

    claims: list[Claim] = []
    for name in _MODULES:
        mod = importlib.import_module(f"bntheory.claims.{name}")
        claims.extend(mod.CLAIMS)
    ids = [c.id for c in claims]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise RuntimeError(f"duplicate claim ids: {sorted(dup)}")
    order = {s: k for k, s in enumerate(SECTIONS)}

    def key(c: Claim):
        prefix, _, num = c.id.rpartition("-")
        return (order[c.section], prefix, int(num) if num.isdigit() else 0)

    return tuple(sorted(claims, key=key))


def all_claims() -> list[Claim]:
    """Every registered claim, grouped by section in article order.

    The section modules are imported on the first call (then cached); a duplicated claim
    id among them raises ``RuntimeError`` naming it.

    Returns
    -------
    list of Claim
        Sorted by section (the order of :data:`bntheory.claims.core.SECTIONS`), then by id
        prefix and number (``"ics-02"`` before ``"ics-10"``). A fresh list on each call.
    """
    return list(_load())


def get_claim(claim_id: str) -> Claim:
    """The registered claim with id ``claim_id``.

    Parameters
    ----------
    claim_id : str
        A claim id as shown in the reports, e.g. ``"bwd-01"``.

    Returns
    -------
    Claim

    Raises
    ------
    KeyError
        Naming ``claim_id`` when no registered claim has it.
    """
    for c in _load():
        if c.id == claim_id:
            return c
    raise KeyError(f"claim_id {claim_id!r} is not registered")


def sections() -> dict[str, str]:
    """The ledger's sections, in article order.

    Returns
    -------
    dict of str to str
        Section slug (the ``Claim.section`` value, e.g. ``"backpropagation"``) -> section title; a
        copy of :data:`bntheory.claims.core.SECTIONS`.
    """
    return dict(SECTIONS)

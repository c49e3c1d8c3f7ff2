"""SymPy proofs for the claims ledger.

Measurement helpers (for converted section modules; they return values, never verdicts):

* :func:`chain_rule_proofs` proves the reference article's backward-pass equations (as
  transcribed in :mod:`bntheory.symbolic.backward`, looked up at call time so a test can
  swap one for a broken version) against ``sympy.diff`` of Algorithm 1 for given ``m``;
* :func:`general_proofs` runs the proofs for symbolic ``m`` of
  :func:`bntheory.symbolic.general.general_items` and returns the named ones.

:func:`report` and :func:`items` look items of :func:`bntheory.symbolic.verify_backward`
up by name; the report is computed once per process (``m = 4`` plus the proofs for
symbolic ``m``) and cached. A name that the report does not contain raises ``KeyError``
(the claim then shows ``error``, not a silent pass).
"""

from __future__ import annotations

from functools import lru_cache

#: Batch size of the concrete proofs.
M = 4


def chain_rule_proofs(targets: tuple[str, ...], ms: tuple[int, ...]) -> dict[str, bool]:
    """Prove the article's equation for each of ``targets`` (``"dxhat"``, ``"dvar"``,
    ``"dmean"``, ``"dx"``, ``"dgamma"``, ``"dbeta"``) for every batch size in ``ms``.

    The equations are ``bntheory.symbolic.backward.paper_<target>`` (Ioffe & Szegedy 2015,
    Sec. 3, as printed), compared with ``sympy.diff`` of the forward pass by
    :func:`bntheory.symbolic.backward.check_formula` (exact, symbolic ``eps >= 0``).

    Returns
    -------
    dict
        ``{"proven_<target>": bool}`` (True iff proven for every ``m``) and
        ``{"proofs_total": n, "proofs_holding": k}``.
    """
    from bntheory.symbolic import backward

    out: dict[str, bool] = {}
    n = k = 0
    for target in targets:
        ok = True
        for m in ms:
            res = backward.check_formula(m, target, getattr(backward, f"paper_{target}"))
            n += 1
            k += bool(res.holds)
            ok = ok and bool(res.holds)
        out[f"proven_{target}"] = ok
    out["proofs_total"] = float(n)  # type: ignore[assignment]
    out["proofs_holding"] = float(k)  # type: ignore[assignment]
    return out


def general_proofs(names: tuple[str, ...]) -> dict[str, bool]:
    """``{name: holds}`` of the proofs for symbolic ``m`` named ``names``
    (:func:`bntheory.symbolic.general.general_items`); ``KeyError`` naming missing ones."""
    from bntheory.symbolic.general import general_items

    found = {it.name: bool(it.holds) for it in general_items() if it.name in names}
    missing = sorted(set(names) - set(found))
    if missing:
        raise KeyError(f"names not in general_items: {missing}")
    return found


@lru_cache(maxsize=2)
def report(m: int = M):
    """``verify_backward(m)`` (cached)."""
    from bntheory.symbolic import verify_backward

    return verify_backward(m=m)


def items(names: tuple[str, ...], m: int = M) -> list:
    """Every report item whose name is in ``names`` (an identity may be proven both for
    ``m = 4`` and for all ``m``); ``KeyError`` naming the missing ones."""
    rep = report(m)
    found = [it for it in rep.items if it.name in names]
    missing = sorted(set(names) - {it.name for it in found})
    if missing:
        raise KeyError(f"names not in verify_backward report: {missing}")
    return found

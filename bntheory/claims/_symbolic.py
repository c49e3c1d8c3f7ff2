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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bntheory.symbolic.report import IdentityResult, SymbolicReport

#: Batch size of the concrete proofs.
M = 4


def chain_rule_proofs(targets: tuple[str, ...], ms: tuple[int, ...]) -> dict[str, bool | float]:
    """Prove the article's equation for each of ``targets`` for every batch size in ``ms``.

    The equations are ``bntheory.symbolic.backward.paper_<target>`` (Ioffe & Szegedy 2015,
    "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
    Shift", Sec. 3, the chain-rule equations as printed), compared with ``sympy.diff`` of
    the forward pass (Algorithm 1) by :func:`bntheory.symbolic.backward.check_formula`
    (exact, symbolic ``eps >= 0``). ``paper_<target>`` is looked up at call time, so a test
    can swap in a broken equation.

    Parameters
    ----------
    targets : tuple of str
        Derivatives to prove, each one of ``"dxhat"``, ``"dvar"``, ``"dmean"``, ``"dx"``,
        ``"dgamma"``, ``"dbeta"``.
    ms : tuple of int
        Concrete batch sizes (each at least 2); one SymPy proof per target and size.

    Returns
    -------
    dict
        ``{"proven_<target>": bool}`` (True iff proven for every ``m``), and
        ``"proofs_total"`` / ``"proofs_holding"``: the number of proofs run and of those
        that hold, as floats (ledger numbers).

    Raises
    ------
    ValueError
        For a target outside the list above (from ``check_formula``).
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
    out["proofs_total"] = float(n)
    out["proofs_holding"] = float(k)
    return out


def general_proofs(names: tuple[str, ...]) -> dict[str, bool]:
    """Results of the named proofs for a symbolic batch size ``m``.

    The proofs are those of :func:`bntheory.symbolic.general.general_items` (the closed
    form of ``dl/dx`` of Ioffe & Szegedy 2015, Sec. 3, its projection structure and the
    other identities stated for every ``m``), all run on each call.

    Parameters
    ----------
    names : tuple of str
        Item names of ``general_items()`` (e.g. ``"closed_form_dx"``).

    Returns
    -------
    dict of str to bool
        ``{name: holds}`` for every name in ``names``.

    Raises
    ------
    KeyError
        Naming the entries of ``names`` that ``general_items()`` does not contain.
    """
    from bntheory.symbolic.general import general_items

    found = {it.name: bool(it.holds) for it in general_items() if it.name in names}
    missing = sorted(set(names) - set(found))
    if missing:
        raise KeyError(f"names not in general_items: {missing}")
    return found


@lru_cache(maxsize=2)
def report(m: int = M) -> SymbolicReport:
    """The SymPy report of the BN backward pass, computed once per process and ``m``.

    Parameters
    ----------
    m : int
        Batch size of the concrete proofs (default :data:`M` = 4); the proofs for
        symbolic ``m`` are included as well.

    Returns
    -------
    SymbolicReport
        ``bntheory.symbolic.verify_backward(m=m)``, cached (up to two sizes).
    """
    from bntheory.symbolic import verify_backward

    return verify_backward(m=m)


def items(names: tuple[str, ...], m: int = M) -> list[IdentityResult]:
    """Every item of the cached :func:`report` whose name is in ``names``.

    Parameters
    ----------
    names : tuple of str
        Item names of ``verify_backward``'s report.
    m : int
        Batch size of the concrete proofs (default :data:`M`).

    Returns
    -------
    list of IdentityResult
        In report order; a name may appear twice (an identity proven both for the concrete
        ``m`` and for all ``m``).

    Raises
    ------
    KeyError
        Naming the entries of ``names`` the report does not contain.
    """
    rep = report(m)
    found = [it for it in rep.items if it.name in names]
    missing = sorted(set(names) - {it.name for it in found})
    if missing:
        raise KeyError(f"names not in verify_backward report: {missing}")
    return found

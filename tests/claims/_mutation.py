"""Harness of the ledger's mutation tests (the rule's item 4: a check must be able to fail).

Each ``tests/claims/test_<section>.py`` defines ``MUTATIONS = {claim_id: mutate}`` where
``mutate(monkeypatch)`` swaps one ingredient of the check for a deliberately broken one (a
BN backward with a wrong sign, a solver with a halved step, a net without BN labelled as
with BN, a source fact with the other data set, ...), and parametrizes
``test_mutation_flips_verdict`` over :func:`mutation_params`. ``tests/claims/test_rule.py``
checks that every measured or source claim of the registry has one.
"""

from __future__ import annotations

import pytest

from bntheory.claims import get_claim, run_claim


def mutation_params(mutations: dict, slow: set[str] | frozenset[str] = frozenset()) -> list:
    """``pytest.param`` per claim id, marked ``slow`` for the ids in ``slow``."""
    return [
        pytest.param(cid, marks=[pytest.mark.slow] if cid in slow else [], id=cid)
        for cid in mutations
    ]


def assert_flips(claim_id: str, mutate, monkeypatch, *, quick: bool = True, seed: int = 0):
    """Run ``claim_id`` as is, then with ``mutate(monkeypatch)`` applied; the verdict must
    change (and both runs must finish without error). Returns both results."""
    claim = get_claim(claim_id)
    base = run_claim(claim, quick=quick, seed=seed)
    assert base.status == "ok", base.error
    with monkeypatch.context() as mp:
        mutate(mp)
        mutated = run_claim(claim, quick=quick, seed=seed)
    assert mutated.status == "ok", mutated.error
    assert mutated.verdict is not base.verdict, (
        f"{claim_id}: verdict {base.verdict.value} unchanged by the mutation "
        f"({mutated.outcome.measured if mutated.outcome else ''})"
    )
    return base, mutated

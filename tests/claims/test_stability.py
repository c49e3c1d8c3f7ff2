"""The rule's item 5: verdicts are the same for master seeds 0-4 and in quick and full mode
(or the claim's ``quick_note`` says what differs).

The default suite checks the fast claims (their whole quick run is cheap); the slow test
checks the whole ledger (``pytest -m slow``; five quick ledgers and five full ones, about
an hour on 2 cores).
"""

from __future__ import annotations

import pytest

from bntheory.claims import all_claims, run_claims

SEEDS = (0, 1, 2, 3, 4)

#: Sections whose quick checks are cheap (symbolic/numerical BN identities and source
#: claims): seeds 0-4 in the default suite.
FAST_SECTIONS = ("headline", "forward-pass", "inference", "parameter-decoupling")


def _verdicts(claims, *, quick, seed, jobs=1):
    return {
        r.claim.id: r.verdict.value for r in run_claims(claims, quick=quick, seed=seed, jobs=jobs)
    }


def _assert_same(per_seed: dict[int, dict[str, str]]):
    """Same verdict on every seed; a claim with a declared ``stability_note`` may only move
    between ``inconclusive`` and one decided verdict."""
    declared = {c.id for c in all_claims() if c.stability_note}
    ids = per_seed[next(iter(per_seed))]
    flips = {}
    for cid in ids:
        seen = {per_seed[s][cid] for s in per_seed}
        if len(seen) == 1:
            continue
        if cid in declared and len(seen - {"inconclusive"}) == 1:
            continue
        flips[cid] = [per_seed[s][cid] for s in per_seed]
    assert not flips, f"verdicts that change with the master seed: {flips}"


def test_declared_instability_is_rare():
    declared = [c.id for c in all_claims() if c.stability_note]
    assert len(declared) <= 4, declared


def test_fast_claims_stable_across_seeds():
    claims = [c for c in all_claims() if c.section in FAST_SECTIONS and c.method != "experiment"]
    _assert_same({s: _verdicts(claims, quick=True, seed=s) for s in SEEDS})


@pytest.mark.slow
def test_whole_ledger_stable_across_seeds_and_modes():
    claims = all_claims()
    per_seed = {s: _verdicts(claims, quick=True, seed=s, jobs=2) for s in SEEDS}
    _assert_same(per_seed)
    fulls = {s: _verdicts(claims, quick=False, seed=s, jobs=2) for s in SEEDS}
    _assert_same(fulls)
    full = fulls[0]
    marked = {c.id for c in claims if c.quick_note or c.stability_note}
    differ = {
        cid: (per_seed[0][cid], full[cid])
        for cid in full
        if full[cid] != per_seed[0][cid] and cid not in marked
    }
    assert not differ, f"quick vs full verdicts differ without a quick_note: {differ}"

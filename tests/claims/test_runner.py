"""Runner, registry and report of the claims ledger."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bntheory.claims import SECTIONS, Claim, Outcome, Verdict, all_claims, run_claims, select
from bntheory.claims.report import format_table, report_dict, summary_counts, to_markdown
from bntheory.claims.runner import claim_rng, run_claim

MIN_CLAIMS = 40


def test_registry_ids_unique_and_well_formed():
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c.quote and c.source and c.stated
        assert c.id.split("-")[-1].isdigit()


def test_registry_size_and_sections():
    claims = all_claims()
    assert len(claims) >= MIN_CLAIMS
    assert {c.section for c in claims} == set(SECTIONS)


def _ok(quick, rng):
    return Outcome(Verdict.HOLDS, "drew", {"u": rng.uniform()})


def _boom(quick, rng):
    raise ZeroDivisionError("boom")


def _wrong_type(quick, rng):
    return "holds"


def test_errors_become_status():
    r = run_claim(Claim("t-01", "forward-pass", "q", "s", "numerical", "v", _boom))
    assert (
        r.status == "error" and r.verdict is Verdict.ERROR and "ZeroDivisionError: boom" in r.error
    )
    r = run_claim(Claim("t-02", "forward-pass", "q", "s", "numerical", "v", _wrong_type))
    assert r.status == "error" and "expected Outcome" in r.error


def test_seed_per_claim_is_deterministic_and_distinct():
    a = claim_rng("fwd-01", 0).uniform()
    assert a == claim_rng("fwd-01", 0).uniform()
    assert a != claim_rng("fwd-02", 0).uniform()
    assert a != claim_rng("fwd-01", 1).uniform()
    with pytest.raises(ValueError, match="seed"):
        claim_rng("fwd-01", -1)


def test_run_claims_order_and_jobs_validation():
    cs = [Claim(f"t-0{i}", "forward-pass", "q", "s", "numerical", "v", _ok) for i in range(3)]
    res = run_claims(cs, seed=3)
    assert [r.claim.id for r in res] == ["t-00", "t-01", "t-02"]
    assert res[0].outcome.numbers["u"] == pytest.approx(claim_rng("t-00", 3).uniform(), rel=1e-9)
    with pytest.raises(ValueError, match="jobs"):
        run_claims(cs, jobs=0)


def test_select():
    claims = all_claims()
    fwd = select(claims, ["forward-pass"])
    assert fwd and all(c.section == "forward-pass" for c in fwd)
    assert [c.id for c in select(claims, ["fwd-01,bwd-01"])] == ["fwd-01", "bwd-01"]
    with pytest.raises(ValueError, match="only"):
        select(claims, ["no-such-section"])


def test_report_json_deterministic_and_markdown():
    cs = [
        Claim("t-01", "forward-pass", "q", "s", "numerical", "v", _ok),
        Claim("t-02", "inference", "q|pipe", "s", "numerical", "v", _boom),
    ]
    r1 = run_claims(cs, seed=1)
    r2 = run_claims(cs, seed=1)
    d1 = report_dict(r1, seed=1, quick=True, timings=False)
    d2 = report_dict(r2, seed=1, quick=True, timings=False)
    assert json.dumps(d1) == json.dumps(d2)
    assert "timings" in report_dict(r1, seed=1, quick=True)
    assert summary_counts(r1)["holds"] == 1 and summary_counts(r1)["error"] == 1
    table = format_table(r1)
    assert "t-01" in table and "ERROR" in table
    md = to_markdown(r1, seed=1, quick=True)
    assert "q\\|pipe" in md and "**error**" in md


def test_parallel_equals_serial():
    cs = [c for c in all_claims() if c.section == "forward-pass"][:3]
    serial = report_dict(run_claims(cs, seed=5), seed=5, quick=True, timings=False)
    par = report_dict(run_claims(cs, seed=5, jobs=2), seed=5, quick=True, timings=False)
    assert serial == par
    assert np.all([c["status"] == "ok" for c in serial["claims"]])

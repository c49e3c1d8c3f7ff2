"""Runner, registry and report of the claims ledger."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bntheory.claims import (
    SECTIONS,
    Claim,
    Measurement,
    P,
    Reading,
    Verdict,
    all_claims,
    run_claims,
    select,
)
from bntheory.claims.report import format_table, report_dict, summary_counts, to_markdown
from bntheory.claims.runner import claim_rng, run_claim

#: A literal reading for the runner's test claims: their measurement says ``ok``.
_LIT = Reading("the fixture ran", (P("ok", "is", True),), "test fixture")


def _claim(cid: str, section: str, check, quote: str = "q") -> Claim:
    return Claim(cid, section, quote, "s", "numerical", "v", check, literal=_LIT)


#: Claims per section of the reference article, counted by hand from the article (a claim
#: added or removed must update this table, so the ledger cannot shrink silently).
EXPECTED_PER_SECTION = {
    "headline": 9,
    "internal-covariate-shift": 10,
    "forward-pass": 6,
    "backpropagation": 5,
    "inference": 9,
    "loss-landscape": 8,
    "covariate-shift-quantification": 8,
    "gradient-flow": 7,
    "parameter-decoupling": 6,
    "least-squares": 9,
    "halfspace": 8,
}


def test_registry_ids_unique_and_well_formed():
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c.quote and c.source and c.stated
        assert c.id.split("-")[-1].isdigit()


def test_registry_size_and_sections():
    claims = all_claims()
    per_section = {s: sum(c.section == s for c in claims) for s in SECTIONS}
    assert per_section == EXPECTED_PER_SECTION
    assert len(claims) == sum(EXPECTED_PER_SECTION.values())
    # grouped by section in article order
    order = list(SECTIONS)
    idx = [order.index(c.section) for c in claims]
    assert idx == sorted(idx)


@pytest.mark.slow  # the SymPy report takes ~4-10 s
def test_symbolic_claims_use_verify_backward_items():
    from bntheory.claims import _symbolic

    for c in all_claims():
        if c.method == "symbolic":
            r = run_claim(c, quick=True, seed=0)
            assert r.status == "ok", (c.id, r.error)
    with pytest.raises(KeyError, match="no_such_identity"):
        _symbolic.items(("no_such_identity",))


def test_measurement_seeds_shared_by_key_inside_a_run():
    from bntheory.claims.core import N_SEEDS, measurement_seeds

    seen = {}

    def grab(key):
        def check(quick, rng):
            seen[key, quick] = measurement_seeds("shared", quick, rng)
            return Measurement("-", {"ok": True})

        return check

    run_claim(_claim("t-01", "forward-pass", grab("a")), seed=4)
    run_claim(_claim("t-02", "forward-pass", grab("b")), seed=4)
    run_claim(_claim("t-03", "forward-pass", grab("c")), seed=5)
    run_claim(_claim("t-04", "forward-pass", grab("d")), quick=False, seed=4)
    assert seen["a", True] == seen["b", True]  # same key, same master seed: shared
    assert seen["a", True] != seen["c", True]  # other master seed
    assert len(seen["a", True]) == N_SEEDS[True] and len(seen["d", False]) == N_SEEDS[False]
    assert len(set(seen["a", True])) == N_SEEDS[True]
    # outside a run the seeds come from the generator
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert measurement_seeds("k", True, g1) == measurement_seeds("k", True, g2)


def _ok(quick, rng):
    return Measurement("drew", {"ok": True, "u": rng.uniform()})


def _boom(quick, rng):
    raise ZeroDivisionError("boom")


def _wrong_type(quick, rng):
    return "holds"


def test_errors_become_status():
    r = run_claim(_claim("t-01", "forward-pass", _boom))
    assert (
        r.status == "error" and r.verdict is Verdict.ERROR and "ZeroDivisionError: boom" in r.error
    )
    r = run_claim(_claim("t-02", "forward-pass", _wrong_type))
    assert r.status == "error" and "expected Measurement" in r.error


def test_seed_per_claim_is_deterministic_and_distinct():
    a = claim_rng("fwd-01", 0).uniform()
    assert a == claim_rng("fwd-01", 0).uniform()
    assert a != claim_rng("fwd-02", 0).uniform()
    assert a != claim_rng("fwd-01", 1).uniform()
    with pytest.raises(ValueError, match="seed"):
        claim_rng("fwd-01", -1)


def test_run_claims_order_and_jobs_validation():
    cs = [_claim(f"t-0{i}", "forward-pass", _ok) for i in range(3)]
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
        _claim("t-01", "forward-pass", _ok),
        _claim("t-02", "inference", _boom, quote="q|pipe"),
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


DETERMINISM_IDS = ["ls-03", "hs-05", "cs-06"]


@pytest.mark.slow  # full claims / a process pool and a Dask cluster
def test_ledger_json_deterministic_for_same_seed():
    """The same seed gives identical JSON (timings dropped) in two runs; covers solver-based
    and multi-seed network claims (whose per-process caches are cleared in between)."""
    from bntheory.claims import _netexp

    cs = select(all_claims(), DETERMINISM_IDS)
    a = report_dict(run_claims(cs, quick=True, seed=7), seed=7, quick=True, timings=False)
    _netexp.dln_ics.cache_clear()
    b = report_dict(run_claims(cs, quick=True, seed=7), seed=7, quick=True, timings=False)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert all(c["status"] == "ok" for c in a["claims"]), [c["error"] for c in a["claims"]]


_CALLS_FILE = "calls.txt"


def _shared_check(quick, rng):
    from bntheory.claims.core import _RUN_CACHE, shared_result

    def fn():
        with open(f"{_RUN_CACHE.get()}/{_CALLS_FILE}", "a") as fh:
            fh.write("x")
        return {"v": 1.5, "w": float("inf")}

    out = shared_result("kind", 3, fn)
    calls = open(f"{_RUN_CACHE.get()}/{_CALLS_FILE}").read()
    return Measurement("-", {"ok": True, "v": out["v"], "calls": float(len(calls))})


def test_shared_result_computed_once_per_run():
    from bntheory.claims.core import shared_result

    cs = [_claim(f"t-0{i}", "forward-pass", _shared_check) for i in (1, 2)]
    res = run_claims(cs, seed=0)
    assert [r.outcome.numbers["calls"] for r in res] == [1.0, 1.0]
    assert res[1].outcome.numbers["v"] == 1.5
    assert shared_result("kind", 3, lambda: {"a": 2.0}) == {"a": 2.0}  # outside a run


def _worker_state(quick, rng):
    import os
    import signal

    from threadpoolctl import threadpool_info

    threads = {int(d["num_threads"]) for d in threadpool_info()}
    return Measurement(
        "-",
        {
            "ok": True,
            "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
            "max_threads": float(max(threads, default=1)),
            "pid": float(os.getpid()),
        },
    )


def test_parallel_workers_follow_the_process_policy(monkeypatch):
    """jobs > 1 runs on the project's process pool: workers (not this process) with BLAS
    pinned to one thread and SIGINT left to the parent."""
    import os

    pytest.importorskip("threadpoolctl")
    from bntheory.claims import registry, runner

    cs = tuple(_claim(f"t-0{i}", "forward-pass", _worker_state) for i in range(4))
    monkeypatch.setattr(registry, "_load", lambda: cs)  # inherited by forked workers
    if runner.START_METHOD != "fork":
        pytest.skip("spawned workers do not see the monkeypatched registry")
    res = run_claims(list(cs), seed=0, jobs=2)
    nums = [r.outcome.numbers for r in res]
    assert all(r.status == "ok" for r in res), [r.error for r in res]
    assert all(n["sigint_ignored"] and n["max_threads"] == 1.0 for n in nums)
    assert all(n["pid"] != os.getpid() for n in nums)

"""paper_notes.md is generated from the committed full ledger; its prose is the claims'
``explain`` templates, whose literal text types no measured number."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from bntheory.claims import all_claims
from bntheory.claims.notes import DEFAULT_LEDGER, render_explain, render_notes

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / DEFAULT_LEDGER
NOTES = ROOT / "paper_notes.md"

#: A decimal number or a percentage typed in prose, except section/equation references
#: ("Sec. 4.2", "Eq. 3.1", "Table 2.1") and version numbers.
_TYPED = re.compile(
    r"(?<!Sec\. )(?<!Eq\. )(?<!Table )(?<!Fig\. )(?<!Thm\. )(?<!Theorem )(?<!Lemma )"
    r"(?<!Def\. )(?<!Alg\. )(?<!Prop\. )(?<!v)\b\d+\.\d+\b|\b\d+(\.\d+)? ?%"
)


def _literal_text(template: str) -> str:
    return "".join(lit for lit, *_ in string.Formatter().parse(template))


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_explain_types_no_measured_number(claim):
    text = _literal_text(claim.explain)
    hits = [m.group(0) for m in _TYPED.finditer(text)]
    assert not hits, f"{claim.id}: numbers typed in the explain text: {hits}"


def test_every_claim_has_places_and_prose():
    """Each claim sits in its own section module's PLACES, and every claim that is run
    has a literal reading and an explain template that names measured values."""
    import importlib

    from bntheory.claims.notes import places
    from bntheory.claims.registry import _MODULES

    owner = {}
    for name in _MODULES:
        mod = importlib.import_module(f"bntheory.claims.{name}")
        for c in mod.CLAIMS:
            owner[c.id] = mod
    for c in all_claims():
        assert c.id in owner[c.id].PLACES, c.id
        if c.evidence != "none":
            assert c.literal is not None and c.explain, c.id
            fields = {f for _, f, _, _ in string.Formatter().parse(c.explain) if f}
            assert fields, f"{c.id}: explain names no measured value"
    assert set(places()) == {c.id for c in all_claims()}


def test_typed_number_detector_can_fail():
    assert _TYPED.search("the gap falls to 0.75 of the bound")
    assert _TYPED.search("reaches 83 % accuracy")
    assert not _TYPED.search("see Sec. 4.2 and Alg. 1")


def test_notes_are_the_rendering_of_the_committed_ledger():
    assert LEDGER.exists(), f"{DEFAULT_LEDGER} (the full ledger the notes render) is missing"
    report = json.loads(LEDGER.read_text(encoding="utf-8"))
    assert NOTES.read_text(encoding="utf-8") == render_notes(report, ledger=DEFAULT_LEDGER), (
        "paper_notes.md is stale: run `python -m bntheory.claims.notes`"
    )
    # the ledger covers the registry (no claim silently missing from the notes)
    assert [c["id"] for c in report["claims"]] == [c.id for c in all_claims()]
    assert not report["quick"] and report["seed"] == 0


def test_render_explain_formats_missing_values_and_names_unknown_fields():
    assert render_explain("{x:.2f} and {y:.3g}", {"x": 1.234, "y": None}) == "1.23 and n/a"
    with pytest.raises(KeyError, match="'z'"):
        render_explain("{z}", {"x": 1.0})

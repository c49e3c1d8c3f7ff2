"""The ledger's rule, enforced on the source (core.py docstring): no verdict is typed,
forced or rewritten in a section module; every claim declares its readings; every measured
or source claim has a mutation test that flips its verdict."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import tests.claims as tests_claims
from bntheory.claims import all_claims
from bntheory.claims.registry import _MODULES

#: Patterns that type, force or rewrite a verdict.
FORBIDDEN = [
    r"\bVerdict\b",
    r"\bdecide_\w+\(",
    r"\bcorrected\s*=\s*True\b",
    r"\bwith_correction\(",
    r"\bOutcome\(",
    r"\bnot_testable\(",
    r"\bworst\(",
]

CONVERTED = list(_MODULES)


@pytest.mark.parametrize("module", CONVERTED)
def test_section_module_never_decides(module):
    src = Path(importlib.import_module(f"bntheory.claims.{module}").__file__).read_text()
    for pat in FORBIDDEN:
        hits = [ln for ln in src.splitlines() if re.search(pat, ln)]
        assert not hits, f"claims/{module}.py matches {pat!r}: {hits[:3]}"


def _converted_claims():
    return all_claims()


def test_every_claim_declares_its_readings():
    for c in _converted_claims():
        if c.evidence == "none":
            assert c.untestable and c.literal is None, c.id
        else:
            assert c.literal is not None, f"{c.id} has no literal reading"


def _mutations() -> dict:
    out = {}
    for info in pkgutil.iter_modules(tests_claims.__path__):
        if info.name.startswith("test_"):
            mod = importlib.import_module(f"tests.claims.{info.name}")
            out.update(getattr(mod, "MUTATIONS", {}))
    return out


def test_every_measured_or_source_claim_has_a_mutation_test():
    muts = _mutations()
    missing = [c.id for c in _converted_claims() if c.evidence != "none" and c.id not in muts]
    assert not missing, f"claims without a mutation test: {missing}"

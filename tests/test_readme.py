"""The README's Python snippets run (so the examples never rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs(code, capsys):
    if "import torch" in code:
        pytest.importorskip("torch", reason="the torch extra is not installed")
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})


def test_readme_counts_are_those_of_the_committed_ledger():
    import json

    ledger = README.parent / "figures" / "data" / "ledger.json"
    assert ledger.exists(), "figures/data/ledger.json (the full ledger) is missing"
    report = json.loads(ledger.read_text(encoding="utf-8"))
    m = re.search(r"<!-- ledger-counts -->(.*?)<!-- /ledger-counts -->", README.read_text(), re.S)
    assert m, "README lost its ledger-counts marker"
    text = " ".join(m.group(1).split())
    s = report["summary"]
    want = f"{len(report['claims'])} claims: " + ", ".join(f"{n} {k}" for k, n in s.items() if n)
    assert want in text, (want, text)

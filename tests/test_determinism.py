"""Determinism: ``bntheory verify --quick --json`` twice with the same seed gives the same
JSON apart from timing fields (tests/test_cli.py covers two single claims; here two whole
sections, and every quick claim in a slow run)."""

from __future__ import annotations

import json

import pytest

from bntheory import cli


def _report(path, argv) -> dict:
    assert cli.main(["verify", "--quick", "--seed", "11", "--json", str(path), *argv]) == 0
    d = json.loads(path.read_text())
    d.pop("timings", None)
    return d


def _same_twice(tmp_path, argv) -> None:
    a = _report(tmp_path / "a.json", argv)
    b = _report(tmp_path / "b.json", argv)
    assert a["claims"], "no claim ran"
    assert a == b


def test_verify_two_sections_deterministic(tmp_path, capsys):
    # least-squares runs the solvers and rate fits; parameter-decoupling the nets (~3 s each)
    _same_twice(tmp_path, ["--only", "least-squares,parameter-decoupling"])


@pytest.mark.slow
def test_verify_all_quick_deterministic(tmp_path, capsys):
    _same_twice(tmp_path, [])

"""The deep-network experiment scripts (figures 8-12) run in --quick mode, write strict-JSON
data + PDF + PNG, pass their own checks, replot from the saved data, and their checks can
fail on tampered data.

Each script runs once per test session (module-scoped cache), single-threaded BLAS inside
the scripts; the whole file stays under ~40 s on a loaded 2-core machine.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
from pathlib import Path

import pytest

from .conftest import (
    assert_replot_without_recompute,
    iter_floats,
    reject_constant,
)

ROOT = Path(__file__).resolve().parents[2]
EXP = ROOT / "experiments"
NET_NAMES = ["landscape", "yang_rate", "ioffe_fig1", "gradient_depth", "fisher_width"]

pytest.importorskip("sklearn")  # the digits data set (optional extra bntheory[data])


def _data(out: Path, name: str) -> dict:
    return json.loads((out / "data" / f"{name}.json").read_text(), parse_constant=reject_constant)


def test_run_all_discovers_the_network_experiments():
    spec = importlib.util.spec_from_file_location("bntheory_run_all", EXP / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    assert set(NET_NAMES) <= set(run_all.experiment_names())


@pytest.mark.parametrize("name", NET_NAMES)
def test_quick_run_writes_checked_data_and_figures(name, quick_runs):
    mod, out, code = quick_runs(name)
    for attr in ("main", "compute", "plot", "CHECK"):
        assert callable(getattr(mod, attr, None)), f"{name} lacks {attr}"
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    assert pdf.is_file() and png.is_file()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = _data(out, name)  # strict JSON: NaN / Infinity tokens rejected
    assert all(math.isfinite(x) for x in iter_floats(data))
    assert data["meta"]["quick"] is True and data["meta"]["name"] == name
    ok, msg = mod.CHECK(data)
    assert ok, f"{name}: {msg}"
    assert code == 0


@pytest.mark.parametrize("name", NET_NAMES)
def test_replot_redraws_without_recomputing(name, quick_runs, monkeypatch):
    mod, out, _ = quick_runs(name)
    assert_replot_without_recompute(mod, out, name, monkeypatch)


# ---------------------------------------------------------------- the checks are not vacuous
def _tamper_landscape(d):
    d["crosscheck_max_rel_diff"] = 1e-3  # own loop disagrees with santurkar_landscape


def _tamper_yang(d):
    row = next(r for r in d["results"]["relu"] if r["B"] >= 8)
    row["measured"] *= 1.2  # 20 % above Theorem 8
    row["rel_gap"] = row["measured"] / row["formula"] - 1


def _tamper_ioffe(d):
    P = d["nets"]["bn"]["percentiles"]
    P[-1][0], P[-1][2] = P[-1][2], P[-1][0]  # 15th above 85th


def _tamper_gradient(d):
    r = next(r for r in d["runs"] if r["activation"] == "relu" and r["variant"] == "BN")
    r["rate_init"] = 1.0  # no growth: contradicts Theorem 8


def _tamper_fisher(d):
    d["width"]["none"]["lambda_max"][0][0] = 2 * d["width"]["none"]["trace"][0][0]  # > tr F


@pytest.mark.parametrize(
    "name, tamper",
    [
        ("landscape", _tamper_landscape),
        ("yang_rate", _tamper_yang),
        ("ioffe_fig1", _tamper_ioffe),
        ("gradient_depth", _tamper_gradient),
        ("fisher_width", _tamper_fisher),
    ],
)
def test_check_fails_on_tampered_data(name, tamper, quick_runs):
    mod, out, _ = quick_runs(name)
    data = copy.deepcopy(_data(out, name))
    assert mod.CHECK(data)[0]
    tamper(data)
    ok, _ = mod.CHECK(data)
    assert not ok

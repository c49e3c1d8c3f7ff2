"""Every experiment script runs in --quick mode, writes data + PDF + PNG, passes its own check, replots.

The experiment scripts are loaded from ``experiments/`` by path (they are scripts, not a
package). Each script runs once per test session (module-scoped cache); the whole file
stays under ~40 s on a loaded 2-core machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from .conftest import (
    assert_replot_without_recompute,
    iter_floats,
    load_experiment,
    reject_constant,
)

ROOT = Path(__file__).resolve().parents[2]
EXP = ROOT / "experiments"
NAMES = sorted(
    p.stem for p in EXP.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all"
)
#: The convex + symbolic figures (issue 5, figures 1-7 and 13): run in the default suite.
CONVEX = (
    "symbolic_report",
    "ols_gd_vs_bngd",
    "lr_insensitivity",
    "kappa_star",
    "spectra",
    "gdnp_halfspace",
    "heterogeneous_features",
    "scaling_law",
)
# Other experiment scripts (deep-network figures) run here too, marked slow to keep the
# default suite fast; their contract (main/compute/plot/CHECK) is checked by default.
QUICK_PARAMS = [n if n in CONVEX else pytest.param(n, marks=pytest.mark.slow) for n in NAMES]


def test_every_figure_of_the_issue_has_a_script():
    assert set(CONVEX) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_script_has_the_experiment_contract(name):
    mod = load_experiment(name)
    for attr in ("main", "compute", "plot", "CHECK", "NAME"):
        assert hasattr(mod, attr), f"{name} lacks {attr}"
    assert mod.NAME == name
    assert (mod.__doc__ or "").strip(), (
        f"{name} has no docstring (its first line is the CLI description)"
    )


@pytest.mark.parametrize("name", QUICK_PARAMS)
def test_quick_run_writes_checked_data_and_figures(name, quick_runs):
    mod, out, code = quick_runs(name)
    for attr in ("main", "compute", "plot", "CHECK"):
        assert callable(getattr(mod, attr, None)), f"{name} lacks {attr}"
    data_file = out / "data" / f"{name}.json"
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    assert data_file.is_file() and pdf.is_file() and png.is_file()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # strict JSON: NaN / Infinity tokens are rejected, and no float is non-finite
    data = json.loads(data_file.read_text(), parse_constant=reject_constant)
    assert all(math.isfinite(x) for x in iter_floats(data))
    assert data["meta"]["quick"] is True and data["meta"]["name"] == name
    ok, msg = mod.CHECK(data)
    assert ok, f"{name}: {msg}"
    assert code == 0


# Every run already plots from the JSON it has just written (``_common.run`` reloads it), so
# replotting is exercised for all; the --replot path itself is shared code, tested on two.
@pytest.mark.parametrize("name", ["lr_insensitivity", "scaling_law"])
def test_replot_redraws_from_saved_data(name, quick_runs, monkeypatch):
    mod, out, _ = quick_runs(name)
    assert_replot_without_recompute(mod, out, name, monkeypatch)


def test_replot_without_data_names_the_missing_file(tmp_path):
    mod = load_experiment("spectra")
    with pytest.raises(FileNotFoundError, match="spectra"):
        mod.main(["--replot", "--out", str(tmp_path)])


def test_spectra_check_can_fail(quick_runs):
    """The checks are not vacuous: data violating the interlacing makes the check fail."""
    mod, out, _ = quick_runs("spectra")
    data = json.loads((out / "data" / "spectra.json").read_text())
    inst = data["instances"][0]
    inst["eig_H_star"][0] = 0.5 * inst["eig_H"][0]  # below lambda_1(H): violates interlacing
    ok, _ = mod.CHECK(data)
    assert not ok


def test_to_jsonable_turns_non_finite_into_none():
    from bntheory.experiments import _common as C

    out = C.to_jsonable(
        {"a": np.array([1.0, np.nan, np.inf]), "b": np.float64(-np.inf), "c": (1, True)}
    )
    assert out == {"a": [1.0, None, None], "b": None, "c": [1, True]}
    with pytest.raises(TypeError, match="data"):
        C.to_jsonable({"x": object()})
    assert not C.all_finite({"x": [1.0, float("nan")]}) and C.all_finite({"x": [1.0, None]})


def _square(x, rng):
    return {"y": x * x, "r": float(rng.random())}


def test_sweep_helper_caches_cells_under_the_run_output(tmp_path):
    from bntheory.experiments import _common as C

    C.RUN_CONTEXT.update(out=tmp_path, executor="serial")
    try:
        first = C.sweep("demo", _square, {"x": [1, 2, 3]})
        again = C.sweep("demo", _square, {"x": [1, 2, 3]})
    finally:
        C.RUN_CONTEXT.update(out=None, executor="serial")
    assert [r["value"]["y"] for r in first.records] == [1, 4, 9]
    assert again.n_cached == 3 and again.n_computed == 0
    assert [r["value"]["r"] for r in again.records] == [r["value"]["r"] for r in first.records]
    assert (tmp_path / "data" / "demo_cells").is_dir()

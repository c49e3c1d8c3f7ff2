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


def test_replot_without_data_names_the_missing_file(tmp_path, capsys):
    """--replot without data: one error line naming the missing file and a non-zero exit
    (or, from an older driver, a FileNotFoundError naming it); no figure is written."""
    mod = load_experiment("spectra")
    try:
        code = mod.main(["--replot", "--out", str(tmp_path)])
    except FileNotFoundError as exc:
        assert "spectra" in str(exc)
    else:
        assert code not in (0, None)
        err = capsys.readouterr().err
        assert "spectra.json" in err and "Traceback" not in err
    assert not (tmp_path / "spectra.png").exists()


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


# ---------------------------------------------------------------- reviewer's figure findings
def _drawn_figure(name, data, monkeypatch, tmp_path):
    """Run ``plot`` of experiment ``name`` on ``data`` and return the matplotlib figure."""
    from bntheory.experiments import _common as C

    mod = load_experiment(name)
    captured = {}

    def keep(fig, stem, out_dir="figures"):
        captured["fig"] = fig
        return None, None

    monkeypatch.setattr(C, "save_figure", keep)
    with C.style():
        mod.plot(data, tmp_path)
    return captured["fig"]


def _texts(fig):
    """Every visible string of a figure: legends, titles, axis labels, annotations."""
    out = []
    for leg in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in leg.get_texts()]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
    return [t for t in out if t]


def _raw_tex_outside_math(text: str) -> bool:
    """True if ``^{``, ``_{`` or a spelled-out ``mu``/``kappa`` appears outside ``$...$``."""
    import re

    plain = "".join(text.split("$")[0::2])  # the parts outside math mode
    return bool(re.search(r"\^\{|_\{|\bmu\b|\bkappa\b", plain))


@pytest.mark.parametrize(
    "name", ["ols_gd_vs_bngd", "lr_insensitivity", "gdnp_halfspace", "scaling_law"]
)
def test_figure_text_uses_mathtext(name, quick_runs, monkeypatch, tmp_path):
    _, out, _ = quick_runs(name)
    data = json.loads((out / "data" / f"{name}.json").read_text())
    fig = _drawn_figure(name, data, monkeypatch, tmp_path)
    bad = [t for t in _texts(fig) if _raw_tex_outside_math(t)]
    assert not bad, f"{name}: raw exponent / Greek name outside mathtext: {bad}"


def test_ols_prediction_is_drawn_on_top_of_the_measured_curves(quick_runs, monkeypatch, tmp_path):
    _, out, _ = quick_runs("ols_gd_vs_bngd")
    data = json.loads((out / "data" / "ols_gd_vs_bngd.json").read_text())
    fig = _drawn_figure("ols_gd_vs_bngd", data, monkeypatch, tmp_path)
    n_settled = 0
    for ax, panel in zip(fig.axes, data["panels"], strict=True):
        lines = ax.get_lines()
        pred = [ln for ln in lines if "prediction" in ln.get_label()]
        assert len(pred) == sum(r["settled"] for r in panel["bngd"])
        n_settled += len(pred)
        measured = [ln for ln in lines if ln.get_label().startswith("BNGD, ")]
        assert measured
        top_measured = max(ln.get_zorder() for ln in measured)
        for ln in pred:
            assert ln.get_zorder() > top_measured
            # a colour none of the measured curves uses, so it stays visible on top of them
            assert all(ln.get_color() != m.get_color() for m in measured)
    assert n_settled >= 1


def test_lr_insensitivity_marks_clipped_points_and_keeps_the_legend_off_the_axes(
    monkeypatch, tmp_path
):
    from bntheory.experiments import lr_insensitivity as M

    data = json.loads((ROOT / "figures" / "data" / "lr_insensitivity.json").read_text())
    g0 = data["gap0"]
    # independent count of the gaps below 1e-17 of the initial gap, per method
    below = {
        k: [r["lr"] for r in data[k] if r["gap_final"] is not None and r["gap_final"] < 1e-17 * g0]
        for k in ("gd", "bngd")
    }
    assert below["bngd"], "the committed full run has BNGD gaps at round-off level"
    fig = _drawn_figure("lr_insensitivity", data, monkeypatch, tmp_path)
    (ax,) = fig.axes
    assert ax.get_legend() is None and fig.legends, "legend must sit outside the axes"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for key, lab in (("gd", "GD"), ("bngd", "BNGD")):
        marks = [
            ln
            for ln in ax.get_lines()
            if ln.get_label().startswith(lab) and "below 1e-17" in ln.get_label()
        ]
        if below[key]:
            (mark,) = marks
            assert sorted(mark.get_xdata()) == sorted(below[key])
            assert np.allclose(mark.get_ydata(), M._FLOOR)
            assert mark.get_marker() not in ("o", "s")  # distinct from the data markers
        else:
            assert not marks
    assert any("clipped" in lab and "1e-17" in lab for lab in labels)
    assert any("round-off" in t.get_text() for t in ax.texts), "a note explains the floor"


def test_readme_lr_caption_states_the_range_the_data_shows():
    """The caption's learning-rate range is the one in the committed data (gap < 1e-6 gap0)."""
    import re

    data = json.loads((ROOT / "figures" / "data" / "lr_insensitivity.json").read_text())
    good = [
        r["lr"]
        for r in data["bngd"]
        if r["gap_final"] is not None and r["gap_final"] < 1e-6 * data["gap0"]
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cap = next(ln for ln in readme.splitlines() if "figures/lr_insensitivity.png" in ln)
    cap = cap.split("figures/lr_insensitivity.png")[1]
    m = re.search(r"only for lr ([0-9.e+-]+) to ([0-9.e+-]+)", cap)
    assert m, cap
    lo, hi = float(m.group(1)), float(m.group(2))
    assert lo == pytest.approx(min(good), rel=0.05) and hi == pytest.approx(max(good), rel=0.05)
    assert f"K = {data['K']} steps" in cap
    assert f"all {len(data['bngd'])} learning rates" in cap
    assert all(r["gap_final"] is not None and r["gap_final"] < data["gap0"] for r in data["bngd"])
    assert "5 decades" not in cap


def test_gdnp_legend_states_each_ratio_with_its_significant_digits(
    quick_runs, monkeypatch, tmp_path
):
    import re

    _, out, _ = quick_runs("gdnp_halfspace")
    data = json.loads((out / "data" / "gdnp_halfspace.json").read_text())
    data["runs"][0]["max_ratio_to_bound"] = 9.03e-4  # a small ratio must not print as 0.00
    fig = _drawn_figure("gdnp_halfspace", data, monkeypatch, tmp_path)
    shown = []
    for ax in fig.axes:
        for t in ax.get_legend().get_texts():
            m = re.search(r"gap/bound = ([0-9.e+-]+)", t.get_text())
            if m:
                shown.append(float(m.group(1)))
    want = [r["max_ratio_to_bound"] for r in data["runs"]]
    assert len(shown) == len(want)
    assert sorted(shown) == pytest.approx(sorted(want), rel=0.05)


def test_scaling_law_labels_every_control_and_defines_q(quick_runs, monkeypatch, tmp_path):
    _, out, _ = quick_runs("scaling_law")
    data = json.loads((out / "data" / "scaling_law.json").read_text())
    fig = _drawn_figure("scaling_law", data, monkeypatch, tmp_path)
    cs = sorted(r["c"] for r in data["runs"] if r["kind"] == "control" and r["c"] != 1.0)
    for ax in fig.axes:
        tags = sorted(
            float(t.get_text().split("=")[1]) for t in ax.texts if t.get_text()[:2] == "c="
        )
        assert tags == cs, "each grey control run is labelled with its c in both panels"
    assert "q" in fig.axes[1].get_ylabel()
    assert any("q = u" in t.get_text() for ax in fig.axes for t in ax.texts), "q is defined"


def test_symbolic_report_has_no_timings_and_reads_the_counterexample_right(quick_runs):
    mod, out, _ = quick_runs("symbolic_report")
    data = json.loads((out / "data" / "symbolic_report.json").read_text())
    text = json.dumps({k: v for k, v in data.items() if k != "meta"})
    assert "seconds" not in text
    md = (out / "data" / "symbolic_report.md").read_text()
    assert md == mod.markdown(data)  # a function of the items only: byte-identical on rerun
    assert "| s |" not in md and " s\n" not in md.splitlines()[0]
    cex = [it for it in data["items"] if it["name"].endswith("_fails")]
    assert cex, "the quick report includes the literal-Theorem-4.1 counterexample"
    for it in cex:
        assert mod.result_text(it) == "fails, as expected"
        assert mod.result_text({**it, "holds": False}) == "failure NOT shown"
        assert f"| {it['name']} | {it['proven_for']} | fails, as expected |" in md
    assert mod.result_text({"name": "x", "holds": True}) == "proved"
    assert mod.result_text({"name": "x", "holds": False}) == "NOT proved"


@pytest.mark.parametrize("name", ["lr_insensitivity", "scaling_law", "symbolic_report"])
def test_rerun_with_the_same_seed_gives_the_same_data(name, quick_runs):
    """Apart from ``meta`` (run time), a second quick run writes identical data."""
    mod, out, _ = quick_runs(name)
    stored = json.loads((out / "data" / f"{name}.json").read_text())
    stored.pop("meta")
    from bntheory.experiments import _common as C

    again = json.loads(json.dumps(C.to_jsonable(mod.compute(True, 0))))
    assert again == stored

"""Shared pieces of the experiment tests: load a script as a module, read its data file
strictly (no NaN/inf tokens), and run each script's quick mode once per session."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXP = ROOT / "experiments"


def load_experiment(name: str):
    """The experiment module ``bntheory.experiments.<name>`` (``experiments/<name>.py`` is its
    thin entry point)."""
    return importlib.import_module(f"bntheory.experiments.{name}")


def reject_constant(token: str):
    """``json.loads(..., parse_constant=reject_constant)``: NaN/Infinity are errors."""
    raise ValueError(f"non-finite number {token} in a data file")


def iter_floats(obj):
    """Every float in a nested JSON structure."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from iter_floats(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_floats(v)
    elif isinstance(obj, float):
        yield obj


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory):
    """name -> (module, out dir, exit code); each experiment's quick mode runs at most once."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            mod = load_experiment(name)
            out = tmp_path_factory.mktemp(name)
            code = mod.main(["--quick", "--out", str(out), "--seed", "0"])
            cache[name] = (mod, out, code)
        return cache[name]

    return get


def assert_replot_without_recompute(mod, out: Path, name: str, monkeypatch) -> None:
    """Delete the figure files, forbid ``compute`` and check ``--replot`` redraws both."""
    png, pdf = out / f"{name}.png", out / f"{name}.pdf"
    png.unlink()
    pdf.unlink()

    def no_compute(*args, **kwargs):
        raise AssertionError("--replot must not recompute")

    monkeypatch.setattr(mod, "compute", no_compute)
    assert mod.main(["--replot", "--out", str(out)]) == 0
    assert png.is_file() and pdf.is_file()

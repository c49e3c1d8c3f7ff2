"""The README's test command is the one .ci/run executes; the console script exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_two_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2
    assert "bntheory" in lines[0] and "pytest" in lines[1]
    assert (
        "grep -m1 -E '^python3 -m pip install .*pytest' README.md" in (ROOT / ".ci/run").read_text()
    )


def test_python_dash_m_runs():
    out = subprocess.run(
        [sys.executable, "-m", "bntheory", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "bntheory" in out.stdout


def test_experiments_ship_with_the_package(tmp_path):
    """An installed (non-editable) bntheory finds every experiment without the checkout's
    ``experiments/`` folder, and each checkout script is a thin entry point to one of them."""
    from bntheory.cli import discover_experiments

    found = discover_experiments(root=tmp_path)  # tmp_path has no experiments/ folder
    scripts = {
        p.stem for p in (ROOT / "experiments").glob("*.py") if not p.stem.startswith("_")
    } - {"run_all"}
    assert scripts and scripts <= set(found)
    for name in scripts:
        assert found[name].command[1:] == ("-m", f"bntheory.experiments.{name}")
        assert found[name].description.endswith(".")  # a whole sentence, not a cut line
        assert (
            f"from bntheory.experiments.{name} import main"
            in (ROOT / "experiments" / f"{name}.py").read_text()
        )


def test_wheel_contains_the_experiments(tmp_path):
    """setuptools' package discovery puts ``bntheory/experiments/*.py`` into the wheel."""
    from setuptools import find_packages

    assert "bntheory.experiments" in find_packages(str(ROOT), include=["bntheory*"])

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

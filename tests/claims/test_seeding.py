"""``shared_result`` across real worker processes: a failed or killed computation must not
leave its lock for the others to wait on (they used to wait up to 1,800 s)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from bntheory.claims import seeding

KIND, SEED = "kind", 7


def _ctx():
    if "fork" not in mp.get_all_start_methods():  # pragma: no cover - non-POSIX
        pytest.skip("needs the fork start method (the ledger runner's)")
    return mp.get_context("fork")


def _holder(cache: str, behaviour: str) -> None:
    """Take the lock of (KIND, SEED), then raise after 0.5 s or hang (to be killed)."""
    seeding._RUN_CACHE.set(cache)

    def fn() -> dict:
        if behaviour == "hang":
            time.sleep(60)
        time.sleep(0.5)
        Path(cache, "failed_at").write_text(repr(time.time()))
        raise ValueError("boom")

    try:
        seeding.shared_result(KIND, SEED, fn)
    except ValueError as exc:
        Path(cache, "holder_error").write_text(str(exc))
        os._exit(3)
    os._exit(0)  # pragma: no cover - fn always raises


def _waiter(cache: str) -> None:
    """Wait for (KIND, SEED) like a second worker; record when its own fn ran."""
    seeding._RUN_CACHE.set(cache)
    started = time.time()

    def fn() -> dict:
        Path(cache, "waiter_computed_at").write_text(repr(time.time()))
        return {"v": 2.0}

    out = seeding.shared_result(KIND, SEED, fn)
    Path(cache, "waiter_out").write_text(json.dumps({"out": out, "started": started}))
    os._exit(0)


def _wait_for(path: Path, timeout: float = 3.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.01)


def _join_waiter(proc, timeout: float = 4.0) -> None:
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise AssertionError(f"the waiting worker was still waiting after {timeout} s")
    assert proc.exitcode == 0


def test_failed_computation_releases_its_lock(tmp_path):
    ctx = _ctx()
    cache = str(tmp_path)
    lock = tmp_path / f"{KIND}-{SEED}.lock"
    holder = ctx.Process(target=_holder, args=(cache, "raise"))
    holder.start()
    _wait_for(lock)
    waiter = ctx.Process(target=_waiter, args=(cache,))
    waiter.start()
    _join_waiter(waiter)
    holder.join(5)
    assert holder.exitcode == 3  # the error reached the worker that computed it
    assert (tmp_path / "holder_error").read_text() == "boom"
    rec = json.loads((tmp_path / "waiter_out").read_text())
    assert rec["out"] == {"v": 2.0}
    failed_at = float((tmp_path / "failed_at").read_text())
    computed_at = float((tmp_path / "waiter_computed_at").read_text())
    # the waiter really waited while the holder was alive, and took over once it failed
    assert rec["started"] < failed_at <= computed_at < failed_at + 1.0
    # the result is now shared: a third call reads it instead of computing
    token = seeding._RUN_CACHE.set(cache)
    try:
        assert seeding.shared_result(KIND, SEED, lambda: {"v": -1.0}) == {"v": 2.0}
    finally:
        seeding._RUN_CACHE.reset(token)


def test_killed_holder_is_not_waited_for(tmp_path):
    ctx = _ctx()
    cache = str(tmp_path)
    lock = tmp_path / f"{KIND}-{SEED}.lock"
    holder = ctx.Process(target=_holder, args=(cache, "hang"))
    holder.start()
    try:
        _wait_for(lock)
        t0 = time.monotonic()
        while lock.read_text() != str(holder.pid):  # the PID is written just after creation
            assert time.monotonic() - t0 < 3.0
            time.sleep(0.01)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(5)
    assert lock.exists()  # a killed process cannot clean up: the lock stays
    waiter = ctx.Process(target=_waiter, args=(cache,))
    waiter.start()
    _join_waiter(waiter)
    assert json.loads((tmp_path / "waiter_out").read_text())["out"] == {"v": 2.0}


def test_live_holder_is_waited_for(tmp_path):
    """The lock of a running process (this one) is honoured: no second computation."""
    lock = tmp_path / "x.lock"
    lock.write_text(str(os.getpid()))
    assert not seeding._lock_holder_gone(lock)
    lock.write_text("")  # created, PID not yet written
    assert not seeding._lock_holder_gone(lock)

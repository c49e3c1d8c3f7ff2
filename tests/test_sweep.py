"""Tests of bntheory.sweep: grids, seeding, executors, caching/resume, failures."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bntheory import sweep
from bntheory.sweep import (
    Grid,
    SerialExecutor,
    SweepResult,
    cell_key,
    executor_from_spec,
    run_sweep,
)

GRID = {"dim": [3, 7], "lr": [0.1, 0.5, 1.5]}


def _values_equal(a, b) -> bool:
    """Exact (bit-level for floats) equality of nested values with numpy arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_values_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_values_equal, a, b))
    if isinstance(a, float):
        return isinstance(b, float) and np.float64(a).tobytes() == np.float64(b).tobytes()
    return type(a) is type(b) and a == b


def _same_records(r1: SweepResult, r2: SweepResult) -> bool:
    if len(r1.records) != len(r2.records):
        return False
    return all(
        a["params"] == b["params"]
        and a["seed_index"] == b["seed_index"]
        and a["status"] == b["status"]
        and _values_equal(a["value"], b["value"])
        for a, b in zip(r1.records, r2.records, strict=True)
    )


# ---------------------------------------------------------------------------
# grid
# ---------------------------------------------------------------------------


def test_grid_cells_are_cartesian_product_last_axis_fastest():
    g = Grid(a=[1, 2], b=["x", "y", "z"], c=[0.5])
    expected = [{"a": a, "b": b, "c": c} for a in [1, 2] for b in ["x", "y", "z"] for c in [0.5]]
    assert g.cells() == expected
    assert g.shape == (2, 3, 1) and len(g) == 6 and g.names == ("a", "b", "c")
    assert Grid.from_mapping({"a": [1, 2], "b": ["x", "y", "z"], "c": (0.5,)}) == g


def test_records_follow_grid_then_seed_order_and_as_arrays_shape():
    res = run_sweep(sweep._example_noisy_quadratic, GRID, seeds=2, progress=False)
    order = [(r["params"]["dim"], r["params"]["lr"], r["seed_index"]) for r in res.records]
    assert order == list(itertools.product([3, 7], [0.1, 0.5, 1.5], [0, 1]))
    arr = res.as_arrays("final_loss")
    assert arr.shape == (2, 3, 2) and arr.dtype == np.float64
    # independent reference for one entry: GD on diag quadratic contracts by (1-lr h)^2
    losses = res.as_arrays("losses")
    assert losses.shape == (2, 3, 2, 50)
    assert arr[1, 2, 1] == losses[1, 2, 1, -1]
    assert res.value(dim=7, lr=1.5, seed_index=1)["final_loss"] == arr[1, 2, 1]
    table = res.to_table()
    assert len(table) == 12 and {"dim", "lr", "seed_index", "final_loss"} <= table[0].keys()


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def _const(x=0, *, rng):
    return {"x": x}


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        ({"fn": 3, "grid": {"x": [1]}}, TypeError, "fn"),
        ({"fn": _const, "grid": {"x": []}}, ValueError, "'x'"),
        ({"fn": _const, "grid": {"x": "abc"}}, TypeError, "'x'"),
        ({"fn": _const, "grid": [1, 2]}, TypeError, "grid"),
        ({"fn": _const, "grid": {"rng": [1]}}, ValueError, "rng"),
        ({"fn": _const, "grid": {"x": [object()]}}, TypeError, "grid"),
        ({"fn": _const, "grid": {"x": [1]}, "seeds": 0}, ValueError, "seeds"),
        ({"fn": _const, "grid": {"x": [1]}, "seeds": []}, ValueError, "seeds"),
        ({"fn": _const, "grid": {"x": [1]}, "seeds": [1, 1]}, ValueError, "seeds"),
        ({"fn": _const, "grid": {"x": [1]}, "seeds": True}, TypeError, "seeds"),
        ({"fn": _const, "grid": {"x": [1]}, "root_seed": -1}, ValueError, "root_seed"),
        ({"fn": _const, "grid": {"x": [1]}, "executor": "serial"}, TypeError, "executor"),
    ],
)
def test_bad_input_names_the_argument(kwargs, exc, word):
    fn = kwargs.pop("fn")
    grid = kwargs.pop("grid")
    with pytest.raises(exc, match=word):
        run_sweep(fn, grid, progress=False, **kwargs)


@pytest.mark.parametrize("spec", ["threads", "processes:0", "processes:x", "dask-local:-1", ""])
def test_unknown_executor_spec(spec):
    with pytest.raises(ValueError, match="executor"), executor_from_spec(spec):
        pass


def test_dask_spec_without_extra_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match="cluster"), executor_from_spec("dask-local"):
        pass


# ---------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------


def _draws(n, *, rng):
    return {"u": rng.random(4)}


def test_streams_differ_across_cells_and_seeds_and_roots():
    res = run_sweep(_draws, {"n": [0, 1, 2]}, seeds=3, progress=False)
    u = res.as_arrays("u").reshape(9, 4)
    assert len({row.tobytes() for row in u}) == 9
    res2 = run_sweep(_draws, {"n": [0, 1, 2]}, seeds=3, root_seed=1, progress=False)
    assert not np.any(res2.as_arrays("u") == res.as_arrays("u"))


def test_cell_result_does_not_depend_on_the_rest_of_the_grid_or_seed_list():
    full = run_sweep(_draws, {"n": [0, 1, 2, 3]}, seeds=3, progress=False)
    sub = run_sweep(_draws, {"n": [2]}, seeds=[2], progress=False)
    assert _values_equal(sub.records[0]["value"], full.value(n=2, seed_index=2))


def test_fresh_root_entropy_is_recorded_and_reproducible():
    a = run_sweep(_draws, {"n": [0, 1]}, seeds=1, root_seed=None, progress=False)
    b = run_sweep(_draws, {"n": [0, 1]}, seeds=1, root_seed=a.root_entropy, progress=False)
    assert _same_records(a, b)


# ---------------------------------------------------------------------------
# executors: bit-identical results
# ---------------------------------------------------------------------------


def test_serial_executor_conforms_to_executor_interface():
    ex = SerialExecutor()
    assert isinstance(ex, cf.Executor)
    assert list(ex.map(abs, [-1, 2, -3])) == [1, 2, 3]
    fut = ex.submit(int, "not a number")
    assert isinstance(fut, cf.Future) and isinstance(fut.exception(), ValueError)
    ex.shutdown()
    with pytest.raises(RuntimeError):
        ex.submit(abs, 1)


@pytest.mark.slow  # full claims / a process pool and a Dask cluster
def test_processes_and_dask_give_bit_identical_results():
    serial = run_sweep(sweep._example_noisy_quadratic, GRID, seeds=2, progress=False)
    with executor_from_spec("processes:2") as ex:
        assert isinstance(ex, cf.ProcessPoolExecutor)
        procs = run_sweep(
            sweep._example_noisy_quadratic, GRID, seeds=2, executor=ex, progress=False
        )
        threads = run_sweep(
            sweep._example_blas_threads, {"x": [0, 1, 2, 3]}, seeds=1, executor=ex, progress=False
        )
    assert _same_records(serial, procs)
    # BLAS pinned to one thread in every worker (threadpoolctl reading, env vars)
    for r in threads.records:
        assert r["value"]["threads"] in ([], [1])
        assert r["value"]["env"]["OPENBLAS_NUM_THREADS"] == "1"

    pytest.importorskip("distributed")
    with executor_from_spec("dask-local:2") as ex:
        dask_res = run_sweep(
            sweep._example_noisy_quadratic, GRID, seeds=2, executor=ex, progress=False
        )
    assert _same_records(serial, dask_res)


# ---------------------------------------------------------------------------
# caching and resume
# ---------------------------------------------------------------------------


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    calls = []

    def fn(a, b, *, rng):
        if len(calls) == 5 and not fn.resumed:
            raise KeyboardInterrupt
        calls.append((a, b))
        return {"s": a + b, "u": rng.random()}

    fn.resumed = False
    grid = {"a": [0, 1, 2], "b": [10, 20]}
    with pytest.raises(KeyboardInterrupt):
        run_sweep(fn, grid, seeds=2, out_dir=tmp_path, progress=False)
    assert len(calls) == 5
    assert len(list((tmp_path / "cells").glob("*.json"))) == 5
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["last"]["status"] == "interrupted"

    fn.resumed = True
    first = list(calls)
    res = run_sweep(fn, grid, seeds=2, out_dir=tmp_path, progress=False)
    assert res.n_cached == 5 and res.n_computed == 7 and res.n_failed == 0
    new_calls = calls[5:]
    assert len(new_calls) == 7
    # nothing finished before the interrupt is recomputed: every (a, b) runs exactly seeds=2 times
    assert sorted(first + new_calls) == sorted([(a, b) for a in [0, 1, 2] for b in [10, 20]] * 2)

    # a third run is fully cached and equal to a fresh uncached run
    again = run_sweep(fn, grid, seeds=2, out_dir=tmp_path, progress=False)
    assert again.n_cached == 12 and again.n_computed == 0 and len(calls) == 12
    fresh = run_sweep(fn, grid, seeds=2, progress=False)
    assert _same_records(again, fresh)
    assert all(r["cached"] for r in again.records)


def test_subgrid_then_full_grid_reuses_common_cells(tmp_path):
    sub = run_sweep(
        sweep._example_noisy_quadratic,
        {"dim": [3], "lr": [0.5]},
        seeds=2,
        out_dir=tmp_path,
        progress=False,
    )
    full = run_sweep(
        sweep._example_noisy_quadratic, GRID, seeds=2, out_dir=tmp_path, progress=False
    )
    assert full.n_cached == 2 and full.n_computed == 10
    for r in sub.records:
        assert _values_equal(r["value"], full.value(seed_index=r["seed_index"], **r["params"]))


def test_corrupt_or_partial_cell_files_are_recomputed(tmp_path):
    res = run_sweep(sweep._example_noisy_quadratic, GRID, seeds=1, out_dir=tmp_path, progress=False)
    files = {r["key"]: tmp_path / "cells" / f"{r['key']}.json" for r in res.records}
    keys = list(files)
    # 1: truncated mid-file (as a killed non-atomic writer would leave it)
    text = files[keys[0]].read_text()
    files[keys[0]].write_text(text[: len(text) // 2])
    # 2: garbage bytes
    files[keys[1]].write_bytes(b"\x00\xff garbage")
    # 3: valid JSON whose value was altered (checksum no longer matches)
    doc = json.loads(files[keys[2]].read_text())
    doc["value_json"] = doc["value_json"].replace('"final_loss":', '"final_loss":1e9,"x":')
    files[keys[2]].write_text(json.dumps(doc))
    # 4: empty file
    files[keys[3]].write_text("")
    # a leftover temporary file of an interrupted atomic write is ignored
    (tmp_path / "cells" / f".{keys[4]}.json.abc.tmp").write_text('{"key": "x"')

    again = run_sweep(
        sweep._example_noisy_quadratic, GRID, seeds=1, out_dir=tmp_path, progress=False
    )
    assert again.n_cached == len(keys) - 4 and again.n_computed == 4
    assert _same_records(res, again)
    assert {r["key"] for r in again.records if not r["cached"]} == set(keys[:4])
    # the rewritten files are valid again
    third = run_sweep(
        sweep._example_noisy_quadratic, GRID, seeds=1, out_dir=tmp_path, progress=False
    )
    assert third.n_cached == len(keys)


def _arrays(k, *, rng):
    return {
        "f32": rng.standard_normal(3).astype(np.float32),
        "i64": np.arange(k, dtype=np.int64).reshape(1, k),
        "c128": rng.standard_normal(2) + 1j * rng.standard_normal(2),
        "b": np.array([True, False]),
        "scalar": np.float64(rng.random()),
        "tiny": 5e-324,
        "nested": [{"t": (1, 2)}, None, "s"],
    }


def test_array_values_round_trip_exactly_through_the_cache(tmp_path):
    direct = [_arrays(k, rng=np.random.default_rng(k)) for k in (2, 3)]
    res = run_sweep(_arrays, {"k": [2, 3]}, seeds=1, out_dir=tmp_path, progress=False)
    cached = run_sweep(_arrays, {"k": [2, 3]}, seeds=1, out_dir=tmp_path, progress=False)
    assert cached.n_cached == 2
    assert _same_records(res, cached)
    v = cached.records[1]["value"]
    assert (
        v["f32"].dtype == np.float32
        and v["i64"].shape == (1, 3)
        and v["c128"].dtype == np.complex128
    )
    assert (
        v["b"].dtype == np.bool_
        and v["tiny"] == 5e-324
        and v["nested"] == [{"t": [1, 2]}, None, "s"]
    )
    # same types as the function returns (arrays stay arrays, numpy scalars become floats)
    assert set(v) == set(direct[1]) and isinstance(v["scalar"], float)


def test_metadata_records_versions_seed_and_times(tmp_path):
    run_sweep(_draws, {"n": [0]}, seeds=1, root_seed=123, out_dir=tmp_path, progress=False)
    run_sweep(_draws, {"n": [0]}, seeds=1, root_seed=123, out_dir=tmp_path, progress=False)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert len(meta["runs"]) == 2
    last = meta["last"]
    assert last["root_seed_entropy"] == 123
    assert {"numpy", "scipy", "sympy", "bntheory"} <= last["versions"].keys()
    assert last["versions"]["numpy"] == np.__version__
    assert last["git_revision"] is None or len(last["git_revision"]) == 40
    assert last["start_time"] <= last["end_time"] and last["status"] == "done"
    assert last["n_cached"] == 1 and last["n_computed"] == 0


# ---------------------------------------------------------------------------
# failures
# ---------------------------------------------------------------------------


def test_failing_cells_are_recorded_not_raised_and_not_cached(tmp_path, capsys):
    grid = {"x": [0, 1, 2, 3], "bad": [2]}
    res = run_sweep(sweep._example_fail_if, grid, seeds=2, out_dir=tmp_path, progress=None)
    assert res.n_failed == 2 and res.n_computed == 6 and not res.ok
    assert all(f["params"]["x"] == 2 and "bad x=2" in f["error"] for f in res.failures)
    assert "2 failed" in capsys.readouterr().err
    u = res.as_arrays("u")
    assert u.shape == (4, 1, 2) and np.all(np.isnan(u[2])) and not np.any(np.isnan(u[[0, 1, 3]]))
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert [f["params"]["x"] for f in meta["last"]["failures"]] == [2, 2]
    assert "ValueError: bad x=2" in meta["last"]["failures"][0]["traceback"]
    assert all(r["elapsed"] >= 0 for r in res.records)
    again = run_sweep(sweep._example_fail_if, grid, seeds=2, out_dir=tmp_path, progress=False)
    assert again.n_cached == 6 and again.n_failed == 2  # failures are retried, not cached
    with pytest.raises(KeyError):
        res.as_arrays("nope")
    with pytest.raises(RuntimeError, match="failed"):
        res.value(x=2, bad=2)


def test_raise_errors_reraises_the_cell_exception(tmp_path):
    with pytest.raises(ValueError, match="bad x=1"):
        run_sweep(
            sweep._example_fail_if,
            {"x": [0, 1, 2], "bad": [1]},
            seeds=1,
            out_dir=tmp_path,
            raise_errors=True,
            progress=False,
        )
    # the cell finished before the error is kept
    assert len(list((tmp_path / "cells").glob("*.json"))) == 1


def test_non_json_return_value_is_a_failed_cell():
    res = run_sweep(lambda x, rng: {"obj": object()}, {"x": [1]}, seeds=1, progress=False)
    assert res.n_failed == 1 and "not JSON-able" in res.failures[0]["error"]


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------


def test_progress_bar_and_summary(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("CI", raising=False)
    run_sweep(_draws, {"n": [0, 1]}, seeds=2, progress=True, desc="mysweep")
    err = capsys.readouterr().err
    assert "mysweep" in err and "4 cells" in err and "0 reused from cache" in err
    run_sweep(_draws, {"n": [0, 1]}, seeds=2, progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CI", "true")
    run_sweep(_draws, {"n": [0, 1]}, seeds=2, progress=None, desc="mysweep")
    err = capsys.readouterr().err
    assert "mysweep" not in err and "4 cells" in err  # no bar on CI, summary kept


# ---------------------------------------------------------------------------
# hash canonicalization
# ---------------------------------------------------------------------------

_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 5), max_size=3),
)
_params = st.dictionaries(_names, _values, max_size=5)


@settings(max_examples=60, deadline=None)
@given(params=_params, seed=st.integers(0, 100), data=st.data())
def test_cell_key_ignores_dict_order(params, seed, data):
    items = list(params.items())
    perm = data.draw(st.permutations(items))
    assert cell_key("m.f", dict(perm), seed, 0) == cell_key("m.f", params, seed, 0)


@settings(max_examples=60, deadline=None)
@given(p1=_params, p2=_params)
def test_different_params_give_different_keys(p1, p2):
    assume(p1 != p2)
    assert cell_key("m.f", p1, 0, 0) != cell_key("m.f", p2, 0, 0)


def test_key_depends_on_fn_seed_index_and_root():
    base = cell_key("m.f", {"a": 1}, 0, 0)
    others = {
        cell_key("m.g", {"a": 1}, 0, 0),
        cell_key("m.f", {"a": 1}, 1, 0),
        cell_key("m.f", {"a": 1}, 0, 1),
        cell_key("m.f", {"a": 1.0}, 0, 0),
    }
    assert base not in others and len(others) == 4
    assert os.path.basename(Path(base)) == base and len(base) == 64


def test_process_pool_rejects_unpicklable_fn():
    with executor_from_spec("processes:1") as ex, pytest.raises(TypeError, match="fn"):
        run_sweep(lambda x, rng: {}, {"x": [1]}, seeds=1, executor=ex, progress=False)


def test_dead_worker_is_a_failed_cell_not_a_crash():
    with executor_from_spec("processes:1") as ex:
        res = run_sweep(sweep._example_crash, {"x": [1, 2]}, seeds=1, executor=ex, progress=False)
    assert res.n_failed == 2 and all("BrokenProcessPool" in f["error"] for f in res.failures)
    with executor_from_spec("processes:1") as ex, pytest.raises(cf.process.BrokenProcessPool):
        run_sweep(
            sweep._example_crash,
            {"x": [1]},
            seeds=1,
            executor=ex,
            raise_errors=True,
            progress=False,
        )


def test_run_sweep_record_limit_before_building_records():
    # 1000 cells x 10**6 seeds = 10**9 records used to hang building them
    import time

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"10+ records exceed max_records"):
        run_sweep(_const, {"x": range(1000)}, seeds=10**6, progress=False)
    assert time.perf_counter() - t0 < 5.0
    with pytest.raises(ValueError, match="max_records"):
        run_sweep(_const, {"x": [0, 1]}, seeds=3, progress=False, max_records=5)
    with pytest.raises(TypeError, match="max_records"):
        run_sweep(_const, {"x": [0]}, seeds=1, progress=False, max_records="5")
    res = run_sweep(_const, {"x": [0, 1]}, seeds=3, progress=False, max_records=6)
    assert len(res.records) == 6


# ---------------------------------------------------------------------------
# metadata under concurrency, run ids, statuses, executor specs
# ---------------------------------------------------------------------------


def test_concurrent_metadata_writers_lose_no_update(tmp_path):
    import threading

    from bntheory.sweep.store import write_metadata

    def writer(w):
        for i in range(15):
            write_metadata(tmp_path, {"run_id": f"{w}-{i}", "status": "running"})
            write_metadata(tmp_path, {"run_id": f"{w}-{i}", "status": "done"})

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = json.loads((tmp_path / "metadata.json").read_text())["runs"]
    assert sorted(r["run_id"] for r in runs) == sorted(
        f"{w}-{i}" for w in range(3) for i in range(15)
    )
    assert all(r["status"] == "done" for r in runs)


_CONCURRENT = """
import sys
from bntheory.sweep import run_sweep
from bntheory.sweep._examples import _example_fail_if
run_sweep(_example_fail_if, {"x": list(range(int(sys.argv[2]), int(sys.argv[2]) + 20))},
          seeds=1, out_dir=sys.argv[1], progress=False)
"""


@pytest.mark.slow
def test_three_concurrent_sweeps_on_one_folder_all_end_done(tmp_path):
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONCURRENT, str(tmp_path), str(20 * k)], env=env)
        for k in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    runs = json.loads((tmp_path / "metadata.json").read_text())["runs"]
    assert len(runs) == 3 and all(r["status"] == "done" for r in runs)
    assert len(list((tmp_path / "cells").glob("*.json"))) == 60


def test_run_ids_are_unique_within_one_second(tmp_path, monkeypatch):
    # the flake of test_metadata_records_versions_seed_and_times: two runs in the same
    # second in one process got the same run id when the first grid's id() was reused,
    # so the second run replaced the first in metadata.json
    import bntheory.sweep.run as run_mod

    monkeypatch.setattr(run_mod, "now", lambda: "2026-01-01T00:00:00+00:00")
    for _ in range(5):
        run_sweep(_draws, {"n": [0]}, seeds=1, out_dir=tmp_path, progress=False)
    runs = json.loads((tmp_path / "metadata.json").read_text())["runs"]
    assert len({r["run_id"] for r in runs}) == 5


def test_statuses_are_status_members_with_unchanged_values(tmp_path):
    from bntheory.status import Status

    res = run_sweep(
        sweep._example_fail_if, {"x": [0, 1], "bad": [1]}, seeds=1, out_dir=tmp_path, progress=False
    )
    assert [r["status"] for r in res.records] == [Status.OK, Status.FAILED]
    assert [r["status"] for r in res.records] == ["ok", "failed"]
    assert isinstance(res.records[0]["status"], Status)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["last"]["status"] == "done"


def test_unknown_executor_message_names_the_choices():
    with pytest.raises(ValueError) as info, executor_from_spec("threads"):
        pass
    assert str(info.value) == (
        "unknown executor 'threads' (use serial, processes:N or dask://HOST:PORT)"
    )


@pytest.mark.slow  # imports distributed, then waits the 5 s connect timeout
def test_dask_address_without_scheduler_fails_fast():
    pytest.importorskip("distributed")
    import time

    t0 = time.perf_counter()
    with (
        pytest.raises(ConnectionError, match="localhost:1"),
        executor_from_spec("dask://localhost:1"),
    ):
        pass
    assert time.perf_counter() - t0 < 15.0

"""Fuzzing of the sweep machinery's public pieces (issue 10): grids, results, the cell
store and the process helpers that are safe to call in the test process.

References are independent: ``itertools.product`` for grid cells, the cell function's own
closed-form output for results, ``json``/``hashlib`` for the store. ``worker_init`` and
``die_with_parent`` change the signals of the calling process; they run in the worker
processes of :func:`test_terminate_pool_ends_fork_workers` and in the subprocess tests of
``tests/test_processes.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import signal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._harness import expect_valid_or_named_error, fuzz_settings

_names = st.one_of(
    st.sampled_from(["lr", "dim", "x", "rng", "1a", "", "a b", "_"]),
    st.text(min_size=1, max_size=4),
)
_axis_values = st.one_of(
    st.lists(
        st.one_of(
            st.integers(-5, 5),
            st.floats(allow_nan=False, width=32),
            st.text(max_size=2),
            st.none(),
            st.booleans(),
        ),
        min_size=0,
        max_size=3,
    ),
    st.sampled_from(["abc", 3, None, [object()], [{1: 2}], (1, 2), range(2)]),
)


@fuzz_settings(120)
@given(st.dictionaries(_names, _axis_values, max_size=3))
def test_grid(axes):
    from bntheory.sweep import Grid

    g = expect_valid_or_named_error(Grid.from_mapping, ["grid", "axis"], axes)
    if g is None:
        return
    assert g.names == tuple(axes)
    ref = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    assert g.cells() == ref and len(g) == len(ref) == math.prod(g.shape)
    assert Grid(**axes).cells() == ref and Grid.from_mapping(g) is g


@fuzz_settings(40)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=3, unique=True),
    st.integers(-3, 3),
    st.integers(1, 3),
)
def test_sweep_result_accessors(xs, bad, n_seeds):
    from bntheory.sweep import run_sweep
    from bntheory.sweep._examples import _example_fail_if

    with np.errstate(all="raise"):
        res = run_sweep(_example_fail_if, {"x": xs, "bad": [bad]}, seeds=n_seeds, progress=False)
    n_bad = n_seeds * (bad in xs)
    assert res.ok == (n_bad == 0) and len(res.failures) == res.n_failed == n_bad
    assert all(f["params"]["x"] == bad and f["error"] for f in res.failures)
    line = res.summary()
    assert "\n" not in line and f"{len(xs) * n_seeds} cells" in line
    assert f"{n_bad} failed" in line and f"{len(xs) * n_seeds - n_bad} computed" in line
    # to_table: one row per record; a dict value spread into columns
    table = res.to_table()
    assert [(r["x"], r["seed_index"]) for r in table] == [
        (x, s) for x in xs for s in range(n_seeds)
    ]
    assert all(("error" in r) == (r["x"] == bad) for r in table)
    assert all(
        r["u"] == res.value(seed_index=r["seed_index"], x=r["x"], bad=bad)["u"]
        for r in table
        if r["x"] != bad
    )
    # as_arrays: the x of every cell (closed form), NaN where a cell failed
    ref = np.array([[np.nan if x == bad else x for _ in range(n_seeds)] for x in xs])
    if n_bad == len(xs) * n_seeds:
        arr = None
    else:
        arr = res.as_arrays("x")
        assert arr.shape == (len(xs), 1, n_seeds)
        np.testing.assert_array_equal(arr[:, 0, :], ref)
    with pytest.raises(KeyError):
        res.value(x=99, bad=bad)
    if n_bad == len(xs) * n_seeds:  # every cell failed: nothing to stack
        with pytest.raises(ValueError, match="every cell failed"):
            res.as_arrays("u")
        return
    u = res.as_arrays("u")
    assert np.all(((0 <= u) & (u < 1)) | np.isnan(u))
    if n_bad == 0:
        assert arr.dtype.kind == "i"
    else:
        with pytest.raises(RuntimeError, match="failed"):
            res.value(x=bad, bad=bad)
    with pytest.raises(KeyError, match="nope"):
        res.as_arrays("nope")


# ---------------------------------------------------------------------- the cell store
@fuzz_settings(80)
@given(
    st.dictionaries(st.sampled_from("abc"), st.integers(-9, 9), max_size=2),
    st.integers(0, 5),
    st.integers(0, 2**64),
    st.floats(0, 100),
    st.one_of(
        st.none(),
        st.integers(0, 4),  # which corruption
    ),
    st.binary(max_size=16),
)
def test_cell_store_round_trip_and_corruption(
    tmp_path_factory, params, seed, entropy, elapsed, corruption, junk
):
    from bntheory._io import canonical_json
    from bntheory.sweep import cell_key
    from bntheory.sweep.store import cell_doc, load_cell

    key = cell_key("f", params, seed, entropy)
    payload = canonical_json({"v": [1.5, seed]})
    text = cell_doc(key, "f", params, seed, entropy, payload, elapsed)
    doc = json.loads(text)
    assert doc["sha256"] == hashlib.sha256(payload.encode()).hexdigest()
    p = tmp_path_factory.mktemp("c") / f"{key}.json"
    if corruption is None:
        p.write_text(text)
        assert load_cell(p, key) == (json.loads(payload), elapsed)
        assert load_cell(p, "0" * 64) is None  # a foreign key
        return
    if corruption == 0:  # truncated file
        p.write_text(text[: len(text) // 2])
    elif corruption == 1:  # a tampered value
        doc["value_json"] = payload.replace("1.5", "2.5")
        p.write_text(json.dumps(doc))
    elif corruption == 2:  # another format
        doc["format"] = 99
        p.write_text(json.dumps(doc))
    elif corruption == 3:  # garbage bytes, or absurdly deep nesting
        p.write_bytes(junk + b"[" * 100_000)
    else:  # not a dict
        p.write_text(json.dumps([doc]))
    assert load_cell(p, key) is None
    assert load_cell(p.with_name("missing.json"), key) is None


def test_load_cell_deep_nesting_regression(tmp_path):
    """Regression: a deeply nested (corrupt) cell file raised RecursionError instead of
    being treated as corrupt (None, so the cell is recomputed)."""
    from bntheory.sweep.store import load_cell, write_metadata

    p = tmp_path / "c.json"
    p.write_text("[" * 100_000)
    assert load_cell(p, "k") is None
    (tmp_path / "metadata.json").write_text("[" * 100_000)
    write_metadata(tmp_path, {"run_id": "r"})
    assert json.loads((tmp_path / "metadata.json").read_text())["last"] == {"run_id": "r"}


_json_junk = st.recursive(
    st.one_of(st.none(), st.integers(-3, 3), st.text(max_size=3)),
    lambda s: st.one_of(
        st.lists(s, max_size=3), st.dictionaries(st.text(max_size=3), s, max_size=3)
    ),
    max_leaves=6,
)


@fuzz_settings(60)
@given(
    st.one_of(
        st.none(),
        _json_junk,
        st.lists(
            st.one_of(
                st.fixed_dictionaries({"run_id": st.sampled_from(["a", "b", "c"])}), _json_junk
            ),
            max_size=4,
        ).map(lambda runs: {"runs": runs}),
    ),
    st.sampled_from(["a", "b", "z"]),
)
def test_write_metadata_survives_any_old_file(tmp_path_factory, old, run_id):
    from bntheory.sweep.store import write_metadata

    folder = tmp_path_factory.mktemp("m")
    if old is not None:
        (folder / "metadata.json").write_text(json.dumps(old))
    run = {"run_id": run_id, "n": 1}
    write_metadata(folder, run)
    doc = json.loads((folder / "metadata.json").read_text())
    assert doc["last"] == run and doc["runs"][-1] == run
    assert sum(isinstance(r, dict) and r.get("run_id") == run_id for r in doc["runs"]) == 1
    if isinstance(old, dict) and isinstance(old.get("runs"), list):  # other runs are kept
        others = [r for r in old["runs"] if not (isinstance(r, dict) and r.get("run_id") == run_id)]
        assert doc["runs"][:-1] == others


def test_write_metadata_regression(tmp_path):
    """Regression: a ``runs`` list holding a non-dict raised AttributeError; a ``run``
    without ``run_id`` raised KeyError (now a TypeError naming ``run``)."""
    from bntheory.sweep.store import write_metadata

    (tmp_path / "metadata.json").write_text(json.dumps({"runs": [1, "x", {"run_id": "a"}]}))
    write_metadata(tmp_path, {"run_id": "a", "k": 2})
    assert json.loads((tmp_path / "metadata.json").read_text())["runs"] == [
        1,
        "x",
        {"run_id": "a", "k": 2},
    ]
    with pytest.raises(TypeError, match="run"):
        write_metadata(tmp_path, {"k": 1})


def test_git_revision_versions_now():
    from datetime import datetime

    from bntheory.sweep.store import git_revision, now, versions

    rev = git_revision()
    assert rev is None or (len(rev) == 40 and int(rev, 16) >= 0)
    v = versions()
    assert v["numpy"] == np.__version__ and v["bntheory"]
    assert datetime.fromisoformat(now()).utcoffset().total_seconds() == 0


# ---------------------------------------------------------------------- processes
@fuzz_settings(40)
@given(
    st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["A", "OMP_NUM_THREADS"]), st.text(max_size=3))
    ),
    st.booleans(),
)
def test_child_env(env, quiet):
    from bntheory.sweep.processes import PARENT_ENV, QUIET_ENV, child_env

    out = child_env(env, quiet=quiet)
    base = dict(os.environ) if env is None else env
    assert out[PARENT_ENV] == str(os.getpid()) and (QUIET_ENV in out) == (
        quiet or QUIET_ENV in base
    )
    for k, v in base.items():
        if k not in (PARENT_ENV, QUIET_ENV):
            assert out[k] == v  # never overrides a set variable
    assert out["OMP_NUM_THREADS"] == base.get("OMP_NUM_THREADS", "1")


@pytest.mark.parametrize("value", [None, "", "abc", "1", "-5"])
def test_bind_to_launcher_is_refused_unless_the_launcher_is_the_parent(value, monkeypatch):
    from bntheory.sweep.processes import PARENT_ENV, bind_to_launcher

    if value is None:
        monkeypatch.delenv(PARENT_ENV, raising=False)
    else:
        monkeypatch.setenv(PARENT_ENV, value)
    assert bind_to_launcher() is False  # never the parent here: no signal is armed


@pytest.mark.parametrize(
    "outcome, code, line",
    [(7, 7, ""), (KeyboardInterrupt, 130, "interrupted"), ("term", 143, "terminated")],
)
@pytest.mark.parametrize("quiet", [False, True])
def test_guarded(outcome, code, line, quiet, monkeypatch, capsys):
    from bntheory.sweep.processes import QUIET_ENV, Terminated, guarded, raise_terminated

    if quiet:
        monkeypatch.setenv(QUIET_ENV, "1")
    else:
        monkeypatch.delenv(QUIET_ENV, raising=False)
    before = signal.getsignal(signal.SIGTERM)

    def work() -> int:
        assert signal.getsignal(signal.SIGTERM) is raise_terminated  # installed meanwhile
        if outcome == "term":
            raise_terminated(signal.SIGTERM, None)
        if outcome is KeyboardInterrupt:
            raise KeyboardInterrupt
        return outcome

    assert guarded("prog", work) == code
    err = capsys.readouterr().err
    assert err == ("" if quiet or not line else f"prog: {line}\n")
    assert signal.getsignal(signal.SIGTERM) is before  # restored
    with pytest.raises(Terminated):
        raise_terminated(signal.SIGTERM, None)


def test_terminate_pool_ends_fork_workers():
    """A fork pool whose workers ran ``worker_init`` is ended at once, even with a
    pending task; ``worker_init`` pinned the worker's BLAS variables to one thread."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    from bntheory.sweep.processes import terminate_pool, worker_init

    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=worker_init,
        initargs=(os.getpid(), 1),
    )
    assert pool.submit(os.getenv, "OMP_NUM_THREADS").result(timeout=30) == "1"
    procs = list(pool._processes.values())
    pool.submit(time.sleep, 30)
    t0 = time.monotonic()
    terminate_pool(pool, timeout=2.0)
    while any(p.is_alive() for p in procs) and time.monotonic() - t0 < 5:
        time.sleep(0.01)  # SIGTERM was sent; give the kernel a moment to reap
    assert time.monotonic() - t0 < 5 and not any(p.is_alive() for p in procs)

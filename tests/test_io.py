"""Atomic writes: whole file or the old one, never a partial file; normal permissions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bntheory._io import atomic_write_bytes, atomic_write_text


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "one")
    mask = os.umask(0)
    os.umask(mask)
    assert p.read_text() == "one" and (p.stat().st_mode & 0o777) == (0o666 & ~mask)
    os.chmod(p, 0o640)
    atomic_write_text(p, "two")
    assert p.read_text() == "two" and (p.stat().st_mode & 0o777) == 0o640
    assert [q.name for q in tmp_path.iterdir()] == ["a.txt"]  # no temporary left


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "b.bin"
    atomic_write_bytes(p, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(p, object())  # type: ignore[arg-type]
    assert p.read_bytes() == b"old"
    assert [q.name for q in tmp_path.iterdir()] == ["b.bin"]


# --------------------------------------------------------------------------- failures, names
def test_full_disk_is_one_line_naming_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    from bntheory import _io

    p = tmp_path / "r.json"
    atomic_write_text(p, "old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "replace", full)
    with pytest.raises(_io.WriteError) as info:
        atomic_write_text(p, "new")
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and "No space left on device" in msg
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["r.json"]


def test_read_only_folder_is_one_line_naming_the_file(tmp_path, monkeypatch):
    # we may run as root (chmod would not stop us): simulate EROFS at the temporary's creation
    import errno

    from bntheory import _io

    real_open = os.open

    def ro(path, flags, *args):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(_io.os, "open", ro)
    with pytest.raises(_io.WriteError, match="cannot write .*x.txt.*Read-only file system"):
        atomic_write_bytes(tmp_path / "x.txt", b"data")
    assert list(tmp_path.iterdir()) == []


def test_temporary_names_are_unique_per_process_and_call(tmp_path, monkeypatch):
    from bntheory import _io

    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        real(src, dst)

    monkeypatch.setattr(_io.os, "replace", spy)
    for _ in range(3):
        atomic_write_text(tmp_path / "a.txt", "x")
    assert len(set(seen)) == 3
    assert all(n.startswith(f".a.txt.{os.getpid()}.") and n.endswith(".tmp") for n in seen)


def test_stale_temporaries_are_cleaned_on_the_next_write(tmp_path, monkeypatch):
    import time

    from bntheory import _io

    old = tmp_path / ".a.txt.999.0123456789abcdef.tmp"  # a writer killed long ago
    fresh = tmp_path / ".b.txt.998.fedcba9876543210.tmp"  # a writer still at work
    foreign = tmp_path / ".mine.tmp"  # not of our naming: never touched
    for f in (old, fresh, foreign):
        f.write_text("partial")
    long_ago = time.time() - _io.STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(foreign, (long_ago, long_ago))
    monkeypatch.setattr(_io, "_CLEANED", set())
    atomic_write_text(tmp_path / "c.txt", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, foreign.name, "c.txt"])


def test_file_lock_serializes_read_modify_write(tmp_path):
    import threading

    from bntheory._io import file_lock

    counter = tmp_path / "n"
    counter.write_text("0")

    def bump():
        for _ in range(50):
            with file_lock(tmp_path / ".lock"):
                n = int(counter.read_text())
                counter.write_text(str(n + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.read_text() == "200"


def test_canonical_codec_round_trips_arrays_exactly():
    import numpy as np

    from bntheory._io import canonical_json, decode, encode

    x = {"b": np.array([[1.5, -0.0]], dtype=np.float32), "a": np.complex128(1 + 2j), "t": (1, 2)}
    back = decode(json.loads(canonical_json(x)))
    assert back["b"].dtype == np.float32 and back["b"].shape == (1, 2)
    assert back["b"].tobytes() == x["b"].tobytes() and back["a"] == np.array(1 + 2j)
    assert back["t"] == [1, 2] and canonical_json(x).startswith('{"a":')
    assert encode(np.float64(0.1)) == 0.1 and type(encode(np.int64(3))) is int
    with pytest.raises(TypeError, match="where"):
        encode(object(), "where")


def test_codec_names_a_self_containing_value_and_excess_nesting():
    import sys

    from bntheory._codec import MAX_DEPTH
    from bntheory._io import canonical_json, encode

    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="grid: a list that contains itself"):
        encode(loop, "grid")
    d = {"k": [0]}
    d["k"].append(d)
    with pytest.raises(ValueError, match="params: a dict that contains itself"):
        canonical_json(d, "params")
    shared = [1.5]  # the same object twice is not a cycle
    assert json.loads(canonical_json({"a": shared, "b": [shared, shared]})) == {
        "a": [1.5],
        "b": [[1.5], [1.5]],
    }

    def nested(depth):
        v = []
        for _ in range(depth - 1):
            v = [v]
        return v

    assert encode(nested(MAX_DEPTH)) == nested(MAX_DEPTH)  # depth MAX_DEPTH is accepted
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH}"):
        encode(nested(MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="nested deeper"):  # no RecursionError
        encode(nested(sys.getrecursionlimit() + 10))

"""Atomic writes: whole file or the old one, never a partial file; normal permissions."""

from __future__ import annotations

import os

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

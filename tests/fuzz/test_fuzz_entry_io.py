"""Fuzzing of the store (:mod:`bntheory._io`) and the CLI's file helpers (issue 10).

Outcome on generated input: a result checked against an independent reference (the bytes
read back with plain ``open``, ``json.loads``, NumPy's own ``array_equal``, the files left
in the folder), or a ``ValueError``/``TypeError`` naming the argument (the documented
:class:`~bntheory._io.WriteError`/``OSError`` for operating-system failures); never another
exception or a leaked warning.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import re
import time
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ._harness import expect_valid_or_named_error, fuzz_settings, ints_any, scalars_any

_TMP_RE = re.compile(r"^\..+\.\d+\.[0-9a-f]{16}\.tmp$")
_DTYPES = ["?", "i1", "<i8", "u1", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"]


def _arrays():
    """Arrays of every dtype :func:`encode` supports, with 0..3 axes (some of length 0)."""
    shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
    return st.tuples(st.sampled_from(_DTYPES), shapes).flatmap(lambda a: arrays(*a))


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    _arrays(),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(
            st.text(max_size=3).filter(lambda k: k != "__ndarray__"), inner, max_size=3
        ),
    ),
    max_leaves=8,
)


def _same(a, b) -> bool:
    """Independent structural equality: arrays by dtype, shape and value (NaN == NaN and
    the sign of zero kept), tuples as lists, floats bit for bit."""
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            parts = [(a.real, b.real), (a.imag, b.imag)] if a.dtype.kind == "c" else [(a, b)]
            return all(
                np.array_equal(x, y, equal_nan=True)
                and np.array_equal(np.signbit(x), np.signbit(y))
                for x, y in parts
            )
        return np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
        )  # tuples come back as lists
    if isinstance(a, float):
        return isinstance(b, float) and (
            a == b
            and math.copysign(1, a) == math.copysign(1, b)
            or (math.isnan(a) and math.isnan(b))
        )
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------- canonical codec
@fuzz_settings(150)
@given(_values)
def test_codec_round_trip_is_exact(value):
    from bntheory._io import canonical_json, decode, dumps_canonical, encode

    text = canonical_json(value)
    assert text == dumps_canonical(encode(value))
    assert text.isascii()
    back = decode(json.loads(text))
    assert _same(value, back), (value, back)
    # canonical: encoding the decoded value gives the same text
    assert canonical_json(back) == text


@fuzz_settings(120)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "__ndarray__": st.one_of(
                st.lists(st.integers(-300, 300), max_size=4), st.sampled_from([1, "ab", None])
            ),
            "dtype": st.sampled_from(["<f8", "u1", "<c16", "O", "zz", "<U3", "M8[s]", 3, None]),
            "shape": st.one_of(
                st.lists(st.integers(-2, 4), max_size=2), st.sampled_from([None, "x", 2.5])
            ),
            "imag": st.lists(st.integers(-3, 3), max_size=4),
        },
    ).map(lambda d: {"__ndarray__": [], **d})
)
def test_decode_malformed_tagged_arrays(doc):
    from bntheory._io import decode

    out = expect_valid_or_named_error(decode, ["obj"], {"x": doc})
    if out is not None:
        arr = out["x"]
        assert isinstance(arr, np.ndarray) and arr.dtype.kind in "biufc"
        assert arr.shape == tuple(doc["shape"]) and arr.size == np.size(doc["__ndarray__"])


def test_complex_round_trip_regression():
    """Regression: an infinite imaginary part came back with a NaN real part (and a
    RuntimeWarning), a 0-d complex array came back as a NumPy scalar."""
    from bntheory._io import canonical_json, decode

    a = np.array([complex(1.0, np.inf), complex(-0.0, -np.inf), complex(np.inf, 0.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = decode(json.loads(canonical_json(a)))
    assert _same(a, b)
    z = np.array(complex(2.0, 3.0), dtype=np.complex64)
    back = decode(json.loads(canonical_json(z)))
    assert isinstance(back, np.ndarray) and _same(z, back)


def test_decode_malformed_regressions():
    """Regression: these raised KeyError, or decoded to an object array or a silently
    reshaped one, instead of a ValueError naming ``obj``."""
    from bntheory._io import decode

    bad = [
        {"__ndarray__": [1.0]},  # no dtype/shape: was KeyError
        {"__ndarray__": [1.0], "dtype": "<c16", "shape": [1]},  # no imag: was KeyError
        {"__ndarray__": [1, 2], "dtype": "O", "shape": [2]},  # object array: was accepted
        {"__ndarray__": [1, 2], "dtype": "<f8", "shape": [-1]},  # was silently reshaped
        {"__ndarray__": [1, 2], "dtype": "<f8", "shape": [3]},
    ]
    for doc in bad:
        with pytest.raises(ValueError, match="obj"):
            decode(doc)


@fuzz_settings(60)
@given(st.one_of(scalars_any, st.sampled_from([{1: 2}, {"__ndarray__": 1}, {1, 2}, b"x"])))
def test_encode_odd_values(value):
    from bntheory._io import encode

    out = expect_valid_or_named_error(encode, ["where", "value"], value, "value")
    if out is not None:
        json.dumps(out, allow_nan=True)  # plain JSON types only


# ---------------------------------------------------------------------- atomic writes
_paths = st.one_of(
    st.sampled_from(["a.bin", "sub/missing.bin", "", "..", None, 3, b"x.bin"]),
    st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=8),
)


@fuzz_settings(80)
@given(
    _paths,
    st.one_of(st.binary(max_size=64), st.sampled_from(["str", None, 3, bytearray(b"ab")])),
)
def test_atomic_write_bytes(tmp_path_factory, name, data):
    from bntheory._io import WriteError, atomic_write_bytes

    folder = tmp_path_factory.mktemp("w")
    target = name if not isinstance(name, str) else folder / name
    try:
        out = expect_valid_or_named_error(atomic_write_bytes, ["path", "data"], target, data)
    except WriteError as exc:  # documented: an OS failure, one line naming the file
        assert "\n" not in str(exc) and exc.filename in str(exc)
        out = None
    if out is not None:
        with open(out, "rb") as fh:
            assert fh.read() == bytes(data)
    assert not [p for p in os.listdir(folder) if _TMP_RE.match(p)]  # no temporary left


@fuzz_settings(60)
@given(
    st.one_of(st.text(max_size=8), st.sampled_from([None, 3, b"x"])),
    st.sampled_from(["utf-8", "ascii", "latin-1", "no-such-codec"]),
)
def test_atomic_write_text(tmp_path_factory, text, encoding):
    from bntheory._io import atomic_write_text

    p = tmp_path_factory.mktemp("t") / "f.txt"
    out = expect_valid_or_named_error(atomic_write_text, ["text", "encoding"], p, text, encoding)
    if out is not None:
        assert p.read_bytes() == text.encode(encoding)


def test_atomic_write_regressions(tmp_path):
    """Regression: a non-str text raised AttributeError, an unknown encoding LookupError,
    a None path and str data TypeErrors that did not name the argument."""
    from bntheory._io import atomic_write_bytes, atomic_write_text

    with pytest.raises(TypeError, match="text"):
        atomic_write_text(tmp_path / "a", 3)
    with pytest.raises(ValueError, match="encoding"):
        atomic_write_text(tmp_path / "a", "x", "no-such-codec")
    with pytest.raises(ValueError, match="text"):
        atomic_write_text(tmp_path / "a", "\xe9", "ascii")
    with pytest.raises(TypeError, match="path"):
        atomic_write_bytes(None, b"")
    with pytest.raises(TypeError, match="data"):
        atomic_write_bytes(tmp_path / "a", "str")
    assert os.listdir(tmp_path) == []


@fuzz_settings(80)
@given(
    st.one_of(
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3)),
            lambda s: st.one_of(
                st.lists(s, max_size=3), st.dictionaries(st.text(max_size=3), s, max_size=3)
            ),
            max_leaves=6,
        ),
        st.sampled_from([{1, 2}, object(), b"x", {"a": np.arange(2)}]),
    ),
    st.booleans(),
    st.sampled_from([None, 0, 2]),
)
def test_write_json_read_json(tmp_path_factory, obj, allow_nan, indent):
    from bntheory._io import read_json, write_json

    p = tmp_path_factory.mktemp("j") / "x.json"
    out = expect_valid_or_named_error(
        write_json, ["obj"], p, obj, indent=indent, allow_nan=allow_nan
    )
    if out is None:
        assert not p.exists()
        return
    text = p.read_text()
    assert text.endswith("\n")
    ref = json.loads(text)  # the independent parser
    back = read_json(p)
    assert json.dumps(back, sort_keys=True) == json.dumps(ref, sort_keys=True)
    assert json.dumps(ref, sort_keys=True) == json.dumps(obj, sort_keys=True)


def test_write_json_regression(tmp_path):
    """Regression: json's own errors did not name ``obj`` (nor the file)."""
    from bntheory._io import write_json

    with pytest.raises(ValueError, match="obj"):
        write_json(tmp_path / "a.json", {"x": float("nan")})
    with pytest.raises(TypeError, match="obj"):
        write_json(tmp_path / "a.json", {1, 2})


def test_read_json_errors_are_documented(tmp_path):
    from bntheory._io import read_json

    with pytest.raises(OSError):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError):
        read_json(tmp_path / "bad.json")


# ---------------------------------------------------------------------- stale temporaries
@fuzz_settings(60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    ".a.txt.12.0123456789abcdef.tmp",
                    ".b.1.fedcba9876543210.tmp",
                    "a.txt",
                    ".a.txt.x.0123456789abcdef.tmp",
                    ".a.12.0123.tmp",
                ]
            ),
            st.floats(0, 3600),
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    st.one_of(st.floats(0, 4000), st.just(0), scalars_any),
)
def test_clean_stale_temporaries(tmp_path_factory, files, max_age):
    from bntheory._io import clean_stale_temporaries

    folder = tmp_path_factory.mktemp("s")
    now = time.time()
    for name, age in files:
        (folder / name).write_bytes(b"")
        os.utime(folder / name, (now - age, now - age))
    out = expect_valid_or_named_error(clean_stale_temporaries, ["max_age"], folder, max_age)
    if out is None:
        assert len(os.listdir(folder)) == len(files)
        return
    # reference: our naming and older than max_age (a margin for the clock between the calls)
    gone = {n for n, age in files if _TMP_RE.match(n) and age > max_age + 1.0}
    kept = {n for n, age in files if not _TMP_RE.match(n) or age < max_age - 1.0}
    left = set(os.listdir(folder))
    assert not (gone & left) and kept <= left and out == len(files) - len(left)


def test_clean_stale_temporaries_regression(tmp_path):
    """Regression: a str max_age raised an unnamed TypeError, a negative one removed the
    temporaries of live writers, NaN silently removed nothing."""
    from bntheory._io import clean_stale_temporaries

    (tmp_path / ".a.1.0123456789abcdef.tmp").write_bytes(b"")
    for bad, exc in (("abc", TypeError), (-1.0, ValueError), (float("nan"), ValueError)):
        with pytest.raises(exc, match="max_age"):
            clean_stale_temporaries(tmp_path, bad)
    assert len(os.listdir(tmp_path)) == 1
    assert clean_stale_temporaries(tmp_path / "missing") == 0


def test_write_error_is_one_picklable_line():
    import errno

    from bntheory._io import WriteError

    exc = WriteError(errno.ENOSPC, "cannot write 'x': full", "x")
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, OSError) and str(back) == str(exc) == "cannot write 'x': full"
    assert (back.errno, back.filename) == (errno.ENOSPC, "x")


# ---------------------------------------------------------------------- CLI file helpers
@fuzz_settings(40)
@given(
    st.sampled_from(["out.json", "missing/out.json", "dir", ".", "dir/x.json"]),
    st.sampled_from(["--json", "--md"]),
)
def test_cli_writable_file(tmp_path_factory, name, what):
    from bntheory.cli.common import UsageError, writable_file

    root = tmp_path_factory.mktemp("c")
    (root / "dir").mkdir()
    before = sorted(os.listdir(root))
    try:
        out = writable_file(root / name, what)
    except UsageError as exc:
        assert what in str(exc) and "\n" not in str(exc)
    else:
        assert not out.is_dir() and out.parent.is_dir()
    assert sorted(os.listdir(root)) == before  # never creates a folder nor leaves a probe


def test_cli_writable_dir(tmp_path):
    from bntheory.cli.common import UsageError, writable_dir

    assert writable_dir(tmp_path / "a" / "b", "--out").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="--out"):
        writable_dir(tmp_path / "f" / "sub", "--out")


@pytest.mark.parametrize("name", ["all", "mnist", "fashion-mnist"])
def test_cli_data_status_and_dry_run(name, tmp_path, monkeypatch, capsys):
    """``data status`` and ``data install --dry-run`` only look and print (no download)."""
    from bntheory.cli.data import cmd_data_install, cmd_data_status

    monkeypatch.setenv("BNTHEORY_DATA", str(tmp_path))
    code = cmd_data_status(argparse.Namespace(name=name))
    out = capsys.readouterr().out
    assert code in (0, 1) and ("MISSING" in out) == (code == 1)
    assert cmd_data_install(argparse.Namespace(name=name, dry_run=True)) in (0, 1)


@fuzz_settings(30)
@given(st.one_of(ints_any, st.just(float("nan"))))
def test_pin_blas_threads(n):
    """Bad thread counts are refused before the environment is touched (the thread pools
    of this process are left alone: ``threadpool_limits`` is replaced by a recorder)."""
    import threadpoolctl

    from bntheory.sweep.executors import BLAS_ENV_VARS, pin_blas_threads

    saved = {v: os.environ.get(v) for v in BLAS_ENV_VARS}
    calls = []
    real = threadpoolctl.threadpool_limits
    threadpoolctl.threadpool_limits = lambda limits: calls.append(limits)
    try:
        expect_valid_or_named_error(pin_blas_threads, ["n"], n)
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1:
            assert all(os.environ[v] == str(int(n)) for v in BLAS_ENV_VARS)
            assert calls == [int(n)]
        else:
            assert {v: os.environ.get(v) for v in BLAS_ENV_VARS} == saved and calls == []
    finally:
        threadpoolctl.threadpool_limits = real
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def test_pin_blas_threads_regression():
    """Regression: 0 and -1 were written to OMP_NUM_THREADS & co (invalid values), a str
    raised an unnamed ValueError from ``int()``."""
    from bntheory.sweep.executors import pin_blas_threads

    before = dict(os.environ)
    for bad, exc in ((0, ValueError), (-1, ValueError), ("abc", TypeError), (2.5, TypeError)):
        with pytest.raises(exc, match="n must"):
            pin_blas_threads(bad)
    assert dict(os.environ) == before

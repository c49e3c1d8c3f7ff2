"""The store: atomic file writes, the canonical JSON codec and file locks.

Every file the project writes goes through :func:`atomic_write_bytes`: the content goes to
a temporary file in the same directory, named ``.<target>.<pid>.<random>.tmp`` (unique per
process and per call), is flushed and fsynced, then ``os.replace``-d onto the target. A
reader never sees a partial file; on any error (a full disk, a read-only folder, Ctrl-C)
the temporary is removed and the target is left as it was. An operating-system error is
re-raised as :class:`WriteError`, whose one-line message names the file. Temporaries of this
naming older than :data:`STALE_SECONDS` (left by a process killed with ``kill -9``) are
removed on the next write into their folder (once per folder and process).

The canonical JSON codec (:func:`encode`, :func:`decode`, :func:`canonical_json`; defined in
:mod:`bntheory._codec`, re-exported here) is the one behind sweep cell files and cache keys: sorted keys, no spaces, numpy arrays stored as tagged
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bntheory._codec import canonical_json, decode, dumps_canonical, encode

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

    Raises
    ------
    TypeError, ValueError
        ``max_age`` is not a real number, or is NaN or negative (a negative age would
        remove the live temporaries of concurrent writers).
    """
    if isinstance(max_age, bool) or not isinstance(max_age, (int, float, np.integer, np.floating)):
        raise TypeError(f"max_age must be a number of seconds, got {type(max_age).__name__}")
    if not max_age >= 0:
        raise ValueError(f"max_age must be >= 0 seconds, got {max_age!r}")
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


def _as_path(path: object) -> Path:
    """``Path(path)``, or a TypeError naming ``path`` for anything but a str or path-like."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


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
    TypeError
        ``path`` is not a str or path-like, or ``data`` is not bytes-like.
    """
    path = _as_path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
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

    Raises
    ------
    TypeError
        ``text`` is not a str (or ``path`` not a path).
    ValueError
        Unknown ``encoding``, or ``text`` not encodable in it.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        data = text.encode(encoding)
    except LookupError:
        raise ValueError(f"encoding {encoding!r} is not a known text encoding") from None
    except UnicodeEncodeError as exc:
        raise ValueError(f"text cannot be encoded as {encoding!r}: {exc}") from None
    return atomic_write_bytes(path, data)


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

    Raises
    ------
    TypeError
        ``obj`` holds a value JSON cannot represent (message names ``obj``).
    ValueError
        ``obj`` holds NaN or an infinity and ``allow_nan`` is False (message names ``obj``).
    """
    try:
        text = json.dumps(obj, indent=indent, allow_nan=allow_nan)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"obj cannot be written as JSON to {str(path)!r}: {exc}") from None
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

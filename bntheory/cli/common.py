"""What the CLI's commands share: exit codes, the usage error, output-path checks."""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "writable_dir", "writable_file"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user error: reported as one line on stderr, exit code 2."""


def writable_dir(path: str | Path, what: str) -> Path:
    """Create the folder ``path`` if needed and check that it is writable.

    Parameters
    ----------
    path : str or Path
        The folder.
    what : str
        The option it comes from (``--out``), for the error message.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        Naming ``what`` when the folder cannot be created or written.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".bntheory-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{what} {str(path)!r} is not writable ({exc.strerror or exc})") from None
    return path


def writable_file(path: str | Path, what: str) -> Path:
    """Check that the file ``path`` can be written, without creating any folder.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        The option it comes from (``--json``), for the error message.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        Naming ``what`` when the folder is missing or unwritable, or ``path`` is a folder.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():  # never create folders the user did not ask for
        raise UsageError(f"{what} {str(path)!r}: folder {str(parent)!r} does not exist")
    writable_dir(parent, f"folder of {what}")
    if path.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a directory")
    return path

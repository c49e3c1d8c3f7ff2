"""A sweep's folder: one JSON file per finished cell and the runs' metadata.

``out_dir/cells/<key>.json`` holds one finished cell (written atomically through
:mod:`bntheory._io`, checked on load by its key, format version and the SHA-256 of its
value); ``out_dir/metadata.json`` lists every run (package versions, seed entropy, git
revision, start and end time, counts, failures). Metadata is a read-modify-write shared by
concurrent sweeps on the same folder, so it is done under an exclusive lock
(``out_dir/.metadata.lock``): no run's update is lost.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bntheory._io import atomic_write_text, encode, file_lock

__all__ = ["cell_doc", "load_cell", "write_metadata"]

FORMAT_VERSION = 1


def load_cell(path: Path, key: str) -> tuple[Any, Any] | None:
    """The stored value of a valid cell file, or None (missing, corrupt or foreign).

    Parameters
    ----------
    path : Path
        The cell file.
    key : str
        The cell's key (see :func:`bntheory.sweep.cell_key`).

    Returns
    -------
    tuple or None
        ``(encoded value, elapsed seconds)``, None when the file cannot be trusted.
    """
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    if not isinstance(doc, dict) or doc.get("key") != key or doc.get("format") != FORMAT_VERSION:
        return None
    payload = doc.get("value_json")
    if (
        not isinstance(payload, str)
        or doc.get("sha256") != hashlib.sha256(payload.encode()).hexdigest()
    ):
        return None
    try:
        return (json.loads(payload), doc.get("elapsed"))
    except (ValueError, RecursionError):
        return None


def cell_doc(
    key: str,
    fn_name: str,
    params: dict[str, Any],
    seed_index: int,
    entropy: int,
    payload: str,
    elapsed: float,
) -> str:
    """The text of a cell file.

    Parameters
    ----------
    key : str
        The cell's key.
    fn_name : str
        Name of the cell function.
    params : dict
        The cell's parameters.
    seed_index : int
        Seed index.
    entropy : int
        Root seed entropy.
    payload : str
        Canonical JSON of the encoded value.
    elapsed : float
        Seconds the cell took.

    Returns
    -------
    str
        The JSON document.
    """
    doc = {
        "format": FORMAT_VERSION,
        "key": key,
        "fn": fn_name,
        "params": encode(params, "params"),
        "seed_index": seed_index,
        "root_seed": entropy,
        "elapsed": elapsed,
        "value_json": payload,
        "sha256": hashlib.sha256(payload.encode()).hexdigest(),
    }
    return json.dumps(doc, indent=1, allow_nan=True)


def git_revision() -> str | None:
    """The checkout's ``git rev-parse HEAD``, or None outside a git checkout.

    Returns
    -------
    str or None
        40 hex digits.
    """
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if out.returncode == 0 and rev else None


def versions() -> dict[str, str | None]:
    """Versions of Python, NumPy, SciPy, SymPy and bntheory.

    Returns
    -------
    dict
        Name -> version (None when not installed).
    """
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in ("numpy", "scipy", "sympy", "bntheory"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out["bntheory"] is None:
        from bntheory import __version__

        out["bntheory"] = __version__
    return out


def now() -> str:
    """The current UTC time, ISO 8601 to the second.

    Returns
    -------
    str
        E.g. ``2026-01-31T12:00:00+00:00``.
    """
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_metadata(out_dir: Path, run: dict[str, Any]) -> None:
    """Add or update one run in ``out_dir/metadata.json`` (under the folder's lock).

    Parameters
    ----------
    out_dir : Path
        The sweep folder.
    run : dict
        The run's metadata; replaces the stored run with the same ``run_id``.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        ``run`` is not a dict with a ``run_id`` entry.
    """
    if not isinstance(run, dict) or "run_id" not in run:
        raise TypeError(f"run must be a dict with a 'run_id' entry, got {run!r:.80}")
    path = out_dir / "metadata.json"
    with file_lock(out_dir / ".metadata.lock"):
        runs: list[Any] = []
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(old, dict) and isinstance(old.get("runs"), list):
                runs = old["runs"]
        except (OSError, ValueError, RecursionError):  # unreadable: start a new list
            pass
        # a hand-edited or foreign file may hold entries that are not dicts: keep them as
        # they are, and replace only the dict of this run
        runs = [
            r for r in runs if not (isinstance(r, dict) and r.get("run_id") == run["run_id"])
        ] + [run]
        atomic_write_text(path, json.dumps({"runs": runs, "last": run}, indent=1, allow_nan=True))

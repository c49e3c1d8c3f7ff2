"""Parameter sweeps over any :class:`concurrent.futures.Executor`.

A sweep runs ``fn(**params, rng=generator)`` for every cell of a parameter grid (the
cartesian product of its axes) and every seed index, on

* :class:`SerialExecutor` (the default): in this process, one cell at a time;
* :class:`concurrent.futures.ProcessPoolExecutor`: local processes, built by
  :func:`executor_from_spec` with the ``spawn`` start method and BLAS pinned to one
  thread per worker;
* ``dask.distributed``: ``Client.get_executor()`` (needs the ``cluster`` extra), for a
  cluster or a local multi-process cluster.

Determinism
-----------
Each (cell, seed index) gets its own stream,
``SeedSequence(root_entropy, spawn_key=(h, seed_index))`` where ``h`` is a 128-bit
integer taken from the SHA-256 of the canonical JSON of the cell's parameters. This is
the construction behind ``SeedSequence.spawn`` (children differ only in ``spawn_key``),
keyed by the cell's *parameters* instead of its position in the grid, so that a cell's
stream, and hence its result, does not depend on the executor, on the number of
workers, on the order in which cells finish, nor on which other cells are in the grid: a
sub-grid run and the full run share their common cells, which is what makes resuming
safe. Serial execution pins BLAS to one thread as the workers do, since a multi-threaded
BLAS reduction may round differently; with that, results are bit-identical across
executors (checked by the tests).

Caching and resume
------------------
With ``out_dir``, every finished cell is written to ``out_dir/cells/<key>.json`` as soon
as it finishes, atomically (temporary file in the same directory, then
:func:`os.replace`), where ``key`` is :func:`cell_key`: the SHA-256 of the canonical
JSON of the function's qualified name, the parameters, the seed index and the root
seed entropy. A re-run with the same arguments loads finished cells and computes only
the rest; a cell file that does not parse, or whose key or checksum does not match, is
recomputed. Failed cells are not cached (they are retried on the next run). Each run
appends its metadata (package versions, seed entropy, git revision, start and end time,
counts, failures) to ``out_dir/metadata.json``.

Values
------
``fn`` returns JSON-able data: dicts, lists, strings, numbers, booleans, None, numpy
scalars and numpy arrays (bool, integer, float or complex). Arrays are stored as tagged
lists and restored as arrays of the same dtype and shape; float64 survives the JSON
round trip exactly (shortest round-trip ``repr``). Fresh and cached results go through
the same encoding, so a record is the same whether it was computed now or loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent import futures as cf
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Grid",
    "SerialExecutor",
    "SweepResult",
    "cell_key",
    "cell_seed",
    "executor_from_spec",
    "pin_blas_threads",
    "run_sweep",
]

_BLAS_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------
# grid
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class Grid:
    """A parameter grid: named axes, each a non-empty sequence of values.

    Cells are the cartesian product of the axes in the order they were given, the last
    axis varying fastest (``itertools.product`` order).

    Parameters
    ----------
    **axes
        ``name=[value, ...]``. A value must be JSON-able (numbers, strings, booleans,
        None, lists, dicts, numpy scalars/arrays) since it is part of the cell's key.

    Examples
    --------
    >>> g = Grid(lr=[0.1, 0.5], dim=[10, 20, 30])
    >>> len(g), g.shape
    (6, (2, 3))
    >>> g.cells()[1]
    {'lr': 0.1, 'dim': 20}
    """

    axes: tuple[tuple[str, tuple[Any, ...]], ...]

    def __init__(self, **axes: Iterable[Any]) -> None:
        object.__setattr__(self, "axes", _normalize_axes(axes, "grid"))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[Any]] | Grid) -> Grid:
        """Build a grid from a ``dict`` of lists (or return a :class:`Grid` unchanged)."""
        if isinstance(mapping, Grid):
            return mapping
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"grid must be a Grid or a mapping of axis name -> list of values, "
                f"got {type(mapping).__name__}"
            )
        g = object.__new__(cls)
        object.__setattr__(g, "axes", _normalize_axes(mapping, "grid"))
        return g

    @property
    def names(self) -> tuple[str, ...]:
        """Axis names, in order."""
        return tuple(name for name, _ in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values on each axis."""
        return tuple(len(values) for _, values in self.axes)

    def __len__(self) -> int:
        return math.prod(self.shape)

    def cells(self) -> list[dict[str, Any]]:
        """Parameter dicts of every cell, in cartesian-product order."""
        names = self.names
        return [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(v for _, v in self.axes))
        ]


def _normalize_axes(
    axes: Mapping[str, Any], argname: str
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    out = []
    for name, values in axes.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{argname}: axis name {name!r} is not a valid Python identifier")
        if name == "rng":
            raise ValueError(f"{argname}: axis name 'rng' is reserved (fn receives rng=Generator)")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(
                f"{argname}: axis {name!r} must be a list of values, got {type(values).__name__}"
            )
        values = tuple(values)
        if not values:
            raise ValueError(
                f"{argname}: axis {name!r} is empty; every axis needs at least one value"
            )
        for v in values:
            _canonical_json(v, f"{argname}[{name!r}]")  # JSON-able check
        out.append((name, values))
    return tuple(out)


# ---------------------------------------------------------------------------
# encoding, keys and seeds
# ---------------------------------------------------------------------------


def _encode(obj: Any, where: str) -> Any:
    """Turn ``obj`` into plain JSON types; arrays become tagged dicts."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        # bool already handled; np.float64 is a float subclass -> plain float
        return float(obj) if isinstance(obj, float) else int(obj)
    if isinstance(obj, np.generic):
        if isinstance(obj, np.complexfloating):
            return _encode(np.asarray(obj), where)
        return _encode(obj.item(), where)
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
            out[k] = _encode(v, where)
        return out
    if isinstance(obj, (list, tuple)):
        return [_encode(v, where) for v in obj]
    raise TypeError(
        f"{where}: value of type {type(obj).__name__} is not JSON-able "
        "(use numbers, strings, booleans, None, lists, dicts or numpy arrays)"
    )


def _decode(obj: Any) -> Any:
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
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def _canonical_json(obj: Any, where: str = "params") -> str:
    return _dumps(_encode(obj, where))


def _fn_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{qualname}"


def cell_key(fn_name: str, params: Mapping[str, Any], seed_index: int, root_entropy: int) -> str:
    """Cache key of one sweep cell.

    The SHA-256 (hex) of the canonical JSON (sorted keys, no spaces, arrays tagged) of
    ``{"fn": fn_name, "params": params, "seed_index": ..., "root_seed": ...}``. The order
    of the keys in ``params`` does not matter; ``1`` and ``1.0`` give different keys (the
    function may treat them differently), a tuple and a list with the same items the same.
    """
    payload = {
        "fn": str(fn_name),
        "params": dict(params),
        "seed_index": int(seed_index),
        "root_seed": int(root_entropy),
    }
    return hashlib.sha256(_canonical_json(payload, "params").encode()).hexdigest()


def _params_word(params: Mapping[str, Any]) -> int:
    digest = hashlib.sha256(_canonical_json(dict(params), "params").encode()).digest()
    return int.from_bytes(digest[:16], "little")


def cell_seed(
    params: Mapping[str, Any], seed_index: int, root_entropy: int
) -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` of one (cell, seed index).

    ``SeedSequence(root_entropy, spawn_key=(h, seed_index))`` with ``h`` the first 128
    bits of the SHA-256 of the canonical JSON of ``params``; the streams of different
    cells and seed indices are independent in the sense of ``SeedSequence.spawn``
    (O'Neill's SeedSequence design, as documented by NumPy).
    """
    return np.random.SeedSequence(
        int(root_entropy), spawn_key=(_params_word(params), int(seed_index))
    )


# ---------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------


def pin_blas_threads(n: int = 1) -> None:
    """Limit BLAS/OpenMP thread pools of this process to ``n`` threads.

    Sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and the
    BLIS/vecLib/numexpr equivalents) to ``n``, which governs libraries loaded from now
    on, and, if ``threadpoolctl`` is installed, limits the already loaded ones at run
    time (needed because NumPy's BLAS reads the variables only when it is first loaded).
    Used as the initializer of worker processes.
    """
    for var in _BLAS_ENV_VARS:
        os.environ[var] = str(int(n))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return
    threadpool_limits(limits=int(n))


class SerialExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` that runs each call at ``submit`` time.

    Parameters
    ----------
    blas_threads : int or None, default 1
        Run each call under a ``threadpoolctl`` limit of this many BLAS threads (as the
        worker processes do, so serial and parallel results are bit-identical). None
        leaves the thread pools alone.

    Notes
    -----
    Exceptions derived from :class:`Exception` are stored in the returned future;
    others (``KeyboardInterrupt``, ``SystemExit``) propagate from ``submit``.
    """

    def __init__(self, blas_threads: int | None = 1) -> None:
        if blas_threads is not None and (not isinstance(blas_threads, int) or blas_threads < 1):
            raise ValueError(f"blas_threads must be a positive int or None, got {blas_threads!r}")
        self._blas_threads = blas_threads
        self._shutdown = False
        self._lock = threading.Lock()

    def _limits(self) -> contextlib.AbstractContextManager[Any]:
        if self._blas_threads is None:
            return contextlib.nullcontext()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover
            return contextlib.nullcontext()
        return threadpool_limits(limits=self._blas_threads)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        future: cf.Future = cf.Future()
        if not future.set_running_or_notify_cancel():  # pragma: no cover - never cancelled
            return future
        try:
            with self._limits():
                result = fn(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True


_DASK_EXTRA_MSG = (
    "dask.distributed is needed for the dask executors; install the 'cluster' extra: "
    "pip install 'bntheory[cluster]'"
)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_DASK_EXTRA_MSG) from exc
    return distributed


def _parse_count(text: str, spec: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"spec {spec!r}: worker count {text!r} is not an integer") from None
    if n < 1:
        raise ValueError(f"spec {spec!r}: worker count must be >= 1, got {n}")
    return n


@contextlib.contextmanager
def executor_from_spec(
    spec: str | None = "serial", *, jobs: int | None = None
) -> Iterator[cf.Executor]:
    """Create an executor from a short spec string, as a context manager.

    Parameters
    ----------
    spec : str
        * ``"serial"`` (or None): :class:`SerialExecutor`;
        * ``"processes"`` or ``"processes:N"``: ``ProcessPoolExecutor`` with N workers
          (default ``jobs``, else ``os.cpu_count()``), ``spawn`` start method and BLAS
          pinned to one thread per worker (:func:`pin_blas_threads` as initializer).
          ``spawn`` (not ``fork``) gives each worker a fresh interpreter, so the
          environment variables and thread limits take effect before any BLAS work
          and no thread state of the parent is copied;
        * ``"dask://HOST:PORT"`` (or ``"tcp://HOST:PORT"``): connect a
          ``dask.distributed.Client`` to a running scheduler and use
          ``client.get_executor()``; BLAS is pinned on every worker. ``bntheory``
          (and the module defining ``fn``) must be importable on the workers;
        * ``"dask-local"`` or ``"dask-local:N"``: a ``LocalCluster`` of N worker
          processes (default ``jobs``, else 2) with one thread each, on 127.0.0.1,
          dashboard disabled.
    jobs : int, optional
        Default worker count when the spec gives none (the CLI's ``--jobs``).

    Yields
    ------
    concurrent.futures.Executor
        Shut down (and the Dask client/cluster closed) on exit.

    Raises
    ------
    ValueError
        Unknown spec or bad worker count.
    ImportError
        A dask spec without the ``cluster`` extra installed.
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive int or None, got {jobs!r}")
    if spec is None:
        spec = "serial"
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string, got {type(spec).__name__}")
    s = spec.strip()
    if s == "serial":
        ex = SerialExecutor()
        try:
            yield ex
        finally:
            ex.shutdown()
        return
    if s == "processes" or s.startswith("processes:"):
        n = _parse_count(s.split(":", 1)[1], spec) if ":" in s else (jobs or os.cpu_count() or 1)
        import multiprocessing

        pool = cf.ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=pin_blas_threads,
            initargs=(1,),
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if s.startswith(("dask://", "tcp://")):
        distributed = _import_distributed()
        address = "tcp://" + s.split("://", 1)[1]
        client = distributed.Client(address, set_as_default=False)
        try:
            client.run(pin_blas_threads, 1)
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    if s == "dask-local" or s.startswith("dask-local:"):
        n = _parse_count(s.split(":", 1)[1], spec) if ":" in s else (jobs or 2)
        distributed = _import_distributed()
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # the scheduler always serves /health and /metrics over HTTP, by default on
            # port 8787 (warning when taken): bind it to a free loopback port instead
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )
        try:
            client = distributed.Client(cluster, set_as_default=False)
            try:
                client.run(pin_blas_threads, 1)
                yield client.get_executor(pure=False)
            finally:
                client.close()
        finally:
            cluster.close()
        return
    raise ValueError(
        f"spec: unknown executor spec {spec!r}; expected 'serial', 'processes', 'processes:N', "
        "'dask://HOST:PORT', 'dask-local' or 'dask-local:N'"
    )


# ---------------------------------------------------------------------------
# the cell runner (module level, so it pickles by reference)
# ---------------------------------------------------------------------------


def _run_cell(
    fn: Callable[..., Any],
    params: dict[str, Any],
    seed_index: int,
    root_entropy: int,
    raise_errors: bool,
) -> tuple[str, str, float]:
    """Run one cell; return ``(status, payload, elapsed)``.

    ``payload`` is the canonical JSON of the encoded value when ``status == "ok"``, the
    formatted exception otherwise.
    """
    t0 = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(cell_seed(params, seed_index, root_entropy)))
    try:
        value = fn(**params, rng=rng)
        payload = _dumps(_encode(value, "fn return value"))
    except Exception as exc:
        if raise_errors:
            raise
        msg = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=-3)
        return "failed", msg + "\n" + tb, time.perf_counter() - t0
    return "ok", payload, time.perf_counter() - t0


# ---------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    records : tuple of dict
        One per (cell, seed index), in grid order then seed order. Keys: ``params``
        (dict), ``seed_index`` (int), ``value`` (fn's return, arrays restored; None if
        failed), ``status`` (``"ok"`` or ``"failed"``), ``error`` (message or None),
        ``cached`` (bool), ``key`` (str, see :func:`cell_key`), ``elapsed`` (seconds
        the cell took when it was computed, also for cached cells).
    grid : Grid
    seeds : tuple of int
        Seed indices.
    root_entropy : int
        Entropy of the root :class:`numpy.random.SeedSequence`.
    n_cached, n_computed, n_failed : int
        Cells loaded from ``out_dir``, computed in this run (successfully), failed.
    wall_time : float
        Seconds.
    out_dir : pathlib.Path or None
    """

    records: tuple[dict[str, Any], ...]
    grid: Grid
    seeds: tuple[int, ...]
    root_entropy: int
    n_cached: int
    n_computed: int
    n_failed: int
    wall_time: float
    out_dir: Path | None = None
    fn_name: str = ""
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def failures(self) -> tuple[dict[str, Any], ...]:
        """Records of failed cells."""
        return tuple(r for r in self.records if r["status"] != "ok")

    @property
    def ok(self) -> bool:
        """True when no cell failed."""
        return self.n_failed == 0

    def summary(self) -> str:
        """One line: cells done, reused from cache, failed, wall time."""
        total = len(self.records)
        return (
            f"sweep {self.fn_name}: {total} cells ({len(self.grid)} params x {len(self.seeds)} seeds): "
            f"{self.n_computed} computed, {self.n_cached} reused from cache, "
            f"{self.n_failed} failed, wall time {self.wall_time:.2f} s"
        )

    def to_table(self) -> list[dict[str, Any]]:
        """Flat rows: parameters, ``seed_index``, ``status`` and the value's entries.

        A dict value contributes its items as columns; any other value goes in a
        ``value`` column. Failed cells have an ``error`` column. Pass the result to
        ``pandas.DataFrame`` for a data frame.
        """
        rows = []
        for r in self.records:
            row = dict(r["params"])
            row["seed_index"] = r["seed_index"]
            row["status"] = r["status"]
            v = r["value"]
            if isinstance(v, dict):
                row.update(v)
            elif r["status"] == "ok":
                row["value"] = v
            if r["status"] != "ok":
                row["error"] = r["error"]
            rows.append(row)
        return rows

    def as_arrays(self, key: str | None = None) -> np.ndarray:
        """Stack one entry of the values into an array of shape ``(*grid.shape, n_seeds, ...)``.

        Parameters
        ----------
        key : str, optional
            Entry of a dict value; None uses the whole value.

        Returns
        -------
        numpy.ndarray
            Entries must have a common shape. Failed cells are filled with NaN (the
            array is then float); with no failure the dtype is the entries' own.
        """
        entries = []
        for r in self.records:
            if r["status"] != "ok":
                entries.append(None)
                continue
            v = r["value"]
            if key is not None:
                if not isinstance(v, dict) or key not in v:
                    raise KeyError(
                        f"key {key!r} is not in the value of cell {r['params']} seed {r['seed_index']}"
                    )
                v = v[key]
            entries.append(np.asarray(v))
        good = [e for e in entries if e is not None]
        if not good:
            raise ValueError("as_arrays: every cell failed; nothing to stack")
        shape = good[0].shape
        if any(e.shape != shape for e in good):
            raise ValueError(f"as_arrays: entries for key {key!r} have different shapes")
        if len(good) < len(entries):
            fill = np.full(shape, np.nan)
            entries = [fill if e is None else e.astype(np.float64) for e in entries]
        out = np.stack(entries)
        return out.reshape(*self.grid.shape, len(self.seeds), *shape)

    def value(self, seed_index: int = 0, **params: Any) -> Any:
        """The value of one cell, looked up by its parameters and seed index."""
        key = cell_key(self.fn_name, params, seed_index, self.root_entropy)
        if key not in self._index:
            raise KeyError(f"no cell with params {params} and seed_index {seed_index}")
        r = self.records[self._index[key]]
        if r["status"] != "ok":
            raise RuntimeError(f"cell {params} seed {seed_index} failed: {r['error']}")
        return r["value"]


# ---------------------------------------------------------------------------
# disk
# ---------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`bntheory._io.atomic_write_text`)."""
    from bntheory._io import atomic_write_text

    atomic_write_text(path, text)


def _load_cell(path: Path, key: str) -> Any | None:
    """Return the decoded value of a valid cell file, or None (missing / corrupt)."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key or doc.get("format") != _FORMAT_VERSION:
        return None
    payload = doc.get("value_json")
    if (
        not isinstance(payload, str)
        or doc.get("sha256") != hashlib.sha256(payload.encode()).hexdigest()
    ):
        return None
    try:
        return (json.loads(payload), doc.get("elapsed"))
    except ValueError:
        return None


def _cell_doc(
    key: str,
    fn_name: str,
    params: dict,
    seed_index: int,
    entropy: int,
    payload: str,
    elapsed: float,
) -> str:
    doc = {
        "format": _FORMAT_VERSION,
        "key": key,
        "fn": fn_name,
        "params": _encode(params, "params"),
        "seed_index": seed_index,
        "root_seed": entropy,
        "elapsed": elapsed,
        "value_json": payload,
        "sha256": hashlib.sha256(payload.encode()).hexdigest(),
    }
    return json.dumps(doc, indent=1, allow_nan=True)


def _git_revision() -> str | None:
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


def _versions() -> dict[str, str | None]:
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_metadata(out_dir: Path, run: dict[str, Any]) -> None:
    path = out_dir / "metadata.json"
    runs: list[Any] = []
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(old, dict) and isinstance(old.get("runs"), list):
            runs = old["runs"]
    except (OSError, ValueError):
        pass
    runs = [r for r in runs if r.get("run_id") != run["run_id"]] + [run]
    _atomic_write(path, json.dumps({"runs": runs, "last": run}, indent=1, allow_nan=True))


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------


class _Progress:
    def __init__(self, enabled: bool | None, total: int, initial: int, desc: str) -> None:
        self.bar = None
        if enabled is None:
            enabled = sys.stderr.isatty() and not os.environ.get("CI")
        if enabled and total > 0:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(
                    total=total, initial=initial, desc=desc, unit="cell", dynamic_ncols=True
                )

    def update(self, failed: bool, n_failed: int) -> None:
        if self.bar is not None:
            if failed:
                self.bar.set_postfix(failed=n_failed, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------
# run_sweep
# ---------------------------------------------------------------------------


#: largest seed count accepted as an int (a larger count cannot be materialised as runs)
MAX_SEEDS = 10**6

#: Default cap on the number of records (grid cells x seeds) of :func:`run_sweep`
#: (``max_records=`` overrides it): every record is a dict of about 1 KB held in memory,
#: so 10**6 records need about 1 GB before the first cell runs.
MAX_RECORDS = 10**6


def _normalize_seeds(seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise TypeError(
            "seeds must be a positive int or a list of non-negative seed indices, got bool"
        )
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        if seeds > MAX_SEEDS:
            raise ValueError(f"seeds must be <= {MAX_SEEDS} (number of seeds), got {seeds}")
        return tuple(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(
            f"seeds must be a positive int or a list of seed indices, got {type(seeds).__name__}"
        )
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seeds: seed indices must be non-negative ints, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds: the list of seed indices is empty")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds: seed indices must be distinct, got {out}")
    return tuple(out)


def run_sweep(
    fn: Callable[..., Any],
    grid: Grid | Mapping[str, Iterable[Any]],
    *,
    seeds: int | Sequence[int] = 3,
    root_seed: int | None = 0,
    executor: cf.Executor | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    desc: str | None = None,
    raise_errors: bool = False,
    name: str | None = None,
    max_records: int | None = None,
) -> SweepResult:
    """Run ``fn(**params, rng=Generator)`` on every cell of ``grid`` and every seed.

    Parameters
    ----------
    fn : callable
        ``fn(**params, rng=numpy.random.Generator) -> JSON-able`` (dict of numbers,
        lists, numpy arrays, ...). For process or Dask executors it must be importable
        (a module-level function), since it is pickled by reference.
    grid : Grid or dict of lists
        Parameter axes; cells are their cartesian product (last axis fastest).
    seeds : int or list of int, default 3
        Number of seeds (indices ``0..seeds-1``, at most ``MAX_SEEDS``) or explicit seed
        indices.
    root_seed : int or None, default 0
        Entropy of the root :class:`numpy.random.SeedSequence`; None draws fresh entropy
        (recorded in the result and the metadata). See :func:`cell_seed`.
    executor : concurrent.futures.Executor, optional
        Where cells run; default a :class:`SerialExecutor`. See :func:`executor_from_spec`.
    out_dir : path, optional
        Directory for cell files and ``metadata.json``; enables caching and resume.
    progress : bool or None
        Progress bar (tqdm, if installed) and a final one-line summary on stderr. None:
        bar only on a TTY and not when the environment variable ``CI`` is set, summary
        printed. False: silent.
    desc : str, optional
        Label of the progress bar (default: fn's name).
    raise_errors : bool, default False
        Re-raise the first exception of a cell (pending cells are cancelled; finished
        ones stay cached). Otherwise a failing cell is recorded as failed with its
        message and the sweep goes on.
    name : str, optional
        Name of fn used in the cache key (default ``module.qualname``); set it when the
        qualified name is not stable (e.g. a ``functools.partial``).
    max_records : int, optional
        Largest accepted number of records ``len(grid) * n_seeds`` (default
        :data:`MAX_RECORDS`, 10**6); more raises ValueError before any record is built.

    Returns
    -------
    SweepResult

    Raises
    ------
    TypeError
        ``fn`` not callable; ``grid`` not a Grid or mapping; non-JSON-able parameter.
    ValueError
        Empty axis, ``seeds < 1`` or ``seeds > MAX_SEEDS``, bad ``root_seed``, more than
        ``max_records`` cells x seeds.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    grid = Grid.from_mapping(grid)
    seed_idx = _normalize_seeds(seeds)
    if max_records is None:
        limit = MAX_RECORDS
    elif isinstance(max_records, bool) or not isinstance(max_records, (int, np.integer)):
        raise TypeError(f"max_records must be an int, got {type(max_records).__name__}")
    elif max_records < 1:
        raise ValueError(f"max_records must be >= 1, got {max_records}")
    else:
        limit = int(max_records)
    n_records = len(grid) * len(seed_idx)
    if n_records > limit:
        raise ValueError(
            f"grid and seeds: {len(grid)} cells x {len(seed_idx)} seeds = {n_records} records "
            f"exceed max_records={limit}; pass max_records= to allow it"
        )
    if root_seed is None:
        entropy = int(np.random.SeedSequence().entropy)
    elif (
        isinstance(root_seed, bool) or not isinstance(root_seed, (int, np.integer)) or root_seed < 0
    ):
        raise ValueError(f"root_seed must be a non-negative int or None, got {root_seed!r}")
    else:
        entropy = int(root_seed)
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}"
        )
    fn_name = name if name is not None else _fn_name(fn)
    if isinstance(executor, cf.ProcessPoolExecutor):
        try:
            pickle.dumps(fn)
        except Exception as exc:
            raise TypeError(
                f"fn {fn_name} cannot be pickled for a process pool ({exc}); "
                "define it at module level in an importable module"
            ) from exc
    own_executor = executor is None
    if own_executor:
        executor = SerialExecutor()

    out_path = Path(out_dir) if out_dir is not None else None
    cells_dir = None
    if out_path is not None:
        cells_dir = out_path / "cells"
        cells_dir.mkdir(parents=True, exist_ok=True)

    t_start = time.perf_counter()
    started = _now()
    run_id = f"{started}-{os.getpid()}-{id(grid):x}"
    tasks = []  # (record index, key, params, seed_index)
    records: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for params in grid.cells():
        for s in seed_idx:
            key = cell_key(fn_name, params, s, entropy)
            rec = {
                "params": params,
                "seed_index": s,
                "value": None,
                "status": "pending",
                "error": None,
                "cached": False,
                "elapsed": None,
                "key": key,
            }
            index[key] = len(records)
            records.append(rec)
            if cells_dir is not None:
                loaded = _load_cell(cells_dir / f"{key}.json", key)
                if loaded is not None:
                    rec.update(
                        value=_decode(loaded[0]), status="ok", cached=True, elapsed=loaded[1]
                    )
                    continue
            tasks.append((len(records) - 1, key, params, s))

    n_cached = len(records) - len(tasks)
    meta = {
        "run_id": run_id,
        "fn": fn_name,
        "grid": {n: _encode(list(v), "grid") for n, v in grid.axes},
        "seeds": list(seed_idx),
        "root_seed_entropy": entropy,
        "executor": type(executor).__name__,
        "versions": _versions(),
        "git_revision": _git_revision(),
        "start_time": started,
        "end_time": None,
        "status": "running",
    }
    if out_path is not None:
        _write_metadata(out_path, meta)

    bar = _Progress(progress, len(records), n_cached, desc or fn_name.rsplit(".", 1)[-1])
    counts = {"computed": 0, "failed": 0}

    def handle(i: int, key: str, fut: cf.Future) -> None:
        rec = records[i]
        try:
            status, payload, elapsed = fut.result()  # re-raises when raise_errors
        except Exception as exc:
            # the executor itself failed for this cell (worker died, result not
            # transferable, ...): a failed cell too, unless raise_errors
            if raise_errors:
                raise
            status, elapsed = "failed", None
            payload = f"{type(exc).__name__} (executor): {exc}"
        if status == "ok":
            rec.update(value=_decode(json.loads(payload)), status="ok", elapsed=elapsed)
            counts["computed"] += 1
            if cells_dir is not None:
                _atomic_write(
                    cells_dir / f"{key}.json",
                    _cell_doc(
                        key, fn_name, rec["params"], rec["seed_index"], entropy, payload, elapsed
                    ),
                )
        else:
            rec.update(
                status="failed", error=payload.split("\n", 1)[0], traceback=payload, elapsed=elapsed
            )
            counts["failed"] += 1
        bar.update(status != "ok", counts["failed"])

    pending: dict[cf.Future, tuple[int, str]] = {}
    status = "interrupted"
    try:
        for i, key, params, s in tasks:
            fut = executor.submit(_run_cell, fn, params, s, entropy, raise_errors)
            pending[fut] = (i, key)
            # handle whatever already finished (every call, for the serial executor),
            # so finished cells reach the disk as soon as possible
            for f in [f for f in pending if f.done()]:
                handle(*pending.pop(f), f)
        for f in cf.as_completed(list(pending)):
            handle(*pending.pop(f), f)
        status = "done"
    finally:
        for f in pending:
            f.cancel()
        bar.close()
        if own_executor:
            executor.shutdown()
        wall = time.perf_counter() - t_start
        if out_path is not None:
            meta.update(
                end_time=_now(),
                wall_time=wall,
                status=status,
                n_cells=len(records),
                n_cached=n_cached,
                n_computed=counts["computed"],
                n_failed=counts["failed"],
                failures=[
                    {
                        "params": _encode(r["params"], "params"),
                        "seed_index": r["seed_index"],
                        "error": r["error"],
                        "traceback": r.get("traceback"),
                    }
                    for r in records
                    if r["status"] == "failed"
                ],
            )
            _write_metadata(out_path, meta)

    for r in records:
        r.pop("traceback", None)
    result = SweepResult(
        records=tuple(records),
        grid=grid,
        seeds=seed_idx,
        root_entropy=entropy,
        n_cached=n_cached,
        n_computed=counts["computed"],
        n_failed=counts["failed"],
        wall_time=wall,
        out_dir=out_path,
        fn_name=fn_name,
        _index=index,
    )
    if progress is not False:
        print(result.summary(), file=sys.stderr)
    return result


# ---------------------------------------------------------------------------
# example cell functions (importable by worker processes; used by tests and benchmarks)
# ---------------------------------------------------------------------------


def _example_noisy_quadratic(
    dim: int, lr: float, steps: int = 50, *, rng: np.random.Generator
) -> dict[str, Any]:
    """GD on a random diagonal quadratic ``1/2 sum_i h_i x_i^2`` with a random start."""
    h = rng.uniform(0.1, 1.0, size=dim)
    x = rng.standard_normal(dim)
    x0 = float(x @ x)
    losses = np.empty(steps)
    for k in range(steps):
        x = x - lr * h * x
        losses[k] = 0.5 * float(np.sum(h * x * x))
    return {"final_loss": float(losses[-1]), "losses": losses, "x0_sq": x0, "draw": rng.random()}


def _example_gd_quadratic(
    dim: int = 300, steps: int = 2000, *, rng: np.random.Generator
) -> dict[str, Any]:
    """CPU-bound benchmark cell: GD with step 1/L on a dense ``dim``-dim quadratic.

    ``f(x) = 1/2 x^T A x`` with ``A = Q diag(lam) Q^T``, ``lam`` log-uniform on [1e-2, 1].
    """
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = np.exp(rng.uniform(np.log(1e-2), 0.0, size=dim))
    a = (q * lam) @ q.T
    x = rng.standard_normal(dim)
    lr = 1.0 / float(lam.max())
    for _ in range(steps):
        x = x - lr * (a @ x)
    return {"final_loss": 0.5 * float(x @ (a @ x))}


def _example_fail_if(x: int, bad: int = -1, *, rng: np.random.Generator) -> dict[str, Any]:
    """Raise ``ValueError`` when ``x == bad``; else return ``x`` and a draw."""
    if x == bad:
        raise ValueError(f"bad x={x}")
    return {"x": x, "u": float(rng.random())}


def _example_blas_threads(x: int = 0, *, rng: np.random.Generator) -> dict[str, Any]:
    """Report the BLAS/OpenMP thread counts and environment seen by the worker."""
    try:
        from threadpoolctl import threadpool_info

        threads = sorted({int(d["num_threads"]) for d in threadpool_info()})
    except ImportError:  # pragma: no cover
        threads = []
    return {"threads": threads, "env": {v: os.environ.get(v) for v in _BLAS_ENV_VARS[:3]}}


def _example_crash(x: int, *, rng: np.random.Generator) -> dict[str, Any]:
    """Kill the worker process (simulates a worker dying, e.g. out of memory)."""
    os._exit(3)

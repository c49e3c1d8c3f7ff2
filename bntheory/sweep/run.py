"""``run_sweep``: run a function on every cell of a grid and every seed, with caching.

See :mod:`bntheory.sweep` for determinism, caching and resume, and the stored values.
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures as cf
from pathlib import Path
from typing import Any

import numpy as np

from bntheory._io import atomic_write_text, decode, dumps_canonical, encode
from bntheory.status import Status
from bntheory.sweep.executors import SerialExecutor
from bntheory.sweep.grid import Grid
from bntheory.sweep.result import SweepResult
from bntheory.sweep.seeding import cell_key, cell_seed
from bntheory.sweep.seeding import fn_name as _fn_name
from bntheory.sweep.store import cell_doc, git_revision, load_cell, now, versions, write_metadata

__all__ = ["MAX_RECORDS", "MAX_SEEDS", "run_sweep"]


def _run_cell(
    fn: Callable[..., Any],
    params: dict[str, Any],
    seed_index: int,
    root_entropy: int,
    raise_errors: bool,
) -> tuple[str, str, float]:
    """Run one cell; return ``(status, payload, elapsed)``.

    ``payload`` is the canonical JSON of the encoded value when ``status`` is ``Status.OK``, the
    formatted exception otherwise.
    """
    t0 = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(cell_seed(params, seed_index, root_entropy)))
    try:
        value = fn(**params, rng=rng)
        payload = dumps_canonical(encode(value, "fn return value"))
    except Exception as exc:
        if raise_errors:
            raise
        msg = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=-3)
        return Status.FAILED, msg + "\n" + tb, time.perf_counter() - t0
    return Status.OK, payload, time.perf_counter() - t0


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
    started = now()
    # unique per run: two runs started in the same second by one process must not share
    # an id (id(grid) can be reused once the first grid is freed: a lost metadata entry)
    run_id = f"{started}-{os.getpid()}-{secrets.token_hex(6)}"
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
                loaded = load_cell(cells_dir / f"{key}.json", key)
                if loaded is not None:
                    rec.update(
                        value=decode(loaded[0]), status=Status.OK, cached=True, elapsed=loaded[1]
                    )
                    continue
            tasks.append((len(records) - 1, key, params, s))

    n_cached = len(records) - len(tasks)
    meta = {
        "run_id": run_id,
        "fn": fn_name,
        "grid": {n: encode(list(v), "grid") for n, v in grid.axes},
        "seeds": list(seed_idx),
        "root_seed_entropy": entropy,
        "executor": type(executor).__name__,
        "versions": versions(),
        "git_revision": git_revision(),
        "start_time": started,
        "end_time": None,
        "status": Status.RUNNING,
    }
    if out_path is not None:
        write_metadata(out_path, meta)

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
            status, elapsed = Status.FAILED, None
            payload = f"{type(exc).__name__} (executor): {exc}"
        if status == Status.OK:
            rec.update(value=decode(json.loads(payload)), status=Status.OK, elapsed=elapsed)
            counts["computed"] += 1
            if cells_dir is not None:
                atomic_write_text(
                    cells_dir / f"{key}.json",
                    cell_doc(
                        key, fn_name, rec["params"], rec["seed_index"], entropy, payload, elapsed
                    ),
                )
        else:
            rec.update(
                status=Status.FAILED,
                error=payload.split("\n", 1)[0],
                traceback=payload,
                elapsed=elapsed,
            )
            counts["failed"] += 1
        bar.update(status != Status.OK, counts["failed"])

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
                end_time=now(),
                wall_time=wall,
                status=status,
                n_cells=len(records),
                n_cached=n_cached,
                n_computed=counts["computed"],
                n_failed=counts["failed"],
                failures=[
                    {
                        "params": encode(r["params"], "params"),
                        "seed_index": r["seed_index"],
                        "error": r["error"],
                        "traceback": r.get("traceback"),
                    }
                    for r in records
                    if r["status"] == Status.FAILED
                ],
            )
            write_metadata(out_path, meta)

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

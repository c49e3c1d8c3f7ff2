"""Parameter sweeps over any :class:`concurrent.futures.Executor`.

A sweep runs ``fn(**params, rng=generator)`` for every cell of a parameter grid (the
cartesian product of its axes) and every seed index, on

* :class:`SerialExecutor` (the default): in this process, one cell at a time;
* :class:`concurrent.futures.ProcessPoolExecutor`: local processes, built by
  :func:`executor_from_spec` (``spawn`` start method, BLAS pinned to one thread per
  worker, workers ended with their parent: :mod:`bntheory.sweep.processes`);
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
counts, failures) to ``out_dir/metadata.json``, under a file lock so that concurrent
sweeps on one folder lose no update.

Values
------
``fn`` returns JSON-able data: dicts, lists, strings, numbers, booleans, None, numpy
scalars and numpy arrays (bool, integer, float or complex). Arrays are stored as tagged
lists and restored as arrays of the same dtype and shape; float64 survives the JSON
round trip exactly (shortest round-trip ``repr``). Fresh and cached results go through
the same encoding, so a record is the same whether it was computed now or loaded.

Modules
-------
:mod:`~bntheory.sweep.grid` (:class:`Grid`), :mod:`~bntheory.sweep.seeding` (keys and
streams), :mod:`~bntheory.sweep.executors` (the executor factory),
:mod:`~bntheory.sweep.processes` (workers, signals), :mod:`~bntheory.sweep.store` (cell
files, metadata), :mod:`~bntheory.sweep.result` (:class:`SweepResult`),
:mod:`~bntheory.sweep.run` (:func:`run_sweep`); the canonical JSON codec and atomic writes
are :mod:`bntheory._io`. Cell statuses are :class:`bntheory.status.Status` members.
"""

from __future__ import annotations

import importlib
from typing import Any

from bntheory.sweep.executors import SerialExecutor, executor_from_spec, pin_blas_threads
from bntheory.sweep.grid import Grid
from bntheory.sweep.result import SweepResult
from bntheory.sweep.run import MAX_RECORDS, MAX_SEEDS, run_sweep
from bntheory.sweep.seeding import cell_key, cell_seed

__all__ = [
    "MAX_RECORDS",
    "MAX_SEEDS",
    "Grid",
    "SerialExecutor",
    "SweepResult",
    "cell_key",
    "cell_seed",
    "executor_from_spec",
    "pin_blas_threads",
    "run_sweep",
]

#: names importable from the former single module ``bntheory/sweep.py`` (module, attribute)
_MOVED = {
    "_normalize_seeds": ("bntheory.sweep.run", "_normalize_seeds"),
    "_run_cell": ("bntheory.sweep.run", "_run_cell"),
    "_Progress": ("bntheory.sweep.run", "_Progress"),
    "_encode": ("bntheory._io", "encode"),
    "_decode": ("bntheory._io", "decode"),
    "_dumps": ("bntheory._io", "dumps_canonical"),
    "_canonical_json": ("bntheory._io", "canonical_json"),
    "_atomic_write": ("bntheory._io", "atomic_write_text"),
    "_fn_name": ("bntheory.sweep.seeding", "fn_name"),
    "_params_word": ("bntheory.sweep.seeding", "_params_word"),
    "_normalize_axes": ("bntheory.sweep.grid", "_normalize_axes"),
    "_BLAS_ENV_VARS": ("bntheory.sweep.executors", "BLAS_ENV_VARS"),
    "_DASK_EXTRA_MSG": ("bntheory.sweep.executors", "_DASK_EXTRA_MSG"),
    "_import_distributed": ("bntheory.sweep.executors", "_import_distributed"),
    "_parse_count": ("bntheory.sweep.executors", "_parse_count"),
    "_FORMAT_VERSION": ("bntheory.sweep.store", "FORMAT_VERSION"),
    "_load_cell": ("bntheory.sweep.store", "load_cell"),
    "_cell_doc": ("bntheory.sweep.store", "cell_doc"),
    "_write_metadata": ("bntheory.sweep.store", "write_metadata"),
    "_git_revision": ("bntheory.sweep.store", "git_revision"),
    "_versions": ("bntheory.sweep.store", "versions"),
    "_now": ("bntheory.sweep.store", "now"),
}


def __getattr__(name: str) -> Any:
    """Lazy access to names of the former module (and the test-support ``_example_*`` cells).

    Parameters
    ----------
    name : str
        Attribute name.

    Returns
    -------
    Any
        The object.
    """
    if name.startswith("_example_"):
        return getattr(importlib.import_module("bntheory.sweep._examples"), name)
    if name in _MOVED:
        module, attr = _MOVED[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'bntheory.sweep' has no attribute {name!r}")

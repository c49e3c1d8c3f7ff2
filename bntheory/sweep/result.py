"""The outcome of a sweep: its records, with tables, stacked arrays and lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bntheory.status import Status
from bntheory.sweep.grid import Grid
from bntheory.sweep.seeding import cell_key

__all__ = ["SweepResult"]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    records : tuple of dict
        One per (cell, seed index), in grid order then seed order. Keys: ``params``
        (dict), ``seed_index`` (int), ``value`` (fn's return, arrays restored; None if
        failed), ``status`` (:class:`bntheory.status.Status` ``OK`` or ``FAILED``, equal to
        the strings ``"ok"`` and ``"failed"``), ``error`` (message or None),
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
        return tuple(r for r in self.records if r["status"] != Status.OK)

    @property
    def ok(self) -> bool:
        """True when no cell failed."""
        return self.n_failed == 0

    def summary(self) -> str:
        """One line: cells done, reused from cache, failed, wall time.

        Returns
        -------
        str
            The line.
        """
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

        Returns
        -------
        list of dict
            One row per record.
        """
        rows = []
        for r in self.records:
            row = dict(r["params"])
            row["seed_index"] = r["seed_index"]
            row["status"] = r["status"]
            v = r["value"]
            if isinstance(v, dict):
                row.update(v)
            elif r["status"] == Status.OK:
                row["value"] = v
            if r["status"] != Status.OK:
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
            if r["status"] != Status.OK:
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
        """The value of one cell, looked up by its parameters and seed index.

        Parameters
        ----------
        seed_index : int
            Seed index.
        **params
            The cell's parameters.

        Returns
        -------
        Any
            The cell's value.

        Raises
        ------
        KeyError
            No such cell.
        RuntimeError
            The cell failed.
        """
        key = cell_key(self.fn_name, params, seed_index, self.root_entropy)
        if key not in self._index:
            raise KeyError(f"no cell with params {params} and seed_index {seed_index}")
        r = self.records[self._index[key]]
        if r["status"] != Status.OK:
            raise RuntimeError(f"cell {params} seed {seed_index} failed: {r['error']}")
        return r["value"]

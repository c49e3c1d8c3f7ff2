"""Parameter grids: named axes whose cartesian product are the cells of a sweep."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bntheory._io import canonical_json

__all__ = ["Grid"]


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
        """Build a grid from a ``dict`` of lists (or return a :class:`Grid` unchanged).

        Parameters
        ----------
        mapping : Grid or mapping of str to iterable
            Axis name -> values.

        Returns
        -------
        Grid
            The grid.
        """
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
        """Parameter dicts of every cell, in cartesian-product order.

        Returns
        -------
        list of dict
            One ``{axis name: value}`` per cell.
        """
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
            canonical_json(v, f"{argname}[{name!r}]")  # JSON-able check
        out.append((name, values))
    return tuple(out)

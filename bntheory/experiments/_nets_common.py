"""Small helpers shared by the deep-network experiment scripts (figures 8-12).

The command line, data files and figure style are those of :mod:`_common`; this module only
adds what the network experiments need on top: single-threaded BLAS, seed splitting, shaded
min-max bands and log-log slope fits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bntheory.sweep.seeding import spawn_seeds

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["band", "loglog_slope", "seeds", "single_thread"]


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Limit BLAS to one thread (the networks are small; on a shared 2-core machine
    multithreaded BLAS is about 10x slower on them). No-op without ``threadpoolctl``.

    Returns
    -------
    contextlib.AbstractContextManager
        Active while inside the ``with`` block.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def seeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds derived from ``seed`` (``numpy.random.SeedSequence``).

    Parameters
    ----------
    seed : int
        Master seed.
    n : int
        Number of seeds.

    Returns
    -------
    list of int
        ``n`` seeds spawned from ``SeedSequence(seed)``.
    """
    return spawn_seeds(seed, n)


def band(
    ax: Axes,
    x: ArrayLike,
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    label: str,
    color: str,
    alpha: float = 0.3,
    line: ArrayLike | None = None,
) -> None:
    """Shaded band between ``lo`` and ``hi`` (missing values = NaN leave gaps), with an
    optional solid centre line ``line`` drawn in the same colour.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    x, lo, hi : array_like
        Abscissae, lower and upper edges.
    label : str
        Legend label of the band.
    color : str
        Colour of band and line.
    alpha : float
        Opacity of the band.
    line : array_like, optional
        Centre line.

    Returns
    -------
    None
    """
    x = np.asarray(x, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(x, lo, hi, where=ok, color=color, alpha=alpha, linewidth=0, label=label)
    if line is not None:
        ax.plot(x, np.asarray(line, dtype=float), color=color, lw=0.8)


def loglog_slope(x: ArrayLike, y: ArrayLike) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (positive finite pairs only).

    Parameters
    ----------
    x, y : array_like
        Paired values.

    Returns
    -------
    float
        The slope; NaN with fewer than two usable pairs or a single abscissa.

    Raises
    ------
    ValueError
        ``x`` and ``y`` of different shapes.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2 or np.all(x[ok] == x[ok][0]):  # one abscissa: no slope (polyfit warns)
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])

"""One figure style for every bntheory figure.

* :func:`style` — context manager with the project's rcParams (Agg backend, no display).
* :func:`figure` — a figure with ``nrows x ncols`` axes in the project style.
* :func:`save_figure` — write ``stem.pdf`` and ``stem.png`` into ``out_dir``.
* :func:`plot_measured`, :func:`plot_bound` — measured curves solid, stated bounds dashed,
  each labelled with its method / source so the legend names where a line comes from.
* :func:`set_log` and :func:`label_axes` — log-scale and axis-label helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bntheory._checks import as_int, as_real  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from numpy.typing import ArrayLike

__all__ = [
    "RC_PARAMS",
    "figure",
    "label_axes",
    "plot_bound",
    "plot_measured",
    "save_figure",
    "set_log",
    "style",
]

#: The project's matplotlib settings.
RC_PARAMS: dict[str, object] = {
    "figure.figsize": (5.0, 3.4),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.5,
    "axes.prop_cycle": matplotlib.cycler(
        color=["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    ),
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF
    "svg.fonttype": "none",
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying :data:`RC_PARAMS` (restored on exit).

    Yields
    ------
    None
        Inside the ``with`` block the project's settings are active.
    """
    params = {k: v for k, v in RC_PARAMS.items() if k != "savefig.metadata"}
    with matplotlib.rc_context(params):
        yield


def figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    squeeze: bool = True,
    **kwargs: object,
) -> tuple[Figure, Axes | np.ndarray]:
    """A new figure in the project style, like :func:`matplotlib.pyplot.subplots`.

    Parameters
    ----------
    nrows, ncols : int
        Panel grid (at least 1 each).
    width, height : float, optional
        Size in inches; default 5.0 x 3.4 for one panel, 3.6 per column and 2.9 per row
        otherwise.
    squeeze : bool
        As in :func:`matplotlib.pyplot.subplots`.
    **kwargs
        Passed on to :func:`matplotlib.pyplot.subplots`.

    Returns
    -------
    tuple
        ``(fig, axes)``: the figure and its axes (one ``Axes`` or an array of them).
    """
    nrows = as_int(nrows, "nrows", maximum=MAX_PANELS)
    ncols = as_int(ncols, "ncols", maximum=MAX_PANELS)
    if width is not None:
        width = as_real(width, "width", positive=True, maximum=MAX_INCHES)
    if height is not None:
        height = as_real(height, "height", positive=True, maximum=MAX_INCHES)
    w = width if width is not None else 5.0 if ncols == 1 else 3.6 * ncols
    h = height if height is not None else 3.4 if nrows == 1 else 2.9 * nrows
    with style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(w, h), squeeze=squeeze, constrained_layout=True, **kwargs
        )
    return fig, axes


def label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Set axis labels (and title); every bntheory axis is labelled.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    xlabel, ylabel : str
        Axis labels (non-empty).
    title : str, optional
        Panel title.
    """
    _check_axes(ax)
    for text, name in ((xlabel, "xlabel"), (ylabel, "ylabel"), (title, "title")):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    if not xlabel or not ylabel:
        raise ValueError("xlabel and ylabel must be non-empty")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def set_log(ax: Axes, x: bool = False, y: bool = True, base: float = 10) -> None:
    """Log scale on the chosen axes (``y`` by default).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    x, y : bool
        Which axes get a log scale.
    base : float
        Logarithm base.
    """
    _check_axes(ax)
    base = as_real(base, "base", positive=True)
    if not base > 1:
        raise ValueError(f"base must be > 1, got {base}")
    if x:
        ax.set_xscale("log", base=base)
    if y:
        ax.set_yscale("log", base=base)


#: largest number of panel rows / columns of :func:`figure`
MAX_PANELS = 50
#: largest figure width / height in inches
MAX_INCHES = 100.0


def _check_axes(ax: object) -> None:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")


def _xy(x: ArrayLike, y: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    from bntheory._checks import as_real_array

    x = as_real_array(x, "x")
    y = as_real_array(y, "y")
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"{name}: x and y must be 1-D arrays of the same length, got {x.shape} and {y.shape}"
        )
    return x, y


def plot_measured(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    label: str,
    *,
    method: str | None = None,
    **kwargs: object,
) -> Line2D:
    """A measured curve (solid line); ``method`` is appended to the legend label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    x, y : array_like, shape (n,)
        The curve.
    label : str
        Legend label.
    method : str, optional
        How it was measured, shown in parentheses after the label.
    **kwargs
        Passed on to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.lines.Line2D
        The line.
    """
    _check_axes(ax)
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    x, y = _xy(x, y, "plot_measured")
    lab = f"{label} ({method})" if method else label
    return ax.plot(x, y, linestyle="-", label=lab, **kwargs)[0]


def plot_bound(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    label: str,
    *,
    source: str | None = None,
    **kwargs: object,
) -> Line2D:
    """A stated bound (dashed line); ``source`` (paper, equation) is appended to the label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    x, y : array_like, shape (n,)
        The bound's curve.
    label : str
        Legend label.
    source : str, optional
        Where the bound is stated, shown in brackets after the label.
    **kwargs
        Passed on to :meth:`matplotlib.axes.Axes.plot` (default colour 0.25 grey,
        width 1.2).

    Returns
    -------
    matplotlib.lines.Line2D
        The line.
    """
    _check_axes(ax)
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    x, y = _xy(x, y, "plot_bound")
    lab = f"{label} [{source}]" if source else label
    kwargs.setdefault("color", "0.25")
    kwargs.setdefault("linewidth", 1.2)
    return ax.plot(x, y, linestyle="--", label=lab, **kwargs)[0]


def save_figure(fig: Figure, stem: str, out_dir: str | Path = "figures") -> tuple[Path, Path]:
    """Write ``out_dir/stem.pdf`` and ``out_dir/stem.png``.

    The PDF carries no creation date, so re-running an experiment gives the same file.
    Both are rendered in memory and written atomically (:mod:`bntheory._io`): an
    interrupted run never leaves a truncated figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    stem : str
        File name without extension or folders.
    out_dir : str or Path
        Output folder (created when missing).

    Returns
    -------
    tuple of Path
        ``(pdf_path, png_path)``.
    """
    import io

    from bntheory._io import atomic_write_bytes

    if not isinstance(stem, str):
        raise TypeError(f"stem must be a str, got {type(stem).__name__}")
    if not stem or "/" in stem or "\\" in stem:
        raise ValueError(f"stem must be a non-empty file name without folders, got {stem!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pdf, png = out / f"{stem}.pdf", out / f"{stem}.png"
    with style():
        buf_pdf, buf_png = io.BytesIO(), io.BytesIO()
        fig.savefig(
            buf_pdf,
            format="pdf",
            metadata={"CreationDate": None, "Creator": "bntheory", "Producer": None},
        )
        fig.savefig(buf_png, format="png", metadata={"Software": "bntheory"})
    atomic_write_bytes(pdf, buf_pdf.getvalue())
    atomic_write_bytes(png, buf_png.getvalue())
    return pdf, png

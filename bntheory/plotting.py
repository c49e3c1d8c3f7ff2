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

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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
    """Context manager applying :data:`RC_PARAMS` (restored on exit)."""
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
    **kwargs,
):
    """A new figure in the project style: ``(fig, axes)`` like :func:`matplotlib.pyplot.subplots`.

    ``width``/``height`` in inches default to 5.0 x 3.4 per panel row/column scaled.
    """
    for name, val in (("nrows", nrows), ("ncols", ncols)):
        if not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"{name} must be a positive int, got {val!r}")
    w = width if width is not None else 5.0 if ncols == 1 else 3.6 * ncols
    h = height if height is not None else 3.4 if nrows == 1 else 2.9 * nrows
    with style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(w, h), squeeze=squeeze, constrained_layout=True, **kwargs
        )
    return fig, axes


def label_axes(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Set axis labels (and title); every bntheory axis is labelled."""
    if not xlabel or not ylabel:
        raise ValueError("xlabel and ylabel must be non-empty")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def set_log(ax, x: bool = False, y: bool = True, base: float = 10) -> None:
    """Log scale on the chosen axes (``y`` by default)."""
    if x:
        ax.set_xscale("log", base=base)
    if y:
        ax.set_yscale("log", base=base)


def _xy(x, y, name: str):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"{name}: x and y must be 1-D arrays of the same length, got {x.shape} and {y.shape}"
        )
    return x, y


def plot_measured(ax, x, y, label: str, *, method: str | None = None, **kwargs):
    """A measured curve (solid line); ``method`` is appended to the legend label."""
    x, y = _xy(x, y, "plot_measured")
    lab = f"{label} ({method})" if method else label
    return ax.plot(x, y, linestyle="-", label=lab, **kwargs)[0]


def plot_bound(ax, x, y, label: str, *, source: str | None = None, **kwargs):
    """A stated bound (dashed line); ``source`` (paper, equation) is appended to the label."""
    x, y = _xy(x, y, "plot_bound")
    lab = f"{label} [{source}]" if source else label
    kwargs.setdefault("color", "0.25")
    kwargs.setdefault("linewidth", 1.2)
    return ax.plot(x, y, linestyle="--", label=lab, **kwargs)[0]


def save_figure(fig, stem: str, out_dir: str | Path = "figures") -> tuple[Path, Path]:
    """Write ``out_dir/stem.pdf`` and ``out_dir/stem.png``; returns ``(pdf_path, png_path)``.

    The PDF carries no creation date, so re-running an experiment gives the same file.
    Both are rendered in memory and written atomically (:mod:`bntheory._io`): an
    interrupted run never leaves a truncated figure.
    """
    import io

    from bntheory._io import atomic_write_bytes

    if not isinstance(stem, str) or not stem or "/" in stem or "\\" in stem:
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

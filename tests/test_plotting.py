"""The figure style and save_figure."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory import plotting


def test_save_figure_writes_pdf_and_png(tmp_path):
    fig, ax = plotting.figure()
    x = np.arange(1, 10.0)
    plotting.plot_measured(ax, x, 0.9**x, "gap", method="BNGD")
    line = plotting.plot_bound(ax, x, 0.95**x, "bound", source="Cai et al. (2019)")
    plotting.set_log(ax, y=True)
    plotting.label_axes(ax, "iteration", "loss gap")
    ax.legend()
    assert line.get_linestyle() == "--"
    assert ax.get_yscale() == "log"
    pdf, png = plotting.save_figure(fig, "demo", tmp_path / "out")
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["gap (BNGD)", "bound [Cai et al. (2019)]"]


def test_bad_arguments_named(tmp_path):
    fig, ax = plotting.figure(1, 2)
    with pytest.raises(ValueError, match="stem"):
        plotting.save_figure(fig, "a/b", tmp_path)
    with pytest.raises(ValueError, match="nrows"):
        plotting.figure(0)
    with pytest.raises(ValueError, match="plot_bound"):
        plotting.plot_bound(ax[0], [1, 2], [1], "b")
    with pytest.raises(ValueError, match="xlabel"):
        plotting.label_axes(ax[0], "", "y")

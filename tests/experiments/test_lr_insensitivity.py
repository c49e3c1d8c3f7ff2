"""lr_insensitivity's check message when no learning rate reaches the convergence threshold
(quick mode): a sentence, never ``[nan, nan]``."""

from __future__ import annotations

import math
import re

from bntheory.experiments import lr_insensitivity as M


def _data(gaps: list[float | None]) -> dict:
    """Hand-made stored data: BNGD final gaps per lr (gap0 = 1), GD stable below lr 1."""
    lrs = [10.0**k for k in range(-2, -2 + len(gaps))]
    bngd = [
        {"lr": lr, "status": "max_steps", "gap_final": g, "w_norm_monotone": True}
        for lr, g in zip(lrs, gaps, strict=True)
    ]
    gd = [{"lr": lr, "status": "max_steps", "gap_final": 0.5} for lr in lrs if lr < 1]
    return {"gap0": 1.0, "K": 300, "gd_stability_limit": 1.0, "bngd": bngd, "gd": gd}


def test_no_converged_lr_is_a_sentence_not_nan():
    ok, msg = M.CHECK(_data([0.5, 0.1, 1e-3]))
    assert ok
    assert "nan" not in msg.lower()
    assert "no lr brought BNGD's gap below 1e-6 x initial within K = 300 steps (0 of 3)" in msg
    assert M.converged_range(_data([0.5, 0.1, 1e-3])) is None


def test_converged_band_is_reported_from_the_data():
    gaps = [0.5, 1e-7, 1e-9, 1e-3, 2e-8]
    ok, msg = M.CHECK(_data(gaps))
    # independent reading: lrs 10^-1, 10^0 and 10^2 have gap < 1e-6 (gap0 = 1)
    m = re.search(r"for lr in \[([^,]+), ([^\]]+)\] \((\d+) of (\d+)\)", msg)
    assert m, msg
    assert math.isclose(float(m.group(1)), 0.1) and math.isclose(float(m.group(2)), 100.0)
    assert (m.group(3), m.group(4)) == ("3", "5")
    assert "nan" not in msg.lower()

"""Torch tests: one intra-op thread (the models are tiny; threads only add contention)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")
torch.set_num_threads(1)

"""Test configuration.

* A derandomized hypothesis profile in CI (reproducible runs).
* Single-threaded BLAS for the whole suite: the matrices in the tests are small, and on a
  2-core machine multithreaded OpenBLAS is many times slower on them (see tests/nets).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl is in the test extra
    threadpool_limits = None

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _close_figures():
    """Close matplotlib figures after each test (experiments plot in-process)."""
    yield
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")

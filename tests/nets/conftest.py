"""Run the network tests with single-threaded BLAS.

The matrices here are small (width <= 300); on a shared 2-core machine multithreaded
OpenBLAS is 10-20x slower than one thread on them (measured: 16x300 @ 300x300 takes 0.8-2.9 ms
with default threads under load, 0.13-0.21 ms with one). threadpoolctl ships with
scikit-learn (the ``data`` extra); without it the fixture does nothing.
"""

from __future__ import annotations

import pytest

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


@pytest.fixture(autouse=True, scope="package")
def _single_threaded_blas():
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield

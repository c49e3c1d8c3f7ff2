"""Test configuration.

* Hypothesis is derandomized by default, locally as in CI, so a developer's run cannot fail
  on an example CI never sees. ``HYPOTHESIS_PROFILE=explore`` opts in to randomized runs
  (new examples on every run; a failure prints the blob that reproduces it).
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
# "dev" is the local default and is derandomized too: same examples as CI.
settings.register_profile("dev", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
if _PROFILE not in ("ci", "dev", "explore"):
    raise pytest.UsageError(
        f"HYPOTHESIS_PROFILE must be 'ci', 'dev' or 'explore', got {_PROFILE!r}"
    )
settings.load_profile(_PROFILE)


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

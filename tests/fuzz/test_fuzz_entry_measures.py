"""Fuzzing of measure entry points no other fuzz test reached (issue 10, "Done when"):
the Lanczos result's Ritz pairs and the SLQ density's Wasserstein distance, plus the
regression of Cai's effective Hessian at entries near the float limit.

Reference: dense ``numpy.linalg.eigvalsh`` and ``scipy.stats.wasserstein_distance``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ._harness import (
    any_array_like,
    expect_valid_or_named_error,
    float_arrays,
    fuzz_settings,
    spd_matrices,
)


@fuzz_settings(60)
@given(st.integers(2, 5), st.data())
def test_lanczos_ritz_and_density_distance(d, data):
    from bntheory.measures import lanczos, slq_density

    H = data.draw(spd_matrices(d, log10_scale=(-3, 3), log10_kappa=(0, 3)))
    res = lanczos(H, d, rng=0)
    assert 1 <= res.n_steps <= d
    theta, Y = res.ritz()
    assert np.all(np.isfinite(theta)) and np.all(np.isfinite(Y))
    ev = np.linalg.eigvalsh(H)
    assert ev[0] * (1 - 1e-8) <= theta.min() and theta.max() <= ev[-1] * (1 + 1e-8)
    if res.n_steps == d:  # a full Krylov space: the Ritz values are the eigenvalues
        assert np.allclose(np.sort(theta), ev, rtol=1e-6, atol=1e-10 * ev[-1])
    dens = slq_density(H, n_runs=2, n_steps=d, rng=0)
    other = data.draw(
        st.one_of(
            st.just(ev),
            float_arrays(st.sampled_from([(3,), (0,), (2, 2)])),
            any_array_like(),
        )
    )
    w = expect_valid_or_named_error(dens.wasserstein_to, ["eigenvalues"], other)
    if w is not None:
        assert math.isfinite(w) and w >= 0
        if other is ev:  # nodes inside the spectrum: at most its width away
            assert w <= (ev[-1] - ev[0]) * (1 + 1e-9) + 1e-12


def test_effective_hessian_near_the_float_limit():
    """``Hs + Hs.T`` overflowed (a leaked warning) for entries above 0.9e308 before."""
    from bntheory.measures import effective_hessian

    H = np.array([[1.7e308, 1.6e308], [1.6e308, 1.7e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Hs = effective_hessian(H, np.array([1.0, -1.0]))
    # closed form: H - (H w)(H w)^T / (w^T H w) = H - 0.05e308 [[1, -1], [-1, 1]]
    assert np.allclose(Hs, np.full((2, 2), 1.65e308), rtol=1e-12)

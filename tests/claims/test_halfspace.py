"""Mutation tests of the halfspace claims (hs-*): each swaps one ingredient of a check for a
broken one and asserts that the verdict changes (tests/claims/_mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.claims import halfspace
from bntheory.claims.core import SourceFact
from tests.claims._mutation import assert_flips, mutation_params


def _weight_norm_as_bn(mp):
    """hs-01: normalize by the Euclidean norm ||w||_2 (weight normalization) instead of BN's
    standard deviation ||w||_S, labelled as BN: length and direction no longer decouple."""
    import bntheory.problems as problems

    class EuclideanNormalized(problems.Normalized):
        def __init__(self, problem):
            super().__init__(problem)
            self.S = np.eye(self.base_dim)

    mp.setattr(problems, "Normalized", EuclideanNormalized)


def _sgd_linear_speedup(mp):
    """hs-02: the source says what the article says."""
    f = {"optimizer": "SGD", "result": "linear speedup"}
    mp.setattr(halfspace, "KOHLER_RESULT", SourceFact("mutated", f))


def _no_bn_labelled_bn(mp):
    """hs-03: the plain logistic objective f(w~) (strongly convex) labelled as the BN
    objective F(g, w)."""
    import bntheory.problems as problems

    class NoBN:
        def __init__(self, problem):
            self.base = problem

        def stack(self, g, w):
            w = np.asarray(w, float)
            return g * w / np.sqrt(w @ self.base.S @ w)

        def loss(self, theta):
            return self.base.loss(theta)

        def hessian(self, theta):
            return self.base.hessian(theta)

    mp.setattr(problems, "Normalized", NoBN)


def _doubled_step(mp):
    """hs-04, hs-06: GDNP with twice Kohler's step (step_factor halved)."""
    import bntheory.solvers as solvers

    real = solvers.GDNP

    def doubled(**kw):
        kw["step_factor"] = kw.get("step_factor", 2.0) / 2
        return real(**kw)

    mp.setattr(solvers, "GDNP", doubled)


def _length_step_skipped(mp):
    """hs-05: GDNP whose length step returns g = 1 (with a zero-width bracket) instead of
    bisecting on dF/dg."""
    import bntheory.solvers as solvers

    mp.setattr(solvers.GDNP, "_length", lambda self, nb, w: (1.0, 1.0, 1.0))


def _quartered_step(mp):
    """hs-07: GDNP with a quarter of Kohler's step labelled as its textbook step (and the
    tuning grid built on it)."""
    import bntheory.solvers as solvers

    real = solvers.GDNP

    def quartered(**kw):
        kw["step_factor"] = kw.get("step_factor", 2.0) * 4
        return real(**kw)

    mp.setattr(solvers, "GDNP", quartered)


def _identity_as_input_bn(mp):
    """hs-08: an input "normalization" that leaves the features unchanged."""
    mp.setattr(halfspace, "_input_bn", lambda prob, f_star: prob)


MUTATIONS = {
    "hs-01": _weight_norm_as_bn,
    "hs-02": _sgd_linear_speedup,
    "hs-03": _no_bn_labelled_bn,
    "hs-04": _doubled_step,
    "hs-05": _length_step_skipped,
    "hs-06": _doubled_step,
    "hs-07": _quartered_step,
    "hs-08": _identity_as_input_bn,
}


#: Claims whose quick run cannot decide (Claim.quick_note): mutated in full mode.
FULL_MODE = {"hs-07"}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow=FULL_MODE))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch, quick=claim_id not in FULL_MODE)


def test_f_star_shortcut_matches_library():
    """The claims' 1-D Gauss-Hermite f* (``_with_f_star``) equals the library's f_star."""
    from bntheory.problems import GaussianHalfspace, LeastSquares

    for kappa in (3.0, 100.0):
        ls = LeastSquares.ill_conditioned(6, kappa, rng=7)
        lib = GaussianHalfspace.from_moments(ls.u, ls.H).f_star
        ours = halfspace._with_f_star(GaussianHalfspace.from_moments(ls.u, ls.H)).f_star
        assert abs(lib - ours) <= 1e-12


def test_increment_ratio():
    assert halfspace._increment_ratio(10.0, 20.0, 30.0) == 1.0
    assert halfspace._increment_ratio(10.0, 100.0, 1000.0) == 10.0
    assert halfspace._increment_ratio(10.0, 20.0, float("inf")) == float("inf")

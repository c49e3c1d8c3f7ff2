"""Mutation tests of the least-squares claims (the rule's item 4): each swaps one
ingredient of the check for a broken one and asserts that the verdict changes."""

from __future__ import annotations

import numpy as np
import pytest

import bntheory.bounds as bounds
import bntheory.solvers as solvers
from bntheory.claims import least_squares
from bntheory.claims.core import SourceFact
from bntheory.solvers import BNGD, GradientDescent
from tests.claims._mutation import assert_flips, mutation_params


class _NewtonGD(GradientDescent):
    """'GD' that steps with H^{-1} g: its iteration count no longer depends on kappa."""

    def step(self, problem, state, *, evaluate_only=False):
        diag, nxt = super().step(problem, state, evaluate_only=evaluate_only)
        if nxt is None:
            return diag, None
        w, lr = state
        return diag, (w - np.linalg.solve(problem.H, problem.grad(w)), lr)


class _SlowGD(GradientDescent):
    """GD with a third of its nominal step."""

    def resolve_lr(self, problem):
        return super().resolve_lr(problem) / 3


class _HalfStepBNGD(BNGD):
    """BNGD whose w-update is halved while it reports the nominal effective step."""

    def step(self, problem, state, *, evaluate_only=False):
        diag, nxt = super().step(problem, state, evaluate_only=evaluate_only)
        if nxt is None:
            return diag, None
        w = state[1]
        return diag, (nxt[0], w + 0.5 * (nxt[1] - w), nxt[2])


class _PlainAsBNGD:
    """Plain GD at the same learning rate, labelled as BNGD (no normalization at all)."""

    def __init__(self, lr_w, lr_a=1.0, batch_size=None, rng=None):
        self._gd = GradientDescent(lr_w)

    def start(self, problem, x0):
        return self._gd.start(problem, x0[1])

    def step(self, problem, state, *, evaluate_only=False):
        return self._gd.step(problem, state, evaluate_only=evaluate_only)

    @staticmethod
    def raw(state):
        return state[0]


def _newton(mp):
    mp.setattr(solvers, "GradientDescent", _NewtonGD)


def _features_standardized(mp):
    f = {"bn_applied_to": "input features", "standardizes_features": True}
    mp.setattr(least_squares, "CAI_MODEL", SourceFact("mutated", f))


def _half_step(mp):
    mp.setattr(solvers, "BNGD", _HalfStepBNGD)


def _kappa_star_is_kappa(mp):
    mp.setattr(bounds, "kappa_star", lambda H, w_star: float(np.linalg.cond(H)))


def _no_normalization(mp):
    mp.setattr(solvers, "BNGD", _PlainAsBNGD)


def _slow_gd(mp):
    mp.setattr(solvers, "GradientDescent", _SlowGD)


MUTATIONS = {
    "ls-01": _newton,
    "ls-02": _features_standardized,
    "ls-03": _half_step,
    "ls-04": _kappa_star_is_kappa,
    "ls-05": _no_normalization,
    "ls-07": _slow_gd,
    "ls-08": _slow_gd,
    "ls-09": _slow_gd,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow={"ls-07", "ls-08", "ls-09"}))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)

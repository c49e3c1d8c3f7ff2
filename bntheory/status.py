"""One status vocabulary for every run bntheory reports: solvers, training loops, sweep cells.

:class:`Status` is a ``str`` enum (the model is optimistix's ``RESULTS``): each member's value
is the lowercase word written into results and JSON files, so ``res.status == "diverged"``
keeps working and a data file stays plain JSON, and each member carries one sentence saying
what it means (:attr:`Status.message`). Divergence is a status, never an exception or a NaN
in a result.

Which members a producer uses:

* :func:`bntheory.solvers.solve`: ``CONVERGED``, ``MAX_STEPS``, ``DIVERGED``;
* the network training loops (:mod:`bntheory.nets`): ``COMPLETED``, ``DIVERGED``, ``SKIPPED``;
* sweep cells (:mod:`bntheory.sweep`): ``OK``, ``FAILED``, ``RUNNING``.

:data:`DIVERGENCE_FACTOR` is :func:`bntheory.solvers.solve`'s divergence rule: a run whose
objective exceeds ``DIVERGENCE_FACTOR`` times its initial value, or becomes non-finite, has
diverged. The network training loop (:func:`bntheory.nets.train`) keeps its own, smaller
loss factor (``divergence_factor=1e6``, documented there): on the ledger's runs (quick and full)
that rule never fires before a non-finite value does, so the two rules give the same statuses
there; unifying them is left as a documented choice rather than a silent change.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["DIVERGENCE_FACTOR", "Status"]

#: a run whose loss grows above this factor times its initial value has diverged
DIVERGENCE_FACTOR = 1e12


class Status(str, Enum):
    """How a run ended; the value is the word stored in results and data files.

    Examples
    --------
    >>> Status.DIVERGED == "diverged"
    True
    >>> Status("max_steps").message
    'the step budget ran out before the stopping tolerance was met'
    """

    CONVERGED = "converged"
    MAX_STEPS = "max_steps"
    COMPLETED = "completed"
    DIVERGED = "diverged"
    SKIPPED = "skipped"
    OK = "ok"
    FAILED = "failed"
    RUNNING = "running"

    def __str__(self) -> str:  # the plain word, also inside f-strings
        return self.value

    def __repr__(self) -> str:  # messages and reprs read as before: 'diverged'
        return repr(self.value)

    @property
    def message(self) -> str:
        """One sentence saying what the status means."""
        return _MESSAGES[self]

    @property
    def finished(self) -> bool:
        """Whether the run ran to its end without diverging or failing."""
        return self in (Status.CONVERGED, Status.MAX_STEPS, Status.COMPLETED, Status.OK)


_MESSAGES = {
    Status.CONVERGED: "the stopping tolerance was met (or the callback stopped the run)",
    Status.MAX_STEPS: "the step budget ran out before the stopping tolerance was met",
    Status.COMPLETED: "the training loop ran all its steps with finite values",
    Status.DIVERGED: "the objective or a value left the float range or grew past the divergence factor",
    Status.SKIPPED: "the run was not started (a cheaper run already decided the outcome)",
    Status.OK: "the sweep cell ran and its value is stored",
    Status.FAILED: "the sweep cell raised an exception; its message and traceback are stored",
    Status.RUNNING: "the sweep has started and not yet finished",
}

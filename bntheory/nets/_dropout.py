"""Inverted-dropout masks of :class:`bntheory.nets.MLP` (Srivastava et al. 2014, Sec. 4 and 10).

A mixin of the network (which provides ``n_layers``, ``sizes`` and ``dropout``).
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.checks import check_int

__all__ = ["DropoutMasks"]


class DropoutMasks:
    """Dropout masks of a network (mixin of :class:`bntheory.nets.MLP`)."""

    def dropout_masks(self, n: int, rng: int | np.random.Generator | None = None) -> list:
        """Inverted-dropout masks for a batch of ``n`` samples (Srivastava et al. 2014).

        Parameters
        ----------
        n : int
            Batch size.
        rng : int, Generator or None
            Source of the masks.

        Returns
        -------
        list
            One entry per dense layer: for hidden layer ``k`` an array ``(n, sizes[k+1])`` of
            ``0`` (probability ``dropout``) and ``1/(1-dropout)``; ``None`` for the output
            layer (and for every layer when ``dropout == 0``).
        """
        n = check_int(n, "n", 1)
        L = self.n_layers
        if self.dropout == 0.0:
            return [None] * L
        gen = as_generator(rng)
        keep = 1.0 - self.dropout
        return [
            (gen.random((n, self.sizes[k + 1])) < keep) / keep if k < L - 1 else None
            for k in range(L)
        ]

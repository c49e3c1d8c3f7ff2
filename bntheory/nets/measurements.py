"""Measurements of the deep-network claims on :class:`bntheory.nets.MLP` (re-export module).

The measurements live in one module per paper or idea (named after what they compute):

* :mod:`bntheory.nets.santurkar2018` (and ``santurkar2018_theorems``): Santurkar, Tsipras,
  Ilyas & Madry (2018), landscape along the gradient (Fig. 4), internal covariate shift
  (Def. 2.1), Theorems 4.1 and 4.2;
* :mod:`bntheory.nets.bjorck2018`: Bjorck, Gomes, Selman & Weinberger (2018), learning-rate
  sweep and relative loss change;
* :mod:`bntheory.nets.arora2019`: Arora, Li & Lyu (2019), scale invariance (Lemma 2.4);
* :mod:`bntheory.nets.karakida2019`: Karakida, Akaho & Amari (2019), Fisher spectrum;
* :mod:`bntheory.nets.ioffe2015_digits` and :mod:`bntheory.nets.activation_stats`: Ioffe &
  Szegedy (2015), Fig. 1 analogue, activation shift, sigmoid saturation;
* :mod:`bntheory.nets.depth`: gradient flow through depth;
* :mod:`bntheory.nets.moments`, :mod:`bntheory.nets.isotropy`,
  :mod:`bntheory.nets.separation`: the reference article's own readings (layer-input moment
  shift, Hessian isotropy, class separation).

Every name importable from here before the split still is.
"""

from __future__ import annotations

import numpy as np

from bntheory.nets.activation_stats import (
    ActivationShift,
    activation_shift,
    histogram_kl,
    saturated_fraction,
)
from bntheory.nets.arora2019 import AroraResult, arora_scale_invariance
from bntheory.nets.bjorck2018 import (
    LRSweepResult,
    RelativeLossChange,
    bjorck_lr_sweep,
    relative_loss_change,
)
from bntheory.nets.checks import check_batch_size
from bntheory.nets.data import gaussian_mixture, load_digits_split
from bntheory.nets.depth import GradientFlowResult, gradient_flow
from bntheory.nets.ioffe2015_digits import IoffeFigure1, ioffe_figure1
from bntheory.nets.isotropy import HessianIsotropy, hessian_isotropy
from bntheory.nets.karakida2019 import FisherResult, fisher_spectrum
from bntheory.nets.loop import MiniBatches, safe_loss_and_grad
from bntheory.nets.mlp import MLP
from bntheory.nets.moments import MomentShiftResult, layer_input_moment_shift
from bntheory.nets.santurkar2018 import (
    ICSResult,
    LandscapeResult,
    internal_covariate_shift,
    santurkar_landscape,
)
from bntheory.nets.santurkar2018_theorems import (
    TheoremCheck,
    santurkar_theorem41,
    santurkar_theorem42,
)
from bntheory.nets.separation import separation_index
from bntheory.nets.train import train

#: Former private name, kept for importers (``bntheory.claims._netexp``).
_saturated_fraction = saturated_fraction


class _Batches(MiniBatches):
    """The former private mini-batch iterator, kept for importers (``bntheory.torch.landscape``):
    :class:`bntheory.nets.loop.MiniBatches` with sizes in ``[2, n]`` and ``arange(n)`` (not
    None) for the full batch."""

    def __init__(self, n: int, batch_size: int | None, gen: np.random.Generator) -> None:
        super().__init__(n, check_batch_size(batch_size, n), gen)

    def next(self) -> np.ndarray:
        idx = super().next()
        return np.arange(self.n) if idx is None else idx


__all__ = [
    "MLP",
    "gaussian_mixture",
    "load_digits_split",
    "safe_loss_and_grad",
    "train",
    "ActivationShift",
    "AroraResult",
    "FisherResult",
    "GradientFlowResult",
    "HessianIsotropy",
    "ICSResult",
    "IoffeFigure1",
    "LRSweepResult",
    "LandscapeResult",
    "MomentShiftResult",
    "RelativeLossChange",
    "TheoremCheck",
    "activation_shift",
    "arora_scale_invariance",
    "bjorck_lr_sweep",
    "fisher_spectrum",
    "gradient_flow",
    "hessian_isotropy",
    "histogram_kl",
    "internal_covariate_shift",
    "ioffe_figure1",
    "layer_input_moment_shift",
    "relative_loss_change",
    "santurkar_landscape",
    "santurkar_theorem41",
    "santurkar_theorem42",
    "saturated_fraction",
    "separation_index",
]

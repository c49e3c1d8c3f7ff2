"""PyTorch models in bntheory: train-mode BN curvature for any ``torch.nn.Module``.

Optional extra: ``pip install 'bntheory[torch]'``. Importing :mod:`bntheory` never imports
torch; importing this package does not either (every function imports it when called).

>>> from bntheory.torch import TorchObjective, bn_mode_report          # doctest: +SKIP
>>> obj = TorchObjective(model, F.cross_entropy, (X, y), bn="train")    # doctest: +SKIP
>>> top_eigenvalues(hessian_operator(obj, obj.x0), 5)                   # doctest: +SKIP

* :class:`TorchObjective` (``objective``): loss, gradient, HVP in BN train / eval / frozen mode;
* :func:`bn_mode_report` (``report``): the modes side by side, per layer;
* ``measures``: Santurkar et al. (2018) landscape and ICS, Yang et al. (2019) gradient
  growth, Karakida et al. (2019) Fisher, Arora et al. (2019) scale invariance;
* :func:`track` (``track``): curvature every k steps of the user's training loop;
* :func:`selfcheck` (``selfcheck``): a model against its NumPy twin :class:`bntheory.nets.MLP`;
* :func:`layer_groups` (``_layers``): which parameters form a layer (the per-layer measures'
  rule, for a user's own per-layer analysis).
"""

from __future__ import annotations

from bntheory.torch._layers import layer_groups
from bntheory.torch.measures import (
    fisher_spectrum,
    gradient_growth,
    internal_covariate_shift,
    landscape_at,
    santurkar_landscape,
    scale_invariance,
)
from bntheory.torch.objective import BN_MODES, TorchObjective, require_torch
from bntheory.torch.report import BNModeReport, bn_mode_report
from bntheory.torch.selfcheck import SelfCheckReport, selfcheck
from bntheory.torch.track import Tracker, TrackResult, track

__all__ = [
    "BN_MODES",
    "BNModeReport",
    "SelfCheckReport",
    "TorchObjective",
    "TrackResult",
    "Tracker",
    "bn_mode_report",
    "fisher_spectrum",
    "gradient_growth",
    "internal_covariate_shift",
    "landscape_at",
    "layer_groups",
    "require_torch",
    "santurkar_landscape",
    "scale_invariance",
    "selfcheck",
    "track",
]

"""PyTorch models in bntheory: train-mode BN curvature for any ``torch.nn.Module``.

Optional extra: ``pip install 'bntheory[torch]'``. Importing :mod:`bntheory` never imports
torch; importing this package does.

>>> from bntheory.torch import TorchObjective, bn_mode_report          # doctest: +SKIP
>>> obj = TorchObjective(model, F.cross_entropy, (X, y), bn="train")    # doctest: +SKIP
>>> top_eigenvalues(hessian_operator(obj, obj.x0), 5)                   # doctest: +SKIP
"""

from __future__ import annotations

from bntheory.torch.objective import BN_MODES, TorchObjective, require_torch
from bntheory.torch.report import BNModeReport, bn_mode_report

__all__ = ["BN_MODES", "BNModeReport", "TorchObjective", "bn_mode_report", "require_torch"]

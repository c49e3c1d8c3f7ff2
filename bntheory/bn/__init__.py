"""Numerical batch normalization: Algorithms 1 and 2 of Ioffe & Szegedy (2015).

Conventions
-----------
* ``x`` has shape ``(N, C)`` or ``(N, C, *spatial)``; the statistics of channel ``c`` are
  taken over every axis but axis 1, i.e. over the batch and all spatial locations, so the
  effective mini-batch size is ``m' = N * prod(spatial)`` (Ioffe & Szegedy 2015, Sec. 3.2),
  with one ``(gamma, beta)`` pair per channel.
* Training mode uses the biased (``1/m'``) batch variance, as Algorithm 1 does; running and
  population variances are the unbiased ``m'/(m'-1)`` versions, as Algorithm 2 line 10.

Precision
---------
float64 and float32 inputs are accepted (other real inputs are converted to float64). The
per-channel statistics (means, variances and the reductions of the backward pass) are
accumulated in float64 whatever the input type; the element-wise arithmetic runs in the
input's precision and the outputs have the input's dtype. For float64 input everything is
float64.

Layout
------
``bntheory.bn`` is a package: :mod:`bntheory.bn._train` (Algorithm 1 and its backward
pass), :mod:`bntheory.bn._inference` (Algorithm 2: population statistics, folded affine
map), :mod:`bntheory.bn._module` (the :class:`BatchNorm` layer) and
:mod:`bntheory.bn._common` (validation and per-channel reductions) and
:mod:`bntheory.bn._dense` (the training-mode kernels for ``(N, C)`` input; fused compiled
loops in :mod:`bntheory.bn._numba` with :func:`use_kernels` and the extra ``fast``). Import from
``bntheory.bn``; the submodules are an implementation detail.
"""

from __future__ import annotations

from ._common import Array  # noqa: F401  (importable as bntheory.bn.Array, as before)
from ._inference import FoldedAffine, batch_norm_inference, population_statistics
from ._kernels import KERNELS, current_kernels, use_kernels
from ._module import BackwardBeforeForwardError, BatchNorm
from ._train import BNCache, batch_norm_backward, batch_norm_forward

__all__ = [
    "KERNELS",
    "BNCache",
    "BackwardBeforeForwardError",
    "BatchNorm",
    "FoldedAffine",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
    "current_kernels",
    "population_statistics",
    "use_kernels",
]

"""Parameter selection and batch checks of :class:`bntheory.torch.TorchObjective`.

Implementation module of :mod:`bntheory.torch.objective` (which imports every name
here): the lazy torch import, the annotation aliases, which parameters a ``params=``
argument selects and how a batch is checked and cast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import torch

__all__ = ["Batch", "ParamSelection", "require_torch"]

#: A batch ``(X, y)``: arrays or tensors, samples along axis 0 (annotation only).
Batch: TypeAlias = "tuple[ArrayLike | torch.Tensor, ArrayLike | torch.Tensor]"
#: What ``params=`` accepts (see :class:`bntheory.torch.TorchObjective`; annotation only).
ParamSelection: TypeAlias = (
    "str | Iterable[str] | torch.nn.Module | Callable[[str, torch.nn.Parameter], bool] | None"
)


def require_torch() -> ModuleType:
    """Import torch, or raise ImportError naming the extra that installs it.

    Every function of :mod:`bntheory.torch` calls this instead of a module-level import,
    so ``import bntheory.torch`` works without PyTorch.

    Returns
    -------
    module
        The ``torch`` module.
    """
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised without torch
        raise ImportError("bntheory.torch needs PyTorch: pip install 'bntheory[torch]'") from exc
    return torch


def _is_bn(module) -> bool:
    from torch.nn.modules.batchnorm import _BatchNorm

    return isinstance(module, _BatchNorm)


def _prepare_batch(batch, dtype) -> tuple:
    """``(X, y)`` as tensors (floating parts cast to ``dtype``), checked."""
    torch = require_torch()
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError("batch must be a pair (X, y)")
    X, y = (torch.as_tensor(t) for t in batch)
    X = X.to(dtype) if X.is_floating_point() else X
    y = y.to(dtype) if y.is_floating_point() else y
    if X.ndim < 1 or X.shape[0] < 1 or (y.ndim and y.shape[0] != X.shape[0]):
        raise ValueError(
            f"batch: X and y must have the same positive number of rows, got "
            f"{tuple(X.shape)} and {tuple(y.shape)}"
        )
    if X.is_floating_point() and not bool(torch.isfinite(X).all()):
        raise ValueError("batch: X contains NaN or inf")
    return X, y


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


def _select(model, params) -> list[str]:
    """Names (in ``model.named_parameters()`` order) of the selected parameters."""
    torch = require_torch()
    named = [(n, p) for n, p in model.named_parameters()]
    if params is None:
        return [n for n, p in named if p.requires_grad]
    if isinstance(params, torch.nn.Module):
        ids = {id(p) for p in params.parameters()}
        out = [n for n, p in named if id(p) in ids]
        if not out:
            raise ValueError("params: the module given holds none of the model's parameters")
        return out
    if callable(params):
        out = [n for n, p in named if params(n, p)]
        if not out:
            raise ValueError("params: the predicate selected no parameter")
        return out
    if isinstance(params, str):
        params = [params]
    if isinstance(params, Iterable):
        want = list(params)
        known = {n for n, _ in named}
        bad = [w for w in want if not isinstance(w, str) or w not in known]
        if bad:
            raise ValueError(f"params: unknown parameter names {bad} (known: {sorted(known)})")
        return [n for n, _ in named if n in set(want)]
    raise TypeError(
        "params must be None, a list of names, an nn.Module or a predicate (name, param) -> bool"
    )

"""The train-mode objective of a PyTorch model as a bntheory problem.

``TorchObjective(model, loss_fn, (X, y), bn="train")`` exposes ``dim``, ``x0``, ``loss``,
``grad``, ``hvp`` and ``hessian`` over the flat vector of the selected parameters, so every
measure of :mod:`bntheory.measures` (``hessian_operator``, ``top_eigenvalues``,
``lanczos``, ``slq_density``, ``hutchinson_trace``) works on a user's own network.

BN modes
--------
``"train"``
    Batch statistics of ``X``: the objective that BN training minimises (Ioffe & Szegedy
    2015, Alg. 1); its Hessian includes the coupling of all examples through the mean and
    variance of the batch.
``"eval"``
    The model's running statistics (the inference map of Alg. 2): the surrogate general
    Hessian tools (PyHessian, hessian-eigenthings) measure, since they call ``model.eval()``.
``"frozen"``
    Batch statistics computed once at the model's current parameters and then held fixed
    (a Gauss-Newton-like surrogate: the statistics do not depend on the parameters).

The user's model is never modified: the objective works on a private deep copy (cast to
``dtype``), evaluated with :func:`torch.func.functional_call`, so parameters, buffers
(running statistics, ``num_batches_tracked``) and ``training`` flags of ``model`` are the
same after any call. Modules other than BN are evaluated in eval mode (dropout off), so the
objective is a deterministic function of the parameters.

Hessian-vector products are forward-over-reverse (``jvp`` of ``grad``) or
reverse-over-reverse (double backward). Not ``torch.func.hessian`` (forward-over-reverse through ``F.batch_norm``): in torch 2.13 it
returned O(1)-wrong second derivatives in the d(dL/dgamma)/dW block of affine BN, while
double backward agrees with bntheory's exact NumPy R-operator to round-off
(``tests/torch/test_objective.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bntheory._checks import as_real_array
from bntheory.torch._params import (
    Batch,
    ParamSelection,
    _is_bn,
    _prepare_batch,
    _select,
    _Slot,
    require_torch,
)

if TYPE_CHECKING:
    import torch

__all__ = ["BN_MODES", "HVP_METHODS", "TorchObjective", "require_torch"]

BN_MODES = ("train", "eval", "frozen")
HVP_METHODS = ("double-backward", "jvp")

#: Largest ``dim`` for which :meth:`TorchObjective.hessian` builds the dense matrix
#: (``dim`` HVPs and ``8 dim^2`` bytes); override with ``hessian(x, max_dim=...)``.
DENSE_HESSIAN_MAX_DIM = 4000


class TorchObjective:
    """Loss of ``model`` on one batch as a function of the selected parameters.

    Parameters
    ----------
    model : torch.nn.Module
        Any model; BN layers are ``torch.nn.BatchNorm1d/2d/3d`` (any ``_BatchNorm``).
    loss_fn : callable
        ``loss_fn(output, y) -> scalar tensor`` (e.g. ``torch.nn.functional.cross_entropy``).
    batch : (X, y)
        Tensors or arrays; floating ``X`` is cast to ``dtype``; ``y`` is cast to ``dtype``
        when floating and kept as is otherwise (class labels).
    bn : {"train", "eval", "frozen"}
        Which statistics BN uses (module docstring).
    params : None, str, list of str, nn.Module or callable, optional
        The parameters the objective is a function of (others stay at their values):
        all trainable ones (default), names from ``model.named_parameters()``, the
        parameters of a submodule, or a predicate ``(name, param) -> bool``.
    dtype : torch.dtype, optional
        Default ``torch.float64`` (float32 works with correspondingly looser agreement).
    hvp_method : {"double-backward", "jvp"}
        Reverse-over-reverse (default) or forward-over-reverse (``torch.func.jvp`` of
        ``torch.func.grad``: ~10 % cheaper on a conv net, several times slower on small
        MLPs in torch 2.13, ``benchmarks/bench_torch.py``). Both agree with the NumPy
        R-operator to round-off (tests); ``torch.func.hessian`` is not used (module
        docstring).

    Attributes
    ----------
    dim : int
        Number of selected scalar parameters.
    x0 : numpy.ndarray
        The selected parameters' current values, flattened (float64).
    names : tuple of str
        Selected parameter names, in flat-vector order.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        batch: Batch,
        *,
        bn: str = "train",
        params: ParamSelection = None,
        dtype: torch.dtype | None = None,
        hvp_method: str = "double-backward",
    ) -> None:
        torch = require_torch()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("loss_fn must be callable: loss_fn(output, y) -> scalar tensor")
        if hvp_method not in HVP_METHODS:
            raise ValueError(f"hvp_method must be one of {HVP_METHODS}, got {hvp_method!r}")
        self.hvp_method = hvp_method
        if bn not in BN_MODES:
            raise ValueError(f"bn must be one of {BN_MODES}, got {bn!r}")
        dtype = torch.float64 if dtype is None else dtype
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        X, y = _prepare_batch(batch, dtype)
        self.bn_mode = bn
        self.loss_fn = loss_fn
        self.dtype = dtype
        self._X, self._y = X, y
        self.names = tuple(_select(model, params))  # ids of a submodule refer to model
        net = copy.deepcopy(model).to(dtype)
        for p in net.parameters():
            p.requires_grad_(False)
        bns = [m for m in net.modules() if _is_bn(m)]
        net.eval()  # dropout etc. off: a deterministic function of the parameters
        if bn == "train":
            for m in bns:
                m.train()
        elif bn in ("eval", "frozen"):
            for m in bns:
                if m.running_mean is None or m.running_var is None:
                    raise ValueError(
                        f"bn={bn!r} needs running statistics, but a BN layer has "
                        "track_running_stats=False"
                    )
        self._net = net
        self._params = dict(net.named_parameters())
        self._buffers = dict(net.named_buffers())
        slots, off = [], 0
        for n in self.names:
            shp = tuple(self._params[n].shape)
            size = int(np.prod(shp)) if shp else 1
            slots.append(_Slot(n, shp, off, off + size))
            off += size
        self._slots = tuple(slots)
        self.dim = off
        if self.dim == 0:
            raise ValueError("params: the selection has no scalar parameters")
        self.x0 = np.concatenate(
            [self._params[s.name].detach().reshape(-1).cpu().double().numpy() for s in slots]
        )
        if bn == "frozen":
            self._freeze_statistics(bns)

    # ------------------------------------------------------------------ internals
    def _freeze_statistics(self, bns) -> None:
        """Set the copy's running statistics to the batch statistics at ``x0`` (the biased
        variance, which train-mode BN normalizes with), then evaluate in eval mode."""
        torch = require_torch()
        seen: dict = {}
        hooks = [
            m.register_forward_pre_hook(lambda mod, inp: seen.__setitem__(mod, inp[0].detach()))
            for m in bns
        ]
        for m in bns:
            m.train()
        try:
            with torch.no_grad():
                self._call(self._tensor(self.x0))
        finally:
            for h in hooks:
                h.remove()
        for m in bns:
            x = seen[m]
            dims = [0] + list(range(2, x.ndim))
            with torch.no_grad():
                m.running_mean.copy_(x.mean(dim=dims))
                m.running_var.copy_(x.var(dim=dims, unbiased=False))
            m.eval()
        self._buffers = dict(self._net.named_buffers())

    def _tensor(self, x):
        return self._vector(x, "x")

    def _unflatten(self, t) -> dict:
        return {s.name: t[s.start : s.stop].reshape(s.shape) for s in self._slots}

    def _output(self, t):
        """Model output at flat parameters ``t`` (a tensor); running buffers are clones, so
        even train-mode BN leaves the copy's statistics untouched."""
        from torch.func import functional_call

        values = dict(self._params)
        values.update(self._unflatten(t))
        bufs = {k: b.clone() for k, b in self._buffers.items()}
        return functional_call(self._net, (values, bufs), (self._X,))

    def _call(self, t):
        """Loss at flat parameters ``t`` (a tensor)."""
        loss = self.loss_fn(self._output(t), self._y)
        if loss.ndim != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        return loss

    def _vector(self, v, name: str):
        torch = require_torch()
        a = as_real_array(v, name)  # ragged lists, dicts, strings, complex: named TypeError
        if a.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
        return torch.as_tensor(a, dtype=self.dtype)

    # ------------------------------------------------------------------ the problem API
    def loss(self, x: ArrayLike) -> float:
        """The objective at ``x`` (no gradient is recorded).

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat values of the selected parameters (the layout of :attr:`x0`); a wrong
            shape, NaN or inf raises ``ValueError`` (as in every method below).

        Returns
        -------
        float
            ``loss_fn(model(X), y)`` with those parameters, BN in this objective's mode.
        """
        torch = require_torch()
        with torch.no_grad():
            return float(self._call(self._tensor(x)))

    def loss_and_grad(self, x: ArrayLike) -> tuple[float, np.ndarray]:
        """The objective and its gradient at ``x`` (one forward and one backward pass).

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat values of the selected parameters.

        Returns
        -------
        (float, ndarray of shape (dim,))
            The loss and ``dL/dx`` in float64 (computed in :attr:`dtype`; in train mode
            through the batch mean and variance too).
        """
        torch = require_torch()
        t = self._tensor(x).requires_grad_(True)
        L = self._call(t)
        (g,) = torch.autograd.grad(L, t)
        return float(L.detach()), g.detach().double().numpy()

    def grad(self, x: ArrayLike) -> np.ndarray:
        """The gradient at ``x`` (:meth:`loss_and_grad` without the loss).

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat values of the selected parameters.

        Returns
        -------
        ndarray, shape (dim,)
            ``dL/dx`` in float64.
        """
        return self.loss_and_grad(x)[1]

    def hvp(self, x: ArrayLike, v: ArrayLike) -> np.ndarray:
        """Hessian-vector product ``H(x) v``, exact to round-off: double backward (``grad``
        of ``<grad L, v>``) or, with ``hvp_method="jvp"``, forward-over-reverse.

        Parameters
        ----------
        x, v : array_like, shape (dim,)
            Flat values of the selected parameters, and the direction.

        Returns
        -------
        ndarray, shape (dim,)
            ``H(x) v`` in float64.
        """
        torch = require_torch()
        t = self._tensor(x)
        u = self._vector(v, "v")
        if self.hvp_method == "jvp":
            return torch.func.jvp(torch.func.grad(self._call), (t,), (u,))[1].double().numpy()
        t.requires_grad_(True)
        (g,) = torch.autograd.grad(self._call(t), t, create_graph=True)
        (hv,) = torch.autograd.grad(g @ u, t)
        return hv.detach().double().numpy()

    def hessian(self, x: ArrayLike, *, max_dim: int = DENSE_HESSIAN_MAX_DIM) -> np.ndarray:
        """The dense Hessian at ``x``, column by column (``dim`` calls of :meth:`hvp`).

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat values of the selected parameters.
        max_dim : int
            Largest ``dim`` allowed (``ValueError`` above it): the cost is ``dim`` HVPs and
            ``8 dim^2`` bytes.

        Returns
        -------
        ndarray, shape (dim, dim)
            ``H[:, j] = hvp(x, e_j)``; symmetric up to round-off (not symmetrized).
        """
        if self.dim > max_dim:
            raise ValueError(
                f"hessian: dim {self.dim} > max_dim {max_dim} (it costs dim HVPs and "
                f"{8 * self.dim**2 / 1e9:.1f} GB); use a matrix-free measure or raise max_dim"
            )
        eye = np.eye(self.dim)
        return np.column_stack([self.hvp(x, eye[:, j]) for j in range(self.dim)])

    def with_batch(self, batch: Batch) -> TorchObjective:
        """The same objective on another batch, sharing this one's private model copy.

        Parameters
        ----------
        batch : (X, y)
            As for the constructor.

        Returns
        -------
        TorchObjective
            A new objective (this one is unchanged). Only for ``bn="train"`` and
            ``bn="eval"``: frozen statistics belong to the batch they were computed on.
        """
        if self.bn_mode == "frozen":
            raise ValueError("batch: bn='frozen' statistics belong to the construction batch")
        new = copy.copy(self)
        new._X, new._y = _prepare_batch(batch, self.dtype)
        return new

    def groups(self) -> dict[str, list[str]]:
        """Selected parameter names grouped by the module that owns them (per-layer use:
        ``TorchObjective(..., params=names)`` for each group; unlike
        :func:`bntheory.torch.layer_groups`, BN scale and shift form their own group).

        Returns
        -------
        dict of str to list of str
            Owning module's qualified name (``""`` for parameters of the root module) ->
            its selected parameter names, in flat-vector order.
        """
        out: dict[str, list[str]] = {}
        for n in self.names:
            out.setdefault(n.rsplit(".", 1)[0] if "." in n else "", []).append(n)
        return out

    def __repr__(self) -> str:
        return (
            f"TorchObjective(dim={self.dim}, bn={self.bn_mode!r}, "
            f"params={len(self.names)} tensors, dtype={self.dtype})"
        )

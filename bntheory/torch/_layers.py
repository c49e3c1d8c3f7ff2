"""Which parameters form a "layer", and which weights feed a BN layer, in a torch model.

Santurkar et al. (2018, Def. 2.1) and Yang et al. (2019) measure per *layer*; bntheory's
NumPy MLP defines a layer as all parameters of one dense layer (weights, bias, BN scale and
shift). :func:`layer_groups` applies the same rule to any module tree: every module with
parameters of its own starts a layer, except a BN module, whose scale and shift join the
layer before it. :func:`bn_fed_units` finds the weights whose output goes straight into a BN
layer (Arora, Li & Lyu 2019: those are scale-invariant per output unit) by watching one
forward pass of the objective's private model copy.
"""

from __future__ import annotations

import numpy as np

from bntheory.torch.objective import TorchObjective, _is_bn

__all__ = ["bn_fed_units", "flat_index", "layer_groups"]


def layer_groups(obj: TorchObjective) -> list[tuple[str, list[str]]]:
    """The selected parameters of ``obj`` grouped into layers, in forward (registration) order.

    The rule of the per-layer measures (Santurkar et al. 2018, Def. 2.1; Yang et al. 2019),
    the same as :class:`bntheory.nets.MLP`'s layers: every module with parameters of its own
    opens a layer, except a BN module, whose scale and shift join the layer before it.
    Exported as :func:`bntheory.torch.layer_groups`.

    Parameters
    ----------
    obj : TorchObjective
        The objective whose selected parameter names are grouped.

    Returns
    -------
    list of (str, list of str)
        ``(layer name, parameter names)``; the layer name is the module that opened it. A
        BN module's parameters join the preceding layer (as ``gamma``/``beta`` of
        :class:`bntheory.nets.MLP` belong to their dense layer); unselected names are left
        out and empty layers dropped.
    """
    selected = set(obj.names)
    groups: list[tuple[str, list[str]]] = []
    for mname, module in obj._net.named_modules():
        own = [f"{mname}.{p}" if mname else p for p, _ in module.named_parameters(recurse=False)]
        if not own:
            continue
        if _is_bn(module) and groups:
            groups[-1][1].extend(own)
        else:
            groups.append((mname or "(root)", own))
    out = [(n, [p for p in ps if p in selected]) for n, ps in groups]
    out = [(n, ps) for n, ps in out if ps]
    seen = {p for _, ps in out for p in ps}
    rest = [p for p in obj.names if p not in seen]
    if rest:  # parameters registered outside named_modules' view (should not happen)
        out.append(("(other)", rest))
    return out


def flat_index(obj: TorchObjective, names: list[str]) -> np.ndarray:
    """Positions of the parameters ``names`` in ``obj``'s flat vector.

    Parameters
    ----------
    obj : TorchObjective
    names : list of str
        Selected parameter names.

    Returns
    -------
    ndarray of int
    """
    slots = {s.name: s for s in obj._slots}
    return np.concatenate([np.arange(slots[n].start, slots[n].stop) for n in names])


def bn_fed_units(obj: TorchObjective) -> list[dict]:
    """Modules whose output is the input of a BN layer, with their per-unit flat indices.

    One forward pass of the objective's private copy (no gradient, buffers cloned) is
    watched: a module with a ``weight`` of two or more dimensions (Linear, Conv) whose output
    tensor is the very tensor a BN module receives feeds that BN. Its output unit (row /
    output channel) ``j`` owns ``weight[j]`` and ``bias[j]``; with train-mode BN the loss is
    invariant to scaling that vector (Arora, Li & Lyu 2019, Sec. 2).

    Parameters
    ----------
    obj : TorchObjective
        Only selected parameters are reported; a module whose weight is not selected is
        skipped.

    Returns
    -------
    list of dict
        ``{"module", "bn", "units"}``, ``units`` an ``(n_units, k)`` int array of flat
        indices (weight row, then bias entry when the module has a selected bias).
    """
    from bntheory.torch.objective import require_torch

    torch = require_torch()
    outputs: dict[int, tuple] = {}  # id -> (module, tensor); the tensor is kept alive
    fed: dict[str, str] = {}
    names = {m: n for n, m in obj._net.named_modules()}

    def after(mod, inp, out) -> None:
        outputs[id(out)] = (mod, out)

    def before(mod, inp) -> None:
        hit = outputs.get(id(inp[0]))
        if hit is not None and hit[1] is inp[0]:
            fed[names[hit[0]]] = names[mod]

    hooks = []
    for m in names:
        w = getattr(m, "weight", None)
        if isinstance(w, torch.nn.Parameter) and w.ndim >= 2:
            hooks.append(m.register_forward_hook(after))
        elif _is_bn(m):
            hooks.append(m.register_forward_pre_hook(before))
    try:
        with torch.no_grad():
            obj._output(obj._tensor(obj.x0))
    finally:
        for h in hooks:
            h.remove()
        outputs.clear()
    slots = {s.name: s for s in obj._slots}
    result = []
    for mname, bname in fed.items():
        wname = f"{mname}.weight" if mname else "weight"
        bias = f"{mname}.bias" if mname else "bias"
        if wname not in slots:
            continue
        s = slots[wname]
        rows = np.arange(s.start, s.stop).reshape(s.shape[0], -1)
        if bias in slots:
            b = slots[bias]
            rows = np.column_stack([rows, np.arange(b.start, b.stop)])
        result.append({"module": mname, "bn": bname, "units": rows})
    return result

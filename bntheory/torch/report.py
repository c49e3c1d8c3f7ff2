"""``bn_mode_report``: the same model's curvature in each BN mode, side by side.

General Hessian tools evaluate BN networks in eval mode; the objective BN training
minimises uses batch statistics. The report measures, for ``bn`` in train / eval / frozen
(:class:`~bntheory.torch.TorchObjective`) and for the whole parameter vector and each
layer: the loss, the gradient norm and its angle to the train-mode gradient, the extreme
Hessian eigenvalues (Lanczos / ARPACK on the matrix-free HVP), a Hutchinson trace and,
for the whole vector, an SLQ spectral density.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bntheory.torch.objective import BN_MODES, Batch, ParamSelection, TorchObjective

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

__all__ = ["BNModeReport", "bn_mode_report"]

_COLUMNS = (
    "group",
    "bn",
    "dim",
    "loss",
    "grad_norm",
    "cos_to_train",
    "lambda_max",
    "lambda_min",
    "trace",
)


@dataclass(frozen=True, slots=True)
class BNModeReport:
    """Result of :func:`bn_mode_report`.

    Attributes
    ----------
    rows : tuple of dict
        One row per (group, BN mode) with the keys of :data:`_COLUMNS`; ``trace_se`` is the
        Hutchinson standard error.
    densities : dict
        BN mode -> :class:`~bntheory.measures.SpectralDensity` of the whole vector's
        Hessian (empty when ``slq_runs=0``).
    """

    rows: tuple[dict, ...]
    densities: dict

    def row(self, group: str, bn: str) -> dict:
        """The row of one parameter group in one BN mode.

        Parameters
        ----------
        group : str
            ``"all"`` (the whole selected vector) or an owning module's name
            (``"(root)"`` for the root module's own parameters).
        bn : {"train", "eval", "frozen"}
            A mode the report measured.

        Returns
        -------
        dict
            ``group``, ``bn``, ``dim``, ``loss``, ``grad_norm``, ``cos_to_train``,
            ``lambda_max``, ``lambda_min``, ``trace`` and ``trace_se``.

        Raises
        ------
        KeyError
            Naming ``group`` and ``bn`` when the report has no such row.
        """
        for r in self.rows:
            if r["group"] == group and r["bn"] == bn:
                return r
        raise KeyError(f"no row for group {group!r}, bn {bn!r}")

    def table(self) -> str:
        """Markdown table of every row.

        Returns
        -------
        str
            Columns group, bn, dim, loss, grad_norm, cos_to_train, lambda_max, lambda_min,
            trace; floats with 6 significant digits.
        """
        head = "| " + " | ".join(_COLUMNS) + " |"
        lines = [head, "|" + "---|" * len(_COLUMNS)]
        for r in self.rows:
            cells = []
            for c in _COLUMNS:
                v = r[c]
                cells.append(f"{v:.6g}" if isinstance(v, float) else str(v))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def figure(self) -> Figure:
        """The SLQ densities of the whole-vector Hessian, one curve per BN mode.

        Returns
        -------
        matplotlib.figure.Figure
            A new 6 x 3.5 in figure (log density against eigenvalue); empty axes when the
            report has no densities. The caller saves or closes it.
        """
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for mode, dens in self.densities.items():
            ax.plot(dens.grid, dens.density, label=f"bn={mode}")
        ax.set_xlabel("Hessian eigenvalue")
        ax.set_ylabel("SLQ density")
        ax.set_yscale("log")
        if self.densities:  # no curve, no legend (matplotlib would warn)
            ax.legend()
        fig.tight_layout()
        return fig


def bn_mode_report(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: Batch,
    *,
    params: ParamSelection = None,
    per_layer: bool = True,
    modes: tuple[str, ...] = BN_MODES,
    n_probes: int = 30,
    slq_runs: int = 4,
    slq_steps: int = 40,
    rng: int = 0,
) -> BNModeReport:
    """Loss, gradient and curvature of ``model`` on ``batch`` in each BN mode.

    Parameters
    ----------
    model, loss_fn, batch, params
        As for :class:`~bntheory.torch.TorchObjective` (``params`` selects the whole
        vector; ``per_layer`` adds one row group per owning module of those parameters).
    modes : tuple of str
        BN modes to compare (``"train"`` is always measured: the angles refer to it).
    n_probes : int
        Hutchinson probes per trace (its standard error is reported).
    slq_runs, slq_steps : int
        SLQ runs and Lanczos steps for the whole-vector density (``slq_runs=0``: none).
    rng : int
        Seed of Lanczos start vectors and probes.

    Returns
    -------
    BNModeReport
        One row per parameter group (``"all"`` first, then each owning module) and mode
        (``"train"`` first): loss, gradient norm, cosine to the train-mode gradient of the
        same group, extreme Hessian eigenvalues (dense ``eigvalsh`` for ``dim <= 2``, else
        ARPACK on the HVP), Hutchinson trace and its standard error; the SLQ densities of
        the whole vector per mode.

    Raises
    ------
    ValueError
        For a mode outside ``BN_MODES`` (and the objective's own argument errors).
    """
    from bntheory.measures import hessian_operator, hutchinson_trace, slq_density, top_eigenvalues

    if isinstance(modes, (str, bytes)) or not isinstance(modes, Iterable):
        raise TypeError(f"modes must be a tuple of BN modes {BN_MODES}, got {modes!r}")
    modes = tuple(dict.fromkeys(("train", *modes)))
    for m in modes:
        if m not in BN_MODES:
            raise ValueError(f"modes: {m!r} is not one of {BN_MODES}")
    whole = {m: TorchObjective(model, loss_fn, batch, bn=m, params=params) for m in modes}
    groups = {"all": list(whole["train"].names)}
    if per_layer:
        groups.update(whole["train"].groups())
    rows = []
    densities = {}
    for gname, names in groups.items():
        g_train = None
        for m in modes:
            obj = (
                whole[m]
                if gname == "all"
                else TorchObjective(model, loss_fn, batch, bn=m, params=names)
            )
            L, g = obj.loss_and_grad(obj.x0)
            if m == "train":
                g_train = g
            op = hessian_operator(obj, obj.x0)
            if obj.dim <= 2:
                lam = np.linalg.eigvalsh(obj.hessian(obj.x0))
                lmax, lmin = float(lam[-1]), float(lam[0])
            else:
                lmax = float(top_eigenvalues(op, 1, which="LA", rng=rng)[0])
                lmin = float(top_eigenvalues(op, 1, which="SA", rng=rng)[0])
            tr = hutchinson_trace(op, n_probes, rng=rng)
            gn = float(np.linalg.norm(g))
            denom = gn * float(np.linalg.norm(g_train))
            rows.append(
                {
                    "group": gname or "(root)",
                    "bn": m,
                    "dim": obj.dim,
                    "loss": float(L),
                    "grad_norm": gn,
                    "cos_to_train": float(g @ g_train / denom) if denom > 0 else float("nan"),
                    "lambda_max": lmax,
                    "lambda_min": lmin,
                    "trace": float(tr.estimate),
                    "trace_se": float(tr.standard_error),
                }
            )
            if gname == "all" and slq_runs > 0 and obj.dim > 2:
                densities[m] = slq_density(
                    op, n_runs=slq_runs, n_steps=min(slq_steps, obj.dim), rng=rng
                )
    return BNModeReport(tuple(rows), densities)

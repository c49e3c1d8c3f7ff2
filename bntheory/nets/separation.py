"""Class separation of hidden representations (Fisher 1936 criterion), the measure of the
reference article's clustering claim."""

from __future__ import annotations

import numpy as np

__all__ = ["separation_index"]

Array = np.ndarray


def separation_index(H: Array, labels: Array) -> float:
    """Class separation of representations ``H`` (n, features): the Fisher criterion
    ``tr(S_b) / tr(S_w)`` (between-class over within-class scatter, both as sums of squared
    distances to the class / overall means; Fisher 1936). Invariant to a global scale and
    to rotations of ``H``; larger = better separated clusters.

    Parameters
    ----------
    H : array_like (n, features)
        Representations (e.g. the last hidden layer's outputs).
    labels : array_like (n,)
        Class of each row (at least 2 classes).

    Returns
    -------
    float
        ``tr(S_b) / tr(S_w)`` (``inf`` when the within-class scatter is 0).

    Raises
    ------
    TypeError
        When ``H`` is not a real numeric array or ``labels`` not an array of labels.
    ValueError
        For a non-2-D ``H``, a label count other than one per row, NaN/inf in ``H``, fewer
        than 2 classes, or scatters that overflow float64.
    """
    from bntheory.nets.checks import check_matrix

    H = check_matrix(H, "H")
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"labels must be an array of class labels, got {type(labels).__name__}")
    try:
        y = np.asarray(labels).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TypeError("labels must be a flat array of class labels") from exc
    if H.shape[1] < 1:
        raise ValueError(f"H must have at least one feature column, got shape {H.shape}")
    if H.shape[0] != y.size or H.shape[0] < 2:
        raise ValueError(
            f"H must be (n >= 2, features) with one label per row: H has shape {H.shape}, "
            f"labels has {y.size}"
        )
    if y.dtype == object:
        raise TypeError("labels must be an array of numbers or strings, got objects")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("labels must contain at least 2 classes")
    # the criterion is scale invariant: bring huge/tiny entries near 1 by a power of 2
    # (exact), so the squares neither overflow nor underflow; ordinary input is untouched
    amax = float(np.max(np.abs(H)))
    if amax > 1e100 or 0 < amax < 1e-100:
        H = np.ldexp(H, -int(np.frexp(amax)[1]))
    mu = H.mean(axis=0)
    sb = sw = 0.0
    for c in classes:
        Hc = H[y == c]
        mc = Hc.mean(axis=0)
        sb += Hc.shape[0] * float(np.sum((mc - mu) ** 2))
        sw += float(np.sum((Hc - mc) ** 2))
    return sb / sw if sw > 0 else float("inf")

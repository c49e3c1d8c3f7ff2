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
    """
    H = np.asarray(H, dtype=float)
    y = np.asarray(labels).reshape(-1)
    if H.ndim != 2 or H.shape[0] != y.size or H.shape[0] < 2:
        raise ValueError(f"H must be (n, features) with one label per row, got {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("H contains NaN or inf")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("labels must contain at least 2 classes")
    mu = H.mean(axis=0)
    sb = sw = 0.0
    for c in classes:
        Hc = H[y == c]
        mc = Hc.mean(axis=0)
        sb += Hc.shape[0] * float(np.sum((mc - mu) ** 2))
        sw += float(np.sum((Hc - mc) ** 2))
    return sb / sw if sw > 0 else float("inf")

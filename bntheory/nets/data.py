"""Data sets for the network experiments.

* :func:`teacher_student` and :func:`gaussian_mixture`: synthetic, built in.
* :func:`load_digits_split`: the 8x8 handwritten digits bundled with scikit-learn
  (``sklearn.datasets.load_digits``, 1797 images, no download), available with the optional
  extra ``bntheory[data]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory.gradcheck import as_generator

__all__ = ["Dataset", "gaussian_mixture", "load_digits_split", "teacher_student"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Dataset:
    """A train/test split.

    Attributes
    ----------
    X_train, Y_train, X_test, Y_test : ndarray
        Inputs (N, d) and targets: (N, k) for regression, int labels (N,) for classification.
    n_classes : int
        Number of classes (0 for regression).
    name : str
    """

    X_train: Array = field(repr=False)
    Y_train: Array = field(repr=False)
    X_test: Array = field(repr=False)
    Y_test: Array = field(repr=False)
    n_classes: int
    name: str


def _check_pos_int(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def teacher_student(
    n_train: int,
    n_test: int,
    d_in: int,
    d_out: int = 1,
    *,
    hidden: int = 32,
    noise: float = 0.0,
    rng: int | np.random.Generator | None = None,
) -> Dataset:
    """Gaussian inputs ``x ~ N(0, I)``, targets of a random one-hidden-layer tanh teacher
    ``y = tanh(x A / sqrt(d_in)) B / sqrt(hidden) + noise * N(0, 1)``."""
    n_train = _check_pos_int(n_train, "n_train")
    n_test = _check_pos_int(n_test, "n_test")
    d_in = _check_pos_int(d_in, "d_in")
    d_out = _check_pos_int(d_out, "d_out")
    hidden = _check_pos_int(hidden, "hidden")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    gen = as_generator(rng)
    A = gen.standard_normal((d_in, hidden))
    B = gen.standard_normal((hidden, d_out))
    X = gen.standard_normal((n_train + n_test, d_in))
    Y = np.tanh(X @ A / np.sqrt(d_in)) @ B / np.sqrt(hidden)
    Y = Y + noise * gen.standard_normal(Y.shape)
    return Dataset(X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], 0, "teacher_student")


def gaussian_mixture(
    n_train: int,
    n_test: int,
    d: int,
    n_classes: int = 3,
    *,
    separation: float = 2.0,
    rng: int | np.random.Generator | None = None,
) -> Dataset:
    """``n_classes`` isotropic unit Gaussians in ``R^d`` with means of norm ``separation``
    (random directions); balanced labels."""
    n_train = _check_pos_int(n_train, "n_train")
    n_test = _check_pos_int(n_test, "n_test")
    d = _check_pos_int(d, "d")
    n_classes = _check_pos_int(n_classes, "n_classes", 2)
    if not np.isfinite(separation) or separation < 0:
        raise ValueError(f"separation must be >= 0, got {separation}")
    gen = as_generator(rng)
    M = gen.standard_normal((n_classes, d))
    M *= separation / np.linalg.norm(M, axis=1, keepdims=True)
    n = n_train + n_test
    y = np.arange(n) % n_classes
    gen.shuffle(y)
    X = M[y] + gen.standard_normal((n, d))
    return Dataset(
        X[:n_train], y[:n_train], X[n_train:], y[n_train:], n_classes, "gaussian_mixture"
    )


def load_digits_split(
    test_fraction: float = 0.25, rng: int | np.random.Generator | None = 0
) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), pixels scaled to [0, 1],
    shuffled and split.

    Raises
    ------
    ImportError
        When scikit-learn is missing: install the optional extra ``bntheory[data]``.
    """
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits_split needs scikit-learn: install the optional extra "
            "'bntheory[data]' (pip install 'bntheory[data]')"
        ) from exc
    d = load_digits()
    X = np.asarray(d.data, dtype=np.float64) / 16.0
    y = np.asarray(d.target, dtype=np.int64)
    gen = as_generator(rng)
    perm = gen.permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return Dataset(X[tr], y[tr], X[te], y[te], 10, "digits")

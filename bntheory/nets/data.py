"""Data sets for the network experiments.

* :func:`teacher_student` and :func:`gaussian_mixture`: synthetic, built in.
* :func:`load_digits_split`: the 8x8 handwritten digits bundled with scikit-learn
  (``sklearn.datasets.load_digits``, 1797 images, no download), available with the optional
  extra ``bntheory[data]``.
* :func:`load_mnist` and :func:`load_fashion_mnist`: the real MNIST (LeCun, Cortes & Burges,
  1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) sets, 60,000 training and 10,000 test
  images of 28x28 pixels, read offline and verified (size and SHA-256) before use. They live
  in :mod:`bntheory.nets.mnist` (where the data come from, how they are verified and cached)
  and are re-exported here, with :func:`data_status`, :func:`install_commands`,
  :func:`install_hint`, :func:`sweep_store` and :class:`DataStatus`.

Missing data raises :class:`DataUnavailable`, whose one-line message names the command that
installs it; nothing falls back to another data set.
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_generator, as_real
from bntheory.nets._dataset import (
    CACHE_ENV,
    DATA_ENV,
    DATASETS,
    DataChecksumError,
    Dataset,
    DataUnavailable,
)
from bntheory.nets.mnist import (
    DataStatus,
    data_status,
    install_commands,
    install_hint,
    load_fashion_mnist,
    load_mnist,
    sweep_store,
)

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "DATA_ENV",
    "DataChecksumError",
    "DataStatus",
    "DataUnavailable",
    "Dataset",
    "data_status",
    "gaussian_mixture",
    "install_commands",
    "install_hint",
    "load_digits_split",
    "load_fashion_mnist",
    "load_mnist",
    "sweep_store",
    "teacher_student",
]

Array = np.ndarray


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
    """Regression data from a random teacher network.

    Gaussian inputs ``x ~ N(0, I)``, targets of a random one-hidden-layer tanh teacher
    ``y = tanh(x A / sqrt(d_in)) B / sqrt(hidden) + noise * N(0, 1)``, ``A`` and ``B``
    standard normal.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test samples (>= 1), drawn from the same distribution.
    d_in : int
        Input dimension (>= 1).
    d_out : int
        Output dimension (>= 1).
    hidden : int
        Width of the teacher's hidden layer (>= 1).
    noise : float
        Standard deviation of the additive Gaussian label noise (>= 0).
    rng : int, Generator or None
        Source of the teacher, the inputs and the noise.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, d_in)``, ``Y`` of shape ``(n, d_out)``, ``n_classes = 0``
        (regression), ``name = "teacher_student"``.

    Raises
    ------
    TypeError, ValueError
        Naming the argument: a non-integer count, a count below 1, a negative or
        non-finite ``noise``.
    """
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
    """A classification set: ``n_classes`` isotropic unit Gaussians in ``R^d``.

    The class means have norm ``separation`` in random (standard normal) directions; the
    labels are balanced (``k mod n_classes`` for the ``n_train + n_test`` samples,
    shuffled) and each sample is its class mean plus ``N(0, I)``.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test samples (>= 1).
    d : int
        Input dimension (>= 1).
    n_classes : int
        Number of classes (>= 2).
    separation : float
        Norm of every class mean, in units of the within-class standard deviation (>= 0;
        0 makes the classes indistinguishable).
    rng : int, Generator or None
        Source of the means, the labels and the noise.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, d)``, int labels ``Y`` of shape ``(n,)`` in
        ``0 .. n_classes - 1``, ``name = "gaussian_mixture"``.

    Raises
    ------
    TypeError, ValueError
        Naming the argument: a non-integer count, a count below its minimum, a negative or
        non-finite ``separation``.
    """
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

    The UCI optical handwritten digits (Alpaydin & Kaynak, 1998) as shipped by
    ``sklearn.datasets.load_digits`` (no download).

    Parameters
    ----------
    test_fraction : float
        Fraction of the 1797 images in the test split, in (0, 1) (rounded to a count).
    rng : int, Generator or None
        Source of the shuffle (default 0: the same split on every call).

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 64)`` (pixel intensity 0..16 divided by 16), int labels 0..9,
        ``n_classes = 10``, ``name = "digits"``.

    Raises
    ------
    ValueError
        For ``test_fraction`` outside (0, 1).
    DataUnavailable
        When scikit-learn is missing: install the optional extra ``bntheory[data]``. Not an
        ``ImportError``, so no caller's ``except ImportError`` can silently substitute
        another data set under the name "digits".
    """
    test_fraction = as_real(test_fraction, "test_fraction")  # None, str: a named TypeError
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataUnavailable(
            "the digits data set needs scikit-learn, which is not installed: "
            "pip install 'bntheory[data]'"
        ) from exc
    d = load_digits()
    X = np.asarray(d.data, dtype=np.float64) / 16.0
    y = np.asarray(d.target, dtype=np.int64)
    gen = as_generator(rng)
    perm = gen.permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return Dataset(X[tr], y[tr], X[te], y[te], 10, "digits")

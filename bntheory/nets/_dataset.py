"""The types shared by every data loader of :mod:`bntheory.nets.data` (and
:mod:`bntheory.nets.mnist`): :class:`Dataset`, the exceptions and the environment variables.

Kept in a module of its own so that the synthetic / digits module and the MNIST loaders can
both import them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CACHE_ENV", "DATASETS", "DATA_ENV", "DataChecksumError", "DataUnavailable", "Dataset"]

Array = np.ndarray

DATA_ENV = "BNTHEORY_DATA"
CACHE_ENV = "BNTHEORY_CACHE"
DATASETS = ("mnist", "fashion-mnist")


class DataUnavailable(Exception):
    """A data set (or the optional dependency that provides it) is not on this machine.

    The message is one line naming the command that installs what is missing; the claims
    runner reports a claim that needs it as not-testable-here with this reason. Deliberately
    not an ``ImportError``, so that no ``except ImportError`` fallback can swallow it and
    substitute another data set.
    """


class DataChecksumError(DataUnavailable):
    """A data file was found but its size or SHA-256 differs from the pinned value."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A train/test split (optionally with a validation split).

    Attributes
    ----------
    X_train, Y_train, X_test, Y_test : ndarray
        Inputs (N, d) and targets: (N, k) for regression, int labels (N,) for classification.
    n_classes : int
        Number of classes (0 for regression).
    name : str
    X_val, Y_val : ndarray or None
        Validation inputs and targets, when the loader was asked for them.
    source : str
        Where the data was read from and how it was verified ("" for synthetic data).
    """

    X_train: Array = field(repr=False)
    Y_train: Array = field(repr=False)
    X_test: Array = field(repr=False)
    Y_test: Array = field(repr=False)
    n_classes: int
    name: str
    X_val: Array | None = field(default=None, repr=False)
    Y_val: Array | None = field(default=None, repr=False)
    source: str = ""

"""Small NumPy networks with train-mode BN (exact backward and HVP) and the measurements of
the deep-network claims (Santurkar, Bjorck, Karakida, Yang, Arora, Ioffe & Szegedy)."""

from __future__ import annotations

from bntheory.nets.data import Dataset, gaussian_mixture, load_digits_split, teacher_student
from bntheory.nets.loop import MiniBatches, SGDRun, sgd
from bntheory.nets.mlp import (
    ACTIVATIONS,
    LOSSES,
    MLP,
    ForwardTrace,
    NetObjective,
    NetTrace,
    ParamSpec,
)
from bntheory.nets.train import TrainResult, accuracy, train

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "Dataset",
    "ForwardTrace",
    "MiniBatches",
    "NetObjective",
    "NetTrace",
    "ParamSpec",
    "SGDRun",
    "TrainResult",
    "accuracy",
    "gaussian_mixture",
    "load_digits_split",
    "sgd",
    "teacher_student",
    "train",
]

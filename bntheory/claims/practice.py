"""Claims of the reference article on training practice: BN as a regularizer, its
dependence on the mini-batch size, and training without meticulous initialization."""

from __future__ import annotations

from bntheory.claims.core import Claim

CLAIMS: list[Claim] = []

"""Hessian spectra: operators, Lanczos, top eigenvalues and SLQ spectral densities.

The design follows curvlinops (curvature as a ``scipy.sparse.linalg.LinearOperator``) and
hessian-eigenthings (``algorithms/spectral_density.py``): Lanczos with full
re-orthogonalisation, stochastic Lanczos quadrature (SLQ) with a documented Gaussian
width, a log-spectrum mode, deflation of outliers, and a frozen result that keeps the raw
quadrature nodes and weights so that any other smoothing can be redone without new
matrix-vector products.

References
----------
Lanczos (1950); Paige (1972) for the loss of orthogonality that full re-orthogonalisation
cures; Golub & Meurant (2009), *Matrices, Moments and Quadrature*, Ch. 6 (Gauss quadrature
from the Lanczos tridiagonal: nodes = Ritz values, weights = squared first components of
the Ritz vectors); Ubaru, Chen & Saad (2017), "Fast estimation of tr(f(A)) via stochastic
Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38(4); Ghorbani, Krishnan & Xiao (2019),
"An investigation into neural net optimization via Hessian eigenvalue density", ICML
(Gaussian-smoothed SLQ density, outlier deflation, log-scale plots).
"""

from __future__ import annotations

# The implementation lives in one module per idea (operators, lanczos, eigen, density);
# this module re-exports every name so that ``bntheory.measures.spectra`` keeps working.
from .density import SLQ_MAX_BYTES, SLQ_MAX_GRID, SpectralDensity, slq_density
from .eigen import DENSE_MAX_DIM, top_eigenvalues
from .lanczos import LanczosResult, RngLike, lanczos
from .operators import dense_matrix, hessian_operator

__all__ = [
    "DENSE_MAX_DIM",
    "SLQ_MAX_BYTES",
    "SLQ_MAX_GRID",
    "LanczosResult",
    "RngLike",
    "SpectralDensity",
    "dense_matrix",
    "hessian_operator",
    "lanczos",
    "slq_density",
    "top_eigenvalues",
]

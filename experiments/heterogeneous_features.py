"""Entry point: ``python experiments/heterogeneous_features.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.heterogeneous_features` (shipped with the package, so an
installed bntheory runs it as ``bntheory run heterogeneous_features``); this file only calls its ``main``.
"""

from bntheory.experiments.heterogeneous_features import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point: ``python experiments/kappa_star.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.kappa_star` (shipped with the package, so an
installed bntheory runs it as ``bntheory run kappa_star``); this file only calls its ``main``.
"""

from bntheory.experiments.kappa_star import main

if __name__ == "__main__":
    raise SystemExit(main())

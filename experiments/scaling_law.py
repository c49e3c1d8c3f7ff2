"""Entry point: ``python experiments/scaling_law.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.scaling_law` (shipped with the package, so an
installed bntheory runs it as ``bntheory run scaling_law``); this file only calls its ``main``.
"""

from bntheory.experiments.scaling_law import main

if __name__ == "__main__":
    raise SystemExit(main())

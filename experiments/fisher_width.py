"""Entry point: ``python experiments/fisher_width.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.fisher_width` (shipped with the package, so an
installed bntheory runs it as ``bntheory run fisher_width``); this file only calls its ``main``.
"""

from bntheory.experiments.fisher_width import main

if __name__ == "__main__":
    raise SystemExit(main())

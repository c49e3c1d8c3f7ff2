"""Entry point: ``python experiments/landscape.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.landscape` (shipped with the package, so an
installed bntheory runs it as ``bntheory run landscape``); this file only calls its ``main``.
"""

from bntheory.experiments.landscape import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point: ``python experiments/gradient_depth.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.gradient_depth` (shipped with the package, so an
installed bntheory runs it as ``bntheory run gradient_depth``); this file only calls its ``main``.
"""

from bntheory.experiments.gradient_depth import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point: ``python experiments/yang_rate.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.yang_rate` (shipped with the package, so an
installed bntheory runs it as ``bntheory run yang_rate``); this file only calls its ``main``.
"""

from bntheory.experiments.yang_rate import main

if __name__ == "__main__":
    raise SystemExit(main())

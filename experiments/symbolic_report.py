"""Entry point: ``python experiments/symbolic_report.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.symbolic_report` (shipped with the package, so an
installed bntheory runs it as ``bntheory run symbolic_report``); this file only calls its ``main``.
"""

from bntheory.experiments.symbolic_report import main

if __name__ == "__main__":
    raise SystemExit(main())

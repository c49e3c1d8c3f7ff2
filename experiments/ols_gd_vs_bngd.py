"""Entry point: ``python experiments/ols_gd_vs_bngd.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.ols_gd_vs_bngd` (shipped with the package, so an
installed bntheory runs it as ``bntheory run ols_gd_vs_bngd``); this file only calls its ``main``.
"""

from bntheory.experiments.ols_gd_vs_bngd import main

if __name__ == "__main__":
    raise SystemExit(main())

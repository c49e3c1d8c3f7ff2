"""Entry point: ``python experiments/spectra.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.spectra` (shipped with the package, so an
installed bntheory runs it as ``bntheory run spectra``); this file only calls its ``main``.
"""

from bntheory.experiments.spectra import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point: ``python experiments/ioffe_fig1.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.ioffe_fig1` (shipped with the package, so an
installed bntheory runs it as ``bntheory run ioffe_fig1``); this file only calls its ``main``.
"""

from bntheory.experiments.ioffe_fig1 import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point: ``python experiments/ioffe_fig1_mnist.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.ioffe_fig1_mnist` (shipped with the package, so an
installed bntheory runs it as ``bntheory run ioffe_fig1_mnist``); this file only calls its ``main``.
"""

from bntheory.experiments.ioffe_fig1_mnist import main

if __name__ == "__main__":
    raise SystemExit(main())

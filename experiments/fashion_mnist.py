"""Entry point: ``python experiments/fashion_mnist.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.fashion_mnist` (shipped with the package, so an
installed bntheory runs it as ``bntheory run fashion_mnist``); this file only calls its ``main``.
"""

from bntheory.experiments.fashion_mnist import main

if __name__ == "__main__":
    raise SystemExit(main())

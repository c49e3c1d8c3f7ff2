"""Entry point: ``python experiments/yang_mnist.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.yang_mnist` (shipped with the package, so an
installed bntheory runs it as ``bntheory run yang_mnist``); this file only calls its ``main``.
"""

from bntheory.experiments.yang_mnist import main

if __name__ == "__main__":
    raise SystemExit(main())

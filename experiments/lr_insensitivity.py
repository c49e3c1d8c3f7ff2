"""Entry point: ``python experiments/lr_insensitivity.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.lr_insensitivity` (shipped with the package, so an
installed bntheory runs it as ``bntheory run lr_insensitivity``); this file only calls its ``main``.
"""

from bntheory.experiments.lr_insensitivity import main

if __name__ == "__main__":
    raise SystemExit(main())

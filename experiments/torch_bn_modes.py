"""Entry point: ``python experiments/torch_bn_modes.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.torch_bn_modes` (shipped with the package, so an
installed bntheory runs it as ``bntheory run torch_bn_modes``); this file only calls its ``main``.
"""

from bntheory.experiments.torch_bn_modes import main

if __name__ == "__main__":
    raise SystemExit(main())

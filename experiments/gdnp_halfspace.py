"""Entry point: ``python experiments/gdnp_halfspace.py [--quick] [--out DIR] [--seed N] [--replot]``.

The experiment lives in :mod:`bntheory.experiments.gdnp_halfspace` (shipped with the package, so an
installed bntheory runs it as ``bntheory run gdnp_halfspace``); this file only calls its ``main``.
"""

from bntheory.experiments.gdnp_halfspace import main

if __name__ == "__main__":
    raise SystemExit(main())

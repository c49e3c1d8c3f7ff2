"""The experiments behind the figures: one module per figure (``compute``, ``plot``,
``CHECK``, ``main``); run one with ``bntheory run NAME`` or ``python -m bntheory.experiments.NAME``."""

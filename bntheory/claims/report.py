"""Verdict table, JSON and Markdown reports of a ledger run.

The JSON has the deterministic part (``claims``, ``summary``, ``seed``, ``quick``) and the
timings in a separate top-level ``timings`` field, so two runs with the same seed give
identical JSON once ``timings`` is dropped (``report_dict(..., timings=False)``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bntheory import __version__
from bntheory.claims.core import SECTIONS, Verdict
from bntheory.claims.runner import ClaimResult

__all__ = [
    "format_table",
    "report_dict",
    "summary_counts",
    "summary_line",
    "to_markdown",
    "write_json",
]

#: The reference article, cited by its title.
ARTICLE = "Batch normalization (encyclopedic survey article; the ledger's reference article)"

_ORDER = [
    Verdict.HOLDS,
    Verdict.HOLDS_WITH_CORRECTION,
    Verdict.REFUTED,
    Verdict.INCONCLUSIVE,
    Verdict.NOT_TESTABLE,
    Verdict.ERROR,
]


def summary_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Number of claims per verdict.

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run (:func:`bntheory.claims.runner.run_claims` or a subset of it).

    Returns
    -------
    dict of str to int
        Verdict value -> count, every verdict listed (zeros included) in the fixed order
        holds, holds-with-correction, refuted, inconclusive, not-testable-here, error.
    """
    c = Counter(r.verdict for r in results)
    return {v.value: int(c.get(v, 0)) for v in _ORDER}


def summary_line(results: Sequence[ClaimResult]) -> str:
    """The run's tally as one line, e.g. ``"12 claims: 9 holds, 3 refuted"``.

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run.

    Returns
    -------
    str
        ``"<n> claims: "`` then the non-zero counts of :func:`summary_counts` in their
        order (``"none"`` when there are no results).
    """
    counts = summary_counts(results)
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    return f"{len(results)} claims: " + (", ".join(parts) if parts else "none")


def _short(s: str, n: int) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def format_table(results: Sequence[ClaimResult], *, width: int = 160) -> str:
    """The run as a plain-text table for the terminal (``bntheory verify``).

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run; one row per result, in the given order.
    width : int
        Target line width in characters. The id, section, method and verdict columns have
        fixed maxima; the rest (at least 20 characters) is split between ``stated`` and
        ``measured``, whose cells are shortened with an ellipsis.

    Returns
    -------
    str
        Header, dashed rule and rows, columns id, section, method, stated, measured,
        verdict; ``measured`` is ``"ERROR: <message>"`` for a check that raised and starts
        with ``"[source] "`` for source-evidence claims. No trailing spaces.
    """
    cols = ["id", "section", "method", "stated", "measured", "verdict"]
    rows = []
    for r in results:
        measured = r.outcome.measured if r.outcome is not None else "ERROR: " + r.error
        if r.claim.evidence == "source" and r.outcome is not None:
            measured = "[source] " + measured
        rows.append(
            [r.claim.id, r.claim.section, r.claim.method, r.claim.stated, measured, r.verdict.value]
        )
    fixed = {"id": 9, "section": 30, "method": 10, "verdict": 21}
    free = max(20, width - sum(fixed.values()) - 2 * (len(cols) - 1))
    lim = dict(fixed, stated=free // 2, measured=free - free // 2)
    widths = {
        c: min(lim[c], max([len(c)] + [len(_short(row[i], lim[c])) for row in rows]))
        for i, c in enumerate(cols)
    }
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines.append("  ".join("-" * widths[c] for c in cols))
    for row in rows:
        lines.append(
            "  ".join(_short(v, widths[c]).ljust(widths[c]) for c, v in zip(cols, row, strict=True))
        )
    return "\n".join(line.rstrip() for line in lines)


def report_dict(
    results: Sequence[ClaimResult],
    *,
    seed: int,
    quick: bool,
    timings: bool = True,
    total_seconds: float | None = None,
) -> dict:
    """The run as the JSON-able report written by ``bntheory verify --json``.

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run.
    seed : int
        Master seed of the run.
    quick : bool
        Whether the run was in quick mode.
    timings : bool
        Include the ``"timings"`` field (seconds per claim id, rounded to 0.1 ms). It is the
        only non-deterministic field: with ``timings=False`` two runs with the same seed
        give identical dicts.
    total_seconds : float, optional
        Wall-clock time of the whole run, stored as ``timings["total"]``.

    Returns
    -------
    dict
        ``bntheory_version``, ``article``, ``seed``, ``quick``, ``summary``
        (:func:`summary_counts`), ``claims`` (one :meth:`ClaimResult.to_dict` per result)
        and, with ``timings``, ``timings``.
    """
    d = {
        "bntheory_version": __version__,
        "article": ARTICLE,
        "seed": int(seed),
        "quick": bool(quick),
        "summary": summary_counts(results),
        "claims": [r.to_dict() for r in results],
    }
    if timings:
        t = {r.claim.id: round(r.seconds, 4) for r in results}
        if total_seconds is not None:
            t["total"] = round(total_seconds, 3)
        d["timings"] = t
    return d


def write_json(path: str | Path, report: dict) -> Path:
    """Write a report dict as indented JSON, atomically (:mod:`bntheory._io`).

    Parameters
    ----------
    path : str or Path
        Destination file; replaced whole or not at all.
    report : dict
        JSON-able data, normally from :func:`report_dict` (keys kept in their order).

    Returns
    -------
    Path
        The path written.
    """
    from bntheory._io import atomic_write_text

    return atomic_write_text(Path(path), json.dumps(report, indent=2, sort_keys=False) + "\n")


_EVIDENCE_LABEL = {
    "measured": "measured",
    "source": "checked against the source",
    "none": "not testable here",
}
_RESULT = {True: "true", False: "false", None: "undecided"}


def _md(s: str) -> str:
    return " ".join(str(s).split()).replace("|", "\\|")


def to_markdown(results: Sequence[ClaimResult], *, seed: int, quick: bool) -> str:
    """The run as a Markdown report (``bntheory verify --markdown``).

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run.
    seed : int
        Master seed of the run (shown in the header).
    quick : bool
        Whether the run was in quick mode (shown in the header; quick-mode notes of the
        claims are printed only then).

    Returns
    -------
    str
        A summary line, then per section of the article (in order, empty ones skipped) a
        table id / method / stated / measured / verdict and a bullet per claim: quote,
        source, evidence, each declared reading with what it evaluated to, quick-mode and
        seed-stability notes, the 95 % intervals and the outcome's note.
    """
    out = [
        "# Claims ledger: reference article on batch normalization",
        "",
        f"Seed {seed}, {'quick' if quick else 'full'} mode. {summary_line(results)}.",
        "",
    ]
    by_section: dict[str, list[ClaimResult]] = {}
    for r in results:
        by_section.setdefault(r.claim.section, []).append(r)
    for slug, title in SECTIONS.items():
        rs = by_section.get(slug)
        if not rs:
            continue
        out += [
            f"## {title}",
            "",
            "| id | method | stated | measured | verdict |",
            "|---|---|---|---|---|",
        ]
        for r in rs:
            meas = r.outcome.measured if r.outcome is not None else "ERROR: " + r.error
            out.append(
                f"| {r.claim.id} | {r.claim.method} | {_md(r.claim.stated)} | {_md(meas)} | "
                f"**{r.verdict.value}** |"
            )
        out.append("")
        for r in rs:
            note = r.outcome.note if r.outcome is not None else r.error
            out.append(
                f"- **{r.claim.id}** — “{_md(r.claim.quote)}” — source: {_md(r.claim.source)}; "
                f"evidence: {_EVIDENCE_LABEL[r.claim.evidence]}."
            )
            for label, reading in (("literal", r.claim.literal), ("corrected", r.claim.corrected)):
                if reading is not None:
                    res = (r.decision or {}).get(label)
                    out.append(
                        f"  {label} reading: {_md(reading.text)} "
                        f"(`{'; '.join(p.describe() for p in reading.predicates)}`"
                        f"{'; source: ' + _md(reading.source) if reading.source else ''})"
                        f" -> {_RESULT.get(res, 'n/a')}."
                    )
            if quick and r.claim.quick_note:
                out.append(f"  quick mode: {_md(r.claim.quick_note)}")
            if r.claim.stability_note:
                out.append(f"  seed stability: {_md(r.claim.stability_note)}")
            if r.measurement is not None and r.measurement.intervals:
                ivs = ", ".join(
                    f"{k} in [{lo:.4g}, {hi:.4g}]"
                    for k, (lo, hi) in r.measurement.intervals.items()
                    if lo is not None and hi is not None
                )
                out.append(f"  95 % intervals: {ivs}.")
            if note:
                out.append(f"  {_md(note)}")
        out.append("")
    return "\n".join(out)

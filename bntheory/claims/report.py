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
    """Number of claims per verdict (every verdict listed, zeros included)."""
    c = Counter(r.verdict for r in results)
    return {v.value: int(c.get(v, 0)) for v in _ORDER}


def summary_line(results: Sequence[ClaimResult]) -> str:
    counts = summary_counts(results)
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    return f"{len(results)} claims: " + (", ".join(parts) if parts else "none")


def _short(s: str, n: int) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def format_table(results: Sequence[ClaimResult], *, width: int = 160) -> str:
    """Plain-text table: id, section, method, stated, measured, verdict."""
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
    """The JSON-able report; ``timings=False`` drops the only non-deterministic field."""
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
    """Markdown report: summary, then one table per section, then notes per claim."""
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

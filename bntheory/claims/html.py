"""A self-contained HTML report of a ledger run (``bntheory verify --html PATH``).

One page, no external resources: a summary, then one card per claim with the article's
quote, the source, the evidence label, the literal and corrected readings (as declared
before the run, each with what it evaluated to), the measured values with their 95 %
intervals, the verdict, the figure that shows it (embedded, where one exists) and the
command that re-runs that claim alone.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from bntheory.claims.core import SECTIONS
from bntheory.claims.runner import ClaimResult

__all__ = ["to_html"]

_COLOURS = {
    "holds": "#1b7837",
    "holds-with-correction": "#5aae61",
    "refuted": "#b2182b",
    "inconclusive": "#e08214",
    "not-testable-here": "#777777",
    "error": "#000000",
}

_CSS = """
body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
.card{border:1px solid #ccc;border-radius:6px;padding:0.8em 1em;margin:1em 0}
.verdict{color:#fff;border-radius:4px;padding:0.1em 0.5em;font-weight:bold}
blockquote{margin:0.4em 0;color:#444;font-style:italic}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:0.2em 0.5em;font-size:90%}
code{background:#f4f4f4;padding:0 0.2em}img{max-width:100%}
.rule{background:#f8f8f8;padding:0.6em 1em;border-left:4px solid #999}
"""

_RESULT = {True: "true", False: "false", None: "undecided", "n/a": "n/a"}


def _e(s) -> str:
    return html.escape(str(s))


def _figure(name: str, figures: Path) -> str:
    png = figures / f"{name}.png"
    if not png.is_file():
        return ""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (
        f"<details><summary>figure <code>{_e(name)}</code></summary>"
        f'<img alt="{_e(name)}" src="data:image/png;base64,{data}"></details>'
    )


def _card(r: ClaimResult, figures: Path, places: dict, *, quick: bool, seed: int) -> str:
    c, d = r.claim, r.to_dict()
    v = d["verdict"]
    out = [
        f'<div class="card" id="{_e(c.id)}">',
        f'<h3>{_e(c.id)} <span class="verdict" style="background:{_COLOURS.get(v, "#000")}">'
        f"{_e(v)}</span></h3>",
        f"<blockquote>{_e(c.quote)}</blockquote>",
        f"<p>Source: {_e(c.source)}; evidence: "
        f"{_e({'measured': 'measured', 'source': 'checked against the source', 'none': 'not testable here'}[c.evidence])}"
        "</p>",
    ]
    dec = r.decision or {}
    for label, reading in (("Literal reading", c.literal), ("Corrected reading", c.corrected)):
        if reading is None:
            continue
        res = dec.get("literal" if label.startswith("Literal") else "corrected")
        preds = "; ".join(p.describe() for p in reading.predicates)
        src = f" (source: {_e(reading.source)})" if reading.source else ""
        out.append(
            f"<p><b>{label}</b>{src}: {_e(reading.text)}<br><code>{_e(preds)}</code> &rarr; "
            f"<b>{_RESULT.get(res, 'n/a')}</b><br><small>tolerance: {_e(reading.why)}</small></p>"
        )
    if c.evidence == "none":
        out.append(f"<p><b>Not testable here:</b> {_e(c.untestable)}</p>")
    elif r.status != "ok":
        out.append(f"<p><b>Error:</b> {_e(r.error)}</p>")
    else:
        out.append(f"<p><b>Measured:</b> {_e(d['measured'])}</p>")
        rows = []
        for k, val in d.get("numbers", {}).items():
            iv = d.get("intervals", {}).get(k)
            ci = f"[{iv[0]:.4g}, {iv[1]:.4g}]" if iv and None not in iv else ""
            shown = f"{val:.6g}" if isinstance(val, float) else _e(val)
            rows.append(f"<tr><td><code>{_e(k)}</code></td><td>{shown}</td><td>{ci}</td></tr>")
        if rows:
            out.append(
                "<details><summary>values</summary><table><tr><th>value</th><th>measured</th>"
                "<th>95 % interval</th></tr>" + "".join(rows) + "</table></details>"
            )
        if d.get("note"):
            out.append(f"<p><small>{_e(d['note'])}</small></p>")
    for label, text in (
        ("Quick mode", c.quick_note if quick else ""),
        ("Seed stability", c.stability_note),
    ):
        if text:
            out.append(f"<p><small><b>{label}:</b> {_e(text)}</small></p>")
    fig = places.get(c.id, ("-", "-", "-"))[2]
    for name in [f.strip().split(" ")[0] for f in str(fig).split(",")]:
        if name and name != "-":
            out.append(_figure(name, figures))
    cmd = f"bntheory verify --only {c.id}{' --quick' if quick else ''} --seed {seed} --details"
    out.append(f"<p><small>re-run alone: <code>{_e(cmd)}</code></small></p></div>")
    return "\n".join(out)


def to_html(
    results: Sequence[ClaimResult],
    *,
    seed: int,
    quick: bool,
    figures: str | Path = "figures",
) -> str:
    """The run as one self-contained HTML document (``bntheory verify --html PATH``).

    Parameters
    ----------
    results : sequence of ClaimResult
        One ledger run.
    seed : int
        Master seed of the run (shown in the summary and in each claim's re-run command).
    quick : bool
        Whether the run was in quick mode (shown; adds ``--quick`` to the re-run commands
        and prints the claims' quick-mode notes).
    figures : str or Path
        Folder of the PNG figures named in the section modules' ``PLACES``; each one found
        there is embedded as a base64 data URI, a missing one is skipped.

    Returns
    -------
    str
        The HTML page (no external resources): summary line, how a verdict is decided, a
        table of contents and, per section in article order, one card per claim (quote,
        source, evidence label, readings with what they evaluated to, measured values with
        95 % intervals, verdict, figure, re-run command). All text is HTML-escaped.
    """
    from bntheory.claims.notes import places
    from bntheory.claims.report import summary_line

    figures = Path(figures)
    where = places()
    mode = "quick" if quick else "full"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>bntheory: claims ledger</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Claims ledger: the reference article on batch normalization</h1>",
        f"<p><b>{_e(summary_line(results))}</b> (seed {seed}, {mode} mode)</p>",
        '<div class="rule">How a verdict is decided: each claim declares, before it runs, the '
        "article's literal reading as a measurable predicate and, where the literature "
        "supports one, a corrected reading with its source. Literal holds &rarr; holds; "
        "literal fails and corrected holds &rarr; holds-with-correction; both fail &rarr; "
        "refuted; a 95 % interval across a threshold &rarr; inconclusive.</div>",
    ]
    by_section: dict[str, list[ClaimResult]] = {}
    for r in results:
        by_section.setdefault(r.claim.section, []).append(r)
    toc = [
        f'<li><a href="#{_e(s)}">{_e(t)}</a> ({len(by_section[s])})</li>'
        for s, t in SECTIONS.items()
        if s in by_section
    ]
    parts.append("<ul>" + "".join(toc) + "</ul>")
    for slug, title in SECTIONS.items():
        if slug not in by_section:
            continue
        parts.append(f'<h2 id="{_e(slug)}">{_e(title)}</h2>')
        for r in by_section[slug]:
            parts.append(_card(r, figures, where, quick=quick, seed=seed))
    parts.append("</body></html>")
    return "\n".join(parts)

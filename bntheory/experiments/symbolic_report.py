"""Symbolic backward-pass report: SymPy proofs of the BN gradient identities, as a table figure.

Runs :func:`bntheory.symbolic.verify_backward` (chain-rule backward pass of Ioffe & Szegedy
2015, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
Shift", Sec. 3) and draws its items (identity, statement, proven for, result) as a matplotlib
table; the Markdown rendering is stored next to the data (``data/symbolic_report.md``).

The data, table and Markdown hold no timings, so a rerun writes the same items and the same
Markdown byte for byte. An item whose name ends in ``_fails`` is a check that a statement is
FALSE (a counterexample); its "result" reads "fails, as expected" once the failure is proved.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bntheory.experiments import _common as C  # noqa: E402

NAME = "symbolic_report"
#: items whose verified statement is the failure of another statement (a counterexample)
_FAILS_SUFFIX = "_fails"


def compute(quick: bool, seed: int) -> dict:
    """Run the symbolic verification (quick: m = 3 only; full: m = 4 and symbolic m).

    Parameters
    ----------
    quick : bool
        Quick mode (batch size 3, no symbolic-m proofs).
    seed : int
        Unused (the proofs are exact).

    Returns
    -------
    dict
        ``m``, ``holds`` (every item proved), ``items`` (name, statement, holds, proven_for,
        detail, source; no timings) and ``markdown`` (the table, see :func:`markdown`).
    """
    from bntheory.symbolic import verify_backward

    m = 3 if quick else 4
    report = verify_backward(m=m, general=not quick)
    items = [{k: v for k, v in it.items() if k != "seconds"} for it in report.to_dict()["items"]]
    data = {"m": m, "holds": bool(report.holds), "items": items}
    data["markdown"] = markdown(data)
    return data


def is_counterexample(item: dict) -> bool:
    """True for an item that verifies that a statement FAILS (name ending in ``_fails``).

    Parameters
    ----------
    item : dict
        One stored item (``name`` key).

    Returns
    -------
    bool
        Whether the item is a counterexample check.
    """
    return str(item.get("name", "")).endswith(_FAILS_SUFFIX)


def result_text(item: dict) -> str:
    """What the proof established, in words: "proved", "fails, as expected" or a failure.

    Parameters
    ----------
    item : dict
        One stored item (``name`` and ``holds`` keys).

    Returns
    -------
    str
        ``"proved"`` / ``"NOT proved"`` for an identity; for a counterexample item
        ``"fails, as expected"`` (the failure was proved) or ``"failure NOT shown"``.
    """
    if is_counterexample(item):
        return "fails, as expected" if item["holds"] else "failure NOT shown"
    return "proved" if item["holds"] else "NOT proved"


def markdown(data: dict) -> str:
    """The Markdown table of the items (no timings: byte-identical on a rerun).

    Parameters
    ----------
    data : dict
        ``m``, ``holds`` and ``items`` as made by :func:`compute`.

    Returns
    -------
    str
        A one-line summary, then a table (name, proven for, result, statement).
    """
    items = data["items"]
    verdict = "ALL VERIFIED" if data["holds"] else "SOME NOT VERIFIED"
    lines = [
        f"Symbolic proofs (SymPy): {verdict}; batch size m = {data['m']}; {len(items)} items. "
        "An item named *_fails checks that the quoted statement is false (a counterexample); "
        "its result 'fails, as expected' means that failure was proved.",
        "",
        "| name | proven for | result | statement |",
        "|---|---|---|---|",
    ]
    for it in items:
        stmt = (it.get("statement") or "").replace("|", "\\|")
        lines.append(f"| {it['name']} | {it['proven_for']} | {result_text(it)} | {stmt} |")
    return "\n".join(lines) + "\n"


def plot(data: dict, out: Path) -> None:
    """Table figure: one row per proved identity or counterexample; writes the Markdown too.

    Parameters
    ----------
    data : dict
        The stored data of :func:`compute`.
    out : Path
        Output folder (``<out>/symbolic_report.{pdf,png}`` and ``<out>/data/symbolic_report.md``).

    Returns
    -------
    None
    """
    items = data["items"]
    rows = []
    colors = []
    for it in items:
        stmt = textwrap.shorten(it.get("statement") or it["name"], width=95, placeholder="...")
        rows.append([it["name"], stmt, it["proven_for"], result_text(it)])
        fill = "#d9f2d9" if it["holds"] else "#f8d0d0"
        colors.append(["white"] * 3 + [fill])
    height = 0.95 + 0.27 * max(len(rows), 1)
    fig, ax = C.figure(width=10.5, height=height)
    ax.axis("off")
    ax.grid(False)
    table = ax.table(
        cellText=rows or [["-", "no items", "-", "-"]],
        cellColours=colors or None,
        colLabels=["identity", "statement", "proven for", "result"],
        colWidths=[0.2, 0.55, 0.1, 0.13],
        loc="upper center",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1.0, 1.25)
    for (r, _c), cell in table.get_celld().items():
        cell.PAD = 0.02
        if r == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e6e6e6")
    verdict = "every item verified" if data["holds"] else "SOME ITEMS NOT VERIFIED"
    general = any(it["proven_for"] == "all m" for it in items)
    scope = f"batch size m = {data['m']}" + (" and symbolic m" if general else "")
    ax.set_title(
        f"BN backward pass, SymPy proofs ({scope}): {verdict}\n"
        "rows named *_fails check that a statement is false: "
        "'fails, as expected' = the counterexample was proved",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)
    md = Path(out) / "data" / f"{NAME}.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    from bntheory._io import atomic_write_text

    atomic_write_text(md, data["markdown"])


def CHECK(data: dict) -> tuple[bool, str]:
    """Every symbolic item holds (each statement is phrased so that True = verified).

    Parameters
    ----------
    data : dict
        The stored data of :func:`compute`.

    Returns
    -------
    tuple of (bool, str)
        Whether every item holds, and a one-line message.
    """
    items = data.get("items") or []
    if not items:
        return False, "no symbolic items"
    bad = [it["name"] for it in items if not it["holds"]]
    if bad or not data["holds"]:
        return False, f"{len(bad)} of {len(items)} items do not hold: {bad}"
    n_cex = sum(is_counterexample(it) for it in items)
    return True, (
        f"{len(items) - n_cex} identities proven and {n_cex} counterexample(s) confirmed "
        f"(m = {data['m']})"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line (see :func:`bntheory.experiments._common.run`).

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when the check passes, 1 otherwise.
    """
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

"""Symbolic backward-pass report: SymPy proofs of the BN gradient identities, as a table figure.

Runs :func:`bntheory.symbolic.verify_backward` (Ioffe & Szegedy 2015, Sec. 3, chain-rule
backward pass; THEORY.md Sec. 1) and draws its items (identity, proven for, seconds,
holds) as a matplotlib table; the Markdown rendering is stored next to the data
(``data/symbolic_report.md``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bntheory.experiments import _common as C  # noqa: E402

NAME = "symbolic_report"


def compute(quick: bool, seed: int) -> dict:
    """Run the symbolic verification (quick: m = 3 only; full: m = 4 and symbolic m); ``seed`` is unused."""
    from bntheory.symbolic import verify_backward

    m = 3 if quick else 4
    report = verify_backward(m=m, general=not quick)
    d = report.to_dict()
    return {
        "m": m,
        "holds": bool(report.holds),
        "items": d["items"],
        "seconds": float(sum(it["seconds"] for it in d["items"])),
        "markdown": report.to_markdown(),
    }


def plot(data: dict, out: Path) -> None:
    """Table figure: one row per proved identity."""
    items = data["items"]
    rows = []
    colors = []
    for it in items:
        stmt = textwrap.shorten(it.get("statement") or it["name"], width=95, placeholder="...")
        rows.append(
            [
                it["name"],
                stmt,
                it["proven_for"],
                f"{it['seconds']:.2f}",
                "yes" if it["holds"] else "NO",
            ]
        )
        colors.append(["white"] * 4 + ["#d9f2d9" if it["holds"] else "#f8d0d0"])
    height = 0.9 + 0.27 * max(len(rows), 1)
    fig, ax = C.figure(width=10.5, height=height)
    ax.axis("off")
    ax.grid(False)
    table = ax.table(
        cellText=rows or [["-", "no items", "-", "-", "-"]],
        cellColours=colors or None,
        colLabels=["identity", "statement", "proven for", "seconds", "holds"],
        colWidths=[0.2, 0.55, 0.1, 0.07, 0.06],
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
    verdict = "all identities hold" if data["holds"] else "SOME IDENTITIES FAIL"
    general = any(it["proven_for"] == "all m" for it in items)
    scope = f"batch size m = {data['m']}" + (" and symbolic m" if general else "")
    ax.set_title(
        f"BN backward pass, SymPy proofs ({scope}): {verdict}; total {data['seconds']:.1f} s",
        fontsize=9,
    )
    C.save_figure(fig, NAME, out)
    md = Path(out) / "data" / f"{NAME}.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    from bntheory._io import atomic_write_text

    atomic_write_text(md, data["markdown"])


def CHECK(data: dict) -> tuple[bool, str]:
    """Every symbolic item holds (each statement is phrased so that True = proved)."""
    items = data.get("items") or []
    if not items:
        return False, "no symbolic items"
    bad = [it["name"] for it in items if not it["holds"]]
    if bad or not data["holds"]:
        return False, f"{len(bad)} of {len(items)} items do not hold: {bad}"
    return True, f"{len(items)} identities proven (m = {data['m']}), {data['seconds']:.1f} s"


def main(argv: list[str] | None = None) -> int:
    return C.run(NAME, compute, plot, CHECK, argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())

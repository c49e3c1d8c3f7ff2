"""``bntheory verify``: run the claims ledger, print the verdict table, write the reports."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from bntheory.cli.common import EXIT_FAILED, EXIT_OK, UsageError
from bntheory.cli.common import writable_file as _writable_file

__all__ = ["cmd_verify"]


def _progress(total: int):
    """A tqdm bar on stderr when it is a terminal (and tqdm is installed), else None."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    # no monitor thread: the claims' worker processes are forked after the bar exists
    tqdm.monitor_interval = 0
    return tqdm(total=total, unit="claim", file=sys.stderr, leave=False, dynamic_ncols=True)


def _details(results) -> str:
    """Every field of each result, untruncated (``verify --details``)."""
    out = []
    for r in results:
        d = r.to_dict()
        out.append(f"== {d['id']} ({d['section']}): {d['verdict']}")
        out.append(f"quote: {d['quote']}")
        out.append(f"source: {d['source']}; evidence: {d['evidence']}")
        for label in ("literal", "corrected"):
            rd = d.get(label)
            if rd:
                res = (d.get("decision") or {}).get(label)
                out.append(
                    f"{label} reading: {rd['text']} [{'; '.join(rd['predicates'])}] "
                    f"(why: {rd['why']}{'; source: ' + rd['source'] if rd['source'] else ''}) "
                    f"-> {res}"
                )
        if d.get("untestable"):
            out.append(f"not testable here: {d['untestable']}")
        if d.get("stability_note"):
            out.append(f"seed stability: {d['stability_note']}")
        out.append(f"measured: {d['measured'] or d.get('error', '')}")
        for k, v in d.get("numbers", {}).items():
            iv = d.get("intervals", {}).get(k)
            out.append(f"  {k} = {v}" + (f"  (95 % interval {iv[0]}, {iv[1]})" if iv else ""))
        if d.get("note"):
            out.append(f"note: {d['note']}")
        if d.get("error"):
            out.append(f"error: {d['error']}")
        out.append(f"re-run alone: bntheory verify --only {d['id']} --details")
        out.append("")
    return "\n".join(out)


def cmd_verify(args: argparse.Namespace) -> int:
    """``bntheory verify``: run the selected claims, print the table, write the reports.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``verify`` options.

    Returns
    -------
    int
        0 when every check ran, 1 when one raised.
    """
    from bntheory._io import atomic_write_text
    from bntheory.claims import (
        all_claims,
        format_table,
        report_dict,
        run_claims,
        select,
        to_markdown,
    )
    from bntheory.claims.report import summary_line, write_json

    if args.jobs is None:
        args.jobs = max(1, min(4, os.cpu_count() or 1))
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    json_path = _writable_file(args.json, "--json") if args.json else None
    md_path = _writable_file(args.markdown, "--markdown") if args.markdown else None
    html_path = _writable_file(args.html, "--html") if args.html else None
    try:
        claims = select(all_claims(), args.only)
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    bar = _progress(len(claims))

    def tick(r):
        if bar is not None:
            bar.set_postfix_str(f"{r.claim.id}: {r.verdict.value}", refresh=False)
            bar.update(1)

    t0 = time.perf_counter()
    try:
        results = run_claims(
            claims, quick=args.quick, seed=args.seed, jobs=args.jobs, progress=tick
        )
    finally:
        if bar is not None:
            bar.close()
    total = time.perf_counter() - t0
    if args.details:
        print(_details(results))
    else:
        width = None if args.wide else shutil.get_terminal_size((160, 24)).columns
        print(format_table(results, width=width or 10_000))
    print()
    print(
        f"{summary_line(results)}  [{total:.1f} s, seed {args.seed}, {'quick' if args.quick else 'full'}]"
    )
    if args.quick:
        marked = [r.claim.id for r in results if r.claim.quick_note]
        if marked:
            print(f"quick mode: {', '.join(marked)} may differ from the full run (see --details)")
    if json_path is not None:
        write_json(
            json_path, report_dict(results, seed=args.seed, quick=args.quick, total_seconds=total)
        )
    if md_path is not None:
        atomic_write_text(md_path, to_markdown(results, seed=args.seed, quick=args.quick))
    if html_path is not None:
        from bntheory.claims.html import to_html

        figs = Path(__file__).resolve().parents[2] / "figures"
        atomic_write_text(
            html_path, to_html(results, seed=args.seed, quick=args.quick, figures=figs)
        )
    errored = [r for r in results if r.status == "error"]
    for r in errored:
        print(f"bntheory: check {r.claim.id} errored: {r.error}", file=sys.stderr)
    return EXIT_FAILED if errored else EXIT_OK

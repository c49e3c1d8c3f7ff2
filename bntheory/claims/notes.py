"""Refresh the generated tables of ``paper_notes.md`` from a ledger run.

``python -m bntheory.claims.notes [--json LEDGER.json] [--notes paper_notes.md]`` reads a
JSON report written by ``bntheory verify --json`` (or, without ``--json``, runs the quick
ledger with seed 0) and rewrites, for every section, the block between
``<!-- ledger:SECTION:begin -->`` and ``<!-- ledger:SECTION:end -->``, plus the summary block
``<!-- ledger:summary:begin/end -->``. Everything outside the markers (the explanations) is
left untouched.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from bntheory.claims.core import SECTIONS

__all__ = ["PLACES", "render_section", "render_summary", "update_notes"]

#: Where each claim lives: (implemented in, tested in, figure). "-" when none.
PLACES: dict[str, tuple[str, str, str]] = {
    "head-01": ("claims.headline", "-", "-"),
    "head-02": ("claims.headline", "-", "-"),
    "head-03": ("claims.headline", "-", "-"),
    "head-04": ("claims.headline", "-", "-"),
    "head-05": ("claims.headline (substitute: gf-06)", "-", "gradient_depth"),
    "ics-01": ("nets.measurements.ioffe_figure1", "tests/nets/test_measurements.py", "ioffe_fig1"),
    "ics-02": ("nets.measurements.ioffe_figure1", "tests/nets/test_measurements.py", "ioffe_fig1"),
    "ics-03": (
        "nets.measurements.internal_covariate_shift",
        "tests/nets/test_measurements.py",
        "-",
    ),
    "ics-04": ("claims.ics (attribution)", "-", "-"),
    "ics-05": ("-", "-", "-"),
    "ics-06": ("-", "-", "-"),
    "ics-07": ("-", "-", "-"),
    "ics-08": ("nets.measurements.bjorck_lr_sweep", "tests/nets/test_measurements.py", "-"),
    "fwd-01": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-02": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-03": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-04": ("bn.batch_norm_forward (N, C, H, W)", "tests/test_bn.py", "-"),
    "fwd-05": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "fwd-06": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "bwd-01": ("bn.batch_norm_backward, gradcheck.check_gradient", "tests/test_bn.py", "-"),
    "bwd-02": (
        "symbolic.verify_backward",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "bwd-03": (
        "symbolic (dmean_second_term_zero)",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "bwd-04": ("bn.batch_norm_backward", "tests/test_bn.py", "-"),
    "bwd-05": ("claims.backward (SymPy cse count)", "-", "-"),
    "inf-01": ("bn.BatchNorm; symbolic (running_var_unbiased)", "tests/test_bn.py", "-"),
    "inf-02": ("bn.BatchNorm", "tests/test_bn.py", "-"),
    "inf-03": ("bn.BatchNorm (momentum)", "tests/test_bn.py", "-"),
    "inf-04": ("bn.BatchNorm.population_statistics", "tests/test_bn.py", "-"),
    "inf-05": ("bn.BatchNorm.fold", "tests/test_bn.py", "-"),
    "inf-06": ("bn.BatchNorm", "tests/test_bn.py", "-"),
    "land-01": (
        "nets.measurements.santurkar_theorem41; symbolic (thm41_*)",
        "tests/nets/test_measurements.py, tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "land-02": ("bn.batch_norm_backward", "tests/test_bn.py", "-"),
    "land-03": ("nets.measurements.santurkar_theorem42", "tests/nets/test_measurements.py", "-"),
    "land-04": ("claims.landscape (finite-difference Hessian)", "-", "-"),
    "land-05": (
        "nets.measurements.santurkar_landscape",
        "tests/nets/test_measurements.py",
        "landscape",
    ),
    "land-06": ("nets.measurements.bjorck_lr_sweep", "tests/nets/test_measurements.py", "-"),
    "land-07": (
        "symbolic (thm41_eps_gap, thm41_eps_sigma_xhat, thm41_eps_literal_fails)",
        "tests/symbolic/test_symbolic_proofs.py",
        "symbolic_report",
    ),
    "cs-01": ("nets.measurements.histogram_kl", "tests/nets/test_measurements.py", "ioffe_fig1"),
    "cs-02": ("claims.shift (attribution)", "-", "ioffe_fig1"),
    "cs-03": ("nets.train (probes)", "tests/nets/test_train.py", "ioffe_fig1"),
    "cs-04": ("claims.shift (attribution)", "-", "-"),
    "cs-05": ("-", "-", "-"),
    "cs-06": (
        "nets.measurements.internal_covariate_shift",
        "tests/nets/test_measurements.py",
        "-",
    ),
    "gf-01": ("bounds.yang_relu_rate, nets.MLP", "tests/test_bounds.py, tests/nets/test_yang.py", "yang_rate"),
    "gf-02": ("nets.MLP.trace", "tests/nets/test_mlp.py", "gradient_depth"),
    "gf-03": ("bn.batch_norm_backward", "tests/test_bn.py", "-"),
    "gf-04": ("bn.batch_norm_backward; symbolic (jacobian)", "tests/test_bn.py", "-"),
    "gf-05": ("nets.MLP.trace", "tests/nets/test_mlp.py", "gradient_depth"),
    "gf-06": ("nets.MLP.trace", "tests/nets/test_mlp.py", "gradient_depth"),
    "gf-07": ("nets.MLP (residual)", "tests/nets/test_mlp.py", "gradient_depth"),
    "dec-01": ("bn.batch_norm_forward; problems.Normalized", "tests/problems/test_normalized.py", "-"),
    "dec-02": ("bn.batch_norm_forward", "tests/test_bn.py", "-"),
    "dec-03": ("bn.batch_norm_forward; symbolic (scale_invariance)", "tests/test_bn.py", "-"),
    "dec-04": ("bn.batch_norm_backward (Arora Lemma 2.4)", "tests/nets/test_measurements.py", "-"),
    "dec-05": ("nets.measurements.fisher_spectrum", "tests/nets/test_measurements.py", "fisher_width"),
    "ls-01": ("solvers.GradientDescent, bounds.gd_optimal_iterate_rate", "tests/solvers/test_gd.py", "ols_gd_vs_bngd"),
    "ls-02": ("problems.LeastSquares.heterogeneous_features, bounds.kappa_star", "tests/test_bounds.py", "heterogeneous_features"),
    "ls-03": ("solvers.BNGD, bounds.bngd_spectrum, measures.fit_linear_rate", "tests/solvers/test_bngd.py", "kappa_star"),
    "ls-04": ("bounds.kappa_star", "tests/test_bounds.py", "kappa_star, spectra"),
    "ls-05": ("solvers.BNGD", "tests/solvers/test_bngd.py", "lr_insensitivity, scaling_law"),
    "ls-06": ("-", "-", "-"),
    "ls-07": ("solvers.BNGD, solvers.GradientDescent", "tests/solvers/test_bngd.py", "heterogeneous_features"),
    "hs-01": ("problems.GaussianHalfspace, problems.Normalized", "tests/problems/test_halfspace.py", "-"),
    "hs-02": ("claims.halfspace (attribution)", "-", "-"),
    "hs-03": ("problems.Normalized.hessian", "tests/problems/test_normalized.py", "-"),
    "hs-04": ("solvers.GDNP, solvers.kohler_bound_ratio", "tests/solvers/test_gdnp.py", "gdnp_halfspace"),
    "hs-05": ("solvers.GDNP, bounds.kohler_ols_bound", "tests/solvers/test_gdnp.py", "gdnp_halfspace"),
    "hs-06": ("solvers.GDNP, bounds.kohler_asymptotic_gap_rate", "tests/solvers/test_gdnp.py", "gdnp_halfspace"),
}  # fmt: skip


def _cell(s: str, n: int | None = None) -> str:
    s = " ".join(str(s).split()).replace("|", "\\|")
    if n is not None and len(s) > n:
        s = s[: n - 1] + "…"
    return s


def render_section(claims: list[dict]) -> str:
    """Markdown table of one section's claims (from the ledger JSON)."""
    lines = [
        "| id | source | method | implemented | tested | figure | verdict | measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        impl, test, fig = PLACES.get(c["id"], ("-", "-", "-"))
        verdict = c["verdict"] if c["status"] == "ok" else "error"
        measured = c["measured"] if c["status"] == "ok" else c["error"]
        lines.append(
            f"| {c['id']} | {_cell(c['source'])} | {c['method']} | `{_cell(impl)}` | "
            f"{_cell(test)} | {_cell(fig)} | **{verdict}** | {_cell(measured, 400)} |"
        )
    return "\n".join(lines)


def render_summary(report: dict) -> str:
    """One line: tally, seed and mode of the run the tables come from."""
    s = report["summary"]
    parts = ", ".join(f"{n} {k}" for k, n in s.items() if n)
    mode = "quick" if report.get("quick") else "full"
    return (
        f"Generated from `bntheory verify{' --quick' if report.get('quick') else ''} "
        f"--seed {report.get('seed', 0)}` ({mode}): {len(report['claims'])} claims: {parts}."
    )


def _replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- ledger:{name}:begin -->", f"<!-- ledger:{name}:end -->"
    pat = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pat.search(text):
        raise ValueError(f"notes: marker {begin} ... {end} not found")
    return pat.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def update_notes(notes: str | Path, report: dict) -> str:
    """Rewrite the generated blocks of ``notes`` from ``report`` (a ledger JSON dict);
    returns the new text (also written to the file)."""
    path = Path(notes)
    text = path.read_text(encoding="utf-8")
    text = _replace_block(text, "summary", render_summary(report))
    for sec in SECTIONS:
        rows = [c for c in report["claims"] if c["section"] == sec]
        if f"<!-- ledger:{sec}:begin -->" in text:
            text = _replace_block(text, sec, render_section(rows))
    path.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bntheory.claims.notes", description=__doc__)
    p.add_argument(
        "--json", help="ledger JSON from `bntheory verify --json` (default: run --quick)"
    )
    p.add_argument("--notes", default="paper_notes.md", help="notes file (default paper_notes.md)")
    args = p.parse_args(argv)
    if args.json:
        report = json.loads(Path(args.json).read_text(encoding="utf-8"))
    else:
        from bntheory.claims import all_claims, report_dict, run_claims

        report = report_dict(run_claims(all_claims(), quick=True, seed=0), seed=0, quick=True)
    update_notes(args.notes, report)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

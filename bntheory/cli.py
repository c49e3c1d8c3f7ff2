"""Command-line interface: ``bntheory verify | run | list | reproduce``."""

from __future__ import annotations

import argparse
import sys

from bntheory import __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bntheory", description=__doc__)
    p.add_argument("--version", action="version", version=f"bntheory {__version__}")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("symbolic", help="prove the backward-pass identities with SymPy")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

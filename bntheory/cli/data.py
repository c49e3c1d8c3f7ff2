"""``bntheory data install | status``: the real data sets (MNIST, Fashion-MNIST)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

EXIT_OK, EXIT_FAILED = 0, 1

__all__ = ["cmd_data_install", "cmd_data_status"]


def _run_command(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run an install command (output goes to the terminal); its exit code."""
    print("+ " + " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd, check=False, env=env).returncode
    except OSError as exc:
        print(f"bntheory: cannot run {cmd[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127


def _apt_prefix() -> tuple[list[str] | None, str]:
    """How to call apt-get here: ([] | ['sudo', '-n'] | None, reason when None)."""
    if shutil.which("apt-get") is None:
        return None, (
            "apt-get not found (not a Debian/Ubuntu system): put the four Fashion-MNIST IDX "
            "files in a folder and set BNTHEORY_DATA to it"
        )
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return [], ""
    if shutil.which("sudo") is not None:
        return ["sudo", "-n"], ""
    return None, "apt-get needs root: run `sudo apt-get install dataset-fashion-mnist`"


def _install_data(name: str, dry_run: bool) -> str | None:
    """Install and verify one data set; None on success, else the reason it failed."""
    from bntheory.nets import data

    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    if not dry_run:
        try:
            d = loader(dtype="float32")  # verifies, and fills the cache
        except data.DataUnavailable:
            pass
        else:
            print(f"{name}: already available: {d.source}")
            return None
    t0 = time.perf_counter()
    cmds = data.install_commands(name)
    env = None
    if name == "fashion-mnist":
        prefix, reason = _apt_prefix()
        if prefix is None:
            return reason
        cmds = [prefix + c for c in cmds]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if dry_run:
        for c in cmds:
            print("+ " + " ".join(c))
        return None
    for c in cmds:
        code = _run_command(c, env)
        if code != 0 and name == "fashion-mnist":  # a fresh machine has no package lists yet
            code = _run_command(prefix + ["apt-get", "update"], env) or _run_command(c, env)
        if code != 0:
            return f"`{' '.join(c)}` failed with exit code {code}; {data.install_hint(name)}"
    try:
        d = loader(dtype="float32")
    except data.DataUnavailable as exc:
        return f"installed, but {exc}"
    print(f"{name}: installed and verified in {time.perf_counter() - t0:.1f} s: {d.source}")
    return None


def _data_names(which: str) -> tuple[str, ...]:
    from bntheory.nets.data import DATASETS

    return DATASETS if which == "all" else (which,)


def cmd_data_install(args: argparse.Namespace) -> int:
    """``bntheory data install [NAME] [--dry-run]``.

    Parameters
    ----------
    args : argparse.Namespace
        ``name`` and ``dry_run``.

    Returns
    -------
    int
        0 when every requested data set is available and verified, 1 otherwise.
    """
    failed = []
    for name in _data_names(args.name):
        reason = _install_data(name, args.dry_run)
        if reason is not None:
            failed.append(name)
            print(f"bntheory: data install {name} failed: {reason}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_data_status(args: argparse.Namespace) -> int:
    """``bntheory data status [NAME]``.

    Parameters
    ----------
    args : argparse.Namespace
        ``name``.

    Returns
    -------
    int
        0 when every requested data set is available, 1 otherwise.
    """
    from bntheory.nets.data import data_status

    ok = True
    for name in _data_names(args.name):
        st = data_status(name)
        ok &= st.available
        print(f"{name}: {'available' if st.available else 'MISSING'}: {st.source}")
        print(f"  package: {st.package}")
        print(f"  cache:   {st.cache}")
    return EXIT_OK if ok else EXIT_FAILED

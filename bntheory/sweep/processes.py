"""Child processes and signals: no orphan, no traceback wall, one line per interruption.

The policy every entry point follows (the ``bntheory`` CLI, the experiment scripts'
``_common.run``, ``experiments/run_all.py``, sweeps and the claims runner):

* **Worker processes** (:func:`worker_init`, the initializer of every process pool made by
  :func:`bntheory.sweep.executor_from_spec`) pin BLAS to one thread, ignore SIGINT (the
  parent handles Ctrl-C and ends them), restore the default SIGTERM action, and ask the
  kernel to kill them when their parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``; elsewhere
  a daemon thread polls ``os.getppid()``). A ``kill -9`` of the parent thus ends its
  workers, and with them multiprocessing's resource tracker (it exits when the last holder
  of its pipe is gone).
* **Pools are terminated, not drained, on an interruption** (:func:`terminate_pool`).
* **Experiment subprocesses** are started in their own session with
  :func:`child_env` (so a Ctrl-C reaches only the launcher, which ends them) and bind
  themselves to their launcher with :func:`bind_to_launcher`.
* **Entry points** wrap their work in :func:`guarded`: SIGTERM raises :class:`Terminated`
  in the main thread (so ``finally`` blocks end children), and an interruption prints one
  line and returns 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures as cf
from typing import Any

from bntheory._checks import as_int

__all__ = [
    "Terminated",
    "bind_to_launcher",
    "child_env",
    "die_with_parent",
    "guarded",
    "raise_terminated",
    "terminate_pool",
    "worker_init",
]

#: environment variable naming the pid of the launcher of an experiment subprocess
PARENT_ENV = "BNTHEORY_PARENT_PID"
#: set by a launcher that reports interruptions itself: the child exits silently
QUIET_ENV = "BNTHEORY_QUIET_SIGNALS"
_PR_SET_PDEATHSIG = 1
#: largest pid and thread count accepted (a C ``int``: ``prctl`` and BLAS take one)
_C_INT_MAX = 2**31 - 1


def _check_pid(pid: object, name: str) -> int:
    """``pid`` as a positive int (a bad value would make :func:`die_with_parent` think the
    parent is gone and kill this process)."""
    return as_int(pid, name, minimum=1, maximum=_C_INT_MAX)


class Terminated(BaseException):  # noqa: N818 - named after the signal, like KeyboardInterrupt
    """Raised in the main thread when SIGTERM arrives (see :func:`guarded`)."""


def raise_terminated(signum: int, frame: Any) -> None:
    """SIGTERM handler: raise :class:`Terminated` (``signal.signal(SIGTERM, raise_terminated)``).

    Parameters
    ----------
    signum : int
        The signal number.
    frame : frame or None
        The interrupted frame.

    Returns
    -------
    None
        Never returns normally.
    """
    raise Terminated()


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Make this process receive ``sig`` when ``parent_pid`` (its parent) dies.

    Linux: ``prctl(PR_SET_PDEATHSIG, sig)`` (signal sent when the parent thread that
    created this process exits); other systems: a daemon thread polling ``os.getppid()``
    every 0.5 s. If the parent is already gone, the signal is sent at once.

    Parameters
    ----------
    parent_pid : int
        The pid of the expected parent.
    sig : int
        The signal to receive.

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        ``parent_pid`` is not a positive int or ``sig`` not a signal of this system
        (checked before anything is changed).
    """
    parent_pid = _check_pid(parent_pid, "parent_pid")
    if isinstance(sig, bool) or not isinstance(sig, numbers.Integral):
        raise TypeError(f"sig must be a signal number, got {type(sig).__name__}")
    if sig not in signal.valid_signals():
        raise ValueError(f"sig must be a signal of this system, got {sig}")
    sig = int(sig)
    done = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            done = libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    if not done:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os.kill(os.getpid(), sig)

        threading.Thread(target=watch, name="bntheory-parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the call
        os.kill(os.getpid(), sig)


def worker_init(parent_pid: int, blas_threads: int = 1) -> None:
    """Initializer of every worker process of the project's process pools.

    Pins BLAS to ``blas_threads`` threads, ignores SIGINT, restores SIGTERM's default
    action (a forked worker would otherwise inherit the parent's Python handler) and ends
    the worker with its parent (:func:`die_with_parent`).

    Parameters
    ----------
    parent_pid : int
        The pid of the process that owns the pool.
    blas_threads : int
        BLAS/OpenMP threads per worker.

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        ``parent_pid`` is not a positive int or ``blas_threads`` not an int in
        ``[1, 2**31 - 1]`` (checked before anything is changed).
    """
    from bntheory.sweep.executors import pin_blas_threads

    parent_pid = _check_pid(parent_pid, "parent_pid")
    blas_threads = as_int(blas_threads, "blas_threads", minimum=1, maximum=_C_INT_MAX)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent_pid)
    pin_blas_threads(int(blas_threads))


def terminate_pool(pool: cf.ProcessPoolExecutor, timeout: float = 5.0) -> None:
    """End a process pool now: cancel pending work, SIGTERM the workers, then SIGKILL.

    Parameters
    ----------
    pool : concurrent.futures.ProcessPoolExecutor
        The pool.
    timeout : float
        Seconds to wait for the workers after SIGTERM before killing them.

    Returns
    -------
    None
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + timeout
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)


def child_env(env: dict[str, str] | None = None, *, quiet: bool = True) -> dict[str, str]:
    """Environment for an experiment subprocess launched by this process.

    Adds :data:`PARENT_ENV` (this pid, read by :func:`bind_to_launcher`) and, with
    ``quiet``, :data:`QUIET_ENV` (the child exits silently on an interruption, since the
    launcher reports it); BLAS is pinned to one thread unless the variables are set.

    Parameters
    ----------
    env : dict, optional
        Base environment (default ``os.environ``).
    quiet : bool
        Whether the child leaves the interruption message to the launcher.

    Returns
    -------
    dict
        The environment.
    """
    out = dict(os.environ if env is None else env)
    out[PARENT_ENV] = str(os.getpid())
    if quiet:
        out[QUIET_ENV] = "1"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        out.setdefault(var, "1")
    return out


def bind_to_launcher() -> bool:
    """End this process (SIGTERM) when the launcher named by :data:`PARENT_ENV` dies.

    Only when that launcher is this process's parent, so a script started from a shell
    (or under ``nohup``) is never bound to the shell.

    Returns
    -------
    bool
        Whether the process was bound.
    """
    try:
        launcher = int(os.environ.get(PARENT_ENV, ""))
    except ValueError:
        return False
    if launcher != os.getppid():
        return False
    die_with_parent(launcher, signal.SIGTERM)
    return True


def guarded(prog: str, fn: Callable[[], int]) -> int:
    """Run an entry point's work: SIGTERM and Ctrl-C give one line and exit code 143/130.

    Installs a SIGTERM handler raising :class:`Terminated` in the main thread for the
    duration of ``fn`` (``finally`` blocks then end the children), and turns
    ``KeyboardInterrupt``/``Terminated`` into one line ``PROG: interrupted|terminated`` on
    stderr (nothing when :data:`QUIET_ENV` is set: the launcher reports it).

    Parameters
    ----------
    prog : str
        Name printed in the line.
    fn : callable
        The work; returns the exit code.

    Returns
    -------
    int
        ``fn()``, 130 after SIGINT, 143 after SIGTERM.
    """
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGTERM, raise_terminated)
    quiet = bool(os.environ.get(QUIET_ENV))
    try:
        return fn()
    except KeyboardInterrupt:
        if not quiet:
            print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        if not quiet:
            print(f"{prog}: terminated", file=sys.stderr)
        return 143
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)

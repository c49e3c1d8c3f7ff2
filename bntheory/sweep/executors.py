"""The one executor factory: serial, local processes or Dask, from a short spec string.

Used by sweeps, the claims runner (``bntheory verify --jobs N``), the experiments'
``--executor`` and ``bntheory reproduce``. Process policy (one for everything): a
``ProcessPoolExecutor`` whose workers start with :func:`bntheory.sweep.processes.worker_init`
(BLAS pinned to one thread, SIGINT ignored, killed with their parent); the start method is
``spawn`` by default (a fresh interpreter: thread limits take effect before any BLAS work, no
thread or lock state of the parent is copied) and ``fork`` on request (``start="fork"``,
used by the claims runner, whose workers would otherwise each spend about a second
re-importing the ledger; fork is safe there because the workers pin BLAS in their
initializer and the parent has started no thread of its own). On an exception (Ctrl-C,
SIGTERM) the pool is terminated instead of drained.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import threading
from collections.abc import Callable, Iterator
from concurrent import futures as cf
from typing import Any

__all__ = [
    "DASK_CONNECT_TIMEOUT",
    "SerialExecutor",
    "executor_from_spec",
    "parse_executor_spec",
    "pin_blas_threads",
]

BLAS_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: seconds to wait for a Dask scheduler at ``dask://HOST:PORT`` before giving up
DASK_CONNECT_TIMEOUT = 5.0
_USE = "use serial, processes:N or dask://HOST:PORT"
_DASK_EXTRA_MSG = (
    "dask.distributed is needed for the dask executors; install the 'cluster' extra: "
    "pip install 'bntheory[cluster]'"
)


def pin_blas_threads(n: int = 1) -> None:
    """Limit BLAS/OpenMP thread pools of this process to ``n`` threads.

    Sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and the
    BLIS/vecLib/numexpr equivalents) to ``n``, which governs libraries loaded from now
    on, and, if ``threadpoolctl`` is installed, limits the already loaded ones at run
    time (needed because NumPy's BLAS reads the variables only when it is first loaded).

    Parameters
    ----------
    n : int
        Threads.

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        ``n`` is not an int, or is < 1 (nothing is changed then).
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int (threads), got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1 (threads), got {n}")
    for var in BLAS_ENV_VARS:
        os.environ[var] = str(int(n))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return
    threadpool_limits(limits=int(n))


class SerialExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` that runs each call at ``submit`` time.

    Parameters
    ----------
    blas_threads : int or None, default 1
        Run each call under a ``threadpoolctl`` limit of this many BLAS threads (as the
        worker processes do, so serial and parallel results are bit-identical). None
        leaves the thread pools alone.

    Notes
    -----
    Exceptions derived from :class:`Exception` are stored in the returned future;
    others (``KeyboardInterrupt``, ``SystemExit``) propagate from ``submit``.
    """

    def __init__(self, blas_threads: int | None = 1) -> None:
        if blas_threads is not None and (not isinstance(blas_threads, int) or blas_threads < 1):
            raise ValueError(f"blas_threads must be a positive int or None, got {blas_threads!r}")
        self._blas_threads = blas_threads
        self._shutdown = False
        self._lock = threading.Lock()

    def _limits(self) -> contextlib.AbstractContextManager[Any]:
        if self._blas_threads is None:
            return contextlib.nullcontext()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover
            return contextlib.nullcontext()
        return threadpool_limits(limits=self._blas_threads)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now.

        Parameters
        ----------
        fn : callable
            The function.
        *args, **kwargs
            Its arguments.

        Returns
        -------
        concurrent.futures.Future
            A finished future holding the result or the exception.
        """
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        future: cf.Future = cf.Future()
        if not future.set_running_or_notify_cancel():  # pragma: no cover - never cancelled
            return future
        try:
            with self._limits():
                result = fn(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further submissions.

        Parameters
        ----------
        wait, cancel_futures : bool
            Accepted for interface compatibility (nothing is ever pending).

        Returns
        -------
        None
        """
        with self._lock:
            self._shutdown = True


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_DASK_EXTRA_MSG) from exc
    return distributed


def _parse_count(text: str, spec: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"executor {spec!r}: worker count {text!r} is not an integer") from None
    if n < 1:
        raise ValueError(f"executor {spec!r}: worker count must be >= 1, got {n}")
    return n


def parse_executor_spec(spec: str | None, jobs: int | None = None) -> tuple[str, Any]:
    """Validate an executor spec without creating anything.

    Parameters
    ----------
    spec : str or None
        See :func:`executor_from_spec`.
    jobs : int, optional
        Default worker count.

    Returns
    -------
    tuple
        ``("serial", None)``, ``("processes", n)``, ``("dask", "tcp://HOST:PORT")`` or
        ``("dask-local", n)``.

    Raises
    ------
    ValueError
        Unknown spec (``unknown executor 'X' (use serial, processes:N or dask://HOST:PORT)``)
        or bad worker count.
    TypeError
        ``spec`` not a string.
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive int or None, got {jobs!r}")
    if spec is None:
        return "serial", None
    if not isinstance(spec, str):
        raise TypeError(f"executor spec must be a string, got {type(spec).__name__}")
    s = spec.strip()
    if s == "serial":
        return "serial", None
    if s == "processes" or s.startswith("processes:"):
        n = _parse_count(s.split(":", 1)[1], spec) if ":" in s else (jobs or os.cpu_count() or 1)
        return "processes", n
    if s.startswith(("dask://", "tcp://")) and s.split("://", 1)[1]:
        return "dask", "tcp://" + s.split("://", 1)[1]
    if s == "dask-local" or s.startswith("dask-local:"):
        return "dask-local", _parse_count(s.split(":", 1)[1], spec) if ":" in s else (jobs or 2)
    raise ValueError(f"unknown executor {spec!r} ({_USE})")


@contextlib.contextmanager
def process_pool(n: int, *, start: str = "spawn") -> Iterator[cf.ProcessPoolExecutor]:
    """A process pool following the project's process policy (see the module docstring).

    Parameters
    ----------
    n : int
        Worker count.
    start : {"spawn", "fork"}
        Start method.

    Yields
    ------
    concurrent.futures.ProcessPoolExecutor
        Drained on a normal exit, terminated (:func:`terminate_pool`) on an exception.

    Returns
    -------
    contextlib.AbstractContextManager
        The context manager.
    """
    import multiprocessing

    from bntheory.sweep.processes import terminate_pool, worker_init

    if start not in ("spawn", "fork"):
        raise ValueError(f"start must be 'spawn' or 'fork', got {start!r}")
    pool = cf.ProcessPoolExecutor(
        max_workers=n,
        mp_context=multiprocessing.get_context(start),
        initializer=worker_init,
        initargs=(os.getpid(), 1),
    )
    try:
        yield pool
    except BaseException:
        terminate_pool(pool)
        raise
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def executor_from_spec(
    spec: str | None = "serial", *, jobs: int | None = None, start: str = "spawn"
) -> Iterator[cf.Executor]:
    """Create an executor from a short spec string, as a context manager.

    Parameters
    ----------
    spec : str
        * ``"serial"`` (or None): :class:`SerialExecutor`;
        * ``"processes"`` or ``"processes:N"``: :func:`process_pool` with N workers
          (default ``jobs``, else ``os.cpu_count()``): BLAS pinned to one thread per
          worker, workers ended with their parent;
        * ``"dask://HOST:PORT"`` (or ``"tcp://HOST:PORT"``): connect a
          ``dask.distributed.Client`` to a running scheduler (at most
          :data:`DASK_CONNECT_TIMEOUT` seconds) and use ``client.get_executor()``; BLAS
          is pinned on every worker. ``bntheory`` (and the module defining ``fn``) must be
          importable on the workers;
        * ``"dask-local"`` or ``"dask-local:N"``: a ``LocalCluster`` of N worker
          processes (default ``jobs``, else 2) with one thread each, on 127.0.0.1,
          dashboard disabled.
    jobs : int, optional
        Default worker count when the spec gives none (the CLI's ``--jobs``).
    start : {"spawn", "fork"}
        Start method of a process pool.

    Yields
    ------
    concurrent.futures.Executor
        Shut down (and the Dask client/cluster closed) on exit.

    Returns
    -------
    contextlib.AbstractContextManager
        The context manager.

    Raises
    ------
    ValueError
        Unknown spec or bad worker count.
    ImportError
        A dask spec without the ``cluster`` extra installed.
    ConnectionError
        No Dask scheduler answered at ``dask://HOST:PORT`` within the timeout.
    """
    kind, arg = parse_executor_spec(spec, jobs)
    if kind == "serial":
        ex = SerialExecutor()
        try:
            yield ex
        finally:
            ex.shutdown()
        return
    if kind == "processes":
        with process_pool(arg, start=start) as pool:
            yield pool
        return
    distributed = _import_distributed()
    if kind == "dask":
        try:
            client = distributed.Client(
                arg, set_as_default=False, timeout=f"{DASK_CONNECT_TIMEOUT}s"
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"executor {spec!r}: no Dask scheduler answered at {arg} within "
                f"{DASK_CONNECT_TIMEOUT:g} s ({type(exc).__name__})"
            ) from None
        try:
            client.run(pin_blas_threads, 1)
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=arg,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # the scheduler always serves /health and /metrics over HTTP, by default on
        # port 8787 (warning when taken): bind it to a free loopback port instead
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    try:
        client = distributed.Client(cluster, set_as_default=False)
        try:
            client.run(pin_blas_threads, 1)
            yield client.get_executor(pure=False)
        finally:
            client.close()
    finally:
        cluster.close()

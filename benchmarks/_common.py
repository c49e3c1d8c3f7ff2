"""Shared helpers of the benchmark scripts: timing and merging into results.json."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def best_time(fn, *, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls of ``fn`` over ``repeat`` rounds, per call (s)."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpus": os.cpu_count(),
    }


def record(key: str, payload: dict) -> None:
    """Merge ``payload`` under ``key`` into benchmarks/results.json (with machine info)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"), **payload}
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

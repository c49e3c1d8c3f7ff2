"""Time bntheory.symbolic.verify_backward for m = 2..8 and print a table.

Run: python benchmarks/bench_symbolic.py [m_max]
"""

from __future__ import annotations

import sys
import time

from bntheory.symbolic.backward import concrete_items
from bntheory.symbolic.general import general_items


def main(m_max: int = 8) -> None:
    rows = []
    for m in range(2, m_max + 1):
        t0 = time.perf_counter()
        items = concrete_items(m)
        wall = time.perf_counter() - t0
        slow = max(items, key=lambda it: it.seconds)
        rows.append((m, len(items), all(it.holds for it in items), wall, slow.name, slow.seconds))
    t0 = time.perf_counter()
    gen = general_items()
    gen_wall = time.perf_counter() - t0
    print("| m | items | all hold | seconds | slowest item (s) |")
    print("|---|---|---|---|---|")
    for m, n, ok, wall, name, sec in rows:
        print(f"| {m} | {n} | {ok} | {wall:.2f} | {name} ({sec:.2f}) |")
    print(f"| all m | {len(gen)} | {all(it.holds for it in gen)} | {gen_wall:.2f} | |")
    print(f"total m=2..{m_max}: {sum(r[3] for r in rows):.2f} s (+ general {gen_wall:.2f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)

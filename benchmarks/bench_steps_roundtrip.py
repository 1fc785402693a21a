"""Time the round trip of ``tests/test_steps_roundtrip.py``: every catalog derivation's fragment,
printed with its declarations (``gradproof show NAME --latex --directives``), through
``gradproof.check_steps``.

    PYTHONPATH=. python benchmarks/bench_steps_roundtrip.py [--repeat 3] [--only NAME …]

Each fragment is checked ``--repeat`` times in this process (after one warm-up call that pays for
imports and the parser) with SymPy's cache cleared before each call, so every call does the same
work; the median CPU time and wall time per fragment are printed, slowest first, with the total and
each fragment's share of it.  CPU time is the process's: on the shared 2-core machine it is close to
what a quiet machine's wall time would be.  The total is the peer the README compares a fragment
with (a share of the whole round trip), since absolute times move with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)

    from sympy.core.cache import clear_cache

    from gradproof.derivations.directives import with_directives
    from gradproof.derivations.registry import catalog
    from gradproof.steps.check import check_steps

    fragments = {d.name: with_directives(d, d.latex()) for d in catalog() if args.only is None or d.name in args.only}
    check_steps(next(iter(fragments.values())))  # warm-up: imports, the parser
    rows = []
    for name, text in fragments.items():
        cpu, wall = [], []
        for _ in range(args.repeat):
            clear_cache()
            c0, w0 = time.process_time(), time.perf_counter()
            report = check_steps(text)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        assert report.ok, f"{name}: {report}"
        rows.append((statistics.median(cpu), statistics.median(wall), name))
    total_cpu = sum(r[0] for r in rows)
    total_wall = sum(r[1] for r in rows)
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} calls each, SymPy cache cleared")
    print(f"{'fragment':40} {'CPU s':>7} {'wall s':>7} {'share':>6}")
    for c, w, name in sorted(rows, reverse=True):
        print(f"{name:40} {c:7.2f} {w:7.2f} {c / total_cpu:6.1%}")
    print(f"{'total (' + str(len(rows)) + ' fragments)':40} {total_cpu:7.2f} {total_wall:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

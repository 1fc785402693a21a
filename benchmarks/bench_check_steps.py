"""Time ``gradproof check-steps``: a 6-row chain in-process and through the CLI, and the corpus.

    PYTHONPATH=. python benchmarks/bench_check_steps.py [--repeat 5] [--no-corpus]

The 6-row chain is the cross-entropy gradient through the softmax as a lecture writes it (a
definition row and five relations).  In-process timings are the median of ``--repeat`` calls of
``gradproof.check_steps`` after one warm-up call (which pays for importing SymPy and building the
parser once); the CLI timing is the median wall time of ``python -m gradproof check-steps FILE``,
start-up included.  As a peer measured in the same run, ``Derivation.prove()`` of the catalog's
``cross-entropy-softmax-gradient`` (four steps, the same prover) gives the ratio the README
reports, since absolute times move with the load of the shared machine; ``python -c pass`` is the
CLI's start-up peer.  CPU time (this process and its children) is printed beside each wall time:
on a machine shared with other jobs it is close to what a quiet machine's wall time would be.
The corpus part times every file of ``tests/steps_corpus`` once.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHAIN = r"""% gradproof: index i, j, k = 1..n
% gradproof: define s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}
% gradproof: assume \sum_{i=1}^{n} y_i = 1
\begin{align*}
L &= -\sum_{i=1}^{n} y_i \log s_i \\
\frac{\partial L}{\partial z_j} &= -\sum_{i=1}^{n} y_i \frac{\partial \log s_i}{\partial z_j} \\
  &= -\sum_{i=1}^{n} y_i (\delta_{ij} - s_j) \\
  &= -y_j + s_j \sum_{i=1}^{n} y_i \\
  &= s_j \sum_{i=1}^{n} y_i - y_j \\
  &= s_j - y_j
\end{align*}
"""


def median_time(fn, repeat: int) -> tuple[float, list[float], float]:
    """Median wall time, the runs, and the median CPU time (this process and its children): on a
    shared machine the CPU time is what a quiet machine's wall time would be, near enough."""
    times, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), _cpu()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return statistics.median(times), times, statistics.median(cpus)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()

    import gradproof
    from gradproof.derivations.registry import derivation

    print(f"# check-steps timings ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start)\n")  # fmt: skip
    t, c = time.perf_counter(), _cpu()
    first = gradproof.check_steps(CHAIN)
    cold, cold_cpu = time.perf_counter() - t, _cpu() - c
    assert first.ok and len(first.steps) == 6, str(first)
    warm, runs, warm_cpu = median_time(lambda: gradproof.check_steps(CHAIN), args.repeat)
    from sympy.core.cache import clear_cache

    def fresh() -> None:  # SymPy's own cache of results emptied: nothing left from the runs before
        clear_cache()
        gradproof.check_steps(CHAIN)

    fresh_time, fresh_runs, fresh_cpu = median_time(fresh, args.repeat)
    peer = derivation("cross-entropy-softmax-gradient")
    peer.prove()
    peer_time, _, peer_cpu = median_time(peer.prove, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.tex"
        path.write_text(CHAIN, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

        def cli() -> None:
            proc = subprocess.run([sys.executable, "-m", "gradproof", "check-steps", str(path)],
                                  capture_output=True, text=True, env=env)  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr

        def bare() -> None:  # the interpreter alone, as the start-up peer
            subprocess.run([sys.executable, "-c", "pass"], check=True)

        cli_time, cli_runs, cli_cpu = median_time(cli, max(3, args.repeat // 2))
        bare_time, _, bare_cpu = median_time(bare, max(3, args.repeat // 2))

    print("| what | median wall | median CPU | wall of each run |")
    print("|---|---|---|---|")
    print(f"| 6-row chain, first call in a process (imports, parser) | {cold:.2f} s | {cold_cpu:.2f} s | |")
    print(f"| 6-row chain, in-process | {warm:.2f} s | {warm_cpu:.2f} s | {', '.join(f'{r:.2f}' for r in runs)} |")
    print(f"| 6-row chain, in-process, SymPy's cache emptied before each run | {fresh_time:.2f} s | {fresh_cpu:.2f} s | {', '.join(f'{r:.2f}' for r in fresh_runs)} |")
    print(f"| peer: catalog cross-entropy-softmax-gradient prove() (4 steps) | {peer_time:.2f} s | {peer_cpu:.2f} s | |")
    print(f"| ratio chain / peer | {warm / peer_time:.2f} | {warm_cpu / peer_cpu:.2f} | |")
    print(f"| CLI on the 6-row file, start-up included | {cli_time:.2f} s | {cli_cpu:.2f} s | {', '.join(f'{r:.2f}' for r in cli_runs)} |")
    print(f"| peer: `python -c pass` | {bare_time:.2f} s | {bare_cpu:.2f} s | |")

    if args.no_corpus:
        return
    corpus = Path(__file__).resolve().parents[1] / "tests" / "steps_corpus"
    files = sorted(corpus.glob("*.tex")) + sorted(corpus.glob("*.md"))
    print("\n| corpus file | rows checked | proved | checked at points | wall | CPU |")
    print("|---|---|---|---|---|---|")
    times, cpus = [], []
    for f in files:
        t, c = time.perf_counter(), _cpu()
        report = gradproof.check_steps(f)
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
        proved = sum(s.status == "proved" for s in report.steps)
        checked = sum(s.status == "checked" for s in report.steps)
        verdict = "" if report.ok else " (NOT ok)"
        print(f"| {f.name}{verdict} | {len(report.steps)} | {proved} | {checked} | {times[-1]:.1f} s | {cpus[-1]:.1f} s |")
    print(f"\ncorpus: {len(files)} files, {sum(times):.0f} s wall ({sum(cpus):.0f} s CPU) in all, median "
          f"{statistics.median(times):.1f} s wall ({statistics.median(cpus):.1f} s CPU) per file; "
          f"load average {os.getloadavg()[0]:.1f} at the end")

if __name__ == "__main__":
    main()

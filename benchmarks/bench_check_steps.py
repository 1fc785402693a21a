"""Time ``gradproof check-steps``: a 6-row chain in-process and through the CLI, and the corpus.

    PYTHONPATH=. python benchmarks/bench_check_steps.py [--repeat 5] [--no-corpus]

The 6-row chain is the cross-entropy gradient through the softmax as a lecture writes it (a
definition row and five relations).  In-process timings are the median of ``--repeat`` calls of
``gradproof.check_steps`` after one warm-up call (which pays for importing SymPy and building the
parser once); the CLI timing is the median wall time of ``python -m gradproof check-steps FILE``,
start-up included.  As a peer measured in the same run, ``Derivation.prove()`` of the catalog's
``cross-entropy-softmax-gradient`` (four steps, the same prover) gives the ratio the README
reports, since absolute times move with the load of the shared machine.  The corpus part times
every file of ``tests/steps_corpus`` once.
"""

from __future__ import annotations

import argparse
import os
import platform
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


def median_time(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()

    import gradproof
    from gradproof.derivations.registry import derivation

    print(f"# check-steps timings ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()})\n")  # fmt: skip
    t = time.perf_counter()
    first = gradproof.check_steps(CHAIN)
    cold = time.perf_counter() - t
    assert first.ok and len(first.steps) == 6, str(first)
    warm, runs = median_time(lambda: gradproof.check_steps(CHAIN), args.repeat)
    peer = derivation("cross-entropy-softmax-gradient")
    peer.prove()
    peer_time, _ = median_time(peer.prove, args.repeat)
    print("| what | median | runs |")
    print("|---|---|---|")
    print(f"| 6-row chain, first call in a process (imports, parser) | {cold:.2f} s | 1 |")
    print(f"| 6-row chain, in-process | {warm:.2f} s | {', '.join(f'{r:.2f}' for r in runs)} |")
    print(f"| peer: catalog cross-entropy-softmax-gradient prove() (4 steps) | {peer_time:.2f} s | |")
    print(f"| ratio chain / peer | {warm / peer_time:.2f} | |")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.tex"
        path.write_text(CHAIN, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

        def cli() -> None:
            proc = subprocess.run([sys.executable, "-m", "gradproof", "check-steps", str(path)],
                                  capture_output=True, text=True, env=env)  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr

        cli_time, cli_runs = median_time(cli, max(3, args.repeat // 2))
    print(f"| CLI on the 6-row file, start-up included | {cli_time:.2f} s | {', '.join(f'{r:.2f}' for r in cli_runs)} |")

    if args.no_corpus:
        return
    corpus = Path(__file__).resolve().parents[1] / "tests" / "steps_corpus"
    files = sorted(corpus.glob("*.tex")) + sorted(corpus.glob("*.md"))
    print("\n| corpus file | rows checked | proved | checked at points | time |")
    print("|---|---|---|---|---|")
    times = []
    for f in files:
        t = time.perf_counter()
        report = gradproof.check_steps(f)
        dt = time.perf_counter() - t
        times.append(dt)
        proved = sum(s.status == "proved" for s in report.steps)
        checked = sum(s.status == "checked" for s in report.steps)
        verdict = "" if report.ok else " (NOT ok)"
        print(f"| {f.name}{verdict} | {len(report.steps)} | {proved} | {checked} | {dt:.1f} s |")
    print(f"\ncorpus: {len(files)} files, {sum(times):.0f} s in all, median {statistics.median(times):.1f} s per file")


if __name__ == "__main__":
    main()

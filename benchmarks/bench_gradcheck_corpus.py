"""Benchmark: gradproof.gradcheck against torch's gradcheck on every layer of the corpus.

Each layer of ``tests/corpus`` (hand-written NumPy forward and backward, float64) is wrapped as a
custom ``torch.autograd.Function`` whose forward is the NumPy loss and whose backward is the
hand-written gradient times grad_output — what a user checking a NumPy or C++ kernel through
``gradcheck`` writes.  At both corpus sizes, in one run:

* time to pass the correct backward: CPU time (``time.process_time``), median of ``--repeats``
  runs, gradproof / torch default / torch ``fast_mode`` interleaved; torch on one thread;
* every named bug of the layer over ``--seeds`` random instances: detected by each checker
  (and, for the correct backward, passed).

* calls of the function per passing check of the correct backward, for each checker.

    PYTHONPATH=$PWD python benchmarks/bench_gradcheck_corpus.py [--repeats 7] [--seeds 5] [--markdown out.md]

The markdown file is rewritten after every row, so a run cut short still leaves what it measured.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradproof  # noqa: E402
from tests.corpus import LAYERS, SIZES, build  # noqa: E402

CHECKERS = {
    "gradproof": lambda f, x: gradproof.gradcheck(f, x, raise_exception=False),
    "default": lambda f, x: torch.autograd.gradcheck(f, x, raise_exception=False),
    "fast": lambda f, x: torch.autograd.gradcheck(f, x, fast_mode=True, raise_exception=False),
}


def as_function(case):
    """(function of tensors, input tensors) for a corpus case: NumPy forward, hand-written backward."""
    names = list(case.params)

    class Corpus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *tensors):
            ctx.save_for_backward(*tensors)
            point = {n: t.detach().numpy() for n, t in zip(names, tensors)}
            return torch.tensor(float(case.loss(point)), dtype=torch.float64)

        @staticmethod
        def backward(ctx, g):
            point = {n: t.detach().numpy() for n, t in zip(names, ctx.saved_tensors)}
            grads = case.grad(point)
            return tuple(g * torch.from_numpy(np.asarray(grads[n], dtype=np.float64)) for n in names)

    inputs = tuple(torch.from_numpy(np.array(case.params[n], dtype=np.float64)).requires_grad_() for n in names)
    return Corpus.apply, inputs


def counted(fn):
    """(``fn`` that counts its calls, the counter)."""
    calls = [0]

    def wrapper(*args):
        calls[0] += 1
        return fn(*args)

    return wrapper, calls


def timed(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--layers", default=",".join(LAYERS))
    ap.add_argument("--markdown", default=None)
    ap.add_argument(
        "--default-repeats", type=int, default=None,
        help="runs of torch's default mode where one takes over a second (default: --repeats)",
    )
    ap.add_argument("--no-detection", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    names = args.layers.split(",")

    timing = [
        f"torch {torch.__version__}, 1 thread; corpus layers (NumPy forward, hand-written backward) as custom "
        f"Functions, float64; CPU time, median of {args.repeats} runs of the correct backward, interleaved.",
        "",
        "| layer | size | inputs | calls: ours / fast / default | gradproof | gradcheck default | gradcheck fast_mode "
        "| ours / default | ours / fast |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    detection = [
        "",
        f"Bugs caught (for `correct`: checks passed) over {args.seeds} random instances per case:",
        "",
        "| layer | size | case | gradproof | gradcheck fast_mode | gradcheck default |",
        "|---|---|---|---|---|---|",
    ]
    totals = {n: [0, 0] for n in CHECKERS}
    for name in names:
        layer = LAYERS[name]
        for size in SIZES:
            fn, inputs = as_function(build(name, size, "float64", seed=0))
            verdicts, calls = {}, {}
            for n, check in CHECKERS.items():  # warm-up, counting the calls of the function
                wrapped, count = counted(fn)
                verdicts[n] = bool(check(wrapped, inputs))
                calls[n] = count[0]
            times = {n: [] for n in CHECKERS}
            for k in range(args.repeats):
                for n, check in CHECKERS.items():
                    slow = n == "default" and args.default_repeats is not None and times[n] and min(times[n]) > 1
                    if slow and k >= args.default_repeats:
                        continue
                    times[n].append(timed(lambda check=check: check(fn, inputs)))
            med = {n: statistics.median(t) for n, t in times.items()}
            ratios.append((med["gradproof"] / med["fast"], med["gradproof"] / med["default"], sum(x.numel() for x in inputs)))
            flags = "".join(f" ({n} failed it)" for n, ok in verdicts.items() if not ok)
            runs = "" if len(times["default"]) == args.repeats else f" ({len(times['default'])} runs)"
            timing.append(
                f"| {name} | {size} | {ratios[-1][2]:,} | {calls['gradproof']} / {calls['fast']} / {calls['default']:,} "
                f"| {fmt(med['gradproof'])} | {fmt(med['default'])}{runs} "
                f"| {fmt(med['fast'])} | {ratios[-1][1]:.2f} | {ratios[-1][0]:.2f}{flags} |"
            )
            print(timing[-1], flush=True)
            write(args.markdown, timing, detection)
            for bug in [None, *layer.bugs] if not args.no_detection else []:
                counts = dict.fromkeys(CHECKERS, 0)
                for seed in range(args.seeds):
                    fn, inputs = as_function(build(name, size, "float64", seed=seed, bug=bug))
                    for n, check in CHECKERS.items():
                        passed = bool(check(fn, inputs))
                        counts[n] += passed if bug is None else not passed
                        if bug is not None:
                            totals[n][0] += not passed
                            totals[n][1] += 1
                cells = [f"{counts[n]}/{args.seeds}" for n in ("gradproof", "fast", "default")]
                detection.append(f"| {name} | {size} | {bug or 'correct'} | " + " | ".join(cells) + " |")
                print(detection[-1], flush=True)
                write(args.markdown, timing, detection)
    fast = [r[0] for r in ratios]
    geo = math.exp(sum(math.log(r) for r in fast) / len(fast))
    worst = max(fast)
    big = [r for r in ratios if r[2] >= 1000]
    slower = [r for r in big if r[1] > 1]
    timing += [
        "",
        f"ours / fast_mode over {len(fast)} rows: geometric mean {geo:.2f}, worst {worst:.2f}; of the {len(big)} rows "
        f"with ≥ 1,000 inputs, slower than the default mode: {len(slower)}.",
    ]
    detection += [
        "",
        "Bugs caught over all cases: " + ", ".join(f"{n} {t[0]}/{t[1]}" for n, t in totals.items()) + ".",
    ]
    print(timing[-1])
    print(detection[-1])
    write(args.markdown, timing, detection)


def write(path: str | None, timing: list[str], detection: list[str]) -> None:
    if path:
        Path(path).write_text("\n".join(timing + detection) + "\n")


if __name__ == "__main__":
    main()

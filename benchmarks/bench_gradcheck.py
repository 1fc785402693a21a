"""Benchmark: gradproof.gradcheck against torch.autograd.gradcheck (default mode and fast_mode).

The same custom autograd Functions with hand-written backwards (``tests/torch_layers.py``:
softmax cross-entropy with per-sample losses, layer norm, conv2d via unfold, an LSTM cell), at a
unit-test size and a larger one, in one run:

* time to pass a correct backward — CPU time of this process (``time.process_time``, which a
  shared, loaded machine does not inflate the way it inflates wall time), median of ``--repeats``
  runs, the three checkers interleaved so that machine noise hits them alike; torch on one thread;
* injected bugs caught (and correct backwards passed) over ``--seeds`` random inputs.

    PYTHONPATH=$PWD python benchmarks/bench_gradcheck.py [--repeats 7] [--seeds 10] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradproof  # noqa: E402
from tests import torch_layers as tl  # noqa: E402

CHECKERS = {
    "gradproof": lambda f, x: gradproof.gradcheck(f, x, raise_exception=False),
    "default": lambda f, x: torch.autograd.gradcheck(f, x, raise_exception=False),
    "fast": lambda f, x: torch.autograd.gradcheck(f, x, fast_mode=True, raise_exception=False),
}
DEFAULT_DETECTION_UP_TO = 1000  # inputs; beyond, torch's default mode gets 3 seeds (seconds per check)


def timed(fn) -> float:
    """CPU seconds of ``fn()`` (torch runs on one thread, so this is the work done)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("--layers", default=",".join(tl.LAYERS))
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--no-detection", action="store_true")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--default-seeds-large", type=int, default=3,
                    help=f"seeds for torch's default mode beyond {DEFAULT_DETECTION_UP_TO:,} inputs")
    ap.add_argument(
        "--default-repeats", type=int, default=None,
        help="runs of torch's default mode where one takes over a second (default: --repeats)",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    layers = [tl.LAYERS[n] for n in args.layers.split(",")]
    sizes = args.sizes.split(",")

    timing = [] if args.no_timing else [
        f"torch {torch.__version__}, 1 thread; float64 custom autograd Functions with hand-written backwards; "
        f"CPU time, median of {args.repeats} runs of a *correct* backward, the three checkers interleaved.",
        "",
        "| layer | size | inputs | gradproof | gradcheck default | gradcheck fast_mode | ours / default | ours / fast |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios_fast = []
    for layer in layers if not args.no_timing else []:
        for size in sizes:
            inputs = layer.inputs(layer.sizes[size], 0)
            fn = layer.function(None)
            for name, check in CHECKERS.items():  # warm-up, and every checker must pass correct code
                assert check(fn, inputs), f"{name} failed correct {layer.name}/{size}"
            times = {name: [] for name in CHECKERS}
            for k in range(args.repeats):
                for name, check in CHECKERS.items():
                    slow = name == "default" and args.default_repeats is not None and times[name] and min(times[name]) > 1
                    if slow and k >= args.default_repeats:
                        continue
                    times[name].append(timed(lambda check=check: check(fn, inputs)))
            med = {name: statistics.median(t) for name, t in times.items()}
            ratios_fast.append(med["gradproof"] / med["fast"])
            runs = "" if len(times["default"]) == args.repeats else f" ({len(times['default'])} runs)"
            timing.append(
                f"| {layer.name} | {size} | {tl.n_inputs(inputs):,} | {fmt(med['gradproof'])} | {fmt(med['default'])}{runs} "
                f"| {fmt(med['fast'])} | {med['gradproof'] / med['default']:.2f} | {med['gradproof'] / med['fast']:.2f} |"
            )
            print(timing[-1], flush=True)
    if ratios_fast:
        geo = math.exp(sum(math.log(r) for r in ratios_fast) / len(ratios_fast))
        timing += ["", f"ours / fast_mode: geometric mean {geo:.2f}, worst {max(ratios_fast):.2f}."]
        print(timing[-1], flush=True)

    detection = []
    if not args.no_detection:
        detection = [
            "",
            f"Bugs caught (for `correct`: checks passed) over {args.seeds} random inputs per case:",
            "",
            "| layer | size | case | gradproof | gradcheck fast_mode | gradcheck default |",
            "|---|---|---|---|---|---|",
        ]
        for layer in layers:
            for size in sizes:
                for bug in [None, *layer.bugs]:
                    fn = layer.function(bug)
                    counts = dict.fromkeys(CHECKERS, 0)
                    tried = dict.fromkeys(CHECKERS, 0)
                    for seed in range(args.seeds):
                        inputs = layer.inputs(layer.sizes[size], seed)
                        big = tl.n_inputs(inputs) > DEFAULT_DETECTION_UP_TO
                        for name, check in CHECKERS.items():
                            if name == "default" and big and seed >= args.default_seeds_large:  # seconds per check
                                continue
                            passed = bool(check(fn, inputs))
                            tried[name] += 1
                            counts[name] += passed if bug is None else not passed
                    cells = [f"{counts[n]}/{tried[n]}" if tried[n] else "not run" for n in ("gradproof", "fast", "default")]
                    detection.append(f"| {layer.name} | {size} | {bug or 'correct'} | " + " | ".join(cells) + " |")
                    print(detection[-1], flush=True)
    text = "\n".join(timing + detection) + "\n"
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()

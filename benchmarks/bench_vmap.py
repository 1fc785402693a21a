"""Benchmark: perturbed evaluations batched with ``torch.func.vmap`` against a loop, on the CPU.

``gradproof.gradcheck`` on functions that vmap accepts (torch's own ops, and a new-style custom
Function with ``generate_vmap_rule``), once with batching forced on for the CPU and once with the
loop (the CPU default, ``VMAP_DEVICES``).  CPU time of this process, torch on one thread, median
of ``--repeats`` runs, the two interleaved.  The verdicts must agree.

    PYTHONPATH=$PWD python benchmarks/bench_vmap.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradproof  # noqa: E402
from gradproof.verify import torch_function  # noqa: E402


class Tanh(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.tanh(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


def r(*shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_()


CASES = {
    "layer norm (F.layer_norm)": lambda n, d: (
        lambda x, g, b: F.layer_norm(x, (d,), g, b), (r(n, d, seed=0), r(d, seed=1), r(d, seed=2))),
    "softmax-CE (log_softmax)": lambda n, d: (
        lambda z: -(F.one_hot(torch.arange(n) % d, d) * torch.log_softmax(z, 1)).sum(1), (r(n, d, seed=0),)),
    "tanh layer (vmap-able Function)": lambda n, d: (
        lambda x, w: Tanh.apply(x @ w), (r(n, d, seed=0), r(d, d, seed=1))),
}
SIZES = {"small": (8, 16), "large": (64, 100)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    modes = {"loop": frozenset(), "vmap": frozenset({"cpu"})}
    print("| function | size | inputs | loop | vmap | vmap / loop |\n|---|---|---|---|---|---|")
    for name, make in CASES.items():
        for size, (n, d) in SIZES.items():
            fn, inputs = make(n, d)
            times = {m: [] for m in modes}
            for _ in range(args.repeats + 1):
                for mode, devices in modes.items():
                    torch_function.VMAP_DEVICES = devices
                    t0 = time.process_time()
                    ok = gradproof.gradcheck(fn, inputs)
                    times[mode].append(time.process_time() - t0)
                    assert ok, (name, size, mode)
            med = {m: statistics.median(t[1:]) for m, t in times.items()}  # the first run warms up
            count = sum(x.numel() for x in inputs)
            print(f"| {name} | {size} | {count:,} | {med['loop'] * 1e3:.1f} ms | {med['vmap'] * 1e3:.1f} ms "
                  f"| {med['vmap'] / med['loop']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

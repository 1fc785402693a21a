"""Benchmark: gradproof.check_gradient against torch.autograd.gradcheck (default and fast_mode).

The same softmax cross-entropy with a hand-written backward, at several sizes, in one run:
time to check a correct gradient (median of repeats; ratio ours / gradcheck), and how many of
``--seeds`` injected bugs each method detects (sign flip, the (s − y)·s·(1 − s) dropped-Jacobian
bug, one random entry off by 1e-2 / 1e-3 / 1e-4 relative).

    python benchmarks/bench_check_gradient.py [--seeds 20] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gradproof.verify.check import check_gradient

SIZES = [(8, 10), (64, 100), (128, 500), (256, 1000)]
DEFAULT_MODE_MAX = 6400  # gradcheck default mode costs 2N forward calls: beyond this, extrapolate


def make_problem(b: int, c: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(b, c, generator=gen, dtype=torch.float64) * 2
    y = torch.nn.functional.one_hot(torch.randint(0, c, (b,), generator=gen), c).double()
    return z, y


def bugs(b: int, c: int, seed: int):
    rng = np.random.default_rng(seed)
    entry = (int(rng.integers(b)), int(rng.integers(c)))

    def correct(s, y):
        return (s - y) / b

    def sign(s, y):
        return -(s - y) / b

    def ssb(s, y):
        return (s - y) * s * (1 - s) / b

    def off(rel):
        def wrong(s, y):
            g = (s - y) / b
            g[entry] *= 1 + rel
            return g

        return wrong

    return {
        "correct": correct,
        "sign flip": sign,
        "(s−y)·s·(1−s)": ssb,
        "one entry 1e-2": off(1e-2),
        "one entry 1e-3": off(1e-3),
        "one entry 1e-4": off(1e-4),
    }


def forward(z, y):
    return -(y * torch.log_softmax(z, dim=1)).sum() / z.shape[0]


def as_function(backward):
    class SoftmaxCE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, y):
            ctx.save_for_backward(torch.softmax(z, dim=1), y)
            return forward(z, y)

        @staticmethod
        def backward(ctx, grad_out):
            s, y = ctx.saved_tensors
            return grad_out * backward(s, y), None

    return SoftmaxCE.apply


def run_ours(z, y, backward, seed):
    return check_gradient(
        lambda zz: forward(zz, y), lambda zz: backward(torch.softmax(zz, dim=1), y), z, seed=seed
    ).ok


def run_gradcheck(z, y, backward, fast):
    zz = z.clone().requires_grad_(True)
    return torch.autograd.gradcheck(
        lambda t: as_function(backward)(t, y), (zz,), fast_mode=fast, raise_exception=False
    )


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)  # best of the repeats: the least disturbed by other load (as timeit advises)


def fmt(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: stable timings)")
    ap.add_argument("--sizes", default=",".join(f"{b}x{c}" for b, c in SIZES), help="e.g. 64x100,256x1000")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    lines = [
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; float64 softmax cross-entropy, "
        "hand-written backward; times are the best of several repeats for a *correct* gradient.",
        "",
        "| logits | gradproof | gradcheck default | gradcheck fast_mode | ours / default | ours / fast |",
        "|---|---|---|---|---|---|",
    ]
    detect: dict[tuple[int, int], dict[str, dict[str, int]]] = {}
    per_input = None
    for b, c in sizes:
        n = b * c
        z, y = make_problem(b, c, 0)
        good = bugs(b, c, 0)["correct"]
        reps = 15 if n <= 10_000 else 3
        ours = timed(lambda z=z, y=y, good=good: run_ours(z, y, good, 0), reps)
        fast = timed(lambda z=z, y=y, good=good: run_gradcheck(z, y, good, True), reps)
        if n <= DEFAULT_MODE_MAX:
            default = timed(lambda z=z, y=y, good=good: run_gradcheck(z, y, good, False), 3)
            dtext = fmt(default)
        elif per_input is not None:  # 2N forward calls: extrapolate from the largest measured size
            default = per_input * n
            dtext = f"~{fmt(default)} (extrapolated)"
        else:
            default, dtext = float("nan"), "not run"
        if n <= DEFAULT_MODE_MAX:
            per_input = default / n
        lines.append(
            f"| {b}×{c} | {fmt(ours)} | {dtext} | {fmt(fast)} | {ours / default:.3f} | {ours / fast:.2f} |"
        )
        print(lines[-1], flush=True)
        # detection
        counts: dict[str, dict[str, int]] = {}
        seeds = args.seeds if n <= 100_000 else max(5, args.seeds // 2)
        for s in range(seeds):
            zs, ys = make_problem(b, c, 1000 + s)
            for name, bk in bugs(b, c, 1000 + s).items():
                row = counts.setdefault(name, {"gradproof": 0, "fast_mode": 0, "default": 0, "n": 0})
                row["n"] += 1
                verdict_ours = run_ours(zs, ys, bk, s)
                row["gradproof"] += (not verdict_ours) if name != "correct" else verdict_ours
                fm = run_gradcheck(zs, ys, bk, True)
                row["fast_mode"] += (not fm) if name != "correct" else fm
                if n <= DEFAULT_MODE_MAX and s < min(seeds, 10):
                    dm = run_gradcheck(zs, ys, bk, False)
                    row["default"] += (not dm) if name != "correct" else dm
                    row["dn"] = row.get("dn", 0) + 1
        detect[(b, c)] = counts
    lines += [
        "",
        "Detection (bugs detected / tried; for `correct`, checks passed / tried):",
        "",
        "| logits | case | gradproof | gradcheck fast_mode | gradcheck default |",
        "|---|---|---|---|---|",
    ]
    for (b, c), counts in detect.items():
        for name, row in counts.items():
            d = f"{row['default']}/{row['dn']}" if "dn" in row else "not run"
            lines.append(
                f"| {b}×{c} | {name} | {row['gradproof']}/{row['n']} | {row['fast_mode']}/{row['n']} | {d} |"
            )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("# check_gradient vs torch.autograd.gradcheck\n\n" + text + "\n")


if __name__ == "__main__":
    main()

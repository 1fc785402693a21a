"""Time the batched bias–variance experiment against a per-dataset NumPy loop, in one run.

    PYTHONPATH=. python benchmarks/bench_bias_variance.py [--datasets 2000] [--repeat 5]

The peer fits every dataset on its own with ``np.polynomial.legendre.legfit`` (the plain way
to write the experiment) from the very same random draws, so the script also checks that both
give the same table.  Timings are the median of ``--repeat`` runs after one warm-up; the torch
import is not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from gradproof.experiments.bias_variance import bias_variance_experiment, true_function


def numpy_loop(degrees, n_datasets, n_train, noise_std, seed, n_test):
    """The same experiment, one ``legfit`` per dataset and degree (the draws mirror the batched code)."""
    gen = torch.Generator().manual_seed(seed)
    train_noise = (torch.randn(n_datasets, n_train, generator=gen, dtype=torch.float64) * noise_std).numpy()
    test_noise = (torch.randn(n_datasets, n_test, generator=gen, dtype=torch.float64) * noise_std).numpy()
    x = np.linspace(-1.0, 1.0, n_train)
    xt = -1.0 + (np.arange(n_test) + 0.5) * (2.0 / n_test)
    f, ft = true_function(x), true_function(xt)
    rows = {}
    for degree in degrees:
        pred = np.empty((n_datasets, n_test))
        for d in range(n_datasets):
            coef = np.polynomial.legendre.legfit(x, f + train_noise[d], degree)
            pred[d] = np.polynomial.legendre.legval(xt, coef)
        mean = pred.mean(axis=0)
        rows[degree] = {
            "bias2": float(np.mean((mean - ft) ** 2)),
            "variance": float(np.mean((pred - mean) ** 2)),
            "expected_error": float(np.mean((ft + test_noise - pred) ** 2)),
        }
    return rows


def median_time(fn, repeat):
    fn()  # warm-up: first-call allocations, lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = dict(
        degrees=(1, 4, 20), n_datasets=args.datasets, n_train=30, noise_std=0.3, seed=0, n_test=200
    )

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}"
    )
    print(f"settings: {settings}\n")

    start = time.perf_counter()
    bias_variance_experiment(**settings, device="cpu")
    t_cold = time.perf_counter() - start
    t_cpu, result = median_time(lambda: bias_variance_experiment(**settings, device="cpu"), args.repeat)
    t_np, peer = median_time(lambda: numpy_loop(**settings), args.repeat)
    worst = max(
        abs(getattr(result.row(d), k) - v) / max(abs(v), 1e-300)
        for d, r in peer.items()
        for k, v in r.items()
    )
    print(result, "\n")
    print(f"first call (cold)  : {t_cold * 1e3:9.1f} ms  (torch already imported)")
    print(f"batched torch, cpu : {t_cpu * 1e3:9.1f} ms  (median of {args.repeat})")
    print(f"numpy legfit loop  : {t_np * 1e3:9.1f} ms  (median of {args.repeat})")
    print(f"speed-up           : {t_np / t_cpu:9.1f} x")
    if torch.cuda.is_available():

        def on_gpu():
            r = bias_variance_experiment(**settings, device="cuda")
            torch.cuda.synchronize()
            return r

        t_gpu, gpu = median_time(on_gpu, args.repeat)
        print(f"batched torch, {gpu.device}: {t_gpu * 1e3:.1f} ms ({t_np / t_gpu:.1f} x the loop)")
    print(f"largest relative difference batched vs loop (bias2, variance, error): {worst:.1e}")
    assert worst < 1e-8, "the batched experiment and the NumPy loop disagree"


if __name__ == "__main__":
    main()

"""30-seed sweep of the two noise-model defects of check_gradient (false alarm and miss).

    PYTHONPATH=$PWD python benchmarks/bench_noise_model.py [SEEDS]

1. *float32 losses handed back as Python floats* (``float(np.float32 computation)``, as
   ``loss.item()`` of a float32 tensor returns): a float32 MSE whose targets are offset by 1e3 …
   1e6, its correct gradient (a failure is a false alarm) and the gradient 50 % too large (a
   pass is a miss).
2. *deterministic white noise* of 1e-4 (a hash of the input's bytes) on a smooth loss: the
   correct gradient (false alarm if FAILED), 50 % and 10 % too large (miss if passed); and a
   correct kinked loss (hinge + L1) with the same noise, and without.

Results: benchmarks/RESULTS_calibration.md.
"""
from __future__ import annotations

import hashlib
import sys
import time

import numpy as np

import gradproof


def float32_mse(offset: float, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 5)).astype(np.float32)
    t = (rng.normal(size=20) + offset).astype(np.float32)
    w = rng.normal(size=5)

    def loss(w):
        r = X @ np.asarray(w, dtype=np.float32) - t
        return float(np.mean(r * r))  # a float32 result handed back as a Python float

    def grad(w):
        r = X.astype(np.float64) @ w - t.astype(np.float64)
        return 2.0 * X.T.astype(np.float64) @ r / len(t)

    return loss, grad, w


def hash_noise(x: np.ndarray) -> float:
    """A deterministic pseudo-random number in [-1, 1) from the bytes of ``x``."""
    digest = hashlib.blake2b(np.ascontiguousarray(x, dtype=np.float64).tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**63 - 1.0


def noisy_smooth(seed: int, level: float = 1e-4):
    rng = np.random.default_rng(seed)
    X, t, w = rng.normal(size=(12, 4)), rng.normal(size=12), rng.normal(size=4)

    def loss(w):
        return float(np.sum(np.tanh(X @ w - t) ** 2)) + level * hash_noise(w)

    def grad(w):
        h = np.tanh(X @ w - t)
        return X.T @ (2 * h * (1 - h**2))

    return loss, grad, w


def kinked(seed: int, level: float = 1e-4):
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(12, 4)), rng.choice([-1.0, 1.0], 12), rng.normal(size=4)

    def loss(w):
        m = 1.0 - y * (X @ w)
        return float(np.sum(np.maximum(m, 0.0)) + 0.1 * np.sum(np.abs(w))) + level * hash_noise(w)

    def grad(w):
        m = 1.0 - y * (X @ w)
        return -X.T @ (y * (m > 0)) + 0.1 * np.sign(w)

    return loss, grad, w


def sweep(seeds: int) -> list[tuple[str, str, int, int]]:
    rows = []
    for offset in (1e3, 1e4, 1e5, 1e6):
        ok = [gradproof.check_gradient(*float32_mse(offset, s), seed=s).ok for s in range(seeds)]
        bad = []
        for s in range(seeds):
            loss, grad, w = float32_mse(offset, s)
            bad.append(gradproof.check_gradient(loss, lambda w, g=grad: 1.5 * g(w), w, seed=s).ok)
        name = f"float32 MSE as Python float, targets +{offset:.0e}"
        rows.append((name, "correct: FAILED", sum(not o for o in ok), seeds))
        rows.append((name, "50 % wrong: passed", sum(bad), seeds))
    for factor, what in ((1.0, "correct: FAILED"), (1.5, "50 % wrong: passed"), (1.1, "10 % wrong: passed")):
        res = []
        for s in range(seeds):
            loss, grad, w = noisy_smooth(s)
            res.append(gradproof.check_gradient(loss, lambda w, g=grad: factor * g(w), w, seed=s).ok)
        rows.append(("tanh regression + 1e-4 hash noise", what, sum(r == (factor != 1.0) for r in res), seeds))
    for level in (1e-4, 0.0):
        for factor, what in ((1.0, "correct: FAILED"), (1.5, "50 % wrong: passed")):
            res = []
            for s in range(seeds):
                loss, grad, w = kinked(s, level)
                res.append(gradproof.check_gradient(loss, lambda w, g=grad: factor * g(w), w, seed=s).ok)
            rows.append((f"hinge + L1 (kinks){' + 1e-4 hash noise' if level else ''}", what,
                         sum(r == (factor != 1.0) for r in res), seeds))
    return rows


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    start = time.process_time()
    rows = sweep(n)
    print("| loss | outcome counted | count |")
    print("|---|---|---|")
    for loss, what, k, total in rows:
        print(f"| {loss} | {what} | {k}/{total} |")
    print(f"\n{n} seeds each, {time.process_time() - start:.0f} s CPU")

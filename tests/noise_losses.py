"""Losses for the noise-model tests and their 30-seed sweep (``benchmarks/bench_noise_model.py``).

* :func:`float32_mse` — a float32 MSE handed back as a Python float (``float(np.float32 ...)``,
  what ``loss.item()`` of a float32 tensor returns), its targets offset by ``offset``;
* :func:`noisy_smooth` — a tanh regression plus deterministic white noise (a hash of the input's
  bytes) of amplitude ``level``;
* :func:`kinked` — a hinge loss plus an L1 penalty (kinks), optionally with the same noise.

Each returns ``(loss, grad, w)`` with the correct gradient.
"""

from __future__ import annotations

import hashlib

import numpy as np


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

"""Localising a mismatch: per-entry central differences, spent only where they pay.

Small parameters (up to ``max_entries``) are differenced entry by entry.  Larger ones get a
bounded candidate set: the entries with the largest |g| and a random sample (where a
widespread error shows), plus the leaves of a group-testing bisection — test each half of the
entries with a direction supported on it and follow the halves that disagree — which finds a
single wrong entry among 256,000 in about 18 levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gradproof.verify.options import GRID64


@dataclass(frozen=True)
class Entries:
    """Per-entry finite differences at flat indices ``index``."""

    index: np.ndarray  # flat indices
    expected: np.ndarray  # finite-difference derivative
    got: np.ndarray  # the user's gradient
    tolerance: np.ndarray  # per-entry error bound
    complete: bool  # all entries of the parameter were differenced

    @property
    def bad(self) -> np.ndarray:
        return np.abs(self.got - self.expected) > self.tolerance


def entry_differences(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    index: np.ndarray,
    *,
    rel_noise: float,
    sigma: float,
    grad_eps: float,
    complete: bool,
) -> Entries:
    """Richardson central differences at the flat ``index`` entries of ``x``."""
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    gnorm = float(np.linalg.norm(gflat))
    expected = np.empty(len(index))
    tolerance = np.empty(len(index))
    for n, i in enumerate(index):
        h = float(np.cbrt(rel_noise) * max(1.0, abs(flat[i])))

        def diff(step: float, i: int = int(i)) -> tuple[float, float]:
            xp, xm = flat.copy(), flat.copy()
            xp[i] += step
            xm[i] -= step
            xp, xm = q(xp.reshape(x.shape)), q(xm.reshape(x.shape))
            taken = float(xp.reshape(-1)[i] - xm.reshape(-1)[i])
            return (f(xp) - f(xm)) / taken, taken

        d1, _ = diff(h)
        d2, _ = diff(h / 2)
        expected[n] = (4.0 * d2 - d1) / 3.0
        tolerance[n] = 2.0 * abs(d1 - d2) + 20.0 * sigma / h + 16.0 * grad_eps * max(gnorm, GRID64)
    return Entries(np.asarray(index), expected, gflat[np.asarray(index, dtype=int)], tolerance, complete)


def bisect_candidates(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    t: float,
    rng: np.random.Generator,
    *,
    width: int = 3,
    leaf: int = 16,
) -> np.ndarray:
    """Flat indices of the blocks that keep disagreeing when the entries are halved repeatedly."""
    blocks = [rng.permutation(x.size)]
    while max(len(b) for b in blocks) > leaf:
        scored = []
        for block in blocks:
            if len(block) <= leaf:
                scored.append((np.inf, block))
                continue
            half = len(block) // 2
            for child in (block[:half], block[half:]):
                v = np.zeros(x.size)
                v[child] = rng.standard_normal(len(child))
                v = v.reshape(x.shape)
                r = _richardson_residual(f, q, x, g, v, t)
                scored.append((abs(r) / max(float(np.linalg.norm(v)), GRID64), child))
        scored.sort(key=lambda p: -p[0])
        blocks = [b for _, b in scored[:width]]
    return np.concatenate(blocks)


def _richardson_residual(f, q, x, g, v, t) -> float:
    """FD − ⟨g, v⟩ along ``v``, Richardson-extrapolated from steps t and t/2.

    At the long steps the directional check settles on, a plain central difference over half of
    a large parameter carries a truncation error far above a single wrong entry; extrapolating
    removes its leading term, so the halves are ranked by the gradient's error, not curvature.
    """
    res = []
    for h in (t, t / 2):
        xp, xm = q(x + h * v), q(x - h * v)
        res.append((f(xp) - f(xm) - float(np.vdot(g, xp - xm))) / (2 * h))
    return (4.0 * res[1] - res[0]) / 3.0


def candidates(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    t: float,
    rng: np.random.Generator,
    max_entries: int,
) -> tuple[np.ndarray, bool]:
    """(flat indices to difference entry by entry, whether that is every entry)."""
    if x.size <= max_entries:
        return np.arange(x.size), True
    top = np.argsort(-np.abs(g.reshape(-1)), kind="stable")[:16]
    sample = rng.choice(x.size, size=16, replace=False)
    found = bisect_candidates(f, q, x, g, t, rng)
    return np.unique(np.concatenate([top, sample, found])), False

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

import sys
import time
from pathlib import Path

import gradproof

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.noise_losses import float32_mse, kinked, noisy_smooth  # noqa: E402


def _unstated(result, error: float) -> bool:
    """A pass whose report does not state a resolution above the relative error it let through."""
    return result.ok and not any(p.low_precision and p.resolution > error for p in result.parameters)


def sweep(seeds: int) -> list[tuple[str, str, int, int]]:
    rows = []
    for offset in (1e3, 1e4, 1e5, 1e6):
        ok = [gradproof.check_gradient(*float32_mse(offset, s), seed=s).ok for s in range(seeds)]
        bad = []
        for s in range(seeds):
            loss, grad, w = float32_mse(offset, s)
            bad.append(gradproof.check_gradient(loss, lambda w, g=grad: 1.5 * g(w), w, seed=s))
        name = f"float32 MSE as Python float, targets +{offset:.0e}"
        rows.append((name, "correct: FAILED", sum(not o for o in ok), seeds))
        rows.append((name, "50 % wrong: passed", sum(r.ok for r in bad), seeds))
        rows.append((name, "50 % wrong: passed below its stated resolution", sum(_unstated(r, 1 / 3) for r in bad), seeds))
    for factor, what in ((1.0, "correct: FAILED"), (1.5, "50 % wrong: passed"), (1.1, "10 % wrong: passed")):
        res = []
        for s in range(seeds):
            loss, grad, w = noisy_smooth(s)
            res.append(gradproof.check_gradient(loss, lambda w, g=grad: factor * g(w), w, seed=s))
        rows.append(("tanh regression + 1e-4 hash noise", what, sum(r.ok == (factor != 1.0) for r in res), seeds))
        if factor != 1.0:
            rel = (factor - 1.0) / factor
            rows.append(("tanh regression + 1e-4 hash noise", what + " below its stated resolution",
                         sum(_unstated(r, rel) for r in res), seeds))
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

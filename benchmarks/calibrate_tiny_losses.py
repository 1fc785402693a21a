"""False alarms and misses of check_gradient on losses scaled far below 1 (down to subnormals).

    python benchmarks/calibrate_tiny_losses.py SCALES SEEDS
    e.g. python benchmarks/calibrate_tiny_losses.py 1e-290,0x1p-1000,1e-305,1e-310,1e-316,1e-320 30

Three realistic losses (softmax cross-entropy, MSE regression, a tanh layer) and their correct
gradients, all multiplied by each scale; each is checked as written (a failure is a false alarm)
and with its gradient 1 % too large (a pass is a miss).  Results: benchmarks/RESULTS_calibration.md.
"""
import sys

import numpy as np

import gradproof


def softmax_ce(z, y):
    m = z.max(axis=1, keepdims=True); e = np.exp(z - m); p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y])), (p - np.eye(z.shape[1])[y]) / len(y)
def mse(w, X, t):
    r = X @ w - t; return np.mean(r**2), 2 * X.T @ r / len(t)
def tanh_mlp(w, X):
    h = np.tanh(X @ w); return np.sum(h**2) / 2, X.T @ (h * (1 - h**2))
fails = 0; total = 0; missed = 0
scales = [float.fromhex(a) if a.startswith("0x") else float(a) for a in sys.argv[1].split(",")]
for s in scales:
    for seed in range(int(sys.argv[2])):
        rng = np.random.default_rng(seed)
        z = rng.normal(size=(4, 5)) * 3; y = rng.integers(0, 5, 4)
        X = rng.normal(size=(6, 3)); t = rng.normal(size=6); w = rng.normal(size=3)
        W = rng.normal(size=(3, 2))
        cases = [
            (lambda z: s * softmax_ce(z, y)[0], lambda z: s * softmax_ce(z, y)[1], z),
            (lambda w: s * mse(w, X, t)[0], lambda w: s * mse(w, X, t)[1], w),
            (lambda W: s * tanh_mlp(W, X)[0], lambda W: s * tanh_mlp(W, X)[1], W),
        ]
        for f, g, x in cases:
            total += 1
            r = gradproof.check_gradient(f, g, x, seed=seed)
            if not r.ok:
                fails += 1; print("FALSE ALARM", s, seed, str(r)[:300])
            rb = gradproof.check_gradient(f, lambda x, g=g: g(x) * 1.01, x, seed=seed)
            if rb.ok: missed += 1
print(f"correct: {fails}/{total} false alarms; 1%-wrong missed {missed}/{total}")

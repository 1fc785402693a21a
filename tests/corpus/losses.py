"""Losses on a batch: softmax cross-entropy, binary cross-entropy with logits, MSE, multi-class hinge, Huber."""

from __future__ import annotations

import numpy as np

from tests.corpus.base import Layer, register


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# -- softmax cross-entropy on logits, batch mean ----------------------------------------------------
def _ce_setup(rng, size):
    n, c = (4, 5) if size == "small" else (16, 12)
    return {"z": 2.0 * rng.normal(size=(n, c))}, {"Y": np.eye(c)[rng.integers(0, c, n)]}


def _log_softmax(z):
    m = z.max(1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))


def _ce_backward(P, C, bug):
    s = np.exp(_log_softmax(P["z"]))
    n = len(s)
    if bug == "softmax-jacobian-diagonal":
        return {"z": (s - C["Y"]) * s * (1 - s) / n}
    if bug == "sum-not-mean":
        return {"z": s - C["Y"]}
    return {"z": (s - C["Y"]) / n}


def _ce_torch(P, C):
    import torch.nn.functional as F

    return F.cross_entropy(P["z"], C["Y"].argmax(1))


register(
    Layer(
        "softmax_ce",
        _ce_setup,
        lambda P, C: -np.sum(C["Y"] * _log_softmax(P["z"])) / len(P["z"]),
        _ce_backward,
        _ce_torch,
        {"softmax-jacobian-diagonal": "(s − y)·s·(1 − s) instead of s − y", "sum-not-mean": "the 1/N of the mean left out"},
    )
)


# -- binary cross-entropy with logits ---------------------------------------------------------------
def _bce_setup(rng, size):
    n = 12 if size == "small" else 120
    return {"z": 2.0 * rng.normal(size=n)}, {"t": (rng.random(n) < 0.5).astype(float)}


def _bce_forward(P, C):
    z = P["z"]
    return np.mean(np.logaddexp(np.zeros_like(z), z) - C["t"] * z)


def _bce_backward(P, C, bug):
    s = _sigmoid(P["z"])
    n = len(s)
    if bug == "extra-sigmoid-derivative":
        return {"z": (s - C["t"]) * s * (1 - s) / n}
    if bug == "sign":
        return {"z": (C["t"] - s) / n}
    return {"z": (s - C["t"]) / n}


def _bce_torch(P, C):
    import torch.nn.functional as F

    return F.binary_cross_entropy_with_logits(P["z"], C["t"])


register(
    Layer(
        "bce",
        _bce_setup,
        _bce_forward,
        _bce_backward,
        _bce_torch,
        {"extra-sigmoid-derivative": "(σ − t)·σ·(1 − σ): the sigmoid's derivative applied twice", "sign": "t − σ"},
    )
)


# -- mean squared error over all entries -------------------------------------------------------------
def _mse_setup(rng, size):
    shape = (4, 6) if size == "small" else (24, 10)
    return {"pred": rng.normal(size=shape)}, {"target": rng.normal(size=shape)}


def _mse_backward(P, C, bug):
    r = P["pred"] - C["target"]
    n, d = r.shape
    if bug == "factor-two-dropped":
        return {"pred": r / (n * d)}
    if bug == "mean-over-batch-only":
        return {"pred": 2 * r / n}
    return {"pred": 2 * r / (n * d)}


def _mse_torch(P, C):
    import torch.nn.functional as F

    return F.mse_loss(P["pred"], C["target"])


register(
    Layer(
        "mse",
        _mse_setup,
        lambda P, C: np.mean((P["pred"] - C["target"]) ** 2),
        _mse_backward,
        _mse_torch,
        {"factor-two-dropped": "d(r²) taken as r", "mean-over-batch-only": "divided by N instead of N·D"},
    )
)


# -- multi-class hinge (torch's multi_margin_loss: Σ_{j≠y} max(0, 1 − s_y + s_j) / C, batch mean) ----------
def _hinge_setup(rng, size):
    n, c = (4, 5) if size == "small" else (20, 10)
    return {"s": rng.normal(size=(n, c))}, {"y": rng.integers(0, c, n)}


def _hinge_margins(P, C):
    s = P["s"]
    rows = np.arange(len(s))
    m = 1.0 - s[rows, C["y"]][:, None] + s
    m[rows, C["y"]] = 0.0
    return m


def _hinge_forward(P, C):
    n, c = P["s"].shape
    return np.sum(np.maximum(_hinge_margins(P, C), 0)) / (n * c)


def _hinge_backward(P, C, bug):
    n, c = P["s"].shape
    active = (_hinge_margins(P, C) > 0).astype(P["s"].dtype)
    g = active / (n * c)
    if bug != "true-class-term-dropped":
        g[np.arange(n), C["y"]] = -active.sum(1) / (n * c)
    return {"s": g}


def _hinge_torch(P, C):
    import torch.nn.functional as F

    return F.multi_margin_loss(P["s"], C["y"])


register(
    Layer(
        "hinge",
        _hinge_setup,
        _hinge_forward,
        _hinge_backward,
        _hinge_torch,
        {"true-class-term-dropped": "the −Σ_j 1[margin_j > 0] for the true class's score left out"},
        kinks=True,
    )
)


# -- Huber (δ = 0.5), batch mean ---------------------------------------------------------------------
DELTA = 0.5


def _huber_setup(rng, size):
    shape = (4, 5) if size == "small" else (20, 12)
    return {"pred": rng.normal(size=shape)}, {"target": rng.normal(size=shape)}


def _huber_forward(P, C):
    r = np.abs(P["pred"] - C["target"])
    return np.mean(np.where(r <= DELTA, 0.5 * r * r, DELTA * (r - 0.5 * DELTA)))


def _huber_backward(P, C, bug):
    r = P["pred"] - C["target"]
    bound = 1.0 if bug == "clip-at-one" else DELTA
    return {"pred": np.clip(r, -bound, bound) / r.size}


def _huber_torch(P, C):
    import torch.nn.functional as F

    return F.huber_loss(P["pred"], C["target"], delta=DELTA)


register(
    Layer(
        "huber",
        _huber_setup,
        _huber_forward,
        _huber_backward,
        _huber_torch,
        {"clip-at-one": "the residual clipped at 1 instead of δ = 0.5"},
        kinks=True,
    )
)

"""Scaled dot-product attention: softmax(Q Kᵀ / √d) V, batched."""

from __future__ import annotations

import math

import numpy as np

from tests.corpus.base import Layer, register


def _setup(rng, size):
    b, n, d = (1, 4, 5) if size == "small" else (2, 10, 12)
    params = {k: rng.normal(size=(b, n, d)) for k in ("Q", "K", "V")}
    return params, {"R": rng.normal(size=(b, n, d))}


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _probs(P):
    d = P["Q"].shape[-1]
    return _softmax(P["Q"] @ P["K"].transpose(0, 2, 1) / math.sqrt(d))


def _forward(P, C):
    return np.sum(C["R"] * (_probs(P) @ P["V"]))


def _backward(P, C, bug):
    A = _probs(P)
    d = P["Q"].shape[-1]
    dO = C["R"]
    dA = dO @ P["V"].transpose(0, 2, 1)
    axis = -2 if bug == "softmax-wrong-axis" else -1
    dS = A * (dA - (dA * A).sum(axis, keepdims=True))
    scale = 1.0 if bug == "scale-forgotten" else 1.0 / math.sqrt(d)
    return {
        "Q": dS @ P["K"] * scale,
        "K": dS.transpose(0, 2, 1) @ P["Q"] * scale,
        "V": A.transpose(0, 2, 1) @ dO,
    }


def _torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.scaled_dot_product_attention(P["Q"], P["K"], P["V"])).sum()


register(
    Layer(
        "attention",
        _setup,
        _forward,
        _backward,
        _torch,
        {
            "scale-forgotten": "the 1/√d of the scores left out of dQ and dK (they come out √d × too large)",
            "softmax-wrong-axis": "the softmax backward sums over the query axis instead of the key axis",
        },
    )
)

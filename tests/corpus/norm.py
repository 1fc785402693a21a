"""Normalisation layers: batch norm (training mode, batch statistics) and layer norm."""

from __future__ import annotations

import numpy as np

from tests.corpus.base import Layer, register

EPS = 1e-5


def _norm_backward(dxhat, xhat, inv_std, axis):
    """dx of x̂ = (x − mean)/std along ``axis`` (the classic three-term formula)."""
    n = xhat.shape[axis]
    return (
        inv_std
        / n
        * (n * dxhat - dxhat.sum(axis, keepdims=True) - xhat * (dxhat * xhat).sum(axis, keepdims=True))
    )


# -- batch norm over the batch axis of an (N, C) activation --------------------------------------
def _bn_setup(rng, size):
    n, c = (8, 4) if size == "small" else (32, 12)
    params = {"x": 2.0 * rng.normal(size=(n, c)) + 1.0, "gamma": 1.0 + 0.2 * rng.normal(size=c), "beta": rng.normal(size=c)}
    return params, {"R": rng.normal(size=(n, c))}


def _bn_parts(x, axis, eps=EPS):
    mu = x.mean(axis, keepdims=True)
    var = ((x - mu) ** 2).mean(axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mu) * inv_std, inv_std


def _bn_forward(P, C):
    xhat, _ = _bn_parts(P["x"], 0)
    return np.sum(C["R"] * (P["gamma"] * xhat + P["beta"]))


def _bn_backward(P, C, bug):
    xhat, inv_std = _bn_parts(P["x"], 0)
    dxhat = C["R"] * P["gamma"]
    if bug == "wrong-axis":
        dx = _norm_backward(dxhat, xhat, inv_std, 1)  # reduced over features instead of the batch
    elif bug == "dropped-mean-term":
        dx = inv_std * (dxhat - xhat * (dxhat * xhat).mean(0, keepdims=True))
    else:
        dx = _norm_backward(dxhat, xhat, inv_std, 0)
    return {"x": dx, "gamma": (C["R"] * xhat).sum(0), "beta": C["R"].sum(0)}


def _bn_torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.batch_norm(P["x"], None, None, P["gamma"], P["beta"], training=True, eps=EPS)).sum()


register(
    Layer(
        "batchnorm",
        _bn_setup,
        _bn_forward,
        _bn_backward,
        _bn_torch,
        {
            "wrong-axis": "the backward reduces over the feature axis instead of the batch axis",
            "dropped-mean-term": "the −mean(dx̂) term of the backward dropped",
        },
    )
)


# -- layer norm over the last axis of an (N, D) activation -----------------------------------------
def _ln_setup(rng, size):
    n, d = (4, 6) if size == "small" else (16, 16)
    params = {"x": 3.0 * rng.normal(size=(n, d)), "gamma": 1.0 + 0.2 * rng.normal(size=d), "beta": rng.normal(size=d)}
    return params, {"R": rng.normal(size=(n, d))}


def _ln_forward(P, C):
    xhat, _ = _bn_parts(P["x"], 1)
    return np.sum(C["R"] * (P["gamma"] * xhat + P["beta"]))


def _ln_backward(P, C, bug):
    # the ε-bug: the backward recomputes the statistics without the ε the forward adds
    xhat, inv_std = _bn_parts(P["x"], 1, 0.0 if bug == "dropped-eps" else EPS)
    dxhat = C["R"] * P["gamma"]
    if bug == "wrong-axis":
        dx = _norm_backward(dxhat, xhat, inv_std, 0) if xhat.shape[0] > 1 else dxhat * 0
    else:
        dx = _norm_backward(dxhat, xhat, inv_std, 1)
    return {"x": dx, "gamma": (C["R"] * xhat).sum(0), "beta": C["R"].sum(0)}


def _ln_torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.layer_norm(P["x"], (P["x"].shape[-1],), P["gamma"], P["beta"], eps=EPS)).sum()


register(
    Layer(
        "layernorm",
        _ln_setup,
        _ln_forward,
        _ln_backward,
        _ln_torch,
        {
            "dropped-eps": "the backward normalises by √var instead of √(var + ε) (a ~1e-6 relative error)",
            "wrong-axis": "the backward's reductions run over the batch axis instead of the features",
        },
    )
)

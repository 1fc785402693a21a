"""Spatial layers in the im2col style: conv2d (padding, stride) + tanh, max-pool and avg-pool with padding."""

from __future__ import annotations

import functools

import numpy as np

from tests.corpus.base import Layer, register


@functools.lru_cache(maxsize=64)  # index arrays depend on shapes only, as libraries cache them
def _indices(C, H, W, k, s, p):
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    i0 = np.tile(np.repeat(np.arange(k), k), C)
    i1 = s * np.repeat(np.arange(Ho), Wo)
    j0 = np.tile(np.arange(k), k * C)
    j1 = s * np.tile(np.arange(Wo), Ho)
    i = i0[:, None] + i1[None, :]
    j = j0[:, None] + j1[None, :]
    c = np.repeat(np.arange(C), k * k)[:, None]
    return c, i, j, Ho, Wo


def im2col(x, k, s, p, fill=0.0):
    """(N, C·k·k, Ho·Wo) patches of x padded by p with ``fill``."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    c, i, j, Ho, Wo = _indices(C, H, W, k, s, p)
    return xp[:, c, i, j], Ho, Wo


def col2im(cols, shape, k, s, p):
    """The adjoint of :func:`im2col`: scatter-add patches back, crop the padding."""
    N, C, H, W = shape
    xp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=cols.dtype)
    c, i, j, _, _ = _indices(C, H, W, k, s, p)
    np.add.at(xp, (slice(None), c, i, j), cols)
    return xp[:, :, p : H + p, p : W + p]


# -- conv2d (stride 2, padding 1) followed by tanh ---------------------------------------------------
K, S, PAD = 3, 2, 1


def _conv_setup(rng, size):
    (n, c, h, w), f = ((2, 3, 7, 7), 4) if size == "small" else ((4, 3, 16, 16), 8)
    ho = (h + 2 * PAD - K) // S + 1
    params = {
        "x": rng.normal(size=(n, c, h, w)),
        "W": rng.normal(size=(f, c, K, K)) / np.sqrt(c * K * K),
        "b": 0.1 * rng.normal(size=f),
    }
    return params, {"R": rng.normal(size=(n, f, ho, ho))}


def _conv_pre(P):
    cols, Ho, Wo = im2col(P["x"], K, S, PAD)
    F = P["W"].shape[0]
    z = np.einsum("fk,nkl->nfl", P["W"].reshape(F, -1), cols) + P["b"][None, :, None]
    return cols, z.reshape(len(P["x"]), F, Ho, Wo)


def _conv_forward(P, C):
    _, z = _conv_pre(P)
    return np.sum(C["R"] * np.tanh(z))


def _conv_backward(P, C, bug):
    cols, z = _conv_pre(P)
    y = np.tanh(z)
    if bug == "no-tanh-derivative":
        dz = C["R"]
    elif bug == "tanh-derivative-at-preactivation":
        dz = C["R"] * (1 - z**2)
    else:
        dz = C["R"] * (1 - y**2)
    F = P["W"].shape[0]
    dzf = dz.reshape(len(dz), F, -1)
    dW = np.einsum("nfl,nkl->fk", dzf, cols).reshape(P["W"].shape)
    dcols = np.einsum("fk,nfl->nkl", P["W"].reshape(F, -1), dzf)
    return {"x": col2im(dcols, P["x"].shape, K, S, PAD), "W": dW, "b": dz.sum((0, 2, 3))}


def _conv_torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.conv2d(P["x"], P["W"], P["b"], stride=S, padding=PAD).tanh()).sum()


register(
    Layer(
        "conv2d",
        _conv_setup,
        _conv_forward,
        _conv_backward,
        _conv_torch,
        {
            "no-tanh-derivative": "the tanh derivative dropped after the convolution",
            "tanh-derivative-at-preactivation": "1 − z² (pre-activation) instead of 1 − tanh(z)²",
        },
    )
)


# -- pooling: window 3, stride 2, padding 1 ------------------------------------------------------------
def _pool_setup(rng, size):
    shape = (2, 3, 6, 6) if size == "small" else (4, 4, 14, 14)
    x = rng.normal(size=shape) - 0.5
    x[0, 0, :2, :2] = -np.abs(x[0, 0, :2, :2]) - 0.1  # an all-negative corner window: the border bug bites
    ho = (shape[2] + 2 * PAD - K) // S + 1
    return {"x": x}, {"R": rng.normal(size=(*shape[:2], ho, ho))}


def _pool_cols(x, fill):
    N, C, H, W = x.shape
    cols, Ho, Wo = im2col(x.reshape(N * C, 1, H, W), K, S, PAD, fill)
    return cols, Ho, Wo


def _maxpool_forward(P, C):
    cols, Ho, Wo = _pool_cols(P["x"], -np.inf)
    return np.sum(C["R"] * cols.max(axis=1).reshape(C["R"].shape))


def _maxpool_backward(P, C, bug):
    x = P["x"]
    N, Ch, H, W = x.shape
    # the border bug: argmax over the zero-padded input, while the forward pads with −∞
    cols, Ho, Wo = _pool_cols(x, 0.0 if bug == "zero-padded-argmax" else -np.inf)
    arg = cols.argmax(axis=1)
    dcols = np.zeros_like(cols)
    R = C["R"].reshape(N * Ch, Ho * Wo)
    np.put_along_axis(dcols, arg[:, None, :], R[:, None, :], axis=1)
    return {"x": col2im(dcols, (N * Ch, 1, H, W), K, S, PAD).reshape(x.shape)}


def _maxpool_torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.max_pool2d(P["x"], K, stride=S, padding=PAD)).sum()


register(
    Layer(
        "maxpool",
        _pool_setup,
        _maxpool_forward,
        _maxpool_backward,
        _maxpool_torch,
        {"zero-padded-argmax": "the backward's argmax reads a zero-padded input while the forward pads with −∞"},
        kinks=True,
    )
)


def _counts(x):
    N, C, H, W = x.shape
    ones, _, _ = im2col(np.ones((1, 1, H, W), dtype=x.dtype), K, S, PAD)
    return ones.sum(axis=1)[0]  # real entries per window (padding not counted)


def _avgpool_forward(P, C):
    cols, Ho, Wo = _pool_cols(P["x"], 0.0)
    return np.sum(C["R"] * (cols.sum(axis=1) / _counts(P["x"])).reshape(C["R"].shape))


def _avgpool_backward(P, C, bug):
    x = P["x"]
    N, Ch, H, W = x.shape
    R = C["R"].reshape(N * Ch, 1, -1)
    denom = K * K if bug == "padding-counted" else _counts(x)
    dcols = np.broadcast_to(R / denom, (N * Ch, K * K, R.shape[-1]))
    return {"x": col2im(np.ascontiguousarray(dcols), (N * Ch, 1, H, W), K, S, PAD).reshape(x.shape)}


def _avgpool_torch(P, C):
    import torch.nn.functional as F

    return (C["R"] * F.avg_pool2d(P["x"], K, stride=S, padding=PAD, count_include_pad=False)).sum()


register(
    Layer(
        "avgpool",
        _pool_setup,
        _avgpool_forward,
        _avgpool_backward,
        _avgpool_torch,
        {"padding-counted": "the backward divides by k² (padding counted) while the forward does not"},
    )
)

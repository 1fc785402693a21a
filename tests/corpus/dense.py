"""Dense layers: linear, a tanh MLP with a squared-error loss, dropout with a fixed mask, embedding."""

from __future__ import annotations

import numpy as np

from tests.corpus.base import Layer, register


def _pick(size: str, small, large):
    return small if size == "small" else large


# -- linear: x @ W + b, projected on a fixed upstream gradient R ------------------------------------
def _linear_setup(rng, size):
    n, i, o = _pick(size, (4, 5, 3), (16, 20, 10))
    params = {"x": rng.normal(size=(n, i)), "W": rng.normal(size=(i, o)) / np.sqrt(i), "b": rng.normal(size=o)}
    return params, {"R": rng.normal(size=(n, o))}


def _linear_forward(P, C):
    return np.sum(C["R"] * (P["x"] @ P["W"] + P["b"]))


def _linear_backward(P, C, bug):
    R = C["R"]
    g = {"x": R @ P["W"].T, "W": P["x"].T @ R, "b": R.sum(0)}
    if bug == "bias-mean":  # db averaged over the batch instead of summed
        g["b"] = R.mean(0)
    elif bug == "sign-W":
        g["W"] = -g["W"]
    return g


register(
    Layer(
        "linear",
        _linear_setup,
        _linear_forward,
        _linear_backward,
        lambda P, C: (C["R"] * (P["x"] @ P["W"] + P["b"])).sum(),
        {"bias-mean": "db = mean of the upstream gradient instead of its sum", "sign-W": "dW with a flipped sign"},
    )
)


# -- MLP: tanh hidden layer, linear output, ½·mean squared error ------------------------------------
def _mlp_setup(rng, size):
    n, i, h, o = _pick(size, (6, 4, 5, 2), (24, 12, 16, 6))
    params = {
        "W1": rng.normal(size=(i, h)) / np.sqrt(i),
        "b1": 0.1 * rng.normal(size=h),
        "W2": rng.normal(size=(h, o)) / np.sqrt(h),
        "b2": 0.1 * rng.normal(size=o),
    }
    return params, {"X": rng.normal(size=(n, i)), "T": rng.normal(size=(n, o))}


def _mlp_parts(P, C):
    Z = C["X"] @ P["W1"] + P["b1"]
    A = np.tanh(Z)
    return Z, A, A @ P["W2"] + P["b2"]


def _mlp_forward(P, C):
    *_, O = _mlp_parts(P, C)
    return 0.5 * np.sum((O - C["T"]) ** 2) / len(C["X"])


def _mlp_backward(P, C, bug):
    Z, A, O = _mlp_parts(P, C)
    n = len(C["X"])
    dO = (O - C["T"]) if bug == "sum-not-mean" else (O - C["T"]) / n
    dA = dO @ P["W2"].T
    if bug == "no-tanh-derivative":
        dZ = dA
    elif bug == "tanh-derivative-at-preactivation":
        dZ = dA * (1 - Z**2)
    else:
        dZ = dA * (1 - A**2)
    return {"W1": C["X"].T @ dZ, "b1": dZ.sum(0), "W2": A.T @ dO, "b2": dO.sum(0)}


def _mlp_torch(P, C):
    A = (C["X"] @ P["W1"] + P["b1"]).tanh()
    return 0.5 * ((A @ P["W2"] + P["b2"] - C["T"]) ** 2).sum() / len(C["X"])


register(
    Layer(
        "mlp",
        _mlp_setup,
        _mlp_forward,
        _mlp_backward,
        _mlp_torch,
        {
            "no-tanh-derivative": "the tanh derivative dropped from the hidden layer's backward",
            "tanh-derivative-at-preactivation": "1 − z² (pre-activation) instead of 1 − tanh(z)²",
            "sum-not-mean": "the loss is a batch mean but the backward sums",
        },
    )
)


# -- dropout with a fixed mask (inverted dropout, p = 0.3), then tanh --------------------------------
DROP = 0.3


def _dropout_setup(rng, size):
    shape = _pick(size, (4, 6), (16, 15))
    mask = (rng.random(shape) >= DROP).astype(float)
    return {"x": rng.normal(size=shape)}, {"mask": mask, "R": rng.normal(size=shape)}


def _dropout_forward(P, C):
    return np.sum(C["R"] * np.tanh(P["x"] * C["mask"] / (1 - DROP)))


def _dropout_backward(P, C, bug):
    y = np.tanh(P["x"] * C["mask"] / (1 - DROP))
    dy = C["R"] * (1 - y**2)
    scale = 1.0 if bug == "no-rescale" else 1.0 / (1 - DROP)
    return {"x": dy * C["mask"] * scale}


register(
    Layer(
        "dropout",
        _dropout_setup,
        _dropout_forward,
        _dropout_backward,
        lambda P, C: (C["R"] * (P["x"] * C["mask"] / (1 - DROP)).tanh()).sum(),
        {"no-rescale": "the 1/(1 − p) of inverted dropout forgotten in the backward"},
    )
)


# -- embedding lookup with repeated ids, then a tanh projection ------------------------------------
def _embedding_setup(rng, size):
    vocab, dim, n, out = _pick(size, (6, 4, 10, 3), (40, 12, 60, 8))
    ids = rng.integers(0, vocab, n)
    ids[: n // 3] = ids[0]  # repeated ids guaranteed: the scatter bug always has an effect
    rng.shuffle(ids)
    params = {"E": rng.normal(size=(vocab, dim)), "W": rng.normal(size=(dim, out)) / np.sqrt(dim)}
    return params, {"ids": ids, "R": rng.normal(size=(n, out))}


def _embedding_forward(P, C):
    return np.sum(C["R"] * np.tanh(P["E"][C["ids"]] @ P["W"]))


def _embedding_backward(P, C, bug):
    h = P["E"][C["ids"]]
    y = np.tanh(h @ P["W"])
    dz = C["R"] * (1 - y**2)
    dh = dz @ P["W"].T
    dE = np.zeros_like(P["E"])
    if bug == "fancy-index-scatter":
        dE[C["ids"]] += dh  # buffered: a repeated id keeps only its last row
    else:
        np.add.at(dE, C["ids"], dh)
    return {"E": dE, "W": h.T @ dz}


register(
    Layer(
        "embedding",
        _embedding_setup,
        _embedding_forward,
        _embedding_backward,
        lambda P, C: (C["R"] * (P["E"][C["ids"]] @ P["W"]).tanh()).sum(),
        {"fancy-index-scatter": "dE[ids] += dh with repeated ids (NumPy buffers it: repeats are lost)"},
    )
)

"""Hand-written forward/backward pairs, correct and buggy, shared by the check_gradient tests."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(1234)
B, D, H, K = 16, 5, 4, 3
X = RNG.normal(size=(B, D))
Y = RNG.normal(size=(B, K))
LABELS = np.eye(K)[RNG.integers(0, K, B)]


def linear_params(dtype=np.float64):
    rng = np.random.default_rng(7)
    return {"W": rng.normal(size=(D, K)).astype(dtype), "b": rng.normal(size=K).astype(dtype)}


# -- ½·mean squared error of a linear model --------------------------------------------------------
def mse_loss(p):
    R = X @ p["W"] + p["b"] - Y
    return 0.5 * np.sum(R * R) / B


def mse_grad(p):
    R = X @ p["W"] + p["b"] - Y
    return {"W": X.T @ R / B, "b": R.sum(0) / B}


def mse_grad_sign(p):
    g = mse_grad(p)
    return {"W": -g["W"], "b": g["b"]}


def mse_grad_sum(p):  # sum instead of mean over the batch
    R = X @ p["W"] + p["b"] - Y
    return {"W": X.T @ R, "b": R.sum(0) / B}


def mse_grad_half(p):  # the ½ dropped in the backward: d(½r²) taken as 2r
    g = mse_grad(p)
    return {"W": 2 * g["W"], "b": g["b"]}


def mse_grad_zero_b(p):
    g = mse_grad(p)
    return {"W": g["W"], "b": np.zeros_like(g["b"])}


# -- weight decay: loss + (λ/2)‖W‖², gradient + λW ------------------------------------------------
LAM = 0.3


def wd_loss(p):
    return mse_loss(p) + 0.5 * LAM * np.sum(p["W"] ** 2)


def wd_grad(p):
    g = mse_grad(p)
    return {"W": g["W"] + LAM * p["W"], "b": g["b"]}


def wd_grad_half(p):  # λ/2 instead of λ
    g = mse_grad(p)
    return {"W": g["W"] + 0.5 * LAM * p["W"], "b": g["b"]}


# -- square weight: transposed gradient -----------------------------------------------------------
XS = RNG.normal(size=(B, K))


def sq_loss(p):
    R = XS @ p["W"] - Y
    return 0.5 * np.sum(R * R) / B


def sq_grad(p):
    return {"W": XS.T @ (XS @ p["W"] - Y) / B}


def sq_grad_t(p):
    return {"W": (XS.T @ (XS @ p["W"] - Y) / B).T}


def sq_params():
    return {"W": np.random.default_rng(3).normal(size=(K, K))}


# -- softmax cross-entropy on logits -------------------------------------------------------------
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ce_loss(z):
    s = softmax(z)
    return -np.sum(LABELS * np.log(np.clip(s, 1e-300, None))) / B


def ce_loss_stable(z):  # log-softmax, safe for logits ±50
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.sum(LABELS * logp) / B


def ce_grad(z):
    return (softmax(z) - LABELS) / B


def ce_grad_ssb(z):  # the (s − y)·s·(1 − s) mistake
    s = softmax(z)
    return (s - LABELS) * s * (1 - s) / B


def logits():
    return np.random.default_rng(5).normal(size=(B, K)) * 2


# -- two-layer MLP: tanh hidden layer, sigmoid output, ½ squared error ---------------------------
def mlp_params(dtype=np.float64):
    rng = np.random.default_rng(11)
    return {
        "W1": (rng.normal(size=(D, H)) * 0.7).astype(dtype),
        "W2": (rng.normal(size=(H, 1)) * 0.7).astype(dtype),
    }


T = (RNG.random((B, 1)) > 0.5).astype(float)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def mlp_forward(p):
    Z1 = X @ p["W1"]
    A1 = np.tanh(Z1)
    Z2 = A1 @ p["W2"]
    return Z1, A1, Z2, sigmoid(Z2)


def mlp_loss(p):
    *_, O = mlp_forward(p)
    return 0.5 * np.sum((O - T) ** 2) / B


def _mlp_backward(p, dact1, dact2):
    Z1, A1, Z2, O = mlp_forward(p)
    dO = (O - T) / B
    dZ2 = dO * dact2(Z2, O)
    dA1 = dZ2 @ p["W2"].T
    dZ1 = dA1 * dact1(Z1, A1)
    return {"W1": X.T @ dZ1, "W2": A1.T @ dZ2}


def mlp_grad(p):
    return _mlp_backward(p, lambda z, a: 1 - a**2, lambda z, o: o * (1 - o))


def mlp_grad_no_act(p):  # the sigmoid derivative forgotten
    return _mlp_backward(p, lambda z, a: 1 - a**2, lambda z, o: np.ones_like(o))


def mlp_grad_wrong_tensor(p):  # tanh' taken at the pre-activation: 1 − z² instead of 1 − tanh(z)²
    return _mlp_backward(p, lambda z, a: 1 - z**2, lambda z, o: o * (1 - o))

"""Elementwise activations y = act(x), projected on a fixed upstream gradient R."""

from __future__ import annotations

import math

import numpy as np

from tests.corpus.base import Layer, register

_ERF = np.frompyfunc(math.erf, 1, 1)
SQRT_2_PI = math.sqrt(2.0 / math.pi)
GELU_C = 0.044715
LEAK = 0.01


def erf(x):
    return _ERF(x).astype(x.dtype)


def _gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_grad(x):
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_PI * (x + GELU_C * x**3)))


def _gelu_tanh_grad(x):
    t = np.tanh(SQRT_2_PI * (x + GELU_C * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_PI * (1.0 + 3.0 * GELU_C * x * x)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


# name -> (forward, derivative, bugs {name: (derivative, description)}, torch op, kinks)
ACTIVATIONS = {
    "relu": (
        lambda x: np.maximum(x, 0),
        lambda x: (x > 0).astype(x.dtype),
        {"no-derivative": (lambda x: np.ones_like(x), "the ReLU mask left out: the gradient passes everywhere")},
        lambda F, x: F.relu(x),
        True,
    ),
    "leaky_relu": (
        lambda x: np.where(x > 0, x, LEAK * x),
        lambda x: np.where(x > 0, 1.0, LEAK).astype(x.dtype),
        {"relu-derivative": (lambda x: (x > 0).astype(x.dtype), "slope 0 instead of 0.01 for negative inputs")},
        lambda F, x: F.leaky_relu(x, LEAK),
        True,
    ),
    "gelu": (
        _gelu,
        _gelu_grad,
        {"tanh-form-derivative": (_gelu_tanh_grad, "the tanh approximation's derivative for the exact GELU")},
        lambda F, x: F.gelu(x),
        False,
    ),
    "gelu_tanh": (
        _gelu_tanh,
        _gelu_tanh_grad,
        {"exact-form-derivative": (_gelu_grad, "the exact GELU's derivative for the tanh approximation")},
        lambda F, x: F.gelu(x, approximate="tanh"),
        False,
    ),
    "tanh": (
        np.tanh,
        lambda x: 1.0 - np.tanh(x) ** 2,
        {"derivative-at-input": (lambda x: 1.0 - x**2, "1 − x² instead of 1 − tanh(x)²")},
        lambda F, x: x.tanh(),
        False,
    ),
    "sigmoid": (
        _sigmoid,
        lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)),
        {
            "derivative-at-input": (lambda x: x * (1.0 - x), "x(1 − x) instead of σ(x)(1 − σ(x))"),
            "no-derivative": (lambda x: np.ones_like(x), "σ' left out"),
        },
        lambda F, x: x.sigmoid(),
        False,
    ),
    "softplus": (
        lambda x: np.logaddexp(np.zeros_like(x), x),
        _sigmoid,
        {"sigmoid-of-minus-x": (lambda x: _sigmoid(-x), "σ(−x) instead of σ(x)")},
        lambda F, x: F.softplus(x),
        False,
    ),
}


def _make(name, fwd, deriv, bugs, torch_op, kinks):
    def setup(rng, size):
        shape = (4, 5) if size == "small" else (20, 10)
        return {"x": 1.5 * rng.normal(size=shape)}, {"R": rng.normal(size=shape)}

    def forward(P, C):
        return np.sum(C["R"] * fwd(P["x"]))

    def backward(P, C, bug):
        d = bugs[bug][0] if bug else deriv
        return {"x": C["R"] * d(P["x"])}

    def torch_forward(P, C):
        import torch.nn.functional as F

        return (C["R"] * torch_op(F, P["x"])).sum()

    return Layer(name, setup, forward, backward, torch_forward, {k: v[1] for k, v in bugs.items()}, kinks)


for _name, _spec in ACTIVATIONS.items():
    register(_make(_name, *_spec))

"""Recurrent layers unrolled over T steps, backpropagated through time: a tanh RNN and an LSTM."""

from __future__ import annotations

import numpy as np

from tests.corpus.base import Layer, register


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# -- tanh RNN: h_t = tanh(x_t Wx + h_{t−1} Wh + b), h_0 = 0 --------------------------------------------
def _rnn_setup(rng, size):
    t, n, d, h = (4, 2, 3, 4) if size == "small" else (10, 4, 6, 8)
    params = {
        "x": rng.normal(size=(t, n, d)),
        "Wx": rng.normal(size=(d, h)) / np.sqrt(d),
        "Wh": 0.9 * rng.normal(size=(h, h)) / np.sqrt(h),
        "b": 0.1 * rng.normal(size=h),
    }
    return params, {"R": rng.normal(size=(t, n, h))}


def _rnn_states(P):
    x = P["x"]
    hs = [np.zeros((x.shape[1], P["Wh"].shape[0]), dtype=x.dtype)]
    for t in range(len(x)):
        hs.append(np.tanh(x[t] @ P["Wx"] + hs[-1] @ P["Wh"] + P["b"]))
    return hs


def _rnn_forward(P, C):
    hs = _rnn_states(P)
    return sum(np.sum(C["R"][t] * hs[t + 1]) for t in range(len(P["x"])))


def _rnn_backward(P, C, bug):
    hs = _rnn_states(P)
    x = P["x"]
    g = {k: np.zeros_like(v) for k, v in P.items()}
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(len(x))):
        dh = C["R"][t] + dh_next
        da = dh if bug == "no-tanh-derivative" else dh * (1 - hs[t + 1] ** 2)
        g["Wx"] += x[t].T @ da
        # the off-by-one bug: the state after step t instead of the one before it
        g["Wh"] += (hs[t + 1] if bug == "off-by-one-step" else hs[t]).T @ da
        g["b"] += da.sum(0)
        g["x"][t] = da @ P["Wx"].T
        dh_next = da @ P["Wh"].T
    return g


def _rnn_torch(P, C):
    import torch

    h = torch.zeros(P["x"].shape[1], P["Wh"].shape[0], dtype=P["x"].dtype)
    total = 0
    for t in range(P["x"].shape[0]):
        h = torch.rnn_tanh_cell(P["x"][t], h, P["Wx"].T, P["Wh"].T, P["b"], torch.zeros_like(P["b"]))
        total = total + (C["R"][t] * h).sum()
    return total


register(
    Layer(
        "rnn",
        _rnn_setup,
        _rnn_forward,
        _rnn_backward,
        _rnn_torch,
        {
            "off-by-one-step": "dWh accumulates h_t ⊗ da_t instead of h_{t−1} ⊗ da_t",
            "no-tanh-derivative": "the tanh derivative dropped in backpropagation through time",
        },
    )
)


# -- LSTM cell unrolled: gates i, f, g, o from x_t Wx + h_{t−1} Wh + b -------------------------------
def _lstm_setup(rng, size):
    t, n, d, h = (3, 2, 3, 3) if size == "small" else (6, 4, 6, 8)
    params = {
        "x": rng.normal(size=(t, n, d)),
        "Wx": rng.normal(size=(d, 4 * h)) / np.sqrt(d),
        "Wh": rng.normal(size=(h, 4 * h)) / np.sqrt(h),
        "b": 0.1 * rng.normal(size=4 * h),
    }
    return params, {"R": rng.normal(size=(t, n, h))}


def _lstm_states(P):
    x = P["x"]
    H = P["Wh"].shape[0]
    h = np.zeros((x.shape[1], H), dtype=x.dtype)
    c = np.zeros_like(h)
    steps = []
    for t in range(len(x)):
        z = x[t] @ P["Wx"] + h @ P["Wh"] + P["b"]
        i, f, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H : 2 * H]), _sigmoid(z[:, 3 * H :])
        g = np.tanh(z[:, 2 * H : 3 * H])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        steps.append((h, c, i, f, g, o, c_new, h_new))
        h, c = h_new, c_new
    return steps


def _lstm_forward(P, C):
    steps = _lstm_states(P)
    return sum(np.sum(C["R"][t] * s[-1]) for t, s in enumerate(steps))


def _lstm_backward(P, C, bug):
    steps = _lstm_states(P)
    x = P["x"]
    g_ = {k: np.zeros_like(v) for k, v in P.items()}
    dh_next = np.zeros_like(steps[0][0])
    dc_next = np.zeros_like(dh_next)
    for t in reversed(range(len(x))):
        h_prev, c_prev, i, f, g, o, c, h = steps[t]
        tc = np.tanh(c)
        dh = C["R"][t] + dh_next
        do = dh * tc
        # the wrong-tensor bug: tanh's derivative at its input c instead of through tanh(c)
        dtanh = (1 - c**2) if bug == "tanh-derivative-at-preactivation" else (1 - tc**2)
        dc = dc_next + dh * o * dtanh
        di, dg = dc * g, dc * i
        df = dc * (c if bug == "forget-gate-current-cell" else c_prev)
        dc_next = dc * f
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1)
        g_["Wx"] += x[t].T @ dz
        g_["Wh"] += h_prev.T @ dz
        g_["b"] += dz.sum(0)
        g_["x"][t] = dz @ P["Wx"].T
        dh_next = dz @ P["Wh"].T
    return g_


def _lstm_torch(P, C):
    import torch

    H = P["Wh"].shape[0]
    h = torch.zeros(P["x"].shape[1], H, dtype=P["x"].dtype)
    c = torch.zeros_like(h)
    total = 0
    for t in range(P["x"].shape[0]):
        h, c = torch.lstm_cell(P["x"][t], (h, c), P["Wx"].T, P["Wh"].T, P["b"], torch.zeros_like(P["b"]))
        total = total + (C["R"][t] * h).sum()
    return total


register(
    Layer(
        "lstm",
        _lstm_setup,
        _lstm_forward,
        _lstm_backward,
        _lstm_torch,
        {
            "tanh-derivative-at-preactivation": "1 − c² instead of 1 − tanh(c)² for h = o·tanh(c)",
            "forget-gate-current-cell": "df uses the new cell state c_t instead of c_{t−1}",
        },
    )
)

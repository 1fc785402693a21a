"""Layers as custom ``torch.autograd.Function``s with hand-written backwards, correct and buggy.

What ``gradcheck`` is for: softmax cross-entropy with per-sample losses, layer norm, conv2d via
``unfold``, an LSTM cell.  Each layer has ``make(size, seed)`` → (inputs tuple, constants), and
``function(bug)`` → a callable of the inputs; ``bug=None`` is the correct backward.  Used by the
tests and by ``benchmarks/bench_gradcheck.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

ENTRY_OFF = 1e-4  # relative size of the "one entry off" bugs


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _off(t: torch.Tensor, index: tuple[int, ...]) -> torch.Tensor:
    t = t.clone()
    t[index] = t[index] * (1 + ENTRY_OFF)
    return t


# ------------------------------------------------------------------- softmax cross-entropy
def softmax_ce(bug: str | None) -> Callable:
    class SoftmaxCE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, y):
            s = torch.softmax(z, dim=1)
            ctx.save_for_backward(s, y)
            return -(y * torch.log_softmax(z, dim=1)).sum(1)  # one loss per sample

        @staticmethod
        def backward(ctx, g):
            s, y = ctx.saved_tensors
            d = s - y
            if bug == "sign flip":
                d = -d
            elif bug == "(s−y)·s·(1−s)":
                d = d * s * (1 - s)
            elif bug == "grad_output ignored":
                return d, None
            grad = d * g[:, None]
            if bug == "one entry 1e-4 off":
                grad = _off(grad, (1, 2))
            return grad, None

    def run(z, y):
        return SoftmaxCE.apply(z, y)

    return run


def softmax_ce_inputs(size: tuple[int, int], seed: int):
    b, c = size
    gen = _gen(seed)
    z = (torch.randn(b, c, generator=gen, dtype=torch.float64) * 2).requires_grad_()
    y = F.one_hot(torch.randint(0, c, (b,), generator=gen), c).double()
    return (z, y)


# ------------------------------------------------------------------------------ layer norm
def layer_norm(bug: str | None) -> Callable:
    eps = 1e-5

    class LayerNorm(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, gamma, beta):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            rstd = (var + eps).rsqrt()
            xhat = (x - mu) * rstd
            ctx.save_for_backward(xhat, rstd, gamma, var)
            return xhat * gamma + beta

        @staticmethod
        def backward(ctx, g):
            xhat, rstd, gamma, var = ctx.saved_tensors
            if bug == "dropped eps":
                rstd = var.rsqrt()
            dxhat = g * gamma
            n = xhat.shape[-1]
            if bug == "dropped mean term":
                dx = rstd * (dxhat - xhat * (dxhat * xhat).mean(-1, keepdim=True))
            else:
                dx = rstd * (dxhat - dxhat.mean(-1, keepdim=True) - xhat * (dxhat * xhat).sum(-1, keepdim=True) / n)
            dgamma = (g * xhat).sum(0)
            dbeta = g.sum(0) if bug != "beta: mean over the batch" else g.mean(0)
            if bug == "one entry 1e-4 off":
                dx = _off(dx, (1, 2))
            return dx, dgamma, dbeta

    return LayerNorm.apply


def layer_norm_inputs(size: tuple[int, int], seed: int):
    b, d = size
    gen = _gen(seed)
    x = (torch.randn(b, d, generator=gen, dtype=torch.float64) * 1.5 + 0.3).requires_grad_()
    gamma = (1 + 0.3 * torch.randn(d, generator=gen, dtype=torch.float64)).requires_grad_()
    beta = (0.3 * torch.randn(d, generator=gen, dtype=torch.float64)).requires_grad_()
    return (x, gamma, beta)


# ---------------------------------------------------------------------- conv2d via unfold
def conv2d(bug: str | None) -> Callable:
    class Conv2d(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            n, c, h, wd = x.shape
            o, _, k, _ = w.shape
            cols = F.unfold(x, k, padding=1)  # (n, c·k·k, L)
            out = w.reshape(o, -1) @ cols + b[None, :, None]  # (n, o, L)
            ctx.save_for_backward(cols, w)
            ctx.shape = (n, c, h, wd)
            return out.reshape(n, o, h, wd)

        @staticmethod
        def backward(ctx, g):
            cols, w = ctx.saved_tensors
            n, c, h, wd = ctx.shape
            o, _, k, _ = w.shape
            gm = g.reshape(n, o, -1)  # (n, o, L)
            if bug == "weight: first sample only":
                dw = (gm[:1] @ cols[:1].transpose(1, 2)).sum(0).reshape(w.shape)
            else:
                dw = (gm @ cols.transpose(1, 2)).sum(0).reshape(w.shape)
            dcols = w.reshape(o, -1).T @ gm  # (n, c·k·k, L)
            dx = F.fold(dcols, (h, wd), k, padding=1)
            db = gm.sum((0, 2)) if bug != "bias: mean over positions" else gm.mean(2).sum(0)
            if bug == "kernel not flipped (w transposed)":
                dx = F.fold(w.transpose(2, 3).reshape(o, -1).T @ gm, (h, wd), k, padding=1)
            if bug == "one entry 1e-4 off":
                dw = _off(dw, (1, 0, 2, 1))
            return dx, dw, db

    return Conv2d.apply


def conv2d_inputs(size: tuple[int, int, int, int], seed: int):
    n, c, hw, o = size
    gen = _gen(seed)
    x = torch.randn(n, c, hw, hw, generator=gen, dtype=torch.float64).requires_grad_()
    w = (torch.randn(o, c, 3, 3, generator=gen, dtype=torch.float64) * 0.3).requires_grad_()
    b = (torch.randn(o, generator=gen, dtype=torch.float64) * 0.1).requires_grad_()
    return (x, w, b)


# ------------------------------------------------------------------------------- LSTM cell
def lstm_cell(bug: str | None) -> Callable:
    class LSTMCell(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
            gates = x @ w_ih.T + h @ w_hh.T + b_ih + b_hh
            i, f, gg, o = gates.chunk(4, 1)
            i, f, gg, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(gg), torch.sigmoid(o)
            c2 = f * c + i * gg
            tc2 = torch.tanh(c2)
            h2 = o * tc2
            ctx.save_for_backward(x, h, c, w_ih, w_hh, i, f, gg, o, c2, tc2)
            return h2, c2

        @staticmethod
        def backward(ctx, dh2, dc2):
            x, h, c, w_ih, w_hh, i, f, gg, o, c2, tc2 = ctx.saved_tensors
            if bug == "tanh′ dropped on the cell path":
                dc = dc2 + dh2 * o
            else:
                dc = dc2 + dh2 * o * (1 - tc2**2)
            do = dh2 * tc2
            di = dc * gg
            dg = dc * i
            df = dc * (c2 if bug == "forget gate: c′ instead of c" else c)
            dgates = torch.cat(
                [di * i * (1 - i), df * f * (1 - f), dg * (1 - gg**2), do * o * (1 - o)], dim=1
            )
            dx = dgates @ w_ih
            dh = dgates @ w_hh
            dcprev = dc * f
            dw_ih = dgates.T @ x
            dw_hh = dgates.T @ h
            db = dgates.sum(0)
            db_hh = torch.zeros_like(db) if bug == "b_hh gradient zero" else db
            if bug == "one entry 1e-4 off":
                dw_hh = _off(dw_hh, (3, 1))
            return dx, dh, dcprev, dw_ih, dw_hh, db, db_hh

    return LSTMCell.apply


def lstm_inputs(size: tuple[int, int, int], seed: int):
    b, i_dim, h_dim = size
    gen = _gen(seed)

    def r(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).requires_grad_()

    return (
        r(b, i_dim),
        r(b, h_dim, scale=0.5),
        r(b, h_dim, scale=0.5),
        r(4 * h_dim, i_dim, scale=0.3),
        r(4 * h_dim, h_dim, scale=0.3),
        r(4 * h_dim, scale=0.1),
        r(4 * h_dim, scale=0.1),
    )


# --------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class TorchLayer:
    name: str
    function: Callable[[str | None], Callable]
    inputs: Callable[[tuple, int], tuple]
    sizes: dict[str, tuple]
    bugs: list[str] = field(default_factory=list)


LAYERS = {
    layer.name: layer
    for layer in [
        TorchLayer(
            "softmax-CE (per-sample)",
            softmax_ce,
            softmax_ce_inputs,
            {"small": (8, 10), "large": (64, 100)},
            ["sign flip", "(s−y)·s·(1−s)", "grad_output ignored", "one entry 1e-4 off"],
        ),
        TorchLayer(
            "layer norm",
            layer_norm,
            layer_norm_inputs,
            {"small": (8, 16), "large": (64, 64)},
            ["dropped mean term", "dropped eps", "beta: mean over the batch", "one entry 1e-4 off"],
        ),
        TorchLayer(
            "conv2d via unfold",
            conv2d,
            conv2d_inputs,
            {"small": (2, 3, 6, 4), "large": (4, 8, 12, 8)},
            ["weight: first sample only", "bias: mean over positions", "kernel not flipped (w transposed)",
             "one entry 1e-4 off"],
        ),
        TorchLayer(
            "LSTM cell",
            lstm_cell,
            lstm_inputs,
            {"small": (4, 8, 8), "large": (16, 32, 32)},
            ["tanh′ dropped on the cell path", "forget gate: c′ instead of c", "b_hh gradient zero",
             "one entry 1e-4 off"],
        ),
    ]
}


def n_inputs(inputs: tuple) -> int:
    return sum(t.numel() for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad)

"""Perturbed evaluations batched with ``torch.func.vmap`` (GPUs) against the loop (the CPU default).

On the CPU the batched path is forced by adding ``"cpu"`` to ``VMAP_DEVICES``: the two paths
must give the same verdicts, the batched one must really run (and evaluate the same points), and
code that vmap cannot run must fall back to the loop with the right verdict.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402
from gradproof import GradcheckFailure  # noqa: E402
from gradproof.verify import torch_function  # noqa: E402
from gradproof.verify.batching import BatchedLoss, Prefetching, compose, prefetch  # noqa: E402


def rand(*shape, seed=0, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device).requires_grad_()


class Tanh(torch.autograd.Function):
    """A new-style Function that vmap can run; ``scale`` ≠ 1 is a wrong backward."""

    generate_vmap_rule = True
    scale = 1.0

    @staticmethod
    def forward(x):
        return torch.tanh(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y) * Tanh.scale


class OldStyleTanh(torch.autograd.Function):
    """forward(ctx, …): vmap refuses it, so the engine must loop."""

    scale = 1.0

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y) * OldStyleTanh.scale


def layer(fn):
    return lambda x, w: fn.apply(x @ w)


@pytest.fixture
def spy(monkeypatch):
    """Force batching on the CPU and record (batch size, batched?) for every batch asked for."""
    monkeypatch.setattr(torch_function, "VMAP_DEVICES", frozenset({"cpu", "cuda"}))
    calls = []
    original = torch_function.TorchReduction.loss_batch

    def recording(self, points):
        out = original(self, points)
        calls.append((len(points), out is not None))
        return out

    monkeypatch.setattr(torch_function.TorchReduction, "loss_batch", recording)
    return calls


def test_cpu_default_is_the_loop():
    """Measured faster on the CPU (benchmarks/bench_vmap.py): no batching there by default."""
    assert "cpu" not in torch_function.VMAP_DEVICES
    red = torch_function.TorchReduction(lambda v: torch.tanh(v["x"]), {"x": rand(3)}, 0, "f")
    assert not red.vmap and not hasattr(red.loss, "batched")


@pytest.mark.parametrize("scale", [1.0, 1.001, -1.0], ids=["correct", "0.1% off", "sign"])
def test_batched_and_looped_verdicts_agree(spy, scale, monkeypatch):
    x, w = rand(16, 8), rand(8, 5, seed=1)
    monkeypatch.setattr(Tanh, "scale", scale)
    batched = gradproof.gradcheck(layer(Tanh), (x, w), raise_exception=False)
    assert spy and all(ok for _, ok in spy)  # the batched path really ran, every time
    assert any(n >= 4 for n, _ in spy)  # noise probes and directions, not only pairs
    monkeypatch.setattr(torch_function, "VMAP_DEVICES", frozenset())
    looped = gradproof.gradcheck(layer(Tanh), (x, w), raise_exception=False)
    assert batched == looped == (scale == 1.0)


def test_batched_values_equal_looped_values(spy):
    x = rand(6, 4)
    red = torch_function.TorchReduction(lambda v: Tanh.apply(v["x"]) * 3, {"x": x}, 0, "f")
    assert red.vmap and isinstance(red.loss, BatchedLoss)
    gen = torch.Generator().manual_seed(5)
    points = [{"x": x.detach() + 1e-3 * torch.randn(6, 4, generator=gen, dtype=torch.float64)} for _ in range(5)]
    batched = red.loss.batched(points)
    looped = [red.loss_one(p) for p in points]
    np.testing.assert_allclose(batched, looped, rtol=1e-14, atol=0)


def test_old_style_function_falls_back_to_the_loop(spy, monkeypatch):
    x, w = rand(16, 8), rand(8, 5, seed=1)
    assert gradproof.gradcheck(layer(OldStyleTanh), (x, w))
    assert spy and not spy[0][1]  # vmap refused …
    assert len(spy) == 1  # … once: from then on the engine loops without asking again
    monkeypatch.setattr(OldStyleTanh, "scale", 1.001)
    with pytest.raises(GradcheckFailure):
        gradproof.gradcheck(layer(OldStyleTanh), (x, w))


def test_code_vmap_cannot_trace_falls_back(spy):
    """.item() inside the function: vmap raises, the loop checks it."""

    def f(x):
        return torch.sin(x) * float(x.detach().sum().item() != 1e9)

    assert gradproof.gradcheck(f, (rand(5),))
    assert spy and not spy[0][1]


def test_random_function_is_refused_by_the_loop_not_hidden_by_vmap(spy):
    """vmap refuses random ops; the loop then finds the nondeterminism and says so."""

    def noisy(x):
        return x * (1 + 1e-3 * torch.rand(()))

    with pytest.raises(gradproof.InputError, match="nondeterministic"):
        gradproof.gradcheck(noisy, (rand(5),))


def test_nonfinite_batch_goes_to_the_loop_for_its_message(spy):
    """A point where the function overflows: the loop names the output, as without batching."""

    def f(x):
        return torch.where(x > 0.5, torch.full_like(x, float("inf")), x)

    x = torch.full((3,), 0.5, dtype=torch.float64, requires_grad=True)
    with pytest.raises(gradproof.InputError, match="finite"):
        gradproof.gradcheck(f, (x,))


def test_check_module_batches_too(spy):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3).double()

        def forward(self, x):
            return Tanh.apply(self.lin(x))

    torch.manual_seed(0)
    assert gradproof.check_module(Net(), rand(5, 4)).ok
    assert spy and all(ok for _, ok in spy)


# -- the prefetch helper on its own ------------------------------------------------------------------
def test_prefetched_values_are_handed_out_once():
    seen = []

    def one(a):
        seen.append(("one", float(a[0])))
        return float(a[0]) * 2

    def many(arrays):
        seen.append(("many", len(arrays)))
        return [float(a[0]) * 2 for a in arrays]

    f = Prefetching(one, many)
    pts = [np.array([1.0]), np.array([2.0]), np.array([1.0])]  # a repeat is evaluated once
    prefetch(f, lambda: pts)
    assert [f(p) for p in pts] == [2.0, 4.0, 2.0]
    assert seen == [("many", 2), ("one", 1.0)]  # the repeat's second call is a real call


def test_a_refused_batch_switches_to_one_at_a_time():
    asked = []
    f = Prefetching(lambda a: float(a.sum()), lambda arrays: asked.append(len(arrays)))  # returns None
    prefetch(f, [np.zeros(2), np.ones(2)])
    prefetch(f, [np.zeros(2), np.ones(2)])
    assert asked == [2] and f.many is None
    assert f(np.ones(2)) == 2.0


def test_plain_functions_and_single_points_are_not_batched():
    calls = []
    prefetch(lambda a: a, lambda: calls.append("built") or [])  # a plain function: nothing built
    f = Prefetching(lambda a: 0.0, lambda arrays: calls.append(len(arrays)) or [0.0] * len(arrays))
    prefetch(f, [np.zeros(3)])
    assert calls == []


def test_compose_keeps_the_batched_twin():
    loss = BatchedLoss(lambda v: v["a"] + 1, lambda vs: [v["a"] + 2 for v in vs])
    joined = compose(loss, lambda flat: {"a": flat})
    assert joined(1.0) == 2.0 and joined.batched([1.0, 2.0]) == [3.0, 4.0]
    assert not hasattr(compose(lambda v: v, lambda f: f), "batched")


# -- GPU -------------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_by_default(monkeypatch):
    calls = []
    original = torch_function.TorchReduction.loss_batch

    def recording(self, points):
        out = original(self, points)
        calls.append((len(points), out is not None))
        return out

    monkeypatch.setattr(torch_function.TorchReduction, "loss_batch", recording)
    x, w = rand(64, 32, device="cuda"), rand(32, 16, seed=1, device="cuda")
    assert gradproof.gradcheck(layer(Tanh), (x, w))
    assert calls and all(ok for _, ok in calls)
    monkeypatch.setattr(Tanh, "scale", 1.001)
    with pytest.raises(GradcheckFailure):
        gradproof.gradcheck(layer(Tanh), (x, w))

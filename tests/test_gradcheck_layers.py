"""The benchmark's custom-Function layers: validated against autograd, and every bug caught."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

import gradproof  # noqa: E402

from . import torch_layers as tl  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _reference(name, inputs):
    """The same layer from torch's own differentiable ops."""
    if name.startswith("softmax"):
        z, y = inputs
        return (-(y * torch.log_softmax(z, 1)).sum(1),)
    if name == "layer norm":
        x, g, b = inputs
        return (F.layer_norm(x, x.shape[-1:], g, b, 1e-5),)
    if name.startswith("conv2d"):
        x, w, b = inputs
        return (F.conv2d(x, w, b, padding=1),)
    x, h, c, w_ih, w_hh, b_ih, b_hh = inputs
    cell = torch._VF.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return tuple(cell)


@pytest.mark.parametrize("name", sorted(tl.LAYERS))
def test_hand_written_backward_matches_autograd(name):
    layer = tl.LAYERS[name]
    inputs = layer.inputs(layer.sizes["small"], 0)
    ours = layer.function(None)(*inputs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    ref = _reference(name, inputs)
    gen = torch.Generator().manual_seed(1)
    cot = [torch.randn(o.shape, generator=gen, dtype=o.dtype) for o in ours]
    diff = [t for t in inputs if t.requires_grad]
    got = torch.autograd.grad(ours, diff, cot)
    want = torch.autograd.grad(ref, diff, cot)
    for o, r in zip(ours, ref):
        torch.testing.assert_close(o, r, rtol=1e-12, atol=1e-12)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


CASES = [(name, bug) for name in sorted(tl.LAYERS) for bug in [None, *tl.LAYERS[name].bugs]]


@pytest.mark.parametrize("name,bug", CASES, ids=[f"{n}/{b or 'correct'}" for n, b in CASES])
def test_gradproof_gradcheck_on_the_layers(name, bug):
    layer = tl.LAYERS[name]
    inputs = layer.inputs(layer.sizes["small"], 0)
    ok = gradproof.gradcheck(layer.function(bug), inputs, raise_exception=False)
    assert ok is (bug is None)

"""check_module: the parameters and inputs of a module with hand-written backwards."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402
from gradproof import InputError  # noqa: E402

from . import torch_doc_functions as d  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Linear(torch.nn.Module):
    """The docs' Linear module around a custom Function."""

    def __init__(self, i, o, fn=d.LinearFunction, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(o, i, generator=gen) * 0.3)
        self.bias = torch.nn.Parameter(torch.randn(o, generator=gen) * 0.1)
        self.fn = fn

    def forward(self, x):
        return self.fn.apply(x, self.weight, self.bias)


class Encoder(torch.nn.Module):
    def __init__(self, last=d.LinearFunction):
        super().__init__()
        self.layers = torch.nn.ModuleList([Linear(4, 6, seed=1), Linear(6, 3, last, seed=2)])
        self.norm = torch.nn.BatchNorm1d(6)

    def forward(self, x):
        return self.layers[1](torch.tanh(self.norm(self.layers[0](x))))


class Net(torch.nn.Module):
    def __init__(self, last=d.LinearFunction, p=0.3):
        super().__init__()
        self.encoder = Encoder(last)
        self.drop = torch.nn.Dropout(p)

    def forward(self, x, mask):
        return self.drop(self.encoder(x)) * mask


def inputs(dtype=torch.float32):
    gen = torch.Generator().manual_seed(5)
    return torch.randn(8, 4, generator=gen, dtype=dtype), torch.tensor([1.0, 0.0, 2.0])


def test_correct_module_passes_and_names_by_module_path():
    net = Net().eval()
    result = gradproof.check_module(net, *inputs())
    assert result.ok, str(result)
    names = [p.name for p in result.parameters]
    assert "encoder.layers.0.weight" in names and "encoder.norm.weight" in names
    assert "input0" in names and "input1" in names


def test_wrong_parameter_gradient_is_named_by_its_module_path():
    net = Net(d.LinearBiasMean).eval()
    result = gradproof.check_module(net, *inputs())
    assert not result.ok
    assert "encoder.layers.1.bias" in {p.name for p in result.failures}
    assert result["encoder.layers.1.weight"].ok and result["encoder.layers.0.weight"].ok
    text = str(result)
    assert "FAILED for parameter 'encoder.layers.1.bias'" in text
    assert "batch size 8" in text


def test_a_loss_function_and_a_scalar_output():
    net = Net(d.LinearBiasMean).eval()
    result = gradproof.check_module(net, *inputs(), loss=lambda out: (out**2).mean())
    assert not result.ok and not result["encoder.layers.1.bias"].ok
    assert gradproof.check_module(Net().eval(), *inputs(), loss=lambda out: (out**2).mean())


def test_module_parameters_buffers_and_mode_are_untouched():
    net = Net().train()
    net.drop.p = 0.0  # deterministic in training mode: batch norm uses batch statistics
    before = copy.deepcopy(net.state_dict())
    result = gradproof.check_module(net, *inputs())
    assert result.ok, str(result)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running stats included
    assert net.training and net.encoder.norm.training
    assert all(p.grad is None for p in net.parameters())


def test_random_forward_in_training_mode_is_the_nondeterminism_input_error():
    net = Net().train()
    with pytest.raises(InputError, match="nondeterministic.*training mode.*eval"):
        gradproof.check_module(net, *inputs())
    assert gradproof.check_module(net.eval(), *inputs())


def test_frozen_parameters_and_integer_inputs_are_constants():
    class Embed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Parameter(torch.randn(10, 3))
            self.frozen = torch.nn.Parameter(torch.randn(3), requires_grad=False)

        def forward(self, ids):
            return self.table[ids] * self.frozen

    result = gradproof.check_module(Embed(), torch.tensor([1, 4, 4, 7]))
    assert result.ok and [p.name for p in result.parameters] == ["table"]


def test_bad_input():
    with pytest.raises(InputError, match="torch.nn.Module"):
        gradproof.check_module(lambda x: x, torch.randn(3))
    with pytest.raises(InputError, match="nothing to check"):
        gradproof.check_module(torch.nn.ReLU(), torch.tensor([1, 2]))
    with pytest.raises(InputError, match="loss must be callable"):
        gradproof.check_module(torch.nn.Linear(2, 2), torch.randn(3, 2), loss=3)
    with pytest.raises(InputError, match="raised"):
        gradproof.check_module(torch.nn.Linear(2, 2), torch.randn(3, 5))


def test_tied_weights_are_one_parameter():
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Linear(4, 4, bias=False)
            self.dec = torch.nn.Linear(4, 4, bias=False)
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(torch.tanh(self.enc(x)))

    result = gradproof.check_module(Tied().double(), torch.randn(3, 4, dtype=torch.double))
    assert result.ok and [p.name for p in result.parameters] == ["enc.weight", "input0"]


class Float32Only(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        if x.dtype != torch.float32 or scale.dtype != torch.float32:
            raise TypeError("this kernel takes float32 only")
        ctx.save_for_backward(x, scale)
        return torch.tanh(x) * scale

    @staticmethod
    def backward(ctx, g):
        x, scale = ctx.saved_tensors
        return g * (1 - torch.tanh(x) ** 2) * scale, None


def test_module_that_refuses_float64_is_checked_in_its_own_dtype():
    class Kernel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)
            self.register_buffer("scale", torch.full((3,), 1.5))

        def forward(self, x):
            return Float32Only.apply(self.lin(x), self.scale)

    kernel = Kernel()
    result = gradproof.check_module(kernel, torch.randn(6, 4))
    assert result.ok, str(result)
    assert "own dtype" in result.precision
    assert kernel.scale.dtype == torch.float32

"""Hostile inputs to gradcheck/gradgradcheck: a clear error or a correct verdict, never a false True."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402
from gradproof import GradcheckFailure, InputError  # noqa: E402


def rand(*shape, seed=0, grad=True):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_(grad)


@pytest.mark.parametrize(
    "inputs",
    [(3.0,), None, "abc", [1.0, 2.0], (torch.ones(3, dtype=torch.int64),), (rand(3, grad=False),)],
    ids=["float", "None", "str", "list", "int tensor", "no requires_grad"],
)
def test_inputs_with_nothing_to_check_are_refused(inputs):
    with pytest.raises(InputError, match="requires_grad"):
        gradproof.gradcheck(torch.sin, inputs)


@pytest.mark.parametrize(
    "func, kind",
    [(lambda x: float(x.detach().sum()), "float"), (lambda x: None, "NoneType"), (lambda x: {"y": x}, "dict"),
     (lambda x: x.detach().numpy(), "ndarray")],
    ids=["float", "None", "dict", "ndarray"],
)
@pytest.mark.parametrize("door", ["gradcheck", "gradgradcheck"])
def test_outputs_that_are_not_tensors_are_named(func, kind, door):
    with pytest.raises(InputError, match=f"returned {kind}; expected a tensor"):
        getattr(gradproof, door)(func, (rand(3),))


def test_gradgradcheck_without_a_differentiable_output_checks_nothing_and_says_so():
    with pytest.raises(InputError, match="no output .* requires grad"):
        gradproof.gradgradcheck(lambda x: (x > 0).double(), (rand(3),))


@pytest.mark.parametrize("door", ["gradcheck", "gradgradcheck"])
def test_function_that_raises_is_an_input_error_with_its_frame(door):
    def f(x):
        return x * (1 / 0)

    with pytest.raises(InputError, match=r"raised ZeroDivisionError.*test_gradcheck_hostile\.py"):
        getattr(gradproof, door)(f, (rand(3),))


def test_constant_modified_in_place_is_refused_and_restored():
    y = rand(4, seed=1, grad=False)
    before = y.clone()

    def f(x, y):
        y.add_(0.1)
        return x * y

    with pytest.raises(InputError, match="modified input1 in place"):
        gradproof.gradcheck(f, (rand(4), y))
    assert torch.equal(y, before)


def test_input_data_modified_in_place_is_refused_even_when_it_would_pass():
    x = rand(4)
    before = x.detach().clone()

    def f(x):
        x.data.clamp_(min=-0.5)  # idempotent after the first call: the engine alone sees no noise
        return x * x

    with pytest.raises(InputError, match="modified input0 in place"):
        gradproof.gradcheck(f, (x,))
    assert torch.equal(x.detach(), before)


def test_in_place_work_on_a_clone_is_fine_and_nan_constants_are_not_a_change():
    mask = torch.tensor([1.0, float("nan"), 2.0], dtype=torch.float64)

    def f(x, mask):
        z = x.clone()
        z.mul_(2)
        return z * torch.nan_to_num(mask)

    assert gradproof.gradcheck(f, (rand(3), mask))


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), True, "1e-3"])
@pytest.mark.parametrize("name", ["atol", "rtol", "nondet_tol"])
def test_tolerances_must_be_finite_non_negative_numbers_named_as_given(name, value):
    with pytest.raises(InputError, match=f"^{name} must be a finite non-negative number"):
        gradproof.gradcheck(torch.sin, (rand(3),), **{name: value})


class NoisyBackward(torch.autograd.Function):
    noise = 1e-3

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g * (1 + NoisyBackward.noise * torch.randn((), dtype=torch.float64))


def test_nondeterministic_backward_never_passes(monkeypatch):
    with pytest.raises(GradcheckFailure, match="not reentrant"):
        gradproof.gradcheck(NoisyBackward.apply, (rand(5),))
    assert gradproof.gradcheck(NoisyBackward.apply, (rand(5),), raise_exception=False) is False


class Swapped(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * a, g * b  # each input gets the other's gradient


class NaNGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


class NoGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return None


@pytest.mark.parametrize(
    "func, inputs",
    [(Swapped.apply, (rand(3), rand(3, seed=2))), (NaNGrad.apply, (rand(3),)), (NoGrad.apply, (rand(3),))],
    ids=["swapped", "nan", "None"],
)
def test_backward_bugs_never_return_true(func, inputs):
    assert gradproof.gradcheck(func, inputs, raise_exception=False) is False
    with pytest.raises(GradcheckFailure):
        gradproof.gradcheck(func, inputs)

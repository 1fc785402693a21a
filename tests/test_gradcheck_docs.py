"""PyTorch's documentation examples pass unchanged with gradproof's gradcheck swapped in, and
each bug injected into a backward (or double backward) is caught."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402
from gradproof import GradcheckFailure  # noqa: E402
from torch.autograd.gradcheck import GradcheckError  # noqa: E402

from . import torch_doc_functions as d  # noqa: E402



@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny layers gain nothing from intra-op threads, and on a loaded machine OpenMP's spinning
    threads make both checkers tens of times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CHECKERS = {
    "torch": (torch.autograd.gradcheck, torch.autograd.gradgradcheck),
    "gradproof": (gradproof.gradcheck, gradproof.gradgradcheck),
}


def _linear_inputs(dtype=torch.double):
    gen = torch.Generator().manual_seed(0)
    return (
        torch.randn(20, 20, dtype=dtype, generator=gen).requires_grad_(),
        torch.randn(30, 20, dtype=dtype, generator=gen).requires_grad_(),
    )


@pytest.mark.parametrize("impl", sorted(CHECKERS))
def test_extending_autograd_linear_example(impl):
    gradcheck, _ = CHECKERS[impl]
    input = _linear_inputs()
    test = gradcheck(d.linear, input, eps=1e-6, atol=1e-4)  # the docs' call, verbatim
    assert test is True


@pytest.mark.parametrize("impl", sorted(CHECKERS))
def test_extending_autograd_linear_with_bias(impl):
    gradcheck, _ = CHECKERS[impl]
    x, w = _linear_inputs()
    b = torch.randn(30, dtype=torch.double, requires_grad=True)
    assert gradcheck(d.linear, (x, w, b), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("cls", [d.MulConstant, d.MulConstantLazy], ids=["MulConstant", "MulConstant-lazy"])
@pytest.mark.parametrize("impl", sorted(CHECKERS))
def test_extending_autograd_mul_constant(impl, cls):
    gradcheck, gradgradcheck = CHECKERS[impl]
    x = torch.randn(4, 5, dtype=torch.double, requires_grad=True)
    assert gradcheck(cls.apply, (x, 2.5))
    assert gradgradcheck(cls.apply, (x, 2.5))


TUTORIAL = {  # name -> (function, input)
    "Square": (d.Square.apply, lambda: torch.rand(3, 3, requires_grad=True, dtype=torch.double)),
    "Exp": (d.Exp.apply, lambda: torch.tensor(1.0, requires_grad=True, dtype=torch.double).clone()),
    "Sinh": (d.sinh, lambda: torch.rand(3, 3, requires_grad=True, dtype=torch.double)),
    "Cube": (d.Cube.apply, lambda: torch.tensor(2.0, requires_grad=True, dtype=torch.double)),
    "Sigmoid": (d.Sigmoid.apply, lambda: torch.randn(4, 3, dtype=torch.double).requires_grad_()),
}


@pytest.mark.parametrize("name", sorted(TUTORIAL))
@pytest.mark.parametrize("impl", sorted(CHECKERS))
def test_double_backward_tutorial(impl, name):
    gradcheck, gradgradcheck = CHECKERS[impl]
    fn, make = TUTORIAL[name]
    x = make()
    assert gradcheck(fn, x)
    assert gradgradcheck(fn, x)


# ------------------------------------------------------------------------------ injected bugs
FIRST_ORDER_BUGS = {  # name -> (function, inputs, phrase expected in the report)
    "Linear: bias mean instead of sum": (
        d.LinearBiasMean.apply,
        lambda: (*_linear_inputs(), torch.randn(30, dtype=torch.double, requires_grad=True)),
        "input2",
    ),
    "Linear: one weight entry 1e-4 off": (d.LinearWeightEntry.apply, _linear_inputs, "input1[3, 4]"),
    "MulConstant: constant forgotten": (
        lambda t: d.MulConstantForgot.apply(t, 2.5),
        lambda: (torch.randn(4, 5, dtype=torch.double, requires_grad=True),),
        "input0",
    ),
    "Exp: derivative forgotten": (d.ExpForgot.apply, TUTORIAL["Exp"][1], "input0"),
    "Cube: 3x instead of 3x²": (d.CubeWrongFirst.apply, TUTORIAL["Cube"][1], "input0"),
    "Sigmoid: y instead of y(1 − y)": (d.SigmoidWrongFirst.apply, TUTORIAL["Sigmoid"][1], "input0"),
}


@pytest.mark.parametrize("case", sorted(FIRST_ORDER_BUGS))
def test_first_order_bug_is_caught(case):
    fn, make, phrase = FIRST_ORDER_BUGS[case]
    inputs = make()
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(fn, inputs)
    assert isinstance(info.value, GradcheckError)
    assert phrase in str(info.value)
    assert info.value.result is not None and not info.value.result.ok
    assert gradproof.gradcheck(fn, inputs, raise_exception=False) is False


SECOND_ORDER_BUGS = {  # the first derivative is right; its own derivative is not
    "Square: x detached in backward": (d.SquareDetached.apply, TUTORIAL["Square"][1]),
    "Sinh: intermediate gradients not accumulated": (d.sinh_no_accumulate, TUTORIAL["Sinh"][1]),
    "Cube: 3x instead of 6x in the double backward": (d.CubeWrongSecond.apply, TUTORIAL["Cube"][1]),
    "Sigmoid: (1 − y) instead of (1 − 2y)": (d.SigmoidWrongSecond.apply, TUTORIAL["Sigmoid"][1]),
}


@pytest.mark.parametrize("case", sorted(SECOND_ORDER_BUGS))
def test_second_order_bug_is_caught_by_gradgradcheck_only(case):
    fn, make = SECOND_ORDER_BUGS[case]
    x = make()
    assert gradproof.gradcheck(fn, x)
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradgradcheck(fn, x)
    assert "second derivatives" in str(info.value)
    assert gradproof.gradgradcheck(fn, x, raise_exception=False) is False


def test_second_order_bugs_are_caught_by_torch_too():
    """The bugs are real: torch's own gradgradcheck agrees that they are wrong."""
    for fn, make in SECOND_ORDER_BUGS.values():
        assert not torch.autograd.gradgradcheck(fn, make(), raise_exception=False)


def test_one_weight_entry_traced_to_its_output_column():
    """W[3, 4] only reaches output column 3: the 600 outputs are searched by group testing."""
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(d.LinearWeightEntry.apply, _linear_inputs())
    rec = info.value.result["input1"]
    assert rec.worst[0].index == (3, 4)
    assert rec.jacobian and all(e.output == "output0" and e.out_index[1] == 3 for e in rec.jacobian)
    for e in rec.jacobian:
        assert e.got == pytest.approx(e.expected * (1 + 1e-4), rel=1e-7)

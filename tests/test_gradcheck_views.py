"""Regressions from the attack on issue 9's speed work: a backward that changes grad_output in
place, and inputs that are negative views.  Each correct case passes and its wrong twin fails."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402


def _square(factor: float):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            g.mul_(factor)  # in place on the grad_output it was given (legal; torch's gradcheck passes it)
            return g * x

    return Square.apply


def test_a_backward_that_scales_grad_output_in_place_is_judged_on_its_gradient():
    # before: gradproof's own cotangent was the tensor handed to backward, so the in-place scaling
    # changed u between calls and a correct backward was refused as nondeterministic
    x = torch.randn(3, 4, dtype=torch.double, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert gradproof.gradcheck(_square(2.0), (x,)) is True
    assert gradproof.gradcheck(_square(2.0), (x,)) is True  # and again: nothing of ours was changed
    with pytest.raises(gradproof.GradcheckFailure):
        gradproof.gradcheck(_square(3.0), (x,))


def _sin(wrong: bool):
    class Sin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (-torch.cos(x) if wrong else torch.cos(x))

    return Sin.apply


def test_an_input_that_is_a_negative_view_is_read_with_its_sign():
    # before: RuntimeError "Can't call numpy() on Tensor that has negative bit set"
    base = torch.randn(4, dtype=torch.double, generator=torch.Generator().manual_seed(1))
    a = torch._neg_view(base).requires_grad_()
    assert gradproof.gradcheck(torch.sin, (a,)) is True
    assert gradproof.gradcheck(_sin(False), (a,)) is True
    with pytest.raises(gradproof.GradcheckFailure):
        gradproof.gradcheck(_sin(True), (a,))


def test_large_cotangents_are_not_kept_and_equal_the_cached_ones():
    # the cotangent cache kept up to 64 arrays of any size for the life of the process
    import numpy as np

    from gradproof.verify import vector

    vector._cached_cotangents.cache_clear()
    big = ((vector.CACHED_COTANGENT_ENTRIES + 1,),)
    a, b = vector.cotangents(3, big), vector.cotangents(3, big)
    assert vector._cached_cotangents.cache_info().currsize == 0  # drawn afresh, never stored
    assert a[0] is not b[0] and np.array_equal(a[0], b[0]) and not a[0].flags.writeable
    small = ((4, 5), (3,))
    assert vector.cotangents(3, small) is vector.cotangents(3, small)  # small ones cached
    assert np.array_equal(vector._draw_cotangents(3, small, 0)[1], vector.cotangents(3, small)[1])

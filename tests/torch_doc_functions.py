"""The custom autograd Functions of PyTorch's documentation, as written there, plus buggy twins.

From "Extending torch.autograd" (docs/source/notes/extending.rst): ``LinearFunction`` and
``MulConstant`` (both versions).  From the tutorial "Double Backward with Custom Functions"
(intermediate_source/custom_function_double_backward_tutorial.rst): ``Square``, ``Exp``,
``Sinh`` and ``Cube``/``CubeBackward``.  ``Sigmoid``/``SigmoidBackward`` follow the tutorial's
Cube pattern (a backward that is itself a custom Function with a hand-written backward).

Each ``*Bug*`` variant injects one realistic mistake into a backward or double backward.
"""

from __future__ import annotations

import torch
from torch.autograd import Function


# --------------------------------------------------------------------- Extending torch.autograd
class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class LinearBiasMean(LinearFunction):
    """Bug: the bias gradient averages over the batch instead of summing."""

    @staticmethod
    def backward(ctx, grad_output):
        grad_input, grad_weight, grad_bias = LinearFunction.backward(ctx, grad_output)
        return grad_input, grad_weight, None if grad_bias is None else grad_output.mean(0)


class LinearWeightEntry(LinearFunction):
    """Bug: one entry of the weight gradient 1e-4 (relative) off, as from a stray index."""

    @staticmethod
    def backward(ctx, grad_output):
        grad_input, grad_weight, grad_bias = LinearFunction.backward(ctx, grad_output)
        grad_weight = grad_weight.clone()
        grad_weight[3, 4] *= 1 + 1e-4
        return grad_input, grad_weight, grad_bias


linear = LinearFunction.apply


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class MulConstantLazy(Function):
    """The docs' second version, with ``set_materialize_grads(False)``."""

    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.set_materialize_grads(False)
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output is None:
            return None, None
        return grad_output * ctx.constant, None


class MulConstantForgot(Function):
    """Bug: the backward passes grad_output through without the constant."""

    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


# ------------------------------------------------------------------ double backward tutorial
class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


class SquareDetached(Square):
    """Bug (second order): x detached in backward, so the double backward loses d(2x)/dx."""

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x.detach()


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return result * grad_out


class ExpForgot(Exp):
    """Bug: returns grad_out, forgetting the derivative exp(x)."""

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input


class SinhNoAccumulate(Sinh):
    """Bug (second order): the gradients of the intermediate outputs are not accumulated."""

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        return grad_out * (expx + expnegx) / 2


def sinh(x):
    return Sinh.apply(x)[0]


def sinh_no_accumulate(x):
    return SinhNoAccumulate.apply(x)[0]


def cube_forward(x):
    return x**3


def cube_backward(grad_out, x):
    return grad_out * 3 * x**2


def cube_backward_backward(grad_out, sav_grad_out, x):
    return grad_out * sav_grad_out * 6 * x


def cube_backward_backward_grad_out(grad_out, x):
    return grad_out * 3 * x**2


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cube_forward(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return CubeBackward.apply(grad_out, x)


class CubeBackward(Function):
    @staticmethod
    def forward(ctx, grad_out, x):
        ctx.save_for_backward(x, grad_out)
        return cube_backward(grad_out, x)

    @staticmethod
    def backward(ctx, grad_out):
        x, sav_grad_out = ctx.saved_tensors
        dx = cube_backward_backward(grad_out, sav_grad_out, x)
        dgrad_out = cube_backward_backward_grad_out(grad_out, x)
        return dgrad_out, dx


class CubeWrongFirst(Cube):
    """Bug (first order): 3x instead of 3x² in the backward."""

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x


class CubeWrongSecond(Cube):
    """Bug (second order): the double backward takes 3x for d(3x²)/dx instead of 6x."""

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return CubeBackwardWrong.apply(grad_out, x)


class CubeBackwardWrong(CubeBackward):
    @staticmethod
    def backward(ctx, grad_out):
        x, sav_grad_out = ctx.saved_tensors
        return cube_backward_backward_grad_out(grad_out, x), grad_out * sav_grad_out * 3 * x


# ----------------------------------------------- a sigmoid with a hand-written double backward
class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return SigmoidBackward.apply(grad_out, y)


class SigmoidBackward(Function):
    """grad_in = grad_out · y(1 − y), with its own derivatives written out by hand."""

    @staticmethod
    def forward(ctx, grad_out, y):
        ctx.save_for_backward(grad_out, y)
        return grad_out * y * (1 - y)

    @staticmethod
    def backward(ctx, gg):
        grad_out, y = ctx.saved_tensors
        return gg * y * (1 - y), gg * grad_out * (1 - 2 * y)


class SigmoidWrongSecond(Sigmoid):
    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return SigmoidBackwardWrong.apply(grad_out, y)


class SigmoidBackwardWrong(SigmoidBackward):
    """Bug (second order): d[y(1 − y)]/dy taken as (1 − y)."""

    @staticmethod
    def backward(ctx, gg):
        grad_out, y = ctx.saved_tensors
        return gg * y * (1 - y), gg * grad_out * (1 - y)


class SigmoidWrongFirst(Sigmoid):
    """Bug (first order): the derivative y instead of y(1 − y)."""

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y

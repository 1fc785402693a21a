"""Losses far below 1 — down into float64's subnormal range — are checked like any other.

A fixed 1e-300 once guarded every ratio and noise floor of the engine: a loss under 1e-300 then
looked up to 1,000 times quieter than the guard allowed for, and a gradient 50 % wrong passed.
The guards are now float64's own grid (2**-1074, :data:`~gradproof.verify.options.GRID64`), and
these tests pin both sides at each scale: the correct gradient passes, a wrong one fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradproof
from gradproof.verify.options import GRID64, relative_noise

# 2**-1000 is exact scaling (≈ 9e-302); 1e-310 and 1e-316 put the loss in the subnormal range
SCALES = [1e-290, 2.0**-1000, 1e-305, 1e-310, 1e-316]


def _mse(scale: float, seed: int):
    rng = np.random.default_rng(seed)
    X, t, w = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)

    def loss(w):
        return scale * float(np.mean((X @ w - t) ** 2))

    def grad(w):
        return scale * 2.0 * X.T @ (X @ w - t) / len(t)

    return loss, grad, w


def _softmax_ce(scale: float, seed: int):
    rng = np.random.default_rng(seed)
    z, y = 3.0 * rng.normal(size=(4, 5)), rng.integers(0, 5, 4)

    def probs(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(z):
        return scale * float(-np.mean(np.log(probs(z)[np.arange(4), y])))

    def grad(z):
        return scale * ((probs(z) - np.eye(5)[y]) / 4)

    return loss, grad, z


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("make", [_mse, _softmax_ce], ids=["mse", "softmax-ce"])
@pytest.mark.parametrize("seed", [0, 1])
def test_correct_gradient_of_a_tiny_loss_passes(make, scale, seed):
    loss, grad, x = make(scale, seed)
    assert gradproof.check_gradient(loss, grad, x, seed=seed).ok


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("make", [_mse, _softmax_ce], ids=["mse", "softmax-ce"])
@pytest.mark.parametrize("factor", [1.5, 1.01])
def test_wrong_gradient_of_a_tiny_loss_fails(make, scale, factor):
    loss, grad, x = make(scale, 0)
    result = gradproof.check_gradient(loss, lambda x: factor * grad(x), x)
    assert not result.ok, str(result)


def test_failure_of_a_tiny_loss_reports_finite_relative_error():
    loss, grad, x = _mse(1e-305, 0)
    p = gradproof.check_gradient(loss, lambda x: 1.2 * grad(x), x).parameters[0]
    assert not p.ok
    assert 0.05 < p.error < 1.0 and 0.0 < p.tolerance < p.error  # relative, not scaled by a 1e-300 guard


def test_wrong_backward_of_a_tiny_output_fails_gradcheck():
    torch = pytest.importorskip("torch")

    def make(factor):
        class Tiny(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return 1e-305 * torch.tanh(x)

            @staticmethod
            def backward(ctx, grad_out):
                (x,) = ctx.saved_tensors
                return grad_out * 1e-305 * (1 - torch.tanh(x) ** 2) * factor

        return Tiny.apply

    x = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert gradproof.gradcheck(make(1.0), (x,))
    with pytest.raises(gradproof.GradcheckFailure):
        gradproof.gradcheck(make(1.01), (x,))


@pytest.mark.parametrize(
    "loss, grad, x",
    [
        # exactly 0 at the point and all around it: nothing to difference, nothing wrong
        (lambda x: float(np.sum(np.maximum(x, 0.0))), lambda x: (x > 0).astype(float), np.array([-0.5, -0.3, -0.01])),
        # exactly 0 at the point, not around it
        (lambda x: float(np.sum((x - 0.25) ** 2)), lambda x: 2 * (x - 0.25), np.full(3, 0.25)),
    ],
    ids=["zero-around", "zero-at-point"],
)
def test_loss_exactly_zero_at_the_point(loss, grad, x):
    assert loss(x) == 0.0
    assert gradproof.check_gradient(loss, grad, x).ok
    assert not gradproof.check_gradient(loss, lambda x: 1.01 * grad(x) + 0.01, x).ok


def test_relative_noise_guards():
    assert relative_noise(1e-320, 1e-310) == pytest.approx(1e-10)
    assert relative_noise(1e-20, 0.0, 1e-4) == pytest.approx(1e-16)  # 0 at the point: the values nearby
    assert relative_noise(GRID64, 0.0, 0.0) == 0.0
    assert GRID64 == np.nextafter(0.0, 1.0)


def test_noise_of_a_nonzero_subnormal_loss_is_at_least_the_grid():
    # a loss of 1e-318 that the tiny noise probe sees as constant still carries float64's grid
    from gradproof.verify.directional import measure_noise

    x = np.zeros(3)
    noise = measure_noise(lambda a: 1e-318, lambda a: a, x, 1e-318, 1.0, np.random.default_rng(0), 2.0**-52)
    assert noise.sigma >= GRID64
    exact_zero = measure_noise(lambda a: 0.0, lambda a: a, x, 0.0, 1.0, np.random.default_rng(0), 2.0**-52)
    # a loss that never changes tells nothing about its rounding (log(1 + 1e-109) is exactly 0 too):
    # it is "silent", and float64's rounding of values the size of the input (scale 1) is assumed
    assert exact_zero.silent > 0 and exact_zero.sigma == exact_zero.floor == 2.0**-52


def test_a_loss_of_a_few_hundred_grid_steps_is_not_failed():
    # 1e-321 is about 200 steps of float64's grid: the confirmation's noise is never taken below
    # one step (without that floor this correct gradient was reported FAILED)
    loss, grad, x = _softmax_ce(1e-321, 7)
    assert gradproof.check_gradient(loss, grad, x, seed=7).ok

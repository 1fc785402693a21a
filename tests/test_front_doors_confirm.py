"""Every gradient front door runs issue 8's engine: the confirmation stage and the diagnoses.

check_gradient, check_jacobian, check_module and gradcheck all reach
:func:`gradproof.verify.engine.check_array`; these tests pin that a failure through each of them is
re-measured before it is reported, that the named causes come through, and that an explicit
tolerance floor (gradcheck's atol/rtol) stays a floor after confirmation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradproof
from gradproof.verify import engine

torch = pytest.importorskip("torch")

from gradproof.verify.torch_rules import GradcheckFailure  # noqa: E402


class TanhNoDerivative(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        return g  # the factor 1 − y² left out


class TanhWrongTensor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * (1 - x**2)  # 1 − u² at the input instead of the output


class TanhRight(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y**2)


class TanhModule(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        gen = torch.Generator().manual_seed(1)
        self.scale = torch.nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64))
        self.fn = fn

    def forward(self, x):
        return self.fn.apply(x * self.scale)


def _x(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(8, 5, dtype=torch.float64, generator=gen, requires_grad=True)


@pytest.fixture
def confirmations(monkeypatch):
    """The confirmations the engine ran (its one `confirm`, spied on)."""
    seen = []
    real = engine.confirm

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(engine, "confirm", spy)
    return seen


def test_gradcheck_confirms_and_names_a_dropped_activation_derivative(confirmations):
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(TanhNoDerivative.apply, (_x(),))
    record = info.value.result["input0"]
    assert record.confirmed and confirmations and confirmations[-1].confirmed
    assert "activation derivative was left out" in record.diagnosis


def test_gradcheck_names_a_derivative_taken_at_the_wrong_tensor():
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(TanhWrongTensor.apply, (_x(),))
    assert "pre- vs post-activation" in info.value.result["input0"].diagnosis


@pytest.mark.parametrize("seed", range(3))
def test_gradcheck_names_nothing_on_a_correct_backward(seed):
    assert gradproof.gradcheck(TanhRight.apply, (_x(seed),))


def test_check_module_confirms_and_diagnoses(confirmations):
    result = gradproof.check_module(TanhModule(TanhNoDerivative), _x().detach())
    assert not result.ok
    assert confirmations and all(p.confirmed for p in result.failures)
    assert "activation derivative was left out" in result["input0"].diagnosis
    assert gradproof.check_module(TanhModule(TanhRight), _x().detach())


def _bilinear(p):
    return p["x"] @ p["W"].T


def _vjp(scale):
    def vjp(p, u):
        return {"x": scale * (u @ p["W"]), "W": u.T @ p["x"]}

    return vjp


def _points():
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(6, 5)), "W": rng.normal(size=(3, 5))}


def test_check_jacobian_confirms_and_names_sqrt_d(confirmations):
    result = gradproof.check_jacobian(_bilinear, _points(), vjp=_vjp(math.sqrt(5)))
    assert [p.name for p in result.failures] == ["x"]
    assert result["x"].confirmed and confirmations
    assert "√5" in result["x"].diagnosis


def test_check_jacobian_names_no_sqrt_d_for_another_factor():
    result = gradproof.check_jacobian(_bilinear, _points(), vjp=_vjp(2.3))
    assert not result.ok and "√" not in result["x"].diagnosis


# -- an explicit floor (gradcheck's atol/rtol) stays a floor after confirmation ---------------
def _quadratic_with_relative_error(rel):
    x0 = np.random.default_rng(4).normal(size=(7, 3)) * 3.0
    return (lambda p: 0.5 * float(np.sum(p["x"] ** 2))), (lambda p: {"x": p["x"] * (1.0 + rel)}), {"x": x0}


@pytest.mark.parametrize("floor,ok", [(1e-9, False), (1e-7, False), (1e-4, True), (1e-2, True)])
def test_a_floor_passes_confirmed_errors_within_it_and_never_reports_error_above_tolerance(floor, ok):
    loss, grad, params = _quadratic_with_relative_error(1e-6)
    result = gradproof.check_gradient(loss, grad, params, floor_atol=floor)
    assert result.ok is ok, str(result)
    record = result["x"]
    if ok:
        assert record.error <= record.tolerance
    else:
        assert record.confirmed


def test_the_floor_applies_to_confirmed_directions(monkeypatch):
    """A confirmed failure within the floor passes even when the screen's floor test was skipped."""
    monkeypatch.setattr(engine, "_apply_floor", lambda measured, opts: None)
    loss, grad, params = _quadratic_with_relative_error(1e-6)
    record = gradproof.check_gradient(loss, grad, params, floor_atol=1e-4)["x"]
    assert record.ok and record.error <= record.tolerance
    assert not gradproof.check_gradient(loss, grad, params, floor_atol=1e-9).ok

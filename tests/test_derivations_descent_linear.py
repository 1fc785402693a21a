"""steepest-descent-direction, squared-error-gradient, bias-as-weight: proofs, worked numbers
recomputed with NumPy, wrong variants that must fail, numeric verification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import descent as DS
from gradproof.derivations import linear_models as LM
from gradproof.derivations.prove import FAILED, SHOWN
from gradproof.verify.derivation_check import verify_derivation

NAMES = ["steepest-descent-direction", "squared-error-gradient", "bias-as-weight"]


def _with_step(d, index, **changes):
    steps = list(d.steps)
    steps[index] = dataclasses.replace(steps[index], **changes)
    return dataclasses.replace(d, steps=tuple(steps))


@pytest.mark.parametrize("name", NAMES)
def test_proves_every_step_symbolically(name):
    result = gradproof.derivation(name).prove()
    assert result.ok, str(result)
    assert all(s.method == SHOWN for s in result.steps), str(result)


@pytest.mark.parametrize("name", NAMES)
def test_verifies(name):
    result = verify_derivation(name, device="cpu")
    assert result.ok, str(result)


def test_steepest_descent_examples():
    steep, axis, up = gradproof.derivation("steepest-descent-direction").examples
    assert float(steep.values["‖g‖"]) == 5.0 and float(steep.values["D_u L"]) == pytest.approx(-5.0)
    np.testing.assert_allclose(steep.values["−g/‖g‖"], [-0.6, -0.8])
    assert float(axis.values["D_u L"]) == -3.0 and float(axis.values["bound −‖g‖"]) == -5.0
    assert float(up.values["D_u L"]) == pytest.approx(5.0)


def test_no_unit_direction_beats_the_negative_gradient(rng):
    d = gradproof.derivation("steepest-descent-direction")
    for dim in (2, 3, 10):
        g = rng.normal(size=dim)
        best = float(d.evaluate(g=g, u=-g / np.linalg.norm(g)))
        assert best == pytest.approx(-np.linalg.norm(g), rel=1e-12)
        for _ in range(200):
            u = rng.normal(size=dim)
            assert float(d.evaluate(g=g, u=u / np.linalg.norm(u))) >= best - 1e-12


def test_unit_input_is_checked():
    with pytest.raises(gradproof.InputError, match="norm 1"):
        gradproof.derivation("steepest-descent-direction").evaluate(g=[3.0, 4.0], u=[1.0, 1.0])


def test_steepest_descent_wrong_variants_fail():
    d = gradproof.derivation("steepest-descent-direction")
    g, u, k, gn = DS.g, DS.u, DS.k, DS.gnorm
    assert _with_step(d, 2, rhs=-2 * gn).prove().steps[2].method != SHOWN  # not the tight bound
    assert _with_step(d, 2, relation="<=").prove().steps[2].method == FAILED
    # the equality case in the gradient's own direction
    bad = _with_step(d, 8, rhs=sp.Eq(u[k], g[k] / gn))
    assert bad.prove().steps[8].method == FAILED
    # the identity with the sign of the cross term flipped
    wrong = sp.Add(-gn, gn / 2 * sp.Sum((u[DS.l] - g[DS.l] / gn) ** 2, (DS.l, 1, DS.d)), evaluate=False)
    assert _with_step(d, 0, rhs=wrong).prove().steps[0].method == FAILED


def test_squared_error_example_and_learning_rate():
    ex = gradproof.derivation("squared-error-gradient").examples[0]
    x, y, w = np.array([1.0, 2.0]), 3.0, np.array([0.5, 0.5])
    r = y - w @ x
    np.testing.assert_allclose(ex.values["∂(y − ŷ)²/∂w"], -2 * r * x)
    np.testing.assert_allclose(ex.values["∂½(y − ŷ)²/∂w"], -r * x)
    np.testing.assert_array_equal(ex.values["step on (y − ŷ)² with α"], ex.values["step on ½(y − ŷ)² with 2α"])


def test_squared_error_wrong_variants_fail():
    d = gradproof.derivation("squared-error-gradient")
    y, yhat, x, k = LM.y, LM.yhat, LM.x, LM.k
    assert not _with_step(d, 2, rhs=-(y - yhat) * x[k]).prove().ok  # the 2 dropped without the ½
    assert not _with_step(d, 2, rhs=2 * (y - yhat) * x[k]).prove().ok  # sign of ∂(y − ŷ)/∂w_k
    alpha, w = LM.alpha, LM.w
    same_rate = sp.Add(w[k], -alpha * sp.Derivative(LM.e_half, w[k]), evaluate=False)
    assert not _with_step(d, 4, rhs=same_rate).prove().ok  # the factor is not absorbed for free


def test_bias_as_weight_example():
    ex = gradproof.derivation("bias-as-weight").examples[0]
    x, y, wt = np.array([1.0, 2.0]), 1.0, np.array([0.5, -0.25, 0.1])
    z = wt[:2] @ x + wt[2]
    np.testing.assert_array_equal(ex.values["augmented input (x, 1)"], [1.0, 2.0, 1.0])
    assert float(ex.values["augmented model"]) == pytest.approx(z) and float(ex.values["wᵀx + b"]) == pytest.approx(z)
    np.testing.assert_allclose(ex.values["augmented gradient"], (z - y) * np.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(ex.values["(∂ℓ/∂w, ∂ℓ/∂b)"], ex.values["augmented gradient"])


def test_bias_as_weight_wrong_variants_fail():
    d = gradproof.derivation("bias-as-weight")
    wt, x, m, dd = LM.wt, LM.x, LM.m, LM.d
    # dropping the bias term: Σ_{m=1}^{d+1} is not Σ_{m=1}^{d}
    assert not _with_step(d, 0, rhs=sp.Sum(wt[m] * LM.xt[m], (m, 1, dd))).prove().ok
    # the augmented input's last entry taken as x_{d+1} instead of 1
    assert not _with_step(d, 1, rhs=sp.Sum(wt[m] * x[m], (m, 1, dd)) + wt[dd + 1] * x[dd + 1]).prove().ok
    # the bias gradient taken as (z − y)x_k
    assert not _with_step(d, 7, rhs=(LM.z - LM.y) * x[LM.k]).prove().ok

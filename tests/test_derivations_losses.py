"""loss-function-derivatives: L1, L2, hinge, zero-one, argmax vs softmax."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import losses

SLUG = "loss-function-derivatives"


def test_proves_symbolically():
    result = gradproof.derivation(SLUG).prove()
    assert result.ok, str(result)
    assert result.checked == 0, str(result)


def test_worked_example():
    ex = gradproof.derivation(SLUG).examples[0]
    assert float(ex.values["∂ℓ_1/∂ŷ"]) == -1.0
    assert float(ex.values["∂ℓ_2/∂ŷ"]) == pytest.approx(2 * (0.3 - 1.0))
    assert float(ex.values["∂ℓ_hinge/∂ŷ (margin 0.3 < 1)"]) == -1.0
    assert float(ex.values["∂ℓ_01/∂ŷ"]) == 0.0
    np.testing.assert_array_equal(ex.values["argmax a"], [1.0, 0.0, 0.0])
    z = np.array([1.84, 0.82, -0.24])
    s = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(ex.values["∂s_i/∂z_j"], np.diag(s) - np.outer(s, s), rtol=1e-12)
    confident = gradproof.derivation(SLUG).examples[1]
    assert float(confident.values["∂ℓ_hinge/∂ŷ (margin 2.5 > 1)"]) == 0.0


def _fd(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


def test_derivatives_by_finite_differences_away_from_kinks():
    d = gradproof.derivation(SLUG)
    rng = np.random.default_rng(0)
    z = rng.normal(size=3)
    for _ in range(50):
        yhat, y, c = rng.normal(), rng.normal(), rng.choice([-1.0, 1.0])
        if min(abs(yhat - y), abs(1 - c * yhat), abs(yhat)) < 1e-3:
            continue  # at a kink: not differentiable there
        assert _fd(lambda v, y=y: abs(v - y), yhat) == pytest.approx(np.sign(yhat - y))
        assert _fd(lambda v, y=y: (v - y) ** 2, yhat) == pytest.approx(2 * (yhat - y))
        hinge = _fd(lambda v, c=c: max(0.0, 1 - c * v), yhat)
        assert hinge == pytest.approx(-c if c * yhat < 1 else 0.0, abs=1e-9)
        assert float(d.evaluate(yhat=yhat, y=y, c=c, z=z)) == pytest.approx(-c * (c * yhat < 1), abs=0)
        assert _fd(lambda v, c=c: float(np.sign(v) != c), yhat) == 0.0


def test_argmax_has_zero_gradient_softmax_does_not():
    rng = np.random.default_rng(1)
    for _ in range(20):
        z = rng.normal(size=4)
        onehot = lambda v: (np.arange(4) == np.argmax(v)).astype(float)  # noqa: E731
        softmax = lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum()  # noqa: E731
        for q in range(4):
            e = np.eye(4)[q] * 1e-6
            np.testing.assert_array_equal(onehot(z + e) - onehot(z - e), 0.0)
            assert np.linalg.norm(softmax(z + e) - softmax(z - e)) > 0


def test_wrong_variants_fail():
    d = gradproof.derivation(SLUG)

    def with_step(index, rhs):
        steps = list(d.steps)
        steps[index] = dataclasses.replace(steps[index], rhs=rhs)
        return dataclasses.replace(d, steps=tuple(steps))

    yhat, y, c = losses.yhat, losses.y, losses.c
    assert not with_step(0, yhat - y).prove().ok  # L1 derivative is not the L2 one
    assert not with_step(1, yhat - y).prove().ok  # missing factor 2
    assert not with_step(2, c * sp.Heaviside(1 - c * yhat)).prove().ok  # sign of the hinge subgradient
    assert not with_step(2, -c * sp.Heaviside(c * yhat - 1)).prove().ok  # active on the wrong side of the margin


def test_verifies_numerically():
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(SLUG)
    assert result.ok, str(result)

"""sigmoid-derivative, bce-sigmoid-gradient, mse-sigmoid-gradient, linear-regression-gradient:
proofs, worked numbers, evaluation against NumPy, and wrong variants that must fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import logistic, regression
from gradproof.derivations.model import Step

SLUGS = ["sigmoid-derivative", "bce-sigmoid-gradient", "mse-sigmoid-gradient", "linear-regression-gradient"]


def _sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


@pytest.mark.parametrize("slug", SLUGS)
def test_proves(slug):
    result = gradproof.derivation(slug).prove()
    assert result.ok, str(result)
    assert result.checked == 0  # every step shown symbolically


def test_sigmoid_examples():
    ex = gradproof.derivation("sigmoid-derivative").examples
    assert float(ex[0].values["σ'(z)"]) == pytest.approx(0.25)
    assert float(ex[2].values["σ'(z)"]) == pytest.approx(_sigmoid(-6) * (1 - _sigmoid(-6)), rel=1e-12)
    assert np.isfinite(ex[3].values["σ(z)"]) and float(ex[3].values["σ(z)"]) == 0.0


def test_mse_vs_cross_entropy_at_saturated_wrong_prediction():
    ex = gradproof.derivation("mse-sigmoid-gradient").examples[0]
    s = _sigmoid(-6.0)
    assert float(ex.values["σ(z)"]) == pytest.approx(0.0024726, rel=1e-4)
    assert float(ex.values["MSE ∂L/∂w_k = (σ − y)σ(1 − σ)x_k"][0]) == pytest.approx((s - 1) * s * (1 - s), rel=1e-12)
    assert float(ex.values["MSE ∂L/∂w_k = (σ − y)σ(1 − σ)x_k"][0]) == pytest.approx(-0.002461, rel=1e-3)
    assert float(ex.values["cross-entropy ∂L_CE/∂w_k = (σ − y)x_k"][0]) == pytest.approx(-0.997527, rel=1e-5)
    assert float(ex.values["ratio cross-entropy / MSE = 1/(σ(1 − σ))"]) == pytest.approx(405.4, rel=1e-3)


def test_bce_examples_and_saturation():
    d = gradproof.derivation("bce-sigmoid-gradient")
    one, batch, saturated = d.examples
    p = _sigmoid(0.1)
    assert float(one.values["p = σ(z)"][0]) == pytest.approx(p)
    np.testing.assert_allclose(one.values["∂ℓ/∂w_k = (p − y)x_k"][0], [(p - 1) * 1, (p - 1) * 2])
    assert float(saturated.values["ℓ"][0]) == pytest.approx(800.0)
    np.testing.assert_allclose(saturated.values["∂ℓ/∂w_k"][0], [-40.0, 0.0], atol=1e-12)


def test_linear_regression_example():
    ex = gradproof.derivation("linear-regression-gradient").examples[0]
    np.testing.assert_allclose(ex.values["∂ℓ/∂w_k"][0], [-1.5, -3.0])
    np.testing.assert_allclose(ex.values["updated w_k = w_k + η(y − ŷ)x_k"][0], [0.65, 0.8])
    assert float(ex.values["ℓ after the update"][0]) < float(ex.values["ℓ"][0])


def test_evaluate_matches_numpy():
    rng = np.random.default_rng(0)
    X, w, b = rng.normal(size=(4, 3)), rng.normal(size=3), 0.3
    y = rng.integers(0, 2, size=4).astype(float)
    got = gradproof.derivation("bce-sigmoid-gradient").evaluate(X=X, y=y, w=w, b=b)
    np.testing.assert_allclose(got, X.T @ (_sigmoid(X @ w + b) - y) / 4, rtol=1e-12)

    x, y0 = rng.normal(size=3), 1.0
    s = _sigmoid(x @ w + b)
    got = gradproof.derivation("mse-sigmoid-gradient").evaluate(x=x, y=y0, w=w, b=b)
    np.testing.assert_allclose(got, (s - y0) * s * (1 - s) * x, rtol=1e-12)

    yr = rng.normal(size=4)
    got = gradproof.derivation("linear-regression-gradient").evaluate(X=X, y=yr, w=w, eta=0.1)
    np.testing.assert_allclose(got, X.T @ (X @ w - yr) / 4, rtol=1e-12)

    z = rng.normal(size=())
    got = gradproof.derivation("sigmoid-derivative").evaluate(z=float(z))
    assert float(got) == pytest.approx(_sigmoid(z) * (1 - _sigmoid(z)), rel=1e-12)


def _with_last_step(d, rhs):
    last = d.steps[-1]
    wrong = Step(last.lhs, rhs, last.reason)
    return dataclasses.replace(d, steps=d.steps[:-1] + (wrong,), statement=sp.Eq(last.lhs, rhs))


def test_wrong_variants_fail():
    t, sig = logistic.t, logistic.sigma
    d = gradproof.derivation("sigmoid-derivative")
    assert not _with_last_step(d, sig(t) * (1 + sig(t))).prove().ok

    d = gradproof.derivation("mse-sigmoid-gradient")
    # the classic slip: forgetting σ'(z), i.e. claiming the cross-entropy gradient for the MSE
    assert not _with_last_step(d, (sig(logistic.zs) - logistic.y0) * logistic.x[logistic.k]).prove().ok

    d = gradproof.derivation("linear-regression-gradient")
    a, k, N = regression.a, regression.k, regression.N
    sign_flip = sp.Sum(regression.X[a, k] * (regression.y[a] - regression.yhat[a]), (a, 1, N)) / N
    assert not _with_last_step(d, sign_flip).prove().ok


def test_wrong_bce_step_fails():
    d = gradproof.derivation("bce-sigmoid-gradient")
    a, k = logistic.a, logistic.k
    steps = list(d.steps)
    # p(1 - p)(p - y)x: the MSE-style factor that cross-entropy cancels
    steps[3] = Step(steps[3].lhs, logistic.p[a] * (1 - logistic.p[a]) * (logistic.p[a] - logistic.yb[a])
                    * logistic.X[a, k], steps[3].reason)
    assert not dataclasses.replace(d, steps=tuple(steps)).prove().ok


@pytest.mark.parametrize("slug", ["sigmoid-derivative", "mse-sigmoid-gradient", "linear-regression-gradient"])
def test_verifies(slug):
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(slug, device="cpu")
    assert result.ok, str(result)


def test_bce_verifies():
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation("bce-sigmoid-gradient", device="cpu")
    assert result.ok, str(result)

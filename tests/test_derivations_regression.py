"""softmax-regression-gradient (and minibatch-mean-gradient): proofs, worked numbers, evaluation
against NumPy, wrong variants that must fail, numeric verification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import regression as R
from gradproof.derivations.model import Step


def _softmax_rows(O):
    e = np.exp(O - O.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _replace_step(d, index, rhs):
    steps = list(d.steps)
    steps[index] = Step(steps[index].lhs, rhs, steps[index].reason)
    return dataclasses.replace(d, steps=tuple(steps), statement=steps[-1].expr)


def test_softmax_regression_proves_symbolically():
    result = gradproof.derivation("softmax-regression-gradient").prove()
    assert result.ok, str(result)
    assert result.checked == 0 and result.shown == 10


def test_softmax_regression_example():
    ex = gradproof.derivation("softmax-regression-gradient").examples[0]
    X, Y = np.array(ex.inputs["X"]), np.array(ex.inputs["Y"])
    W, b = np.array(ex.inputs["W"]), np.array(ex.inputs["b"])
    P = _softmax_rows(X @ W + b)
    np.testing.assert_allclose(ex.values["O = XW + b"], [[0.1, 0.7, 0.0], [0.05, -0.4, 0.15]], atol=1e-12)
    np.testing.assert_allclose(ex.values["Ŷ"], P, rtol=1e-12)
    assert float(ex.values["L"]) == pytest.approx(0.8623, abs=5e-5)
    assert float(ex.values["L"]) == pytest.approx(-np.mean(np.sum(Y * np.log(P), axis=1)), rel=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂W = Xᵀ(Ŷ − Y)/N"],
                               [[-0.02469, -0.19743, 0.22212], [0.58602, -0.62733, 0.04131]], atol=1e-5)
    np.testing.assert_allclose(ex.values["∂L/∂W = Xᵀ(Ŷ − Y)/N"], X.T @ (P - Y) / 2, rtol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂b"], [-0.18355, -0.13931, 0.32286], atol=1e-5)


def test_softmax_regression_evaluate_matches_numpy():
    rng = np.random.default_rng(1)
    d = gradproof.derivation("softmax-regression-gradient")
    for N, dim, C in [(2, 2, 3), (4, 3, 2)]:
        X, W, b = rng.normal(size=(N, dim)), rng.normal(size=(dim, C)), rng.normal(size=C)
        Y = rng.dirichlet(np.ones(C), size=N)
        got = d.evaluate(X=X, Y=Y, W=W, b=b)
        np.testing.assert_allclose(got, X.T @ (_softmax_rows(X @ W + b) - Y) / N, rtol=1e-11, atol=1e-14)
    # large logits: the stable forms do not overflow
    X = np.array([[50.0, -40.0]])
    got = d.evaluate(X=X, Y=[[1.0, 0.0, 0.0]], W=np.eye(2, 3) * 20, b=np.zeros(3))
    assert np.all(np.isfinite(got))


def test_softmax_regression_wrong_variants_fail():
    d = gradproof.derivation("softmax-regression-gradient")
    a, c, q, r, N, C = R.a, R.c, R.q, R.r, R.N, R.C
    # the sign slip Y - Ŷ in the result
    sign = sp.Sum(R.X[a, q] * (R.Y[a, r] - R.P[a, r]), (a, 1, N)) / N
    assert not _replace_step(d, 9, sign).prove().ok
    # the chain rule without the 1/N of the mean
    no_mean = sp.Sum(sp.Sum((R.P[a, c] - R.Y[a, c]) * sp.Derivative(R.O[a, c], R.W[q, r]), (c, 1, C)), (a, 1, N))
    assert not _replace_step(d, 6, no_mean).prove().ok
    # ∂L_Z/∂Z without the 1/N
    assert not _replace_step(d, 4, R.S[R.g, R.h] - R.Y[R.g, R.h]).prove().ok


def test_softmax_regression_verifies():
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation("softmax-regression-gradient", device="cpu")
    assert result.ok, str(result)


def test_minibatch_proves_symbolically():
    result = gradproof.derivation("minibatch-mean-gradient").prove()
    assert result.ok, str(result)
    assert result.checked == 0


def test_minibatch_example_and_evaluate():
    d = gradproof.derivation("minibatch-mean-gradient")
    ex = d.examples[0]
    np.testing.assert_allclose(ex.values["full gradient ∂L/∂w"], [-1 / 6, -13 / 3], rtol=1e-12)
    np.testing.assert_allclose(ex.values["per-sample gradients G_ak = (ŷ_a − y_a) X_ak"].mean(axis=0),
                               ex.values["full gradient ∂L/∂w"], rtol=1e-12)
    rng = np.random.default_rng(2)
    X, y, w = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3)
    np.testing.assert_allclose(d.evaluate(X=X, y=y, w=w), X.T @ (X @ w - y) / 5, rtol=1e-12)
    # exact enumeration: the mean over all C(5, 2) = 10 minibatches is the full gradient ...
    batches = R.minibatch_gradients(X, y, w, 2)
    assert len(batches) == 10
    np.testing.assert_allclose(batches.mean(axis=0), X.T @ (X @ w - y) / 5, rtol=1e-12)
    # ... while a single minibatch is not (it is an estimate)
    assert not np.allclose(batches[0], X.T @ (X @ w - y) / 5)


def test_minibatch_wrong_variants_fail():
    d = gradproof.derivation("minibatch-mean-gradient")
    a, k, N, B = R.a, R.k, R.N, R.Bsz
    # forgetting that each sample lies in C(N-1, B-1) minibatches
    wrong = sp.Sum(R.G[a, k], (a, 1, N)) / (B * sp.binomial(N, B))
    assert not _replace_step(d, 2, wrong).prove().ok
    # the sum instead of the mean of the per-sample gradients
    assert not _replace_step(d, 1, sp.Sum(R.G[a, k], (a, 1, N))).prove().ok


def test_minibatch_verifies():
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation("minibatch-mean-gradient", device="cpu")
    assert result.ok, str(result)
    assert result.witness("evaluation").ok

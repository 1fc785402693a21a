"""mlp-backprop: proof, worked 2-3-2 example, evaluation against NumPy, wrong variants (in the proof
and in the backprop run on random networks) that must fail, and numeric verification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import mlp
from gradproof.derivations.model import Step
from gradproof.verify.autograd import autograd_gradients


@pytest.fixture(scope="module")
def d():
    return gradproof.derivation("mlp-backprop")


def test_proves_symbolically(d):
    result = d.prove()
    assert result.ok, str(result)
    assert result.checked == 0 and result.shown == len(d.steps)


def test_worked_example_2_3_2(d):
    ex = d.examples[0]
    x, W1, b1 = (np.array(mlp.EXAMPLE[key]) for key in ("h", "W", "b"))
    W2, b2, y = np.array(mlp.EXAMPLE["V"]), np.array(mlp.EXAMPLE["c"]), np.array(mlp.EXAMPLE_TARGET)
    a1 = W1 @ x + b1
    h1 = np.tanh(a1)
    d2 = W2 @ h1 + b2 - y
    d1 = (W2.T @ d2) * (1 - h1**2)
    np.testing.assert_allclose(ex.values["a_1 = W_1 x + b_1"], [0.5, 0.65, -0.75], atol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂W_2 = δ_2 h_1ᵀ"], np.outer(d2, h1), rtol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂W_1 = δ_1 xᵀ"], np.outer(d1, x), rtol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂b_1 = δ_1"], d1, rtol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂b_1 = δ_1"], [-0.44635, 0.05741, -0.17720], atol=1e-5)

    # the example's gradients are those of L = ½‖a_2 − y‖² (autograd of the whole network)
    import torch

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
    out = t["W2"] @ torch.tanh(t["W1"] @ torch.tensor(x) + t["b1"]) + t["b2"]
    (0.5 * ((out - torch.tensor(y)) ** 2).sum()).backward()
    np.testing.assert_allclose(ex.values["∂L/∂W_1 = δ_1 xᵀ"], t["W1"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ex.values["∂L/∂W_2 = δ_2 h_1ᵀ"], t["W2"].grad.numpy(), rtol=1e-12)


def test_evaluate_matches_numpy(d):
    rng = np.random.default_rng(3)
    K, J, I = 3, 4, 2
    h, W, b = rng.normal(size=K), rng.normal(size=(J, K)), rng.normal(size=J)
    V, c, g = rng.normal(size=(I, J)), rng.normal(size=I), rng.normal(size=I)
    got = d.evaluate(h=h, W=W, b=b, V=V, c=c, g=g)
    want = np.outer((V.T @ g) * (1 - np.tanh(W @ h + b) ** 2), h)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_backprop_matches_autograd_on_deep_networks():
    rng = np.random.default_rng(5)
    for act in mlp.ACTIVATIONS:
        params, x, y = mlp._random_network(rng, 3, act)
        point = mlp._as_point(params)
        auto = autograd_gradients(lambda p: mlp._torch_loss(p, x, y, act), point, "cpu")
        derived = mlp._as_point(mlp.backprop(params, x, y, act))
        assert derived.keys() == auto.keys() == point.keys()
        for name in point:
            np.testing.assert_allclose(derived[name], auto[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bug", ["no-activation-derivative", "transposed"])
def test_buggy_backprop_fails_both_witnesses(bug):
    from gradproof.derivations.numeric_checks import NumericExperiment
    from gradproof.verify.numeric_checks import run_numeric_check

    buggy = NumericExperiment("buggy backprop", lambda seed: mlp.network_cases(seed, bug=bug))
    witnesses = run_numeric_check(buggy, seed=0, device="cpu")
    assert {w.method for w in witnesses} == {"finite differences", "autograd"}
    assert not any(w.ok for w in witnesses)


def test_wrong_steps_fail(d):
    steps = list(d.steps)
    # δ_l without φ'(a_l)
    up = sp.Sum(mlp.V[mlp.i2, mlp.j] * mlp.g[mlp.i2], (mlp.i2, 1, mlp.I))
    steps[3] = Step(steps[3].lhs, up, steps[3].reason)
    assert not dataclasses.replace(d, steps=tuple(steps)).prove().ok
    # W_{l+1} instead of W_{l+1}ᵀ in the final formula
    steps = list(d.steps)
    up_t = sp.Sum(mlp.V[mlp.j, mlp.i2] * mlp.g[mlp.i2], (mlp.i2, 1, mlp.I))
    transposed = up_t * mlp.PhiPrime(mlp.A[mlp.j]) * mlp.h[mlp.k]
    steps[-1] = Step(steps[-1].lhs, transposed, steps[-1].reason)
    wrong = dataclasses.replace(d, steps=tuple(steps), statement=steps[-1].expr)
    assert not wrong.prove().ok
    # the tanh derivative misremembered as 1 - tanh
    steps = list(d.steps)
    steps[5] = Step(steps[5].lhs, 1 - sp.tanh(mlp.t), steps[5].reason)
    assert not dataclasses.replace(d, steps=tuple(steps)).prove().ok


def test_verifies(d):
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(d, device="cpu")
    assert result.ok, str(result)
    assert any("random networks" in w.detail for w in result.witnesses)

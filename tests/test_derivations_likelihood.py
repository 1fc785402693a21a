"""cross-entropy-maximum-likelihood and bce-maximum-likelihood: proofs, the likelihood recomputed
as a product in NumPy, wrong variants that must fail, numeric verification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gradproof
from gradproof.derivations import likelihood as LK
from gradproof.derivations.prove import SHOWN
from gradproof.verify.derivation_check import verify_derivation

NAMES = ["cross-entropy-maximum-likelihood", "bce-maximum-likelihood"]


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
    assert {"finite differences", "autograd"} <= set(result.methods)


def _softmax_rows(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_categorical_likelihood_is_the_product_of_the_true_class_probabilities():
    ex = gradproof.derivation("cross-entropy-maximum-likelihood").examples[0]
    Z, Y = np.array(ex.inputs["Z"]), np.array(ex.inputs["Y"])
    P = _softmax_rows(Z)
    likelihood = np.prod(P[np.arange(3), Y.argmax(axis=1)])
    assert float(ex.values["likelihood P"]) == pytest.approx(likelihood, rel=1e-12)
    assert float(ex.values["−log P"]) == pytest.approx(-np.log(likelihood), rel=1e-12)
    assert float(ex.values["N L"]) == pytest.approx(-np.log(likelihood), rel=1e-12)
    assert float(ex.values["mean cross-entropy L"]) == pytest.approx(-np.log(likelihood) / 3, rel=1e-12)


def test_bernoulli_likelihood_example():
    ex = gradproof.derivation("bce-maximum-likelihood").examples[0]
    z, y = np.array(ex.inputs["z"]), np.array(ex.inputs["y"])
    p = 1 / (1 + np.exp(-z))
    per_label = np.where(y == 1, p, 1 - p)
    np.testing.assert_allclose(ex.values["probability of each label p^y (1 − p)^{1−y}"], per_label, rtol=1e-12)
    assert float(ex.values["likelihood P"]) == pytest.approx(np.prod(per_label), rel=1e-12)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(ex.values["per-sample BCE ℓ"], bce, rtol=1e-12)
    assert float(ex.values["N L"]) == pytest.approx(-np.log(np.prod(per_label)), rel=1e-12)


def test_likelihood_survives_large_logits():
    # the stable forms: P underflows only where it truly is tiny, −log P stays finite
    d = gradproof.derivation("bce-maximum-likelihood")
    from gradproof.derivations.numeric import tabulate

    values = {"z": np.array([800.0, -800.0, 3.0]), "y": np.array([0.0, 1.0, 1.0]), "t": np.array(0.0)}
    got = tabulate(d, d.result[0], (), {LK.N: 3}, values)
    assert np.isfinite(got) and float(got) == pytest.approx(1600 + np.log1p(np.exp(-3.0)), rel=1e-12)


def test_wrong_variants_fail():
    ce = gradproof.derivation("cross-entropy-maximum-likelihood")
    N, L = LK.N, LK.L
    assert not _with_step(ce, 3, rhs=L).prove().ok  # −log P is N L, not the mean L
    assert not _with_step(ce, 0, relation=">").prove().ok  # the likelihood does not rise with the loss
    bce = gradproof.derivation("bce-maximum-likelihood")
    a, p, q, y = LK.a, LK.p, LK.q, LK.y
    # the Bernoulli probability with the labels swapped
    assert not _with_step(bce, 1, rhs=y[a] * q[a] + (1 - y[a]) * p[a]).prove().ok
    # 1 − σ(z) mistaken for σ(z)
    assert not _with_step(bce, 2, rhs=p[a]).prove().ok
    assert not _with_step(bce, 6, rhs=-N * L).prove().ok

"""regularization: L2 weight decay, L1 subgradient, dropout expectation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof

SLUGS = ("l2-weight-decay", "l1-regularization", "dropout-expectation")


@pytest.mark.parametrize("slug", SLUGS)
def test_proves_symbolically(slug):
    result = gradproof.derivation(slug).prove()
    assert result.ok, str(result)
    assert result.checked == 0, str(result)


def _replace_step(d, index, **changes):
    steps = list(d.steps)
    steps[index] = dataclasses.replace(steps[index], **changes)
    return dataclasses.replace(d, steps=tuple(steps))


# -- L2 -----------------------------------------------------------------------------------------


def test_l2_example_and_evaluate():
    d = gradproof.derivation("l2-weight-decay")
    ex = d.examples[0]
    w, g, lam, alpha = np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, -0.3]), 0.1, 0.5
    np.testing.assert_allclose(ex.values["∂R/∂w"], lam * w)
    np.testing.assert_allclose(ex.values["w'"], w - alpha * (g + lam * w))
    rng = np.random.default_rng(0)
    for size in (1, 4, 7):
        w, g = rng.normal(size=size), rng.normal(size=size)
        lam, alpha = rng.uniform(0.01, 1, size=2)
        np.testing.assert_allclose(
            d.evaluate(w=w, g=g, **{"lambda": lam, "alpha": alpha}),
            (1 - alpha * lam) * w - alpha * g,
            rtol=1e-13,
        )


def test_l2_penalty_gradient_by_finite_differences():
    rng = np.random.default_rng(1)
    w, lam, h = rng.normal(size=5), 0.3, 1e-6
    penalty = lambda v: lam / 2 * np.sum(v**2)  # noqa: E731
    fd = np.array([(penalty(w + h * e) - penalty(w - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(fd, lam * w, rtol=1e-7)


def test_l2_wrong_gradient_fails():
    d = gradproof.derivation("l2-weight-decay")
    lam, w, k = (
        d.steps[2].rhs.args[0],
        sp.IndexedBase("w", real=True),
        sp.Symbol("k", integer=True, positive=True),
    )
    # forgetting the 1/2 cancels the 2: λ/2 · w_k is wrong
    assert not _replace_step(d, 2, rhs=lam / 2 * w[k]).prove().ok
    # decay factor 1 + αλ instead of 1 - αλ
    alpha, g = sp.Symbol("alpha", positive=True), sp.IndexedBase("g", real=True)
    wrong = sp.Eq(d.statement.lhs, (1 + alpha * lam) * w[k] - alpha * g[k])
    bad = _replace_step(d, 5, rhs=wrong.rhs)
    assert not dataclasses.replace(bad, statement=wrong).prove().ok


# -- L1 -----------------------------------------------------------------------------------------


def test_l1_example_and_evaluate():
    d = gradproof.derivation("l1-regularization")
    ex = d.examples[0]
    np.testing.assert_allclose(ex.values["∂R/∂w (sign(0) = 0 at the kink)"], [0.1, -0.1, 0.0])
    assert float(ex.values["R"]) == pytest.approx(0.1 * (2 + 0.001))
    rng = np.random.default_rng(2)
    for size in (1, 3, 6):
        w, lam = rng.normal(size=size), rng.uniform(0.01, 2)
        np.testing.assert_allclose(d.evaluate(w=w, **{"lambda": lam}), lam * np.sign(w))


def test_l1_one_sided_derivatives_at_zero():
    lam, h = 0.7, 1e-7
    w = np.array([0.0, 1.3, -0.4])
    penalty = lambda v: lam * np.sum(np.abs(v))  # noqa: E731
    e = np.array([1.0, 0.0, 0.0])
    right = (penalty(w + h * e) - penalty(w)) / h
    left = (penalty(w) - penalty(w - h * e)) / h
    assert right == pytest.approx(lam) and left == pytest.approx(-lam)
    # every slope in [-λ, λ] is a subgradient at 0; slightly outside is not
    hs = np.linspace(-1, 1, 201)
    for slope in np.linspace(-lam, lam, 11):
        assert np.all(lam * np.abs(hs) >= slope * hs - 1e-15)
    assert np.any(lam * np.abs(hs) < 1.01 * lam * hs)


def test_l1_away_from_zero_by_finite_differences():
    rng = np.random.default_rng(3)
    w, lam, h = rng.normal(size=6), 0.4, 1e-7
    penalty = lambda v: lam * np.sum(np.abs(v))  # noqa: E731
    assert np.min(np.abs(w)) > 10 * h  # away from the kink
    fd = np.array([(penalty(w + h * e) - penalty(w - h * e)) / (2 * h) for e in np.eye(6)])
    np.testing.assert_allclose(fd, lam * np.sign(w), rtol=1e-6)


def test_l1_wrong_variants_fail():
    d = gradproof.derivation("l1-regularization")
    lam = sp.Symbol("lambda", positive=True)
    w, k = sp.IndexedBase("w", real=True), sp.Symbol("k", integer=True, positive=True)
    # the lecture's (λ/2)‖w‖₁ slip written as a derivative: λ/2 sign(w_k) is not the derivative of λ‖w‖₁
    assert not _replace_step(d, 4, rhs=lam / 2 * sp.sign(w[k])).prove().ok
    # the right derivative at 0 is +λ, not 0
    assert not _replace_step(d, 0, rhs=sp.S.Zero).prove().ok


# -- dropout ------------------------------------------------------------------------------------


def test_dropout_examples():
    d = gradproof.derivation("dropout-expectation")
    ex = d.examples[0]
    assert float(ex.values["E[m a] (plain dropout)"]) == pytest.approx(1.0)
    assert float(ex.values["test-time output p·a"]) == pytest.approx(1.0)
    assert float(ex.values["E[m a / p] (inverted dropout)"]) == pytest.approx(2.0)


def test_dropout_exact_enumeration_and_monte_carlo():
    d = gradproof.derivation("dropout-expectation")
    rng = np.random.default_rng(4)
    for _ in range(5):
        a, p = rng.normal(), rng.uniform(0.05, 0.95)
        exact = sum(prob * (mask / p) * a for mask, prob in ((1, p), (0, 1 - p)))
        assert exact == pytest.approx(a, rel=1e-12)
        assert float(d.evaluate(a=a, p=p)) == pytest.approx(exact, rel=1e-12)
        masks = rng.random(200_000) < p
        mc = np.mean(masks / p * a)
        stderr = abs(a) * np.sqrt((1 - p) / p / masks.size)
        assert abs(mc - a) < 5 * stderr
        assert abs(np.mean(masks * a) - p * a) < 5 * abs(a) * np.sqrt(p * (1 - p) / masks.size)


def test_dropout_wrong_variants_fail():
    d = gradproof.derivation("dropout-expectation")
    p, a = sp.Symbol("p", positive=True), sp.Symbol("a", real=True)
    # forgetting the 1/p of inverted dropout: E[m a] = a is false
    wrong_last = _replace_step(d, 4, rhs=a / p)
    assert not wrong_last.prove().ok
    # swapping the probabilities of keep and drop
    first = d.steps[0]
    swapped = sp.Add((1 - p) * a, p * 0)
    assert not _replace_step(d, 0, rhs=swapped).prove().ok
    assert first.rhs.doit() == p * a


@pytest.mark.parametrize("slug", SLUGS)
def test_verifies_numerically(slug):
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(slug)
    assert result.ok, str(result)

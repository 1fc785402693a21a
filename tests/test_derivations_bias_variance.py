"""bias-variance-decomposition: the symbolic proof, its expectation algebra, numeric checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import bias_variance as bv

SLUG = "bias-variance-decomposition"


def test_proves_symbolically():
    result = gradproof.derivation(SLUG).prove()
    assert result.ok, str(result)
    assert result.checked == 0, str(result)


def test_expectation_rules():
    E, eps, Delta, sigma = bv.E, bv.eps, bv.Delta, bv.sigma
    c = sp.Symbol("c", real=True)
    assert E(Delta).doit() == 0
    assert E(eps).doit() == 0
    assert E(eps**2).doit() == sigma**2
    assert E(eps * Delta).doit() == 0
    assert E(c * eps**2 + 3 * c).doit() == c * sigma**2 + 3 * c  # linearity, constants come out
    assert E(Delta**2).doit() == bv.VARIANCE
    with pytest.raises(NotImplementedError):
        E(eps**3).doit()


def test_worked_example():
    ex = gradproof.derivation(SLUG).examples[0]
    m, f, sigma = np.array([0.6, 1.1, 1.6]), 1.0, 0.5
    assert float(ex.values["bias² (E_D[M] - f)²"]) == pytest.approx((m.mean() - f) ** 2)
    assert float(ex.values["variance E_D[(M - E_D M)²]"]) == pytest.approx(m.var())
    assert float(ex.values["noise σ²"]) == pytest.approx(sigma**2)
    assert float(ex.values["sum of the three"]) == pytest.approx(float(ex.values["E[(y - M)²] by enumeration"]))


def test_evaluate_matches_exact_enumeration():
    d = gradproof.derivation(SLUG)
    rng = np.random.default_rng(0)
    for size in (2, 3, 5):
        m, q = rng.normal(size=size), rng.dirichlet(np.ones(size))
        f, sigma = rng.normal(), rng.uniform(0.1, 2)
        expected = sum(qj * 0.5 * ((f + sigma - mj) ** 2 + (f - sigma - mj) ** 2) for mj, qj in zip(m, q, strict=True))
        assert float(d.evaluate(f=f, sigma=sigma, m=m, q=q)) == pytest.approx(expected, rel=1e-12)


def test_monte_carlo_with_gaussian_noise():
    # seeded Monte Carlo: D drawn from a discrete distribution, Gaussian noise; the measured error
    # agrees with bias² + variance + σ² within 5 standard errors
    d = gradproof.derivation(SLUG)
    rng = np.random.default_rng(1)
    m, q, f, sigma = np.array([0.2, 1.0, 1.9, 2.4]), np.array([0.1, 0.4, 0.3, 0.2]), 1.3, 0.7
    draws = 400_000
    preds = m[rng.choice(4, size=draws, p=q)]
    targets = f + sigma * rng.normal(size=draws)
    sq = (targets - preds) ** 2
    predicted = float(d.evaluate(f=f, sigma=sigma, m=m, q=q))
    assert abs(sq.mean() - predicted) < 5 * sq.std() / np.sqrt(draws)


def test_wrong_variants_fail():
    d = gradproof.derivation(SLUG)
    stmt = d.statement
    # forgetting the irreducible noise
    no_noise = sp.Eq(stmt.lhs, stmt.rhs - bv.sigma**2)
    last = dataclasses.replace(d.steps[-1], rhs=no_noise.rhs)
    bad = dataclasses.replace(d, steps=d.steps[:-1] + (last,), statement=no_noise)
    assert not bad.prove().ok
    # E[ε²] = σ (a units slip) must not prove
    wrong_rule = dataclasses.replace(d.steps[2], rhs=bv.sigma)
    assert not dataclasses.replace(d, steps=(d.steps[0], d.steps[1], wrong_rule) + d.steps[3:]).prove().ok
    # the cross term 2(f - E[M])·E[Δ] is zero, but 2(f - E[M])·E[M] is not: keeping it must fail
    steps = list(d.steps)
    a = sp.Add(bv.f, -bv.E(bv.M), evaluate=False)
    steps[9] = dataclasses.replace(steps[9], rhs=steps[9].rhs + 2 * a * bv.E(bv.M))
    assert not dataclasses.replace(d, steps=tuple(steps)).prove().ok


def test_verifies_numerically():
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(SLUG)
    assert result.ok, str(result)

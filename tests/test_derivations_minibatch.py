"""minibatch-gradient-variance and iterations-per-epoch: proofs, the sampling model checked by
enumeration and Monte Carlo (fixed seeds, 4 standard errors), worked numbers, wrong variants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import minibatch as MB
from gradproof.derivations.prove import FAILED, SHOWN
from gradproof.derivations.sampling import WITH, WITHOUT, K, MinibatchExpect
from gradproof.verify.derivation_check import verify_derivation


def _with_step(d, index, **changes):
    steps = list(d.steps)
    steps[index] = dataclasses.replace(steps[index], **changes)
    return dataclasses.replace(d, steps=tuple(steps))


@pytest.mark.parametrize("name", ["minibatch-gradient-variance", "iterations-per-epoch"])
def test_proves_every_step_symbolically(name):
    result = gradproof.derivation(name).prove()
    assert result.ok, str(result)
    assert all(s.method == SHOWN for s in result.steps), str(result)


@pytest.mark.parametrize("name", ["minibatch-gradient-variance", "iterations-per-epoch"])
def test_verifies(name):
    result = verify_derivation(name, device="cpu")
    assert result.ok, str(result)


def test_variance_example_numbers():
    ex, whole = gradproof.derivation("minibatch-gradient-variance").examples
    g = np.arange(1.0, 7.0)
    s2 = np.var(g)
    assert float(ex.values["σ²"]) == pytest.approx(35 / 12, rel=1e-14)
    assert float(ex.values["with replacement σ²/B"]) == pytest.approx(s2 / 2, rel=1e-14)
    assert float(ex.values["without replacement σ²/B·(N − B)/(N − 1)"]) == pytest.approx(s2 / 2 * 4 / 5, rel=1e-13)
    assert float(whole.values["without replacement"]) == 0.0  # B = N: the batch is the dataset


@pytest.mark.parametrize("replace", [True, False], ids=["with", "without"])
@pytest.mark.parametrize(("n", "b"), [(3, 1), (4, 2), (5, 5), (6, 4)])
def test_enumeration_matches_the_formula(n, b, replace, rng):
    g = rng.normal(size=n)
    assert MB.enumerated_variance(g, b, replace) == pytest.approx(MB.formula_variance(g, b, replace), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_monte_carlo_within_four_standard_errors(seed):
    rng = np.random.default_rng(seed)
    g = rng.exponential(size=80)
    for replace in (True, False):
        mean, se = MB.monte_carlo_variance(g, 16, replace, 20000, rng)
        assert abs(mean - MB.formula_variance(g, 16, replace)) <= 4 * se


def test_monte_carlo_judge_rejects_the_wrong_scheme():
    from gradproof.verify.judge import judge_monte_carlo

    rng = np.random.default_rng(3)
    g = rng.normal(size=40)
    draws = MB.minibatch_squared_errors(g, 20, False, 20000, rng)
    assert judge_monte_carlo(np.array(MB.formula_variance(g, 20, False)), draws).ok
    assert not judge_monte_carlo(np.array(MB.formula_variance(g, 20, True)), draws).ok


def test_monte_carlo_tells_the_schemes_apart():
    # the test has power: at B = N/2 the two variances differ by a factor 2, far beyond 4 SE
    rng = np.random.default_rng(0)
    g = rng.normal(size=40)
    mean, se = MB.monte_carlo_variance(g, 20, False, 20000, rng)
    assert abs(mean - MB.formula_variance(g, 20, True)) > 4 * se


def test_moment_rules_of_the_sampling_model():
    N, B = sp.symbols("N B", integer=True, positive=True)
    a, b = sp.symbols("a b", integer=True, positive=True)
    for scheme in (WITH, WITHOUT):
        assert MinibatchExpect(K[a], scheme, N, B).doit() == B / N
    pair = MinibatchExpect(K[a] * K[b], WITHOUT, 5, 2).doit()
    assert pair.xreplace({a: 1, b: 2}) == sp.Rational(2 * 1, 5 * 4)  # C(3, 0)/C(5, 2) = 1/10
    assert pair.xreplace({a: 3, b: 3}) == sp.Rational(2, 5)
    assert MinibatchExpect(K[a] ** 2, WITH, 5, 2).doit() == sp.Rational(2, 25) + sp.Rational(2, 5)


def test_wrong_variance_variants_fail():
    d = gradproof.derivation("minibatch-gradient-variance")
    N, B, s2 = MB.N, MB.B, MB.sigma2
    # the finite-population factor upside down, and σ²/B claimed without replacement
    assert _with_step(d, 10, rhs=s2 / B * (N - 1) / (N - B)).prove().steps[10].method == FAILED
    assert _with_step(d, 10, rhs=s2 / B).prove().steps[10].method == FAILED
    # σ² instead of σ²/B with replacement
    assert _with_step(d, 13, rhs=s2).prove().steps[13].method == FAILED
    # the without-replacement pair probability of sampling with replacement
    a, b = MB.a, MB.b
    wrong = B * (B - 1) / N**2 + sp.KroneckerDelta(a, b) * (B / N - B * (B - 1) / N**2)
    assert _with_step(d, 2, rhs=wrong).prove().steps[2].method == FAILED


def test_epoch_examples():
    ex = {e.title: e for e in gradproof.derivation("iterations-per-epoch").examples}
    assert [int(v) for v in ex["N = 1,000 samples, batches of 32"].values.values()] == [32, 8]
    assert [int(v) for v in ex["MNIST: N = 60,000, batches of 128"].values.values()] == [469, 96]
    assert [int(v) for v in ex["B divides N: N = 1,024, batches of 32"].values.values()] == [32, 32]


def test_epoch_formulas_against_batch_splitting():
    for case in MB.epoch_cases(max_samples=120, max_batch=40):
        np.testing.assert_array_equal(case.derived, case.expected, err_msg=case.where)
    d = gradproof.derivation("iterations-per-epoch")
    for n, b in [(1, 1), (7, 3), (9, 3), (10, 64)]:
        batches = MB.split_into_batches(n, b)
        assert int(d.evaluate(N=n, B=b)) == len(batches)


def test_epoch_wrong_variants_fail():
    d = gradproof.derivation("iterations-per-epoch")
    N, B, T, r, m = MB.Ns, MB.Bs, MB.T, MB.r, MB.m
    assert _with_step(d, 1, relation="<=", lhs=B * T, rhs=N).prove().steps[1].method == FAILED  # BT ≤ N is false
    assert _with_step(d, 3, rhs=2).prove().steps[3].method == FAILED  # the last batch may hold 1 sample
    assert _with_step(d, 5, rhs=sp.Eq(T, m + 1)).prove().steps[5].method == FAILED
    floor_version = _with_step(d, 0, lhs=N, rhs=B * sp.floor(N / B))  # ⌊N/B⌋ batches need not hold N
    assert floor_version.prove().steps[0].method == FAILED
    del r


def test_epoch_inputs_must_be_counts():
    with pytest.raises(gradproof.InputError, match="positive integers"):
        gradproof.derivation("iterations-per-epoch").evaluate(N=10.5, B=3)

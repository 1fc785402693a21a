"""The prover's shortcuts (issue 12) decide exactly what the slow path decided, or more only
where the decision is sound — each beside a case it must leave undecided or reject."""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from gradproof.derivations import prove as prove_module
from gradproof.derivations.common import INDEX_RANGES, LOGITS, SOFTMAX, j, l, n, z
from gradproof.derivations.logic import statement_established
from gradproof.derivations.minibatch import enumerated_variance, minibatch_squared_errors
from gradproof.derivations.model import Derivation, Step
from gradproof.derivations.nonzero import nonzero_somewhere
from gradproof.derivations.prove import FAILED, SHOWN, reduce_sums, refine_by_ranges

delta = sp.KroneckerDelta
d = sp.Symbol("d", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
RANGE_OF_K = sp.Q.ge(k, 1) & sp.Q.le(k, d)


# -- index-range conditions decided from one stated bound ---------------------------------------


def test_a_condition_one_bound_implies_is_decided_true():
    assert refine_by_ranges(sp.Le(k, d + 1), RANGE_OF_K) == sp.true  # k ≤ d ≤ d + 1
    assert refine_by_ranges(sp.Ge(k, 0), RANGE_OF_K) == sp.true  # k ≥ 1 ≥ 0
    assert refine_by_ranges(sp.Ge(d + 1, k), RANGE_OF_K) == sp.true  # the same, written the other way
    assert refine_by_ranges(sp.Le(k, d + 1), sp.Q.le(k, d)) == sp.true  # an upper bound alone
    piecewise = sp.Piecewise((z[k], sp.Le(k, d + 1)), (0, True))
    assert refine_by_ranges(piecewise, RANGE_OF_K) == z[k]


def test_a_condition_one_bound_contradicts_is_decided_false():
    assert refine_by_ranges(sp.Ge(k, d + 2), RANGE_OF_K) == sp.false  # k ≤ d < d + 2
    assert refine_by_ranges(sp.Le(k, 0), RANGE_OF_K) == sp.false  # k ≥ 1 > 0


def test_a_condition_the_bounds_leave_open_stays_undecided():
    # k ≤ d − 1 holds for every k but the last: neither true nor false
    assert refine_by_ranges(sp.Le(k, d - 1), RANGE_OF_K) == sp.Le(k, d - 1)
    assert refine_by_ranges(sp.Ge(k, 2), RANGE_OF_K) == sp.Ge(k, 2)
    # at the edge of the range: true at k = 1 (k = d), false above (below)
    assert refine_by_ranges(sp.Le(k, 1), RANGE_OF_K) == sp.Le(k, 1)
    assert refine_by_ranges(sp.Ge(k, d), RANGE_OF_K) == sp.Ge(k, d)
    # no facts about k at all
    assert refine_by_ranges(sp.Le(k, d + 1), sp.Q.ge(j, 1)) == sp.Le(k, d + 1)
    # a bound on another symbol says nothing about k
    other = sp.Symbol("other", integer=True, positive=True)
    assert refine_by_ranges(sp.Le(k, d + 1), sp.Q.le(other, d)) == sp.Le(k, d + 1)


def test_delta_sums_over_wider_and_disjoint_ranges():
    facts = sp.Q.ge(j, 1) & sp.Q.le(j, n)
    assert reduce_sums(sp.Sum(delta(j, l) * z[l], (l, 1, n + 1)), facts) == z[j]  # j ≤ n ≤ n + 1
    assert reduce_sums(sp.Sum(delta(j, l) * z[l], (l, n + 1, 2 * n)), facts) == 0  # j ≤ n < n + 1
    assert reduce_sums(sp.Sum(delta(j, l) * z[l], (l, 2, n)), facts).has(sp.Piecewise)  # j = 1 is out


def one_derivation(*steps, statement=None):
    return Derivation(name="under-test", title="under test", summary="",
                      statement=steps[-1].expr if statement is None else statement, steps=tuple(steps),
                      inputs=(LOGITS,), definitions=(SOFTMAX,), index_ranges=INDEX_RANGES, sizes={n: 3})


def test_delta_sum_over_a_wider_range_as_a_step():
    D = sp.Derivative
    wider = one_derivation(Step(D(sp.Sum(sp.exp(z[l]), (l, 1, n + 1)), z[j]), sp.exp(z[j]), "wider"))
    assert wider.prove().steps[0].method == SHOWN
    disjoint = one_derivation(Step(D(sp.Sum(sp.exp(z[l]), (l, n + 1, 2 * n)), z[j]), sp.exp(z[j]), "disjoint"))
    assert disjoint.prove().steps[0].method == FAILED


# -- the statement found among the steps ----------------------------------------------------------


def test_statement_found_by_the_cheap_test_or_by_simplify_and_not_otherwise():
    x = sp.Symbol("x", real=True)
    A, B = sp.Symbol("A"), sp.Symbol("B")
    steps = (Step(A, (x + 1) ** 2, "expanded elsewhere"), Step(B, sp.sin(x) ** 2 + sp.cos(x) ** 2, "needs simplify"))
    both = sp.Eq(B, 1)  # only simplify decides this one
    assert statement_established(sp.And(sp.Eq(A, x**2 + 2 * x + 1), both), steps)  # expand decides A
    assert not statement_established(sp.And(sp.Eq(A, x**2 + 1), both), steps)
    assert not statement_established(sp.And(sp.Eq(A, (x + 1) ** 2), sp.Eq(B, 2)), steps)
    assert statement_established(both, steps)  # a plain relation: the last step
    assert not statement_established(sp.Eq(A, (x + 1) ** 2), steps)  # stated, but not last


# -- normal forms shared within one proof ---------------------------------------------------------


def test_shared_normal_forms_end_with_the_proof():
    d1 = one_derivation(Step(sp.Sum(z[l], (l, 1, n)), sp.Sum(z[l], (l, 1, n)), "same"))
    assert d1.prove().ok
    assert prove_module._ACTIVE_FORMS.get() is None
    # another derivation's forms are never used: the same expression under other definitions
    e1, _ = prove_module.normalize(d1, sp.Sum(z[l], (l, 1, n)))
    assert e1.has(sp.Sum)


def test_an_implication_proved_with_shared_forms_still_rejects_a_false_one():
    a, b = sp.Symbol("a", positive=True), sp.Symbol("b", real=True)
    true_step = Step(sp.Eq(2 * a * b, 0), sp.Eq(b, 0), "divide by 2a > 0", "=>")
    false_step = Step(sp.Eq(2 * a * b, 0), sp.Eq(b, 1), "wrong", "=>")
    inputs = ()
    for step, want in ((true_step, SHOWN), (false_step, FAILED)):
        der = Derivation(name="imp", title="imp", summary="", statement=step.expr, steps=(step,), inputs=inputs,
                         index_ranges=INDEX_RANGES, sizes={n: 3})
        assert der.prove().steps[0].method == want


# -- the minibatch witness computes what it computed before ---------------------------------------


def test_enumerated_variance_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    for n_, b_ in ((4, 1), (5, 2), (6, 3), (7, 4)):
        values = rng.normal(size=n_)
        for replace in (True, False):
            batches = itertools.product(range(n_), repeat=b_) if replace else itertools.combinations(range(n_), b_)
            loop = np.mean((np.array([values[list(s)].mean() for s in batches]) - values.mean()) ** 2)
            assert np.isclose(enumerated_variance(values, b_, replace), loop, rtol=1e-13, atol=0)


def test_minibatches_without_replacement_are_the_subsets_argsort_picks():
    values = np.random.default_rng(5).standard_t(5, size=40)
    got = minibatch_squared_errors(values, 9, False, 500, np.random.default_rng(11))
    keys = np.random.default_rng(11).random((500, 40))
    want = (values[np.argsort(keys, axis=1)[:, :9]].mean(axis=1) - values.mean()) ** 2
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# -- definitions expanded once per derivation ----------------------------------------------------


def test_expanded_definitions_follow_the_definitions_they_came_from():
    from gradproof.derivations.model import Definition

    s_ = sp.Symbol("s_")
    der = one_derivation(Step(s_, 1, "s_ is one"))
    der.definitions = (Definition(s_, (), sp.Integer(1), "s_ = 1"),)
    assert der.expand_definitions(s_) == 1
    assert der.expand_definitions(s_) == 1  # read back
    der.definitions = (Definition(s_, (), sp.Integer(2), "s_ = 2"),)  # replaced: expanded afresh
    assert der.expand_definitions(s_) == 2
    assert der.prove().steps[0].method == FAILED  # 2 = 1 is not shown from a stale expansion


# -- the rules tried without SymPy's summation algorithms first -----------------------------------


def test_an_implication_that_needs_summation_algorithms_still_reaches_them():
    a = sp.Symbol("a", real=True)
    kk = sp.Symbol("kk", integer=True, positive=True)
    needs_sums = Step(sp.Eq(a * sp.Sum(kk, (kk, 1, n)), 0), sp.Eq(a * n * (n + 1) / 2, 0), "Σk = n(n+1)/2", "=>")
    wrong = Step(sp.Eq(a * sp.Sum(kk, (kk, 1, n)), 0), sp.Eq(a * n * (n - 1) / 2 - 1, 0), "wrong", "=>")
    for step, want in ((needs_sums, SHOWN), (wrong, FAILED)):
        der = Derivation(name="imp", title="imp", summary="", statement=step.expr, steps=(step,),
                         index_ranges=INDEX_RANGES, sizes={n: 3})
        record = der.prove().steps[0]
        assert record.method == want, str(record)
    assert prove_module.SUMS_EVALUATED.get() is True  # the setting ends with the step


# -- the negative zero test: nonzero at one legal point means no rewrite reaches 0 ---------------


def test_a_clearly_nonzero_expression_is_found_nonzero():
    x = sp.Symbol("x")
    y = sp.IndexedBase("y", positive=True)
    assert nonzero_somewhere(x + 1)
    assert nonzero_somewhere(sp.log(y[k]) + y[k] - 1)  # 0 only at y_k = 1
    assert nonzero_somewhere(sp.exp(z[k]) - 1 - z[k])  # 0 only at z_k = 0
    assert nonzero_somewhere(delta(j, k) * z[j] - z[k] + z[j])  # distinct j and k: z_j ≠ 0
    assert nonzero_somewhere(z[j] - z[k])  # distinct variables take distinct values


def test_an_identically_zero_expression_gets_no_verdict():
    x = sp.Symbol("x")
    y = sp.IndexedBase("y", positive=True)
    s = 1 / (1 + sp.exp(-z[k]))
    assert not nonzero_somewhere(s * (1 - s) - sp.exp(-z[k]) / (1 + sp.exp(-z[k])) ** 2)
    assert not nonzero_somewhere(sp.log(y[k] * y[j]) - sp.log(y[k]) - sp.log(y[j]))  # y positive
    assert not nonzero_somewhere((x + 1) ** 2 - x**2 - 2 * x - 1)
    assert not nonzero_somewhere(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not nonzero_somewhere(sp.Integer(0))


def test_the_point_respects_every_symbol_s_assumptions():
    # |x| + x is 0 for every negative x, though not for positive ones
    negative = sp.Symbol("x", negative=True)
    assert not nonzero_somewhere(sp.Abs(negative) + negative)
    assert nonzero_somewhere(sp.Abs(negative) - negative)
    w = sp.IndexedBase("w", negative=True)
    assert not nonzero_somewhere(sp.Abs(w[k]) + w[k])
    p = sp.IndexedBase("p", positive=True)
    entries = [p[i] for i in range(1, 8)]
    assert not nonzero_somewhere(sp.Add(*[sp.Abs(e) - e for e in entries]))
    # sqrt(m²) − m is 0 for every nonnegative integer m
    m = sp.Symbol("m", integer=True, nonnegative=True)
    assert not nonzero_somewhere(sp.sqrt(m**2) - m)
    # a symbol no rational can stand for (transcendental): no verdict
    t = sp.Symbol("t", transcendental=True)
    assert not nonzero_somewhere(t + 1)


def test_what_cannot_be_evaluated_gets_no_verdict():
    x = sp.Symbol("x")
    f = sp.Function("f")
    assert not nonzero_somewhere(f(x) + 1)  # an undefined function
    assert not nonzero_somewhere(sp.Derivative(f(x), x) + 1)
    assert not nonzero_somewhere(1 / (x - sp.Rational(3, 7)))  # undefined at the point chosen
    assert not nonzero_somewhere((x - sp.Rational(3, 7)) * sp.log(x - sp.Rational(3, 7)) + 1)  # 0·∞
    assert not nonzero_somewhere(sp.Rational(1, 10**40) * x)  # too close to 0 to tell
    assert not nonzero_somewhere(sp.Eq(x, 1))  # not an expression
    # an entry whose index is bound (a sum held unevaluated) is no variable of its own
    y = sp.IndexedBase("y")
    assert not nonzero_somewhere(sp.Sum(y[k], (k, 1, 3)) - y[1] - y[2] - y[3])


def test_is_zero_skips_simplify_only_where_the_value_is_nonzero(monkeypatch):
    calls = []
    real = prove_module.simplifies_to_zero
    monkeypatch.setattr(prove_module, "simplifies_to_zero", lambda e: calls.append(e) or real(e))
    y = sp.IndexedBase("y", positive=True)
    # true: simplify is asked and decides
    assert prove_module.is_zero(sp.log(y[k] * y[j]) - sp.log(y[k]) - sp.log(y[j]))[0]
    assert len(calls) == 1
    # false: nonzero at a point, simplify never asked, and not shown
    zero, how = prove_module.is_zero(sp.log(y[k] * y[j]) - sp.log(y[k]) - 2 * sp.log(y[j]))
    assert not zero and "could not" in how
    assert len(calls) == 1
    # a sum is held as a positive symbol, as simplify sees it: Σ_l e^{z_l} + 1 is nonzero there
    assert not prove_module.is_zero(sp.Sum(sp.exp(z[l]), (l, 1, n)) + 1)[0]
    assert len(calls) == 1
    # undecided by the point (an undefined function): simplify still asked
    f = sp.Function("f")
    assert not prove_module.is_zero(f(y[k]) - 1)[0]
    assert len(calls) == 2

"""Every rewrite rule of the prover, fed a false step it must reject.

"Shown symbolically" is the strongest thing gradproof says, so each rule that can turn a
difference into 0 gets a false step that only an unsound version of the rule would show — and,
beside it, the true step the rule exists for, so a test cannot pass by the rule doing nothing.
"""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import INDEX_RANGES, LABELS_SIMPLEX, LABELS_SUM_TO_ONE, LOGITS, SOFTMAX, i, j, l, n, s, y, z
from gradproof.derivations.model import Derivation, Step
from gradproof.derivations.prove import (
    CHECKED,
    FAILED,
    SHOWN,
    _free_deltas,
    index_combinations,
    reduce_sums,
    unroll,
)

D = sp.Derivative
delta = sp.KroneckerDelta
# integer indices with no sign assumption, so a range starting at 0 is legal for them
kk = sp.Symbol("kk", integer=True)
mm = sp.Symbol("mm", integer=True)


def one_step(lhs, rhs, relation="=", *, ranges=None, assumptions=(), inputs=(LOGITS, LABELS_SIMPLEX), sizes=None):
    step = Step(lhs, rhs, "claim under test", relation)
    d = Derivation(
        name="under-test",
        title="under test",
        summary="",
        statement=step.expr,
        steps=(step,),
        inputs=inputs,
        definitions=(SOFTMAX,),
        assumptions=assumptions,
        index_ranges=ranges or INDEX_RANGES,
        sizes={n: 3},
    )
    return d.prove(sizes=sizes).steps[0]


def assert_rejected(record):
    assert record.method == FAILED, str(record)


def assert_shown(record):
    assert record.method == SHOWN, str(record)


# -- summing out a Kronecker delta -----------------------------------------------------------------


def test_delta_sum_that_stops_short_of_the_index_range_is_rejected():
    # the hole: Σ_{l=1}^{n-1} e^{z_l} does not contain e^{z_n}, so its derivative at j = n is 0
    assert_rejected(one_step(D(sp.Sum(sp.exp(z[l]), (l, 1, n - 1)), z[j]), sp.exp(z[j])))
    assert_shown(one_step(D(sp.Sum(sp.exp(z[l]), (l, 1, n)), z[j]), sp.exp(z[j])))


def test_delta_sum_keeps_its_range_condition_when_undecided():
    facts = sp.Q.ge(j, 1) & sp.Q.le(j, n)
    reduced = reduce_sums(sp.Sum(delta(j, l) * z[l], (l, 1, n - 1)), facts)
    assert reduced.has(sp.Piecewise), reduced
    assert reduce_sums(sp.Sum(delta(j, l) * z[l], (l, 1, n)), facts) == z[j]


def test_delta_of_a_shifted_index_is_not_summed_as_if_unshifted():
    # Σ_k δ(j, k+1) z_k picks k = j - 1, not k = j
    assert_rejected(one_step(sp.Sum(delta(j, kk + 1) * z[kk], (kk, 1, n)), z[j]))
    assert_shown(one_step(sp.Sum(delta(j, kk) * z[kk], (kk, 1, n)), z[j]))


def test_delta_whose_other_side_contains_the_summation_index_is_not_summed_out():
    from gradproof.derivations.prove import _summable_delta

    assert _summable_delta(delta(kk, 2 * mm - 1) * z[kk], kk) == (delta(kk, 2 * mm - 1), 2 * mm - 1)
    assert _summable_delta(delta(kk, 2 * kk - 1) * z[kk], kk) is None


def test_delta_summed_into_an_outer_sum_over_a_wider_range_is_rejected():
    # the inner sum is z_kk only for kk ≥ 1; the outer sum runs kk from 0, so the kk = 0 term is 0.
    # With kk declared 1..n, the index-range facts must not reach the bound kk of the outer sum.
    ranges = {**INDEX_RANGES, kk: n}
    inner = sp.Sum(delta(kk, l) * z[l], (l, 1, n))
    assert_rejected(one_step(sp.Sum(inner, (kk, 0, n)), sp.Sum(z[kk], (kk, 0, n)), ranges=ranges))


def test_case_split_ignores_deltas_of_summation_indices():
    expr = sp.Sum(delta(kk, j) * z[kk], (kk, 1, n - 1)) + delta(i, j)
    assert _free_deltas(expr) == [delta(i, j)]


def test_case_split_on_a_free_delta():
    assert_rejected(one_step(delta(i, j) * s[i], s[j]))
    assert_shown(one_step(delta(i, j) * s[i], delta(i, j) * s[j]))


# -- splitting sums, counting terms ------------------------------------------------------------------


def test_sum_of_a_constant_counts_its_terms():
    assert_rejected(one_step(sp.Sum(z[kk] + 1, (kk, 1, n)), sp.Sum(z[kk], (kk, 1, n)) + n + 1))
    assert_shown(one_step(sp.Sum(z[kk] + 1, (kk, 1, n)), sp.Sum(z[kk], (kk, 1, n)) + n))


def test_counting_rule_leaves_a_sum_whose_range_may_run_backwards():
    assert reduce_sums(sp.Sum(3, (kk, 1, n - 2))).has(sp.Sum)
    assert reduce_sums(sp.Sum(3, (kk, 1, n - 1))) == 3 * (n - 1)


def test_empty_sum_is_zero_not_karr():
    # Σ_{kk=1}^{n-2} 1 is 0 at n = 1 (no terms); SymPy's Karr convention makes it -1 = n - 2
    assert_rejected(one_step(sp.Sum(1, (kk, 1, n - 2)), n - 2))
    assert unroll(sp.Sum(z[kk], (kk, 1, -1))) == 0
    assert unroll(sp.Product(z[kk], (kk, 3, 2))) == 1
    # an inner sum that reuses the outer index name keeps its own binding
    shadowed = sp.Sum(z[kk] * sp.Sum(z[kk], (kk, 1, 2)), (kk, 1, 2))
    assert sp.expand(unroll(shadowed) - (z[1] + z[2]) ** 2) == 0


def test_sum_starting_at_zero_is_not_given_positive_indices():
    # Max(kk, 1) = kk only for kk ≥ 1; the sums differ by the kk = 0 term
    assert_rejected(one_step(sp.Sum(sp.Max(kk, 1), (kk, 0, n)), sp.Sum(kk, (kk, 0, n))))


def test_summation_index_declared_positive_with_a_range_from_zero_is_refused():
    from gradproof.derivations.common import k

    record = one_step(sp.Sum(k, (k, 0, n)), n * (n + 1) / 2)
    assert_rejected(record)
    assert "declared positive" in record.detail


# -- sums held opaque, merged, or recognised through exponentials ---------------------------------


def test_a_sum_that_may_be_empty_is_not_held_positive():
    assert_rejected(one_step(sp.sign(sp.Sum(sp.exp(z[l]), (l, 1, n - 1))), 1))
    assert_shown(one_step(sp.sign(sp.Sum(sp.exp(z[l]), (l, 1, n))), 1))


def test_sums_over_different_ranges_are_not_merged():
    assert_rejected(one_step(sp.Sum(z[kk], (kk, 1, n)) - sp.Sum(z[mm], (mm, 1, n - 1)), 0))
    assert_shown(one_step(sp.Sum(z[kk], (kk, 1, n)) - sp.Sum(z[mm], (mm, 1, n)), 0))


def test_merged_sums_with_different_summands_are_rejected():
    assert_rejected(one_step(sp.Sum(z[kk] ** 2, (kk, 1, n)), sp.Sum(z[mm] * sp.Abs(z[mm]), (mm, 1, n))))


def test_product_of_exponentials_against_a_shorter_sum_is_rejected():
    assert_rejected(one_step(sp.Product(sp.exp(z[kk]), (kk, 1, n)), sp.exp(sp.Sum(z[kk], (kk, 1, n - 1)))))
    assert_shown(one_step(sp.Product(sp.exp(z[kk]), (kk, 1, n)), sp.exp(sp.Sum(z[kk], (kk, 1, n)))))


# -- logarithms and stated facts ---------------------------------------------------------------------


def test_log_rules_need_positivity():
    # log(z²) = 2 log z only for z > 0; logits may be negative
    assert_rejected(one_step(sp.log(z[j] ** 2), 2 * sp.log(z[j])))
    assert_shown(one_step(sp.log(s[j] ** 2), 2 * sp.log(s[j])))


def test_sum_to_one_fact_applies_only_to_the_whole_sum():
    assert_rejected(one_step(sp.Sum(y[kk], (kk, 1, n - 1)), 1, assumptions=(LABELS_SUM_TO_ONE,)))
    assert_shown(one_step(sp.Sum(y[kk], (kk, 1, n)), 1, assumptions=(LABELS_SUM_TO_ONE,)))


# -- checking at exact points --------------------------------------------------------------------------


def test_claim_false_only_from_size_six_is_rejected_by_default():
    m = sp.Symbol("m", integer=True)
    true_sum = n * (n + 1) / 2
    wrong = true_sum + sp.Product(n - m, (m, 1, 5))  # adds 0 for n ≤ 5, not after
    record = one_step(sp.Sum(kk, (kk, 1, n)), wrong)
    assert_rejected(record)
    assert "n=7" in record.detail
    # the sizes are a parameter: at sizes up to 5 the same claim is (wrongly) checked — which is
    # why the default goes beyond them
    assert one_step(sp.Sum(kk, (kk, 1, n)), wrong, sizes=(1, 2, 3, 4, 5)).method == CHECKED


def test_index_values_are_sampled_with_the_corners_when_there_are_many():
    # false only at i = j = 20: beyond 64 combinations the sample must keep the last values
    record = one_step(delta(i, 20) * delta(j, 20) * z[i], 0)
    assert_rejected(record)
    assert "n=20, i=20, j=20" in record.detail


def test_index_combinations_keep_first_and_last():
    import random

    combos = index_combinations([range(1, 21), range(1, 21), range(1, 21)], random.Random(0))
    assert len(combos) == 64 and len(set(combos)) == 64
    assert (1, 1, 1) in combos and (20, 20, 20) in combos and (1, 20, 1) in combos
    assert len(index_combinations([range(1, 5), range(1, 5)], random.Random(0))) == 16


def test_inequalities_are_shown_only_by_the_sign_rules_otherwise_checked():
    # s_i > 0: SymPy's assumptions decide e^{z_i}/Σ_l e^{z_l} > 0 (gradproof.derivations.logic)
    assert one_step(s[i], 0, ">").method == SHOWN
    # z² − z + 1 > 0 is true, but no rule decides it for an entry z_j: checked, not shown
    assert one_step(z[j] ** 2 - z[j] + 1, 0, ">").method == CHECKED
    assert_rejected(one_step(s[i], sp.Rational(1, 2), "<"))  # s_1 > 1/2 for some logits


def test_not_equal_holds_at_every_point_or_fails():
    assert one_step(sp.exp(z[j]), 0, "!=").method == CHECKED
    assert_rejected(one_step(z[j] - z[j], 0, "!="))


def test_inequality_between_complex_values_does_not_hold():
    assert_rejected(one_step(sp.log(z[j]), -100, ">"))


# -- the fast paths (issue 12): derivatives without SymPy's summation algorithms, cheap zero tests ------


def test_derivative_through_a_sum_without_summation_algorithms_is_exact():
    # the first pass evaluates ∂/∂z_j Σ_l f(z_l) as Σ_l f'(z_l) δ_lj without asking SymPy to sum anything
    from gradproof.derivations.prove import doit_keeping_sums

    lhs = D(sp.Sum(z[l] ** 2, (l, 1, n)), z[j])
    assert_rejected(one_step(lhs, z[j]))
    assert_rejected(one_step(lhs, 2 * z[j] + 1))
    assert_shown(one_step(lhs, 2 * z[j]))
    kept = doit_keeping_sums(sp.Sum(kk, (kk, 1, n)) + D(z[j] ** 3, z[j]))
    assert kept.has(sp.Sum) and kept.has(3 * z[j] ** 2)  # the sum left for reduce_sums, the derivative done


def test_a_step_that_needs_summation_algorithms_still_reaches_them():
    # Σ k = n(n+1)/2 needs SymPy's summation (the second pass); its false twin must still fail
    assert_shown(one_step(sp.Sum(kk, (kk, 1, n)), n * (n + 1) / 2))
    assert_rejected(one_step(sp.Sum(kk, (kk, 1, n)), n**2 / 2))
    assert_rejected(one_step(sp.Sum(kk, (kk, 1, n)), n * (n - 1) / 2))


def test_each_cheap_zero_test_rejects_a_false_identity_and_decides_a_true_one():
    from gradproof.derivations.prove import _ZERO_TESTS, simplifies_to_zero

    a, b = sp.symbols("a b", positive=True)
    x = sp.Symbol("x", real=True)
    cases = [  # (false difference, true difference) for expand, together, cancel, simplify, log form
        ((a + b) ** 2 - (a**2 + b**2), (a + b) ** 2 - (a**2 + 2 * a * b + b**2)),
        (1 / a + 1 / b - 2 / (a + b), 1 / a + 1 / b - (a + b) / (a * b)),
        ((x**2 - 1) / (x - 1) - (x - 1), (x**2 - 1) / (x - 1) - (x + 1)),
        (sp.sin(x) ** 2 + sp.cos(x) ** 2 - 2, sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1),
        (sp.log(a * b) - sp.log(a) + sp.log(b), sp.log(a * b) - sp.log(a) - sp.log(b)),
    ]
    for test, (false, true) in zip(_ZERO_TESTS, cases):
        assert test(false) != 0, false
        assert test(true) == 0, true
    assert not any(simplifies_to_zero(false) for false, _ in cases)
    assert all(simplifies_to_zero(true) for _, true in cases)


def test_cheap_zero_tests_as_steps():
    assert_rejected(one_step((s[i] + s[j]) ** 2, s[i] ** 2 + s[j] ** 2))
    assert_shown(one_step((s[i] + s[j]) ** 2, s[i] ** 2 + 2 * s[i] * s[j] + s[j] ** 2))
    assert_rejected(one_step(1 / s[i] + 1 / s[j], 2 / (s[i] + s[j])))
    assert_shown(one_step(1 / s[i] + 1 / s[j], (s[i] + s[j]) / (s[i] * s[j])))


def test_unroll_shares_repeated_subtrees_without_mixing_indices():
    # memoised: the same inner sum at two outer index values must not be reused across them
    inner = sp.Sum(z[mm] * z[kk], (mm, 1, kk))
    assert sp.expand(unroll(sp.Sum(inner, (kk, 1, 3))) - (z[1] ** 2 + z[1] * z[2] + z[2] ** 2 + z[1] * z[3]
                                                           + z[2] * z[3] + z[3] ** 2)) == 0
    twice = sp.Sum(z[kk], (kk, 1, 2)) * sp.Sum(z[kk], (kk, 1, 3))
    assert sp.expand(unroll(twice) - (z[1] + z[2]) * (z[1] + z[2] + z[3])) == 0
    assert_rejected(one_step(sp.Sum(sp.Sum(1, (mm, 1, kk)), (kk, 1, n)), n * n))


def test_shared_normal_forms_do_not_carry_a_verdict_between_steps():
    # a chain on one left-hand side normalizes it once; each step is still judged on its own
    lhs = D(sp.Sum(z[l] ** 2, (l, 1, n)), z[j])
    steps = (Step(lhs, 2 * z[j], "true"), Step(lhs, 3 * z[j], "false"), Step(lhs, 2 * z[j], "true again"),
             Step(sp.Sum(z[l], (l, 1, n - 1)), sp.Sum(z[l], (l, 1, n)), "sums over different ranges"))
    d = Derivation(name="chain", title="chain", summary="", statement=steps[-1].expr, steps=steps,
                   inputs=(LOGITS,), definitions=(SOFTMAX,), index_ranges=INDEX_RANGES, sizes={n: 3})
    methods = [r.method for r in d.prove().steps]
    assert methods == [SHOWN, FAILED, SHOWN, FAILED]

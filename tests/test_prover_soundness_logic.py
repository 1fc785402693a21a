"""The rules of gradproof.derivations.logic and the rewrites added with them, each fed a false
step it must reject — beside the true step it exists for, so a rule that does nothing fails too.

"Shown" is the strongest thing gradproof says; implications are never sampled at random points,
so for them a rule's verdict is the whole story.
"""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import index_range_rules, log_of_product
from gradproof.derivations.logic import At, Exists, Iff, statement_established
from gradproof.derivations.model import Assumption, Definition, Derivation, Input, Step
from gradproof.derivations.prove import FAILED, SHOWN, StepRecord

n = sp.Symbol("n", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True, positive=True)
a = sp.IndexedBase("a", real=True)  # any reals
p = sp.IndexedBase("p", positive=True)
q = sp.IndexedBase("q", positive=True)
x = sp.Symbol("x", positive=True)
r = sp.Symbol("r", real=True)
t = sp.Symbol("t", real=True)
phi = sp.Function("phi")
PHI = Definition(phi(x), (x,), x - 1 - sp.log(x), "phi")
INPUTS = (
    Input(a, (n,), "real"), Input(p, (n,), "simplex"), Input(q, (n,), "simplex"),
    Input(x, (), "positive"), Input(r, (), "real"), Input(t, (), "real"),
)


def proof(*steps, definitions=(PHI,), assumptions=(), ranges=None, statement=None):
    steps = tuple(Step(*s) if isinstance(s, tuple) else s for s in steps)
    d = Derivation(
        name="under-test", title="under test", summary="", statement=statement or steps[-1].expr,
        steps=steps, inputs=INPUTS, definitions=definitions, assumptions=assumptions,
        index_ranges=ranges or {i: n, j: n, k: n}, sizes={n: 3},
    )  # fmt: skip
    return d.prove()


def last(*steps, **kw):
    return proof(*steps, **kw).steps[-1]


def implies(premise, conclusion):
    return (premise, conclusion, "claim under test", "=>")


# -- implications --------------------------------------------------------------------------------


def test_substitution_for_every_index_and_for_a_fixed_one():
    kl = sp.Sum(p[k] * sp.log(p[k] / q[k]), (k, 1, n))
    assert last(implies(sp.Eq(q[i], p[i]), sp.Eq(kl, 0))).method == SHOWN  # i only in the premise: every i
    assert last(implies(sp.Eq(a[i], 1), sp.Eq(a[i] ** 2, 1))).method == SHOWN  # i fixed: that entry
    # i fixed across the implication: a_i = 1 says nothing about the other entries
    fixed = last(implies(sp.Eq(a[i], 1), sp.Eq(sp.Sum(a[k], (k, 1, n)), n * a[i])))
    assert fixed.method == FAILED, str(fixed)


def test_substitution_respects_the_premises_index_range():
    # q_i = p_i for i ≤ n − 1 says nothing about q_n
    ranges = {i: n - 1, j: n, k: n}
    rec = last(implies(sp.Eq(q[i], p[i]), sp.Eq(q[j], p[j])), ranges=ranges)
    assert rec.method == FAILED, str(rec)
    assert last(implies(sp.Eq(q[i], p[i]), sp.Eq(q[j], p[j]))).method == SHOWN


def test_substitution_refuses_a_variable_on_both_sides():
    # r = 2r holds only at r = 0, where r = 5 is false
    assert last(implies(sp.Eq(r, 2 * r), sp.Eq(r, 5))).method == FAILED
    assert last(implies(sp.Eq(r, 2), sp.Eq(r**2, 4))).method == SHOWN


def test_substitution_does_not_enter_a_derivative():
    # r = 1 ⇒ d(r²)/dr = 0 would follow from substituting before differentiating
    assert last(implies(sp.Eq(r, 1), sp.Eq(sp.Derivative(r**2, r), 0))).method == FAILED
    assert last(implies(sp.Eq(r, 1), sp.Eq(sp.Derivative(r**2, r), 2))).method == SHOWN


def test_rescaling_needs_a_factor_that_is_never_zero():
    assert last(implies(sp.Eq(a[i] * t, 0), sp.Eq(a[i], 0))).method == FAILED  # t may be 0
    assert last(implies(sp.Eq(a[i] * p[i], 0), sp.Eq(a[i], 0))).method == SHOWN  # p_i > 0
    assert last(implies(sp.Eq(r, 0), sp.Eq(r + 1, 0))).method == FAILED  # not a multiple


def test_zero_sum_needs_nonnegative_terms_and_the_whole_range():
    assert last(implies(sp.Eq(sp.Sum(a[k], (k, 1, n)), 0), sp.Eq(a[i], 0))).method == FAILED
    assert last(implies(sp.Eq(sp.Sum(a[k] ** 2, (k, 1, n)), 0), sp.Eq(a[i] ** 2, 0))).method == SHOWN
    short = last(implies(sp.Eq(sp.Sum(a[k] ** 2, (k, 1, n - 1)), 0), sp.Eq(a[i] ** 2, 0)))
    assert short.method == FAILED  # the sum stops before i = n


def test_unique_zero_needs_a_single_zero():
    real_r = last(implies(sp.Eq(r**2 - 1, 0), sp.Eq(r, 1)))
    assert real_r.method == FAILED  # r = -1 is a zero too
    assert last(implies(sp.Eq(x**2 - 1, 0), sp.Eq(x, 1))).method == SHOWN  # x > 0
    assert last(implies(sp.Eq(sp.sin(r), 0), sp.Eq(r, 0))).method == FAILED
    # flat for every r ≤ 1: a non-smooth function is refused
    assert last(implies(sp.Eq(sp.Abs(r - 1) + r - 1, 0), sp.Eq(r, 1))).method == FAILED
    assert last(implies(sp.Eq(phi(x), 0), sp.Eq(x, 1))).method == SHOWN
    assert last(implies(sp.Eq(phi(x), 0), sp.Eq(x, 2))).method == FAILED


def test_unique_zero_refuses_another_entry_of_the_same_vector():
    # (a_i - a_j)^2 = 0 forces a_i = a_j, not a_i = 0
    rec = last(implies(sp.Eq((a[i] - a[j]) ** 2, 0), sp.Eq(a[i], 0)))
    assert rec.method == FAILED


def test_chain_of_implications():
    s1 = implies(sp.Eq(x**2, 1), sp.Eq(x, 1))
    s2 = implies(sp.Eq(x, 1), sp.Eq(phi(x), 0))
    assert last(s1, s2, implies(sp.Eq(x**2, 1), sp.Eq(phi(x), 0))).method == SHOWN
    # a failed link breaks the chain
    bad = implies(sp.Eq(x, 1), sp.Eq(phi(x), 1))
    assert last(s1, bad, implies(sp.Eq(x**2, 1), sp.Eq(phi(x), 1))).method == FAILED


def test_chain_respects_fixed_indices():
    # (a_i = 0 for every i) ⇒ Σ a_k² = 0 ⇒ a_i + a_1 = 0, but a_i = 0 alone does not give a_i + a_1 = 0
    from gradproof.derivations import logic

    d = Derivation(name="t", title="t", summary="", statement=sp.Eq(r, r), steps=(Step(r, r, "x"),),
                   inputs=INPUTS, index_ranges={i: n, k: n}, sizes={n: 3})
    sq = sp.Sum(a[k] ** 2, (k, 1, n))
    links = [
        (Step(sp.Eq(a[i], 0), sp.Eq(sq, 0), "all zero", "=>"), StepRecord(1, "", SHOWN, "")),
        (Step(sp.Eq(sq, 0), sp.Eq(a[i] + a[1], 0), "given", "=>"), StepRecord(2, "", SHOWN, "")),
    ]
    target = Step(sp.Eq(a[i], 0), sp.Eq(a[i] + a[1], 0), "chained", "=>")
    assert logic.prove_implication(d, target, 3, links).method == FAILED
    # the same chain read with i free only in the premise is fine
    ok = Step(sp.Eq(a[i], 0), sp.Eq(a[1], 0), "chained", "=>")
    links[1] = (Step(sp.Eq(sq, 0), sp.Eq(a[1], 0), "given", "=>"), StepRecord(2, "", SHOWN, ""))
    assert logic.prove_implication(d, ok, 3, links).method == SHOWN


def test_implications_are_never_checked_at_points():
    # true, but no rule covers it: it must fail rather than be sampled
    rec = last(implies(sp.Eq(r**3, 8), sp.Eq(r, 2)))
    assert rec.method == FAILED and "never checked at random points" in rec.detail


# -- inequalities --------------------------------------------------------------------------------


def test_sign_rule():
    assert last((p[i] * a[i] ** 2, 0, "why", ">=")).method == SHOWN
    assert last((a[i] * p[i], 0, "why", ">=")).method == FAILED  # a_i may be negative
    # a possibly empty sum is 0, not positive
    assert last((sp.Sum(p[k], (k, 1, n - 1)), 0, "why", ">")).method == FAILED
    assert last((sp.Sum(p[k], (k, 1, n)), 0, "why", ">")).method == SHOWN


def test_facts_instantiated_only_in_their_domain():
    lemma = (phi(x), 0, "lemma", ">=")
    assert last(lemma, (p[i] * phi(q[i] / p[i]), 0, "use", ">=")).method == SHOWN
    # the lemma holds for x > 0; at a real argument it says nothing (and φ(r) is complex for r < 0)
    assert last(lemma, (phi(r), 0, "use", ">=")).method == FAILED
    # a fact F ≥ 0 never shows F > 0
    assert last(lemma, (phi(q[i] / p[i]), 0, "use", ">")).method != SHOWN


def test_a_defined_symbols_declared_sign_is_not_evidence():
    L = sp.Symbol("L", positive=True)  # declared positive, defined as something that is not
    defs = (PHI, Definition(L, (), -x))
    assert last((L, 0, "why", ">"), definitions=defs).method == FAILED


def test_one_variable_minimum():
    assert last((phi(x), 0, "lemma", ">=")).method == SHOWN
    # φ(1) = 0: false at a single point, which random points miss; the rule must not show it
    assert last((phi(x), 0, "lemma", ">")).method != SHOWN
    assert last((x - sp.log(x), 2, "false", ">=")).method == FAILED  # the minimum is 1
    # a single critical point that is a maximum, not a minimum: 1 − (r − 1)² ≥ 0 is false for |r − 1| > 1
    assert last((1 - (r - 1) ** 2, 0, "false", ">=")).method != SHOWN
    # two critical points, unbounded below; false only for r < -2, outside the sampled (-2, 2), so
    # the point checks pass it: the rule must not call it shown
    assert last((r**3 - 3 * r, -2, "false", ">=")).method != SHOWN


def test_chain_of_relations():
    s1 = (r**2 + 1, r**2 + 1 + 0 * r, "same", "=")
    s2 = (r**2 + 1, 1, "sq", ">=")
    assert last(s1, s2, (r**2 + 1, 1, "chain", ">=")).method == SHOWN
    assert last(s2, (r**2 + 1, 1, "backwards", "<=")).method == FAILED


def test_rounding_rule():
    N, B = sp.symbols("N B", integer=True, positive=True)
    inputs = (Input(N, (), "count"), Input(B, (), "count"))

    def one(lhs, rhs, rel):
        d = Derivation(name="t", title="t", summary="", statement=RELS[rel](lhs, rhs), steps=(Step(lhs, rhs, "r", rel),),
                       inputs=inputs)
        return d.prove().steps[0]

    T = sp.ceiling(N / B)
    assert one(B * T, N, ">=").method == SHOWN
    assert one(B * (T - 1), N, "<").method == SHOWN
    assert one(B * sp.floor(N / B), N, ">=").method == FAILED  # ⌊N/B⌋ batches may miss samples
    assert one(B * (T - 1), N - 1, "<").method == FAILED  # the last batch may hold a single sample
    assert one(N - B * (T - 1), 1, ">=").method == SHOWN  # integer: > 0 means ≥ 1
    assert one(N - B * (T - 1), 2, ">=").method == FAILED
    # ⌈x⌉ ≥ x + 1/2 is false (x an integer); d + 1 > 0 proves d ≥ 0 only for an integer d
    assert one(T, N / B + sp.Rational(1, 2), ">=").method != SHOWN


RELS = {"=": sp.Eq, ">=": sp.Ge, "<=": sp.Le, ">": sp.Gt, "<": sp.Lt, "!=": sp.Ne}


# -- closed relations, witnesses, statements ------------------------------------------------------


def test_closed_unequal_is_decided_exactly():
    H = sp.Function("H")
    defs = (Definition(H(p, q), (), -sp.Sum(p[k] * sp.log(q[k]), (k, 1, n))),
            Definition(H(q, p), (), -sp.Sum(q[k] * sp.log(p[k]), (k, 1, n))))
    half = (sp.Rational(1, 2), sp.Rational(1, 2))
    coin = ((p, half), (q, (sp.Rational(4, 5), sp.Rational(1, 5))), (n, 2))
    same = ((p, half), (q, half), (n, 2))
    ok = last((At.make(H(p, q), coin), At.make(H(q, p), coin), "witness", "!="), definitions=defs)
    assert ok.method == SHOWN
    bad = last((At.make(H(p, q), same), At.make(H(q, p), same), "witness", "!="), definitions=defs)
    assert bad.method == FAILED
    assert last((sp.log(4), 2 * sp.log(2), "equal numbers", "!=")).method == FAILED


def test_at_binds_its_point():
    pt = At.make(sp.Sum(p[k], (k, 1, n)), ((p, (sp.Rational(1, 3), sp.Rational(2, 3))), (n, 2)))
    assert pt.free_symbols == set()
    assert pt.xreplace({n: 5}).doit() == 1  # the outer size does not reach inside


def test_statement_established():
    A, B_ = sp.Eq(x, 1), sp.Eq(phi(x), 0)
    forward, backward = Step(A, B_, "", "=>"), Step(B_, A, "", "=>")
    assert statement_established(Iff(A, B_), [forward, backward])
    assert not statement_established(Iff(A, B_), [forward])
    H = sp.Function("H")
    pt = ((p, (1, 0)), (q, (0, 1)), (n, 2))
    witness = Step(At.make(H(p, q), pt), At.make(H(q, p), pt), "", "!=")
    assert statement_established(Exists((p, q), sp.Ne(H(p, q), H(q, p))), [witness])
    # at two different points the step is no witness of the claim
    other = ((p, (1, 0)), (q, (1, 0)), (n, 2))
    mixed = Step(At.make(H(p, q), pt), At.make(H(q, p), other), "", "!=")
    assert not statement_established(Exists((p, q), sp.Ne(H(p, q), H(q, p))), [mixed])
    # an equation at the point is no witness of an inequality
    eq = Step(At.make(H(p, q), pt), At.make(H(q, p), pt), "", "=")
    assert not statement_established(Exists((p, q), sp.Ne(H(p, q), H(q, p))), [eq])
    both = sp.And(sp.Ge(r, 0), Iff(A, B_))
    assert statement_established(both, [Step(r, 0, "", ">="), forward, backward])
    assert not statement_established(both, [forward, backward])


# -- rewrites ----------------------------------------------------------------------------------------


def test_log_of_product_only_for_positive_factors():
    assert log_of_product(sp.log(sp.Product(p[k], (k, 1, n)))) == sp.Sum(sp.log(p[k]), (k, 1, n))
    negative = sp.log(sp.Product(a[k], (k, 1, n)))
    assert log_of_product(negative) == negative  # log((-1)(-1)) = 0, but log(-1) is not real
    with_rule = (Assumption("", rewrite=log_of_product),)
    assert last((sp.log(sp.Product(p[k] ** 2, (k, 1, n))), 2 * sp.Sum(sp.log(p[k]), (k, 1, n)), "log"),
                assumptions=with_rule).method == SHOWN
    # the rule must not turn log Π a_k² into 2 Σ log a_k for real a_k (false at a = (-1, -1, -1))
    rec = last((sp.log(sp.Product(a[k] ** 2, (k, 1, n))), 2 * sp.Sum(sp.log(a[k]), (k, 1, n)), "log"),
               assumptions=with_rule)
    assert rec.method == FAILED


def test_index_range_rules():
    rules = index_range_rules({i: n, k: n + 1})
    peeled = rules(sp.Sum(a[k], (k, 1, n + 1)))
    assert peeled == sp.Sum(a[k], (k, 1, n)) + a[n + 1]
    assert rules(sp.KroneckerDelta(i, n + 1)) == 0  # i ≤ n
    assert rules(sp.KroneckerDelta(k, n + 1)) == sp.KroneckerDelta(k, n + 1)  # k may be n + 1
    assert rules(sp.Piecewise((a[i], i <= n + 1), (0, True))) == a[i]
    assert rules(sp.Piecewise((a[k], k <= n), (0, True))) == sp.Piecewise((a[k], k <= n), (0, True))
    # a sum that may run backwards is left alone: Σ_{k=5}^{n+1} with n ≥ 1 possibly below 4
    backwards = sp.Sum(a[k], (k, 5, n + 1))
    assert rules(backwards) == backwards
    # false step: Σ_{k=1}^{n+1} a_k = Σ_{k=1}^{n} a_k must stay unproved with the rules on
    rec = last((sp.Sum(a[k], (k, 1, n + 1)), sp.Sum(a[k], (k, 1, n)), "drop a term"),
               assumptions=(Assumption("", rewrite=rules),), ranges={i: n, j: n, k: n + 1})
    assert rec.method == FAILED


def test_binary_case_split():
    y = sp.IndexedBase("y", real=True)
    inputs = (Input(y, (n,), "binary"), Input(p, (n,), "simplex"))
    lhs, rhs = p[i] ** y[i] * (1 + p[i]) ** (1 - y[i]), y[i] * p[i] + (1 - y[i]) * (1 + p[i])
    d = Derivation(name="t", title="t", summary="", statement=sp.Eq(lhs, rhs), steps=(Step(lhs, rhs, "b"),),
                   inputs=inputs, index_ranges={i: n}, sizes={n: 3})
    assert d.prove().steps[0].method == SHOWN
    wrong = y[i] * (1 + p[i]) + (1 - y[i]) * p[i]
    d2 = Derivation(name="t", title="t", summary="", statement=sp.Eq(lhs, wrong), steps=(Step(lhs, wrong, "b"),),
                    inputs=inputs, index_ranges={i: n}, sizes={n: 3})
    assert d2.prove().steps[0].method == FAILED
    # for real (not binary) y the same identity is false and is not shown
    d3 = Derivation(name="t", title="t", summary="", statement=sp.Eq(lhs, rhs), steps=(Step(lhs, rhs, "b"),),
                    inputs=(Input(y, (n,), "real"), Input(p, (n,), "simplex")), index_ranges={i: n}, sizes={n: 3})
    assert d3.prove().steps[0].method == FAILED

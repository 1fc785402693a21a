"""The exact-point checker's counterexample (added for the step checker): a failed step carries
the point where its sides differ, and the sides really differ there; a step that holds, or one
that cannot be evaluated, carries none."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import INDEX_RANGES, LABELS_SIMPLEX, LOGITS, SOFTMAX, i, j, l, n, s, z
from gradproof.derivations.model import Derivation, Step
from gradproof.derivations.prove import FAILED, check_at_points, check_numerically, unroll


def derivation(lhs, rhs, relation="="):
    step = Step(lhs, rhs, "under test", relation)
    return Derivation(
        name="under-test", title="", summary="", statement=step.expr, steps=(step,), inputs=(LOGITS, LABELS_SIMPLEX),
        definitions=(SOFTMAX,), index_ranges=INDEX_RANGES, sizes={n: 3},
    )  # fmt: skip


def test_failed_step_carries_a_point_where_the_sides_differ():
    lhs, rhs = s[i] * (1 - s[j]), s[i] * (sp.KroneckerDelta(i, j) - s[j])  # wrong off the diagonal
    d = derivation(sp.Derivative(s[i], z[j]), rhs)
    record = d.prove().steps[0]
    assert record.method != FAILED and record.counterexample is None  # the true Jacobian holds
    d = derivation(sp.Derivative(s[i], z[j]), lhs)
    record = d.prove().steps[0]
    assert record.method == FAILED
    ce = record.counterexample
    assert ce is not None and set(ce.indices) == {i, j} and ce.indices[i] != ce.indices[j]
    assert set(ce.sizes) == {n} and ce.sizes[n] >= 2
    # the reported point, evaluated again from scratch, gives the reported values
    for side, value in ((sp.Derivative(s[i], z[j]), ce.lhs), (lhs, ce.rhs)):
        point = unroll(d.concretize(side, ce.sizes).xreplace(ce.indices)).doit().xreplace(ce.values)
        assert abs(sp.N(point, 40) - sp.N(value, 40)) < 1e-30
    assert abs(sp.N(ce.lhs - ce.rhs, 30)) > 1e-6
    assert all(v.is_Rational for v in ce.values.values())


def test_true_step_and_unevaluable_step_carry_no_counterexample():
    ok, _, ce = check_at_points(derivation(s[i], sp.exp(z[i]) / sp.Sum(sp.exp(z[l]), (l, 1, n))), s[i],
                                sp.exp(z[i]) / sp.Sum(sp.exp(z[l]), (l, 1, n)), "=")  # fmt: skip
    assert ok and ce is None
    f = sp.Function("f")
    ok, detail, ce = check_at_points(derivation(f(z[i]), 0), f(z[i]), sp.S.Zero, "=")
    assert not ok and ce is None and "could not evaluate" in detail


def test_check_numerically_keeps_its_two_value_result():
    result = check_numerically(derivation(s[i], 0, ">"), s[i], sp.S.Zero, ">")
    assert isinstance(result, tuple) and len(result) == 2 and result[0] is True


def test_a_side_that_is_the_free_index_alone():
    # index values are SymPy integers: substituting into a bare index gave a Python int and crashed
    kk = sp.Symbol("kk", integer=True, nonnegative=True)
    step = Step(sp.Max(kk, 1), kk, "under test")
    d = Derivation(name="t", title="", summary="", statement=step.expr, steps=(step,), index_ranges={kk: (0, n - 1)},
                   sizes={n: 3})  # fmt: skip
    record = d.prove().steps[0]
    assert record.method == FAILED and record.counterexample.indices == {kk: 0}
    ok, _, _ = check_at_points(d, kk + 0, kk, "=")
    assert ok

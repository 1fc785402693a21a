"""instantiate (one pass: indices, sums written out, entries, evaluation) against the general path
it replaces (xreplace, unroll, doit, xreplace), on the shapes of expression the catalog has."""

from __future__ import annotations

import pytest
import sympy as sp

from gradproof.derivations.instantiate import Instantiator, can_instantiate, instantiate
from gradproof.derivations.prove import unroll

i, j, k, m, q = sp.symbols("i j k m q", integer=True)
z = sp.IndexedBase("z", real=True)
W = sp.IndexedBase("W", real=True)
n = sp.IndexedBase("n", positive=True)
x = sp.Symbol("x", real=True)

CASES = [
    sp.Sum(sp.exp(z[k]), (k, 1, 3)) / sp.Sum(sp.exp(z[m]), (m, 1, 3)),
    sp.Sum(sp.Sum(W[q, k] * z[k], (k, 1, q)), (q, 1, 3)) + i,  # an inner limit uses the outer index
    sp.Sum(z[k] * sp.Sum(z[k], (k, 1, 2)), (k, 1, 2)),  # an inner sum reuses the outer index name
    sp.Sum(z[k], (k, 1, 0)) + sp.Product(z[k], (k, 3, 2)),  # empty: 0 and 1, not Karr
    sp.Sum(z[k] * W[q, j], (k, 2, 4), (q, 1, 2)),  # several limits in one Sum
    sp.Derivative(sp.Sum(W[i, k] ** 2 * z[k], (k, 1, 3)), W[i, j]),  # a derivative with respect to an entry
    sp.KroneckerDelta(i, j) * z[i] + sp.Max(z[i], z[j]),
    sp.Sum(1, (k, 1, n[2])) + sp.Sum(k, (k, 1, 3)),  # a limit that is itself an input
]


def _general(expr, env):
    return unroll(expr.xreplace({s: sp.Integer(v) for s, v in env.items()})).doit()


@pytest.mark.parametrize("expr", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("env", [{i: 1, j: 2}, {i: 2, j: 2}, {i: 3, j: 1}], ids=["i1j2", "i2j2", "i3j1"])
def test_same_as_the_general_path(expr, env):
    assert sp.simplify(instantiate(expr, env) - _general(expr, env)) == 0


def test_entries_become_leaves_and_repeated_subtrees_are_shared():
    leaves = {(z, (v,)): sp.Symbol(f"z{v}") for v in range(1, 4)}
    fill = Instantiator(leaves)
    softmax = sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 1, 3))
    outs = [fill(softmax, {i: v}) for v in (1, 2, 3)]
    assert not any(o.has(sp.Indexed) for o in outs)
    denominators = {sp.fraction(o)[1] for o in outs}
    assert len(denominators) == 1  # the same object, built once
    assert sp.simplify(sum(outs) - 1) == 0


def test_other_binders_take_the_general_path():
    t = sp.Symbol("t")
    assert not can_instantiate(sp.Subs(sp.Derivative(sp.Function("f")(t), t), t, z[i]))
    assert not can_instantiate(sp.Integral(z[i] * x, (x, 0, 1)))
    assert can_instantiate(CASES[0])

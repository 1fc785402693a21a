"""An expression at concrete sizes, written out for given index values, in one pass.

``instantiate(expr, env, leaves)`` returns ``expr`` with every index symbol in ``env`` replaced
by its value, every sum and product with concrete limits written out term by term (a range
with no values gives 0, or 1 for a product: the reader's convention, not SymPy's Karr
convention), every entry ``X[1, 2]`` of an input replaced by ``leaves[(X, (1, 2))]`` (a symbol
for compiling, an exact number for checking) and whatever is left to evaluate (derivatives,
expectations) evaluated.

It gives what ``xreplace`` + :func:`gradproof.derivations.prove.unroll` + ``doit`` +
``xreplace`` give, without building the intermediate trees: building an ``Indexed`` re-derives
its assumptions, which was most of the cost of compiling a claim.  Repeated subtrees (a
softmax's denominator in every entry) are built once per value of the indices they use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

# expressions that bind a symbol other than through sums and products: left to the slower,
# general path (see :func:`can_instantiate`)
_OTHER_BINDERS = (sp.Subs, sp.Lambda, sp.Integral)


def can_instantiate(expr: sp.Basic) -> bool:
    """Whether :func:`instantiate` handles ``expr`` (it does not rename variables bound by
    ``Subs``, ``Lambda`` or ``Integral``)."""
    return not expr.has(*_OTHER_BINDERS)


class Instantiator:
    """:func:`instantiate` for many index values of the same expressions, sharing its memo."""

    def __init__(self, leaves: Mapping[tuple, Any]) -> None:
        self.leaves = leaves
        self._vars: dict = {}
        self._memo: dict = {}

    def __call__(self, expr: sp.Basic, env: Mapping[sp.Symbol, int]) -> sp.Basic:
        return self._inst(expr, dict(env))

    # the index symbols a subtree's value depends on (so that its memo key holds only those)
    def _free(self, e: sp.Basic) -> frozenset:
        hit = self._vars.get(e)
        if hit is not None:
            return hit
        if isinstance(e, sp.Symbol):
            out = frozenset((e,))
        elif not e.args:
            out = frozenset()
        elif isinstance(e, (sp.Sum, sp.Product)):
            out = self._free(e.function)
            for var, lo, hi in e.limits:  # innermost first: an outer limit binds what is inside
                out = (out - {var}) | self._free(lo) | self._free(hi)
        elif isinstance(e, sp.Indexed):
            out = frozenset().union(*(self._free(i) for i in e.indices))
        else:
            out = frozenset().union(*(self._free(a) for a in e.args))
        self._vars[e] = out
        return out

    def _inst(self, e: sp.Basic, env: dict) -> sp.Basic:
        if isinstance(e, sp.Symbol):
            value = env.get(e)
            return e if value is None else sp.Integer(value)
        if not e.args:
            return e
        key = (e, frozenset((s, env[s]) for s in self._free(e) if s in env))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        out = self._build(e, env)
        self._memo[key] = out
        return out

    def _build(self, e: sp.Basic, env: dict) -> sp.Basic:
        if isinstance(e, sp.Indexed):
            indices = tuple(self._inst(i, env) for i in e.indices)
            if all(i.is_Integer for i in indices):
                leaf = self.leaves.get((e.base, tuple(int(i) for i in indices)))
                if leaf is not None:
                    return leaf
            return e.base[indices]
        if isinstance(e, (sp.Sum, sp.Product)):
            return self._write_out(e, list(e.limits), env)
        args = [self._inst(a, env) for a in e.args]
        new = e if all(a is b for a, b in zip(args, e.args)) else e.func(*args)
        if isinstance(new, (sp.Add, sp.Mul)) or not new.args:
            return new  # built evaluated; doit(deep=False) would only rebuild them
        done = new.doit(deep=False)
        if done is not new and done.has(sp.Sum, sp.Product):  # e.g. an expectation written as a sum
            done = self._inst(done, {})
        return done

    def _write_out(self, e: sp.Basic, limits: list, env: dict) -> sp.Basic:
        """The outermost limit written out, the rest recursively (an inner limit may use it)."""
        var, lo, hi = limits[-1]
        lo_v, hi_v = self._inst(lo, env), self._inst(hi, env)
        inner = limits[:-1]
        if not (lo_v.is_Integer and hi_v.is_Integer):  # a limit that is an input (a layer width)
            body = e.func(e.function, *inner) if inner else e.function
            kept = e.func(self._inst(body, {k: v for k, v in env.items() if k != var}), (var, lo_v, hi_v))
            return kept.doit(deep=False)  # SymPy sums it in closed form where it can
        terms = []
        for value in range(int(lo_v), int(hi_v) + 1):
            scope = {**env, var: value}
            terms.append(self._write_out(e, inner, scope) if inner else self._inst(e.function, scope))
        return sp.Add(*terms) if isinstance(e, sp.Sum) else sp.Mul(*terms)


def instantiate(expr: sp.Basic, env: Mapping[sp.Symbol, int], leaves: Mapping[tuple, Any] | None = None) -> sp.Basic:
    """See the module docstring; ``leaves`` maps ``(base, index values)`` to what replaces that
    entry (entries not in it stay ``Indexed``)."""
    return Instantiator(leaves or {})(expr, env)

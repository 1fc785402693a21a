"""A sound *negative* zero test: an expression that has a clearly nonzero value at one point
of its domain is not identically 0.

SymPy's rewrites (``expand``, ``cancel``, ``simplify``…) keep an expression's value wherever it
is defined, under the assumptions of its symbols.  So when the expression, evaluated exactly at
a point that satisfies every symbol's assumptions (integer, positive, real…), is a finite number
far from 0, none of those rewrites can turn it into 0, and the prover may skip them: a skip
never makes a step *shown*, it only saves the seconds a doomed ``simplify`` takes.

Every symbol and every indexed entry (``y_i`` after ``i`` has a value) is a variable of its
own: SymPy's rewrites know nothing more about them than their assumptions, so a point that
respects the assumptions is a legal point for them, even one that breaks the derivation's
facts (``Σ y = 1``), which those rewrites never see.  Anything that does not evaluate to a
finite number (an undefined function, a division by 0 at the point, a value too close to 0 to
tell) gives no verdict.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.assumptions import _assume_defined

# candidate values, tried in order until one satisfies a variable's assumptions; distinct
# variables take distinct values (shifted along the list), so that no two cancel by coincidence
_INTEGERS = tuple(sp.Integer(v) for v in (2, 3, 5, 7, 11, 13, 4, 6, 1, 0, -2, -3, -5, -1))
_RATIONALS = tuple(sp.Rational(p, q) for p, q in ((3, 7), (5, 11), (7, 13), (11, 17), (13, 19), (17, 23),
                                                  (-3, 7), (-5, 11), (-7, 13), (19, 29)))
_CANDIDATES = _RATIONALS + _INTEGERS

# a value counts as nonzero only beyond this, relative to the size of its terms: evaluated to 30
# digits, an expression that is 0 comes out below 1e-25 of its terms
RELATIVE_MARGIN = sp.Float("1e-12", 30)
_DIGITS = 30


def _satisfies(value: sp.Expr, variable: sp.Basic) -> bool:
    """Whether ``value`` has every property SymPy knows ``variable`` to have (or not have)."""
    for fact in _assume_defined:
        known = getattr(variable, f"is_{fact}")
        if known is not None and getattr(value, f"is_{fact}") != known:
            return False
    return True


def _value_for(variable: sp.Basic, start: int) -> sp.Expr | None:
    """The first candidate (cycling from ``start``) that satisfies ``variable``'s assumptions."""
    pool = _INTEGERS if variable.is_integer else _CANDIDATES
    for k in range(len(pool)):
        value = pool[(start + k) % len(pool)]
        if _satisfies(value, variable):
            return value
    return None


def _assign(variables: list, taken: int) -> dict | None:
    out = {}
    for k, var in enumerate(sorted(variables, key=sp.default_sort_key)):
        value = _value_for(var, taken + k)
        if value is None:
            return None
        out[var] = value
    return out


def point_value(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """``expr`` evaluated to 30 digits at a point satisfying its variables' assumptions, with the
    sum of its terms' magnitudes there; None when it cannot be evaluated to a finite number."""
    labels = {b.label for b in expr.atoms(sp.IndexedBase)}
    symbols = [s for s in expr.free_symbols if isinstance(s, sp.Symbol) and s not in labels]
    first = _assign(symbols, 0)
    if first is None:
        return None
    try:
        concrete = expr.xreplace(first)
        entries = list(concrete.atoms(sp.Indexed))
        if any(i.free_symbols for e in entries for i in e.indices):
            return None  # an entry whose index is still symbolic
        second = _assign(entries, len(symbols))
        if second is None:
            return None
        concrete = concrete.xreplace(second)
        terms = [sp.N(t, _DIGITS) for t in sp.Add.make_args(concrete)]
    except Exception:  # noqa: BLE001 - anything SymPy cannot evaluate gives no verdict
        return None
    total = sp.N(sp.Add(*terms), _DIGITS)
    scale = sp.Add(*[abs(t) for t in terms])
    if not (total.is_number and total.is_finite and scale.is_finite):
        return None
    return total, scale


def nonzero_somewhere(expr: Any) -> bool:
    """True when ``expr`` is certainly not identically 0: at a point satisfying its symbols'
    assumptions it evaluates to a finite number beyond :data:`RELATIVE_MARGIN` of its terms.
    False means no verdict (not "zero")."""
    expr = sp.sympify(expr)
    if not isinstance(expr, sp.Expr):
        return False
    found = point_value(expr)
    if found is None:
        return False
    total, scale = found
    return bool(abs(total) > RELATIVE_MARGIN * (1 + scale))

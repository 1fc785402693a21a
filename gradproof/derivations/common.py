"""Symbols and definitions shared by several derivations, in the lectures' notation."""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradproof.derivations.model import Assumption, Definition, Input

# class count and indices (indices run 1..n; their ranges are assumptions of each derivation)
n = sp.Symbol("n", integer=True, positive=True)
i, j, k, l = sp.symbols("i j k l", integer=True, positive=True)

z = sp.IndexedBase("z", real=True)  # logits
s = sp.IndexedBase("s", positive=True)  # softmax outputs
y = sp.IndexedBase("y", nonnegative=True)  # labels / target distribution

INDEX_RANGES = {i: n, j: n, k: n, l: n}


class StableMax(sp.Function):
    """max of its arguments, opaque to SymPy: only used inside numerically stable forms.

    SymPy's own ``Max`` spends seconds comparing symbolic arguments; this one is left alone and
    compiled to ``max`` by :mod:`gradproof.derivations.numeric`.  It has no derivative on purpose:
    a stable form is for evaluation only, never for symbolic differentiation.
    """

    nargs = None

    def _eval_is_extended_real(self):
        # the max of reals is real: lets SymPy fold log(exp(x)) = x in stable forms (−log P)
        return True if all(a.is_extended_real for a in self.args) else None


def softmax_sum(var: sp.Symbol = l) -> sp.Sum:
    return sp.Sum(sp.exp(z[var]), (var, 1, n))


def _stable_softmax(sizes: dict, idx: sp.Expr) -> sp.Expr:
    # exp(z_i − max z) / Σ exp(z_k − max z): the same value (softmax-shift-invariance), no overflow
    size = int(sizes[n])
    m = StableMax(*[z[q] for q in range(1, size + 1)])
    return sp.exp(z[idx] - m) / sp.Add(*[sp.exp(z[q] - m) for q in range(1, size + 1)])


SOFTMAX = Definition(
    target=s,
    index=(i,),
    expr=sp.exp(z[i]) / softmax_sum(l),
    text="s_i = e^{z_i} / Σ_l e^{z_l}",
    numeric=_stable_softmax,
)

LOGITS = Input(z, (n,), "real", "logits (raw scores), one per class")
LABELS_SIMPLEX = Input(y, (n,), "simplex", "labels: a probability vector (one-hot or soft)")


def sum_to_one(base: sp.IndexedBase, upper: sp.Expr = n):
    """A rewrite for the fact Σ_{k=1}^{upper} base_k = 1, whatever the summation index is called."""

    def is_total(e: sp.Basic) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        var, lo, hi = e.limits[0]
        return e.function == base[var] and lo == 1 and hi == upper

    def rewrite(expr: sp.Expr) -> sp.Expr:
        return expr.replace(is_total, lambda e: sp.S.One)

    return rewrite


LABELS_SUM_TO_ONE = Assumption(
    text=r"the labels form a probability vector: $y_i \geq 0$ and $\sum_i y_i = 1$",
    rewrite=sum_to_one(y),
)


def _log_of_positive_product(e: sp.Basic) -> bool:
    return isinstance(e, sp.log) and isinstance(e.args[0], sp.Product) and bool(e.args[0].function.is_positive)


def log_of_product(expr: sp.Expr) -> sp.Expr:
    """log Π_k f_k → Σ_k log f_k, only where SymPy knows every factor f_k is positive (for a
    possibly negative factor the rewrite is false: log((-1)(-1)) = 0, but log(-1) is not real).
    Nested products are opened from the outside in."""
    for _ in range(4):
        new = expr.replace(
            _log_of_positive_product, lambda e: sp.Sum(sp.log(e.args[0].function), *e.args[0].limits)
        )
        if new == expr:
            return expr
        expr = new
    return expr


LOG_OF_PRODUCT = Assumption(
    text="",  # a rule of algebra, not an assumption: applied where every factor is positive
    rewrite=log_of_product,
)


def index_range_rules(index_ranges: dict):
    """A rewrite for sums that run a few terms past a size (Σ_{m=1}^{d+1}, the augmented vectors
    of bias-as-weight):

    * Σ_{m=lo}^{u+c} f(m) → Σ_{m=lo}^{u} f(m) + f(u+1) + … + f(u+c) for an integer 1 ≤ c ≤ 4, when
      u ≥ lo − 1 is known (the shorter sum is empty at worst, never backwards);
    * δ(e, k) = 0 when e lies beyond the range of the index k: declared in ``index_ranges`` (an
      upper end or (lo, hi), as Derivation.index_ranges) or, for a summation index, its sum's;
    * a Piecewise whose first condition compares an index with a bound its range decides
      (k ≤ d + 1 for k ≤ d) keeps the branch that applies.
    """

    def bounds(var, sums):
        if var in sums:
            return sums[var]
        value = index_ranges[var]
        return (sp.sympify(value[0]), sp.sympify(value[1])) if isinstance(value, tuple) else (sp.S.One, sp.sympify(value))

    def peel(e: sp.Sum) -> sp.Expr:
        if len(e.limits) != 1:
            return e
        var, lo, hi = e.limits[0]
        c, base = hi.as_coeff_Add()
        if not (c.is_Integer and 0 < c <= 4) or not (base - lo + 1).is_nonnegative:
            return e
        tail = [e.function.xreplace({var: base + t}) for t in range(1, int(c) + 1)]
        return sp.Sum(e.function, (var, lo, base)) + sp.Add(*tail)

    def zero_outside(expr: sp.Expr, sums: dict) -> sp.Expr:
        def outside(delta: sp.Basic) -> bool:
            if not isinstance(delta, sp.KroneckerDelta):
                return False
            for idx, other in (delta.args, delta.args[::-1]):
                if idx in sums or idx in index_ranges:
                    lo, hi = bounds(idx, sums)
                    if (other - hi).is_positive or (lo - other).is_positive:
                        return True
            return False

        if isinstance(expr, sp.Sum):
            inner = dict(sums)
            inner.update({v: (lo, hi) for v, lo, hi in expr.limits})
            return sp.Sum(zero_outside(expr.function, inner), *expr.limits)
        if outside(expr):
            return sp.S.Zero
        if isinstance(expr, sp.Piecewise) and len(expr.args) >= 2:
            value, cond = expr.args[0]
            decided = decide(cond, sums)
            if decided is True:
                return zero_outside(value, sums)
            if decided is False:
                rest = expr.args[1:]
                return zero_outside(rest[0][0] if rest[0][1] == sp.true else sp.Piecewise(*rest), sums)
        if not expr.args:
            return expr
        return expr.func(*[zero_outside(a, sums) for a in expr.args])

    def decide(cond: sp.Basic, sums: dict):
        """True or False where the index ranges settle ``cond``, else None."""
        if isinstance(cond, sp.And):
            parts = [decide(c, sums) for c in cond.args]
            return False if False in parts else (True if all(p is True for p in parts) else None)
        if not isinstance(cond, (sp.Le, sp.Lt, sp.Ge, sp.Gt)):
            return None
        lhs, rhs = cond.lhs, cond.rhs
        if lhs in sums or lhs in index_ranges:
            idx, other, below = lhs, rhs, isinstance(cond, (sp.Le, sp.Lt))  # idx ≤ other
        elif rhs in sums or rhs in index_ranges:
            idx, other, below = rhs, lhs, isinstance(cond, (sp.Ge, sp.Gt))  # other ≥ idx
        else:
            return None
        strict = isinstance(cond, (sp.Lt, sp.Gt))
        lo, hi = bounds(idx, sums)
        if below:  # idx ≤ other (idx < other)
            if (other - hi).is_positive or (not strict and (other - hi).is_nonnegative):
                return True
            if (lo - other).is_positive or (strict and (lo - other).is_nonnegative):
                return False
        else:  # idx ≥ other (idx > other)
            if (lo - other).is_positive or (not strict and (lo - other).is_nonnegative):
                return True
            if (other - hi).is_positive or (strict and (other - hi).is_nonnegative):
                return False
        return None

    def rewrite(expr: sp.Expr) -> sp.Expr:
        return zero_outside(expr.replace(lambda x: isinstance(x, sp.Sum), peel), {})

    return rewrite


class Named(sp.Symbol):
    """A symbol with its own spelling in LaTeX and in text (‖g‖, D_u L), where SymPy would
    print the name as subscripts.  ``Named("gnorm", r"\\|g\\|", "‖g‖", positive=True)``."""

    _spellings: dict = {}

    def __new__(cls, name: str, latex: str, text: str, **assumptions):
        obj = super().__new__(cls, name, **assumptions)
        cls._spellings[name] = (latex, text)
        return obj

    def __getnewargs_ex__(self):
        latex, text = self._spellings[self.name]
        return (self.name, latex, text), self.assumptions0

    def _latex(self, printer) -> str:
        return self._spellings[self.name][0]

    def _sympystr(self, printer) -> str:
        return self._spellings[self.name][1]

    _gradproof_text = _sympystr


class Dot(sp.Function):
    """A product printed with explicit dots and left unevaluated until ``doit`` (display only):
    ``p · 1 · a`` rather than SymPy's ``a p``, or a visible factor ``· 0``."""

    def doit(self, deep: bool = True, **hints):
        return sp.Mul(*[a.doit(deep=deep, **hints) if deep else a for a in self.args])

    def _latex(self, printer) -> str:
        return r" \cdot ".join(printer.parenthesize(a, PRECEDENCE["Mul"]) for a in self.args)

    def _sympystr(self, printer) -> str:
        return "·".join(printer.parenthesize(a, PRECEDENCE["Mul"]) for a in self.args)

    def _gradproof_text(self, printer) -> str:  # the terminal printer: p·(1/p)·a
        parts = []
        for a in self.args:
            text = printer._print(a)
            if (a.is_Add or "/" in text or (a.is_Number and a < 0)) and not text.startswith("("):
                text = f"({text})"
            parts.append(text)
        return "·".join(parts)

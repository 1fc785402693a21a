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

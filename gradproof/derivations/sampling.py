"""Expectations over how a minibatch is drawn: an extension of the derivation model.

A minibatch of B samples out of N is described by the counts K_a, how many times sample a is in
it (Σ_a K_a = B).  The minibatch mean of per-sample values g_a is (1/B) Σ_a K_a g_a.  Two schemes:

* **without replacement** (shuffle, then take B distinct samples; every one of the C(N, B)
  subsets equally likely): K_a ∈ {0, 1}, E[K_a] = C(N−1, B−1)/C(N, B) = B/N, and for a ≠ b
  E[K_a K_b] = C(N−2, B−2)/C(N, B) = B(B−1)/(N(N−1)), while K_a² = K_a;
* **with replacement** (B independent uniform draws): the counts are multinomial, E[K_a] = B/N,
  E[K_a K_b] = B(B−1)/N² + δ_ab B/N.

:class:`MinibatchExpect` is E over the minibatch under one scheme, for polynomials of degree ≤ 2
in the counts; ``doit`` applies linearity (through sums and constant factors; a squared sum
becomes a double sum) and the moment rules above.  Every rule is stated as a step of the
derivation that uses it, and a numeric witness checks the rules independently by enumerating
every minibatch of small datasets and by Monte Carlo.
"""

from __future__ import annotations

import sympy as sp

#: K_a, how many times sample a is in the minibatch
K = sp.IndexedBase("K", nonnegative=True)
WITH = sp.Symbol("with")
WITHOUT = sp.Symbol("without")
SCHEMES = (WITH, WITHOUT)


def moments(scheme: sp.Symbol, N: sp.Expr, B: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(E[K_a], E[K_a K_b] for a ≠ b, E[K_a²]) under ``scheme``."""
    first = B / N
    if scheme == WITHOUT:
        return first, B * (B - 1) / (N * (N - 1)), first
    if scheme == WITH:
        return first, B * (B - 1) / N**2, B * (B - 1) / N**2 + B / N
    raise ValueError(f"unknown sampling scheme {scheme}")


class MinibatchExpect(sp.Function):
    """``MinibatchExpect(expr, scheme, N, B)``: E over the minibatch counts K (see the module
    docstring).  Everything but the K_a is a constant."""

    nargs = 4

    def doit(self, deep: bool = True, **hints):
        body, scheme, N, B = self.args
        if deep:
            body = body.doit(deep=deep, **hints)
        return expect_counts(sp.expand(square_sums(sp.expand(body))), scheme, N, B)

    def _latex(self, printer) -> str:
        scheme = "with" if self.args[1] == WITH else "without"
        return rf"\mathbb{{E}}_{{\text{{{scheme}}}}}\left[{printer._print(self.args[0])}\right]"

    def _sympystr(self, printer) -> str:
        scheme = "with" if self.args[1] == WITH else "without"
        return f"E_{scheme}[{printer._print(self.args[0])}]"

    _gradproof_text = _sympystr


def square_sums(expr: sp.Expr, base: sp.IndexedBase | None = None) -> sp.Expr:
    """(Σ_a f(a))² → Σ_a Σ_b f(a) f(b), with b a new index: the square of a sum is a double sum
    (only sums that hold the counts ``base``, when given)."""

    def is_square(e: sp.Basic) -> bool:
        return (isinstance(e, sp.Pow) and e.exp == 2 and isinstance(e.base, sp.Sum) and len(e.base.limits) == 1
                and (base is None or e.base.has(base)))  # fmt: skip

    def double(e: sp.Pow) -> sp.Expr:
        s = e.base
        var, lo, hi = s.limits[0]
        other = sp.Dummy(f"{var.name}2", **{k: v for k, v in var.assumptions0.items() if k in _INDEX_FACTS})
        return sp.Sum(sp.Sum(s.function * s.function.xreplace({var: other}), (other, lo, hi)), (var, lo, hi))

    return expr.replace(is_square, double)


_INDEX_FACTS = ("integer", "positive", "nonnegative")  # what the new index inherits from the old


def expect_counts(expr: sp.Expr, scheme, N, B, base: sp.IndexedBase = K) -> sp.Expr:
    """E over the minibatch of ``expr`` (expanded, squared sums already doubled), a polynomial of
    degree ≤ 2 in the counts ``base``: linearity through sums and constant factors, then the
    moment rules of :func:`moments`.  Raises ``NotImplementedError`` for anything else (a product
    of two sums, a function of the counts, a third moment)."""
    if isinstance(expr, sp.Add):
        return sp.Add(*[expect_counts(t, scheme, N, B, base) for t in expr.args])
    if isinstance(expr, sp.Sum):  # a finite sum: E commutes with it
        return sp.Sum(expect_counts(sp.expand(expr.function), scheme, N, B, base), *expr.limits)
    factors = sp.Mul.make_args(expr)
    sums = [f for f in factors if isinstance(f, sp.Sum) and f.has(base)]
    if sums:
        if len(sums) > 1:
            raise NotImplementedError("E of a product of two sums: write it as a double sum")
        rest = sp.Mul(*[f for f in factors if f is not sums[0]])
        inner = sums[0]
        return sp.Sum(expect_counts(sp.expand(rest * inner.function), scheme, N, B, base), *inner.limits)
    const = sp.Mul(*[f for f in factors if not f.has(base)])
    counts = [f for f in factors if f.has(base)]
    first, off, diag = moments(scheme, N, B)
    entries = []
    for f in counts:
        b, power = f.as_base_exp()
        if not (isinstance(b, sp.Indexed) and b.base == base and power.is_Integer and power > 0):
            raise NotImplementedError(f"E[{f}]: only products of counts have moments here")
        entries += [b] * int(power)
    if not entries:
        return const
    if len(entries) == 1:
        return const * first
    if len(entries) == 2:
        a, b = entries[0].indices[0], entries[1].indices[0]
        if a == b:
            return const * diag
        return const * (off + sp.KroneckerDelta(a, b) * (diag - off))
    raise NotImplementedError("moments of the counts beyond the second")

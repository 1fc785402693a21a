r"""Expectations over how a minibatch is drawn: ``% gradproof: minibatch K : B of 1..N``.

``K_a`` counts how often sample a (a = 1..N) is in a minibatch of B samples (Σ_a K_a = B), and
``\mathbb{E}_{\text{without}}[…]`` / ``\mathbb{E}_{\text{with}}[…]`` average over how the batch is
drawn: B distinct samples, every subset equally likely (without replacement), or B independent
uniform draws (with replacement).  Two independent ways to evaluate such an expectation:

* symbolically (:meth:`BatchExpect.doit`, what the prover uses): linearity through sums and
  constant factors, a squared sum as a double sum, and the first two moments of the counts —
  E[K_a] = B/N under both schemes; E[K_a K_b] = B(B−1)/(N(N−1)) + δ_ab (B/N − B(B−1)/(N(N−1)))
  without replacement (K_a² = K_a), B(B−1)/N² + δ_ab B/N with it (multinomial counts).  Anything
  else (a third moment, a function of the counts that is not a polynomial) is left unevaluated;
* exactly at concrete N and B (:func:`exact_expectation`, what the point checks use): each
  monomial of the counts averaged over the exact joint law of the samples it involves (a
  hypergeometric choice of which of them are in the batch; multinomial counts of them and of
  "the others") — for a body that is not a polynomial, the same law of all the counts it involves.

A step is proved only through the moment rules; checked at points only through the exact laws, so
a wrong rule and a wrong step cannot agree by construction.  N ≥ 2 is implied (the rules divide by
N − 1) and every K_a is indexed by a sample in 1..N (a declared index or a summation index whose
range lies within it).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import sympy as sp

from gradproof.derivations.sampling import WITH, WITHOUT, expect_counts, moments, square_sums

#: the NAME tokens of \mathbb{E}_{\text{with}} / _{\mathrm{without}} (see gradproof.steps.tokens)
SCHEME_NAMES = {"\\mathrm{with}": WITH, "\\mathrm{without}": WITHOUT}
# the most minibatches :func:`batches` lists, and the most joint states of the counts of the
# samples one expectation involves
MAX_BATCHES = 50_000
MAX_STATES = 100_000


@dataclass(frozen=True)
class Minibatch:
    """A declared minibatch: ``base`` (K) counts samples ``lo``..``hi`` in a batch of ``size`` (B)."""

    name: str
    base: sp.IndexedBase
    lo: Any
    hi: Any
    size: Any

    @property
    def samples(self) -> Any:
        return self.hi - self.lo + 1

    def expect(self, body: Any, scheme: sp.Symbol) -> BatchExpect:
        return BatchExpect(body, scheme, self.lo, self.hi, self.size, self.base)

    def batch_fact(self, expr: Any) -> Any:
        """Σ_{a=lo}^{hi} K_a = B: a minibatch holds B samples (counted with multiplicity)."""

        def is_total(e: sp.Basic) -> bool:
            if not isinstance(e, sp.Sum) or len(e.limits) != 1:
                return False
            var, lo, hi = e.limits[0]
            return e.function == self.base[var] and lo == self.lo and hi == self.hi

        return expr.replace(is_total, lambda e: self.size)


class BatchExpect(sp.Function):
    """``BatchExpect(body, scheme, lo, hi, B, K)``: E over minibatches of B of the samples
    lo..hi, K the counts (see the module docstring)."""

    nargs = 6

    @property
    def batch(self) -> Minibatch:
        _, _, lo, hi, size, base = self.args
        return Minibatch(str(base.label), base, lo, hi, size)

    def doit(self, deep: bool = True, **hints: Any) -> Any:
        body, scheme, *rest = self.args
        if deep:
            body = body.doit(deep=deep, **hints)
        batch = self.batch
        if sp.sympify(batch.samples).is_Integer:
            return self.func(body, scheme, *rest)  # concrete samples: evaluated exactly at the point
        try:
            body = sp.expand(square_sums(sp.expand(body), batch.base))
            return expect_counts(body, scheme, batch.samples, batch.size, batch.base)
        except NotImplementedError:
            return self.func(body, scheme, *rest)

    def _latex(self, printer: Any, exp: Any = None) -> str:
        tex = rf"\mathbb{{E}}_{{\text{{{self.args[1]}}}}}\left[{printer._print(self.args[0])}\right]"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _sympystr(self, printer: Any) -> str:
        return f"E_{self.args[1]}[{printer._print(self.args[0])}]"

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real


# ----------------------------------------------------------------------------------------------
# exact values at concrete N and B


@cache
def tracked_law(scheme: str, n: int, batch: int, m: int) -> tuple[tuple[tuple[int, ...], Fraction], ...]:
    """The joint law of the counts of ``m`` given samples in a batch of ``batch`` of ``n``:
    ((counts, probability), …).  Without replacement: which of them are in the batch
    (hypergeometric); with it: how often each, and the others together (multinomial)."""
    if scheme == "without":
        if 2**m > MAX_STATES:
            raise ValueError(f"{2**m} joint states of {m} counts: too many to list")
        total = math.comb(n, batch)
        out = []
        for inside in itertools.product((0, 1), repeat=m):
            ways = math.comb(n - m, batch - sum(inside)) if batch - sum(inside) >= 0 else 0
            if ways:
                out.append((inside, Fraction(ways, total)))
        return tuple(out)
    states = math.comb(batch + m, m)
    if states > MAX_STATES:
        raise ValueError(f"{states} joint states of {m} counts in a batch of {batch}: too many to list")
    out = []
    for counts in itertools.product(range(batch + 1), repeat=m):
        rest = batch - sum(counts)
        if rest < 0:
            continue
        ways = math.factorial(batch) // (math.prod(math.factorial(c) for c in counts) * math.factorial(rest))
        p = Fraction(ways) * Fraction(1, n) ** sum(counts) * Fraction(n - m, n) ** rest
        if p:
            out.append((counts, p))
    return tuple(out)


def monomial_moment(scheme: str, n: int, batch: int, exponents: tuple[int, ...]) -> Fraction:
    """E[Π_i K_{a_i}^{e_i}] for distinct samples a_i, from :func:`tracked_law`."""
    return sum((p * math.prod(c**e for c, e in zip(counts, exponents)) for counts, p in
                tracked_law(scheme, n, batch, len(exponents))), Fraction(0))  # fmt: skip


def batches(scheme: str, n: int, batch: int) -> list[tuple[tuple[int, ...], Fraction]]:
    """Every minibatch as (counts of samples 0..n−1, probability): the C(n, B) subsets, or the
    n^B sequences of draws (grouped by their counts)."""
    if scheme == "without":
        total = math.comb(n, batch)
        if total > MAX_BATCHES:
            raise ValueError(f"{total} minibatches: too many to list")
        return [(tuple(int(a in chosen) for a in range(n)), Fraction(1, total))
                for chosen in map(set, itertools.combinations(range(n), batch))]  # fmt: skip
    if n**batch > MAX_BATCHES:
        raise ValueError(f"{n}^{batch} sequences of draws: too many to list")
    grouped: dict = {}
    for draws in itertools.product(range(n), repeat=batch):
        counts = tuple(draws.count(a) for a in range(n))
        grouped[counts] = grouped.get(counts, 0) + 1
    return [(counts, Fraction(k, n**batch)) for counts, k in grouped.items()]


def exact_expectation(e: BatchExpect, batch_value: Any) -> Any:
    """The value of ``e`` at concrete samples and batch size ``batch_value``; its body holds no
    input but the counts (substituted before).  A polynomial in the counts is averaged monomial
    by monomial (:func:`monomial_moment`), anything else over the joint law of the counts it
    involves (:func:`tracked_law`).  :func:`batches`, which lists every minibatch, is the
    independent reference the tests compare both with."""
    body, scheme, lo, hi, _, base = e.args
    lo, hi, b = int(lo), int(hi), int(batch_value)
    n = hi - lo + 1
    if not 1 <= b <= n:
        raise ValueError(f"a minibatch of {b} of {n} samples")
    counts = sorted({x for x in body.atoms(sp.Indexed) if x.base == base}, key=sp.default_sort_key)
    for x in counts:
        if not (x.indices[0].is_Integer and lo <= int(x.indices[0]) <= hi):
            raise ValueError(f"{x} is not the count of a sample {lo}..{hi}")
    if not counts:
        return body
    if body.is_polynomial(*counts):
        total = sp.S.Zero
        for monomial, coeff in sp.Poly(body, *counts).terms():
            exponents = tuple(p for p in monomial if p)
            total += coeff * sp.Rational(monomial_moment(str(scheme), n, b, exponents))
        return total
    total = sp.S.Zero  # any function of the counts: over the joint law of those it involves
    for drawn, p in tracked_law(str(scheme), n, b, len(counts)):
        total += sp.Rational(p) * body.xreplace({x: sp.Integer(c) for x, c in zip(counts, drawn)})
    return total


__all__ = ["BatchExpect", "Minibatch", "SCHEME_NAMES", "WITH", "WITHOUT", "exact_expectation", "moments"]

"""Expectations over declared random quantities, by an explicit algebra: linearity, independence of
distinct quantities, and the moments of each distribution.

``\\mathbb{E}[a m]`` with ``m ~ Bernoulli(p)`` is ``a p``.  Where the algebra stops (a quantity of
unknown distribution, a non-polynomial function of a normal variable) the expectation is kept as
it is; equal such expectations still cancel symbolically, and at exact points a quantity of
unknown distribution is given a random law on three points, so any claim about it is tested
against a genuine distribution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

DISTRIBUTIONS = ("bernoulli", "normal", "uniform", "any")
# random symbol -> its RandomQuantity (symbols are Dummies, unique to the file that declared them)
_REGISTRY: dict[Any, RandomQuantity] = {}


@dataclass(frozen=True)
class RandomQuantity:
    """A declared random quantity: ``distribution`` and its ``params`` (p; mean and variance;
    low and high; none for ``any``)."""

    name: str
    symbol: Any
    distribution: str
    params: tuple = ()

    def moment(self, k: int) -> Any:
        """E[X^k] in closed form, or None (unknown distribution)."""
        if k == 0:
            return sp.S.One
        if self.distribution == "bernoulli":
            return self.params[0]
        if self.distribution == "normal":
            mu, var = self.params
            return sp.Add(*[sp.binomial(k, 2 * j) * mu ** (k - 2 * j) * var**j * sp.factorial2(2 * j - 1)
                            for j in range(k // 2 + 1)])  # fmt: skip
        if self.distribution == "uniform":
            a, b = self.params
            return (b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))
        return None

    def support(self) -> list[tuple[Any, Any]] | None:
        """(value, probability) pairs for a finite distribution."""
        if self.distribution == "bernoulli":
            p = self.params[0]
            return [(sp.S.One, p), (sp.S.Zero, 1 - p)]
        return None


def random_quantity(name: str, distribution: str, params: tuple = ()) -> RandomQuantity:
    symbol = sp.Dummy(name, real=True)
    rq = RandomQuantity(name, symbol, distribution, tuple(sp.sympify(p) for p in params))
    _REGISTRY[symbol] = rq
    return rq


class Expect(sp.Function):
    """E[expr] over the random quantities given as further arguments; ``doit`` applies the
    algebra (see the module docstring)."""

    @classmethod
    def eval(cls, *args: Any) -> Any:
        return None

    def doit(self, deep: bool = True, **hints: Any) -> Any:
        body = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        return _expect(body, [_REGISTRY[s] for s in self.args[1:] if s in _REGISTRY])

    def _latex(self, printer: Any, exp: Any = None) -> str:
        tex = r"\mathbb{E}\left[" + printer._print(self.args[0]) + r"\right]"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _sympystr(self, printer: Any) -> str:
        return "E[" + printer._print(self.args[0]) + "]"

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real


def expectation_of(value: Any, randoms: list[RandomQuantity]) -> Any:
    """E[value] over ``randoms``, unevaluated (the prover and the point checks evaluate it)."""
    return Expect(value, *[r.symbol for r in randoms])


def _expect(expr: Any, randoms: list[RandomQuantity]) -> Any:
    # an expectation inside (E[M] in E[(M - E[M])^2]) is a number, not random: held apart
    inner = {e: sp.Dummy("E", real=True) for e in expr.atoms(Expect)}
    if inner:
        back = {v: k for k, v in inner.items()}
        return _expect(expr.xreplace(inner), randoms).xreplace(back)
    syms = {r.symbol: r for r in randoms}
    if not (expr.free_symbols & set(syms)):
        return expr
    expr = sp.expand(expr, power_exp=True, mul=True, multinomial=True)
    total = sp.S.Zero
    for term in sp.Add.make_args(expr):
        const = sp.S.One
        per_symbol: dict[Any, list] = {}
        mixed = []
        for factor in sp.Mul.make_args(term):
            hit = factor.free_symbols & set(syms)
            if not hit:
                const *= factor
            elif len(hit) == 1:
                per_symbol.setdefault(next(iter(hit)), []).append(factor)
            else:
                mixed.append(factor)
        value = const
        for sym, factors in per_symbol.items():
            value *= _single(sp.Mul(*factors), syms[sym])
        if mixed:  # a factor that ties two quantities together (e^{m ε}): left as it is
            value *= Expect(sp.Mul(*mixed), *sorted({s for f in mixed for s in f.free_symbols & set(syms)}, key=str))
        total += value
    return total


def _single(g: Any, rq: RandomQuantity) -> Any:
    """E[g(X)] for one quantity X."""
    x = rq.symbol
    poly = sp.Poly(g, x) if g.is_polynomial(x) else None
    if poly is not None:
        out = sp.S.Zero
        for (k,), coeff in poly.terms():
            m = rq.moment(k)
            out += coeff * (m if m is not None else Expect(x**k, x))
        return out
    support = rq.support()
    if support is not None:
        return sp.Add(*[p * g.subs(x, v) for v, p in support])
    return Expect(g, x)


def sample_law(rng: random.Random, rational: Any) -> list[tuple[Any, Any]]:
    """A random law on three points with exact rational values and weights, for a quantity of
    unknown distribution at exact points."""
    weights = [rational(rng, 0.1, 1) for _ in range(3)]
    total = sum(weights)
    return [(rational(rng, -2, 2), w / total) for w in weights]


def evaluate_opaque(expr: Any, laws: dict) -> Any:
    """Every remaining E[…] over quantities of unknown distribution, evaluated under ``laws``
    (symbol → [(value, probability)])."""

    def ev(e: Expect) -> Any:
        body, syms = e.args[0], [s for s in e.args[1:] if s in laws]
        out = body
        for s in syms:
            out = sp.Add(*[p * out.subs(s, v) for v, p in laws[s]])
        return out

    for _ in range(5):
        found = [a for a in expr.atoms(Expect)]
        if not found:
            return expr
        expr = expr.replace(lambda e: isinstance(e, Expect), ev)
    return expr


def random_symbols(expr: Any) -> set:
    return {s for s in expr.free_symbols if s in _REGISTRY}


def registry_entry(symbol: Any) -> RandomQuantity | None:
    return _REGISTRY.get(symbol)


__all__ = ["Expect", "RandomQuantity", "expectation_of", "random_quantity", "PRECEDENCE"]

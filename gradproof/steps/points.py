"""The exact points a hand-written step is checked at.

A file's derivation is a :class:`~gradproof.derivations.model.Derivation` whose inputs are not
listed in advance: every input a step mentions gets an exact rational value when it is first met,
drawn from its declared domain (``p_i > 0``, ``0 < p < 1``, ``y_i \\in \\{0,1\\}``); a vector with
an assumed sum (Σ_i y_i = 1) is drawn whole so that its sum is right.  Unknown functions
(``% gradproof: function f(x)``) become random smooth functions and quantities of unknown
distribution random three-point laws, so a claim about "any f" is tested against a concrete one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from gradproof.derivations.model import Derivation
from gradproof.derivations.proof import UndefinedPoint
from gradproof.steps.context import Context, Domain
from gradproof.steps.expectation import evaluate_opaque, registry_entry, sample_law
from gradproof.steps.minibatch import BatchExpect, exact_expectation


class UndefinedAtPoint(UndefinedPoint):
    """A side of a step has no value at a point (a division by zero, 0/0, the log of 0): the claim
    says nothing there, so it is neither held nor failed at it: the point checks leave that point
    out (``prove.check_at_points``), and a hypothesis is drawn again where it meets one."""

    def __init__(self, sizes: dict) -> None:
        self.sizes = dict(sizes)
        super().__init__(f"a side is undefined (a division by zero, 0/0 or log 0) at {size_text(sizes)}")


def size_text(sizes: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "every point"


def _rational(rng: random.Random, lo: float, hi: float) -> sp.Rational:
    """An exact rational strictly between ``lo`` and ``hi`` (a thousandth of the way or more)."""
    lo_q, hi_q = (Fraction(x).limit_denominator(100) for x in (lo, hi))
    value = lo_q + Fraction(rng.randint(1, 999), 1000) * (hi_q - lo_q)
    return sp.Rational(value.numerator, value.denominator)


class PointValues(dict):
    """Exact values of one random draw, filled as inputs are met (see :meth:`StepsDerivation.substitute`)."""

    def __init__(self, sizes: dict, rng: random.Random) -> None:
        super().__init__()
        self.sizes = sizes
        self.rng = rng
        self.functions: dict = {}
        self.laws: dict = {}
        self.counts: dict = {}  # one minibatch's counts K_a (see StepsDerivation._draw_batch)


@dataclass(eq=False)
class StepsDerivation(Derivation):
    """A derivation read from a file; see the module docstring."""

    context: Context | None = None
    _inputs_sorted: list = field(default_factory=list)
    _draws: dict = field(default_factory=dict)  # draws made at each size set since proof_sizes()

    def proof_sizes(self, values: Any = None) -> list[dict]:
        """With no size symbols every draw is one point: draw 8 times as often (24 points).  A
        vector on a sphere or a simplex is drawn first at its extreme points (see :func:`extremes`),
        then at random ones: each size set comes often enough for both (the prover draws 3 points
        per size set up to size 4, 1 beyond).  Starts the count of draws afresh (one step's check)."""
        sizes = super().proof_sizes(values)
        self._draws = {}
        if sizes == [{}]:
            return sizes * 8
        most = max((len(extremes(self.context.domain(str(f.base.label)), f, 2)) for f in self.context.sum_facts), default=0)
        if not most:
            return sizes
        out = []
        for size_set in sizes:
            per_copy = 3 if max(size_set.values(), default=0) <= 4 else 1
            out += [size_set] * (1 + -(-most // per_copy))
        return out

    def proof_size_text(self, values: Any = None) -> str:
        if not self.sizes:
            return "none"
        seen: list = []
        for s in self.proof_sizes(values):
            if s not in seen:
                seen.append(s)
        return "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in seen)

    def sample_exact(self, sizes: Any, rng: random.Random) -> PointValues:
        values = PointValues({k: int(v) for k, v in sizes.items()}, rng)
        ctx = self.context
        key = tuple(sorted((str(k), int(v)) for k, v in sizes.items()))
        draw = self._draws.get(key, 0)  # the first draws at a size set are the extreme points
        self._draws[key] = draw + 1
        for fact in ctx.sum_facts:  # vectors with a stated sum are drawn whole
            self._draw_sum(fact, values, sizes, rng, draw)
        for name, info in ctx.functions.items():
            if info.body_tree is None:
                values.functions[info.function] = _random_function(len(info.params), rng)
        for rq in ctx.randoms.values():
            if rq.distribution == "any":
                values.laws[rq.symbol] = sample_law(rng, _rational)
        if ctx.minibatch is not None:
            self._draw_batch(values, sizes, rng)
        for name, domain in ctx.domains.items():
            definition = ctx.definitions.get(name)
            if definition is not None and not definition.index and not domain.is_default():
                self._draw_until(definition, domain, values, sizes)
        return values

    def _draw_batch(self, values: PointValues, sizes: Any, rng: random.Random) -> None:
        """A batch size B in 1..N (within what the file assumes of B) and one minibatch: the counts
        of B uniform draws of the samples.  Outside an expectation a statement about the counts
        must hold for every minibatch of either scheme, and these are all of them."""
        batch = self.context.minibatch
        at = {s: sp.Integer(v) for s, v in sizes.items()}
        lo, hi = (int(sp.sympify(x).xreplace(at)) for x in (batch.lo, batch.hi))
        domain = self.context.domain(str(batch.size))
        low = max(1, int(sp.ceiling(domain.lo)) if domain.lo is not None else 1)
        high = hi - lo + 1 if domain.hi is None else min(hi - lo + 1, int(sp.floor(domain.hi)))
        if low > high:
            raise ValueError(f"no batch size {batch.size} between {low} and {high} at these sizes")
        size = rng.randint(low, high)
        values[batch.size] = sp.Integer(size)
        counts = [0] * (hi - lo + 1)
        for _ in range(size):
            counts[rng.randrange(len(counts))] += 1
        # kept apart, and put among the point's values only where a count is used outside an
        # expectation (a counterexample then lists no counts an expectation averaged over)
        values.counts = {batch.base[lo + a]: sp.Integer(c) for a, c in enumerate(counts)}

    def _batch_value(self, e: Any, values: PointValues) -> Any:
        """A minibatch expectation at the point: its inputs other than the counts substituted, then
        averaged exactly over the minibatches (gradproof.steps.minibatch.exact_expectation)."""
        base, size = e.args[5], e.args[4]
        body = e.args[0]
        labels = {b.label for b in body.atoms(sp.IndexedBase)}
        for atom in sorted(body.atoms(sp.Indexed) | body.free_symbols, key=sp.default_sort_key):
            if isinstance(atom, sp.Indexed) and atom.base == base:
                continue
            if atom in values or atom in labels or not _is_input(atom):
                continue
            values[atom] = self._draw_for(atom, values)
        sub = {k: v for k, v in values.items() if isinstance(k, sp.Basic) and not (isinstance(k, sp.Indexed) and k.base == base)}
        return exact_expectation(e.func(body.xreplace(sub), *e.args[1:]), size.xreplace(sub))

    def _draw_until(self, definition: Any, domain: Domain, values: PointValues, sizes: Any) -> None:
        """The inputs of a defined quantity the file assumes something of (``\\|g\\| > 0``: the
        hypothesis g ≠ 0), drawn again until the assumption holds: a step is checked only at
        points where its hypotheses hold.  No such point in 50 draws is an error (the step is
        then not established)."""
        from gradproof.derivations.prove import unroll

        expr = unroll(self.concretize(definition.target, sizes)).doit()
        for _ in range(50):
            before = set(values)
            try:
                value = sp.N(self.substitute(expr, values), 50)
            except UndefinedAtPoint:
                value = sp.nan  # undefined there: not a point where the hypothesis holds
            if not value.is_number:
                return  # it depends on a free index: each point is judged as it comes
            if _inside(value, domain):
                return
            for key in set(values) - before:
                del values[key]
        raise ValueError(f"no point in 50 random draws where the assumption on {definition.text} holds")

    def _draw_sum(self, fact: Any, values: PointValues, sizes: Any, rng: random.Random, draw: int = -1) -> None:
        """Every entry of ``fact.base`` the fact covers, drawn so that each summed line has the
        stated sum (a scaled simplex when the entries are non-negative); the ``draw``-th extreme
        point (:func:`extremes`) while there is one, else a random point."""
        import itertools

        at = {s: sp.Integer(v) for s, v in sizes.items()}

        def span(lo: Any, hi: Any) -> range:
            return range(int(sp.sympify(lo).xreplace(at)), int(sp.sympify(hi).xreplace(at)) + 1)

        domain = self.context.domain(str(fact.base.label))
        target = sp.sympify(fact.value).xreplace(at)
        for rest in itertools.product(*[span(lo, hi) for lo, hi in fact.others]):
            entries = []
            for q in span(fact.lo, fact.hi):
                idx = list(rest)
                idx.insert(fact.pos, q)
                entries.append(fact.base[tuple(idx)])
            if not entries:
                continue
            corners = extremes(domain, fact, len(entries))
            point = corners[draw](target, rng) if 0 <= draw < len(corners) else None
            if point is not None and all(_inside(sp.N(v, 50), domain) for v in point):
                for e, v in zip(entries, point):
                    values[e] = v
                continue  # (a corner outside what the file assumes, p_i \le 1/2: a random point)
            if fact.power == 2:
                raw = _on_sphere(len(entries), target, domain, rng)
            elif domain.values is not None and set(domain.values) == {0, 1} and target == 1:
                hot = rng.randrange(len(entries))  # one-hot
                raw = [sp.Integer(int(q == hot)) for q in range(len(entries))]
            else:
                raw = [_draw(domain, rng) for _ in entries]
                if domain.lo is not None and domain.lo >= 0 and target > 0 and sum(raw) > 0:
                    raw = [r * target / sum(raw) for r in raw]  # a scaled simplex: signs kept
                else:
                    raw[-1] = target - sum(raw[:-1])
            for e, v in zip(entries, raw):
                values[e] = v

    def substitute(self, expr: sp.Expr, values: Any) -> sp.Expr:
        if not isinstance(values, PointValues):
            return super().substitute(expr, values)
        for f, lam in values.functions.items():
            if expr.has(f):
                expr = expr.replace(f, lam).doit()
        if values.laws:
            expr = evaluate_opaque(expr, values.laws)
        if self.context.minibatch is not None and expr.has(BatchExpect):
            expr = expr.replace(lambda e: isinstance(e, BatchExpect), lambda e: self._batch_value(e, values))
        labels = {b.label for b in expr.atoms(sp.IndexedBase)}
        for atom in sorted(expr.atoms(sp.Indexed) | expr.free_symbols, key=sp.default_sort_key):
            if atom in values or atom in labels or not _is_input(atom):
                continue
            values[atom] = self._draw_for(atom, values)
        out = expr.xreplace({k: v for k, v in values.items() if isinstance(k, sp.Basic)})
        if out.has(sp.nan, sp.zoo) or out in (sp.oo, -sp.oo):  # (∞ as a sum's limit is no undefined value)
            raise UndefinedAtPoint({str(k): v for k, v in values.sizes.items()})
        return out

    def _draw_for(self, atom: Any, values: PointValues) -> Any:
        ctx = self.context
        if atom in values.counts:
            return values.counts[atom]
        rq = registry_entry(atom)
        if rq is not None:  # a random quantity outside an expectation: any value it can take
            support = rq.support()
            if support is not None:
                return values.rng.choice([v for v, _ in support])
            return _rational(values.rng, -2, 2)
        name = str(atom.base.label) if isinstance(atom, sp.Indexed) else atom.name
        return _draw(ctx.domain(name), values.rng)


def _is_input(atom: Any) -> bool:
    """After sizes and free indices are substituted and sums unrolled, every remaining symbol is
    an input, except the indices of sums that could not be unrolled (Dummies that are not random
    quantities)."""
    if isinstance(atom, sp.Indexed):
        return all(i.is_Integer for i in atom.indices)
    if isinstance(atom, sp.Dummy):
        return registry_entry(atom) is not None
    return isinstance(atom, sp.Symbol)


def _draw(domain: Domain, rng: random.Random) -> Any:
    if domain.values is not None:
        return sp.sympify(rng.choice(list(domain.values)))
    if domain.integer:
        return sp.Integer(rng.randint(int(domain.lo or 1), 6))
    lo, hi = domain.lo, domain.hi
    if lo is not None and hi is not None:
        value = _between(rng, lo, hi)
    elif lo is not None:
        value = lo + _rational(rng, 0.05, 2)
    elif hi is not None:
        value = hi - _rational(rng, 0.05, 2)
    else:  # mostly small, sometimes larger: a claim true only near 0 should not pass
        scale = rng.choice((2, 2, 8))
        value = _rational(rng, -scale, scale)
    if domain.nonzero and value == 0:
        value = sp.Rational(1, 7)
    return value


def _inside(value: Any, domain: Domain) -> bool:
    """Whether a number (to 50 digits) lies in ``domain``."""
    if not value.is_real:
        return False
    if domain.values is not None:
        return any(abs(value - v) < sp.Float("1e-40", 50) for v in domain.values)
    if domain.lo is not None and (value < domain.lo or (domain.lo_strict and value == domain.lo)):
        return False
    if domain.hi is not None and (value > domain.hi or (domain.hi_strict and value == domain.hi)):
        return False
    return not (domain.nonzero and value == 0) and not (domain.integer and value != int(value))


def _between(rng: random.Random, lo: Any, hi: Any) -> Any:
    """A rational strictly inside (lo, hi)."""
    t = sp.Rational(rng.randint(1, 999), 1000)
    return sp.sympify(lo) + t * (sp.sympify(hi) - sp.sympify(lo))


def _random_function(arity: int, rng: random.Random) -> sp.Lambda:
    """A random smooth function: a cubic, a sine and an exponential with exact coefficients, in
    each argument, plus a product of the first two — no identity that needs a special function
    holds for it by accident."""
    xs = sp.symbols(f"_x0:{arity}", real=True)

    def r(lo: float = -1, hi: float = 1) -> Any:
        return _rational(rng, lo, hi)

    body = r()
    for x in xs:
        body += r() * x + r() * x**2 + r() * x**3 + r() * sp.sin(r(0.5, 2) * x + r()) + r() * sp.exp(r(-1, 1) * x)
    if arity >= 2:
        body += r() * xs[0] * xs[1]
    return sp.Lambda(xs, body)


def extremes(domain: Domain, fact: Any, count: int) -> list:
    """The extreme points of a vector's set drawn before random ones, as functions of the stated
    total and the random generator: false inequalities are often false only there (Σ_l u_l ≥ −√3
    on the unit sphere fails only near −(1, …, 1)/√d, which random points reach with probability
    2^-d).  On the sphere Σ u_l² = r²: ±r(1, …, 1)/√d, ±r e_l, an alternating sign pattern and a
    random one; with entries ≥ 0: r(1, …, 1)/√d, r e_l, r(e_i + e_j)/√2 (> 0: the first only).  On
    the simplex Σ y_l = s, y ≥ 0: a vertex s e_l and the centre s(1, …, 1)/d (> 0: the centre).
    Vectors with an assumed sum and any sign, or a one-hot vector, have none (the one-hot vectors
    are the vertices, drawn anyway)."""
    if count < 1:
        return []
    strict = domain.lo_strict or domain.nonzero

    def even(signs: Any) -> Any:
        def point(total: Any, rng: random.Random) -> list:
            pattern = signs(rng)
            return [sgn * sp.sqrt(sp.sympify(total) / count) for sgn in pattern]
        return point

    def axis(sign: int, width: int = 1) -> Any:
        def point(total: Any, rng: random.Random) -> list:
            hot = set(rng.sample(range(count), min(width, count)))
            size = sp.sqrt(sp.sympify(total) / len(hot))
            return [sign * size if q in hot else sp.S.Zero for q in range(count)]
        return point

    if fact.power == 2:
        if domain.lo is not None:  # the positive orthant of the sphere
            return [even(lambda rng: [1] * count)] + ([] if strict else [axis(1), axis(1, 2)])
        return [
            even(lambda rng: [-1] * count), even(lambda rng: [1] * count), axis(-1), axis(1),
            even(lambda rng: [(-1) ** q for q in range(count)]),
            even(lambda rng: [rng.choice((-1, 1)) for _ in range(count)]),
        ]
    if domain.values is not None or domain.integer or domain.lo != 0:
        return []

    def centre(total: Any, rng: random.Random) -> list:
        return [sp.sympify(total) / count] * count

    def vertex(total: Any, rng: random.Random) -> list:
        hot = rng.randrange(count)
        return [sp.sympify(total) if q == hot else sp.S.Zero for q in range(count)]

    return [centre] if strict else [vertex, centre]


def _on_sphere(count: int, total: Any, domain: Domain, rng: random.Random) -> list:
    """``count`` exact values whose squares sum to ``total``: a rational point of the unit sphere
    (inverse stereographic projection of a random rational point t of R^(count-1), which has
    norm exactly 1) scaled by √total, or reflected into the positive orthant when the domain
    says so.  t's entries shrink with the dimension (|t|² stays near 1, so the projection's pole
    is not where every point lands: at d = 20 every point had u_d > 0.9), and the coordinates
    are permuted and their signs flipped at random, so no axis or orthant is favoured."""
    total = sp.sympify(total)
    if not (total.is_number and total.is_nonnegative):
        raise ValueError(f"an assumed sum of squares equal to {total}, which is not a number ≥ 0 at these sizes")
    shrink = sp.Rational(1, max(1, math.isqrt(max(count - 1, 1))))
    for _ in range(100):
        t = [_rational(rng, -2, 2) * shrink for _ in range(count - 1)]
        s = sum((v**2 for v in t), sp.S.Zero)
        unit = [2 * v / (s + 1) for v in t] + [(s - 1) / (s + 1)]
        rng.shuffle(unit)
        unit = [v * rng.choice((sp.S.One, sp.S.NegativeOne)) for v in unit]
        if domain.lo is not None:  # ≥ 0 (or > 0): the same point reflected into the positive orthant
            unit = [abs(v) for v in unit]
            if domain.lo_strict and any(v == 0 for v in unit):
                continue
        return [v * sp.sqrt(total) for v in unit]
    raise ValueError("no point with positive entries on the sphere found")  # pragma: no cover - t_i = 0 every time

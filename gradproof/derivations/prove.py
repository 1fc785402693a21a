"""Proving a derivation's steps with SymPy, and checking what SymPy cannot decide.

Each step is a relation ``lhs ⋈ rhs``.  An equality is *shown* when its difference, after
expanding the derivation's definitions, applying its assumptions and SymPy's rules, reduces to
zero.  The reduction is a fixed pipeline of sound rewrites:

1. expand definitions (``s_i := e^{z_i} / Σ_k e^{z_k}``) and evaluate derivatives (``doit``);
2. split sums term by term and evaluate sums over a Kronecker delta (valid because every index
   lies in its declared range — an assumption of the derivation);
3. ``refine`` under the index-range assumptions, then the derivation's stated facts
   (e.g. ``Σ_i y_i = 1``);
4. ``simplify`` with the remaining sums held as opaque positive symbols (simplifying *through*
   a sum can silently rewrite ``exp(Σ…)`` as a product, see NOTES.md);
5. if a Kronecker delta of two free indices remains, split into the cases ``i = j`` and ``i ≠ j``.

When SymPy cannot decide, the step is *checked* instead: evaluated exactly-rational inputs at
several concrete sizes and every index combination, to 50 significant digits.  Inequalities are
always checked that way.  The record says which of the two happened; a step that is neither
shown nor checked fails the proof.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import sympy as sp

from gradproof.derivations.instantiate import Instantiator, can_instantiate
from gradproof.derivations.nonzero import nonzero_somewhere

# the records of a proof live in a module without SymPy, so that a cached verification can be
# read back without importing it
from gradproof.derivations.proof import (  # noqa: F401 - part of this module's API
    CHECKED,
    FAILED,
    SHOWN,
    Counterexample,
    ProofResult,
    StepRecord,
    UndefinedPoint,
)

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Step

# ---------------------------------------------------------------------------------------------
# symbolic reduction


def _split_sum(s: sp.Sum, facts: Any = True) -> sp.Expr:
    """Σ over a sum of terms → sum of Σ's; constants pulled out; Kronecker deltas summed.
    A sum over several indices is split one index at a time, innermost first."""
    out = _split_body(s.function, *s.limits[0], facts=facts)
    for lim in s.limits[1:]:
        out = sp.Add(*[_split_body(term, *lim, facts=facts) for term in sp.Add.make_args(out)])
    return out


def _summable_delta(term: sp.Expr, var: sp.Symbol) -> tuple[sp.KroneckerDelta, sp.Expr] | None:
    """A factor δ(var, e) of ``term`` with ``e`` free of ``var`` (δ(j, k+1) is not summed here:
    it picks k = j − 1, not k = j)."""
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.KroneckerDelta) and var in f.free_symbols:
            a, b = f.args
            if a == var and var not in b.free_symbols:
                return f, b
            if b == var and var not in a.free_symbols:
                return f, a
    return None


def in_range(value: sp.Expr, lo: sp.Expr, hi: sp.Expr, facts: Any = True) -> sp.Basic:
    """The condition lo ≤ value ≤ hi, decided where the index ranges (``facts``) decide it:
    ``sp.true``, ``sp.false`` or the relation itself."""
    cond = sp.And(sp.Ge(value, lo), sp.Le(value, hi))
    if cond in (sp.true, sp.false) or facts is True:
        return cond
    return refine_by_ranges(cond, facts)


def _bounds(facts: Any) -> tuple[dict, dict]:
    """The lower and upper bounds that ``facts`` (a conjunction of predicates) state for each
    symbol: ``Q.ge(k, lo)`` and ``Q.le(k, hi)``."""
    lower: dict = {}
    upper: dict = {}
    for fact in sp.And.make_args(facts) if isinstance(facts, sp.Basic) else ():
        if isinstance(fact, sp.assumptions.AppliedPredicate) and len(fact.arguments) == 2:
            x, bound = fact.arguments
            if fact.function == sp.Q.ge:
                lower.setdefault(x, []).append(bound)
            elif fact.function == sp.Q.le:
                upper.setdefault(x, []).append(bound)
    return lower, upper


def _decide_le(a: sp.Expr, b: sp.Expr, lower: dict, upper: dict) -> sp.Basic | None:
    """``a ≤ b`` decided from one stated bound and SymPy's assumptions on the rest: true when
    a ≤ u ≤ b or a ≤ l' ≤ b for a stated bound (a ≤ u, l' ≤ b), false when b < l ≤ a or
    b ≤ u < a; None when no single bound decides it."""
    if any((b - u).is_nonnegative for u in upper.get(a, ())) or any((l - a).is_nonnegative for l in lower.get(b, ())):
        return sp.true
    if any((l - b).is_positive for l in lower.get(a, ())) or any((a - u).is_positive for u in upper.get(b, ())):
        return sp.false
    return None


def refine_by_ranges(expr: sp.Basic, facts: Any) -> sp.Basic:
    """``sp.refine(expr, facts)`` for the index-range conditions (k ≤ d + 1 given k ≤ d) in
    ``expr``: each ``a ≤ b`` that one bound stated in ``facts`` decides is replaced by its truth
    value first — SymPy's ``refine`` spends about a second failing to combine k ≤ d with
    d ≤ d + 1 —, then ``refine`` runs on the rest."""
    lower, upper = _bounds(facts)
    decided = {}
    for rel in expr.atoms(sp.Le, sp.Ge):
        small, big = (rel.lhs, rel.rhs) if isinstance(rel, sp.Le) else (rel.rhs, rel.lhs)
        truth = _decide_le(small, big, lower, upper)
        if truth is not None:
            decided[rel] = truth
    expr = expr.xreplace(decided) if decided else expr
    return expr if expr in (sp.true, sp.false) else sp.refine(expr, facts)


def _split_body(function: sp.Expr, var: sp.Symbol, lo: sp.Expr, hi: sp.Expr, *, facts: Any = True) -> sp.Expr:
    # e^{a+b} → e^a e^b, so constants factor out; log(ab) → log a + log b only where SymPy knows
    # the factors are positive (expand_log without force is sound)
    body = sp.expand(sp.expand_log(function), log=False)
    out = sp.S.Zero
    for term in sp.Add.make_args(body):
        found = _summable_delta(term, var)
        if found is not None:
            # Σ_{k=lo}^{hi} f(k) δ(k, e) = f(e) when lo ≤ e ≤ hi, else 0.  The condition is kept
            # unless the index ranges decide it: a sum that stops short of e's range (Σ_{l=1}^{n-1}
            # with e = j ∈ 1..n) must not lose its last term.
            delta, other = found
            picked = (term / delta).subs(var, other)
            cond = in_range(other, lo, hi, facts)
            if cond == sp.true:
                out += picked
            elif cond != sp.false:
                out += sp.Piecewise((picked, cond), (sp.S.Zero, True))
            continue
        const, dep = term.as_independent(var, as_Add=False)
        count = hi - lo + 1
        if dep == 1 and count.is_nonnegative:
            # (with a count that may be negative, Σ_{k=lo}^{hi} 1 follows SymPy's Karr convention,
            # not the reader's "empty sum is 0": leave it as a sum)
            out += const * count
        else:
            out += const * sp.Sum(dep, (var, lo, hi))
    return out


def reduce_sums(expr: sp.Expr, facts: Any = True) -> sp.Expr:
    """Apply :func:`_split_sum` bottom-up until nothing changes; ``facts`` (the index ranges)
    decide whether a summed-out delta lies within its sum's limits."""
    for _ in range(8):
        new = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: _split_sum(e, facts))
        if new == expr:
            break
        expr = new
    return expr


def standard_ranges(expr: sp.Expr) -> sp.Expr:
    """A sum whose range might run backwards (Σ_{k=1}^{n-2} at n = 1) made explicitly 0 there (a
    product 1), the reader's convention.  SymPy evaluates such sums by Karr's convention
    (Σ_{k=1}^{-1} f(k) = -f(0)), under which Σ_{k=1}^{n-2} 1 = n - 2 would hold at n = 1."""

    def guard(e: sp.Basic) -> sp.Basic:
        counts = [hi - lo + 1 for _, lo, hi in e.limits]
        unsure = [c for c in counts if not c.is_nonnegative]
        if not unsure:
            return e
        empty = sp.S.Zero if isinstance(e, sp.Sum) else sp.S.One
        return sp.Piecewise((e, sp.And(*[sp.Ge(c, 0) for c in unsure])), (empty, True))

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), guard)


def rename_bound(expr: sp.Expr, names: dict | None = None) -> tuple[sp.Expr, list]:
    """Give every summation (and product) index a name of its own, and return the facts its range
    gives it (lo ≤ k ≤ hi, valid inside its own sum).  Facts about the derivation's indices
    (k ∈ 1..n) then never leak into a sum that runs k over another range, e.g. 0..n.

    The new name depends only on the old name and the range, so the same sum written on both
    sides of a step is still recognisably the same sum; two sums that share a new name share its
    range, so its facts hold wherever it occurs.  ``names`` ((old name, lo, hi) → new name) may be
    shared between calls, so that expressions renamed apart still name the same sum alike; the
    facts returned are those of the new names this call used."""
    names = {} if names is None else names
    facts: list = []
    used: set = set()

    memo: dict = {}  # a subtree renames the same way wherever it occurs (names only grow)

    def walk(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, (sp.Indexed, sp.IndexedBase)):
            return e  # nothing bound inside; rebuilding an Indexed re-derives its assumptions (slow)
        if e in memo:
            return memo[e]
        memo[e] = out = _walk(e)
        return out

    def _walk(e: sp.Basic) -> sp.Basic:
        if not isinstance(e, (sp.Sum, sp.Product)):
            args = [walk(a) for a in e.args]
            return e if all(a is b for a, b in zip(args, e.args)) else e.func(*args)
        limits = list(e.limits)  # innermost first; a limit may mention the indices outside it
        sub: dict = {}
        for pos in reversed(range(len(limits))):
            var, lo, hi = limits[pos]
            lo, hi = walk(lo.xreplace(sub)), walk(hi.xreplace(sub))
            key = (var.name, lo, hi)
            if key not in names:
                names[key] = _index_dummy(var.name, lo)
            if key not in used:
                used.add(key)
                facts.extend([sp.Q.ge(names[key], lo), sp.Q.le(names[key], hi)])
            sub[var] = names[key]
            limits[pos] = (names[key], lo, hi)
        rebinds = {v for inner in e.function.atoms(sp.Sum, sp.Product) for v in inner.variables}
        if rebinds & set(sub):
            return e  # an inner sum reuses an outer index name: leave it as written, with no facts
        return e.func(walk(e.function.xreplace(sub)), *limits)

    return walk(expr), facts


def _index_dummy(name: str, lo: sp.Expr) -> sp.Dummy:
    """An integer index running from ``lo``: positive only when ``lo`` ≥ 1 is known."""
    if lo.is_positive:
        return sp.Dummy(name, integer=True, positive=True)
    if lo.is_nonnegative:
        return sp.Dummy(name, integer=True, nonnegative=True)
    return sp.Dummy(name, integer=True)


def misdeclared_bound_index(expr: sp.Expr) -> str | None:
    """A sum whose index carries an assumption its range contradicts (k declared positive,
    Σ_{k=0}^{n}): SymPy applied the assumption when the summand was built (Max(k, 1) became k), so
    no later rewrite can be trusted.  Returns a message, or None."""
    for e in expr.atoms(sp.Sum, sp.Product):
        for var, lo, _hi in e.limits:
            if var.is_positive and not lo.is_positive:
                return f"summation index {var} is declared positive but its range starts at {lo}"
            if var.is_nonnegative and not lo.is_nonnegative:
                return f"summation index {var} is declared nonnegative but its range starts at {lo}"
    return None


def _opaque_sums(expr: sp.Expr) -> sp.Expr:
    """Hold each remaining sum as a symbol (positive when its summand is) so simplify can't
    rewrite through it."""
    mapping, by_canonical = {}, {}
    for s in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key):
        # the same sum written with another summation index is the same symbol
        canonical = s.xreplace({lim[0]: _CANONICAL[k] for k, lim in enumerate(s.limits)})
        if canonical not in by_canonical:
            # positive only when the summand is and the range cannot be empty (an empty sum is 0)
            nonempty = all((hi - lo).is_nonnegative for _, lo, hi in s.limits)
            positive = bool(s.function.is_positive) and nonempty
            real = bool(s.function.is_extended_real)
            by_canonical[canonical] = sp.Dummy(f"S{len(by_canonical)}", positive=positive or None, real=real or None)
        mapping[s] = by_canonical[canonical]
    return expr.xreplace(mapping)


# integer only: an assumption such as positivity could evaluate two different summands to the same
# canonical form (Max(k, 1) and k for k ≥ 1) and so merge different sums
_CANONICAL = sp.symbols("_k0:4", integer=True)


def _exp_of_sums(expr: sp.Expr) -> sp.Expr:
    """Π_l e^{f(l)} → e^{Σ_l f(l)} (SymPy's expand rewrites the other way), so a sum held opaque
    is recognised in both spellings."""

    def is_exp_product(e: sp.Basic) -> bool:
        return isinstance(e, sp.Product) and isinstance(e.function, sp.exp)

    return expr.replace(is_exp_product, lambda e: sp.exp(sp.Sum(e.function.args[0], *e.limits)))


def _merge_sums(expr: sp.Expr) -> tuple[list[sp.Expr], sp.Expr] | None:
    """Write ``expr`` as Σ_k f(k) + Σ_k g(k) + … + rest with one summand per summation range
    (a factor free of the summation index moves inside its sum; the index is renamed to a
    canonical one), so that Σ_a A_a - Σ_c B_c is decided by simplifying A_k - B_k.
    Returns (summands, rest), or None when fewer than two sums share a range."""
    groups: dict = {}
    count: dict = {}
    rest = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(expr)):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum) and len(f.limits) == 1]
        if len(sums) != 1:
            rest += term
            continue
        s = sums[0]
        var, lo, hi = s.limits[0]
        coeff = term / s
        if var in coeff.free_symbols:
            rest += term
            continue
        canon = _index_dummy("k", lo)
        key = (lo, hi)
        groups.setdefault(key, (canon, []))
        canon = groups[key][0]
        groups[key][1].append(coeff * s.function.xreplace({var: canon}))
        count[key] = count.get(key, 0) + 1
    if not groups or max(count.values()) < 2:
        return None
    return [sp.Add(*fs) for _, fs in groups.values()], rest


def _free_deltas(expr: sp.Expr) -> list[sp.KroneckerDelta]:
    """Kronecker deltas of free indices only: a delta of a summation index is not a case split
    (δ_kj → 0 inside Σ_k would drop the k = j term)."""
    free = expr.free_symbols
    deltas = [d for d in expr.atoms(sp.KroneckerDelta) if d.free_symbols <= free and not _bound_in(expr, d)]
    return sorted(deltas, key=sp.default_sort_key)


def _bound_in(expr: sp.Expr, delta: sp.KroneckerDelta) -> bool:
    return any(
        delta.has(var) and e.function.has(delta)
        for e in expr.atoms(sp.Sum, sp.Product)
        for var in e.variables
    )


# Equivalence-preserving normal forms, cheapest first: expanding decides most differences in
# milliseconds, ``simplify`` (its heuristics try many of these and more) only the rest.
_ZERO_TESTS = (
    sp.expand,
    lambda e: sp.expand(sp.together(e)),
    sp.cancel,
    sp.simplify,
    lambda e: sp.simplify(sp.expand_log(e)),
)


def simplifies_to_zero(expr: sp.Expr) -> bool:
    """Whether one of SymPy's rewrites (each keeps the value wherever ``expr`` is defined)
    turns ``expr`` into 0."""
    return any(test(expr) == 0 for test in _ZERO_TESTS)


def is_zero(expr: sp.Expr, facts: Any = True, depth: int = 0) -> tuple[bool, str]:
    """Decide ``expr == 0`` symbolically; returns (decided_zero, how).  ``facts`` are the index
    ranges, used only to decide whether a summed-out delta falls inside its sum."""
    if expr == 0:
        return True, "reduces to 0"
    expr = _exp_of_sums(expr)
    merged = _merge_sums(expr)
    if merged is not None and depth < 3:
        summands, rest = merged
        summands_zero = all(is_zero(reduce_sums(f.doit(), facts), facts, depth + 1)[0] for f in summands)
        if summands_zero and is_zero(rest, facts, depth + 1)[0]:
            return True, "sums over the same range merged; the combined summand simplifies to 0"
    opaque = _opaque_sums(expr)
    # a clearly nonzero value at one legal point: no rewrite of SymPy's can reach 0 (skipping
    # them only saves time; it never shows anything)
    if not nonzero_somewhere(opaque) and simplifies_to_zero(opaque):
        return True, "difference simplifies to 0"
    deltas = _free_deltas(expr)
    if deltas and depth < 3:
        a, b = deltas[0].args
        keep = b if isinstance(b, sp.Symbol) else a
        other = a if keep is b else b
        # i = j: substitute one index for the other (the values both can take lie in either's
        # range, so proving it over one index's whole range covers them); i ≠ j: the delta is 0
        equal_case = expr.xreplace({keep: other}) if isinstance(keep, sp.Symbol) else None
        unequal_case = expr.xreplace({deltas[0]: sp.S.Zero})
        if equal_case is not None:
            ok1, _ = is_zero(reduce_sums(equal_case.doit(), facts), facts, depth + 1)
            ok2, _ = is_zero(unequal_case, facts, depth + 1)
            if ok1 and ok2:
                return True, f"difference is 0 in both cases {a} = {b} and {a} ≠ {b}"
    return False, "SymPy could not reduce the difference to 0"


# ---------------------------------------------------------------------------------------------
# exact checking at random rational points



def _index_symbols(expr: sp.Expr) -> set:
    """Free symbols, including the indices of a derivative's variables: ``∂L/∂W_qr`` has free
    indices q, r even where L does not contain W_qr (SymPy counts derivative variables as bound),
    and they must be substituted before ``doit``."""
    out = set(expr.free_symbols)
    for der in expr.atoms(sp.Derivative):
        for var in der.variables:
            out |= var.free_symbols
    return out


# Sizes at which a step SymPy cannot decide is evaluated: the smallest cases, where index
# arithmetic slips show, and two larger ones, for claims that fail only from some size on.
DEFAULT_PROOF_SIZES = (1, 2, 3, 4, 7, 20)
# every combination of free-index values up to this many; above it a sample that keeps the first
# and last value of every index
MAX_INDEX_COMBINATIONS = 64


def index_combinations(ranges: list[range], rng: random.Random, limit: int = MAX_INDEX_COMBINATIONS) -> list[tuple]:
    """All combinations of index values when there are at most ``limit``; otherwise the corners
    (every index at its first or last value) and random combinations, ``limit`` in all."""
    total = 1
    for r in ranges:
        total *= len(r)
    if total <= limit:
        return list(itertools.product(*ranges))
    chosen = list(dict.fromkeys(itertools.product(*[(r[0], r[-1]) for r in ranges])))[:limit]
    seen = set(chosen)
    while len(chosen) < limit:
        combo = tuple(rng.choice(r) for r in ranges)
        if combo not in seen:
            seen.add(combo)
            chosen.append(combo)
    return chosen


def check_numerically(
    derivation: Derivation,
    lhs: sp.Expr,
    rhs: sp.Expr,
    relation: str,
    *,
    seed: int = 0,
    sizes: Sequence[int] | None = None,
) -> tuple[bool, str]:
    """Evaluate ``lhs ⋈ rhs`` to 50 digits at exact rational inputs, for every combination of
    free indices (or a sample, see :func:`index_combinations`), at the sizes of
    :meth:`Derivation.proof_sizes`; returns (holds, what was done)."""
    ok, detail, _ = check_at_points(derivation, lhs, rhs, relation, seed=seed, sizes=sizes)
    return ok, detail


def check_at_points(
    derivation: Derivation,
    lhs: sp.Expr,
    rhs: sp.Expr,
    relation: str,
    *,
    seed: int = 0,
    sizes: Sequence[int] | None = None,
) -> tuple[bool, str, Counterexample | None]:
    """:func:`check_numerically` that also returns the first point where the sides differ
    (None when the step holds at every point, or could not be evaluated)."""
    rng = random.Random(seed)
    counts = undefined = 0
    for size_set in derivation.proof_sizes(sizes):
        concrete_lhs = derivation.concretize(lhs, size_set)
        concrete_rhs = derivation.concretize(rhs, size_set)
        fast = can_instantiate(concrete_lhs) and can_instantiate(concrete_rhs)
        fill = Instantiator({})  # sums written out at each index value, sharing repeated subtrees
        free_indices = sorted(
            (_index_symbols(concrete_lhs) | _index_symbols(concrete_rhs)) & set(derivation.index_ranges),
            key=sp.default_sort_key,
        )
        ranges = []
        for idx in free_indices:
            lo, hi = (int(b.xreplace({s: sp.Integer(v) for s, v in size_set.items()})) for b in derivation.index_range(idx))
            ranges.append(range(lo, hi + 1))
        if any(len(r) == 0 for r in ranges):
            continue  # an index with no values at this size: nothing to check
        # three random draws at small sizes, one at large ones (a 20-term sum to 50 digits is slow)
        draws = 3 if max(size_set.values(), default=0) <= 4 else 1
        for _ in range(draws):
            values = derivation.sample_exact(size_set, rng)
            for combo in index_combinations(ranges, rng):
                sub = {idx: sp.Integer(v) for idx, v in zip(free_indices, combo)}  # a side may be the index alone
                if fast:
                    left_point, right_point = fill(concrete_lhs, sub), fill(concrete_rhs, sub)
                else:
                    left_point = unroll(concrete_lhs.xreplace(sub)).doit()
                    right_point = unroll(concrete_rhs.xreplace(sub)).doit()
                try:
                    left = derivation.substitute(left_point, values)
                    right = derivation.substitute(right_point, values)
                except UndefinedPoint:  # a side has no value here: the claim says nothing at this one point
                    undefined += 1
                    continue
                a, b = sp.N(left, 50), sp.N(right, 50)
                if not (a.is_number and b.is_number):
                    return False, f"could not evaluate to a number: {a} vs {b}", None
                counts += 1
                if not _relation_holds(a, b, relation):
                    where = ", ".join(f"{k}={v}" for k, v in {**size_set, **sub}.items())
                    used = left_point.free_symbols | right_point.free_symbols
                    used |= left_point.atoms(sp.Indexed) | right_point.atoms(sp.Indexed)
                    witness = Counterexample(
                        sizes=dict(size_set), indices=sub,
                        values={k: v for k, v in values.items() if k in used}, lhs=left, rhs=right,
                    )  # fmt: skip
                    return False, (
                        f"fails at {where}: left {sp.N(a, 8)}, right {sp.N(b, 8)} (exact rational inputs)"
                    ), witness
    left_out = (f"; {undefined} point{'s' if undefined != 1 else ''} where a side is undefined (a division by zero, "
                "0/0 or log 0) left out: the claim says nothing there") if undefined else ""
    if counts == 0:
        return False, ("a side is undefined at every point tried" if undefined
                       else "no index values to evaluate at any size"), None
    return True, f"{counts} evaluations to 50 digits hold (sizes {derivation.proof_size_text(sizes)}){left_out}", None


def unroll(expr: sp.Expr, _memo: dict | None = None) -> sp.Expr:
    """Sums and products with concrete limits written out term by term, outermost first (an inner
    limit may depend on an outer index).  A range with no values gives 0 (1 for a product), the
    reader's convention; SymPy's ``doit`` follows Karr's, where Σ_{k=1}^{-1} f(k) = -f(0)."""
    memo = {} if _memo is None else _memo  # a softmax repeats its denominator in every entry
    if not expr.args or isinstance(expr, (sp.Indexed, sp.IndexedBase)):
        return expr
    if expr in memo:
        return memo[expr]
    if isinstance(expr, (sp.Sum, sp.Product)):
        var, lo, hi = expr.limits[-1]
        out = expr
        if lo.is_Integer and hi.is_Integer:
            inner = expr.func(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
            # subs where an inner sum reuses the index name (Σ_j q_j (m_j − Σ_j q_j m_j)²): it knows
            # that the inner j is bound; xreplace (much faster) where no inner sum rebinds it
            rebound = any(var in e.variables for e in inner.atoms(sp.Sum, sp.Product))
            put = inner.subs if rebound else (lambda v_, n_: inner.xreplace({v_: n_}))
            terms = [unroll(put(var, sp.Integer(v)), memo) for v in range(int(lo), int(hi) + 1)]
            out = sp.Add(*terms) if isinstance(expr, sp.Sum) else sp.Mul(*terms)
    else:
        args = [unroll(a, memo) for a in expr.args]
        out = expr if all(a is b for a, b in zip(args, expr.args)) else expr.func(*args)
    memo[expr] = out
    return out


# equal to 50 digits, relative to the sides' size: exact rational inputs leave only the error of
# evaluating transcendental functions to 50 digits
EXACT_TOLERANCE = sp.Float("1e-40", 50)


def _relation_holds(a: sp.Expr, b: sp.Expr, relation: str) -> bool:
    scale = 1 + abs(a) + abs(b)
    if relation == "=":
        return bool(abs(a - b) <= EXACT_TOLERANCE * scale)
    if not (a.is_real and b.is_real):
        return False  # an inequality between complex values (a log of a negative) does not hold
    if relation in (">=", "≥"):
        return bool(a - b >= -EXACT_TOLERANCE * scale)
    if relation in ("<=", "≤"):
        return bool(b - a >= -EXACT_TOLERANCE * scale)
    if relation == "!=":
        return bool(abs(a - b) > EXACT_TOLERANCE * scale)
    if relation == "<":
        return bool(a < b)
    if relation == ">":
        return bool(a > b)
    raise ValueError(f"unknown relation {relation!r}")  # pragma: no cover - Step validates relations


# ---------------------------------------------------------------------------------------------


def doit_keeping_sums(expr: sp.Basic) -> sp.Basic:
    """``expr.doit()`` except that sums and products are not evaluated (their bodies are).

    SymPy's ``Sum.doit`` runs its summation algorithms on every summand, which takes seconds on a
    summand it cannot sum in closed form (a sigmoid of an inner sum) and gains nothing that
    :func:`reduce_sums` does not do; derivatives of sums still become sums of derivatives."""
    if not expr.args:
        return expr
    if isinstance(expr, (sp.Sum, sp.Product)):
        return expr.func(doit_keeping_sums(expr.function), *expr.limits)
    args = [doit_keeping_sums(a) for a in expr.args]
    new = expr.func(*args) if args != list(expr.args) else expr
    return new.doit(deep=False)


class NormalForms:
    """Normal forms (see :func:`normalize`) of the expressions of one derivation, each computed
    once — a chain of steps repeats its left-hand side — with every summation index renamed the
    same way in all of them, so that the difference of two forms is the form of the difference."""

    def __init__(self, derivation: Derivation) -> None:
        self.derivation = derivation
        self._names: dict = {}
        self._forms: dict = {}

    def of(self, expr: sp.Expr, *, evaluate_sums: bool = True) -> tuple[sp.Expr, Any]:
        """``expr`` normalized, with the facts (index ranges, stated predicates, the range of each
        summation index in it) that later reductions may use."""
        key = (expr, evaluate_sums)
        if key not in self._forms:
            self._forms[key] = self._normalize(expr, evaluate_sums)
        return self._forms[key]

    def _normalize(self, expr: sp.Expr, evaluate_sums: bool) -> tuple[sp.Expr, Any]:
        derivation = self.derivation
        e = standard_ranges(derivation.expand_definitions(expr))
        e = e.doit() if evaluate_sums else doit_keeping_sums(e)
        e, bound_facts = rename_bound(e, self._names)
        facts = sp.And(derivation._refine_assumptions, *bound_facts) if bound_facts else derivation._refine_assumptions
        e = reduce_sums(e, facts)
        # refine only where it has work to do (index-range Piecewise from summing a delta): on a
        # large expression without one it costs seconds and changes nothing
        e = e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: refine_by_ranges(x, facts))
        e = reduce_sums(derivation.apply_facts(e), facts)
        return derivation.apply_facts(e), facts


# the normal forms of the derivation being proved (set by :func:`prove` for its duration): the
# rules of gradproof.derivations.logic normalize the same premises and conclusions again and again
_ACTIVE_FORMS: ContextVar[NormalForms | None] = ContextVar("gradproof_active_forms", default=None)


def _forms_for(derivation: Derivation) -> NormalForms:
    forms = _ACTIVE_FORMS.get()
    return forms if forms is not None and forms.derivation is derivation else NormalForms(derivation)


@contextmanager
def shared_forms(derivation: Derivation) -> Iterator[NormalForms]:
    """One set of normal forms for ``derivation`` while the block runs, as :func:`prove` keeps:
    for callers that establish its steps one at a time with :func:`prove_step` (so that a sum
    written in a premise and in its conclusion is renamed alike, and the rules can match them)."""
    forms = NormalForms(derivation)
    token = _ACTIVE_FORMS.set(forms)
    try:
        yield forms
    finally:
        _ACTIVE_FORMS.reset(token)


# whether :func:`normalize` tries SymPy's summation algorithms when not told (see prove_implication)
SUMS_EVALUATED: ContextVar[bool] = ContextVar("gradproof_sums_evaluated", default=True)


def normalize(derivation: Derivation, expr: sp.Expr, *, evaluate_sums: bool | None = None) -> tuple[sp.Expr, Any]:
    """``expr`` with definitions expanded, derivatives evaluated, summation indices renamed apart,
    sums reduced and the derivation's facts applied; returns it with the facts (index ranges,
    stated predicates, each summation index's own range) that later reductions may use.
    ``evaluate_sums=False``: SymPy's summation algorithms are not tried (see
    :func:`doit_keeping_sums`).  Within :func:`prove` the forms are computed once per derivation
    (and summation indices renamed alike in all of them).  ``evaluate_sums`` defaults to
    :data:`SUMS_EVALUATED` (true unless a caller sets it)."""
    if evaluate_sums is None:
        evaluate_sums = SUMS_EVALUATED.get()
    return _forms_for(derivation).of(expr, evaluate_sums=evaluate_sums)


def prove_step(
    derivation: Derivation,
    step: Step,
    index: int,
    *,
    seed: int = 0,
    sizes: Sequence[int] | None = None,
    forms: NormalForms | None = None,
    earlier: Sequence[tuple[Step, StepRecord]] = (),
) -> StepRecord:
    """Establish one step: shown when the difference of its sides' normal forms is 0 or a rule of
    :mod:`gradproof.derivations.logic` (implications, chains, facts) establishes it from ``earlier``
    (the steps before it with their records), else checked at exact points.  ``forms`` shares
    normal forms between the steps of a derivation."""
    from gradproof.derivations import logic

    if step.relation == "=>":
        return logic.prove_implication(derivation, step, index, earlier, seed=seed, sizes=sizes)
    chained = logic.chain_of_steps(step, earlier)  # rows of an align* joined: no SymPy needed
    if chained is not None:
        return chained.record(index, step.reason)
    forms = _forms_for(derivation) if forms is None else forms
    lhs, rhs = step.lhs, step.rhs
    try:
        # each side on its own: their difference may already have cancelled the evidence
        misdeclared = misdeclared_bound_index(derivation.expand_definitions(lhs)) or misdeclared_bound_index(
            derivation.expand_definitions(rhs)
        )
    except Exception:  # noqa: BLE001 - judged below, where the same expansion fails again
        misdeclared = None
    if misdeclared:
        return StepRecord(index, step.reason, FAILED, misdeclared)
    if step.relation == "=":
        zero, how = False, "SymPy could not reduce the difference to 0"
        # first without SymPy's summation algorithms (fast; most steps need none), then with them
        for evaluate_sums in (False, True):
            try:
                # each side normalized on its own (and once, for a chain of steps on one side)
                left, left_facts = forms.of(lhs, evaluate_sums=evaluate_sums)
                right, right_facts = forms.of(rhs, evaluate_sums=evaluate_sums)
                zero, how = is_zero(left - right, sp.And(left_facts, right_facts))
            except Exception as exc:  # noqa: BLE001 - any SymPy failure means "not shown"
                zero, how = False, f"SymPy raised {type(exc).__name__}"
            if zero:
                break
        if zero:
            return StepRecord(index, step.reason, SHOWN, how)
        fallback_reason = how
    else:
        fallback_reason = "SymPy could not show the relation"
    # the rules first on normal forms without SymPy's summation algorithms, then with them
    for evaluate_sums in (False, True):
        token = SUMS_EVALUATED.set(evaluate_sums)
        try:
            outcome = logic.prove_relation(derivation, step, earlier)
        except Exception:  # noqa: BLE001 - a rule that fails to apply leaves the step to the point checks
            outcome = None
        finally:
            SUMS_EVALUATED.reset(token)
        if outcome is not None:
            return outcome.record(index, step.reason)
    ok, detail, witness = check_at_points(derivation, lhs, rhs, step.relation, seed=seed + index, sizes=sizes)
    if ok:
        return StepRecord(index, step.reason, CHECKED, f"{fallback_reason}; {detail}")
    return StepRecord(index, step.reason, FAILED, f"{fallback_reason}; {detail}", witness)


def prove(derivation: Derivation, *, seed: int = 0, sizes: Sequence[int] | None = None) -> ProofResult:
    """Establish every step of ``derivation``; ``sizes`` are the values each size symbol takes
    where a step is checked at exact points (default :data:`DEFAULT_PROOF_SIZES`)."""
    from gradproof.derivations.logic import statement_established

    forms = NormalForms(derivation)
    records: list[StepRecord] = []
    token = _ACTIVE_FORMS.set(forms)
    try:
        for k, st in enumerate(derivation.steps):
            earlier = tuple(zip(derivation.steps[:k], records))
            records.append(prove_step(derivation, st, k + 1, seed=seed, sizes=sizes, forms=forms, earlier=earlier))
    finally:
        _ACTIVE_FORMS.reset(token)
    established = statement_established(derivation.statement, derivation.steps)
    return ProofResult(derivation.name, tuple(records), established)

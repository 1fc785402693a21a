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
from dataclasses import dataclass
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Step

SHOWN = "shown symbolically"
CHECKED = "checked at exact random points"
FAILED = "failed"


@dataclass(frozen=True)
class Counterexample:
    """Where the two sides of a step differ: the sizes, free-index values and exact input values
    of the point, and the value of each side there."""

    sizes: dict
    indices: dict
    values: dict
    lhs: Any
    rhs: Any


@dataclass(frozen=True)
class StepRecord:
    """How one step was established: ``method`` is SHOWN, CHECKED or FAILED.  A FAILED step
    whose sides were found to differ carries the ``counterexample``; without one it could not
    be evaluated."""

    index: int
    reason: str
    method: str
    detail: str
    counterexample: Counterexample | None = None

    @property
    def ok(self) -> bool:
        return self.method != FAILED

    def __str__(self) -> str:
        mark = "ok " if self.ok else "FAIL"
        return f"  [{mark}] step {self.index}: {self.method} — {self.detail}  ({self.reason})"


@dataclass(frozen=True)
class ProofResult:
    """The outcome of :meth:`Derivation.prove`: ``ok`` when every step holds."""

    name: str
    steps: tuple[StepRecord, ...]
    statement_is_last_step: bool

    @property
    def ok(self) -> bool:
        return self.statement_is_last_step and all(s.ok for s in self.steps)

    @property
    def shown(self) -> int:
        return sum(s.method == SHOWN for s in self.steps)

    @property
    def checked(self) -> int:
        return sum(s.method == CHECKED for s in self.steps)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "proved" if self.ok else "NOT proved"
        lines = [
            f"{self.name}: {head} — {self.shown} step(s) shown symbolically, "
            f"{self.checked} checked at exact random points"
        ]
        if not self.statement_is_last_step:
            lines.append("  the steps do not state the derivation's statement (for a plain relation: the last step)")
        lines += [str(s) for s in self.steps]
        return "\n".join(lines)


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
    return sp.refine(cond, facts)


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


def rename_bound(expr: sp.Expr) -> tuple[sp.Expr, list]:
    """Give every summation (and product) index a name of its own, and return the facts its range
    gives it (lo ≤ k ≤ hi, valid inside its own sum).  Facts about the derivation's indices
    (k ∈ 1..n) then never leak into a sum that runs k over another range, e.g. 0..n.

    The new name depends only on the old name and the range, so the same sum written on both
    sides of a step is still recognisably the same sum; two sums that share a new name share its
    range, so its facts hold wherever it occurs."""
    names: dict = {}
    facts: list = []

    def walk(e: sp.Basic) -> sp.Basic:
        if not e.args:
            return e
        if not isinstance(e, (sp.Sum, sp.Product)):
            return e.func(*[walk(a) for a in e.args])
        limits = list(e.limits)  # innermost first; a limit may mention the indices outside it
        sub: dict = {}
        for pos in reversed(range(len(limits))):
            var, lo, hi = limits[pos]
            lo, hi = walk(lo.xreplace(sub)), walk(hi.xreplace(sub))
            key = (var.name, lo, hi)
            if key not in names:
                names[key] = _index_dummy(var.name, lo)
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
    if sp.simplify(opaque) == 0 or sp.simplify(sp.expand_log(opaque)) == 0:
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
    counts = 0
    for size_set in derivation.proof_sizes(sizes):
        concrete_lhs = derivation.concretize(lhs, size_set)
        concrete_rhs = derivation.concretize(rhs, size_set)
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
                sub = dict(zip(free_indices, combo))
                left_point = unroll(concrete_lhs.xreplace(sub)).doit()
                right_point = unroll(concrete_rhs.xreplace(sub)).doit()
                left = derivation.substitute(left_point, values)
                right = derivation.substitute(right_point, values)
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
    if counts == 0:
        return False, "no index values to evaluate at any size", None
    return True, f"{counts} evaluations to 50 digits hold (sizes {derivation.proof_size_text(sizes)})", None


def unroll(expr: sp.Expr) -> sp.Expr:
    """Sums and products with concrete limits written out term by term, outermost first (an inner
    limit may depend on an outer index).  A range with no values gives 0 (1 for a product), the
    reader's convention; SymPy's ``doit`` follows Karr's, where Σ_{k=1}^{-1} f(k) = -f(0)."""
    if isinstance(expr, (sp.Sum, sp.Product)):
        var, lo, hi = expr.limits[-1]
        if lo.is_Integer and hi.is_Integer:
            inner = expr.func(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
            # subs, not xreplace: an inner sum may reuse the index name (Σ_j q_j (m_j − Σ_j q_j m_j)²)
            terms = [unroll(inner.subs(var, sp.Integer(v))) for v in range(int(lo), int(hi) + 1)]
            return sp.Add(*terms) if isinstance(expr, sp.Sum) else sp.Mul(*terms)
        return expr
    if not expr.args:
        return expr
    return expr.func(*[unroll(a) for a in expr.args])


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


def normalize(derivation: Derivation, expr: sp.Expr) -> tuple[sp.Expr, Any]:
    """``expr`` with definitions expanded, derivatives evaluated, summation indices renamed apart,
    sums reduced and the derivation's facts applied; returns it with the facts (index ranges,
    stated predicates, each summation index's own range) that later reductions may use."""
    e = standard_ranges(derivation.expand_definitions(expr)).doit()
    e, bound_facts = rename_bound(e)
    facts = sp.And(derivation._refine_assumptions, *bound_facts) if bound_facts else derivation._refine_assumptions
    e = reduce_sums(e, facts)
    # refine only where it has work to do (index-range Piecewise from summing a delta): on a
    # large expression without one it costs seconds and changes nothing
    e = e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: sp.refine(x, facts))
    e = reduce_sums(derivation.apply_facts(e), facts)
    return derivation.apply_facts(e), facts


def prove_step(
    derivation: Derivation,
    step: Step,
    index: int,
    *,
    seed: int = 0,
    sizes: Sequence[int] | None = None,
    earlier: Sequence[tuple[Step, StepRecord]] = (),
) -> StepRecord:
    """Establish one step; ``earlier`` are the steps before it with their records, which the
    rules of :mod:`gradproof.derivations.logic` (implications, chains, facts) may build on."""
    from gradproof.derivations import logic

    if step.relation == "=>":
        return logic.prove_implication(derivation, step, index, earlier, seed=seed, sizes=sizes)
    chained = logic.chain_of_steps(step, earlier)  # rows of an align* joined: no SymPy needed
    if chained is not None:
        return chained.record(index, step.reason)
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
        try:
            diff, facts = normalize(derivation, lhs - rhs)
            zero, how = is_zero(diff, facts)
        except Exception as exc:  # noqa: BLE001 - any SymPy failure means "not shown"
            zero, how = False, f"SymPy raised {type(exc).__name__}"
        if zero:
            return StepRecord(index, step.reason, SHOWN, how)
        fallback_reason = how
    else:
        fallback_reason = "SymPy could not show the relation"
    try:
        outcome = logic.prove_relation(derivation, step, earlier)
    except Exception:  # noqa: BLE001 - a rule that fails to apply leaves the step to the point checks
        outcome = None
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

    records: list[StepRecord] = []
    for k, st in enumerate(derivation.steps):
        earlier = tuple(zip(derivation.steps[:k], records))
        records.append(prove_step(derivation, st, k + 1, seed=seed, sizes=sizes, earlier=earlier))
    established = statement_established(derivation.statement, derivation.steps)
    return ProofResult(derivation.name, tuple(records), established)


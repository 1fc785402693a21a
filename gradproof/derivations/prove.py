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
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sympy as sp

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Step

SHOWN = "shown symbolically"
CHECKED = "checked at exact random points"
FAILED = "failed"


@dataclass(frozen=True)
class StepRecord:
    """How one step was established: ``method`` is SHOWN, CHECKED or FAILED."""

    index: int
    reason: str
    method: str
    detail: str

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
            lines.append("  the last step does not state the derivation's statement")
        lines += [str(s) for s in self.steps]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# symbolic reduction


def _split_sum(s: sp.Sum) -> sp.Expr:
    """Σ over a sum of terms → sum of Σ's; constants pulled out; Kronecker deltas summed.
    A sum over several indices is split one index at a time, innermost first."""
    out = _split_body(s.function, *s.limits[0])
    for lim in s.limits[1:]:
        out = sp.Add(*[_split_body(term, *lim) for term in sp.Add.make_args(out)])
    return out


def _split_body(function: sp.Expr, var: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    # e^{a+b} → e^a e^b, so constants factor out; log(ab) → log a + log b only where SymPy knows
    # the factors are positive (expand_log without force is sound)
    body = sp.expand(sp.expand_log(function), log=False)
    out = sp.S.Zero
    for term in sp.Add.make_args(body):
        # only a delta that multiplies the whole term may be summed out
        deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta) and var in f.free_symbols]
        if deltas:
            # Σ_k f(k) δ(j, k) = f(j): j lies in [lo, hi] by the index-range assumptions.
            delta = deltas[0]
            other = delta.args[1] if delta.args[0] == var else delta.args[0]
            out += (term / delta).subs(var, other)
            continue
        const, dep = term.as_independent(var, as_Add=False)
        if dep == 1:
            out += const * (hi - lo + 1)
        else:
            out += const * sp.Sum(dep, (var, lo, hi))
    return out


def reduce_sums(expr: sp.Expr) -> sp.Expr:
    """Apply :func:`_split_sum` bottom-up until nothing changes."""
    for _ in range(8):
        new = expr.replace(lambda e: isinstance(e, sp.Sum), _split_sum)
        if new == expr:
            break
        expr = new
    return expr


def _opaque_sums(expr: sp.Expr) -> sp.Expr:
    """Hold each remaining sum as a symbol (positive when its summand is) so simplify can't
    rewrite through it."""
    mapping, by_canonical = {}, {}
    for s in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key):
        # the same sum written with another summation index is the same symbol
        canonical = s.xreplace({lim[0]: _CANONICAL[k] for k, lim in enumerate(s.limits)})
        if canonical not in by_canonical:
            positive = bool(s.function.is_positive)
            by_canonical[canonical] = sp.Dummy(f"S{len(by_canonical)}", positive=positive or None, real=True)
        mapping[s] = by_canonical[canonical]
    return expr.xreplace(mapping)


_CANONICAL = sp.symbols("_k0:4", integer=True, positive=True)


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
        canon = sp.Dummy("k", integer=True, positive=True)
        key = (lo, hi)
        groups.setdefault(key, (canon, []))
        canon = groups[key][0]
        groups[key][1].append(coeff * s.function.xreplace({var: canon}))
        count[key] = count.get(key, 0) + 1
    if not groups or max(count.values()) < 2:
        return None
    return [sp.Add(*fs) for _, fs in groups.values()], rest


def _free_deltas(expr: sp.Expr) -> list[sp.KroneckerDelta]:
    return sorted(expr.atoms(sp.KroneckerDelta), key=sp.default_sort_key)


def is_zero(expr: sp.Expr, depth: int = 0) -> tuple[bool, str]:
    """Decide ``expr == 0`` symbolically; returns (decided_zero, how)."""
    if expr == 0:
        return True, "reduces to 0"
    expr = _exp_of_sums(expr)
    merged = _merge_sums(expr)
    if merged is not None and depth < 3:
        summands, rest = merged
        summands_zero = all(is_zero(reduce_sums(f.doit()), depth + 1)[0] for f in summands)
        if summands_zero and is_zero(rest, depth + 1)[0]:
            return True, "sums over the same range merged; the combined summand simplifies to 0"
    opaque = _opaque_sums(expr)
    if sp.simplify(opaque) == 0 or sp.simplify(sp.expand_log(opaque)) == 0:
        return True, "difference simplifies to 0"
    deltas = _free_deltas(expr)
    if deltas and depth < 3:
        a, b = deltas[0].args
        keep = b if isinstance(b, sp.Symbol) else a
        other = a if keep is b else b
        equal_case = expr.xreplace({keep: other}) if isinstance(keep, sp.Symbol) else None
        unequal_case = expr.xreplace({deltas[0]: sp.S.Zero})
        if equal_case is not None:
            ok1, _ = is_zero(reduce_sums(equal_case.doit()), depth + 1)
            ok2, _ = is_zero(unequal_case, depth + 1)
            if ok1 and ok2:
                return True, f"difference is 0 in both cases {a} = {b} and {a} ≠ {b}"
    return False, "SymPy could not reduce the difference to 0"


# ---------------------------------------------------------------------------------------------
# exact checking at random rational points


def _rational(rng: random.Random, lo: float, hi: float) -> sp.Rational:
    value = Fraction(rng.randint(1, 999), 1000) * Fraction(hi - lo).limit_denominator(100) + Fraction(
        lo
    ).limit_denominator(100)
    return sp.Rational(value.numerator, value.denominator)


def _index_symbols(expr: sp.Expr) -> set:
    """Free symbols, including the indices of a derivative's variables: ``∂L/∂W_qr`` has free
    indices q, r even where L does not contain W_qr (SymPy counts derivative variables as bound),
    and they must be substituted before ``doit``."""
    out = set(expr.free_symbols)
    for der in expr.atoms(sp.Derivative):
        for var in der.variables:
            out |= var.free_symbols
    return out


def check_numerically(
    derivation: Derivation, lhs: sp.Expr, rhs: sp.Expr, relation: str, *, seed: int = 0
) -> tuple[bool, str]:
    """Evaluate ``lhs ⋈ rhs`` to 50 digits at exact rational inputs, for every combination of
    free indices, at a few concrete sizes; returns (holds, what was done)."""
    rng = random.Random(seed)
    counts = 0
    for sizes in derivation.proof_sizes():
        concrete_lhs = derivation.concretize(lhs, sizes)
        concrete_rhs = derivation.concretize(rhs, sizes)
        free_indices = sorted(
            (_index_symbols(concrete_lhs) | _index_symbols(concrete_rhs)) & set(derivation.index_ranges),
            key=sp.default_sort_key,
        )
        ranges = [range(1, int(derivation.index_ranges[i].xreplace(sizes)) + 1) for i in free_indices]
        for _ in range(3):
            values = derivation.sample_exact(sizes, rng)
            for combo in itertools.product(*ranges):
                sub = dict(zip(free_indices, combo))
                left = derivation.substitute(concrete_lhs.xreplace(sub).doit(), values)
                right = derivation.substitute(concrete_rhs.xreplace(sub).doit(), values)
                a, b = sp.N(left, 50), sp.N(right, 50)
                if not (a.is_number and b.is_number):
                    return False, f"could not evaluate to a number: {a} vs {b}"
                counts += 1
                scale = 1 + abs(a) + abs(b)
                if relation == "=":
                    holds = abs(a - b) <= sp.Float("1e-40", 50) * scale
                elif relation in (">=", "≥"):
                    holds = a - b >= -sp.Float("1e-40", 50) * scale
                elif relation in ("<=", "≤"):
                    holds = b - a >= -sp.Float("1e-40", 50) * scale
                elif relation == "<":
                    holds = a < b
                elif relation == ">":
                    holds = a > b
                else:  # pragma: no cover - Step validates relations
                    raise ValueError(f"unknown relation {relation!r}")
                if not holds:
                    where = ", ".join(f"{k}={v}" for k, v in {**sizes, **sub}.items())
                    return False, (
                        f"fails at {where}: left {sp.N(a, 8)}, right {sp.N(b, 8)} (exact rational inputs)"
                    )
    return True, f"{counts} evaluations to 50 digits hold (sizes {derivation.proof_size_text()})"


# ---------------------------------------------------------------------------------------------


def prove_step(derivation: Derivation, step: Step, index: int, *, seed: int = 0) -> StepRecord:
    lhs, rhs = step.lhs, step.rhs
    if step.relation == "=":
        try:
            diff = derivation.normalize(lhs - rhs)
            zero, how = is_zero(diff)
        except Exception as exc:  # noqa: BLE001 - any SymPy failure means "not shown"
            zero, how = False, f"SymPy raised {type(exc).__name__}"
        if zero:
            return StepRecord(index, step.reason, SHOWN, how)
        fallback_reason = how
    else:
        fallback_reason = "inequalities are checked, not shown"
    ok, detail = check_numerically(derivation, lhs, rhs, step.relation, seed=seed + index)
    if ok:
        return StepRecord(index, step.reason, CHECKED, f"{fallback_reason}; {detail}")
    return StepRecord(index, step.reason, FAILED, f"{fallback_reason}; {detail}")


def prove(derivation: Derivation, *, seed: int = 0) -> ProofResult:
    records = tuple(prove_step(derivation, st, k + 1, seed=seed) for k, st in enumerate(derivation.steps))
    last = derivation.steps[-1] if derivation.steps else None
    statement_last = last is not None and _same_relation(derivation.statement, last.expr)
    return ProofResult(derivation.name, records, statement_last)


def _same_relation(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    return sp.simplify(a.lhs - b.lhs) == 0 and sp.simplify(a.rhs - b.rhs) == 0

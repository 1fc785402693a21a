"""Statements beyond "for all values, lhs ⋈ rhs", and the rules that establish them.

The derivation model (:mod:`gradproof.derivations.model`) says a step is a relation that holds
for every value of its free symbols.  Some lecture results say more:

* an **implication** between two relations, a step with relation ``"=>"``: *for every value,
  if the premise holds so does the conclusion*;
* an **equivalence** ``Iff(a, b)`` ("KL(p‖q) = 0 if and only if q = p"): a statement, established
  by two implication steps, a ⇒ b and b ⇒ a;
* a relation **at a point**, ``At(expr, point)``: expr at exact values of some inputs (and sizes),
  a closed statement about numbers;
* an **existential** statement ``Exists(variables, relation)`` ("H(p, q) ≠ H(q, p) in general"):
  established by a *witness*, a step ``At(lhs, point) ⋈ At(rhs, point)``.  It is a different
  claim from the universal ``"!="`` (σ(z) ≠ 0 for every z).

Random points cannot test an implication — its premise may hold only on a set of measure zero
(KL(p‖q) = 0 only where q = p) — so an implication is established by one of a few sound rules,
never by sampling:

``chain``         earlier implications a ⇒ b ⇒ … ⇒ c of the same derivation;
``substitution``  the premise is ``v = e`` for a variable v (an input, or an input's entries
                  ``q_i`` for every i): the conclusion with v replaced by e is established as
                  an ordinary step;
``rescaling``     premise ``a = b`` and conclusion ``c = d`` of equations with
                  c − d = g·(a − b) identically for a factor g that SymPy knows is finite and
                  never 0 (``p_i φ = 0 ⇒ φ = 0`` for p_i > 0);
``zero sum``      ``Σ_k t_k = 0 ⇒ t_i = 0`` when every term is nonnegative (shown by the sign
                  rule below);
``unique zero``   ``h(u) = 0 ⇒ u = a`` when h(a) = 0 and h, as a function of one real variable
                  on an interval, has no other zero: h' has a constant sign (h is strictly
                  monotone) or h'(x) = (x − a)·g(x) with g of constant sign (a strict extremum).

Inequalities, which the prover otherwise only checks at points, may also be *shown* by:

``chain``         earlier relations a = b ≥ c … ending at the step's right side;
``sign``          the difference is nonnegative structurally: sums, products and powers of parts
                  that SymPy's assumptions decide, or that match an earlier proven fact
                  ``F ≥ 0`` (e.g. φ(x) ≥ 0 for every x > 0, instantiated at x = q_i/p_i);
``minimum``       a function of one real variable whose only critical point a on its interval is
                  a strict minimum (h'(x) = (x − a)·g(x), g > 0): h(x) ≥ h(a).

Indices: a free index in both premise and conclusion is fixed across the implication (for every
c: ŷ_c = 1 ⇒ L_c = 0); one free only in the premise ranges over all its values inside the premise
(q_i = p_i for every i ⇒ KL(p‖q) = 0); one free only in the conclusion is universal
(KL(p‖q) = 0 ⇒ q_i = p_i for every i).

A rule that relies on a step which was only checked at points is itself reported as checked.
Each rule has a false step it must reject in ``tests/test_prover_soundness.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.logic.boolalg import Boolean

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Step
    from gradproof.derivations.prove import StepRecord

RELATION_OF = {sp.Eq: "=", sp.Ge: ">=", sp.Le: "<=", sp.Gt: ">", sp.Lt: "<", sp.Ne: "!="}
INEQUALITIES = (">=", ">", "<=", "<")


# ---------------------------------------------------------------------------------------------
# statements


class At(sp.Function):
    """``expr`` at exact values: ``At(H(p, q), ((p, (1/2, 1/2)), (q, (4/5, 1/5)), (n, 2)))``.

    The point binds its symbols, so an ``At`` has no free symbols and substituting sizes from
    outside (at concrete sizes) does not reach inside; definitions are still expanded inside
    (``replace`` walks into it).  ``doit`` evaluates: sizes first, sums written out, then the
    values of the inputs' entries."""

    nargs = 2

    @classmethod
    def make(cls, expr: Any, point: Sequence[tuple[Any, Any]]) -> At:
        pairs = []
        for key, value in point:
            if isinstance(value, (list, tuple)):
                value = sp.Tuple(*[sp.Rational(v) if isinstance(v, (int, str)) else sp.sympify(v) for v in value])
            else:
                value = sp.sympify(value)
            if any(isinstance(v, sp.Float) for v in sp.preorder_traversal(value)):
                raise ValueError(f"At: the value of {key} must be exact (a fraction, not a float): {value}")
            pairs.append(sp.Tuple(key, value))
        return cls(sp.sympify(expr), sp.Tuple(*pairs))

    @property
    def point(self) -> list[tuple[Any, Any]]:
        return [tuple(pair) for pair in self.args[1]]

    def _bound(self) -> set:
        return {key for key, _ in self.point}

    def _is_bound(self, e: Any) -> bool:
        bound = self._bound()
        return e in bound or (isinstance(e, sp.Indexed) and e.base in bound)

    @property
    def free_symbols(self) -> set:
        """The point binds its keys; the values (N = mB) may have free symbols of their own."""
        inner = {s for s in self.args[0].free_symbols if not self._is_bound(s)}
        inner -= {b.label for b in self._bound() if isinstance(b, sp.IndexedBase)}
        values = set().union(*(sp.sympify(v).free_symbols for _, v in self.point)) if self.point else set()
        return inner | values

    def _xreplace(self, rule):
        """Substitutions reach the values and the unbound symbols, never the bound ones: sizes
        substituted from outside (at concrete sizes) do not overwrite the point's own."""
        if self in rule:
            return rule[self], True
        free = {k: v for k, v in rule.items() if not self._is_bound(k) and not (
            isinstance(k, sp.Basic) and any(self._is_bound(s) for s in k.free_symbols))}
        if not free:
            return self, False
        expr = self.args[0].xreplace(free)
        pairs = sp.Tuple(*[sp.Tuple(key, sp.sympify(value).xreplace(free)) for key, value in self.point])
        new = self.func(expr, pairs)
        return new, new != self

    def _eval_subs(self, old, new):
        return self.xreplace({old: new})

    def doit(self, deep: bool = True, **hints):
        from gradproof.derivations.prove import unroll

        expr = self.args[0]
        sizes = {k: v for k, v in self.point if not isinstance(k, sp.IndexedBase)}
        expr = unroll(expr.xreplace(sizes).doit())
        values = {}
        for key, value in self.point:
            if isinstance(key, sp.IndexedBase):
                for pos, v in enumerate(value, start=1):
                    values[key[pos]] = v
        return expr.xreplace(values).doit()

    def _point_text(self, printer, latex: bool) -> str:
        parts = []
        for key, value in self.point:
            name = printer._print(key.label if isinstance(key, sp.IndexedBase) else key)
            shown = (
                "(" + ", ".join(printer._print(v) for v in value) + ")"
                if isinstance(value, sp.Tuple)
                else printer._print(value)
            )
            parts.append(f"{name} = {shown}")
        return (r",\ " if latex else ", ").join(parts)

    def _latex(self, printer) -> str:
        return rf"\left. {printer._print(self.args[0])} \right|_{{{self._point_text(printer, True)}}}"

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.args[0])} at ({self._point_text(printer, False)})"

    _gradproof_text = _sympystr


class Iff(Boolean):
    """``a ⟺ b`` for two relations: established by the implication steps a ⇒ b and b ⇒ a."""

    def __new__(cls, a: Any, b: Any):
        return sp.Basic.__new__(cls, sp.sympify(a), sp.sympify(b))

    @property
    def lhs(self) -> Any:
        return self.args[0]

    @property
    def rhs(self) -> Any:
        return self.args[1]

    def _latex(self, printer) -> str:
        return rf"{printer._print(self.lhs)} \iff {printer._print(self.rhs)}"

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.lhs)} ⇔ {printer._print(self.rhs)}"

    _gradproof_text = _sympystr


class Exists(Boolean):
    """"For some values of ``variables``, ``relation``": established by a witness step."""

    def __new__(cls, variables: Sequence[Any], relation: Any):
        return sp.Basic.__new__(cls, sp.Tuple(*variables), sp.sympify(relation))

    @property
    def variables(self) -> tuple:
        return tuple(self.args[0])

    @property
    def relation(self) -> Any:
        return self.args[1]

    def _names(self, printer) -> str:
        return ", ".join(printer._print(v.label if isinstance(v, sp.IndexedBase) else v) for v in self.variables)

    def _latex(self, printer) -> str:
        return rf"\exists\, {self._names(printer)}:\ {printer._print(self.relation)}"

    def _sympystr(self, printer) -> str:
        return f"∃ {self._names(printer)}: {printer._print(self.relation)}"

    _gradproof_text = _sympystr


def relation_parts(rel: Any) -> tuple[Any, str, Any] | None:
    """(lhs, relation symbol, rhs) of a SymPy relation, or None."""
    for cls, symbol in RELATION_OF.items():
        if type(rel) is cls:
            return rel.lhs, symbol, rel.rhs
    return None


def statement_established(statement: Any, steps: Sequence[Step]) -> bool:
    """Whether the steps state ``statement``: an equivalence needs both implications among the
    steps, an existential statement a witness step, a conjunction each of its parts; any other
    relation must be the last step (as every derivation's statement always was)."""
    if isinstance(statement, sp.And):
        return all(_part_established(part, steps) for part in statement.args)
    if isinstance(statement, (Iff, Exists)):
        return _part_established(statement, steps)
    last = steps[-1] if steps else None
    return last is not None and _same_relation(statement, last.expr)


def _part_established(part: Any, steps: Sequence[Step]) -> bool:
    if isinstance(part, Iff):
        return _has_implication(part.lhs, part.rhs, steps) and _has_implication(part.rhs, part.lhs, steps)
    if isinstance(part, Exists):
        return any(_is_witness_of(part, st) for st in steps)
    # the step that states a part is nearly always written as the part is: look for it with the
    # cheap test first, so that ``simplify`` runs on the other steps' large sides only when none is
    return any(_same_relation(part, st.expr, cheap=True) for st in steps) or any(
        _same_relation(part, st.expr) for st in steps
    )


def _has_implication(a: Any, b: Any, steps: Sequence[Step]) -> bool:
    return any(st.relation == "=>" and st.lhs == a and st.rhs == b for st in steps)


def _is_witness_of(claim: Exists, step: Step) -> bool:
    parts = relation_parts(claim.relation)
    if parts is None or not (isinstance(step.lhs, At) and isinstance(step.rhs, At)):
        return False
    lhs, rel, rhs = parts
    if step.relation != rel or step.lhs.args[0] != lhs or step.rhs.args[0] != rhs:
        return False
    if step.lhs.args[1] != step.rhs.args[1]:
        return False  # both sides at the same point
    bound = {key for key, _ in step.lhs.point}
    return set(claim.variables) <= bound


def _same_relation(a: Any, b: Any, *, cheap: bool = False) -> bool:
    """Whether relations ``a`` and ``b`` have sides that agree identically (their differences
    reduce to 0 by ``expand``, or by ``simplify`` unless ``cheap``: both keep the value)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, sp.Implies):
        return a.args == b.args

    def zero(diff: sp.Expr) -> bool:
        return diff == 0 or sp.expand(diff) == 0 or (not cheap and sp.simplify(diff) == 0)

    return zero(a.lhs - b.lhs) and zero(a.rhs - b.rhs)


# ---------------------------------------------------------------------------------------------
# proving


Earlier = Sequence[tuple["Step", "StepRecord"]]


class _Outcome:
    """A rule's verdict: established (shown, or resting on a step that was only checked)."""

    def __init__(self, how: str, depends: Sequence[StepRecord] = ()):
        self.how = how
        self.checked_deps = [r.index for r in depends if r.method != _shown()]

    def record(self, index: int, reason: str) -> StepRecord:
        from gradproof.derivations.prove import CHECKED, SHOWN, StepRecord

        if self.checked_deps:
            cited = sorted({k for k in self.checked_deps if k})
            what = f"step(s) {', '.join(map(str, cited))}" if cited else "a relation"
            return StepRecord(index, reason, CHECKED, f"{self.how}; relies on {what} checked at points, not shown")
        return StepRecord(index, reason, SHOWN, self.how)


def _shown() -> str:
    from gradproof.derivations.prove import SHOWN

    return SHOWN


def _proven(earlier: Earlier) -> list[tuple[Step, StepRecord]]:
    return [(st, rec) for st, rec in earlier if rec.ok]


def prove_implication(
    derivation: Derivation, step: Step, index: int, earlier: Earlier, *, seed: int = 0, sizes: Any = None
) -> StepRecord:
    """Establish ``premise ⇒ conclusion`` by the rules in the module docstring, or fail."""
    from gradproof.derivations.prove import FAILED, StepRecord

    premise, conclusion = step.lhs, step.rhs
    if relation_parts(premise) is None or relation_parts(conclusion) is None:
        return StepRecord(index, step.reason, FAILED, "an implication joins two relations (a = b ⇒ c = d)")
    from gradproof.derivations.prove import SUMS_EVALUATED

    # every rule first on normal forms without SymPy's summation algorithms (seconds on a sum it
    # cannot evaluate, and most implications need none), then, if none applies, with them
    for evaluate_sums in (False, True):
        tried = []
        token = SUMS_EVALUATED.set(evaluate_sums)
        try:
            for rule in (_by_chain, _by_substitution, _by_rescaling, _by_zero_sum, _by_unique_zero):
                try:
                    outcome = rule(derivation, premise, conclusion, earlier, seed=seed + index, sizes=sizes)
                except Exception as exc:  # noqa: BLE001 - a SymPy failure means the rule does not apply
                    outcome = f"{rule.__name__[4:]}: SymPy raised {type(exc).__name__}"
                if isinstance(outcome, _Outcome):
                    return outcome.record(index, step.reason)
                if outcome:
                    tried.append(outcome)
        finally:
            SUMS_EVALUATED.reset(token)
    why = "; ".join(tried) if tried else "no rule applies"
    return StepRecord(
        index, step.reason, FAILED,
        f"implication not established ({why}); implications are never checked at random points",
    )  # fmt: skip


def free_indices(derivation: Derivation, expr: Any) -> set:
    """The derivation's index symbols free in ``expr`` once its definitions are expanded (L_c
    depends on c through its definition)."""
    return derivation.expand_definitions(expr).free_symbols & set(derivation.index_ranges)


def _by_chain(derivation, premise, conclusion, earlier, **_) -> _Outcome | None:
    # Index semantics: an index free in both premise and conclusion is fixed across the
    # implication (for every c: ŷ_c = 1 ⇒ L_c = 0); one free only in the premise ranges over all
    # its values inside the premise ((q_i = p_i for every i) ⇒ KL = 0).  A chain a ⇒ b ⇒ c is then
    # sound when no link needs its premise for every value of an index that the whole chain fixes.
    fixed = free_indices(derivation, premise) & free_indices(derivation, conclusion)
    edges = []
    for st, rec in _proven(earlier):
        if st.relation != "=>":
            continue
        premise_only = free_indices(derivation, st.lhs) - free_indices(derivation, st.rhs)
        if not premise_only & fixed:
            edges.append((st.lhs, st.rhs, rec))
    frontier, seen = [(premise, [])], {premise}
    while frontier:
        node, path = frontier.pop(0)
        for a, b, rec in edges:
            if a == node and b not in seen:
                if b == conclusion:
                    steps = ", ".join(str(r.index) for r in path + [rec])
                    return _Outcome(f"chain of the implications in steps {steps}", path + [rec])
                seen.add(b)
                frontier.append((b, path + [rec]))
    return None


def _is_variable(derivation: Derivation, v: Any) -> bool:
    names = {inp.symbol for inp in derivation.inputs}
    if isinstance(v, sp.Symbol):
        return v in names
    return isinstance(v, sp.Indexed) and v.base in names


def _by_substitution(derivation, premise, conclusion, earlier, *, seed, sizes) -> _Outcome | str | None:
    from gradproof.derivations.model import Step
    from gradproof.derivations.prove import normalize, prove_step

    lhs, rel, rhs = relation_parts(premise)
    if rel != "=" or not _is_variable(derivation, lhs):
        return None
    clhs, crel, crhs = relation_parts(conclusion)
    target, _ = normalize(derivation, clhs - crhs)
    differentiated = {v for der in target.atoms(sp.Derivative) for v in der.variables}
    base = lhs.base if isinstance(lhs, sp.Indexed) else lhs
    if any(v == lhs or (isinstance(v, sp.Indexed) and v.base == base) for v in differentiated):
        return "substitution: the conclusion differentiates with respect to the premise's variable"
    if base in (rhs.atoms(sp.IndexedBase) | rhs.free_symbols):
        return "substitution: the premise's variable occurs on its other side"
    if isinstance(lhs, sp.Symbol):
        substituted = target.xreplace({lhs: rhs})
    else:
        indices = list(lhs.indices)
        if not all(isinstance(k, sp.Symbol) and k in derivation.index_ranges for k in indices) or len(
            set(indices)
        ) != len(indices):
            return "substitution: the premise's entry must have plain free indices (q_i)"
        shared = set(indices) & free_indices(derivation, conclusion)
        if shared == set(indices):
            # the index is fixed across the implication: only that very entry is known
            substituted = target.xreplace({lhs: rhs})
        elif not shared:
            # the premise holds for every value of its index: every entry in its range is replaced
            ranges = _bound_ranges(target)
            bad = []

            def entry(e: sp.Indexed) -> sp.Expr:
                for want, got in zip(indices, e.indices):
                    if not _index_within(derivation, got, want, ranges):
                        bad.append(e)
                return rhs.xreplace(dict(zip(indices, e.indices)))

            substituted = target.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base, entry)
            if bad:
                return f"substitution: cannot tell that the index of {bad[0]} lies in the premise's range"
        else:
            return "substitution: the premise's indices are partly fixed, partly free"
    sub_step = Step(substituted, sp.S.Zero, "substituted", crel)
    record = prove_step(derivation, sub_step, 0, seed=seed, sizes=sizes, earlier=earlier)
    if not record.ok:
        return f"substitution: the substituted conclusion is not established ({record.detail})"
    return _Outcome(f"substitution of the premise {sp.sstr(premise)}: {record.detail}", [record])


def _bound_ranges(expr: sp.Expr) -> dict:
    out = {}
    for e in sp.preorder_traversal(expr):
        if isinstance(e, (sp.Sum, sp.Product)):
            for var, lo, hi in e.limits:
                out[var] = (lo, hi)
    return out


def _index_within(derivation: Derivation, got: Any, want: Any, bound: dict) -> bool:
    """Whether index ``got`` certainly lies in the range of ``want``."""
    lo, hi = derivation.index_range(want)
    if got == want:
        return True
    if got in bound:
        glo, ghi = bound[got]
    elif got in derivation.index_ranges:
        glo, ghi = derivation.index_range(got)
    else:
        return False
    return bool(sp.simplify(glo - lo).is_nonnegative) and bool(sp.simplify(hi - ghi).is_nonnegative)


def _difference(derivation: Derivation, rel: Any) -> tuple[sp.Expr, Any]:
    from gradproof.derivations.prove import normalize

    lhs, _, rhs = relation_parts(rel)
    return normalize(derivation, lhs - rhs)


def _by_rescaling(derivation, premise, conclusion, earlier, **_) -> _Outcome | str | None:
    from gradproof.derivations.prove import is_zero

    if relation_parts(premise)[1] != "=" or relation_parts(conclusion)[1] != "=":
        return None
    dp, facts = _difference(derivation, premise)
    dc, facts_c = _difference(derivation, conclusion)
    facts = sp.And(facts, facts_c)
    if dp == 0:
        return None  # the premise always holds: the conclusion must be a step of its own
    candidates = [sp.S.One, sp.S.NegativeOne]
    try:
        ratio = sp.cancel(sp.together(dc / dp))
        if ratio not in candidates:
            candidates.append(ratio)
    except Exception:  # noqa: BLE001
        pass
    candidates = [g for g in candidates
                  if not g.has(sp.Sum, sp.Product, sp.Derivative) and g.is_zero is False and g.is_finite]
    remainders = [sp.expand(dc - g * dp) for g in candidates]
    # every candidate's remainder expanded first (the factor, when there is one, is usually the
    # ratio, whose remainder expands to 0): the full test runs on the wrong candidates only when
    # no candidate is that cheap
    found = next((g for g, rem in zip(candidates, remainders) if rem == 0), None)
    if found is None:
        found = next((g for g, rem in zip(candidates, remainders) if is_zero(rem, facts)[0]), None)
    if found is None:
        return "rescaling: no nonzero factor turns the premise's difference into the conclusion's"
    if found == 1:
        return _Outcome("premise and conclusion state the same equation (their differences agree)")
    return _Outcome(f"the conclusion's difference is {sp.sstr(found)} times the premise's, a factor that is never 0")


def _by_zero_sum(derivation, premise, conclusion, earlier, **_) -> _Outcome | str | None:
    plhs, prel, prhs = relation_parts(premise)
    clhs, crel, crhs = relation_parts(conclusion)
    if prel != "=" or crel != "=" or prhs != 0 or crhs != 0 or not isinstance(plhs, sp.Sum):
        return None
    if len(plhs.limits) != 1:
        return "zero sum: one summation index at a time"
    var, lo, hi = plhs.limits[0]
    free = [i for i in derivation.index_ranges if plhs.function.xreplace({var: i}) == clhs]
    if not free:
        return "zero sum: the conclusion is not a term of the premise's sum"
    i = free[0]
    ilo, ihi = derivation.index_range(i)
    if sp.simplify(ilo - lo) != 0 or sp.simplify(ihi - hi) != 0:
        return "zero sum: the conclusion's index does not run over the sum's range"
    ok, deps = nonnegative(derivation, plhs.function, earlier, {var: (lo, hi)})
    if not ok:
        return "zero sum: cannot show that every term is nonnegative"
    how = "a sum of nonnegative terms is 0 only if every term is"
    if deps:
        how += f" (terms nonnegative by step(s) {', '.join(str(r.index) for r in deps)})"
    return _Outcome(how, deps)


_NONSMOOTH = (sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise, sp.Max, sp.Min, sp.floor, sp.ceiling, sp.DiracDelta)


def _one_variable(h: sp.Expr, x: sp.Symbol) -> str | None:
    """Why ``h`` is not a smooth function of x on its interval, or None when it is."""
    if h.has(*_NONSMOOTH) or h.atoms(AppliedUndef) or h.has(sp.Sum, sp.Product, sp.Integral):
        return "not a smooth closed-form function of one variable"
    if not (h.is_finite and sp.diff(h, x).is_finite):
        return "cannot tell that it and its derivative are finite on the whole interval"
    return None


def _fresh_like(u: sp.Expr) -> sp.Dummy | None:
    """A variable with u's interval: the positive reals, or all reals."""
    if u.is_positive:
        return sp.Dummy("x", positive=True)
    if u.is_extended_real and u.is_finite:
        return sp.Dummy("x", real=True)
    return None


def unique_zero(h: sp.Expr, x: sp.Symbol, a: sp.Expr, name: str = "u") -> str | None:
    """How h(x) = 0 forces x = a on x's interval (a strictly monotone h, or a strict extremum
    at a, with h(a) = 0), or None when that cannot be shown; ``name`` is x's name in messages."""
    from gradproof.derivations.prove import is_zero

    if _one_variable(h, x) is not None or x in a.free_symbols:
        return None
    if x.is_positive and not a.is_positive:
        return None
    if not is_zero(sp.expand(h.xreplace({x: a})))[0]:
        return None
    dh = sp.diff(h, x)
    shown = {x: sp.Symbol(name)}
    if dh.is_positive or dh.is_negative:
        slope = sp.sstr(sp.simplify(dh).xreplace(shown))
        return f"as a function of {name} the premise is strictly monotone (derivative {slope}), 0 only at {name} = {sp.sstr(a)}"
    g = sp.cancel(sp.together(dh / (x - a)))
    if not g.has(x - a) and (g.is_positive or g.is_negative) and is_zero(sp.expand(dh - (x - a) * g))[0]:
        kind = "minimum" if g.is_positive else "maximum"
        return (
            f"as a function of {name} the premise has derivative ({name} - {sp.sstr(a)})·{sp.sstr(g.xreplace(shown))}: "
            f"a strict {kind} at {name} = {sp.sstr(a)}, its only zero"
        )
    return None


def _by_unique_zero(derivation, premise, conclusion, earlier, **_) -> _Outcome | str | None:
    plhs, prel, prhs = relation_parts(premise)
    u, crel, a = relation_parts(conclusion)
    if prel != "=" or crel != "=":
        return None
    from gradproof.derivations.prove import normalize

    h, _ = normalize(derivation, plhs - prhs)
    u, _ = normalize(derivation, u)
    a, _ = normalize(derivation, a)
    x = _fresh_like(u)
    if x is None:
        return "unique zero: cannot tell whether the conclusion's variable is real"
    hx = h.xreplace({u: x})
    # u's own symbols (u_k, and the label u: no other entry u_j may remain, j could equal k); its
    # index k may stay, as in g_k: a parameter fixed with u_k
    own = u.free_symbols - set(derivation.index_ranges)
    if hx.free_symbols & own or a.free_symbols & own:
        return "unique zero: the premise is not a function of the conclusion's variable alone"
    if x not in hx.free_symbols:
        return None
    name = sp.sstr(u) if isinstance(u, (sp.Symbol, sp.Indexed)) else "u"
    how = unique_zero(hx, x, a, name)
    if how is not None and name == "u":
        how = f"with u = {sp.sstr(u)}, " + how
    if how is None:
        return "unique zero: cannot show the premise's function has no other zero"
    return _Outcome(how)


# ---------------------------------------------------------------------------------------------
# inequalities and closed relations


def prove_relation(derivation: Derivation, step: Step, earlier: Earlier) -> _Outcome | None:
    """Try to *show* an inequality or a "!=" step (the prover otherwise checks them at points),
    or an equation SymPy could not reduce."""
    if step.relation == "=":
        return _binary_cases(derivation, step)
    if step.relation == "!=":
        return _closed_unequal(derivation, step)
    if step.relation not in INEQUALITIES:
        return None
    strict = step.relation in (">", "<")
    diff = step.lhs - step.rhs if step.relation in (">=", ">") else step.rhs - step.lhs
    ok, deps = nonnegative(derivation, diff, earlier, {}, strict=strict)
    if not ok:  # derivatives evaluated, definitions expanded, sums reduced
        from gradproof.derivations.prove import normalize

        ok, deps = nonnegative(derivation, normalize(derivation, diff)[0], earlier, {}, strict=strict)
    if ok:
        how = "the difference is " + ("positive" if strict else "nonnegative") + " term by term"
        if deps:
            how += f" (using step(s) {', '.join(str(r.index) for r in deps)})"
        return _Outcome(how, deps)
    rounded = _rounding(derivation, diff, strict, earlier)
    if rounded is not None:
        return rounded
    return _one_variable_minimum(derivation, diff, strict)


def _rounding(derivation: Derivation, diff: sp.Expr, strict: bool, earlier: Earlier) -> _Outcome | None:
    """Inequalities with ⌈x⌉ and ⌊x⌋: ⌈x⌉ = x + frac(−x) and ⌊x⌋ = x − frac(x) with
    0 ≤ frac < 1.  Each frac is replaced by a new f ≥ 0 or by 1 − u with u > 0 (each a superset
    of [0, 1)); the inequality is shown if it holds for the new variable.  An integer-valued
    difference d is ≥ 0 as soon as d + 1 > 0."""
    from gradproof.derivations.prove import normalize

    e = normalize(derivation, diff)[0]
    if not e.has(sp.ceiling, sp.floor, sp.frac):
        return None
    targets = [(e, strict, "")]
    if not strict and e.is_integer:
        targets.append((e + 1, True, "; an integer greater than -1 is at least 0"))
    for target, want_strict, note in targets:
        written = target.rewrite(sp.frac)
        fracs = sorted(written.atoms(sp.frac), key=sp.default_sort_key)
        if not fracs or len(fracs) > 2 or not all(f.args[0].is_extended_real for f in fracs):
            continue
        for choice in itertools.product((False, True), repeat=len(fracs)):
            sub = {
                f: (1 - sp.Dummy("u", positive=True)) if high else sp.Dummy("f", nonnegative=True)
                for f, high in zip(fracs, choice)
            }
            ok, deps = nonnegative(derivation, sp.expand(written.xreplace(sub)), earlier, {}, strict=want_strict)
            if ok:
                return _Outcome(
                    "writing ⌈x⌉ = x + frac(-x), ⌊x⌋ = x - frac(x) with 0 ≤ frac < 1, the difference is "
                    + ("positive" if want_strict else "nonnegative") + note,
                    deps,
                )
    return None


_COMPOSE = {("=", "="): "="}
for _a in ("=", ">=", ">"):
    for _b in ("=", ">=", ">"):
        if (_a, _b) != ("=", "="):
            _COMPOSE[(_a, _b)] = ">" if ">" in (_a, _b) else ">="
for _a in ("=", "<=", "<"):
    for _b in ("=", "<=", "<"):
        if (_a, _b) != ("=", "="):
            _COMPOSE[(_a, _b)] = "<" if "<" in (_a, _b) else "<="


def chain_of_steps(step: Step, earlier: Earlier) -> _Outcome | None:
    """lhs = … ≥ … ≥ rhs through earlier proven steps, joined where one step's right side is the
    next one's left side (as the rows of an ``align*`` read)."""
    want = step.relation
    if want not in ("=",) + INEQUALITIES:
        return None
    edges = [(st.lhs, st.relation, st.rhs, rec) for st, rec in _proven(earlier) if st.relation in ("=",) + INEQUALITIES]
    frontier = [(step.lhs, "=", [])]
    seen = {(step.lhs, "=")}
    while frontier:
        node, rel, path = frontier.pop(0)
        for a, r, b, rec in edges:
            if a != node:
                continue
            combined = _COMPOSE.get((rel, r))
            if combined is None or (b, combined) in seen:
                continue
            new_path = path + [rec]
            if b == step.rhs and _implies_relation(combined, want):
                steps = ", ".join(str(x.index) for x in new_path)
                return _Outcome(f"chain of steps {steps}", new_path)
            seen.add((b, combined))
            frontier.append((b, combined, new_path))
    return None


def _implies_relation(have: str, want: str) -> bool:
    return have == want or (have, want) in ((">", ">="), ("<", "<="), ("=", ">="), ("=", "<="))


MAX_BINARY_CASES = 3


def _binary_cases(derivation: Derivation, step: Step) -> _Outcome | None:
    """An equation in inputs that only take the values 0 and 1 (labels): shown when it reduces to
    0 in every case.  Other entries of the same input (y_k inside a sum) stay general, which only
    asks for more."""
    from gradproof.derivations.prove import is_zero, normalize

    binary = {inp.symbol for inp in derivation.inputs if inp.kind == "binary"}
    if not binary:
        return None
    diff = derivation.expand_definitions(step.lhs - step.rhs)
    entries = sorted(
        {e for e in diff.atoms(sp.Indexed, sp.Symbol) if e in binary or (isinstance(e, sp.Indexed) and e.base in binary)},
        key=sp.default_sort_key,
    )
    bound = {v for s in diff.atoms(sp.Sum, sp.Product) for v in s.variables}
    entries = [e for e in entries if not (isinstance(e, sp.Indexed) and set(e.indices) & bound)]
    if not entries or len(entries) > MAX_BINARY_CASES:
        return None
    for values in itertools.product((0, 1), repeat=len(entries)):
        case, facts = normalize(derivation, diff.xreplace(dict(zip(entries, map(sp.Integer, values)))))
        if not is_zero(case, facts)[0]:
            return None
    names = ", ".join(sp.sstr(e) for e in entries)
    return _Outcome(f"reduces to 0 for each value 0 and 1 of the binary input(s) {names}")


def _closed_unequal(derivation: Derivation, step: Step) -> _Outcome | None:
    from gradproof.derivations.prove import normalize

    diff, _ = normalize(derivation, step.lhs - step.rhs)
    if diff.free_symbols:
        return None
    value = sp.simplify(diff)
    if value.is_zero is False and value.is_finite:
        return _Outcome(f"a closed relation between numbers: the difference is {sp.sstr(value)} ≠ 0")
    return None


def _fact_list(derivation: Derivation, earlier: Earlier) -> list[tuple[sp.Expr, bool, StepRecord]]:
    """Earlier proven steps of the form F ≥ 0 (or F > 0, F ≤ 0 …) as (F, strict, record)."""
    out = []
    for st, rec in _proven(earlier):
        if st.relation in (">=", ">"):
            out.append((st.lhs - st.rhs, st.relation == ">", rec))
        elif st.relation in ("<=", "<"):
            out.append((st.rhs - st.lhs, st.relation == "<", rec))
    return out


def _wilds(derivation: Derivation, fact: sp.Expr) -> dict:
    """Variables of a fact that may be instantiated: free indices (over their range) and scalar
    inputs that may take any positive or any real value."""
    kinds = {inp.symbol: inp.kind for inp in derivation.inputs}
    out = {}
    for s in fact.free_symbols:
        if s in derivation.index_ranges:
            out[s] = sp.Wild(f"w_{s.name}", properties=[lambda e: isinstance(e, sp.Symbol) and e.is_integer])
        elif isinstance(s, sp.Symbol) and kinds.get(s) in ("positive", "real"):
            out[s] = sp.Wild(f"w_{s.name}")
    return out


def _instance_of(derivation: Derivation, fact: sp.Expr, e: sp.Expr, ranges: dict) -> bool:
    """Whether ``e`` is ``fact`` with its variables replaced by values in their domains."""
    wilds = _wilds(derivation, fact)
    if not wilds:
        return fact == e
    pattern = fact.xreplace(wilds)
    match = e.match(pattern)
    if not match or set(match) != set(wilds.values()):
        return False
    for var, wild in wilds.items():
        value = match[wild]
        if var in derivation.index_ranges:
            if not _index_within(derivation, value, var, ranges):
                return False
        elif var.is_positive and not derivation.expand_definitions(value).is_positive:
            return False
        elif not derivation.expand_definitions(value).is_extended_real:
            return False
    return fact.xreplace({v: match[w] for v, w in wilds.items()}) == e


def nonnegative(
    derivation: Derivation, e: sp.Expr, earlier: Earlier, ranges: dict, *, strict: bool = False
) -> tuple[bool, list]:
    """Whether ``e ≥ 0`` (``> 0`` when strict) follows structurally: SymPy's assumptions, earlier
    proven facts F ≥ 0 instantiated at a subexpression, sums/products/powers of such parts, and
    defined symbols through their definitions.  Returns (decided, records relied on)."""
    facts = [(_expand_values(derivation, f), strict_, rec) for f, strict_, rec in _fact_list(derivation, earlier)]
    return _nonneg(derivation, _expand_values(derivation, sp.sympify(e)), facts, dict(ranges), strict)


def _expand_values(derivation: Derivation, e: sp.Expr) -> sp.Expr:
    """Defined symbols and entries replaced by their definitions (a defined symbol's declared sign,
    r positive, must never stand in for the proof); defined functions (φ) are kept, so that facts
    about them (φ ≥ 0) can be matched."""
    from dataclasses import replace

    values = tuple(df for df in derivation.definitions if not df._is_function)
    if len(values) == len(derivation.definitions):
        return derivation.apply_facts(derivation.expand_definitions(e))
    # the stated facts (‖g‖² = Σ g_k², a hypothesis that makes ‖g‖ > 0) applied after expanding
    return derivation.apply_facts(replace(derivation, definitions=values).expand_definitions(e))


def _nonneg(derivation, e, facts, ranges, strict) -> tuple[bool, list]:
    decided = e.is_positive if strict else e.is_nonnegative
    if decided:
        return True, []
    for fact, fact_strict, rec in facts:
        if (fact_strict or not strict) and _instance_of(derivation, fact, e, ranges):
            return True, [rec]
    if isinstance(e, sp.Add):
        return _all_parts(derivation, e.args, facts, ranges, strict, need_one_strict=strict)
    if isinstance(e, sp.Mul):
        sums = [f for f in e.args if isinstance(f, sp.Sum)]
        if len(sums) == 1:  # -Σ_k t_k is Σ_k (-t_k): a factor free of k moves inside
            rest = e / sums[0]
            if not rest.free_symbols & set(sums[0].variables):
                moved = sp.Sum(rest * sums[0].function, *sums[0].limits)
                ok, deps = _nonneg(derivation, moved, facts, ranges, strict)
                if ok:
                    return ok, deps
        return _all_parts(derivation, e.args, facts, ranges, strict, need_one_strict=False)
    if isinstance(e, sp.Sum):
        if strict and not all((hi - lo).is_nonnegative for _, lo, hi in e.limits):
            return False, []  # a possibly empty sum is 0, not positive
        inner = dict(ranges)
        inner.update({var: (lo, hi) for var, lo, hi in e.limits})
        return _nonneg(derivation, e.function, facts, inner, strict)
    if isinstance(e, sp.Pow) and e.exp.is_real:
        if not strict and e.exp.is_integer and e.exp.is_even and derivation.expand_definitions(e.base).is_extended_real:
            return True, []
        ok, deps = _nonneg(derivation, e.base, facts, ranges, strict=True)
        if ok:
            return True, deps
        if not strict and e.exp.is_positive:
            return _nonneg(derivation, e.base, facts, ranges, strict=False)
        return False, []
    expanded = derivation.expand_definitions(e)
    if expanded != e:  # a defined function (φ) with no fact about it: through its definition
        return _nonneg(derivation, derivation.apply_facts(expanded), facts, ranges, strict)
    return False, []


def _all_parts(derivation, parts, facts, ranges, strict, *, need_one_strict) -> tuple[bool, list]:
    deps, any_strict = [], False
    for part in parts:
        ok, d = _nonneg(derivation, part, facts, ranges, strict and not need_one_strict)
        if not ok:
            return False, []
        deps += d
        if need_one_strict and not any_strict:
            any_strict = _nonneg(derivation, part, facts, ranges, True)[0]
    if need_one_strict and not any_strict:
        return False, []
    return True, deps


def _one_variable_minimum(derivation: Derivation, diff: sp.Expr, strict: bool) -> _Outcome | None:
    """diff(x) ≥ 0 (> 0) for one real variable x with a single critical point a on its interval,
    a strict minimum (diff' = (x − a)·g, g > 0), and diff(a) = 0 (> 0)."""
    from gradproof.derivations.prove import is_zero

    h = derivation.apply_facts(derivation.expand_definitions(diff))
    candidates = [s for s in h.free_symbols if isinstance(s, sp.Symbol) and (s.is_positive or s.is_real)]
    for x in candidates:
        if x.is_integer or _one_variable(h, x) is not None:
            continue
        dh = sp.diff(h, x)
        numerator = sp.numer(sp.together(dh))
        try:
            roots = [r for r in sp.solve(numerator, x) if not r.free_symbols & {x}]
        except NotImplementedError:
            continue
        roots = [r for r in roots if (not x.is_positive or r.is_positive) and r.is_extended_real]
        if len(roots) != 1:
            continue
        a = roots[0]
        g = sp.cancel(sp.together(dh / (x - a)))
        if not (g.is_positive and is_zero(sp.expand(dh - (x - a) * g))[0]):
            continue
        at_a = sp.simplify(h.xreplace({x: a}))
        if (strict and at_a.is_positive) or (not strict and (at_a.is_nonnegative or at_a == 0)):
            return _Outcome(
                f"one variable {x}: its only critical point {sp.sstr(a)} is a strict minimum "
                f"(derivative (x - {sp.sstr(a)})·{sp.sstr(g)}), where the value is {sp.sstr(at_a)}"
            )
    return None

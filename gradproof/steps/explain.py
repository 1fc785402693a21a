"""What a failed step most likely got wrong, and its counterexample in a form people read.

A diagnosis is a hypothesis tested like a step: "the sign is flipped" means ``lhs = −rhs`` holds
at exact points (at sizes 1–5 and the failing point), "an undeclared assumption" means the step
holds once the assumption is added.  Candidates are first screened at the failing point, which is
cheap, and only survivors are checked further.  Kinds: ``sign``, ``factor``, ``indices``,
``assumption``, ``term``, ``other``; none when no candidate fits.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import sympy as sp

from gradproof.derivations.latex import to_latex
from gradproof.derivations.prove import check_at_points, unroll
from gradproof.steps.context import Domain, SumFact

# sizes at which a diagnosis is confirmed (it is a hint, not a verdict: fewer than a proof uses)
DIAGNOSIS_SIZES = (1, 2, 3)
_CLOSE = sp.Float("1e-30", 50)


def value_text(value: Any) -> str:
    """An exact value as people write it: 3/5, or 15 significant digits when irrational."""
    value = sp.sympify(value)
    if value.is_Rational:
        return str(value)
    number = sp.N(value, 15)
    return str(number) if number.is_number else str(value)


def name_text(atom: Any) -> str:
    """``z_1``, ``W_{1,2}``, ``lambda``: an input's name in a counterexample."""
    if isinstance(atom, sp.Indexed):
        idx = ",".join(str(i) for i in atom.indices)
        label = str(atom.base.label)
        return f"{label}_{idx}" if len(atom.indices) == 1 and len(idx) == 1 else f"{label}_{{{idx}}}"
    return str(atom)


def counterexample_json(ce: Any) -> dict:
    """The counterexample of a failed step with exact values as strings (see the issue's JSON)."""
    values = sorted(ce.values.items(), key=lambda kv: sp.default_sort_key(kv[0]))
    return {
        "sizes": {str(k): int(v) for k, v in ce.sizes.items()},
        "indices": {str(k): int(v) for k, v in ce.indices.items()},
        "values": {name_text(k): value_text(v) for k, v in values},
        "lhs": value_text(ce.lhs),
        "rhs": value_text(ce.rhs),
    }


def diagnose(analysis: Any, built: Any, record: Any) -> dict | None:
    """A likely slip for a failed step, or None."""
    lhs, rhs, op = built.lhs, built.rhs, built.op
    undefined = _undefined_derivative(analysis, lhs, rhs)
    if undefined is not None:
        return {"kind": "other", "text": undefined}
    if record.counterexample is None:
        if op == "=>":
            return {"kind": "other", "text": "an implication is established only by rules, never at random points "
                    "(a premise such as KL = 0 holds where no random point lands): substituting an input "
                    "(v = e), a nonzero factor, a zero sum of nonnegative terms, a unique zero, or a chain "
                    "of earlier implications; none applies here"}  # fmt: skip
        if op not in ("=", "<", ">", "<=", ">=", "!="):
            return {"kind": "other", "text": f"{op} states an approximation: only =, <, >, \\le, \\ge, \\neq are checked"}
        return None
    ce = record.counterexample
    if op == "=":
        for test in (_sign, _factor, _indices):
            found = test(analysis, lhs, rhs, ce)
            if found is not None:
                return found
    found = _assumption(analysis, lhs, rhs, op)
    if found is not None:
        return found
    if op == "=":
        return _term(analysis, lhs, rhs, ce)
    return None


# ----------------------------------------------------------------------------------------------
# evaluating at the failing point, and confirming


def _at_point(analysis: Any, expr: Any, ce: Any) -> Any:
    """``expr`` at the counterexample's sizes, indices and input values (50 digits)."""
    from gradproof.steps.points import PointValues

    d = analysis.derivation
    concrete = d.concretize(expr, ce.sizes).xreplace(ce.indices)
    values = PointValues(dict(ce.sizes), random.Random(1))
    values.update(ce.values)
    point = d.substitute(unroll(concrete).doit(), values)
    return sp.N(point, 50)


def _close(a: Any, b: Any) -> bool:
    try:
        return bool(abs(a - b) <= _CLOSE * (1 + abs(a) + abs(b)))
    except TypeError:
        return False


def _holds(analysis: Any, lhs: Any, rhs: Any, op: str = "=", derivation: Any = None) -> bool:
    d = derivation if derivation is not None else analysis.derivation
    ok, _, _ = check_at_points(d, lhs, rhs, op, seed=7, sizes=DIAGNOSIS_SIZES)
    return ok


def _screen(analysis: Any, lhs: Any, candidate: Any, ce: Any) -> bool:
    """The candidate right side equals the left side at the failing point."""
    try:
        return _close(sp.N(ce.lhs, 50), _at_point(analysis, candidate, ce))
    except Exception:  # noqa: BLE001 - a candidate that cannot be evaluated is not the slip
        return False


# ----------------------------------------------------------------------------------------------
# the candidates


def _sign(analysis: Any, lhs: Any, rhs: Any, ce: Any) -> dict | None:
    if _close(sp.N(ce.lhs, 50), -sp.N(ce.rhs, 50)) and _holds(analysis, lhs, -rhs):
        return {"kind": "sign", "text": "the sides differ only in sign: a flipped sign (the right side is minus the left)"}
    return None


def _factor(analysis: Any, lhs: Any, rhs: Any, ce: Any) -> dict | None:
    left, right = sp.N(ce.lhs, 50), sp.N(ce.rhs, 50)
    if right == 0 or left == 0:
        return None
    ratio = sp.nsimplify(left / right, rational=True, tolerance=1e-25)
    candidates = []
    if ratio.is_Rational and ratio not in (1, -1) and ratio.q <= 12 and abs(ratio.p) <= 48:
        candidates.append(ratio)
    for size, value in ce.sizes.items():  # a factor n: a sum where a mean was meant
        for guess in (size, 1 / size, -size, -1 / size):
            if _close(left / right, sp.N(guess.xreplace({size: value}), 50)):
                candidates.append(guess)
    for c in candidates:
        if _holds(analysis, lhs, c * rhs):
            return {"kind": "factor", "text": _factor_text(c)}
    return None


def _factor_text(c: Any) -> str:
    c = sp.sympify(c)
    if c.is_Rational and c.q == 1:
        return f"factor {c}: the left side is {c} × the right side (a 1/{c} too many on the right?)"
    if c.is_Rational and c.p == 1:
        return f"factor {c.q}: the right side is {c.q} × the left side (λ/{c.q} written as λ?)"
    if c.is_Rational:
        return f"factor {c}: the left side is {c} × the right side"
    return f"factor {c}: the left side is {c} × the right side (a sum where a mean was meant, or the reverse?)"


def _symbols(expr: Any) -> set:
    """Free symbols, with the indices of derivative variables (∂/∂W_ij binds W_ij for SymPy)."""
    out = set(expr.free_symbols)
    for der in expr.atoms(sp.Derivative):
        for var in der.variables:
            out |= var.free_symbols
    return out


def _indices(analysis: Any, lhs: Any, rhs: Any, ce: Any) -> dict | None:
    free = sorted((_symbols(lhs) | _symbols(rhs)) & set(analysis.derivation.index_ranges), key=str)
    for a in free:
        for b in free:
            if str(a) >= str(b):
                continue
            swapped = rhs.xreplace({a: b, b: a})
            if swapped != rhs and _screen(analysis, lhs, swapped, ce) and _holds(analysis, lhs, swapped):
                return {"kind": "indices", "text": f"indices {a} and {b} are swapped on the right side"}
    for atom, moved in _one_index_changed(rhs, free):
        if _screen(analysis, lhs, moved, ce) and _holds(analysis, lhs, moved):
            return {"kind": "indices", "text": f"${to_latex(atom)}$ has a wrong index on the right side "
                                                f"(it holds with ${to_latex(_changed_atom(atom, moved, rhs))}$)"}  # fmt: skip
    return None


def _one_index_changed(rhs: Any, free: list) -> list[tuple[Any, Any]]:
    """``rhs`` with one index of one occurrence of an indexed quantity replaced by another index
    in reach (a free index, or the index of a sum around it): s_i → s_j, W_ij → W_ji."""
    out = []
    for atom in sorted(rhs.atoms(sp.Indexed), key=sp.default_sort_key):
        reach = set(free)
        for s in rhs.atoms(sp.Sum):
            if s.function.has(atom):
                reach |= set(s.variables)
        changes = []
        for pos, idx in enumerate(atom.indices):
            if not isinstance(idx, sp.Symbol):
                continue
            for other in sorted(reach - {idx}, key=str):
                new_idx = list(atom.indices)
                new_idx[pos] = other
                changes.append(atom.base[tuple(new_idx)])
        if len(atom.indices) == 2 and atom.indices[0] != atom.indices[1]:
            changes.append(atom.base[atom.indices[::-1]])
        for occurrence in range(_count(rhs, atom)):
            for new in changes:
                out.append((atom, _replace_nth(rhs, atom, new, occurrence)))
    return out[:60]


def _count(expr: Any, atom: Any) -> int:
    if expr == atom:
        return 1
    return sum(_count(a, atom) for a in expr.args)


def _replace_nth(expr: Any, atom: Any, new: Any, n: int) -> Any:
    """``expr`` with only the ``n``-th occurrence (preorder) of ``atom`` replaced by ``new``."""
    seen = [0]

    def walk(e: Any) -> Any:
        if e == atom:
            hit = seen[0] == n
            seen[0] += 1
            return new if hit else e
        if not e.args:
            return e
        args = [walk(a) for a in e.args]
        return e if all(a is b for a, b in zip(args, e.args)) else e.func(*args)

    return walk(expr)


def _changed_atom(atom: Any, moved: Any, rhs: Any) -> Any:
    new = (moved.atoms(sp.Indexed) - rhs.atoms(sp.Indexed))
    return next(iter(new)) if new else atom


def _assumption(analysis: Any, lhs: Any, rhs: Any, op: str) -> dict | None:
    """A fact the file does not declare that makes the step hold: Σ_i y_i = 1, y_i > 0, n ≥ 2."""
    ctx = analysis.context
    d = analysis.derivation
    for text, directive, variant in _candidate_facts(analysis, lhs, rhs):
        try:
            if _holds(analysis, lhs, rhs, op, derivation=variant):
                return {"kind": "assumption",
                        "text": f"holds if {text}: add `% gradproof: assume {directive}`"}  # fmt: skip
        except Exception:  # noqa: BLE001 - a candidate that cannot be evaluated does not fit
            continue
    del ctx, d
    return None


def _candidate_facts(analysis: Any, lhs: Any, rhs: Any) -> list[tuple[str, str, Any]]:
    from gradproof.steps.points import StepsDerivation

    ctx, d = analysis.context, analysis.derivation
    expanded = [d.expand_definitions(e) for e in (lhs, rhs)]
    out = []
    # sums of an input over its whole range: Σ_i y_i = 1
    seen = set()
    for e in expanded:
        for s in sorted(e.atoms(sp.Sum), key=sp.default_sort_key):
            for term in sp.preorder_traversal(s.function):
                if isinstance(term, sp.Indexed) and len(term.indices) == 1 and term.indices[0] == s.limits[0][0]:
                    base, (var, lo, hi) = term.base, s.limits[0]
                    key = (base, lo, hi)
                    if key in seen or any(f.base == base for f in ctx.sum_facts) or str(base.label) in ctx.definitions:
                        continue
                    seen.add(key)
                    fact = SumFact(base, lo, hi, sp.S.One, "")
                    idx = "i" if str(var).lstrip("_") not in ("i",) else str(var).lstrip("_")
                    latex = rf"\sum_{{{idx}={to_latex(lo)}}}^{{{to_latex(hi)}}} {to_latex(base.label)}_{idx} = 1"
                    text = f"Σ_{idx} {base.label}_{idx} = 1"
                    variant_ctx = replace(ctx, sum_facts=ctx.sum_facts + [fact])
                    out.append((text, latex, _variant(d, variant_ctx, StepsDerivation)))
    # positivity of an input that appears in a logarithm or a power
    inputs = set()
    for e in expanded:
        inputs |= {a.base for a in e.atoms(sp.Indexed) if str(a.base.label) not in ctx.definitions}
        inputs |= {a for a in e.free_symbols if isinstance(a, sp.Symbol) and not a.is_integer
                   and str(a) not in ctx.definitions and not isinstance(a, sp.Dummy)}  # fmt: skip
    for inp in sorted(inputs, key=str):
        name = str(inp.label) if isinstance(inp, sp.IndexedBase) else str(inp)
        if ctx.domain(name).lo is not None or ctx.domain(name).values is not None:
            continue
        domains = dict(ctx.domains)
        domains[name] = Domain(lo=sp.S.Zero, lo_strict=True)
        variant_ctx = replace(ctx, domains=domains)
        shown = f"{name}_i" if isinstance(inp, sp.IndexedBase) else name
        out.append((f"{shown} > 0", f"{_latex_name(name)}{'_i' if isinstance(inp, sp.IndexedBase) else ''} > 0",
                    _variant(d, variant_ctx, StepsDerivation)))  # fmt: skip
    # a size of at least 2
    for size in sorted(d.sizes, key=str):
        if d.min_sizes.get(size, 1) < 2:
            variant = _variant(d, ctx, StepsDerivation, min_sizes={**d.min_sizes, size: 2})
            out.append((f"{size} ≥ 2", f"{size} \\ge 2", variant))
    return out


def _latex_name(name: str) -> str:
    from gradproof.steps.tokens import GREEK

    return f"\\{name}" if name in GREEK else name


def _variant(d: Any, ctx: Any, cls: Any, **changes: Any) -> Any:
    """The file's derivation with a changed context (an added assumption)."""
    from gradproof.steps.context import _sum_rewrite  # noqa: F401 - the rewrite is rebuilt from the facts

    fields = {f: getattr(d, f) for f in ("name", "title", "summary", "statement", "steps", "definitions",
                                          "index_ranges", "sizes", "min_sizes")}  # fmt: skip
    fields.update(changes)
    fields["assumptions"] = ctx.assumptions()
    return cls(**fields, context=ctx)


def _term(analysis: Any, lhs: Any, rhs: Any, ce: Any) -> dict | None:
    """The two sides differ by one term: a term of the right side that should not be there, or a
    term of the left side that the right side dropped (tried at the failing point, then
    confirmed); else a short difference, typeset."""
    d = analysis.derivation
    for t in _terms(_evaluated(rhs)):
        if _screen(analysis, lhs, rhs - t, ce) and _holds(analysis, lhs, rhs - t):
            return {"kind": "term", "text": f"the right side has an extra term ${to_latex(t)}$"}
    for t in _terms(_evaluated(lhs)):
        if _screen(analysis, lhs, rhs + t, ce) and _holds(analysis, lhs, rhs + t):
            return {"kind": "term", "text": f"the right side misses the term ${to_latex(t)}$"}
    diff = d.apply_facts(sp.expand(lhs - rhs))
    if diff != 0 and sp.count_ops(diff) <= 12 and not diff.has(sp.Derivative, sp.Piecewise):
        if _holds(analysis, lhs, rhs + diff):
            return {"kind": "term", "text": f"the sides differ by ${to_latex(diff)}$ (left − right)"}
    return None


def _evaluated(expr: Any) -> Any:
    """Derivatives worked out where SymPy can (definitions left folded, so terms read as written)."""
    try:
        return expr.doit()
    except Exception:  # noqa: BLE001
        return expr


def _terms(expr: Any) -> list:
    """Top-level terms of ``expr``, and of the body of a sum that is one of them."""
    out = []
    for t in sp.Add.make_args(sp.expand(expr)):
        out.append(t)
        coeff, rest = t.as_independent(sp.Sum, as_Add=False)
        if isinstance(rest, sp.Sum) and len(rest.limits) == 1:
            for inner in sp.Add.make_args(sp.expand(rest.function)):
                if inner != rest.function:
                    out.append(coeff * sp.Sum(inner, *rest.limits))
    unique = []
    for t in out:
        if t not in unique:
            unique.append(t)
    return unique[:12]


def _undefined_derivative(analysis: Any, lhs: Any, rhs: Any) -> str | None:
    """∂L/∂z_j where L has no definition in the file: it does not depend on z_j, so it is 0."""
    ctx = analysis.context
    for e in (lhs, rhs):
        for der in e.atoms(sp.Derivative):
            inner = der.expr
            if isinstance(inner, (sp.Symbol, sp.Indexed)):
                name = str(inner.base.label) if isinstance(inner, sp.Indexed) else str(inner)
                if name not in ctx.definitions and not any(inner.has(v) for v in der.variables):
                    return (f"{name} has no definition in this file, so it does not depend on "
                            f"{name_text(der.variables[0])} and its derivative is 0: add "
                            f"`% gradproof: define {_latex_name(name)} = …` (or start the chain with {name} = …)")  # fmt: skip
    return None

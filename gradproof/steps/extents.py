"""Entries a formula names beyond a vector's declared entries.

A vector with an assumed sum (``\\sum_{l=1}^{d} u_l^2 = 1``) or a declared shape (``vector w :
d``) has entries 1..d.  An entry written beyond them (``u_5`` where d may be 1; ``u_{d+1}``;
``\\sum_{l=1}^{d+1} u_l``) is not part of the vector: the points would draw it freely, off the
sphere, and a true unit-vector claim would fail at d = 1 (or a false one pass).  Such a file is
refused at the row, naming the entry and the size where it does not exist — the user states
the sizes the claim is about (``assume d \\ge 5``) or keeps the index in range.
"""

from __future__ import annotations

import itertools
from typing import Any

import sympy as sp

from gradproof.steps.errors import StepsSyntaxError

# a bound on the corners tried per entry (each index at its lowest and highest value)
_MAX_SYMBOLS = 6
_ORDINALS = {0: "first", 1: "second", 2: "third"}


def extents(ctx: Any) -> dict[Any, dict[int, tuple]]:
    """base → {axis: (lo, hi)} for every vector whose entries the file declares."""
    out: dict[Any, dict[int, tuple]] = {}
    for fact in ctx.sum_facts:
        axes = {fact.pos: (fact.lo, fact.hi)}
        others = [q for q in range(len(fact.others) + 1) if q != fact.pos]
        axes |= dict(zip(others, fact.others))
        out[fact.base] = axes
    for name, shape in ctx.vectors.items():
        base = ctx.base(name)
        out.setdefault(base, dict(enumerate(shape)))
    return out


def check_extents(derivation: Any, sides: list[tuple[Any, Any]], file: str) -> None:
    """Refuse (a StepsSyntaxError at the row) an entry of a declared vector that lies outside its
    entries at some size the points are drawn at.  ``sides``: (expression, (line, column))."""
    known = extents(derivation.context)
    if not known:
        return
    free = {sym: derivation.index_range(sym) for sym in derivation.index_ranges}
    size_sets = derivation.proof_sizes()
    for expr, (line, column) in sides:
        if not isinstance(expr, sp.Basic):
            continue
        for entry, bounds in _entries(derivation.expand_definitions(expr), known, free):
            for axis, (lo, hi) in known[entry.base].items():
                if axis >= len(entry.indices):
                    continue
                try:
                    bad = _outside(entry.indices[axis], lo, hi, bounds, size_sets)
                except _NotAnIndex as exc:
                    raise StepsSyntaxError(f"{_written(entry, bounds, free)}: an index of {entry.base} is a whole "
                                           f"number, not {sp.sstr(exc.args[0])}", file=file, line=line, column=column) from None
                if bad is not None:
                    at = ", ".join(f"{k} = {v}" for k, v in bad.items())
                    which = f" in its {_ORDINALS.get(axis, f'index {axis + 1}')} index" if len(entry.indices) > 1 else ""
                    raise StepsSyntaxError(
                        f"{_written(entry, bounds, free)} lies beyond {entry.base}'s entries {sp.sstr(lo)}..{sp.sstr(hi)}"
                        f"{which}{' at ' + at if at else ''}, where it does not exist (the checker would draw it freely): "
                        f"keep the index within the range, or assume the sizes the claim is about{_hint(entry.indices[axis], lo, hi)}",
                        file=file, line=line, column=column,
                    )  # fmt: skip


def _written(entry: Any, bounds: dict, free: dict) -> str:
    """``u_{d + 1}``, ``u_{l} (l from 1 to d + 1)`` for an entry under a sum."""
    def name(x: Any) -> str:
        return x.name.lstrip("_") if isinstance(x, sp.Symbol) else sp.sstr(x)

    def plain(x: Any) -> str:  # summation dummies (_l) under the names written (l)
        x = sp.sympify(x)
        return sp.sstr(x.xreplace({s: sp.Symbol(name(s)) for s in x.free_symbols}))

    indices = ", ".join(plain(i) for i in entry.indices)
    text = f"{entry.base}_{{{indices}}}"
    bound = [s for i in entry.indices for s in i.free_symbols if s in bounds and s not in free]
    for s in sorted(set(bound), key=sp.default_sort_key):
        lo, hi = bounds[s]
        text += f" ({name(s)} from {plain(lo)} to {plain(hi)})"
    return text


def _hint(index: Any, lo: Any, hi: Any) -> str:
    """`` (d \\ge 5)`` for the entry u_5 of u_1..u_d; nothing where no one bound makes it exist."""
    index, hi = sp.sympify(index), sp.sympify(hi)
    if not (index.is_Integer and len(hi.free_symbols) == 1 and sp.sympify(lo).is_Integer and index >= lo):
        return ""
    (size,) = hi.free_symbols
    offset = hi - size
    return f" ({size} \\ge {index - offset})" if offset.is_Integer else ""


def _entries(expr: Any, known: dict, bounds: dict) -> list[tuple[Any, dict]]:
    """Every entry of a known base in ``expr``, with the ranges of the indices bound around it."""
    found: list[tuple[Any, dict]] = []

    def walk(e: Any, scope: dict) -> None:
        if isinstance(e, sp.Indexed):
            if e.base in known:
                found.append((e, scope))
            for i in e.indices:
                walk(i, scope)
            return
        if isinstance(e, (sp.Sum, sp.Product)):
            inner = dict(scope)
            for var, lo, hi in e.limits:
                walk(lo, inner)
                walk(hi, inner)
                inner[var] = (lo, hi)
            walk(e.function, inner)
            return
        for arg in getattr(e, "args", ()):
            if isinstance(arg, sp.Basic):
                walk(arg, scope)

    walk(expr, dict(bounds))
    return found


def _outside(index: Any, lo: Any, hi: Any, bounds: dict, size_sets: list[dict]) -> dict | None:
    """The first size set (with index values) where ``index`` can leave lo..hi, or None."""
    for sizes in size_sets:
        at = {s: sp.Integer(v) for s, v in sizes.items()}
        try:
            span = _enumerated(index, bounds, at)
        except _TooMany:
            span = _interval(index, bounds, at)
        if span is None:
            continue  # an index of unknown range, or a range with no values here
        low, high = span
        first, last = sp.sympify(lo).xreplace(at), sp.sympify(hi).xreplace(at)
        if not (first.is_Integer and last.is_Integer):
            continue
        if low < first or high > last:
            return {str(k): v for k, v in sizes.items()}
    return None


def _interval(e: Any, bounds: dict, at: dict, depth: int = 0) -> tuple[int, int] | None:
    """The least and greatest value ``e`` takes with its indices in their ranges at sizes ``at``
    (over the corners of the ranges: exact for the affine indices people write); None when some
    symbol's range is unknown or empty."""
    e = sp.sympify(e).xreplace(at)
    if e.is_Integer:
        return int(e), int(e)
    if e.is_number:
        raise _NotAnIndex(e)
    symbols = sorted(e.free_symbols, key=sp.default_sort_key)
    if depth > 8 or len(symbols) > _MAX_SYMBOLS or any(s not in bounds for s in symbols):
        return None
    spans = []
    for s in symbols:
        lo_span = _interval(bounds[s][0], bounds, at, depth + 1)
        hi_span = _interval(bounds[s][1], bounds, at, depth + 1)
        if lo_span is None or hi_span is None or lo_span[0] > hi_span[1]:
            return None
        spans.append((lo_span[0], hi_span[1]))
    values = []
    for corner in itertools.product(*spans):
        v = e.xreplace({s: sp.Integer(c) for s, c in zip(symbols, corner)})
        if v.is_number and not v.is_Integer:
            raise _NotAnIndex(v)
        if not v.is_Integer:
            return None
        values.append(int(v))
    return min(values), max(values)


_MAX_COMBINATIONS = 4000  # index values enumerated per entry and size set; beyond, the corners


class _TooMany(Exception):
    """More index combinations than :data:`_MAX_COMBINATIONS`, or bounds it cannot order."""


def _enumerated(e: Any, bounds: dict, at: dict) -> tuple[int, int] | None:
    """The least and greatest value ``e`` takes over every combination of the indices it depends
    on, each in its range at sizes ``at``, inner ranges following the outer indices
    (``\sum_{l=1}^{d-1} \sum_{k=1}^{d-l} u_{k+l}``: k + l ≤ d, where the corners of the two ranges
    taken apart would say 2d − 2 and refuse a true row).  None when a symbol's range is unknown
    or no combination exists; :class:`_TooMany` where enumerating is not worth it."""
    e = sp.sympify(e).xreplace(at)
    needed: list = []
    stack = sorted(e.free_symbols, key=sp.default_sort_key)
    while stack:
        sym = stack.pop()
        if sym in needed:
            continue
        if sym not in bounds:
            return None
        needed.append(sym)
        for b in bounds[sym]:
            stack.extend(sp.sympify(b).xreplace(at).free_symbols)
    if len(needed) > _MAX_SYMBOLS:
        raise _TooMany
    order: list = []
    while len(order) < len(needed):  # each index after the indices its range mentions
        ready = [x for x in needed if x not in order
                 and set().union(*(sp.sympify(b).xreplace(at).free_symbols for b in bounds[x])) <= set(order)]
        if not ready:
            raise _TooMany
        order.extend(ready)
    values: list[int] = []

    def visit(k: int, assign: dict) -> None:
        if k == len(order):
            v = e.xreplace(assign)
            if v.is_number and not v.is_Integer:
                raise _NotAnIndex(v)
            if not v.is_Integer:
                raise _TooMany
            values.append(int(v))
            if len(values) > _MAX_COMBINATIONS:
                raise _TooMany
            return
        sym = order[k]
        lo, hi = (sp.sympify(b).xreplace(at).xreplace(assign) for b in bounds[sym])
        if not (lo.is_Integer and hi.is_Integer):
            raise _TooMany
        for value in range(int(lo), int(hi) + 1):
            visit(k + 1, {**assign, sym: sp.Integer(value)})

    visit(0, {})
    return (min(values), max(values)) if values else None


class _NotAnIndex(Exception):
    """An entry's index that is a number but not an integer (``u_{1/2}``)."""


__all__ = ["check_extents", "extents"]

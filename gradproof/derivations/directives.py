"""The ``% gradproof:`` declarations a derivation's LaTeX fragment needs, so that the fragment,
pasted into a file, is checked by ``gradproof check-steps`` as the catalog proves it.

``gradproof show NAME --latex --directives`` prints them above the ``align*``.  They are computed
from the derivation (index ranges, definitions, the kinds of its inputs, its unknown functions);
what cannot be computed (a distribution behind an expectation) the derivation states in its
``declarations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy as sp

from gradproof.derivations.latex import to_latex

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

# known functions the step checker reads by name; anything else applied is declared
_KNOWN = (sp.exp, sp.log, sp.Abs, sp.sign, sp.Max, sp.Min, sp.tanh, sp.sin, sp.cos, sp.KroneckerDelta,
          sp.binomial, sp.factorial)  # fmt: skip


def directive_lines(d: Derivation) -> list[str]:
    """The declarations (without the ``% gradproof:`` prefix), one per line: the derivation's own
    ``declarations`` when it states them, else computed."""
    if d.declarations:
        return list(d.declarations)
    lines: list[str] = []
    lines += _indices(d)
    if d.sizes:
        lines.append("size " + ", ".join(to_latex(s) for s in sorted(d.sizes, key=str)))
    for size, low in sorted(d.min_sizes.items(), key=lambda kv: str(kv[0])):
        if low > 1:
            lines.append(f"assume {to_latex(size)} \\ge {low}")
    labels = _labels(d)
    if labels:
        lines.append("scalar " + ", ".join(labels))
    lines += _functions(d)
    lines += _definitions(d)
    lines += _inputs(d)
    lines += _other_symbols(d)
    return lines


def _other_symbols(d: Derivation) -> list[str]:
    """Free symbols that are not inputs, indices, sizes or defined names but carry an assumption
    the catalog proves under (m, a positive integer, in N = mB ⟹ T = m): say so, or the file
    would claim more than the catalog shows."""
    known = {inp.symbol for inp in d.inputs} | set(d.index_ranges) | set(d.sizes)
    known |= {df.target for df in d.definitions}
    found: set = set()
    for e in _expressions(d):
        if not isinstance(e, sp.Basic):
            continue
        labels = {b.label for b in e.atoms(sp.IndexedBase)}  # p of p_i: the entries are declared
        found |= {s for s in e.free_symbols if isinstance(s, sp.Symbol) and s not in known | labels}
    out = []
    for sym in sorted(found, key=str):
        tex = to_latex(sym)
        if sym.is_integer and sym.is_positive:
            out.append(f"assume {tex} \\in \\mathbb{{N}}")
        elif sym.is_positive:
            out.append(f"assume {tex} > 0")
        elif sym.is_nonnegative:
            out.append(f"assume {tex} \\ge 0")
    return out


def _indices(d: Derivation) -> list[str]:
    groups: dict[tuple, list] = {}
    for idx in d.index_ranges:
        lo, hi = d.index_range(idx)
        groups.setdefault((lo, hi), []).append(idx)
    out = []
    for (lo, hi), members in groups.items():
        names = ", ".join(to_latex(m) for m in sorted(members, key=str))
        out.append(f"index {names} = {to_latex(lo)}..{to_latex(hi)}")
    return out


def _expressions(d: Derivation) -> list[Any]:
    out = []
    for st in d.steps:
        out += [st.lhs, st.rhs]
    for df in d.definitions:
        out += [df.expr]
    return out


def _labels(d: Derivation) -> list[str]:
    """Names whose printed form carries a subscript that is part of the name (L_{Z}, M_{params})."""
    found = set()
    for e in _expressions(d) + [df.target for df in d.definitions if isinstance(df.target, sp.Symbol)]:
        for sym in e.free_symbols if isinstance(e, sp.Basic) else ():
            if isinstance(sym, sp.Symbol) and sym not in d.index_ranges and sym not in d.sizes and _is_label(to_latex(sym)):
                found.add(to_latex(sym))
    return sorted(found)


def _is_label(tex: str) -> bool:
    """A name printed with a subscript (L_{Z}), as several symbols (D_{u} L) or between bars
    (\\|g\\|): one scalar only where ``scalar`` says so."""
    return "_" in tex or " " in tex.strip() or tex.startswith(("\\|", "|"))


def _functions(d: Derivation) -> list[str]:
    out, seen = [], set()
    targets = {type(df.target) for df in d.definitions if isinstance(df.target, sp.core.function.AppliedUndef)}
    for e in _expressions(d):
        for f in sorted(e.atoms(sp.Function), key=sp.default_sort_key):
            func = type(f)
            if func in seen or isinstance(f, _KNOWN) or func in targets:
                continue
            seen.add(func)
            if isinstance(f, sp.Heaviside):  # the unit step as printed (H(t)), h its value at 0
                name = _name(sp.Heaviside)
                out.append(rf"function {name}(t, h = \frac{{1}}{{2}}) = \mathbb{{1}}\{{t > 0\}} + h \mathbb{{1}}\{{t = 0\}}")
            elif isinstance(f, sp.core.function.AppliedUndef) and getattr(func, "_gradproof_directive", None):
                out.append(func._gradproof_directive)
            elif isinstance(f, sp.core.function.AppliedUndef) and f.func.__name__ not in ("H", "KL"):
                params = ", ".join("t" if k == 0 else f"t_{k}" for k in range(len(f.args)))
                out.append(f"function {_name(func)}({params})")
    return out


def _name(func: Any) -> str:
    tex = to_latex(func(sp.Symbol("t")))
    head = tex.split("{\\left(")[0].split("\\left(")[0]
    return head


def _function_definition(d: Derivation, df: Any, seen: set) -> list[str]:
    """A defined function as a ``function`` declaration: φ(x) = x − 1 − log x becomes
    ``function \\phi(t) = t - 1 - \\log t``; a function of vectors (KL(p, q), H(p, q)) keeps its
    parameters' names, which the body indexes (p_i), and declares them vectors.  A function
    defined at several argument lists (H(p, q), H(q, p), H(p, p)) is declared once, and only
    when every definition is the same formula with its arguments swapped in."""
    target = df.target
    func = type(target)
    if func in seen:
        return []
    seen.add(func)
    args = target.args
    if all(isinstance(a, sp.Symbol) for a in args) and len(set(args)) == len(args):
        params = [sp.Symbol("t" if k == 0 else f"t_{k}") for k in range(len(args))]
        body = df.expr.xreplace(dict(zip(args, params)))
        return [f"function {_name(func)}({', '.join(map(to_latex, params))}) = {to_latex(body)}"]
    if not (all(isinstance(a, sp.IndexedBase) for a in args) and len(set(args)) == len(args)):
        return []
    for other in d.definitions:
        if type(other.target) is func and other is not df:
            swap = dict(zip(args, other.target.args))
            if sp.simplify(df.expr.xreplace(swap) - other.expr) != 0:
                return []  # not one formula: nothing honest to declare
    shapes = {inp.symbol: inp.shape for inp in d.inputs}
    if any(len(shapes.get(a, ())) != 1 for a in args):
        return []
    names = ", ".join(to_latex(a.label) for a in args)
    lines = [f"vector {to_latex(a.label)} : {to_latex(sp.sympify(shapes[a][0]))}" for a in args]
    return lines + [f"function {_name(func)}({names}) = {to_latex(df.expr)}"]


def _definitions(d: Derivation) -> list[str]:
    out: list[str] = []
    seen_functions: set = set()
    for df in d.definitions:
        target = df.target
        if isinstance(target, sp.IndexedBase):
            lhs = to_latex(target[df.index])
        elif isinstance(target, sp.core.function.AppliedUndef):
            out += _function_definition(d, df, seen_functions)
            continue
        else:
            lhs = to_latex(target)
        out.append(f"define {lhs} = {to_latex(df.expr)}")
        if isinstance(target, sp.Symbol) and target.is_positive and _is_length(df.expr):
            out.append(f"assume {lhs} > 0")  # ‖g‖ > 0: a hypothesis (g ≠ 0), not a consequence
    return out


def _is_length(e: Any) -> bool:
    """√(Σ …): a length, which the catalog takes positive only as a hypothesis (the vector ≠ 0)."""
    return isinstance(e, sp.Pow) and e.exp == sp.S.Half and isinstance(e.base, sp.Sum)


def _index_for(d: Derivation, dim: Any, used: set) -> Any:
    for idx in sorted(d.index_ranges, key=str):
        lo, hi = d.index_range(idx)
        if lo == 1 and hi == sp.sympify(dim) and idx not in used:
            return idx
    return sp.Symbol("i" if "i" not in {str(u) for u in used} else "j", integer=True)


def _inputs(d: Derivation) -> list[str]:
    out = []
    for inp in d.inputs:
        sym = inp.symbol
        used: set = set()
        idx = []
        for dim in inp.shape:
            i = _index_for(d, dim, used)
            used.add(i)
            idx.append(i)
        entry = to_latex(sym[tuple(idx)]) if idx else to_latex(sym)
        if inp.kind == "positive":
            out.append(f"assume {entry} > 0")
        elif inp.kind == "probability":
            out.append(f"assume 0 < {entry} < 1")
        elif inp.kind in ("simplex", "simplex-rows"):
            last = idx[-1]
            hi = inp.shape[-1]
            # a symbol declared positive (ŷ = softmax(z), p in KL(p‖q)) says so: its log is finite
            out.append(f"assume {entry} > 0" if sym.is_positive else f"assume {entry} \\ge 0")
            out.append(f"assume \\sum_{{{to_latex(last)}=1}}^{{{to_latex(sp.sympify(hi))}}} {entry} = 1")
        elif inp.kind == "onehot":
            out.append(f"assume {entry} \\in \\{{0, 1\\}}")
            out.append(f"assume \\sum_{{{to_latex(idx[-1])}=1}}^{{{to_latex(sp.sympify(inp.shape[-1]))}}} {entry} = 1")
        elif inp.kind == "binary":
            out.append(f"assume {entry} \\in \\{{0, 1\\}}")
        elif inp.kind == "sign":
            out.append(f"assume {entry} \\in \\{{-1, 1\\}}")
        elif inp.kind == "unit" and len(idx) == 1:  # Σ_l u_l² = 1: drawn on the unit sphere
            out.append(f"assume \\sum_{{{to_latex(idx[0])}=1}}^{{{to_latex(sp.sympify(inp.shape[0]))}}} {entry}^{{2}} = 1")
        elif inp.kind == "count":
            out.append(f"assume {entry} \\in \\mathbb{{N}}")
    return out


def with_directives(d: Derivation, fragment: str) -> str:
    """``fragment`` (from :meth:`Derivation.latex`) with the declarations after its header line."""
    head, _, rest = fragment.partition("\n")
    lines = "".join(f"% gradproof: {line}\n" for line in directive_lines(d))
    return f"{head}\n{lines}{rest}"

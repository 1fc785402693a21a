"""A derivation as readable plain text, for the terminal (``gradproof show``)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
}

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

_REL = {"=": "=", ">=": "≥", "<=": "≤", ">": ">", "<": "<", "!=": "≠", "=>": "⇒"}
_REL_OP = {"==": "=", ">=": "≥", "<=": "≤", ">": ">", "<": "<", "!=": "≠"}


class _TextPrinter(StrPrinter):
    """SymPy's string printer in lecture notation: z_i, δ_ij, Σ_{l=1..n}, ∂s_i/∂z_j, e^(…)."""

    printmethod = "_gradproof_text"  # ignore the objects' own _sympystr (Indexed has one)

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        # Greek names as letters (ε, Δ, σ), the rest unchanged
        name = expr.name
        return pretty_symbol(name) if name.lower() in _GREEK else name

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        idx = ",".join(self._print(i) for i in expr.indices)
        return f"{self._print(expr.base.label)}_{idx if len(idx) == 1 else '{' + idx + '}'}"

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        a, b = (self._print(x) for x in expr.args)
        return f"δ_{a}{b}" if len(a) == len(b) == 1 else f"δ({a},{b})"

    def _print_Sum(self, expr: sp.Sum) -> str:
        limits = ", ".join(f"{self._print(v)}={self._print(lo)}..{self._print(hi)}" for v, lo, hi in expr.limits)
        return f"Σ_{{{limits}}} {self.parenthesize(expr.function, 100)}"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        var = "".join(f"∂{self._print(v)}" for v in expr.variables)
        inner = expr.expr
        if isinstance(inner, (sp.Symbol, sp.Indexed)):
            return f"∂{self._print(inner)}/{var}"
        return f"∂/{var} ({self._print(inner)})"

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        ordered = ordered_terms(expr)
        if ordered != list(expr.args):
            return super()._print_Add(sp.Add(*ordered, evaluate=False), order="none")
        return super()._print_Add(expr, order=order)

    def _print_exp(self, expr: sp.Expr) -> str:
        arg = self._print(expr.args[0])
        return f"e^{arg}" if isinstance(expr.args[0], (sp.Symbol, sp.Indexed)) else f"e^({arg})"

    def _print_Relational(self, expr: sp.Rel) -> str:  # inside an implication: a = b, not Eq(a, b)
        return f"{self._print(expr.lhs)} {_REL_OP.get(expr.rel_op, expr.rel_op)} {self._print(expr.rhs)}"

    def _print_Implies(self, expr: sp.Implies) -> str:
        return " ⇒ ".join(self._print(a) for a in expr.args)

    def _print_And(self, expr: sp.And) -> str:
        return "; and ".join(self._print(a) for a in expr.args)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.base is sp.E:
            return self._print_exp(sp.exp(expr.exp))
        return super()._print_Pow(expr, rational).replace("**", "^")


def pretty(expr: sp.Basic) -> str:
    """One-line text for an expression, in lecture notation."""
    return _TextPrinter({"order": "none"}).doprint(expr).replace("**", "^")


def render_text(d: Derivation) -> str:
    wrap = textwrap.TextWrapper(width=100, subsequent_indent="  ")
    out = [f"{d.title}  [{d.name}]", "=" * min(100, len(d.title) + len(d.name) + 4), ""]
    out += wrap.wrap(d.summary) + [""]
    if d.definitions:
        out.append("Definitions:")
        for df in d.definitions:
            target = df.target[df.index] if isinstance(df.target, sp.IndexedBase) else df.target
            out.append(f"  {pretty(target)} := {pretty(df.expr)}")
        out.append("")
    if d.assumptions or d.index_ranges:
        out.append("Assumptions:")
        out += [f"  - {a.text}" for a in d.assumptions if a.text]
        ranges = sorted({f"1 ≤ {i} ≤ {u}" for i, u in d.index_ranges.items()})
        if ranges:
            out.append(f"  - indices in range: {', '.join(ranges)}")
        out.append("")
    out += ["Statement:", f"  {pretty(d.statement)}", "", "Steps:"]
    previous = None
    for k, st in enumerate(d.steps, 1):
        lhs = pretty(st.lhs) if st.lhs != previous else " " * min(len(pretty(st.lhs)), 12)
        out.append(f"  {k:>2}. {lhs} {_REL[st.relation]} {pretty(st.rhs)}")
        out.append(f"      because: {st.reason}")
        previous = st.lhs
    if d.examples:
        out += ["", "Worked examples (computed from the derived expressions):"]
        for ex in d.examples:
            out += ["  " + line for line in str(ex).splitlines()]
    if d.notes:
        out += ["", "Notes:"] + [f"  - {note}" for note in d.notes]
    return "\n".join(out)


def _is_negative_term(term: sp.Basic) -> bool:
    coeff = term.as_coeff_Mul()[0]
    return bool(coeff.is_Number and coeff.is_negative)


def ordered_terms(expr: sp.Add) -> list[sp.Basic]:
    """The terms of a sum in lecture order: a leading minus moves behind the positive terms
    (δ_ij − s_j, s_j − y_j), except for a negated sum, which reads as written (−Σ p_i log p_i
    is an entropy); otherwise as the derivation wrote them."""
    args = list(expr.args)
    negative = [_is_negative_term(a) for a in args]
    negated_sum = any(neg and isinstance(a.as_coeff_Mul()[1], sp.Sum) for a, neg in zip(args, negative))
    if not negative[0] or negated_sum or all(negative):
        return args
    return [a for a, neg in zip(args, negative) if not neg] + [a for a, neg in zip(args, negative) if neg]

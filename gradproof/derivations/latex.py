"""SymPy expressions as LaTeX in lecture notation (∂s_i/∂z_j, δ_ij, numbers before symbols)."""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

class GradproofLatexPrinter(LatexPrinter):
    """SymPy's printer with lecture notation for derivatives: ∂s_i/∂z_j, not ∂/∂z_j s_i."""

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        if len(expr.variables) == 1:
            var = self._print(expr.variables[0])
            inner = expr.expr
            if isinstance(inner, (sp.Symbol, sp.Indexed)):
                return rf"\frac{{\partial {self._print(inner)}}}{{\partial {var}}}"
            return rf"\frac{{\partial}}{{\partial {var}}} {self.parenthesize(inner, 1000)}"
        return super()._print_Derivative(expr)

    def _print_Mul(self, expr: sp.Mul) -> str:
        # lecture order: numbers, then plain symbols (p_i, s_i), then everything else
        # (p_i log q_i rather than log(q_i) p_i)
        def rank(a: sp.Basic) -> int:
            if a.is_Number:
                return 0
            if isinstance(a, (sp.Symbol, sp.Indexed)):
                return 1
            return 2

        args = list(expr.args)
        ordered = sorted(args, key=rank)
        if ordered != args and not any(a.is_Number and a.is_negative for a in args[1:]):
            return super()._print_Mul(sp.Mul(*ordered, evaluate=False))
        return super()._print_Mul(expr)

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        from gradproof.derivations.text import ordered_terms

        ordered = ordered_terms(expr)
        if ordered != list(expr.args):
            return super()._print_Add(sp.Add(*ordered, evaluate=False), order="none")
        return super()._print_Add(expr, order=order)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        # a name that is a phrase (bits/nat) in upright type, not as a product of italic letters
        if "/" in expr.name and "\\" not in expr.name:
            return rf"\mathrm{{{expr.name}}}"
        return super()._print_Symbol(expr, style=style)

    def _print_Heaviside(self, expr: sp.Basic, exp: str | None = None) -> str:
        # the unit step is H(t) in every output (SymPy's own printer writes θ(t))
        tex = rf"H\left({self._print(expr.args[0])}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta, exp: str | None = None) -> str:
        a, b = (self._print(x) for x in expr.args)
        # δ_{ij} for two letters; δ_{m, 1 + d} otherwise (δ_{m1 + d} would read as δ_{m·1 + d})
        joined = f"{a}{b}" if len(a) == 1 and len(b) == 1 else f"{a}, {b}"
        tex = rf"\delta_{{{joined}}}"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_Function(self, expr: sp.Function, exp: str | None = None) -> str:
        name = expr.func.__name__
        if name in ("KL", "H"):
            args = ", ".join(self._print(a) for a in expr.args)
            if name == "KL":
                args = r" \,\|\, ".join(self._print(a) for a in expr.args)
                tex = rf"\operatorname{{KL}}\left({args}\right)"
            else:
                tex = rf"H\left({args}\right)"
            return rf"{tex}^{{{exp}}}" if exp else tex
        return super()._print_Function(expr, exp)


def to_latex(expr: sp.Basic) -> str:
    return GradproofLatexPrinter({"mul_symbol": None, "order": "none"}).doprint(expr)


#: a step's relation (see :data:`gradproof.derivations.model.RELATIONS`) in LaTeX
RELATION_LATEX = {"=": "=", ">=": r"\geq", "<=": r"\leq", ">": ">", "<": "<", "!=": r"\neq", "=>": r"\Longrightarrow"}

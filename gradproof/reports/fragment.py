"""Paste-ready LaTeX for one derivation: an ``align*`` with each step's reason beside it.

Reasons are written for people in plain text with a little Unicode (``∂``, ``Σ``, ``≥``) and
sub/superscript tokens (``z_j``, ``e^{a+b}``); :func:`text_to_latex` turns them into LaTeX that
pdflatex accepts, escaping everything else so no text can inject commands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.latex import LatexPrinter

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

PACKAGES = ("amsmath", "amssymb")

_UNICODE_MATH = {
    "∂": r"\partial ", "Σ": r"\sum ", "∑": r"\sum ", "≥": r"\geq ", "≤": r"\leq ", "≠": r"\neq ",
    "→": r"\to ", "←": r"\leftarrow ", "‖": r"\| ", "σ": r"\sigma ", "≈": r"\approx ", "λ": r"\lambda ",
    "η": r"\eta ", "α": r"\alpha ", "ε": r"\varepsilon ", "δ": r"\delta ", "μ": r"\mu ", "θ": r"\theta ",
    "·": r"\cdot ", "×": r"\times ", "−": "-", "²": "^{2}", "³": "^{3}", "ᵀ": "^{\\top}", "ŷ": r"\hat{y}",
    "Ŷ": r"\hat{Y}", "∞": r"\infty ", "∈": r"\in ", "⊙": r"\odot ", "√": r"\sqrt ", "∇": r"\nabla ",
    "ℓ": r"\ell ", "π": r"\pi ", "ρ": r"\rho ", "τ": r"\tau ", "φ": r"\phi ", "∝": r"\propto ",
    "⟨": r"\langle ", "⟩": r"\rangle ", "₁": "_{1}", "₂": "_{2}", "≡": r"\equiv ", "∀": r"\forall ",
}
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}
# tokens such as z_j, e^{a+b}, x^2, s_{ij}: typeset as math
_MATH_TOKEN = re.compile(r"[A-Za-z0-9]*(?:[_^](?:\{[^{}\\$]*\}|[A-Za-z0-9]))+")


def escape_text(text: str) -> str:
    """Escape arbitrary text for LaTeX text mode (user-supplied names, titles, labels)."""
    out = []
    for ch in str(text):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _UNICODE_MATH:
            out.append(r"\ensuremath{" + _UNICODE_MATH[ch] + "}")
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() else " ")
        else:
            out.append("?")  # pdflatex without unicode setup cannot typeset it; never emit raw bytes
    return "".join(out)


def _math_token(token: str) -> str:
    body = "".join(_UNICODE_MATH.get(ch, ch) for ch in token)
    return r"\ensuremath{" + body + "}"


def text_to_latex(text: str) -> str:
    """A reason or note in plain text → safe LaTeX text with math tokens in math mode."""
    pieces, last = [], 0
    for m in _MATH_TOKEN.finditer(text):
        pieces.append(escape_text(text[last : m.start()]))
        token = m.group(0)
        # only braces, letters, digits and sub/superscripts reach math mode: nothing executable
        pieces.append(_math_token(token) if re.fullmatch(r"[A-Za-z0-9_^{}+\-=,]*", token) else escape_text(token))
        last = m.end()
    pieces.append(escape_text(text[last:]))
    return "".join(pieces)


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
        from gradproof.derivations.text import positive_terms_first

        return super()._print_Add(positive_terms_first(expr), order="none")

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta, exp: str | None = None) -> str:
        a, b = (self._print(x) for x in expr.args)
        tex = rf"\delta_{{{a}{b}}}"
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


_REL = {"=": "=", ">=": r"\geq", "<=": r"\leq", ">": ">", "<": "<"}


def derivation_lines(d: Derivation) -> list[tuple[str, str, str, str]]:
    """(lhs, relation, rhs, reason) in LaTeX; lhs is empty when it repeats the line above."""
    lines, previous = [], None
    for step in d.steps:
        lhs = "" if previous is not None and step.lhs == previous else to_latex(step.lhs)
        lines.append((lhs, _REL[step.relation], to_latex(step.rhs), text_to_latex(step.reason)))
        previous = step.lhs
    return lines


def derivation_align(d: Derivation) -> str:
    """The derivation's steps as a paste-ready ``align*`` fragment (needs amsmath, amssymb)."""
    rows = [
        rf"  {lhs} &{rel} {rhs} && \text{{({reason})}}"
        for lhs, rel, rhs, reason in derivation_lines(d)
    ]
    return (
        f"% gradproof: {d.name} — needs \\usepackage{{{','.join(PACKAGES)}}}\n"
        "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    )

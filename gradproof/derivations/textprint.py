"""SymPy expressions and marked-up prose as one line of terminal text, in lecture notation.

``s_i (δ_ij − s_j)``, ``Σ_{l=1..n} e^{z_l}``, ``∂ log s_i/∂z_j``, ``φ′(a_j)``, ``max(0, t)``,
``H(p, q)``, ``lim_{h→0⁺}``, ``|w_j|``: one notation for statements, steps and reasons (the
Kronecker delta is always ``δ_ij``), readable names for every function, and never a SymPy repr —
an expression type this printer does not know raises rather than printing ``Foo(Symbol('x'))``.

>>> import sympy as sp
>>> z = sp.IndexedBase("z"); i, j = sp.symbols("i j")
>>> pretty(sp.exp(z[i]) * (sp.KroneckerDelta(i, j) - z[j]))
'e^{z_i} (δ_ij − z_j)'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer

from gradproof.derivations import markup, texmath

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}  # fmt: skip
#: symbol names spelled as letters
_NAMES = {"ell": "ℓ", "yhat": "ŷ", "epsilon": "ε", "varepsilon": "ε"}
#: functions named by the derivations (sp.Function("sigma")) and SymPy's own, as printed
_FUNCTION_NAMES = {"sigma": "σ", "phi": "φ", "Heaviside": "H", "DiracDelta": "δ", "binomial": "binom",
                   "StableMax": "max", "Max": "max", "Min": "min", "sign": "sign", "log": "log"}  # fmt: skip
#: functions whose single plain argument needs no brackets (log s_i)
_OPERATOR_FUNCTIONS = {"log"}
MINUS = "−"


def name_text(name: str) -> str:
    """A symbol's name as printed: Greek names as letters (``lambda`` → ``λ``), ``ell_a`` →
    ``ℓ_a``, LaTeX names (``\\hat{y}``) through :func:`texmath.to_text`."""
    if "\\" in name or "{" in name:
        return texmath.to_text(name)
    base, _, sub = name.partition("_")
    base = _NAMES.get(base, texmath.GREEK[base] if base in _GREEK else base)
    if not sub:
        return base
    return f"{base}_{sub}" if sub.isalnum() else f"{base}_{{{sub}}}"


def _is_atom(expr: sp.Basic) -> bool:
    return isinstance(expr, (sp.Symbol, sp.Indexed, sp.IndexedBase)) or (
        expr.is_Number and not (expr.is_Rational and not expr.is_Integer) and not expr.is_negative
    )


def _bracket(text: str) -> str:
    return f"({text})"


class TextPrinter(Printer):
    """One-line lecture notation; see the module docstring."""

    printmethod = "_gradproof_text"

    def emptyPrinter(self, expr: object) -> str:  # noqa: N802 - SymPy's hook
        if isinstance(expr, str):
            return expr
        if isinstance(expr, sp.Basic) and isinstance(expr, sp.Function):
            return self._print_Function(expr)
        raise TypeError(f"no terminal notation for {type(expr).__name__}: {expr!r}")

    def parenthesize(self, item: sp.Basic, level: int, strict: bool = False) -> str:
        """SymPy's printer protocol (used by the catalog's own ``_gradproof_text`` methods)."""
        text = self._print(item)
        prec = precedence(item)
        return _bracket(text) if prec < level or (strict and prec <= level) else text

    # -- atoms ----------------------------------------------------------------------------------

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return name_text(expr.name)

    _print_Dummy = _print_Symbol

    def _print_IndexedBase(self, expr: sp.IndexedBase) -> str:
        return name_text(str(expr.label))

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        base = self._print(expr.base)
        idx = [self._print(i).replace(" ", "") for i in expr.indices]
        if all(len(t) == 1 for t in idx):
            return f"{base}_{''.join(idx)}"
        return f"{base}_{{{','.join(idx)}}}"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(expr.p).replace("-", MINUS)

    def _print_Rational(self, expr: sp.Rational) -> str:
        sign = MINUS if expr.p < 0 else ""
        return f"{sign}{abs(expr.p)}/{expr.q}"

    def _print_Float(self, expr: sp.Float) -> str:
        value = float(expr)
        return f"{value + 0.0:.6g}".replace("-", MINUS)

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "e"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "π"

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return MINUS + "∞"

    def _print_ImaginaryUnit(self, expr: sp.Basic) -> str:
        return "i"

    def _print_BooleanTrue(self, expr: sp.Basic) -> str:
        return "true"

    def _print_BooleanFalse(self, expr: sp.Basic) -> str:
        return "false"

    def _print_Zero(self, expr: sp.Basic) -> str:
        return "0"

    def _print_UnevaluatedExpr(self, expr: sp.UnevaluatedExpr) -> str:
        inner = expr.args[0]
        text = self._print(inner)
        return _bracket(text) if isinstance(inner, (sp.Add, sp.Mul)) and not _is_atom(inner) else text

    # -- arithmetic -----------------------------------------------------------------------------

    def _print_Add(self, expr: sp.Add) -> str:
        out = ""
        for k, term in enumerate(ordered_terms(expr)):
            negative = _is_negative_term(term)
            body = self._print(-term if negative else term)
            if isinstance(-term if negative else term, sp.Add):
                body = _bracket(body)
            if k == 0:
                out = (MINUS if negative else "") + body
            else:
                out += f" {MINUS} {body}" if negative else f" + {body}"
        return out

    def _factors(self, expr: sp.Mul) -> tuple[list[sp.Basic], list[sp.Basic], bool]:
        """Numerator and denominator factors of a product, and whether it is negated."""
        num, den, negative = [], [], False
        args = list(expr.args)
        while any(isinstance(a, sp.Mul) for a in args):  # nested products read as one
            args = [b for a in args for b in (a.args if isinstance(a, sp.Mul) else (a,))]
        for arg in args:
            if arg.is_Number and arg.is_negative:
                negative = not negative
                arg = -arg
            if arg.is_Rational and not arg.is_Integer:
                if arg.p != 1:
                    num.append(sp.Integer(arg.p))
                den.append(sp.Integer(arg.q))
            elif isinstance(arg, sp.Pow) and arg.exp.is_Number and arg.exp.is_negative:
                den.append(arg.base if arg.exp == -1 else sp.Pow(arg.base, -arg.exp, evaluate=False))
            elif arg != 1:
                num.append(arg)
        return num, den, negative

    def _product(self, factors: list[sp.Basic]) -> str:
        """Factors juxtaposed in lecture order: numbers, plain symbols, then the rest."""

        def rank(a: sp.Basic) -> int:
            if a.is_Number:
                return 0
            if isinstance(a, (sp.Symbol, sp.Indexed)):
                return 1
            return 2

        factors = sorted(factors, key=rank)
        out = ""
        for k, f in enumerate(factors):
            last = k == len(factors) - 1
            text = self._print(f)
            if isinstance(f, sp.Add) or (isinstance(f, (sp.Sum, sp.Product, sp.Limit)) and not last):
                text = _bracket(text)
            elif isinstance(f, sp.Mul) and not _is_atom(f):
                text = _bracket(text)
            elif not last and _has_top_level(text, "/"):
                text = _bracket(text)  # (1/u)(e^{−z}/u), not 1/u(…)
            if not out:
                out = text
            elif out[-1].isdigit() and (text[0].isalpha() or text[0] == "("):
                out += text  # 2f, 2(ŷ − y)
            elif text[0].isdigit() and out[-1].isdigit():
                out += "·" + text
            elif out[-1] == ")" and text[0] == "(":
                out += text  # σ(z)(1 − σ(z))
            else:
                out += " " + text
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        num, den, negative = self._factors(expr)
        sign = MINUS if negative else ""
        top = self._product(num) if num else "1"
        if not den:
            return sign + top
        bottom = self._product(den)
        if any(isinstance(f, (sp.Sum, sp.Product)) for f in num):
            top = _bracket(top)
        if texmath._is_compound(bottom):
            bottom = _bracket(bottom)
        return f"{sign}{top}/{bottom}"

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, exp = expr.args
        if base is sp.E:
            return self._print_exp(sp.exp(exp, evaluate=False))
        if exp.is_Number and exp.is_negative:
            return self._print_Mul(sp.Mul(1, expr, evaluate=False))
        if exp == sp.S.Half:
            inner = self._print(base)
            return "√" + (inner if _is_atom(base) else _bracket(inner))
        base_text = self._print(base)
        if not (_is_atom(base) or isinstance(base, (sp.Function, sp.Abs))):
            base_text = _bracket(base_text)
        return base_text + self._exponent(exp)

    def _exponent(self, exp: sp.Basic) -> str:
        return texmath._script("^", self._print(exp).replace(" ", ""))

    def _print_exp(self, expr: sp.Basic) -> str:
        arg = expr.args[0]
        return "e" + texmath._script("^", self._print(arg))

    # -- relations ------------------------------------------------------------------------------

    def _print_Relational(self, expr: sp.Rel) -> str:
        rel = {"==": "=", ">=": "≥", "<=": "≤", "!=": "≠"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {rel} {self._print(expr.rhs)}"

    def _print_Implies(self, expr: sp.Implies) -> str:
        return " ⇒ ".join(self._print(a) for a in expr.args)

    def _print_And(self, expr: sp.And) -> str:
        return "; and ".join(self._print(a) for a in expr.args)

    # -- calculus -------------------------------------------------------------------------------

    def _limits(self, var: sp.Basic, lo: sp.Basic, hi: sp.Basic) -> str:
        return f"{self._print(var)}={self._print(lo).replace(' ', '')}..{self._print(hi).replace(' ', '')}"

    def _big(self, sign: str, expr: sp.Basic) -> str:
        body = expr.function
        text = self._print(body)
        if isinstance(body, sp.Add) or (isinstance(body, sp.Mul) and _is_negative_term(body)):
            text = _bracket(text)
        heads = [f"{sign}_{{{self._limits(*lim)}}}" for lim in reversed(expr.limits)]
        return " ".join(heads) + " " + text

    def _print_Sum(self, expr: sp.Sum) -> str:
        return self._big("Σ", expr)

    def _print_Product(self, expr: sp.Product) -> str:
        return self._big("Π", expr)

    def _print_Limit(self, expr: sp.Limit) -> str:
        body, var, point, direction = expr.args
        arrow = {"+": "⁺", "-": "⁻"}.get(str(direction), "")
        text = self._print(body)
        if not _is_atom(body):
            text = _bracket(text)
        return f"lim_{{{self._print(var)}→{self._print(point)}{arrow}}} {text}"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        inner = expr.expr
        variables = []
        for var, count in expr.variable_count:
            variables.append(f"∂{self._print(var)}" + (texmath._script("^", str(count)) if count > 1 else ""))
        order = sum(c for _, c in expr.variable_count)
        d = "∂" + (texmath._script("^", str(order)) if order > 1 else "")
        den = "".join(variables)
        if isinstance(inner, (sp.Symbol, sp.Indexed)):
            return f"{d}{self._print(inner)}/{den}"
        if isinstance(inner, sp.Function) and all(_is_atom(a) for a in inner.args):
            text = self._print(inner)
            return f"{d}{' ' if text[0].isalpha() and len(text.split('(')[0].split(' ')[0]) > 1 else ''}{text}/{den}"
        return f"{d}/{den} ({self._print(inner)})"

    def _print_Subs(self, expr: sp.Subs) -> str:
        body, old, new = expr.args
        pairs = ", ".join(f"{self._print(o)} = {self._print(n)}" for o, n in zip(old, new))
        return f"({self._print(body)})|_{{{pairs}}}"

    # -- functions ------------------------------------------------------------------------------

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        a, b = (self._print(x) for x in expr.args)
        return f"δ_{a}{b}" if len(a) == len(b) == 1 else f"δ_{{{a},{b}}}"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        return f"H({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        parts = [
            f"{self._print(e)} if {self._print(c)}" if c is not sp.true else f"{self._print(e)} otherwise"
            for e, c in expr.args
        ]
        return "{" + "; ".join(parts) + "}"

    def _print_Function(self, expr: sp.Function) -> str:
        name = expr.func.__name__
        args = expr.args
        if name == "KL":
            return "KL(" + " ‖ ".join(self._print(a) for a in args) + ")"
        shown = _FUNCTION_NAMES.get(name)
        if shown is None:
            shown = name_text(name) if name.isidentifier() else name
        if name in _OPERATOR_FUNCTIONS and len(args) == 1 and _is_atom(args[0]):
            return f"{shown} {self._print(args[0])}"
        return f"{shown}({', '.join(self._print(a) for a in args)})"

    def _print_Max(self, expr: sp.Basic) -> str:
        return "max(" + ", ".join(self._print(a) for a in _lecture_args(expr)) + ")"

    def _print_Min(self, expr: sp.Basic) -> str:
        return "min(" + ", ".join(self._print(a) for a in _lecture_args(expr)) + ")"

    def _print_Tuple(self, expr: sp.Tuple) -> str:
        return "(" + ", ".join(self._print(a) for a in expr) + ")"


def _has_top_level(text: str, char: str) -> bool:
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == char and depth == 0:
            return True
    return False


def _lecture_args(expr: sp.Basic) -> list[sp.Basic]:
    """max(0, t) as the lectures write it: numbers first."""
    return sorted(expr.args, key=lambda a: (not a.is_Number, sp.default_sort_key(a)))


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


def pretty(expr: sp.Basic) -> str:
    """One line of terminal text for an expression, in lecture notation."""
    return TextPrinter().doprint(expr)


def prose(text: str) -> str:
    """A marked-up text (``$…$`` math in plain prose) as terminal text."""
    return "".join(
        texmath.to_text(seg.value) if seg.kind == "math" else seg.value for seg in markup.segments(text)
    )


__all__ = ["PRECEDENCE", "TextPrinter", "name_text", "ordered_terms", "pretty", "prose"]

"""Fitting derivation steps to a page: estimate how wide a formula prints, break long right-hand
sides at their top-level ``+``/``−`` and, only as a last resort, scale a piece down.

The width estimate is deliberately rough (in ems at the body font size): it only has to tell
"fits on the line" from "does not", and the compile tests count overfull boxes to keep it honest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from gradproof.derivations.text import ordered_terms
from gradproof.reports.fragment import _REL, text_to_latex, to_latex

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|[^\\{}^_]")
_ZERO = {
    r"\left",
    r"\right",
    r"\mathopen",
    r"\mathclose",
    r"\displaystyle",
    r"\,",
    r"\!",
    r"\limits",
    r"\mathrm",
    r"\mathbf",
    r"\text",
    r"\operatorname",
    r"\ensuremath",
}
_WIDE = {
    r"\sum": 1.4,
    r"\prod": 1.4,
    r"\int": 1.0,
    r"\quad": 1.0,
    r"\qquad": 2.0,
    r"\log": 1.4,
    r"\exp": 1.5,
    r"\cdot": 0.8,
    r"\partial": 0.6,
    r"\max": 1.6,
    r"\min": 1.6,
    r"\sqrt": 1.0,
}


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens of the brace group (or single token) starting at i, and the index after it."""
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth, j = 0, i
    while j < len(tokens):
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        if depth == 0:
            return tokens[i + 1 : j], j + 1
        j += 1
    return tokens[i + 1 :], len(tokens)


def _width(tokens: list[str]) -> float:
    total, i = 0.0, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == r"\frac":
            num, i = _group(tokens, i + 1)
            den, i = _group(tokens, i)
            total += max(_width(num), _width(den)) + 0.4
            continue
        if tok in ("^", "_"):
            sub, i = _group(tokens, i + 1)
            total += 0.7 * _width(sub)
            continue
        if tok in ("{", "}") or tok in _ZERO:
            i += 1
            continue
        if tok in _WIDE:
            total += _WIDE[tok]
        elif tok.startswith("\\"):
            total += 0.7  # a Greek letter or a symbol
        elif tok in "+-=<>":
            total += 1.3  # binary operator with its spacing
        elif tok in " ,()[]|":
            total += 0.0 if tok == " " else 0.4
        else:
            total += 0.55
        i += 1
    return total


def width(tex: str) -> float:
    """Rough printed width of a LaTeX math string, in ems."""
    return _width(_TOKEN.findall(tex))


@dataclass(frozen=True)
class StepRows:
    """One derivation step laid out: its first row ``lhs & rel first`` and continuation pieces."""

    lhs: str
    rel: str
    pieces: tuple[str, ...]
    reason: str


def scaled(tex: str, budget: float) -> str:
    w = width(tex)
    if w <= budget:
        return tex
    factor = max(0.5, round(budget / w - 0.005, 2))
    return rf"\scalebox{{{factor:.2f}}}{{$\displaystyle {tex}$}}"


def split_rhs(rhs: sp.Basic, budget: float) -> tuple[str, ...]:
    """The right-hand side as one piece, or broken before top-level ``+``/``−`` into pieces that
    each fit ``budget`` ems (a term too wide on its own is scaled down)."""
    whole = to_latex(rhs)
    if width(whole) <= budget:
        return (whole,)
    if not isinstance(rhs, sp.Add):
        return (scaled(whole, budget),)
    pieces: list[str] = []
    current = ""
    for k, term in enumerate(ordered_terms(rhs)):
        coeff = term.as_coeff_Mul()[0]
        if coeff.is_Number and coeff.is_negative:
            text = "- " + to_latex(-term) if k else to_latex(term)
        else:
            text = ("+ " if k else "") + to_latex(term)
        candidate = f"{current} {text}".strip()
        if current and width(candidate) > budget:
            pieces.append(current)
            current = text
        else:
            current = candidate
    pieces.append(current)
    return tuple(scaled(p, budget) for p in pieces)


def layout_steps(d: Derivation, budget: float) -> list[StepRows]:
    """Every step of ``d`` fitted to ``budget`` ems for lhs, relation and rhs together."""
    out, previous = [], None
    for step in d.steps:
        lhs = "" if previous is not None and step.lhs == previous else to_latex(step.lhs)
        if width(lhs) > budget / 2:
            lhs = scaled(lhs, budget / 2)
        rhs_budget = max(budget / 2, budget - min(width(lhs), budget / 2) - 1.5)
        pieces = split_rhs(step.rhs, rhs_budget)
        out.append(StepRows(lhs, _REL[step.relation], pieces, text_to_latex(step.reason)))
        previous = step.lhs
    return out

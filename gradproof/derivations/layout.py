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
from gradproof.derivations.latex import RELATION_LATEX, to_latex
from gradproof.derivations.latex_text import text_to_latex

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Step

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|[^\\{}^_]")
_ZERO = {
    r"\left",
    r"\right",
    r"\bigl",
    r"\bigr",
    r"\Bigl",
    r"\Bigr",
    r"\mathopen",
    r"\mathclose",
    r"\displaystyle",
    r"\,",
    r"\!",
    r"\limits",
    r"\mathrm",
    r"\mathbf",
    r"\mathbb",
    r"\text",
    r"\operatorname",
    r"\ensuremath",
    r"\substack",
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
#: operators whose limits a display puts above and below rather than beside
_BIG_OPERATORS = {r"\sum", r"\prod"}


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


def _rows_width(tokens: list[str]) -> float:
    """Width of a ``\\substack`` body: its widest row."""
    rows, current = [], []
    for tok in tokens:
        if tok == "\\\\":
            rows.append(current)
            current = []
        else:
            current.append(tok)
    rows.append(current)
    return max(_width(r) for r in rows)


def _width(tokens: list[str], display: bool = True) -> float:
    """Width in ems; ``display=False`` inside fractions, where limits sit beside their operator."""
    total, i = 0.0, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == r"\frac":
            num, i = _group(tokens, i + 1)
            den, i = _group(tokens, i)
            total += max(_width(num, False), _width(den, False)) + 0.4
            continue
        if tok == r"\scalebox":  # \scalebox{f}{$...$}
            factor, i = _group(tokens, i + 1)
            body, i = _group(tokens, i)
            total += float("".join(factor) or 1) * _width(body)
            continue
        if tok == r"\resizebox":  # \resizebox{\ifdim\width>Nem Nem\else\width\fi}{!}{$...$}
            target, i = _group(tokens, i + 1)
            _, i = _group(tokens, i)
            body, i = _group(tokens, i)
            limit = re.search(r"([0-9.]+)em", "".join(target))
            total += min(float(limit.group(1)), _width(body)) if limit else _width(body)
            continue
        if tok in _BIG_OPERATORS:  # displayed limits are stacked: the widest of sign and limits
            widths, i = [_WIDE[tok]], i + 1
            while i < len(tokens) and tokens[i] in ("^", "_"):
                limit, i = _group(tokens, i + 1)
                if limit and limit[0] == r"\substack":
                    inner, _ = _group(limit, 1)
                    widths.append(0.7 * _rows_width(inner))
                else:
                    widths.append(0.7 * _width(limit))
            total += (max(widths) if display else 1.0 + max(widths[1:], default=0.0)) + 0.2
            continue
        if tok in ("^", "_"):
            sub, i = _group(tokens, i + 1)
            total += 0.7 * _width(sub, display)
            continue
        if tok in ("{", "}", "$") or tok in _ZERO:
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
        elif tok.isupper():
            total += 0.75
        else:
            total += 0.55
        i += 1
    return total


def width(tex: str) -> float:
    """Rough printed width of a LaTeX math string, in ems (display style, body font size)."""
    return _width(_TOKEN.findall(tex))


@dataclass(frozen=True)
class StepRows:
    """One derivation step laid out: its first row ``lhs & rel first`` and continuation pieces.

    ``lhs`` is empty where the step continues the previous step's left-hand side; ``full_lhs``
    keeps it for a frame that starts with this step.  ``stacked``: the left-hand side is too wide
    to share a row with the right-hand side, so it gets a row of its own above ``rel first``.
    """

    lhs: str
    rel: str
    pieces: tuple[str, ...]
    reason: str
    full_lhs: str = ""
    stacked: bool = False


#: continuation rows of a broken right-hand side start this far right of the relation
CONTINUATION_INDENT = 2.0  # \qquad
#: the relation and its spacing
RELATION_WIDTH = 1.5
#: a left-hand side wider than this share of the budget goes on a row of its own
STACK_SHARE = 0.4


def scaled(tex: str, budget: float) -> str:
    """``tex`` unchanged when it fits ``budget`` ems, else shrunk to exactly that width by TeX
    (which measures it: no estimate is involved in how far it shrinks)."""
    if width(tex) <= budget:
        return tex
    return rf"\resizebox{{\ifdim\width>{budget:g}em {budget:g}em\else\width\fi}}{{!}}{{$\displaystyle {tex}$}}"


def _signed_terms(add: sp.Add) -> list[str]:
    """The terms of a sum in lecture order, each but the first with its ``+``/``−``."""
    out = []
    for k, term in enumerate(ordered_terms(add)):
        coeff = term.as_coeff_Mul()[0]
        if coeff.is_Number and coeff.is_negative:
            out.append("- " + to_latex(-term) if k else to_latex(term))
        else:
            out.append(("+ " if k else "") + to_latex(term))
    return out


def _pack(terms: list[str], first: float, rest: float) -> list[str]:
    """Terms packed greedily into lines: the first line ``first`` ems wide, the others ``rest``."""
    lines: list[str] = []
    current = ""
    for text in terms:
        candidate = f"{current} {text}".strip()
        if current and width(candidate) > (rest if lines else first):
            lines.append(current)
            current = text
        else:
            current = candidate
    lines.append(current)
    return lines


_OPEN = r"\\?[(\[{|.]|\\\{|\\langle|\\lVert"
_CLOSE = r"\\?[)\]}|.]|\\\}|\\rangle|\\rVert"


def _depth(tex: str) -> int:
    """Open groups at the end of ``tex``: braces (``\\{`` and ``\\}`` are not braces) and
    ``\\left`` … ``\\right`` pairs.  Text can only be cut where this is 0."""
    tokens = _TOKEN.findall(tex)
    return tokens.count("{") - tokens.count("}") + tokens.count(r"\left") - tokens.count(r"\right")


def _bracketed_sum(rhs: sp.Basic) -> tuple[str, sp.Add, str] | None:
    """For a right-hand side holding one long sum in brackets (``E[a + b + …]``, ``x_k (a + b + …)``,
    ``Σ_i (a + b + …)``): the text before the sum with its opening bracket, the sum, and the
    closing bracket with the text after it."""
    if isinstance(rhs, sp.Add):
        return None
    whole = to_latex(rhs)
    sums = {a for a in sp.preorder_traversal(rhs) if isinstance(a, sp.Add)}
    sums = sorted(sums, key=lambda a: (-width(to_latex(a)), sp.default_sort_key(a)))
    for arg in sums:
        pattern = rf"\\left({_OPEN})\s*{re.escape(to_latex(arg))}\s*\\right({_CLOSE})"
        found = list(re.finditer(pattern, whole))
        if len(found) == 1 and _depth(whole[: found[0].start()]) == 0:  # not inside a group
            m = found[0]
            return whole[: m.start()] + r"\Bigl" + m.group(1), arg, r"\Bigr" + m.group(2) + whole[m.end() :]
    return None


def split_rhs(rhs: sp.Basic, budget: float, rest: float | None = None, *, shrink: bool = True) -> tuple[str, ...]:
    """The right-hand side as one piece, or broken before top-level ``+``/``−`` into pieces: the
    first fits ``budget`` ems, the continuation pieces ``rest`` (default ``budget``).  A sum inside
    one bracket (``E[a + b + …]``) is broken inside the bracket; a term too wide on its own is
    shrunk to fit (``shrink=False``: left as it is, for outputs without ``\\resizebox``)."""
    rest = budget if rest is None else rest
    if not shrink:
        return tuple(_split(rhs, budget, rest))
    return tuple(scaled(p, budget if k == 0 else rest) for k, p in enumerate(_split(rhs, budget, rest)))


def _split(rhs: sp.Basic, budget: float, rest: float) -> list[str]:
    whole = to_latex(rhs)
    if width(whole) <= budget:
        return [whole]
    if isinstance(rhs, sp.Add):
        return _pack(_signed_terms(rhs), budget, rest)
    if (bracketed := _bracketed_sum(rhs)) is not None:
        opening, inner, closing = bracketed
        terms = _signed_terms(inner)
        terms[0] = opening + terms[0]
        terms[-1] = terms[-1] + closing
        return _pack(terms, budget, rest)
    return [whole]


def continues_lhs(previous: Step | None, step: Step) -> bool:
    """Whether ``step`` may leave its left-hand side blank (``&≤ C`` under ``A &= B``).  A blank
    left side reads as the row above's right-hand side (A = B ≤ C says B ≤ C), which states the
    step only when the row above is an equation with the same left side; an implication always
    writes its premise."""
    return (
        previous is not None and step.lhs == previous.lhs and previous.relation == "="
        and step.relation != "=>"
    )  # fmt: skip


def layout_steps(d: Derivation, budget: float) -> list[StepRows]:
    """Every step of ``d`` fitted to ``budget`` ems for lhs, relation and rhs together.

    In an ``align`` every row shares the left column, so the room for a right-hand side is the
    budget less the widest left-hand side of the whole derivation (a left-hand side wider than
    ``STACK_SHARE`` of the budget is put on a row of its own instead of narrowing every row).
    """
    lhs_texts, previous = [], None
    for step in d.steps:
        lhs_texts.append("" if continues_lhs(previous, step) else to_latex(step.lhs))
        previous = step
    stacked = [width(t) > STACK_SHARE * budget for t in lhs_texts]
    column = max((width(t) for t, s in zip(lhs_texts, stacked) if not s), default=0.0)
    first = budget - column - RELATION_WIDTH
    rest = first + RELATION_WIDTH - CONTINUATION_INDENT
    out = []
    for step, lhs, stack in zip(d.steps, lhs_texts, stacked):
        if stack:  # on its own row, starting where the relations line up
            lhs = scaled(lhs, budget - column)
        pieces = split_rhs(step.rhs, first, rest)
        full = lhs or to_latex(step.lhs)
        if width(full) > STACK_SHARE * budget:
            full = scaled(full, budget - column)
        out.append(StepRows(lhs, RELATION_LATEX[step.relation], pieces, text_to_latex(step.reason), full, stack))
    return out

"""A derivation as Markdown with ``$…$``/``$$…$$`` math, for notebooks and course sites.

Its own printer: the formulas are plain LaTeX math that KaTeX and MathJax render (no
``\\ensuremath``, ``\\resizebox`` or other layout hacks of the PDF reports), the steps are one
``$$\\begin{aligned}…\\end{aligned}$$`` with each reason beside its step (long reasons continue on
rows of their own; long right-hand sides break before a top-level ``+``/``−``), worked examples
are Markdown tables.  This is what ``Derivation._repr_markdown_`` shows in Jupyter and what
``gradproof report --format markdown`` assembles.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gradproof.derivations import markup, texmath
from gradproof.derivations.latex import RELATION_LATEX, to_latex
from gradproof.derivations.layout import continues_lhs, split_rhs

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation, Example

#: width in ems of a right-hand side before it breaks (a course page's text column)
RHS_BUDGET = 34.0
#: printed characters of a reason per row
REASON_CHARS = 52
#: entries of a vector shown before the rest is elided
MAX_ENTRIES = 8

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$#])")
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "%": r"\%", "&": r"\&", "#": r"\#",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}  # fmt: skip


def escape_markdown(text: str) -> str:
    """Plain text safe in Markdown: no emphasis, links, HTML, table cells or math by accident."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def prose(text: str) -> str:
    """Marked-up prose as Markdown: text escaped, ``$…$`` math kept (after the whitelist check)."""
    out = []
    for seg in markup.segments(text):
        if seg.kind == "math":
            texmath.check(seg.value)
            out.append(f"${seg.value.strip()}$")
        else:
            out.append(escape_markdown(seg.value))
    return "".join(out)


def _text_mode(text: str) -> str:
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def reason_rows(text: str, chars: int = REASON_CHARS) -> list[str]:
    """A reason as math-mode rows for the third column: ``\\text{…}`` around the prose, the
    ``$…$`` segments as math, wrapped at about ``chars`` printed characters, in brackets."""
    tokens: list[tuple[str, str, int]] = []  # (kind, source, printed length)
    for seg in markup.segments(f"({text})"):
        if seg.kind == "math":
            tokens.append(("math", seg.value.strip(), len(texmath.to_text(seg.value))))
        else:
            for word in re.split(r"(\s+)", seg.value):
                if word:
                    tokens.append(("text", word, len(word)))
    rows: list[list[tuple[str, str, int]]] = [[]]
    used = 0
    for tok in tokens:
        if tok[1].isspace() and not rows[-1]:
            continue
        if used + tok[2] > chars and rows[-1] and not tok[1].isspace():
            while rows[-1] and rows[-1][-1][1].isspace():
                rows[-1].pop()
            rows.append([])
            used = 0
        rows[-1].append(tok)
        used += tok[2]
    out = []
    for row in rows:
        pieces, text_run = [], ""
        for kind, source, _ in row:
            if kind == "text":
                text_run += source
                continue
            if text_run:
                pieces.append(rf"\text{{{_text_mode(text_run)}}}")
                text_run = ""
            pieces.append(source)
        if text_run:
            pieces.append(rf"\text{{{_text_mode(text_run)}}}")
        out.append(" ".join(pieces))
    return out


def steps_block(d: Derivation) -> str:
    """Every step as one ``$$\\begin{aligned}…\\end{aligned}$$``, reasons in the third column."""
    rows, previous = [], None
    for step in d.steps:
        lhs = "" if continues_lhs(previous, step) else to_latex(step.lhs)
        pieces = split_rhs(step.rhs, RHS_BUDGET, shrink=False)
        reasons = reason_rows(step.reason)
        for k in range(max(len(pieces), len(reasons))):
            left = f"{lhs} &{RELATION_LATEX[step.relation]} {pieces[0]}" if k == 0 else (
                rf"&\qquad {{}}{pieces[k]}" if k < len(pieces) else "&"
            )
            why = f" && {reasons[k]}" if k < len(reasons) else ""
            rows.append(f"{left}{why}")
        previous = step
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"


def statement_block(d: Derivation) -> str:
    return f"$$\n{to_latex(d.statement)}\n$$"


def number(x: float) -> str:
    """A number in math mode: 4 significant digits, counts exact and grouped (``1{,}203{,}400``)."""
    x = float(x) + 0.0
    if x == 0:
        return "0"
    if not np.isfinite(x):
        return r"\infty" if x > 0 else (r"-\infty" if x < 0 else r"\mathrm{NaN}")
    n = round(x)
    if abs(x - n) <= 1e-12 * abs(x) and abs(x) < 1e15:
        return f"{n:,}".replace(",", "{,}")
    text = f"{x:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant} \\times 10^{{{int(exp)}}}"
    return text


def without_roundoff(arr: np.ndarray) -> np.ndarray:
    """An array's entries below 1e-12 of its largest set to 0: floating-point round-off
    (0.1 + 0.2 − 0.3) shown as ``-2.776e-17`` in a worked example reads as a real value."""
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 0 or not arr.size or not np.all(np.isfinite(arr)):
        return arr
    return np.where(np.abs(arr) <= 1e-12 * np.max(np.abs(arr)), 0.0, arr)


def value(v: Any) -> str:
    """A scalar, vector or matrix as inline math for a table cell."""
    arr = without_roundoff(v)
    if arr.ndim == 0:
        return f"${number(arr)}$"
    if arr.ndim == 1:
        entries = [number(e) for e in arr[:MAX_ENTRIES]]
        if arr.size > MAX_ENTRIES:
            entries.append(rf"\ldots \text{{ ({arr.size} entries)}}")
        return "$(" + ", ".join(entries) + ")$"
    if arr.ndim == 2 and arr.shape[0] <= MAX_ENTRIES and arr.shape[1] <= MAX_ENTRIES:
        body = r" \\ ".join(" & ".join(number(e) for e in row) for row in arr)
        return rf"$\begin{{pmatrix}} {body} \end{{pmatrix}}$"
    return "array of shape " + " × ".join(str(s) for s in arr.shape)


_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi")
_SYMBOL = re.compile(rf"(?P<base>[A-Za-z]|{'|'.join(_GREEK)})(?P<hat>_?hat)?(?:_(?P<sub>[A-Za-z0-9]+))?")


def label(text: str) -> str:
    """A quantity's label: a bare symbol (``z``, ``eta``, ``y_hat``, ``x_k``) as math, prose as
    escaped text (a table cell: ``|`` escaped too)."""
    m = _SYMBOL.fullmatch(text)
    if m is None:
        return prose(text).replace("|", r"\|") if markup.has_math(text) else escape_markdown(text)
    base = m.group("base")
    tex = f"\\{base}" if base in _GREEK else base
    if m.group("hat"):
        tex = f"\\hat{{{tex}}}"
    return f"${tex}_{{{m.group('sub')}}}$" if m.group("sub") else f"${tex}$"


def example_table(example: Example) -> str:
    """One worked example: its title in italics, a two-column table, the note."""
    rows = ["| quantity | value |", "|---|---|"]
    rows += [f"| {label(k)} | {value(v)} |" for k, v in example.inputs.items()]
    rows += [f"| → {label(k)} | {value(v)} |" for k, v in example.values.items()]
    out = f"*{prose(example.title)}*\n\n" + "\n".join(rows) + "\n"
    if example.note:
        out += f"\n{prose(example.note)}\n"
    return out


def definitions(d: Derivation) -> list[str]:
    out = []
    for df in d.definitions:
        if not df.text or df.expr is None:
            continue
        target = df.target[df.index] if isinstance(df.target, sp.IndexedBase) else df.target
        out.append(f"${to_latex(target)} := {to_latex(df.expr)}$")
    return out


def derivation_markdown(d: Derivation, *, level: int = 2, examples: bool = True) -> str:
    """Title, summary, assumptions, definitions, statement, the steps with reasons and the worked
    examples, as Markdown (``level``: the heading level of the title)."""
    out = [f"{'#' * level} {escape_markdown(d.title)}", "", prose(d.summary), ""]
    assumptions = [prose(a.text) for a in d.assumptions if a.text]
    if assumptions:
        out += ["**Assumptions.**", ""] + [f"- {a}" for a in assumptions] + [""]
    defs = definitions(d)
    if defs:
        out += ["**Definitions.**", ""] + [f"- {x}" for x in defs] + [""]
    out += ["**Statement.**", "", statement_block(d), "", "**Derivation.**", "", steps_block(d), ""]
    for note in d.notes:
        out += [prose(note), ""]
    if examples and d.examples:
        out += ["**Worked examples** (computed from the derived expressions).", ""]
        for ex in d.examples:
            out += [example_table(ex), ""]
    return "\n".join(out).rstrip() + "\n"


def math_blocks(markdown: str) -> list[tuple[str, bool]]:
    """Every math block of a Markdown text: ``(latex, display)``, in order (``\\$`` is no
    delimiter).  What the KaTeX test renders."""
    out = []
    for m in re.finditer(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", markdown, re.S):
        if m.group(1) is not None:
            out.append((m.group(1).strip(), True))
        else:
            out.append((m.group(2), False))
    return out

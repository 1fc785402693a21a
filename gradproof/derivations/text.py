"""A derivation as readable plain text, for the terminal (``gradproof show``).

Formulas and the ``$…$`` mathematics of reasons go through one printer
(:mod:`gradproof.derivations.textprint`), every line is fitted to the width
(:mod:`gradproof.derivations.wrap`), and with ``ascii=True`` everything is spelled in ASCII
before it is laid out (:func:`gradproof.console.to_ascii`), for terminals that cannot encode
Unicode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gradproof.console import DEFAULT_WIDTH, to_ascii
from gradproof.derivations import markup, texmath
from gradproof.derivations.textprint import ordered_terms, pretty, prose
from gradproof.derivations.wrap import wrap

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

__all__ = ["ordered_terms", "pretty", "prose", "render_text"]

_REL = {"=": "=", ">=": "≥", "<=": "≤", ">": ">", "<": "<", "!=": "≠", "=>": "⇒"}
#: a continuation line of a formula starts under its right-hand side unless that is further right
#: than this share of the width
_HANGING_SHARE = 0.45
#: the indent of a continuation step under a left-hand side too long to align with
_HANG = 12


def _align_limit(width: int) -> int:
    """Repeated left-hand sides up to this many columns keep the relations aligned."""
    return max(_HANG, min(24, width // 4))


#: joins what must stay on one line (1 ≤ i ≤ n); printed as a plain space
_NBSP = "\u00a0"
#: a protected formula inside prose longer than this may break
_SHORT_FORMULA = 40


class _Layout:
    def __init__(self, width: int, ascii: bool) -> None:
        self.width = width
        self.ascii = ascii
        self.lines: list[str] = []

    def spell(self, text: str) -> str:
        if not self.ascii:
            return text
        return _NBSP.join(to_ascii(part) for part in text.split(_NBSP))

    def blank(self) -> None:
        self.lines.append("")

    def line(self, text: str) -> None:
        self.lines += wrap(self.spell(text), self.width)

    def prose(self, text: str, first: str = "", rest: str = "") -> None:
        """Marked-up prose, wrapped; short formulas kept on one line."""
        out, spans = [], []
        for seg in markup.segments(text):
            piece = self.spell(texmath.to_text(seg.value) if seg.kind == "math" else seg.value)
            start = sum(len(p) for p in out)
            if seg.kind == "math" and len(piece) <= _SHORT_FORMULA:
                spans.append((start, start + len(piece)))
            out.append(piece)
        self.lines += wrap("".join(out), self.width, first_indent=first, rest_indent=rest, protected=spans)

    def formula(self, head: str, text: str, *, indent: str = "  ") -> None:
        """``head`` (e.g. ``"s_i := "``) and a formula, continuation lines hanging under the formula."""
        head, text = self.spell(head), self.spell(text)
        blank = len(head) - len(head.lstrip(" "))  # a repeated left-hand side, shown as spaces
        indent, head = indent + " " * blank, head[blank:]
        hang = len(indent) + len(head)
        # (continuation lines are blank where the first has its step number)
        rest = " " * hang if hang <= _HANGING_SHARE * self.width else " " * (len(indent) + 6)
        self.lines += wrap(head + text, self.width, first_indent=indent, rest_indent=rest, math=True)


def _scalar(value: float) -> str:
    value = float(value) + 0.0  # no "-0"
    whole = round(value)
    if 1e3 <= abs(value) < 1e18 and abs(value - whole) <= 1e-9 * abs(value):
        text = f"{whole:,}"
    else:
        text = f"{value:.4g}"
    if text in ("-0", "0"):
        return "0"
    return "−" + text[1:] if text.startswith("-") else text  # the formulas' minus sign


def _value_lines(prefix: str, value: Any, width: int, ascii: bool) -> list[str]:
    """``prefix`` and a value: a scalar, or an array whose rows line up under its first row."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        indent = prefix[: len(prefix) - len(prefix.lstrip(" "))]
        text = prefix.lstrip(" ") + _scalar(arr)
        return wrap(to_ascii(text) if ascii else text, width, first_indent=indent, rest_indent=indent + "    ")
    if arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)) and np.max(np.abs(arr)) < 1e15:
        arr = arr.astype(np.int64)  # layer widths, labels, counts: no trailing dots
    else:
        arr = arr.astype(float)
        arr = np.where(np.round(arr, 3) == 0, 0.0, arr)  # what prints as 0 prints as 0, never −0.

    def rows_after(prefix: str) -> list[str]:
        # numpy counts the prefix in max_line_width
        body = np.array2string(arr, precision=3, suppress_small=True, separator=", ",
                               max_line_width=width, prefix=" " * len(prefix))  # fmt: skip
        if not ascii:
            body = body.replace("-", "−")  # the minus sign of the formulas (and never "= -0")
        return body.splitlines()

    head: list[str] = []
    rows = [] if len(prefix) > _HANGING_SHARE * width else rows_after(prefix)
    matrix_rows = int(np.prod(arr.shape[:-1])) if arr.ndim >= 1 else 1
    if not rows or (arr.ndim <= 2 and len(rows) > matrix_rows):
        # a long label, or one that leaves too little room for a row: the value on lines of its own
        head, prefix = [prefix.rstrip()], " " * 8
        rows = rows_after(prefix)
    out = head + [prefix + rows[0]] + [row for row in rows[1:]]
    return [line if len(line) <= width else line[:width] for line in out]


def _statement(d: Derivation) -> tuple[str, str]:
    """Head and body of the statement: ``lhs rel `` and ``rhs`` for a relation; for a compound
    statement (and, implies, iff, exists) no head and the whole statement."""
    if isinstance(d.statement, sp.Rel):
        rel = _REL.get(d.statement.rel_op.replace("==", "="), d.statement.rel_op)
        return f"{pretty(d.statement.lhs)} {rel} ", pretty(d.statement.rhs)
    return "", pretty(d.statement)


def render_text(d: Derivation, *, width: int = DEFAULT_WIDTH, ascii: bool = False) -> str:
    """The derivation as text lines of at most ``width`` code points (ASCII only with ``ascii``)."""
    out = _Layout(width, ascii)
    heading = out.spell(f"{d.title}  [{d.name}]")
    out.line(heading)
    out.lines.append("=" * min(width, len(heading)))
    out.blank()
    out.prose(d.summary)
    out.blank()
    if d.definitions:
        out.lines.append("Definitions:")
        for df in d.definitions:
            if df.expr is None:
                continue
            target = df.target[df.index] if isinstance(df.target, sp.IndexedBase) else df.target
            out.formula(f"{pretty(target)} := ", pretty(df.expr))
        out.blank()
    if d.assumptions or d.index_ranges:
        out.lines.append("Assumptions:")
        for a in d.assumptions:
            if not a.text:  # a predicate for the prover only
                continue
            out.prose(a.text, "  - ", "    ")
        ranges = sorted({_NBSP.join((pretty(d.index_range(i)[0]), "≤", pretty(i), "≤", pretty(d.index_range(i)[1])))
                         for i in d.index_ranges})
        if ranges:
            out.prose(f"indices in range: {', '.join(ranges)}", "  - ", "    ")
        out.blank()
    head, body = _statement(d)
    out.lines.append("Statement:")
    out.formula(head, body)
    out.blank()
    out.lines.append("Steps:")
    previous = None
    for k, st in enumerate(d.steps, 1):
        left = pretty(st.lhs)
        # a repeated left-hand side becomes spaces as wide as it is printed (in ASCII too), so the
        # relations line up; a long one hangs by a fixed indent instead of pushing the formula right
        columns = len(out.spell(left))
        shown = left if st.lhs != previous else " " * (columns if columns <= _align_limit(width) else _HANG)
        out.formula(f"{shown} {_REL[st.relation]} ", pretty(st.rhs), indent=f"  {k:>2}. ")
        out.prose(st.reason, "      because: ", " " * 15)
        previous = st.lhs
    if d.examples:
        out.blank()
        out.line("Worked examples (computed from the derived expressions):")
        for ex in d.examples:
            out.prose(ex.title, "  ", "    ")
            for name, value in ex.inputs.items():
                out.lines += _value_lines(out.spell(f"    {name} = "), value, width, ascii)
            for name, value in ex.values.items():
                out.lines += _value_lines(out.spell(f"    → {name} = "), value, width, ascii)
            if ex.note:
                out.prose(f"({ex.note})", "    ", "     ")
    if d.notes:
        out.blank()
        out.lines.append("Notes:")
        for note in d.notes:
            out.prose(note, "  - ", "    ")
    return "\n".join(out.lines).replace(_NBSP, " ")

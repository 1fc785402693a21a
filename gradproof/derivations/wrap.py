"""Lines of terminal text fitted to a width, broken where a reader expects a break.

Formulas break before a top-level ``+``, ``−`` or relation (never inside brackets when there is
another choice); prose breaks between words and keeps a short formula on one line.  A piece with
no break point at all is cut at the width, so no line is ever longer than asked.

>>> for line in wrap("a = b + c + d", 9, rest_indent="    ", math=True):
...     print(line)
a = b + c
    + d
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_OPEN, _CLOSE = "([{⟨⌊⌈", ")]}⟩⌋⌉"
_OPERATOR_AHEAD = re.compile(r"(?:[+−\-=<>≤≥≠≈→←∈·×⊙]|<=|>=|!=|->|<-|~|\|->) ")
#: an operator break is taken only when the line is at least this full
_FULL_ENOUGH = 0.55


def _break_points(text: str, math: bool, protected: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(index of a space, quality): 3 before a top-level operator (formulas), 2 a top-level space,
    1 a space inside brackets or inside a protected span (a short formula within prose)."""
    out, depth = [], 0
    for k, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == " ":
            inside = any(a <= k < b for a, b in protected)
            if depth > 0 or inside:
                quality = 1
            elif math and _OPERATOR_AHEAD.match(text, k + 1):
                quality = 3
            else:
                quality = 2
            out.append((k, quality))
    return out


def wrap(
    text: str,
    width: int,
    *,
    first_indent: str = "",
    rest_indent: str = "",
    math: bool = False,
    protected: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """``text`` as lines of at most ``width`` code points, the first starting with
    ``first_indent``, the others with ``rest_indent``.  ``math``: prefer breaks before operators.
    ``protected``: (start, end) spans of ``text`` to keep on one line where possible."""
    lines: list[str] = []
    indent = first_indent
    offset = 0  # position of ``rest`` in ``text``, to map protected spans
    rest = text.strip(" ")
    offset = len(text) - len(text.lstrip(" "))
    while True:
        room = max(1, width - len(indent))
        if len(rest) <= room:
            lines.append(indent + rest)
            return lines
        spans = [(a - offset, b - offset) for a, b in protected]
        points = [(k, q) for k, q in _break_points(rest, math, spans) if 0 < k <= room]
        cut = None
        operator = [k for k, q in points if q == 3 and k >= _FULL_ENOUGH * room]
        top = [k for k, q in points if q >= 2]
        if operator:
            cut = operator[-1]
        elif top and top[-1] >= _FULL_ENOUGH * room * (0.6 if not math else 1.0):
            cut = top[-1]
        elif points:
            cut = max(k for k, _ in points)
        if cut is None or cut == 0:
            lines.append(indent + rest[:room])  # nothing to break at: cut at the width
            consumed = room
        else:
            lines.append(indent + rest[:cut].rstrip(" "))
            consumed = cut + 1
        stripped = rest[consumed:]
        offset += consumed + (len(stripped) - len(stripped.lstrip(" ")))
        rest = stripped.lstrip(" ")
        indent = rest_indent
        if not rest:
            return lines

"""The markup of a derivation's prose: plain text with LaTeX mathematics in ``$…$`` segments.

A reason, summary, note or assumption is written once, for every output::

    "chain rule with $\\frac{d}{dx}\\log x = \\frac{1}{x}$"

LaTeX reports typeset the segments as math, Markdown keeps them for KaTeX/MathJax, and the
terminal prints them through :mod:`gradproof.derivations.texmath`.  ``\\$`` is a literal dollar
sign.  The LaTeX inside a segment is the subset :mod:`~gradproof.derivations.texmath` reads (every
command in it is known to pdflatex, KaTeX and MathJax); anything else is refused with the text
it came from, so no output ever shows raw ``\\frac``.

>>> segments("a ratio: $e^{z_i} / S$, costs \\\\$5")
[Segment(kind='text', value='a ratio: '), Segment(kind='math', value='e^{z_i} / S'), Segment(kind='text', value=', costs $5')]
"""

from __future__ import annotations

from typing import NamedTuple


class MarkupError(ValueError):
    """A prose text whose ``$…$`` segments do not parse (an unclosed ``$``, an unknown command)."""


class Segment(NamedTuple):
    kind: str  # "text" or "math"
    value: str


def segments(text: str) -> list[Segment]:
    """``text`` split into text and math segments (empty segments left out)."""
    text = str(text)
    out: list[Segment] = []
    current: list[str] = []
    math = False
    start = 0
    k = 0
    while k < len(text):
        ch = text[k]
        if ch == "\\" and k + 1 < len(text) and text[k + 1] == "$":
            # \$ is a literal dollar in text; in math it stays a LaTeX \$ command
            current.append("\\$" if math else "$")
            k += 2
            continue
        if ch == "$":
            if current:
                out.append(Segment("math" if math else "text", "".join(current)))
            elif math:
                raise MarkupError(f"empty math segment '$$' at character {k} of {text!r}")
            current = []
            math = not math
            start = k
            k += 1
            continue
        current.append(ch)
        k += 1
    if math:
        raise MarkupError(f"unclosed '$' at character {start} of {text!r} (a literal dollar is written \\$)")
    if current:
        out.append(Segment("text", "".join(current)))
    return out


def has_math(text: str) -> bool:
    return any(s.kind == "math" for s in segments(text))

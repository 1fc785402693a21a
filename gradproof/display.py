"""Tables for notebooks: Markdown and HTML, escaped, with the verdict above the table.

Result objects (a gradient check, the bias–variance experiment, the step checker's report) give
Jupyter ``_repr_markdown_`` and ``_repr_html_`` built from these, so every result reads the same
way: a verdict line first, then one table row per item.

>>> print(markdown_table(["a", "b|c"], [["1", "x*y"]]))
| a | b\\|c |
|---|---|
| 1 | x\\*y |
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#$])")


def md_escape(text: object) -> str:
    """Text for a Markdown table cell: no emphasis, links, HTML or cell breaks by accident."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, escape: bool = True) -> str:
    esc = md_escape if escape else str
    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, verdict: str = "", ok: bool | None = None,
               numeric: Sequence[int] = ()) -> str:
    """A verdict paragraph (green when ``ok``, red when not) and an escaped table; columns listed
    in ``numeric`` are right-aligned."""
    colour = {True: "#1a7f37", False: "#cf222e", None: "inherit"}[ok]
    out = []
    if verdict:
        out.append(f'<p style="font-weight:bold;color:{colour}">{html.escape(verdict)}</p>')
    if not rows:
        return "\n".join(out)
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for k, cell in enumerate(row):
            align = ' style="text-align:right"' if k in numeric else ' style="text-align:left"'
            cells.append(f"<td{align}>{html.escape(str(cell))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    return "\n".join(out)

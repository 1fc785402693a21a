"""A Beamer deck: per derivation an overview frame, step frames that reveal one step at a time,
and a frame per worked example; the figures close the deck.

``\\pause`` does not work inside ``align*`` (amsmath typesets the body twice), so every cell is
wrapped in ``\\onslide<k->{...}`` with explicit slide numbers, in ``[t]`` frames so nothing jumps.
Reasons sit under their step in a smaller grey line (``\\shortintertext``), leaving the full width
to the formula; a derivation longer than a frame's height continues on "(cont.)" frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gradproof.reports import parts
from gradproof.reports.figures import PREAMBLE as FIGURE_PREAMBLE
from gradproof.reports.figures import Figure
from gradproof.reports.fragment import escape_text, text_to_latex
from gradproof.reports.layout import StepRows, layout_steps
from gradproof.reports.tables import example_table
from gradproof.reports.verified import summary_sentences

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

PACKAGES = ("beamer", "amsmath", "amssymb", "mathtools", "graphicx", "booktabs", "pgfplots")
EQUATION_BUDGET = 30.0
#: how much of a frame's height a block of steps may take, in units of a plain formula line
FRAME_HEIGHT = 9.0


def preamble(title: str, author: str) -> str:
    return (
        "\\documentclass[11pt,aspectratio=169]{beamer}\n"
        "\\usepackage{amsmath,amssymb,mathtools}\n"
        "\\usepackage{graphicx}\n"
        "\\usepackage{booktabs}\n" + FIGURE_PREAMBLE + "\\setbeamertemplate{navigation symbols}{}\n"
        "\\setbeamercovered{invisible}\n"
        f"\\title{{{escape_text(title)}}}\n"
        f"\\author{{{escape_text(author)}}}\n"
        "\\date{}\n"
    )


def _height(step: StepRows) -> float:
    """Rough height of a laid-out step: tall lines (fractions, sums with limits) count more."""
    h = 0.8  # the reason line
    for k, piece in enumerate(step.pieces):
        text = (step.lhs if k == 0 else "") + piece
        h += 1.8 if ("\\frac" in text or "\\sum" in text or "\\prod" in text) else 1.0
    return h


def chunks(steps: list[StepRows], budget: float = FRAME_HEIGHT) -> list[list[StepRows]]:
    """Steps grouped into frames: a frame holds steps while their height fits, at most 5."""
    out: list[list[StepRows]] = [[]]
    used = 0.0
    for s in steps:
        h = _height(s)
        if out[-1] and (used + h > budget or len(out[-1]) >= 5):
            out.append([])
            used = 0.0
        out[-1].append(s)
        used += h
    return out


def _steps_align(steps: list[StepRows]) -> str:
    rows = []
    for k, s in enumerate(steps, start=1):
        on = f"\\onslide<{k}->"
        lines = [f"  {on}{{{s.lhs}}} &{on}{{{{}}{s.rel} {s.pieces[0]}}}"]
        lines += [f"  &{on}{{\\qquad {{}}{p}}}" for p in s.pieces[1:]]
        reason = f"{on}{{\\small\\color{{gray}}\\hspace*{{2em}}({s.reason})}}"
        rows.append(" \\\\\n".join(lines) + f"\n  \\shortintertext{{{reason}}}")
    return "\\begin{align*}\n" + "\n".join(rows) + "\n\\end{align*}\n"


def frames(d: Derivation, verification: Any = None) -> str:
    title = escape_text(d.title)
    overview = [f"\\begin{{frame}}[t]{{{title}}}\n", f"{{\\small {text_to_latex(d.summary)}\\par}}\n"]
    overview.append(f"\\begin{{block}}{{Statement}}\n\\[\n  {parts.statement(d, 34.0)}\n\\]\n\\end{{block}}\n")
    extra = parts.assumptions(d) + parts.definitions(d)
    if extra and len(extra) <= 2:
        overview.append("{\\small\n" + parts.itemize(extra) + "}\n")
    if verification is not None:
        overview.append(f"\\vfill{{\\scriptsize {summary_sentences(verification)}\\par}}\n")
    overview.append("\\end{frame}\n")
    out = ["".join(overview)]
    if len(extra) > 2:  # a frame of their own rather than an overfull overview
        out.append(f"\\begin{{frame}}[t]{{{title}: setting}}\n" + parts.itemize(extra) + "\\end{frame}\n")
    groups = chunks(layout_steps(d, EQUATION_BUDGET))
    for n, group in enumerate(groups):
        suffix = " (cont.)" if n else ""
        out.append(f"\\begin{{frame}}[t]{{{title}{suffix}}}\n" + _steps_align(group) + "\\end{frame}\n")
    for example in d.examples:
        out.append(f"\\begin{{frame}}[t]{{{title}: worked example}}\n" + example_table(example) + "\\end{frame}\n")
    return "\n".join(out)


def figure_frame(fig: Figure) -> str:
    tikz = fig.tikz.replace("width=0.8\\linewidth", "width=0.75\\linewidth")
    return (
        f"\\begin{{frame}}[t]{{{escape_text(fig.title)}}}\n\\centering\n"
        + "\\resizebox{!}{0.62\\textheight}{%\n"
        + tikz
        + "}\n"
        + f"\\par{{\\scriptsize {fig.caption}\\par}}\n\\end{{frame}}\n"
    )


def beamer(
    derivations: Sequence[Derivation],
    *,
    title: str,
    author: str = "",
    verifications: Mapping[str, Any] | None = None,
    figures: Sequence[Figure] = (),
) -> str:
    verifications = verifications or {}
    body = [frames(d, verifications.get(d.name)) for d in derivations]
    body += [figure_frame(f) for f in figures]
    return (
        "% Generated by gradproof (gradproof report --format beamer); edit the derivations, not this file.\n"
        + preamble(title, author)
        + "\\begin{document}\n\\begin{frame}\n\\titlepage\n\\end{frame}\n\n"
        + "\n".join(body)
        + "\n\\end{document}\n"
    )

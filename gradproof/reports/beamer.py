"""A Beamer deck: per derivation an overview frame, step frames that reveal one step at a time,
and a frame per worked example; each figure follows the first derivation it illustrates.

``\\pause`` does not work inside ``align*`` (amsmath typesets the body twice), so every cell is
wrapped in ``\\onslide<k->{...}`` with explicit slide numbers, in ``[t]`` frames so nothing jumps.
Readable from the back of a lecture hall: formulas at ``\\large`` (``\\Large`` when a frame holds a
single step, centred on the frame), reasons under their step at normal size in a dark grey
(``\\shortintertext``), leaving the full width to the formula; a derivation longer than a frame's
height continues on "(cont.)" frames.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gradproof.reports import parts
from gradproof.reports.figures import PREAMBLE as FIGURE_PREAMBLE
from gradproof.reports.figures import Figure
from gradproof.derivations.latex_text import escape_text, text_to_latex
from gradproof.derivations.layout import STACK_SHARE, StepRows, layout_steps, width
from gradproof.reports.tables import example_table
from gradproof.reports.verified import summary_sentences

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

PACKAGES = ("beamer", "amsmath", "amssymb", "mathtools", "graphicx", "booktabs", "pgfplots")
#: ems (at the body size) a formula may take on a slide: the frame's width over the \\large scale
EQUATION_BUDGET = 27.0
#: the same for a frame that holds one step, set at \\Large
SINGLE_STEP_BUDGET = 22.5
#: how much of a frame's height a block of steps may take, in units of a plain formula line
FRAME_HEIGHT = 8.0
#: formulas are set this much larger than body text (\\large: 12pt at the 11pt body size)
MATH_SCALE = 1.1
#: the reasons' colour: dark enough to read on a projector, lighter than the formulas
REASON_COLOUR = "black!75"


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


#: characters of a reason that fit on one line of a frame (\\normalsize, beside a 2em indent)
REASON_CHARS = 66
#: a summary longer than this many characters is set a size smaller on the overview frame
LONG_SUMMARY = 600
#: a frame holds at most this many steps, however short
MAX_STEPS = 5


def _reason_lines(reason: str) -> int:
    """Lines a reason takes under its step: its printed characters over a line's worth."""
    printed = re.sub(r"\\[A-Za-z]+ ?|[{}]", "", reason)
    return max(1, math.ceil(len(printed) / REASON_CHARS))


def _height(step: StepRows) -> float:
    """Rough height of a laid-out step, in plain formula lines: tall lines (fractions, sums with
    limits) count more, each line of the grey reason 0.8."""
    h = 1.0 * _reason_lines(step.reason)
    lines = ([step.lhs] if step.stacked else []) + list(step.pieces)
    for k, piece in enumerate(lines):
        text = piece + (step.lhs if k == 0 and not step.stacked else "")
        h += MATH_SCALE * (1.8 if ("\\frac" in text or "\\sum" in text or "\\prod" in text) else 1.0)
    return h


def _pack(heights: list[float], capacity: float) -> list[int]:
    """Greedy grouping: how many steps go in each frame when a frame holds ``capacity``."""
    sizes, used = [0], 0.0
    for h in heights:
        if sizes[-1] and (used + h > capacity or sizes[-1] >= MAX_STEPS):
            sizes.append(0)
            used = 0.0
        sizes[-1] += 1
        used += h
    return sizes


def chunks(steps: list[StepRows], budget: float = FRAME_HEIGHT) -> list[list[StepRows]]:
    """Steps grouped into frames: as few frames as fit ``budget`` and ``MAX_STEPS`` each, with the
    steps spread as evenly as they go (least sum of squared frame heights: no frame left with one
    lonely step while another holds five)."""
    heights = [_height(s) for s in steps]
    count, n = len(_pack(heights, budget)), len(steps)

    def fits(i: int, j: int) -> bool:  # steps i..j-1 in one frame (a single step always fits)
        return j - i == 1 or (j - i <= MAX_STEPS and sum(heights[i:j]) <= budget)

    # best[k][j]: (cost, previous cut) for the first j steps in k frames
    best: list[dict[int, tuple[float, int]]] = [{0: (0.0, 0)}]
    for k in range(1, count + 1):
        best.append({})
        for j in range(1, n + 1):
            options = [
                (best[k - 1][i][0] + sum(heights[i:j]) ** 2, i)
                for i in range(max(0, j - MAX_STEPS), j)
                if i in best[k - 1] and fits(i, j)
            ]
            if options:
                best[k][j] = min(options)
    cuts, j = [n], n
    for k in range(count, 0, -1):
        j = best[k][j][1]
        cuts.append(j)
    cuts.reverse()
    return [steps[a:b] for a, b in zip(cuts, cuts[1:])]


def _steps_align(steps: list[StepRows], budget: float = EQUATION_BUDGET) -> str:
    rows = []
    for k, s in enumerate(steps, start=1):
        on = f"\\onslide<{k}->"
        lhs = s.full_lhs if k == 1 else s.lhs  # a frame starts with its left-hand side
        if s.stacked or width(lhs) > STACK_SHARE * budget:
            lines = [f"  &{on}{{\\rlap{{$\\displaystyle {lhs}$}}}}", f"  &{on}{{{{}}{s.rel} {s.pieces[0]}}}"]
        else:
            lines = [f"  {on}{{{lhs}}} &{on}{{{{}}{s.rel} {s.pieces[0]}}}"]
        lines += [f"  &{on}{{\\qquad {{}}{p}}}" for p in s.pieces[1:]]
        reason = f"{on}{{\\normalsize\\color{{{REASON_COLOUR}}}\\hspace*{{2em}}({s.reason})}}"
        rows.append(" \\\\\n".join(lines) + f"\n  \\shortintertext{{{reason}}}")
    return "\\begin{align*}\n" + "\n".join(rows) + "\n\\end{align*}\n"


def layout_steps_one(d: Derivation, groups: list[list[StepRows]], n: int) -> list[StepRows]:
    """The step of the ``n``-th frame (a frame with one step) laid out again for the larger
    single-step size: the same step, a narrower budget in body-size ems."""
    index = sum(len(g) for g in groups[:n])
    return [layout_steps(d, SINGLE_STEP_BUDGET)[index]]


# display-style definitions are tall (sums, fractions): beyond this many a slide overflows
SETTING_ITEMS_PER_FRAME = 5


def frames(d: Derivation, verification: Any = None) -> str:
    title = escape_text(d.title)
    size = "\\small" if len(d.summary) <= LONG_SUMMARY else "\\footnotesize"  # room for the statement
    overview = [f"\\begin{{frame}}[t]{{{title}}}\n", f"{{{size} {text_to_latex(d.summary)}\\par}}\n"]
    overview.append(f"\\begin{{block}}{{Statement}}\n\\[\n  {parts.statement(d, 34.0)}\n\\]\n\\end{{block}}\n")
    extra = parts.assumptions(d) + parts.definitions(d)
    if extra and len(extra) <= 2:
        overview.append("{\\small\n" + parts.itemize(extra) + "}\n")
    if verification is not None:
        overview.append(f"\\vfill{{\\scriptsize {summary_sentences(verification)}\\par}}\n")
    overview.append("\\end{frame}\n")
    out = ["".join(overview)]
    if len(extra) > 2:  # frames of their own rather than an overfull overview
        per_frame = SETTING_ITEMS_PER_FRAME
        for n in range(0, len(extra), per_frame):
            suffix = " (cont.)" if n else ""
            items = parts.itemize(extra[n : n + per_frame], size="\\small" if len(extra) > 4 else "")
            out.append(f"\\begin{{frame}}[t]{{{title}: setting{suffix}}}\n" + items + "\\end{frame}\n")
    groups = chunks(layout_steps(d, EQUATION_BUDGET))
    for n, group in enumerate(groups):
        suffix = " (cont.)" if n else ""
        if len(group) == 1:  # one step: larger, centred on the frame
            (step,) = layout_steps_one(d, groups, n)
            body = "\\vfill{\\Large\n" + _steps_align([step], SINGLE_STEP_BUDGET) + "}\\vfill\n"
            out.append(f"\\begin{{frame}}[c]{{{title}{suffix}}}\n" + body + "\\end{frame}\n")
        else:
            body = "{\\large\n" + _steps_align(group) + "}\n"
            out.append(f"\\begin{{frame}}[t]{{{title}{suffix}}}\n" + body + "\\end{frame}\n")
    for example in d.examples:
        table = example_table(example, max_height="0.78\\textheight")
        out.append(f"\\begin{{frame}}[t]{{{title}: worked example}}\n" + table + "\\end{frame}\n")
    return "\n".join(out)


#: a caption longer than this many characters leaves the plot less of the frame
LONG_CAPTION = 300


def figure_frame(fig: Figure) -> str:
    tikz = fig.tikz.replace("width=0.8\\linewidth", "width=0.75\\linewidth")
    height = "0.62" if len(fig.caption) <= LONG_CAPTION else "0.5"
    return (
        f"\\begin{{frame}}[t]{{{escape_text(fig.title)}}}\n\\centering\n"
        + f"\\resizebox{{!}}{{{height}\\textheight}}{{%\n"
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
    body, loose = parts.with_figures(derivations, figures, lambda d: frames(d, verifications.get(d.name)), figure_frame)
    body += [figure_frame(f) for f in loose]
    return (
        "% Generated by gradproof (gradproof report --format beamer); edit the derivations, not this file.\n"
        + preamble(title, author)
        + "\\begin{document}\n\\begin{frame}\n\\titlepage\n\\end{frame}\n\n"
        + "\n".join(body)
        + "\n\\end{document}\n"
    )

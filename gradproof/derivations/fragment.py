"""Paste-ready LaTeX for one derivation: an ``align*`` with each step's reason beside it.

This is what :meth:`gradproof.derivations.model.Derivation.latex` prints; the reports build
their documents from the same rows (:func:`align_rows` over
:func:`gradproof.derivations.layout.layout_steps`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gradproof.derivations.latex import RELATION_LATEX, to_latex
from gradproof.derivations.layout import continues_lhs
from gradproof.derivations.latex_text import text_to_latex

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

#: the LaTeX packages a fragment needs
PACKAGES = ("amsmath", "amssymb", "graphicx")


def derivation_lines(d: Derivation) -> list[tuple[str, str, str, str]]:
    """(lhs, relation, rhs, reason) in LaTeX; lhs is empty when it repeats the line above."""
    lines, previous = [], None
    for step in d.steps:
        lhs = "" if continues_lhs(previous, step) else to_latex(step.lhs)
        lines.append((lhs, RELATION_LATEX[step.relation], to_latex(step.rhs), text_to_latex(step.reason)))
        previous = step
    return lines


#: width in ems that a fragment's equation (lhs, relation and rhs) may take before it is broken
FRAGMENT_BUDGET = 30.0


def _reason_text(reason: str) -> str:
    return rf"\text{{({reason})}}"


def align_rows(steps: list, *, reason: Callable[[str], str] = _reason_text) -> list[str]:
    """``align*`` rows for laid-out steps (see :mod:`gradproof.derivations.layout`): the first row of
    a step carries the reason in a third column, continuation rows start with ``+``/``−``; a
    left-hand side too wide to share a row comes on a row of its own, starting at the relations."""
    rows = []
    for s in steps:
        why = reason(s.reason)
        if s.stacked:
            rows.append(rf"  &\rlap{{$\displaystyle {s.lhs}$}}")
            rows.append(rf"  &{s.rel} {s.pieces[0]} && {why}")
        else:
            rows.append(rf"  {s.lhs} &{s.rel} {s.pieces[0]} && {why}")
        rows += [rf"  &\qquad {{}}{p}" for p in s.pieces[1:]]
    return rows


def derivation_align(d: Derivation) -> str:
    """The derivation's steps as a paste-ready ``align*`` fragment (needs amsmath, amssymb,
    graphicx); right-hand sides too long for a line are broken at their ``+``/``−``."""
    from gradproof.derivations.layout import layout_steps

    rows = align_rows(layout_steps(d, FRAGMENT_BUDGET))
    return (
        f"% gradproof: {d.name} — needs \\usepackage{{{','.join(PACKAGES)}}}\n"
        "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    )

"""Pieces every format shares: the statement, the definitions and the assumptions of a derivation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

from gradproof.derivations.latex import to_latex
from gradproof.derivations.latex_text import text_to_latex
from gradproof.derivations.layout import scaled

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation


def statement(d: Derivation, budget: float) -> str:
    """The statement as display math, scaled down only if it cannot fit."""
    return scaled(to_latex(d.statement), budget)


def definitions(d: Derivation) -> list[str]:
    """``target := expr`` in math, for each definition the author described (helper definitions
    with no text are internal to the proof)."""
    out = []
    for df in d.definitions:
        if not df.text:
            continue
        if df.expr is None:
            out.append(text_to_latex(df.text))
            continue
        target = df.target[df.index] if isinstance(df.target, sp.IndexedBase) else df.target
        out.append(f"$\\displaystyle {to_latex(target)} := {to_latex(df.expr)}$")
    return out


def assumptions(d: Derivation) -> list[str]:
    return [text_to_latex(a.text) for a in d.assumptions if a.text]


def itemize(items: list[str], *, size: str = "") -> str:
    if not items:
        return ""
    body = "\n".join(f"  \\item {it}" for it in items)
    return f"\\begin{{itemize}}{size}\n{body}\n\\end{{itemize}}\n"


def with_figures(derivations: Sequence[Derivation], figures: Sequence[Any], part: Callable[[Derivation], str],
                 figure_part: Callable[[Any], str]) -> tuple[list[str], list[Any]]:
    """Each derivation's part followed by the figures that illustrate it (a figure goes beside
    the first derivation of the report it illustrates); figures with none at the end."""
    from gradproof.reports.figures import anchor

    slugs = [d.name for d in derivations]
    placed = {slug: [f for f in figures if anchor(f, slugs) == slug] for slug in slugs}
    body = []
    for d in derivations:
        body.append(part(d))
        body += [figure_part(f) for f in placed[d.name]]
    return body, [f for f in figures if anchor(f, slugs) is None]

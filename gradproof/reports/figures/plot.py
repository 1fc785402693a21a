"""A figure as data: axes, series of computed points, reference lines, a caption.

One :class:`Plot` renders two ways — as a pgfplots ``tikzpicture`` (:mod:`.pgfplots`, for the
LaTeX reports and ``.tex`` files) and through matplotlib (:mod:`.mpl`, for ``.pdf``, ``.png``
and ``.svg``, and for notebooks) — so the two can never show different data.  Labels and
captions are LaTeX with math in ``$…$`` (matplotlib's mathtext reads the same subset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradproof.errors import InputError

#: line styles understood by both renderers
STYLES = ("line", "dashed", "dotted", "marks", "line+marks", "stems", "steps")
#: colours both renderers know (xcolor's base names; matplotlib's tab: palette)
COLORS = ("blue", "red", "black", "gray", "orange", "teal", "violet")
FORMATS = (".tex", ".pdf", ".png", ".svg")


@dataclass(frozen=True)
class Series:
    label: str  # LaTeX text, math in $…$; "" for no legend entry
    x: tuple
    y: tuple  # NaN where a value does not exist (a gap in the curve)
    style: str = "line"
    color: str = "blue"
    thick: bool = False

    def __post_init__(self) -> None:
        if self.style not in STYLES or self.color not in COLORS:
            raise ValueError(f"series {self.label!r}: style {self.style!r} or colour {self.color!r} unknown")
        x, y = np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"series {self.label!r}: x and y must be 1-D of one length")
        object.__setattr__(self, "x", tuple(x.tolist()))
        object.__setattr__(self, "y", tuple(y.tolist()))


@dataclass(frozen=True)
class RefLine:
    """A vertical (``axis="x"``) or horizontal (``axis="y"``) reference line at ``at``."""

    axis: str
    at: float
    label: str = ""


@dataclass(frozen=True)
class Plot:
    """A computed figure.  ``illustrates`` names the derivations it belongs beside in a report
    (the first one the report contains)."""

    name: str
    title: str  # plain text
    caption: str  # LaTeX text, math in $…$
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    ymode: str = "linear"
    legend: str = "north east"  # pgfplots legend position; "below" puts it under the axis
    lines: tuple[RefLine, ...] = ()
    illustrates: tuple[str, ...] = ()
    height: float = 0.45  # of the width
    notes: tuple[str, ...] = field(default_factory=tuple)  # numbers computed with the data, for tests

    # -- LaTeX ------------------------------------------------------------------------------------

    @property
    def tikz(self) -> str:
        """The figure as a ``tikzpicture`` (needs ``\\usepackage{pgfplots}``)."""
        from gradproof.reports.figures.pgfplots import render

        return render(self)

    def tex(self) -> str:
        """A ``.tex`` file: the ``tikzpicture`` with a comment naming the one package it needs."""
        return (
            f"% gradproof figure {self.name}: {self.title}\n"
            "% needs only pgfplots: \\usepackage{pgfplots} \\pgfplotsset{compat=1.16}\n" + self.tikz
        )

    # -- images -----------------------------------------------------------------------------------

    def image(self, fmt: str) -> bytes:
        """The figure as ``pdf``, ``png`` or ``svg`` bytes, drawn by matplotlib."""
        from gradproof.reports.figures.mpl import render

        return render(self, fmt)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the figure; the format follows the suffix (.tex, .pdf, .png, .svg).  The file is
        replaced atomically: a reader sees the old one or the new one, never half of one."""
        from gradproof.reports.output import check_output_path, write_atomic

        target = check_output_path(path)
        suffix = target.suffix.lower()
        if suffix not in FORMATS:
            raise InputError(
                f"{str(target)!r}: unknown figure format {suffix or '(no suffix)'!r}; use one of {', '.join(FORMATS)}"
            )
        data = self.tex() if suffix == ".tex" else self.image(suffix[1:])
        return write_atomic(target, data)

    def _repr_png_(self) -> bytes:
        return self.image("png")

    def _repr_svg_(self) -> str:
        return self.image("svg").decode("utf-8")

    def __repr__(self) -> str:
        return f"<gradproof figure {self.name!r}: {self.title}>"

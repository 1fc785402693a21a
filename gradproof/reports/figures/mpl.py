"""A :class:`~gradproof.reports.figures.plot.Plot` drawn by matplotlib, as PDF, PNG or SVG bytes.

matplotlib is optional (``pip install 'gradproof[plots]'``) and imported only here, when an image
is asked for.  The figure is built with the object-oriented API (no pyplot, no global backend:
a notebook's own plotting is left alone) and written without dates or random ids, so the same
figure gives the same bytes.
"""

from __future__ import annotations

import io
import math

from gradproof.errors import GradproofError
from gradproof.reports.figures.plot import Plot

INSTALL = "pip install 'gradproof[plots]'"
_COLOR = {"blue": "tab:blue", "red": "tab:red", "black": "black", "gray": "gray", "orange": "tab:orange",
          "teal": "tab:cyan", "violet": "tab:purple"}  # fmt: skip
_LEGEND = {"north east": "upper right", "north west": "upper left", "south east": "lower right",
           "south west": "lower left", "below": "upper center"}  # fmt: skip


class PlotsUnavailableError(GradproofError):
    """matplotlib is not installed: images cannot be drawn (the .tex form needs only pgfplots)."""


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailableError(
            f"drawing .pdf, .png or .svg figures needs matplotlib: {INSTALL} "
            "(a .tex figure needs only pgfplots, no matplotlib)"
        ) from None
    return matplotlib, Figure


def _mathtext(text: str) -> str:
    """LaTeX spellings that mathtext lacks, replaced by ones it reads."""
    import re

    text = text.replace("\\tfrac", "\\frac").replace("--", "–").replace("\\,", " ")
    return re.sub(r"\\(le|ge|ne)(?![a-z])", lambda m: "\\" + m.group(1) + "q", text)


def figure(p: Plot):
    """The matplotlib Figure (not attached to pyplot)."""
    _, Figure = _matplotlib()
    fig = Figure(figsize=(6.4, 6.4 * p.height / 0.8 * 0.8 + 0.6), layout="constrained")
    ax = fig.add_subplot()
    for s in p.series:
        kw = {"color": _COLOR[s.color], "label": _mathtext(s.label) or None, "lw": 2.6 if s.thick else 1.8}
        x, y = list(s.x), [math.nan if not math.isfinite(v) else v for v in s.y]
        if s.style == "marks":
            ax.plot(x, y, "o", ms=3, color=kw["color"], label=kw["label"])
        elif s.style == "line+marks":
            ax.plot(x, y, "o-", ms=4, **kw)
        elif s.style == "stems":
            ax.vlines(x, 0, y, color=kw["color"], label=kw["label"], lw=1.2)
        elif s.style == "steps":
            ax.plot(x, y, drawstyle="steps-post", **kw)
        else:
            ls = {"line": "-", "dashed": "--", "dotted": ":"}[s.style]
            ax.plot(x, y, ls=ls, **kw)
    for ref in p.lines:
        draw = ax.axvline if ref.axis == "x" else ax.axhline
        draw(ref.at, color="gray", ls="--", lw=1)
        if ref.label:
            if ref.axis == "x":
                ax.annotate(_mathtext(ref.label), (ref.at, 0.92), xycoords=("data", "axes fraction"), ha="right",
                            va="center", fontsize=8, xytext=(-3, 0), textcoords="offset points",
                            bbox={"fc": "white", "ec": "none", "pad": 1})
            else:
                ax.annotate(_mathtext(ref.label), (0.01, ref.at), xycoords=("axes fraction", "data"), ha="left",
                            va="bottom", fontsize=8)
    if p.ymode == "log":
        ax.set_yscale("log")
    ax.set(xlim=p.xlim, ylim=p.ylim, xlabel=_mathtext(p.xlabel), ylabel=_mathtext(p.ylabel), title=_mathtext(p.title))
    ax.grid(True, alpha=0.4)
    if any(s.label for s in p.series):
        if p.legend == "below":
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, fontsize="small")
        else:
            ax.legend(loc=_LEGEND.get(p.legend, "best"), fontsize="small")
    return fig


def render(p: Plot, fmt: str) -> bytes:
    if fmt not in ("pdf", "png", "svg"):
        raise ValueError(f"unknown image format {fmt!r}")
    matplotlib, _ = _matplotlib()
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}}[fmt]
    with matplotlib.rc_context({"svg.hashsalt": "gradproof", "svg.fonttype": "path"}):
        fig = figure(p)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, metadata=metadata)
    return buf.getvalue()

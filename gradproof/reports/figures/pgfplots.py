"""A :class:`~gradproof.reports.figures.plot.Plot` as a pgfplots ``tikzpicture``.

Only pgfplots is needed (it loads TikZ).  Coordinates are written with 6 significant digits;
NaN becomes a gap (``unbounded coords=jump``); points far outside the axis are dropped before
TeX sees them, so a wild curve (a degree-20 fit) cannot overflow TeX's arithmetic.
"""

from __future__ import annotations

import math

from gradproof.reports.figures.plot import Plot, Series

_STYLE = {
    "line": "",
    "dashed": ", dashed",
    "dotted": ", densely dotted",
    "marks": ", only marks, mark=*, mark size=1.2pt",
    "line+marks": ", mark=*, mark size=1.5pt",
    "stems": ", ycomb",
    "steps": ", const plot",
}


def _number(v: float) -> str:
    return "nan" if math.isnan(v) else f"{v:.6g}"


def _visible(p: Plot, s: Series) -> list[tuple[float, float]]:
    """Points, with those far outside the y-range (10 heights beyond it) turned into gaps."""
    lo, hi = p.ylim
    if p.ymode == "log":
        lo, hi = math.log10(lo), math.log10(hi)
    span = hi - lo
    out = []
    for x, y in zip(s.x, s.y):
        value = math.log10(y) if (p.ymode == "log" and y > 0) else y
        far = math.isnan(y) or not math.isfinite(y) or value < lo - 10 * span or value > hi + 10 * span
        out.append((x, math.nan if far else y))
    return out


def _series(p: Plot, s: Series) -> str:
    width = ", very thick" if s.thick else ", thick" if s.style not in ("marks", "stems") else ""
    coords = " ".join(f"({_number(x)},{_number(y)})" for x, y in _visible(p, s))
    legend = f"\\addlegendentry{{{s.label}}}\n" if s.label else ""
    forget = "" if s.label else ", forget plot"
    return f"\\addplot[{s.color}{width}{_STYLE[s.style]}{forget}] coordinates {{{coords}}};\n{legend}"


def _line(p: Plot, axis: str, at: float, label: str) -> str:
    if axis == "x":
        a, b = f"(axis cs:{_number(at)},{_number(p.ylim[0])})", f"(axis cs:{_number(at)},{_number(p.ylim[1])})"
        node = f" node[pos=0.92, left, font=\\scriptsize, fill=white, inner sep=1pt] {{{label}}}" if label else ""
    else:
        a, b = f"(axis cs:{_number(p.xlim[0])},{_number(at)})", f"(axis cs:{_number(p.xlim[1])},{_number(at)})"
        node = f" node[pos=0.02, above right, font=\\scriptsize, inner sep=1pt] {{{label}}}" if label else ""
    return f"\\draw[gray, dashed] {a} -- {b}{node};\n"


def render(p: Plot) -> str:
    options = [
        f"width=0.8\\linewidth, height={p.height}\\linewidth",
        f"xmin={_number(p.xlim[0])}, xmax={_number(p.xlim[1])}, ymin={_number(p.ylim[0])}, ymax={_number(p.ylim[1])}",
        f"xlabel={{{p.xlabel}}}, ylabel={{{p.ylabel}}}",
        "grid=major, unbounded coords=jump, legend cell align=left",
    ]
    if p.ymode == "log":
        options.append("ymode=log")
    if p.legend == "below":
        options.append("legend columns=2, legend style={font=\\small, at={(0.5,-0.25)}, anchor=north}")
    else:
        options.append(f"legend pos={p.legend}, legend style={{font=\\small}}")
    body = "".join(_series(p, s) for s in p.series)
    body += "".join(_line(p, ref.axis, ref.at, ref.label) for ref in p.lines)
    return (
        "\\begin{tikzpicture}\n\\begin{axis}[" + ",\n  ".join(options) + "]\n" + body + "\\end{axis}\n\\end{tikzpicture}\n"
    )

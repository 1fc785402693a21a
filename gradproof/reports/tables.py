"""Worked examples as ``booktabs`` tables: inputs above the rule, computed values below."""

from __future__ import annotations

import re

import numpy as np

from gradproof.derivations.latex_text import text_to_latex

#: entries of a vector shown before the rest is elided
MAX_ENTRIES = 8


def _grouped(n: int) -> str:
    """An integer with thousands separators that math mode does not space out: ``1{,}203{,}400``."""
    return f"{n:,}".replace(",", "{,}")


def _num(x: float) -> str:
    x = float(x)
    if x == 0:
        return "0"
    text = f"{x:.4g}"
    n = round(x)
    if abs(x - n) <= 1e-12 * abs(x) and abs(x) < 1e15:  # counts and sizes are shown exactly
        if abs(n) < 10**7 or float(text) != n:
            return _grouped(n)
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}\\times 10^{{{int(exp)}}}"
    return text


def value_latex(value) -> str:
    """A scalar, vector or matrix as inline math."""
    from gradproof.derivations.markdown import without_roundoff

    arr = without_roundoff(value)
    if arr.ndim == 0:
        return f"${_num(arr)}$"
    if arr.ndim == 1:
        entries = [_num(v) for v in arr[:MAX_ENTRIES]]
        if arr.size > MAX_ENTRIES:
            entries.append(f"\\ldots\\ (\\text{{{arr.size} entries}})")
        return "$(" + ",\\ ".join(entries) + ")$"
    if arr.ndim == 2 and arr.shape[0] <= MAX_ENTRIES and arr.shape[1] <= MAX_ENTRIES:
        body = " \\\\ ".join(" & ".join(_num(v) for v in row) for row in arr)
        return f"$\\begin{{pmatrix}} {body} \\end{{pmatrix}}$"
    shape = "$\\times$".join(str(s) for s in arr.shape)
    return f"array of shape {shape}"


_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi")
_SYMBOL = re.compile(rf"(?P<base>[A-Za-z]|{'|'.join(_GREEK)})(?P<hat>_?hat)?(?:_(?P<sub>[A-Za-z0-9]+))?")
#: a label longer than this many characters wraps in a column of its own width
LONG_LABEL = 30
#: a title longer than this many characters wraps
LONG_TITLE = 60


def label_latex(label: str) -> str:
    """A quantity's label: a bare symbol such as ``z``, ``eta``, ``y_hat`` or ``x_k`` in math, prose
    as text."""
    m = _SYMBOL.fullmatch(label)
    if m is None:
        return text_to_latex(label)
    base = m.group("base")
    tex = f"\\{base}" if base in _GREEK else base
    if m.group("hat"):
        tex = f"\\hat{{{tex}}}"
    return f"${tex}_{{{m.group('sub')}}}$" if m.group("sub") else f"${tex}$"


def _label_cell(label: str) -> str:
    tex = label_latex(label)
    if len(label) > LONG_LABEL:
        return f"\\parbox[t]{{0.4\\linewidth}}{{\\raggedright {tex}}}"
    return tex


def example_table(example, *, size: str = "\\small", max_height: str = "") -> str:
    """One worked example: a title line, a two-column table, the note in italics.  Long titles and
    labels wrap; a table still wider than the line (a wide matrix) is shrunk to the line by TeX,
    and one taller than ``max_height`` (a TeX length, for slides) to that height."""
    rows = [f"  {_label_cell(k)} & {value_latex(v)} \\\\" for k, v in example.inputs.items()]
    out_rows = [f"  {_label_cell(k)} & {value_latex(v)} \\\\" for k, v in example.values.items()]
    title = f"\\textbf{{{text_to_latex(example.title)}}}"
    if len(example.title) > LONG_TITLE:
        title = f"\\parbox[t]{{0.8\\linewidth}}{{\\raggedright {title}}}"
    lines = [
        "\\begin{center}",
        f"{size}",
        *(
            [f"\\resizebox*{{!}}{{\\ifdim\\totalheight>{max_height} {max_height}\\else\\totalheight\\fi}}{{%"]
            if max_height
            else []
        ),
        "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%",
        "\\begin{tabular}{@{}ll@{}}",
        "\\toprule",
        f"\\multicolumn{{2}}{{@{{}}l@{{}}}}{{{title}}} \\\\",
        "\\midrule",
        *rows,
        "\\midrule",
        *out_rows,
        "\\bottomrule",
        "\\end{tabular}}" + ("}" if max_height else ""),
    ]
    if example.note:
        lines.append(f"\\\\[2pt] {{\\footnotesize\\itshape {text_to_latex(example.note)}}}")
    lines.append("\\end{center}")
    return "\n".join(lines) + "\n"

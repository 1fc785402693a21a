"""Worked examples as ``booktabs`` tables: inputs above the rule, computed values below."""

from __future__ import annotations

import re

import numpy as np

from gradproof.reports.fragment import text_to_latex

#: entries of a vector shown before the rest is elided
MAX_ENTRIES = 8


def _num(x: float) -> str:
    x = float(x)
    if x == 0:
        return "0"
    text = f"{x:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}\\times 10^{{{int(exp)}}}"
    return text


def value_latex(value) -> str:
    """A scalar, vector or matrix as inline math."""
    arr = np.asarray(value, dtype=float)
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


def label_latex(label: str) -> str:
    """A quantity's label: a bare symbol such as ``z`` or ``y_hat`` in math italic, prose as text."""
    if re.fullmatch(r"[A-Za-z](_[A-Za-z0-9]+)?", label):
        base, _, sub = label.partition("_")
        return f"${base}_{{{sub}}}$" if sub else f"${base}$"
    return text_to_latex(label)


def example_table(example, *, size: str = "\\small") -> str:
    """One worked example: a title line, a two-column table, the note in italics."""
    rows = [f"  {label_latex(k)} & {value_latex(v)} \\\\" for k, v in example.inputs.items()]
    out_rows = [f"  {label_latex(k)} & {value_latex(v)} \\\\" for k, v in example.values.items()]
    lines = [
        "\\begin{center}",
        f"{size}",
        "\\begin{tabular}{@{}ll@{}}",
        "\\toprule",
        f"\\multicolumn{{2}}{{@{{}}l}}{{\\textbf{{{text_to_latex(example.title)}}}}} \\\\",
        "\\midrule",
        *rows,
        "\\midrule",
        *out_rows,
        "\\bottomrule",
        "\\end{tabular}",
    ]
    if example.note:
        lines.append(f"\\\\[2pt] {{\\footnotesize\\itshape {text_to_latex(example.note)}}}")
    lines.append("\\end{center}")
    return "\n".join(lines) + "\n"

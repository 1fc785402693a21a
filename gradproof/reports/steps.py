"""A checked derivation, typeset: the user's own rows with a mark in the margin of each (✓ proved,
≈ checked at points, ✗ wrong), and under the first wrong row its counterexample and the likely
slip — what a TA hands back.

The rows are the user's LaTeX as written (labels and tags give way to the marks); argument-free
and argument-taking ``\\newcommand`` s of the file come along so the rows compile as they did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradproof.derivations.latex_text import escape_text

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.steps.result import StepReport, StepResult
    from gradproof.steps.source import Source

PREAMBLE = (
    "\\documentclass[11pt]{article}\n"
    "\\usepackage[a4paper,margin=2.2cm]{geometry}\n"
    "\\usepackage{amsmath,amssymb,amsfonts}\n"
    "\\usepackage[dvipsnames]{xcolor}\n"
    "\\allowdisplaybreaks\n"
    "\\setlength{\\parindent}{0pt}\n"
    "\\setlength{\\parskip}{4pt}\n"
    "\\newcommand{\\gpok}{\\textcolor{ForestGreen}{$\\checkmark$\\,proved}}\n"
    "\\newcommand{\\gpchecked}{\\textcolor{NavyBlue}{$\\approx$\\,checked at points}}\n"
    "\\newcommand{\\gpwrong}{\\textcolor{BrickRed}{$\\times$\\,wrong}}\n"
    "\\newcommand{\\gpunknown}{\\textcolor{BrickRed}{?\\,not established}}\n"
    "\\newcommand{\\gpdef}{\\textcolor{Gray}{definition}}\n"
)
_MARK = {"proved": "\\gpok", "checked": "\\gpchecked", "failed": "\\gpwrong", "unestablished": "\\gpunknown",
         "defined": "\\gpdef"}  # fmt: skip
_RANK = {"failed": 4, "unestablished": 3, "checked": 2, "proved": 1, "defined": 0}
# commands in a row that give way to the mark (a row takes one tag)
_ROW_DROPS = ("\\tag*", "\\tag", "\\label", "\\nonumber", "\\notag")


def steps_document(source: Source, report: StepReport) -> str:
    """The LaTeX document for a file that was read (``report.error`` is None)."""
    from gradproof.steps.tokens import block_rows

    by_line: dict[int, list[StepResult]] = {}
    for s in report.steps:
        by_line.setdefault(s.line, []).append(s)
    first = report.first_failure
    body = [_summary(report)]
    if source.directives:
        body.append("\\paragraph{Declarations.}\n\\begin{itemize}\n" + "".join(
            f"  \\item \\texttt{{{escape_text(d.keyword + ' ' + d.rest)}}}\n" for d in source.directives
        ) + "\\end{itemize}\n")  # fmt: skip
    for number, block in enumerate(source.blocks):
        rows = block_rows(source, block)
        if not rows:
            continue
        lines, note_after = [], ""
        pending_note = ""
        for row in rows:
            line, _ = source.position(row.offset)
            results = by_line.pop(line, [])
            tex = pending_note + _row_tex(source, row)
            pending_note = ""
            if results:
                worst = max(results, key=lambda r: _RANK[r.status])
                lines.append(f"  {tex} \\tag*{{{_MARK[worst.status]}}}")
                if first is not None and first in results:  # the note opens the next row (amsmath)
                    pending_note = "\\intertext{" + _failure_note(first) + "}\n  "
            else:
                lines.append(f"  {tex} \\notag")
        if pending_note:  # the last row failed: the note goes under the display
            note_after = "\\par " + pending_note.replace("\\intertext", "", 1).strip() + "\n"
        body.append(f"% block {number + 1}, line {source.position(block.start)[0]}\n"
                    "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n" + note_after)  # fmt: skip
    for w in report.warnings:
        body.append(f"\\textcolor{{Gray}}{{\\small warning: {escape_text(w)}}}\n")
    return (
        PREAMBLE + _user_macros(source) + f"\\title{{Checked: {escape_text(_short(report.file))}}}\n\\date{{}}\n"
        "\\begin{document}\n\\maketitle\n" + "\n".join(body) + "\\end{document}\n"
    )


def _short(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _summary(report: StepReport) -> str:
    proved = sum(s.status == "proved" for s in report.steps)
    checked = sum(s.status == "checked" for s in report.steps)
    bad = [s for s in report.steps if not s.ok]
    relations = sum(s.status != "defined" for s in report.steps)
    if not bad:
        head = f"All {relations} steps hold: {proved} proved symbolically"
        head += f", {checked} checked at exact random points (not proved)." if checked else "."
    else:
        head = (f"{len(bad)} of {relations} steps do not hold; the first wrong step is on line "
                f"{bad[0].line} of the file.")  # fmt: skip
    legend = ("Marks: \\gpok{} (for every size), \\gpchecked{} (exact random points, not a proof), "
              "\\gpwrong{} (a counterexample), \\gpunknown{}.")  # fmt: skip
    return f"\\textbf{{{escape_text(head)}}}\\par\n{{\\small {legend}}}\n"


def _failure_note(step: StepResult) -> str:
    parts = []
    if step.counterexample is not None:
        ce = step.counterexample
        where = [f"${_name(k)} = {v}$" for k, v in {**ce["sizes"], **ce["indices"]}.items()]
        values = [f"${_name(k)} = {_number(v)}$" for k, v in ce["values"].items()]
        if len(values) > 10:
            values = values[:10] + [f"\\ldots{{}} ({len(ce['values']) - 10} more)"]
        parts.append(
            "\\textcolor{BrickRed}{\\textbf{Counterexample:}} at " + ", ".join(where + values)
            + f": left side ${_number(ce['lhs'])}$, right side ${_number(ce['rhs'])}$."
        )  # fmt: skip
    else:
        parts.append("\\textcolor{BrickRed}{\\textbf{Not established:}} " + escape_text(step.detail) + ".")
    if step.diagnosis is not None:
        parts.append(f"\\textbf{{Likely slip ({escape_text(step.diagnosis['kind'])}):}} " + _with_math(step.diagnosis["text"]))
    # \\newline, not \\\\ (which ends an align row, even inside \\intertext) nor \\par (refused there)
    return "\\small " + "\\newline ".join(parts)


def _with_math(text: str) -> str:
    """Diagnosis text: ``$…$`` pieces are LaTeX gradproof printed; the rest (and `code`) is escaped."""
    out, math = [], False
    for piece in text.split("$"):
        out.append(f"${piece}$" if math else _code(piece))
        math = not math
    return "".join(out)


def _code(text: str) -> str:
    out, code = [], False
    for piece in text.split("`"):
        out.append(f"\\texttt{{{escape_text(piece)}}}" if code else escape_text(piece))
        code = not code
    return "".join(out)


def _name(key: str) -> str:
    """A counterexample name (``z_1``, ``W_{1,2}``, ``lambda``, ``\\hat{y}``) in math mode."""
    from gradproof.steps.tokens import GREEK

    base, sep, rest = key.partition("_")
    if base in GREEK:
        base = "\\" + base
    return f"{base}_{{{rest.strip('{}')}}}" if sep else base


def _number(value: str) -> str:
    text = str(value)
    if "/" in text:
        num, den = text.split("/", 1)
        sign = "-" if num.startswith("-") else ""
        return f"{sign}\\tfrac{{{num.lstrip('-')}}}{{{den}}}"
    return text


def _row_tex(source: Source, row: object) -> str:
    """The row's LaTeX as written, without tags and labels (the mark takes the tag's place)."""
    from gradproof.steps.tokens import lex

    start, end = row.offset, row.end
    text = source.clean[start:end]
    tokens = lex(source, start, end)
    cuts = []
    for k, t in enumerate(tokens):
        if t.type == "CMD" and t.value in _ROW_DROPS:
            stop = t.end_pos
            if t.value in ("\\tag", "\\tag*", "\\label") and k + 1 < len(tokens) and tokens[k + 1].type == "LBRACE":
                depth = 0
                for q in range(k + 1, len(tokens)):
                    depth += tokens[q].type == "LBRACE"
                    depth -= tokens[q].type == "RBRACE"
                    if depth == 0:
                        stop = tokens[q].end_pos
                        break
            cuts.append((t.start_pos - start, stop - start))
    for a, b in reversed(cuts):
        text = text[:a] + text[b:]
    return " ".join(text.split())


def _user_macros(source: Source) -> str:
    """The file's own ``\\newcommand`` s, so its rows compile here as they did there."""
    out = []
    for macro in source.macros.values():
        args = f"[{macro.arguments}]" if macro.arguments else ""
        out.append(f"\\providecommand{{{macro.name}}}{args}{{{macro.body}}}\n")
    return "".join(out)

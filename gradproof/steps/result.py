"""What checking a file's steps found: one :class:`StepResult` per relation, gathered in a
:class:`StepReport` (``.ok``, ``.steps``, ``.first_failure``, a readable ``str``, ``as_json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradproof.steps.errors import StepsSyntaxError

HOLDS = ("proved", "checked", "defined")
MARKS = {"proved": "✓", "checked": "≈", "failed": "✗", "unestablished": "✗", "defined": "·"}
WORDS = {
    "proved": "proved",
    "checked": "checked at points, not proved",
    "failed": "FAILED",
    "unestablished": "not established",
    "defined": "definition",
}


@dataclass
class StepResult:
    """One relation of the file: where it is, what it states, and how it fared.

    ``status``: ``proved`` (SymPy showed it for symbolic sizes), ``checked`` (it holds at exact
    random points, not proved), ``failed`` (a point where the sides differ), ``unestablished``
    (neither shown nor evaluable) or ``defined`` (a first row ``L = …`` that defines L)."""

    line: int
    status: str
    latex: str
    detail: str = ""
    follows_from_last_correct: bool | None = None
    counterexample: dict | None = None
    diagnosis: dict | None = None
    column: int = 1

    @property
    def ok(self) -> bool:
        return self.status in HOLDS

    def as_json(self, *, after_failure: bool) -> dict:
        out: dict[str, Any] = {"line": self.line, "status": self.status, "latex": self.latex}
        if after_failure and self.follows_from_last_correct is not None:
            out["follows_from_last_correct"] = self.follows_from_last_correct
        return out


@dataclass
class StepReport:
    """The verdict on one file (or string) of hand-written steps."""

    file: str
    steps: list[StepResult] = field(default_factory=list)
    error: StepsSyntaxError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every row holds (proved, checked at points, or a definition), and the file was read."""
        return self.error is None and all(s.ok for s in self.steps)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 2
        return 0 if self.ok else 1

    def as_json(self) -> dict:
        first = self.first_failure
        index = self.steps.index(first) if first is not None else len(self.steps)
        failure = None
        if first is not None:
            failure = first.as_json(after_failure=False)
            failure["counterexample"] = first.counterexample
            failure["diagnosis"] = first.diagnosis
        return {
            "file": self.file,
            "ok": self.ok,
            "error": self.error.as_json() if self.error is not None else None,
            "steps": [s.as_json(after_failure=k > index) for k, s in enumerate(self.steps)],
            "first_failure": failure,
        }

    def __str__(self) -> str:
        if self.error is not None:
            return f"{self.error}"
        lines = []
        proved = sum(s.status == "proved" for s in self.steps)
        checked = sum(s.status == "checked" for s in self.steps)
        defined = sum(s.status == "defined" for s in self.steps)
        bad = [s for s in self.steps if not s.ok]
        relations = len(self.steps) - defined
        if not bad:
            head = f"{self.file}: all {relations} step(s) hold — {proved} proved"
            head += f", {checked} checked at points (not proved)" if checked else ""
        else:
            head = (f"{self.file}: {len(bad)} of {relations} step(s) do not hold; "
                    f"first wrong step: line {bad[0].line}")  # fmt: skip
        lines.append(head)
        first = self.first_failure
        seen_failure = False
        for s in self.steps:
            word = WORDS[s.status]
            lines.append(f"  line {s.line:>4}  {MARKS[s.status]} {word:<29}  {s.latex}")
            if s is first:
                seen_failure = True
                lines += _failure_lines(s)
                continue
            if seen_failure and s.follows_from_last_correct is not None:
                lines.append("              " + ("follows from the last correct step" if s.follows_from_last_correct
                                                  else "does not follow from the last correct step either"))  # fmt: skip
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        return "\n".join(lines)


    # -- notebooks: the verdict first, then one row per step -------------------------------------

    _HEADERS = ("line", "verdict", "step", "details")

    def _rows(self) -> list[list[str]]:
        first = self.first_failure
        rows = []
        for s in self.steps:
            details = " ".join(line.strip() for line in _failure_lines(s)) if s is first else ""
            if first is not None and s is not first and s.follows_from_last_correct is not None:
                details = ("follows from the last correct step" if s.follows_from_last_correct
                           else "does not follow from the last correct step either")
            rows.append([str(s.line), f"{MARKS[s.status]} {WORDS[s.status]}", s.latex, details])
        return rows

    def _repr_markdown_(self) -> str:
        from gradproof.display import markdown_table, md_escape

        head = str(self).splitlines()[0] if self.error is None else str(self.error)
        out = f"**{md_escape(head)}**\n\n"
        if self.error is None:
            out += markdown_table(self._HEADERS, self._rows()) + "\n"
        out += "".join(f"\n- warning: {md_escape(w)}" for w in self.warnings)
        return out

    def _repr_html_(self) -> str:
        from gradproof.display import html_table

        head = str(self).splitlines()[0] if self.error is None else str(self.error)
        rows = self._rows() if self.error is None else []
        return html_table(self._HEADERS, rows, verdict=head, ok=self.ok, numeric=(0,))


def _failure_lines(s: StepResult) -> list[str]:
    out = []
    if s.counterexample is not None:
        out.append("              counterexample: " + format_counterexample(s.counterexample))
    elif s.detail:
        out.append(f"              {s.detail}")
    if s.diagnosis is not None:
        out.append(f"              likely slip ({s.diagnosis['kind']}): {s.diagnosis['text']}")
    return out


def format_counterexample(ce: dict) -> str:
    parts = [f"{k} = {v}" for k, v in {**ce["sizes"], **ce["indices"]}.items()]
    values = [f"{k} = {v}" for k, v in ce["values"].items()]
    if len(values) > 8:
        values = values[:8] + [f"… ({len(ce['values']) - 8} more)"]
    where = ", ".join(parts + values)
    return f"at {where}: left side {ce['lhs']}, right side {ce['rhs']}"

"""Helpers for the step-checker tests: a LaTeX fragment with declarations, and its statuses."""

from __future__ import annotations

from gradproof.steps.check import check_steps


def tex(body: str, *declarations: str) -> str:
    """An ``align*`` around ``body`` with ``% gradproof:`` lines before it."""
    head = "".join(f"% gradproof: {d}\n" for d in declarations)
    return f"{head}\\begin{{align*}}\n{body}\n\\end{{align*}}\n"


def statuses(body: str, *declarations: str) -> list[str]:
    report = check_steps(tex(body, *declarations))
    assert report.error is None, str(report.error)
    return [s.status for s in report.steps]


def holds(body: str, *declarations: str) -> bool:
    """Every relation of ``body`` proved or checked."""
    return all(s in ("proved", "checked", "defined") for s in statuses(body, *declarations))


def fails(body: str, *declarations: str) -> bool:
    """Some relation of ``body`` failed."""
    return "failed" in statuses(body, *declarations)

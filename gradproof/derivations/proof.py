"""The record of a proof: how each step of a derivation was established.

Plain data without SymPy (a step's counterexample holds SymPy values, but only a failed proof
made here has one), so that a verification read back from the result cache imports no SymPy.
:mod:`gradproof.derivations.prove` makes these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHOWN = "shown symbolically"
CHECKED = "checked at exact random points"
FAILED = "failed"


class UndefinedPoint(Exception):
    """Raised by a derivation's ``substitute`` where a side of a step has no value at a point (a
    division by zero, 0/0, the log of 0): the claim says nothing there, so
    :func:`gradproof.derivations.prove.check_at_points` leaves that one point out (and says so)."""


@dataclass(frozen=True)
class Counterexample:
    """Where the two sides of a step differ: the sizes, free-index values and exact input values
    of the point, and the value of each side there."""

    sizes: dict
    indices: dict
    values: dict
    lhs: Any
    rhs: Any


@dataclass(frozen=True)
class StepRecord:
    """How one step was established: ``method`` is SHOWN, CHECKED or FAILED.  A FAILED step
    whose sides were found to differ carries the ``counterexample``; without one it could not
    be evaluated."""

    index: int
    reason: str
    method: str
    detail: str
    counterexample: Counterexample | None = None

    @property
    def ok(self) -> bool:
        return self.method != FAILED

    def __str__(self) -> str:
        mark = "ok " if self.ok else "FAIL"
        from gradproof.derivations.textprint import prose

        return f"  [{mark}] step {self.index}: {self.method} — {self.detail}  ({prose(self.reason)})"


@dataclass(frozen=True)
class ProofResult:
    """The outcome of :meth:`Derivation.prove`: ``ok`` when every step holds."""

    name: str
    steps: tuple[StepRecord, ...]
    statement_is_last_step: bool

    @property
    def ok(self) -> bool:
        return self.statement_is_last_step and all(s.ok for s in self.steps)

    @property
    def shown(self) -> int:
        return sum(s.method == SHOWN for s in self.steps)

    @property
    def checked(self) -> int:
        return sum(s.method == CHECKED for s in self.steps)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "proved" if self.ok else "NOT proved"
        lines = [
            f"{self.name}: {head} — {self.shown} step(s) shown symbolically, "
            f"{self.checked} checked at exact random points"
        ]
        if not self.statement_is_last_step:
            lines.append("  the steps do not state the derivation's statement (for a plain relation: the last step)")
        lines += [str(s) for s in self.steps]
        return "\n".join(lines)

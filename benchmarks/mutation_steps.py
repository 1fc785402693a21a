"""Targeted mutation testing of ``gradproof check-steps`` (issue 10): one-line changes to the
step checker — a rule made unsound, the point sizes reduced, a diagnosis ignoring its confirming
test, a verdict mislabelled — that the step tests must notice.  Same machinery and verdicts as
``benchmarks/mutation.py`` (killed / survived / stale), with its own list.

    python benchmarks/mutation_steps.py               # all, 2 at a time
    python benchmarks/mutation_steps.py --only S1 S4  # some
    python benchmarks/mutation_steps.py --list
"""

# ruff: noqa: E501 - the mutation list quotes lines of source exactly
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutation  # noqa: E402 - the shared runner
from mutation import _m  # noqa: E402

STEPS = (
    "tests/test_steps_soundness.py",
    "tests/test_steps_diagnosis.py",
    "tests/test_steps_notation.py",
    "tests/test_steps_chains.py",
    "tests/test_steps_errors.py",
)
PT = "gradproof/steps/points.py"
CH = "gradproof/steps/check.py"
EX = "gradproof/steps/explain.py"
PA = "gradproof/steps/parse.py"
CX = "gradproof/steps/context.py"

# fmt: off
MUTATIONS = [
    _m("S1", PT, "        sizes = super().proof_sizes(values)\n", "        sizes = super().proof_sizes(values)[:3]\n",
       "exact points at sizes 1-3 only (a claim false from n = 4 passes)", STEPS),
    _m("S2", CH, '    if record.method == CHECKED:\n        return "checked"', '    if record.method == CHECKED:\n        return "proved"',
       "a step checked at points reported as proved", STEPS),
    _m("S3", PT, "        value = _rational(rng, -scale, scale)", "        value = _rational(rng, 0, scale)",
       "inputs without a declared domain drawn positive only", STEPS),
    _m("S4", PA, "            body = body * (1 - sp.KroneckerDelta(var, other))", "            body = body",
       "\\sum_{k \\neq i} keeps the term k = i (an unsound reading)", STEPS),
    _m("S5", EX, "    if _close(sp.N(ce.lhs, 50), -sp.N(ce.rhs, 50)) and _holds(analysis, lhs, -rhs):",
       "    if _close(sp.N(ce.lhs, 50), -sp.N(ce.rhs, 50)):", "sign diagnosis without its confirming check", STEPS),
    _m("S6", EX, "        if _holds(analysis, lhs, c * rhs):", "        if True:",
       "factor diagnosis without its confirming check", STEPS),
    _m("S7", EX, "            if swapped != rhs and _screen(analysis, lhs, swapped, ce) and _holds(analysis, lhs, swapped):",
       "            if swapped != rhs and _screen(analysis, lhs, swapped, ce):", "index-swap diagnosis without its confirming check", STEPS),
    _m("S8", EX, "        if _screen(analysis, lhs, rhs - t, ce) and _holds(analysis, lhs, rhs - t):",
       "        if _screen(analysis, lhs, rhs - t, ce):", "extra-term diagnosis without its confirming check", STEPS),
    _m("S9", EX, "            if _holds(analysis, lhs, rhs, op, derivation=variant):", "            if True:",
       "an assumption offered without checking that it makes the step hold", STEPS),
    _m("S10", CH, "            holds = again is not None and again.method in (SHOWN, CHECKED)", "            holds = True",
       "every row after the first failure 'follows from the last correct one'", STEPS),
    _m("S11", CX, "        if name in self.indices:\n            return self.indices[name].symbol\n        if name in self.sizes:\n            return self.sizes[name]\n        hint",
       "        if name in self.indices:\n            return self.indices[name].symbol\n        if True:\n            return sp.Symbol(name, integer=True)\n        hint",
       "an undeclared free index silently read as an integer", STEPS),
    _m("S12", PT, "                    raw[-1] = target - sum(raw[:-1])", "                    raw[-1] = target - sum(raw[:-2])",
       "a vector with an assumed sum drawn with the wrong sum", STEPS),
]
# fmt: on

if __name__ == "__main__":
    mutation.MUTATIONS = MUTATIONS
    sys.exit(mutation.main())

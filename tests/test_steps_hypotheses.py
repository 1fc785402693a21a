"""Assumptions the prover reasons from must be satisfiable: from a contradiction anything follows.

Found by the attack on issue 10's hypotheses on defined names: ``define p = -3`` with
``assume p > 0`` proved |p| = p (false: 3 ≠ −3); so did a row ``p &= -3`` under ``assume p > 0``,
a length defined as −√Σg² assumed positive, and ``assume p ≥ 0`` with ``assume p < 0``.  Each is
now refused (a usage error with its line), each beside a consistent twin that is still proved.
"""

from __future__ import annotations

import pytest

import gradproof

CONTRADICTIONS = {
    "defined-constant": "% gradproof: define p = -3\n% gradproof: assume p > 0\n\\begin{align*}\n|p| &= p\n\\end{align*}\n",
    "defined-length": (
        "% gradproof: index l = 1..d\n% gradproof: size d\n% gradproof: scalar \\|g\\|\n"
        "% gradproof: define \\|g\\| = -\\sqrt{\\sum_{l=1}^{d} g_l^2}\n% gradproof: assume \\|g\\| > 0\n"
        "\\begin{align*}\n|\\|g\\|| &= \\|g\\|\n\\end{align*}\n"
    ),
    "row-definition": "% gradproof: assume p > 0\n\\begin{align*}\np &= -3\n\\end{align*}\n"
    "\\begin{align*}\n|p| &= p\n\\end{align*}\n",
    "interval-then-row": "% gradproof: assume 0 < p < 1\n\\begin{align*}\np &= 3 \\\\\n&> 2\n\\end{align*}\n",
    "empty-interval": "% gradproof: assume p \\ge 0\n% gradproof: assume p < 0\n\\begin{align*}\n|p| &= p\n\\end{align*}\n",
    "empty-open-interval": "% gradproof: assume p < 0\n% gradproof: assume p > 0\n\\begin{align*}\np &= p\n\\end{align*}\n",
}

CONSISTENT = {
    "defined-positive": "% gradproof: define p = x^2 + 1\n% gradproof: assume p > 0\n\\begin{align*}\n|p| &= p\n\\end{align*}\n",
    "defined-length": (
        "% gradproof: index l = 1..d\n% gradproof: size d\n% gradproof: scalar \\|g\\|\n"
        "% gradproof: define \\|g\\| = \\sqrt{\\sum_{l=1}^{d} g_l^2}\n% gradproof: assume \\|g\\| > 0\n"
        "\\begin{align*}\n|\\|g\\|| &= \\|g\\|\n\\end{align*}\n"
    ),
    "interval": "% gradproof: assume p \\ge 0\n% gradproof: assume p \\le 1\n\\begin{align*}\n|p| &= p\n\\end{align*}\n",
}


@pytest.mark.parametrize("name", CONTRADICTIONS)
def test_contradictory_assumptions_are_refused_not_reasoned_from(name):
    report = gradproof.check_steps(CONTRADICTIONS[name])
    assert not report.ok
    assert report.error is not None, str(report)
    assert "contradict" in report.error.message
    assert not any(s.status == "proved" for s in report.steps)


@pytest.mark.parametrize("name", CONSISTENT)
def test_consistent_twin_is_still_proved(name):
    report = gradproof.check_steps(CONSISTENT[name])
    assert report.ok and report.error is None, str(report)
    assert report.steps[-1].status == "proved"

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


UNIT = (
    "% gradproof: index k, l = 1..d\n% gradproof: size d\n% gradproof: scalar D_{u} L, \\|g\\|\n"
    "% gradproof: define D_{u} L = \\sum_{l=1}^{d} g_l u_l\n% gradproof: define \\|g\\| = \\sqrt{\\sum_{l=1}^{d} g_l^2}\n"
    "% gradproof: assume \\|g\\| > 0\n% gradproof: assume \\sum_{k=1}^{d} u_k^2 = 1\n"
)


@pytest.mark.parametrize(
    "row",
    [
        r"D_{u} L &\ge -\|g\|^2",  # ‖g‖ taken for ‖g‖²: false where ‖g‖ < 1
        r"(d-1)(d-2)(d-3)(d-4) u_d &\ge 0",  # false for d ≥ 5 on half the sphere
    ],
)
def test_false_unit_vector_claims_fail_at_points(row):
    # the attack found both reported "checked": the sphere's points all sat near one pole
    report = gradproof.check_steps(UNIT + "\\begin{align*}\n" + row + "\n\\end{align*}\n")
    assert report.first_failure is not None and report.first_failure.status == "failed", str(report)


@pytest.mark.parametrize("second", [r"\sum_{l=1}^{d} u_l^2 = 2", r"\sum_{l=1}^{d} u_l = 1"])
def test_a_second_assumed_sum_over_one_vector_is_refused(second):
    # with two, the prover used one and the points the other: Σu² = 2 checked, Σu² = 1 proved
    text = (
        "% gradproof: index l = 1..d\n% gradproof: size d\n% gradproof: assume \\sum_{l=1}^{d} u_l^2 = 1\n"
        f"% gradproof: assume {second}\n\\begin{{align*}}\n\\sum_{{l=1}}^{{d}} u_l^2 &= 1\n\\end{{align*}}\n"
    )
    report = gradproof.check_steps(text)
    assert report.error is not None and report.error.line == 4 and "second assumed sum" in report.error.message


def test_points_on_the_sphere_are_exact_and_spread():
    import random
    import statistics

    from gradproof.steps.context import Domain
    from gradproof.steps.points import _on_sphere

    for d in (1, 2, 4, 20):
        rng = random.Random(0)
        points = [_on_sphere(d, 1, Domain(), rng) for _ in range(200)]
        assert all(sum(v**2 for v in p) == 1 for p in points)
        positive_last = sum(float(p[-1]) > 0 for p in points) / len(points)
        assert 0.35 < positive_last < 0.65  # no pole, no favoured orthant
        if d == 20:  # not every point near one axis (before: median largest |u_l| 0.92, always u_20)
            assert statistics.median(max(abs(float(v)) for v in p) for p in points) < 0.6

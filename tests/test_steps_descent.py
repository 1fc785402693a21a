"""What the steepest-descent fragment needed: names of several symbols (``D_{u} L``, ``\\|g\\|``),
vectors with an assumed sum of squares (a unit vector, drawn at exact points on the sphere) and
hypotheses on defined quantities (``\\|g\\| > 0``), each with false steps it must reject."""

from __future__ import annotations

import random

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradproof.steps.check import check_steps
from gradproof.steps.context import Domain
from gradproof.steps.points import _on_sphere
from tests.steps_helpers import statuses, tex

UNIT = (r"index k, l = 1..d", r"assume \sum_{l=1}^{d} u_l^2 = 1")
NORM = (r"index k, l = 1..d", r"scalar D_{u} L, \|g\|", r"define \|g\| = \sqrt{\sum_{l=1}^{d} g_l^2}",
        r"define D_{u} L = \sum_{l=1}^{d} g_l u_l")  # fmt: skip


def _error(text: str):
    report = check_steps(text)
    assert report.error is not None, str(report)
    return report.error


# -- names of several symbols -------------------------------------------------------------------


def test_a_declared_name_of_several_symbols_is_one_quantity():
    assert statuses(r"D_{u} L &= \sum_{l=1}^{d} u_l g_l", *NORM) == ["proved"]
    assert statuses(r"D_{u} L &= -\sum_{l=1}^{d} u_l g_l", *NORM) == ["failed"]  # sign
    # braces around one symbol do not matter; the bars of \|g\| are part of its name
    assert statuses(r"D_u L &= \sum_{l=1}^{d} u_l g_l", *NORM) == ["proved"]
    assert statuses(r"{D}_{u} L &= \sum_{l=1}^{d} u_l g_l", *NORM) == ["proved"]
    assert statuses(r"\|g\|^2 &= \sum_{l=1}^{d} g_l^2", *NORM) == ["proved"]
    assert statuses(r"\|g\|^2 &= 2\sum_{l=1}^{d} g_l^2", *NORM) == ["failed"]  # factor


def test_without_the_declaration_the_symbols_are_a_product():
    text = tex(r"D_{u} L &= \sum_{l=1}^{d} u_l g_l", "index l = 1..d", r"define D_{u} L = \sum_{l=1}^{d} g_l u_l")
    err = _error(text)
    assert err.line == 2 and "name" in err.message


def test_a_script_after_a_name_of_several_symbols_is_an_error_with_its_place():
    err = _error(tex(r"D_{u} L^2 &= 1", *NORM))
    assert (err.line, err.column) == (6, 8) and "(D_{u} L)^" in err.message
    err = _error(tex(r"\|g\|_2 &= \|g\|", *NORM))
    assert (err.line, err.column) == (6, 6)
    err = _error(tex("x &= 1", "scalar D_{u} L + 1"))
    assert err.line == 1 and "'+'" in err.message
    err = _error(tex("x &= 1", "scalar D_{u L"))
    assert err.line == 1 and "unbalanced" in err.message
    err = _error(tex("x &= 1", "scalar 2 L"))
    assert err.line == 1 and "starts with a letter" in err.message


# -- vectors with an assumed sum of squares -----------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(1, 9), seed=st.integers(0, 10**6), total=st.sampled_from([1, 4, sp.Rational(9, 4), 3]))
def test_points_on_the_sphere_are_exact(count, seed, total):
    values = _on_sphere(count, total, Domain(), random.Random(seed))
    assert len(values) == count
    assert sp.simplify(sum(v**2 for v in values) - total) == 0  # exactly, not to rounding
    if sp.sqrt(total).is_rational:
        assert all(v.is_rational for v in values)
    ones = _on_sphere(count, total, Domain(lo=0), random.Random(seed))
    assert all(v >= 0 for v in ones)


def test_a_unit_vector_is_proved_through_its_sum_of_squares():
    assert statuses(r"\sum_{l=1}^{d} (u_l + g_l)^2 &= 1 + 2\sum_{l=1}^{d} u_l g_l + \sum_{l=1}^{d} g_l^2", *UNIT) == [
        "proved"]  # fmt: skip
    assert statuses(r"\sum_{l=1}^{d} (u_l + g_l)^2 &= 2 + 2\sum_{l=1}^{d} u_l g_l + \sum_{l=1}^{d} g_l^2", *UNIT) == [
        "failed"]  # a wrong constant  # fmt: skip
    assert statuses(r"\sum_{l=1}^{d} (u_l - g_l)^2 &= 1 + 2\sum_{l=1}^{d} u_l g_l + \sum_{l=1}^{d} g_l^2", *UNIT) == [
        "failed"]  # a sign  # fmt: skip
    # a claim that needs the sphere, but no rewrite, is checked at points on it, never proved
    assert statuses(r"\sum_{l=1}^{d} u_l^4 &\le 1", *UNIT) == ["checked"]
    assert statuses(r"\sum_{l=1}^{d} u_l^4 &\ge 1", *UNIT) == ["failed"]  # true only for d = 1
    assert statuses(r"\sum_{l=1}^{d} |u_l| &\le \sqrt{d}", *UNIT) == ["checked"]
    assert statuses(r"\sum_{l=1}^{d} |u_l| &\le 1", *UNIT) == ["failed"]
    # Cauchy–Schwarz for unit u, and a bound off by a factor ½
    assert statuses(r"\sum_{l=1}^{d} g_l u_l &\le \sqrt{\sum_{l=1}^{d} g_l^2}", *UNIT) == ["checked"]
    assert statuses(r"\sum_{l=1}^{d} g_l u_l &\le \frac{1}{2} \sqrt{\sum_{l=1}^{d} g_l^2}", *UNIT) == ["failed"]


def test_without_the_assumption_the_same_claims_fail():
    assert statuses(r"\sum_{l=1}^{d} u_l^4 &\le 1", "index l = 1..d") == ["failed"]
    assert statuses(r"\sum_{l=1}^{d} (u_l + g_l)^2 &= 1 + 2\sum_{l=1}^{d} u_l g_l + \sum_{l=1}^{d} g_l^2",
                    "index l = 1..d") == ["failed"]  # fmt: skip


def test_a_sphere_of_another_radius_and_of_one_sign():
    radius2 = (r"index l = 1..d", r"assume \sum_{l=1}^{d} u_l^2 = 4")
    assert statuses(r"\sum_{l=1}^{d} u_l^4 &\le 16", *radius2) == ["checked"]
    assert statuses(r"\sum_{l=1}^{d} u_l^4 &\le 1", *radius2) == ["failed"]  # the radius is 2, not 1
    assert statuses(r"\sum_{l=1}^{d} u_l^2 + x &= 4 + x", *radius2) == ["proved"]
    assert statuses(r"\sum_{l=1}^{d} u_l^2 + x &= 2 + x", *radius2) == ["failed"]
    positive = UNIT + (r"assume u_l \ge 0",)
    assert statuses(r"\sum_{l=1}^{d} u_l &\ge 1", *positive) == ["checked"]  # Σ u ≥ √(Σ u²) for u ≥ 0
    assert statuses(r"\sum_{l=1}^{d} u_l &\ge 1", *UNIT) == ["failed"]  # not without the sign


def test_a_sum_of_squares_with_an_assumption_it_cannot_be_drawn_with_is_an_error():
    err = _error(tex(r"u_1 &= u_1", *UNIT, r"assume u_l \in \{0, 1\}"))
    assert err.line == 2 and "sum of squares" in err.message
    err = _error(tex(r"u_1 &= u_1", *UNIT, r"assume u_l < 1"))
    assert err.line == 2
    err = _error(tex(r"u_1 &= u_1", "index l = 1..d", r"assume \sum_{l=1}^{d} u_l^2 = -1"))
    assert err.line == 2 and "cannot be -1" in err.message


# -- hypotheses on defined quantities -----------------------------------------------------------


def test_a_hypothesis_on_a_defined_length_is_used_by_the_rules():
    body = r"\frac{\|g\| x}{2} = 0 &\Longrightarrow x = 0"
    assert statuses(body, *NORM, r"assume \|g\| > 0") == ["proved"]
    # without it ‖g‖ may be 0, and dividing by it is not allowed
    assert statuses(body, *NORM) == ["unestablished"]
    # the same when the length is used in a definition read before its own
    first = (r"index l = 1..d", r"scalar \|g\|", r"define h = \frac{x}{\|g\|}", r"define \|g\| = \sqrt{\sum_{l=1}^{d} g_l^2}")
    assert statuses(body, *first, r"assume \|g\| > 0") == ["proved"]
    assert statuses(body, *first) == ["unestablished"]
    assert statuses(r"\sum_{l=1}^{d} \frac{g_l^2}{\|g\|^2} &= 1", *NORM, r"assume \|g\| > 0") == ["proved"]
    assert statuses(r"\sum_{l=1}^{d} \frac{g_l^2}{\|g\|} &= 1", *NORM, r"assume \|g\| > 0") == ["failed"]


def test_points_are_drawn_where_the_hypothesis_on_a_defined_quantity_holds():
    decl = NORM + (r"assume \|g\| > 1",)
    # no rule proves it: checked at points, which must all have Σ g_l² > 1 (at d = 1, g_1 ∈ (−2, 2))
    assert statuses(r"\sum_{l=1}^{d} g_l^2 &> 1", *decl) == ["checked"]
    assert statuses(r"\sum_{l=1}^{d} g_l^2 &> 2", *decl) == ["failed"]
    # a hypothesis no point satisfies is refused: nothing is proved or checked from it
    never = NORM + (r"assume \|g\| > 1000",)
    header = "".join(f"% gradproof: {d}\n" for d in never)
    report = check_steps(header + "\\begin{align*}\n\\sum_{l=1}^{d} g_l^4 &\\ge 0\n\\end{align*}\n")
    assert report.error is not None and "contradicts the definition" in report.error.message


def test_the_steepest_descent_fragment_is_proved_as_the_catalog_proves_it():
    from gradproof.derivations.directives import with_directives
    from gradproof.derivations.registry import catalog

    d = next(x for x in catalog() if x.name == "steepest-descent-direction")
    report = check_steps(with_directives(d, d.latex()))
    assert [s.status for s in report.steps] == ["proved"] * 11, str(report)
    # the fragment with a slip: the factor ½ dropped from the completed square
    slip = with_directives(d, d.latex()).replace(r"\right)^{2}}{2} - \|g\|", r"\right)^{2}}{1} - \|g\|", 1)
    report = check_steps(slip)
    assert report.first_failure is not None and report.first_failure.status == "failed"


@pytest.mark.parametrize("line", [r"assume \|g\| > 0", r"assume \sum_{k=1}^{d} {u}_{k}^{2} = 1"])
def test_the_printer_declares_the_unit_vector_and_the_hypothesis(line):
    from gradproof.derivations.directives import directive_lines
    from gradproof.derivations.registry import catalog

    d = next(x for x in catalog() if x.name == "steepest-descent-direction")
    lines = directive_lines(d)
    assert line in lines
    assert r"scalar D_{u} L, \|g\|" in lines

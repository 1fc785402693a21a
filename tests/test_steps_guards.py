r"""Soundness and honesty defects of ``check-steps`` found by the attack of session 4, each with
a false claim beside its true twin (or a hostile declaration beside a well-formed one):

1. an entry beyond a vector's entries (``u_5`` of u_1..u_d, ``u_{d+1}``) was drawn freely at the
   points, so a true unit-vector row failed at d = 1: now refused, naming the entry and the size;
2. a row ``K_a &= 1`` about a declared name (the minibatch's counts, a unit vector's entries, a
   random quantity, a vector) was read as a *definition*, so a false claim became an assumption:
   now it is a claim; and a row defining an entry ``p_k = -1`` under ``assume p_i > 0`` is a
   contradiction, refused like the scalar one;
3. malformed ``scalar`` declarations (an unclosed bar, a stray comma, overlapping names, ``e^{x}``)
   were accepted silently: now each is an error with its line and column;
4. a side undefined at a point (0/0 in a third moment's formula at N = 2) leaked SymPy's
   TypeError as "not established": the point's sizes are now left out and said so;
5. false inequalities over the sphere and the simplex that hold except near a corner came out
   *checked*: the points now include the extreme points (see ``points.extremes``).
"""

from __future__ import annotations

import random

import pytest
import sympy as sp

from gradproof.steps.check import analyse, check_steps
from gradproof.steps.context import Domain, SumFact
from gradproof.steps.points import extremes
from gradproof.steps.source import read_source
from tests.steps_helpers import statuses, tex

UNIT = (r"index k, l = 1..d", r"assume \sum_{l=1}^{d} u_l^2 = 1")
POSITIVE_UNIT = (*UNIT, r"assume u_l \ge 0")
SIMPLEX = (r"index k, l = 1..n", r"assume \sum_{l=1}^{n} p_l = 1", r"assume p_l \ge 0", r"assume n \ge 3")
BATCH = ("index a, b, c = 1..N", "minibatch K : B of 1..N")


def _error(body: str, *declarations: str):
    report = check_steps(tex(body, *declarations))
    assert report.error is not None, str(report)
    return report.error


# -- 1. entries beyond a vector's entries -------------------------------------------------------


def test_a_literal_entry_needs_the_sizes_where_it_exists():
    # before: u_2 drawn freely at d = 1 (off the sphere), and this true row FAILED there
    assert statuses(r"u_1^2 + u_2^2 &\le 1", *UNIT, r"assume d \ge 2") == ["checked"]
    assert statuses(r"u_1^2 + u_2^2 &\le \frac{1}{2}", *UNIT, r"assume d \ge 2") == ["failed"]
    assert statuses(r"u_1^2 &\le 1", *UNIT) == ["checked"]  # u_1 exists at every size
    err = _error(r"u_1^2 + u_2^2 &\le 1", *UNIT)
    assert (err.line, err.column) == (4, 1)
    assert "u_{2}" in err.message and "d = 1" in err.message and "d \\ge 2" in err.message
    assert "d \\ge 5" in _error(r"u_5^2 &\le 1", *UNIT).message
    assert "whole number, not 1/2" in _error(r"u_{\frac12}^2 &\le 1", *UNIT).message


@pytest.mark.parametrize(
    ("body", "declarations", "entry"),
    [
        (r"u_{d+1}^2 &\le 1", UNIT, "u_{d + 1}"),
        (r"u_{k+1}^2 &\le 1", UNIT, "u_{k + 1}"),
        (r"\sum_{l=1}^{d+1} u_l^2 &= 1", UNIT, "l from 1 to d + 1"),
        (r"w_{k+1} &= w_{k+1}", ("index k = 1..d", "vector w : d"), "w_{k + 1}"),
        (r"Y_{a,c+1} &\le 1", ("index a = 1..n", "index c = 1..C", r"assume \sum_{c=1}^{C} Y_{a,c} = 1"), "Y_{a, c + 1}"),
    ],
)
def test_an_entry_beyond_the_range_at_every_size_is_refused(body, declarations, entry):
    err = _error(body, *declarations)
    assert entry in err.message and "beyond" in err.message and "entries" in err.message


def test_entries_within_the_range_are_checked_as_before():
    assert statuses(r"\sum_{l=2}^{d} u_l^2 &\le 1", *UNIT) == ["checked"]  # empty at d = 1: nothing drawn
    assert statuses(r"\sum_{l=2}^{d} u_l^2 &\ge \frac{1}{2}", *UNIT) == ["failed"]
    assert statuses(r"\sum_{l=1}^{k} u_l^2 &\le 1", *UNIT) == ["checked"]
    assert statuses(r"\sum_{l=1}^{k} u_l^2 &\le \frac{1}{2}", *UNIT) == ["failed"]


# -- 2. rows never redefine what the declarations name ------------------------------------------


@pytest.mark.parametrize(
    ("false_row", "true_row", "declarations"),
    [
        (r"K_a &= 1", r"\sum_{a=1}^{N} K_a &= B", BATCH),
        (r"B &= 1", r"\sum_{a=1}^{N} K_a &= B", BATCH),
        (r"u_k &= 0", r"\sum_{l=1}^{d} u_l^2 &= 1", UNIT),
        (r"y_k &= 0", r"\sum_{l=1}^{n} y_l &= 1", ("index k, l = 1..n", r"assume \sum_{l=1}^{n} y_l = 1")),
        (r"m &= 0", r"\mathbb{E}[m] &= p", (r"random m \sim \mathrm{Bernoulli}(p)",)),
        (r"w_k &= 0", r"w^\top w &= \sum_{k=1}^{d} w_k^2", ("index k = 1..d", "vector w : d")),
    ],
)
def test_a_row_about_a_declared_name_is_a_claim_not_a_definition(false_row, true_row, declarations):
    # before: the first row "defined" the name, and the second was then proved from it
    got = statuses(f"{false_row} \\\\\n{true_row}", *declarations)
    assert got[0] == "failed", got
    assert got[1] in ("proved", "checked"), got


def test_a_fresh_name_is_still_defined_by_its_row():
    assert statuses(r"L &= x^2 \\ &= x \cdot x", "index k = 1..d") == ["defined", "proved"]
    assert statuses(r"L &= x^2 \\ &= 2x", "index k = 1..d") == ["defined", "failed"]


def test_define_with_colon_equals_on_a_declared_name_is_refused():
    err = _error(r"K_a &:= 1", *BATCH)
    assert err.line == 4 and "cannot define" in err.message


def test_a_row_defining_entries_against_their_assumption_is_refused():
    # before: p_k = -1 under p_i > 0 "defined" p, and |p_k| = p_k was proved (false: 1 ≠ −1)
    err = _error(r"p_k &= -1 \\ |p_k| &= p_k", "index k = 1..n", "assume p_i > 0")
    assert err.line == 4 and "contradict" in err.message
    err = _error(r"y_k &= 2 \\ y_k^2 &= y_k", "index k = 1..n", r"assume y_i \in \{0, 1\}")
    assert "contradict" in err.message
    assert statuses(r"p_k &= x_k^2 + 1 \\ |p_k| &= p_k", "index k = 1..n", "assume p_i > 0") == ["defined", "proved"]


# -- 3. malformed scalar declarations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "column", "says"),
    [
        (r"scalar \|g", 21, "not closed"),
        (r"scalar g\|", 22, "not closed"),
        (r"scalar |g\|", 23, "not closed"),
        (r"scalar \|g\|\|", 26, "not closed"),
        (r"scalar L_u,", 24, "no name after"),
        (r"scalar ,L_u", 21, "no name before"),
        (r"scalar L_u,,M_v", 25, "no name before"),
        (r"scalar \|g\|, \|g\| x", 28, "overlap"),
        (r"scalar D_{u} L, L x", 30, "overlap"),
        (r"scalar D_{u} L, u L", 30, "overlap"),
        (r"scalar D_{u} L, D_{u} L", 30, "declared twice"),
        (r"scalar e^{x}", 21, "cannot start with e"),
        (r"scalar \pi_{a} b", 21, "cannot start with \\pi"),
        (r"scalar x_", 22, "nothing after it"),
    ],
)
def test_a_malformed_scalar_declaration_is_an_error_at_its_place(declaration, column, says):
    err = _error("x &= 1", declaration)
    assert (err.line, err.column) == (1, column), err
    assert says in err.message


@pytest.mark.parametrize("declaration", [r"scalar D_{u} L, \|g\|", r"scalar \sigma^{2}", r"scalar L_u, M_v", r"scalar |x|, \|g\|"])
def test_well_formed_scalar_declarations_still_read(declaration):
    assert statuses("x &= 1", declaration) == ["defined"]


# -- 4. a side undefined at a point -------------------------------------------------------------


def test_a_third_moment_formula_undefined_at_n_2_is_no_leaked_exception():
    third = r"\frac{B(B-1)(B-2)}{N(N-1)(N-2)}"
    report = check_steps(tex(rf"\mathbb{{E}}_{{\text{{without}}}}[K_a K_b K_c] &= {third}", *BATCH))
    step = report.steps[0]
    assert step.status == "failed", str(report)  # false where a = b = c: E[K_a^3] = B/N
    # the point where a side is 0/0 (N = 2) is left out, the others judge it: a counterexample at N = 3
    assert "raised" not in step.detail and step.counterexample is not None
    # a third mixed moment is evaluated at the exact laws: checked, never proved
    twin = r"\mathbb{E}_{\text{without}}[K_a K_b K_c] &= \mathbb{E}_{\text{without}}[K_a K_b K_c^2]"
    assert statuses(twin, *BATCH) == ["checked"]
    assert statuses(twin.replace("without", "with"), *BATCH) == ["failed"]


def test_a_claim_false_beside_an_undefined_point_fails():
    """Only the point where a side is undefined is left out, never its whole size set: j = 2 is
    undefined at every n ≥ 2, and the claim is false at j ≥ 3 (it came out 'checked', from n = 1
    alone, while whole size sets were left out; found by the attack)."""
    index = "index j = 1..n"
    false = r"\frac{1}{j - 2} + (j-1)(j-2) x &= \frac{1}{j - 2}"
    true = r"\frac{1}{j - 2} + (j-1)(j-2) x &= \frac{1}{j - 2} + (j - 1)(j - 2) x"
    assert statuses(false, index) == ["failed"]
    assert statuses(true, index) == ["proved"]
    assert statuses(r"\frac{\log j}{j - 1} + (n - 1) x &= \frac{\log j}{j - 1}", index) == ["failed"]


def test_sizes_where_a_side_is_undefined_are_left_out_and_said():
    report = check_steps(tex(r"\frac{1}{n-1} &\ge 0", "size n"))
    assert report.steps[0].status == "checked" and "where a side is undefined" in report.steps[0].detail
    assert statuses(r"\frac{1}{n-1} &\ge 1", "size n") == ["failed"]
    report = check_steps(tex(r"\frac{1}{x - 1} + \frac{1}{1 - x} &\ge 1"))  # 0 where defined
    assert report.steps[0].status in ("failed", "unestablished")


# -- 5. extreme points of the sphere and the simplex --------------------------------------------


@pytest.mark.parametrize(
    ("false_row", "true_row", "declarations"),
    [
        # false for d ≥ 4, only near −(1, …, 1)/√d: random points reach it with probability 2^-d
        (r"\sum_{l=1}^{d} u_l &\ge -\sqrt{3}", r"\sum_{l=1}^{d} u_l &\ge -\sqrt{d}", UNIT),
        (r"\sum_{l=1}^{d} u_l &\le \sqrt{3}", r"\sum_{l=1}^{d} u_l &\le \sqrt{d}", UNIT),
        (r"\sum_{l=1}^{d} (-1)^l u_l &\ge -\sqrt{2}", r"\sum_{l=1}^{d} (-1)^l u_l &\ge -\sqrt{d}", UNIT),
        (r"u_k &\ge -\frac{9}{10}", r"u_k &\ge -1", (*UNIT, r"assume d \ge 3")),
        (r"\sum_{l=1}^{d} u_l &\ge \frac{11}{10}", r"\sum_{l=1}^{d} u_l &\ge 1", (*POSITIVE_UNIT, r"assume d \ge 2")),
        (r"\sum_{l=1}^{d} u_l^4 &\le \frac{9}{10}", r"\sum_{l=1}^{d} u_l^4 &\le 1", (*POSITIVE_UNIT, r"assume d \ge 3")),
        (r"p_k &\le \frac{9}{10}", r"p_k &\le 1", SIMPLEX),
        (r"\sum_{l=1}^{n} p_l^2 &\le \frac{9}{10}", r"\sum_{l=1}^{n} p_l^2 &\le 1", SIMPLEX),
        (r"\sum_{l=1}^{n} p_l^2 &\ge \frac{1}{n} + \frac{1}{100}", r"\sum_{l=1}^{n} p_l^2 &\ge \frac{1}{n}", SIMPLEX),
    ],
)
def test_false_inequalities_at_the_corners_fail(false_row, true_row, declarations):
    assert statuses(false_row, *declarations) == ["failed"]
    assert statuses(true_row, *declarations) in (["checked"], ["proved"])


@pytest.mark.parametrize("count", [1, 2, 3, 5])
@pytest.mark.parametrize("total", [1, 4, sp.Rational(9, 4)])
def test_extreme_points_lie_exactly_on_their_set(count, total):
    u, p = sp.IndexedBase("u"), sp.IndexedBase("p")
    sphere = SumFact(u, 1, count, total, "", power=2)
    simplex = SumFact(p, 1, count, total, "")
    rng = random.Random(count)
    for domain in (Domain(), Domain(lo=0), Domain(lo=0, lo_strict=True)):
        points = [corner(total, rng) for corner in extremes(domain, sphere, count)]
        assert points and all(sp.simplify(sum(v**2 for v in pt) - total) == 0 for pt in points)
        if domain.lo is not None:
            assert all(v >= 0 for pt in points for v in pt)
            assert all(v > 0 for pt in points for v in pt) or not domain.lo_strict
    for domain in (Domain(lo=0), Domain(lo=0, lo_strict=True)):
        points = [corner(total, rng) for corner in extremes(domain, simplex, count)]
        assert points and all(sum(pt) == total and all(v >= 0 for v in pt) for pt in points)
    assert extremes(Domain(), simplex, count) == []  # any sign: no corners


def test_vectors_with_an_assumed_sum_are_not_listed_as_free_real_inputs():
    analysis = analyse(read_source(tex(r"\sum_{l=1}^{d} u_l^2 &= 1", *UNIT, r"assume \sum_{l=1}^{d} y_l = 1")))
    kinds = {str(inp.symbol): inp.kind for inp in analysis.derivation.inputs}
    assert kinds["u"] == kinds["y"] == "constrained"


def test_an_inner_range_that_follows_the_outer_index_is_judged_by_its_values():
    """k + l with k ≤ d − l never exceeds d (a lag sum): the corners of the two ranges taken apart
    said 2d − 2 and refused a true row (found by the attack); one step further is refused, in the
    names the file wrote."""
    declarations = ("index k, l = 1..d", "vector u : d")
    assert statuses(r"\sum_{l=1}^{d-1} \sum_{k=1}^{d-l} u_{k+l}^2 &\ge 0", *declarations) == ["proved"]
    err = _error(r"\sum_{l=1}^{d-1} \sum_{k=1}^{d-l+1} u_{k+l}^2 &\ge 0", *declarations)
    assert "u_{k + l} (k from 1 to d - l + 1)" in err.message and "_l" not in err.message

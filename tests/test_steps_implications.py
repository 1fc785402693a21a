"""Implications (``a = b \\Longrightarrow c = d``), left sides set on a row of their own
(``\\rlap``), display wrappers (``\\resizebox``), ceilings and floors in hand-written
derivations: how they are read, correct chains that hold, and false steps that must not.

An implication is established only by the prover's rules (gradproof.derivations.logic), never
at random points; each rule gets a false step here that the checker must reject."""

from __future__ import annotations

import pytest
import sympy as sp

from gradproof.steps.check import analyse, check_steps
from gradproof.steps.source import read_source
from tests.steps_helpers import statuses, tex


def _built(body: str, *declarations: str):
    return analyse(read_source(tex(body, *declarations))).built


def _error(body: str, *declarations: str):
    report = check_steps(tex(body, *declarations))
    assert report.error is not None
    return report.error


# ------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("arrow", [r"\Longrightarrow", r"\implies", r"\Rightarrow", "⟹", "⇒"])
def test_an_implication_joins_two_relations(arrow):
    (b,) = _built(rf"x^2 = 4 &{arrow} x = 2", "assume x > 0")
    assert b.op == "=>"
    assert isinstance(b.lhs, sp.Eq) and isinstance(b.rhs, sp.Eq)
    assert str(b.lhs.lhs) == "x**2" and b.lhs.rhs == 4 and b.rhs.rhs == 2


def test_an_implication_keeps_its_sides_unevaluated():
    (b,) = _built(r"x = x &\Longrightarrow y = y")
    assert isinstance(b.lhs, sp.Eq) and isinstance(b.rhs, sp.Eq)  # not True


def test_inequalities_on_either_side():
    (b,) = _built(r"x > 1 &\Longrightarrow x^2 \ge 1")
    assert isinstance(b.lhs, sp.Gt) and isinstance(b.rhs, sp.Ge)


def test_a_row_starting_with_an_arrow_takes_the_conclusion_above_as_premise():
    built = _built(r"x = 2 &\Longrightarrow x^2 = 4 \\ &\Longrightarrow x^4 = 16")
    assert [b.op for b in built] == ["=>", "=>"]
    assert built[1].lhs == built[0].rhs
    assert built[1].relation.latex == r"x^2 = 4 \Longrightarrow x^4 = 16"


def test_two_arrows_on_one_row_are_two_implications():
    built = _built(r"x = 2 \Longrightarrow x^2 = 4 \Longrightarrow x^4 = 16")
    assert [str(b.lhs) for b in built] == ["Eq(x, 2)", "Eq(x**2, 4)"]


def test_a_stacked_premise_on_its_own_row():
    body = r"&\rlap{$\displaystyle x = 2$} \\ &\Longrightarrow x^2 = 4"
    (b,) = _built(body)
    assert b.op == "=>" and str(b.lhs) == "Eq(x, 2)"


def test_a_stacked_left_side_is_not_a_continuation_of_the_row_above():
    # \rlap{…} under a finished row starts the next step; it does not multiply the row above
    built = _built(r"a &= b + c \\ &\rlap{$\displaystyle b + c$} \\ &\ge b", r"assume c \ge 0")
    assert [(str(b.lhs), b.op, str(b.rhs)) for b in built] == [("a", "defined", "b + c"), ("b + c", ">=", "b")]


def test_resizebox_is_a_display_wrapper():
    (b,) = _built(r"x &= \resizebox{\ifdim\width>2em 2em\else\width\fi}{!}{$\displaystyle x + 0$}")
    assert b.rhs == sp.Symbol("x", real=True)


def test_ceiling_and_floor():
    (b,) = _built(r"\left\lceil{\frac{N}{B}}\right\rceil + \lfloor x \rfloor &= 0", r"assume N \in \mathbb{N}")
    assert b.lhs.has(sp.ceiling) and b.lhs.has(sp.floor)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (r"x \Longrightarrow y = 1", "each side of ⟹ is one relation"),
        (r"x = 1 \Longrightarrow y", "each side of ⟹ is one relation"),
        (r"x = 1 = z \Longrightarrow y = 1", "each side of ⟹ is one relation"),
        (r"x = 1 &\Longrightarrow y = 1 \\ &= 3", "continues an implication's conclusion"),
        (r"x &= 1 \\ &\Longrightarrow y = 1", "joins two relations"),
    ],
)
def test_malformed_implications_are_errors_with_a_position(body, message):
    error = _error(body)
    assert message in str(error)
    assert error.line >= 2 and error.column >= 1


# ----------------------------------------------------------------------------- correct chains


def test_unique_zero_and_substitution():
    body = (r"L_c &= -\log \hat{y}_c \\"
            r"L_c = 0 &\Longrightarrow \hat{y}_c = 1 \\"
            r"\hat{y}_c = 1 &\Longrightarrow L_c = 0")  # fmt: skip
    got = statuses(body, "index c = 1..n", "scalar L_c", r"assume \hat{y}_c > 0")
    assert got == ["defined", "proved", "proved"]


def test_zero_sum_rescaling_and_a_chain_of_implications():
    body = (r"\sum_{i=1}^{n} z_i^2 = 0 &\Longrightarrow z_i^2 = 0 \\"
            r"z_i^2 = 0 &\Longrightarrow z_i = 0 \\"
            r"z_i = 0 &\Longrightarrow p_i z_i = 0 \\"
            r"\sum_{i=1}^{n} z_i^2 = 0 &\Longrightarrow z_i = 0")  # fmt: skip
    assert statuses(body, "index i = 1..n", "assume p_i > 0") == ["proved"] * 4


def test_an_inequality_from_an_earlier_fact_and_a_chain_of_rows():
    body = (r"x - 1 - \log x &\ge 0 \\"
            r"p_i \left(\frac{q_i}{p_i} - 1 - \log \frac{q_i}{p_i}\right) &\ge 0")  # fmt: skip
    got = statuses(body, "index i = 1..n", "assume x > 0", "assume p_i > 0", "assume q_i > 0")
    assert got == ["proved", "proved"]


def test_a_rule_resting_on_a_row_checked_at_points_is_only_checked():
    # row 1 needs ŷ_i ≤ 1, which SymPy cannot use: checked; the sum of such terms rests on it
    body = (r"-y_i \log \hat{y}_i &\ge 0 \\"
            r"\sum_{i=1}^{n} -y_i \log \hat{y}_i &\ge 0")  # fmt: skip
    decl = ("index i = 1..n", r"assume y_i \ge 0", r"assume \sum_{i=1}^{n} y_i = 1", r"assume \hat{y}_i > 0",
            r"assume \sum_{i=1}^{n} \hat{y}_i = 1")  # fmt: skip
    assert statuses(body, *decl) == ["checked", "checked"]


def test_ceiling_inequalities():
    body = r"N &\le B \left\lceil \frac{N}{B} \right\rceil \\ B \left(\left\lceil \frac{N}{B} \right\rceil - 1\right) &< N"
    assert statuses(body, r"assume N \in \mathbb{N}", r"assume B \in \mathbb{N}") == ["proved", "proved"]


# --------------------------------------------------------------------------------- false steps


@pytest.mark.parametrize(
    ("body", "declarations"),
    [
        # unique zero: the conclusion names the wrong zero
        (r"x - 1 - \log x = 0 &\Longrightarrow x = 2", ("assume x > 0",)),
        # unique zero: x^2 = 4 has two real roots unless x > 0 is declared
        (r"x^2 = 4 &\Longrightarrow x = 2", ()),
        # rescaling by a factor that may be 0
        (r"p z = 0 &\Longrightarrow z = 0", ()),
        # zero sum: terms of either sign
        (r"\sum_{i=1}^{n} z_i = 0 &\Longrightarrow z_i = 0", ("index i = 1..n",)),
        # substitution: the conclusion does not follow at the substituted value
        (r"x = 2 &\Longrightarrow x^2 = 5", ()),
        # substitution: N = Bm gives ⌈N/B⌉ = m only for a whole m
        (r"N = B m &\Longrightarrow \left\lceil \frac{N}{B} \right\rceil = m",
         (r"assume N \in \mathbb{N}", r"assume B \in \mathbb{N}")),
        # an implication whose conclusion is true but unrelated is not a rule's business either
        (r"x = 1 &\Longrightarrow y = 1", ()),
    ],
)
def test_false_implications_are_not_established(body, declarations):
    assert statuses(body, *declarations) == ["unestablished"]


def test_the_true_neighbours_of_the_false_implications_hold():
    assert statuses(r"x - 1 - \log x = 0 &\Longrightarrow x = 1", "assume x > 0") == ["proved"]
    assert statuses(r"x^2 = 4 &\Longrightarrow x = 2", "assume x > 0") == ["proved"]
    assert statuses(r"p z = 0 &\Longrightarrow z = 0", "assume p > 0") == ["proved"]
    assert statuses(r"x = 2 &\Longrightarrow x^2 = 4") == ["proved"]
    body = r"N = B m &\Longrightarrow \left\lceil \frac{N}{B} \right\rceil = m"
    decl = (r"assume N \in \mathbb{N}", r"assume B \in \mathbb{N}", r"assume m \in \mathbb{N}")
    assert statuses(body, *decl) == ["proved"]


def test_a_chain_never_passes_through_a_false_implication():
    body = (r"x = 2 &\Longrightarrow x^2 = 5 \\"
            r"x^2 = 5 &\Longrightarrow x^4 = 25 \\"
            r"x = 2 &\Longrightarrow x^4 = 25")  # fmt: skip
    assert statuses(body) == ["unestablished", "proved", "unestablished"]


def test_an_implication_is_never_checked_at_points():
    report = check_steps(tex(r"x = 1 &\Longrightarrow y = 1"))
    step = report.steps[0]
    assert step.status == "unestablished" and report.first_failure.counterexample is None
    assert "only by rules" in report.first_failure.diagnosis["text"]


def test_a_fact_is_instantiated_only_over_its_whole_domain():
    # 1 - x^2 >= 0 holds for 0 < x < 1; it says nothing about a y > 0
    body = r"1 - x^2 &\ge 0 \\ 1 - y^2 &\ge 0"
    assert statuses(body, "assume 0 < x < 1", "assume y > 0") == ["checked", "failed"]


def test_a_premise_on_a_defined_name_is_not_substituted():
    # L is defined as x^2: "L = 4 ⟹ x = 2" is false (x = -2), and L is not an input to replace
    body = r"L &= x^2 \\ L = 4 &\Longrightarrow x = 2"
    assert statuses(body) == ["defined", "unestablished"]


def test_a_false_inequality_after_a_stacked_row_fails():
    body = r"a &= b + c \\ &\rlap{$\displaystyle b + c$} \\ &\ge b + 1"
    assert statuses(body, r"assume c \ge 0") == ["defined", "failed"]


# ------------------------------------------------------------------ evaluation at a point (At)

_COIN = ("index i = 1..n", "vector p, q : n", r"function H(p, q) = - \sum_{i=1}^{n} p_i \log q_i",
         "assume p_i > 0", r"assume \sum_{i=1}^{n} p_i = 1", "assume q_i > 0", r"assume \sum_{i=1}^{n} q_i = 1")  # fmt: skip
_AT = r"\left. H(p, q) \right|_{p = (\frac{1}{2}, \frac{1}{2}),\ q = (\frac{4}{5}, \frac{1}{5}),\ n = 2}"


def test_an_evaluation_bar_is_a_value_at_a_point():
    from gradproof.derivations.logic import At

    (b,) = _built(rf"{_AT} &= \log \frac{{5}}{{2}}", *_COIN)
    assert isinstance(b.lhs, At) and not b.lhs.free_symbols
    assert {str(k) for k, _ in b.lhs.point} == {"p", "q", "n"}


def test_values_at_a_point_and_a_witness_of_inequality():
    swapped = _AT.replace("H(p, q)", "H(q, p)")
    body = rf"{_AT} &= \log \frac{{5}}{{2}} \\ {swapped} &= \log 2 \\ {_AT} &\neq {swapped}"
    assert statuses(body, *_COIN) == ["proved", "proved", "proved"]


@pytest.mark.parametrize(
    "body",
    [
        # the wrong point: p's and q's values swapped (H(q, p) = log 2 there)
        r"\left. H(p, q) \right|_{p = (\frac{4}{5}, \frac{1}{5}),\ q = (\frac{1}{2}, \frac{1}{2}),\ n = 2} &= \log \frac{5}{2}",
        # the wrong value
        _AT + r" &= \log 2",
        # the assumed sum must not be used inside the point: (1, 1) sums to 2
        r"\left. \sum_{i=1}^{n} p_i \right|_{p = (1, 1),\ n = 2} &= 1",
        # at a point where they agree, the two are not different
        r"\left. H(p, q) \right|_{p = (\frac{1}{2}, \frac{1}{2}),\ q = (\frac{1}{2}, \frac{1}{2}),\ n = 2} &\neq "
        r"\left. H(q, p) \right|_{p = (\frac{1}{2}, \frac{1}{2}),\ q = (\frac{1}{2}, \frac{1}{2}),\ n = 2}",
    ],
)
def test_false_values_at_a_point_fail(body):
    assert statuses(body, *_COIN)[0] == "failed"


@pytest.mark.parametrize(
    ("bar", "message"),
    [
        (r"\left. H(p, q) \right|_{p = (1, 0),\ q = (1, 0)}", "entries at this point"),  # n not given
        (r"\left. H(p, q) \right|_{p = (1, 0, 0),\ q = (1, 0),\ n = 2}", "entries at this point"),
        (r"\left. H(p, q) \right|_{p = 1,\ q = (1, 0),\ n = 2}", "lists its entries"),
        (r"\left. x \right|_{x = y}", "exact number"),
        (r"\left. x \right|_{x = 0.5 + y}", "exact number"),
        (r"\left. x \right|_{i = 1}", "not an input"),
        (r"\left. x \right|_{x = 1,\ x = 2}", "given twice"),
    ],
)
def test_malformed_points_are_errors(bar, message):
    assert message in str(_error(rf"{bar} &= 0", *_COIN))


def test_an_evaluation_bar_needs_left_dot_and_a_subscript():
    assert statuses(r"\left. x^2 \right|_{x = 3} &= 9") == ["proved"]
    # without a subscript the bar is an ordinary one, and closes nothing
    assert "closes nothing" in str(_error(r"\left. x^2 \right| &= 9"))
    # \left. … \right. around an ordinary formula marks nothing
    assert statuses(r"\left. x + 1 \right. + 1 &= x + 2") == ["proved"]


# ------------------------------------------------------------------------ the fragment printer


def test_a_blank_left_side_only_under_an_equation_with_the_same_left_side():
    from gradproof.derivations.layout import continues_lhs
    from gradproof.derivations.model import Step

    x, y = sp.symbols("x y")
    assert continues_lhs(Step(x, y, ""), Step(x, 2 * y, "", ">="))  # x = y ≥ 2y says y ≥ 2y: the same
    assert not continues_lhs(Step(x, 1, "", ">="), Step(x, 2, "", "<="))  # x ≥ 1 ≤ 2 would say 1 ≤ 2
    assert not continues_lhs(Step(sp.Eq(x, 1), sp.Eq(y, 1), "", "=>"), Step(sp.Eq(x, 1), sp.Eq(y, 2), "", "=>"))
    assert not continues_lhs(None, Step(x, y, ""))


def test_the_fragment_writes_each_bound_with_its_left_side():
    from gradproof.derivations.registry import catalog

    d = next(x for x in catalog() if x.name == "iterations-per-epoch")
    text = d.latex()
    assert r"r &\leq B" in text and text.count(r"N = B m &\Longrightarrow") == 2


def test_a_function_is_declared_only_when_every_definition_is_one_formula():
    from gradproof.derivations.directives import directive_lines
    from gradproof.derivations.registry import catalog
    from dataclasses import replace
    from gradproof.derivations.model import Definition

    d = next(x for x in catalog() if x.name == "cross-entropy-asymmetry")
    assert any(line.startswith("function H(p, q) = ") for line in directive_lines(d))
    # H(q, p) defined by another formula: no single function H to declare
    p, q = (next(inp.symbol for inp in d.inputs if inp.name == s) for s in "pq")
    H = type(d.definitions[0].target)
    odd = [df if df.target != H(q, p) else Definition(H(q, p), (), 2 * df.expr, "") for df in d.definitions]
    lines = directive_lines(replace(d, definitions=tuple(odd)))
    assert not any(line.startswith("function H") for line in lines)


def test_right_sizes_only_its_own_delimiter():
    # the \right before ")" must not make the next "|" a closing bar
    assert statuses(r"\left( x \right) - |y| &= x - |y|") == ["proved"]


def test_rlap_inside_a_formula_is_only_a_group():
    assert statuses(r"x + 1 &= \rlap{$x$} + 1") == ["proved"]


def test_a_stacked_relation_ending_the_block_is_still_checked():
    built = _built(r"a &= b \\ &\rlap{$\displaystyle x^2 = x \cdot x$}")
    assert [b.op for b in built] == ["defined", "="]


def test_a_function_of_arguments_that_are_not_vector_inputs_is_not_declared():
    from dataclasses import replace

    from gradproof.derivations.directives import directive_lines
    from gradproof.derivations.registry import catalog

    d = next(x for x in catalog() if x.name == "cross-entropy-asymmetry")
    lines = directive_lines(replace(d, inputs=()))  # p and q no longer inputs with a shape
    assert not any(line.startswith(("function H", "vector")) for line in lines)

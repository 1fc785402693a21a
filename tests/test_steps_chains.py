"""Rows → relations: chains, continuation rows, definitions, line numbers, Markdown blocks."""

from __future__ import annotations

from pathlib import Path

from gradproof.steps.check import check_steps
from tests.steps_helpers import tex

IJ = "index i, j, k = 1..n"


def latexes(report):
    return [s.latex for s in report.steps]


def test_rows_chain_from_the_previous_right_side():
    r = check_steps(tex("a &= b + 0 \\\\\n  &= 0 + b \\\\\nc &= c", IJ))
    assert latexes(r) == ["a = b + 0", "b + 0 = 0 + b", "c = c"]
    assert [s.status for s in r.steps] == ["defined", "proved", "proved"]


def test_inline_chain_is_two_steps_on_one_line():
    r = check_steps(tex("x + x = 2x = x \\cdot 2", IJ))
    assert latexes(r) == ["x + x = 2x", "2x = x \\cdot 2"]
    assert r.steps[0].line == r.steps[1].line == 3


def test_a_row_without_relation_continues_the_right_side():
    r = check_steps(tex("x^2 + 2x + 1 &= x^2 \\\\\n &\\quad + 2x + 1 \\\\\n &= (x+1)^2"))
    assert latexes(r) == ["x^2 + 2x + 1 = x^2 + 2x + 1", "x^2 + 2x + 1 = (x+1)^2"]
    assert r.ok


def test_a_left_side_on_its_own_row():
    r = check_steps(tex("\\frac{d}{dx} x^2 \\\\\n &= 2x"))
    assert latexes(r) == ["\\frac{d}{dx} x^2 = 2x"]
    assert r.steps[0].line == 2 and r.ok


def test_left_and_right_delimiters_split_over_rows():
    r = check_steps(tex("y &= \\left( x + 1 \\right. \\\\\n &\\quad \\left. + 1 \\right)^2 \\\\\n &= (x+2)^2"))
    assert r.ok, str(r)
    assert latexes(r)[1] == "\\left( x + 1 + 1 \\right)^2 = (x+2)^2"


def test_reasons_labels_tags_and_spacing_are_ignored():
    body = ("a &= b \\, c && \\text{(because)} \\label{eq:1} \\\\\n"
            " &= c b \\quad \\text{since } b c = c b \\tag{2} \\\\[1em]\n"
            " &= \\boxed{b c} \\nonumber")  # fmt: skip
    r = check_steps(tex(body))
    assert latexes(r) == ["a = b \\, c", "b \\, c = c b", "c b = {b c}"]
    assert r.ok


def test_first_row_with_an_undefined_name_defines_it():
    r = check_steps(tex("L &= x^2 \\\\\n\\frac{d L}{d x} &= 2x"))
    assert [s.status for s in r.steps] == ["defined", "proved"]


def test_a_name_used_earlier_as_an_input_is_not_defined_later():
    r = check_steps(tex("y + 0 &= y \\\\\ny &= 3"))
    assert [s.status for s in r.steps] == ["proved", "failed"]


def test_colon_equals_defines():
    r = check_steps(tex("f := x^3 \\\\\n\\frac{df}{dx} &= 3x^2"))
    assert [s.status for s in r.steps] == ["defined", "proved"]


def test_relations():
    r = check_steps(tex("x^2 + 1 &\\ge 2x \\\\\n e^{x} &> 0 \\\\\n -e^{x} &< 0 \\\\\n x^2 &\\leq x^2 + 1 \\\\\n e^x &\\neq 0"))
    # inequalities are shown where the sign rules of gradproof.derivations.logic decide them
    # ((x − 1)² ≥ 0 by a strict minimum, e^x > 0 by assumptions); a universal ≠ is only checked
    assert [s.status for s in r.steps] == ["proved"] * 4 + ["checked"]
    # the other spellings, each with a false twin
    r = check_steps(tex("x^2 &\\le x^2 + 1 \\\\\n x^2 + 1 &\\geq 2x \\\\\n x^2 + 1 &\\le 2x \\\\\n x^2 &\\geq x^2 + 1"))
    got = [s.status for s in r.steps]
    assert got[0] in ("proved", "checked") and got[1] in ("proved", "checked"), got
    assert got[2:] == ["failed", "failed"], got


def test_approximation_is_not_established():
    r = check_steps(tex("e &\\approx 2.718"))
    assert r.steps[0].status == "unestablished"
    assert r.first_failure.diagnosis["kind"] == "other"


def test_line_is_the_rows_first_character_in_the_file():
    src = "% intro\n\n\\begin{align*}\n  a &= a \\\\\n\n   % a comment\n   &= a\n\\end{align*}\n"
    r = check_steps(src)
    assert [s.line for s in r.steps] == [4, 7]


def test_environments():
    for env in ("align", "equation*", "equation", "gather*", "multline*"):
        body = "x + x = 2x" if env != "align" else "x + x &= 2x"
        r = check_steps(f"\\begin{{{env}}}\n{body}\n\\end{{{env}}}\n")
        assert r.ok and len(r.steps) == 1, env
    assert check_steps("\\[ x + x = 2x \\]").ok
    r = check_steps("\\begin{equation}\\begin{aligned} y &= x + x \\\\ &= 2x \\end{aligned}\\end{equation}")
    assert r.ok and len(r.steps) == 2


def test_a_whole_document_only_math_is_read():
    src = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\nText with $a = b$ inline.\n"
           "% gradproof: index j = 1..n\n\\begin{align*}\n\\sum_{k=1}^{n} z_k \\delta_{jk} &= z_j\n\\end{align*}\n"
           "\\begin{verbatim}\n\\begin{align*} 1 &= 2 \\end{align*}\n\\end{verbatim}\n\\end{document}\n")  # fmt: skip
    r = check_steps(src)
    assert r.ok and len(r.steps) == 1


def test_markdown_blocks_continue_with_a_leading_relation(tmp_path: Path):
    md = tmp_path / "notes.md"
    md.write_text(
        "<!-- gradproof: index j = 1..n -->\nThe sigmoid:\n\n$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n\n"
        "Differentiate:\n\n$$\\frac{d}{dz} \\sigma(z) = \\frac{e^{-z}}{(1+e^{-z})^2}$$\n\nprose between\n\n"
        "$$= \\sigma(z)(1 - \\sigma(z))$$\n\n```math\n= \\sigma(z) - \\sigma(z)^2\n```\n\n"
        "```python\nx = '$$ 1 = 2 $$'\n```\n",
        encoding="utf-8",
    )
    r = check_steps(md)
    assert r.ok, str(r)
    assert [s.line for s in r.steps] == [4, 8, 12, 15]
    assert r.steps[2].latex == "\\frac{e^{-z}}{(1+e^{-z})^2} = \\sigma(z)(1 - \\sigma(z))"


def test_markdown_with_aligned_inside_dollars():
    r = check_steps("$$\n\\begin{aligned}\nf &= (x+1)^2 \\\\\n&= x^2 + 2x + 1\n\\end{aligned}\n$$\n", format="md")
    assert r.ok and len(r.steps) == 2


def test_declarations_in_markdown_comments():
    md = "<!-- gradproof: index i = 1..n -->\n<!-- gradproof: assume p_i > 0 -->\n$$\\log p_i^2 = 2 \\log p_i$$\n"
    r = check_steps(md, format="md")
    assert r.ok, str(r)


def test_unknown_keyword_is_ignored_with_a_warning():
    r = check_steps("% gradproof: softmax-jacobian — needs \\usepackage{amsmath}\n\\[ x = x \\]")
    assert r.ok
    assert any("softmax-jacobian" in w and "ignored" in w for w in r.warnings)

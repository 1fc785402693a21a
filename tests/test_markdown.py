"""Markdown for course sites: every math block renders in a real KaTeX 0.19 (throwOnError), no
layout hacks, tables, figures as PNG files beside the page, and the CLI's contract."""

import os
import subprocess
import sys

import pytest

from gradproof.cli import main
from gradproof.derivations.markdown import derivation_markdown, math_blocks, reason_rows
from gradproof.derivations.registry import catalog
from gradproof.reports.markdown import markdown_report

from .katex_helpers import katex_errors

FORBIDDEN = (r"\ensuremath", r"\resizebox", r"\scalebox", r"\parbox", r"\rlap", r"\onslide", r"\hspace", r"\color")


@pytest.fixture(scope="module")
def catalog_markdown():
    return markdown_report(None, verify=False, figures=False).text


def test_katex_harness_rejects_what_katex_rejects():
    version, errors = katex_errors([(r"\ensuremath{x}", False), (r"\resizebox{1em}{!}{x}", True), (r"\frac{a}{b}", True)])
    assert version.startswith("0.19.")
    assert len(errors) == 2 and "ensuremath" in errors[0]


def test_every_math_block_of_the_whole_catalog_renders_in_katex(catalog_markdown):
    blocks = math_blocks(catalog_markdown)
    blocks += [b for d in catalog() for b in math_blocks(d._repr_latex_())]
    assert len(blocks) > 500
    version, errors = katex_errors(blocks)
    assert version.startswith("0.19.")
    assert errors == []


def test_no_layout_hacks_and_every_derivation_present(catalog_markdown):
    for command in FORBIDDEN:
        assert command not in catalog_markdown
    for d in catalog():
        assert f"## {d.title}" in catalog_markdown.replace("\\", "")
    assert catalog_markdown.count("\\begin{aligned}") == len(catalog())
    assert "| quantity | value |" in catalog_markdown


def test_math_blocks_are_balanced(catalog_markdown):
    # an odd number of unescaped $ would make a course site render prose as math
    text = catalog_markdown.replace("\\$", "")
    assert text.count("$$") % 2 == 0
    assert text.replace("$$", "").count("$") % 2 == 0


def test_long_reasons_continue_on_rows_of_their_own():
    rows = reason_rows("the loss of free logits $Z$, $L_Z = -\\frac{1}{N} \\sum_a \\sum_c Y_{ac} \\log S_{ac}$ with "
                       "$S$ = softmax of each row of $Z$; linearity of the derivative, $Y$ does not depend on $Z$")
    assert len(rows) >= 3
    assert rows[0].startswith(r"\text{(") and rows[-1].endswith(r")}")
    text = derivation_markdown(next(d for d in catalog() if d.name == "softmax-regression-gradient"))
    assert "&& \\text{" in text


def test_text_in_reasons_is_escaped_for_katex():
    rows = reason_rows("100% of {braces} & #hash_tags ~ ^ \\ and \\$5")
    version, errors = katex_errors([(r"\begin{aligned} a &= b && " + rows[0] + r"\end{aligned}", True)])
    assert errors == []
    assert r"\%" in rows[0] and r"\{" in rows[0] and r"\$" in rows[0]


def test_markdown_prose_is_escaped():
    from gradproof.derivations.markdown import label, prose

    assert prose("a *b* [c](d) <script> $x_1$") == r"a \*b\* \[c\](d) \<script\> $x_1$"
    assert label("y_hat") == r"$\hat{y}$" and label("∂L/∂w_k") == r"∂L/∂w\_k"


def test_report_markdown_writes_page_and_png_figures(tmp_path, capsys):
    out = tmp_path / "my notes.md"
    rc = main(["report", "bias-variance-decomposition", "--format", "markdown", "-o", str(out), "--no-verify"])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    png = tmp_path / "my notes-bias-variance.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![Bias–variance trade-off](my%20notes-bias-variance.png)" in text
    assert "| → bias² (E\\_D\\[M\\] - f)² |" in text


def test_report_markdown_with_verification(tmp_path):
    out = tmp_path / "n.md"
    assert main(["report", "softmax-jacobian", "--format", "markdown", "-o", str(out), "--no-figures",
                 "--device", "cpu"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "**Verified** by" in text and "finite differences" in text
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "markdown", "-o", "notes.tex"], "writes a .md file"),
        (["--format", "article", "-o", "notes.md"], "must be a .tex file"),
        (["--format", "markdown", "-o", "notes.md", "--pdf"], "not compiled"),
        (["--format", "markdown", "-o", "notes.md", "--function", "m:f"], "only --format article"),
        (["--format", "markdown", "-o", "no/such/dir/notes.md"], "does not exist"),
    ],
)
def test_report_markdown_usage_errors_are_one_line(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "gradproof", "report", "softmax-jacobian", *args],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())


def test_title_and_author_stay_on_their_lines_and_are_escaped():
    text = markdown_report(["sigmoid-derivative"], title="Lecture 5\n# not a heading <b>", author="A. *T*\n\nx",
                           verify=False, figures=False).text
    lines = text.splitlines()
    assert lines[0] == r"# Lecture 5 \# not a heading \<b\>" and lines[2] == r"*A. \*T\* x*"
    assert sum(line.startswith("# ") for line in lines) == 1

"""Notebook displays of results, without a kernel: verdict first, failures first, everything escaped."""

import numpy as np

import gradproof
from gradproof.experiments.bias_variance import BiasVarianceResult, BiasVarianceRow
from gradproof.verify.result import GradientCheck, ParameterCheck


def _check():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=16)

    def loss(p):
        return 0.5 * np.mean((X @ p["<b>|w"] + p["a"] - y) ** 2)

    def grad(p):
        r = X @ p["<b>|w"] + p["a"] - y
        return {"<b>|w": -X.T @ r / len(y), "a": r.mean()}  # sign flipped for the weights

    # "a" passes and comes first in the dict; the failure must still be listed first
    return gradproof.check_gradient(loss, grad, {"a": np.array(0.1), "<b>|w": np.ones(3)})


def test_gradient_check_markdown_and_html_verdict_then_failures_first():
    check = _check()
    assert not check.ok
    md = check._repr_markdown_()
    assert md.startswith("**gradient check FAILED for 1 of 2 parameters")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "parameter" not in line]
    assert rows[0].startswith("| \\<b\\>\\|w | 3 | FAILED |") and rows[1].startswith("| a | scalar | ok |")
    assert "sign" in rows[0]  # the diagnosis travels with the row
    html = check._repr_html_()
    assert html.index("FAILED") < html.index("<table>")
    assert "<b>|w" not in html and "&lt;b&gt;|w" in html
    assert html.index("&lt;b&gt;|w") < html.index("<td style=\"text-align:left\">a</td>")


def test_gradient_check_problem_and_kink_rows():
    problem = ParameterCheck("W", (2, 3), False, problem="gradient has shape (3, 2), parameter (2, 3)",
                             diagnosis="transposed")
    kink = ParameterCheck("b", (3,), True, 1e-9, 1e-8, 8, 0, kinks=2)
    check = GradientCheck((kink, problem))
    md = check._repr_markdown_()
    assert "| W | 2×3 | FAILED |" in md and "shape (3, 2)" in md and "likely cause: transposed" in md
    assert "| b | 3 | ok (at a kink) |" in md and "one-sided derivative" in md
    assert md.index("| W |") < md.index("| b |")


def _row(degree, gap_ok=True):
    measured = 0.2905 if gap_ok else 0.9  # sum 0.29, stderr 0.001
    return BiasVarianceRow(degree, 0.1, 0.1, 0.09, measured, 0.001, 0.05)


def test_bias_variance_display_says_when_the_identity_fails():
    good = BiasVarianceResult((_row(1), _row(4)), 100, 30, 200, 0.3, 0, "cpu")
    assert good._repr_markdown_().startswith("**bias² + variance + σ² = measured error holds")
    bad = BiasVarianceResult((_row(1), _row(4, gap_ok=False)), 100, 30, 200, 0.3, 0, "cpu")
    md = bad._repr_markdown_()
    assert md.startswith("**bias² + variance + σ² = measured error does NOT hold") and "degree(s) 4" in md
    assert "| 4 |" in md and md.splitlines()[-3].endswith("| NO |")
    html = bad._repr_html_()
    assert html.startswith("<p") and "#cf222e" in html and html.count("<tr>") == 3


SLIP = r"""% gradproof: vector w : d
\begin{align*}
R &= \frac{\lambda}{2} \|w\|_2^2 \\
\nabla_w R &= \lambda w \\
\frac{\partial R}{\partial w_1} &= 2 \lambda w_1
\end{align*}
"""


def test_step_report_display_verdict_first_then_rows():
    report = gradproof.check_steps(SLIP)
    assert not report.ok
    md = report._repr_markdown_()
    assert md.startswith("**") and "do not hold" in md.splitlines()[0]
    assert "| line | verdict | step | details |" in md
    wrong = next(line for line in md.splitlines() if "FAILED" in line)
    assert r"2 \\lambda w\_1" in wrong  # escaped: renders as the LaTeX source, never as a broken table
    assert "factor 2" in wrong  # the diagnosis travels with the failing row
    html = report._repr_html_()
    assert html.index("do not hold") < html.index("<table>") and "#cf222e" in html


def test_step_report_display_of_a_syntax_error_has_no_table():
    report = gradproof.check_steps("no relation here $$x$$")
    md, html = report._repr_markdown_(), report._repr_html_()
    assert "no relation to check" in md and "| line |" not in md and "\\$\\$" in md
    assert "<table>" not in html and "no relation to check" in html

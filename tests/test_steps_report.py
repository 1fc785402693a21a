"""``gradproof report --steps FILE -o checked.tex [--pdf]``: the user's rows with a mark each and
the counterexample under the first wrong row; written whatever the verdict, exit like check-steps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gradproof.cli import main

SLIP = r"""% gradproof: vector w : P
% gradproof: index k = 1..P
% gradproof: assume w_k \neq 0
\newcommand{\reg}{\frac{\lambda}{2}}
\begin{align}
R &= \reg \|w\|_1 \label{eq:r} \\
  &= \reg \sum_{j=1}^{P} |w_j| \tag{2} \\
\frac{\partial R}{\partial w_k} &= \lambda \operatorname{sign}(w_k) && \text{(the slide's step)}
\end{align}
Text with 50% and a $ sign \$ in it.
"""


def write(tmp_path: Path, text: str, name: str = "slip.tex") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_report_marks_every_row_and_explains_the_first_wrong_one(tmp_path, capsys):
    src = write(tmp_path, SLIP)
    out = tmp_path / "checked.tex"
    assert main(["report", "--steps", str(src), "-o", str(out)]) == 1
    tex = out.read_text(encoding="utf-8")
    assert tex.count("\\tag*{\\gpdef}") == 1 and tex.count("\\tag*{\\gpok}") == 1 and tex.count("\\tag*{\\gpwrong}") == 1
    assert "\\label{eq:r}" not in tex and "\\tag{2}" not in tex  # the marks take the tags' place
    assert "\\providecommand{\\reg}{\\frac{\\lambda}{2}}" in tex  # the user's macros come along
    assert "Counterexample:" in tex and "Likely slip (factor)" in tex
    assert tex.rstrip().endswith("\\end{document}")
    printed = capsys.readouterr().out
    assert "first wrong step: line 8" in printed and f"wrote {out}" in printed


def test_report_of_a_correct_file_exits_0(tmp_path):
    src = write(tmp_path, SLIP.replace(r"&= \lambda \operatorname{sign}(w_k)", r"&= \reg \operatorname{sign}(w_k)"))
    out = tmp_path / "ok.tex"
    assert main(["report", "--steps", str(src), "-o", str(out)]) == 0
    assert "\\tag*{\\gpwrong}" not in out.read_text(encoding="utf-8")


def test_parse_error_writes_nothing_and_exits_2(tmp_path, capsys):
    src = write(tmp_path, "\\begin{align*}\n a &= (b\n\\end{align*}\n")
    out = tmp_path / "never.tex"
    out.write_text("old", encoding="utf-8")
    assert main(["report", "--steps", str(src), "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "old"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{src}:2:" in err


def test_usage_errors(tmp_path):
    src = write(tmp_path, SLIP)
    assert main(["report", "--steps", str(src), "softmax-jacobian", "-o", str(tmp_path / "a.tex")]) == 2
    assert main(["report", "--steps", str(src), "--format", "beamer", "-o", str(tmp_path / "a.tex")]) == 2
    assert main(["report", "--steps", str(tmp_path / "missing.tex"), "-o", str(tmp_path / "a.tex")]) == 2
    assert main(["report", "--steps", str(src), "-o", str(tmp_path)]) == 2


def test_markdown_source(tmp_path):
    md = write(tmp_path, "$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n\n$$= \\frac{e^z}{1 + e^z}$$\n", "n.md")
    out = tmp_path / "n.tex"
    assert main(["report", "--steps", str(md), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("\\gpok") >= 2


@pytest.mark.tex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (TeX Live needed)")
def test_pdf_compiles(tmp_path):
    src = write(tmp_path, SLIP)
    out = tmp_path / "checked.tex"
    assert main(["report", "--steps", str(src), "-o", str(out), "--pdf"]) == 1  # the verdict, not the build
    pdf = out.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Counterexample" in text and "wrong" in text and "proved" in text


MIDDLE = r"""% gradproof: index i, j, k = 1..n
% gradproof: define s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}
% gradproof: assume \sum_{i=1}^{n} y_i = 1
\begin{align*}
L &= -\sum_{i=1}^{n} y_i \log s_i \\
\frac{\partial L}{\partial z_j} &= -\sum_{i=1}^{n} y_i \frac{\partial \log s_i}{\partial z_j} && \text{linearity} \\
  &= \sum_{i=1}^{n} y_i (\delta_{ij} - s_j) && \text{log-softmax gradient} \\
  &= y_j - s_j \sum_{i=1}^{n} y_i \\
  &= s_j - y_j && \text{labels sum to 1}
\end{align*}
"""


@pytest.mark.tex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (TeX Live needed)")
def test_pdf_compiles_with_the_note_inside_the_alignment(tmp_path):
    # the first wrong row is not the last: counterexample and diagnosis sit in an \intertext
    out = tmp_path / "checked.tex"
    assert main(["report", "--steps", str(write(tmp_path, MIDDLE)), "-o", str(out), "--pdf"]) == 1
    assert "\\intertext{" in out.read_text(encoding="utf-8")
    pdf = out.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Counterexample" in text and "Likely slip (sign)" in text

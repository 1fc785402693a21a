"""The Python front door of the step checker: gradproof.check_steps / assert_steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import gradproof

SLIP = r"""% gradproof: vector w : d
\begin{align*}
R &= \frac{\lambda}{2} \|w\|_2^2 \\
\nabla_w R &= \lambda w \\
\frac{\partial R}{\partial w_1} &= 2 \lambda w_1
\end{align*}
"""


def test_public_names():
    assert "check_steps" in gradproof.__all__ and "assert_steps" in gradproof.__all__
    assert gradproof.check_steps is gradproof.steps.check.check_steps


def test_import_does_not_load_lark_or_sympy():
    code = "import gradproof, sys; print('lark' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    code = "from gradproof.cli import main; import sys; main(['list']); print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "False"


def test_string_and_path_sources(tmp_path: Path):
    report = gradproof.check_steps(SLIP)
    assert not report.ok and not bool(report)
    assert report.file == "<string>"
    first = report.first_failure
    assert first.line == 5 and first.status == "failed"
    assert first.diagnosis["kind"] == "factor"
    assert [s.status for s in report.steps] == ["defined", "proved", "failed"]
    path = tmp_path / "slip.tex"
    path.write_text(SLIP, encoding="utf-8")
    from_file = gradproof.check_steps(path)
    assert from_file.file == str(path)
    assert [s.status for s in from_file.steps] == [s.status for s in report.steps]


def test_readable_str():
    text = str(gradproof.check_steps(SLIP))
    assert "first wrong step: line 5" in text and "✗" in text and "factor 2" in text


def test_assert_steps_raises_with_the_report():
    with pytest.raises(AssertionError, match="first wrong step: line 5"):
        gradproof.assert_steps(SLIP)
    ok = gradproof.assert_steps(SLIP.replace(r"2 \lambda w_1", r"\lambda w_1"))
    assert ok.ok


def test_format_option():
    md = "$$x + x = 2x$$\n"
    assert gradproof.check_steps(md, format="md").ok
    with pytest.raises(ValueError, match="format"):
        gradproof.check_steps(md, format="rst")

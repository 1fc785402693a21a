"""Reports compiled for real: the whole catalog as an article and as a Beamer deck.

Needs pdflatex (and pdftotext to read the PDF back); skipped with a reason where TeX is missing.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from gradproof.cli import main

pytestmark = [
    pytest.mark.tex,
    pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (TeX Live needed)"),
]


def _pdf_text(pdf) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("fmt", "extra"),
    [("article", []), ("beamer", ["--no-verify"])],
    ids=["article", "beamer"],
)
def test_whole_catalog_compiles_with_every_title(fmt, extra, tmp_path, capsys):
    from gradproof.derivations.registry import catalog

    out = tmp_path / f"{fmt}.tex"
    code = main(["report", "-o", str(out), "--format", fmt, "--pdf", "--title", r"Lecture \input{/etc/passwd}", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "(0 overfull box warning(s))" in captured.out
    text = _pdf_text(out.with_suffix(".pdf"))
    assert r"Lecture \input{/etc/passwd}" in text  # typeset literally, not executed
    for d in catalog():
        assert " ".join(d.title.split()) in text, d.title


def test_latex_error_reports_the_line(tmp_path):
    from gradproof.reports.compile import TexError, compile_pdf

    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedcommand\n\\end{document}\n")
    with pytest.raises(TexError) as info:
        compile_pdf(tex)
    assert "line 4" in str(info.value) and "\\undefinedcommand" in str(info.value)
    assert not tex.with_suffix(".pdf").exists()


def test_function_report_compiles(tmp_path, monkeypatch):
    (tmp_path / "texuser_code.py").write_text("def grad(s, y):\n    return s - y\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "code.tex"
    assert main(["report", "--function", "texuser_code:grad", "--against", "cross-entropy-softmax-gradient",
                 "-o", str(out), "--pdf"]) == 0  # fmt: skip
    assert "The math" in _pdf_text(out.with_suffix(".pdf"))


def _every_title_character() -> str:
    from gradproof.derivations.latex_text import _LETTERS, _TEXT_UNICODE, _UNICODE_MATH

    accented = "éèêëàâäáãåçñóòôöõúùûüíìîïýÿćčěłńőřśšźżž"
    return " ".join(["Title", "".join(_UNICODE_MATH), "".join(_TEXT_UNICODE), "".join(_LETTERS), accented])


@pytest.mark.parametrize("fmt", ["article", "beamer", "function"])
def test_a_title_with_every_mapped_character_compiles(fmt, tmp_path, monkeypatch, capsys):
    # before: "√x" passed the check and then wrote TeX that did not compile (\sqrt took the
    # closing brace as its argument); β was refused although the message said Greek was fine
    title = _every_title_character()
    assert "√" in title and "β" in title and "Ω" in title and "∏" in title
    out = tmp_path / "t.tex"
    if fmt == "function":
        (tmp_path / "texuser_title.py").write_text("def grad(s, y):\n    return s - y\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        argv = ["report", "--function", "texuser_title:grad"]
    else:
        argv = ["report", "sigmoid-derivative", "--format", fmt, "--no-verify", "--no-figures"]
    code = main([*argv, "-o", str(out), "--pdf", "--title", title, "--author", "βσ Müller √2 ≤ ∞"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = _pdf_text(out.with_suffix(".pdf"))
    assert "Title" in text and "√" in text and "ller" in text


def test_function_code_keeps_its_indentation(tmp_path, monkeypatch):
    # before: TeX dropped the leading ~ after each \\, so the body printed flush with the def
    (tmp_path / "texuser_indent.py").write_text("def grad(s, y):\n    d = s - y\n    return d\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "code.tex"
    assert main(["report", "--function", "texuser_indent:grad", "-o", str(out), "--pdf"]) == 0
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    layout = subprocess.run(["pdftotext", "-layout", str(out.with_suffix(".pdf")), "-"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines = {line.strip().split()[0]: line for line in layout.splitlines() if line.strip()}
    indent = {key: len(lines[key]) - len(lines[key].lstrip()) for key in ("def", "return")}
    assert indent["return"] > indent["def"]

"""`gradproof show` reads as mathematics: no SymPy internals, no raw LaTeX, no line wider than the
terminal, ASCII where the terminal cannot encode Unicode."""

import os
import re
import subprocess
import sys

import pytest

from gradproof.cli import main
from gradproof.derivations.registry import names

#: the issue's test, exactly
INTERNALS = re.compile(
    r"\b(Sum|Product|Max|Min|Abs|Limit|Heaviside|IndexedBase|Indexed|Piecewise|KroneckerDelta|Derivative|Symbol"
    r"|Function)\(|\\[A-Za-z]+"
)


def _show(slug, monkeypatch, capsys, columns=100):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["show", slug]) == 0
    return capsys.readouterr().out


def _problems(out: str, width: int) -> list[str]:
    problems = []
    for number, line in enumerate(out.splitlines(), 1):
        if INTERNALS.search(line):
            problems.append(f"line {number}: internals or raw LaTeX: {line!r}")
        if "= -0" in line:
            problems.append(f"line {number}: '= -0': {line!r}")
        if len(line) > width:
            problems.append(f"line {number}: {len(line)} > {width} code points: {line!r}")
    return problems


@pytest.mark.parametrize("slug", names())
def test_show_every_slug_at_100_columns(slug, monkeypatch, capsys):
    out = _show(slug, monkeypatch, capsys)
    assert _problems(out, 100) == []
    assert "because:" in out and "Statement:" in out


@pytest.mark.parametrize("slug", ["softmax-regression-gradient", "bias-variance-decomposition", "mlp-backprop"])
@pytest.mark.parametrize("columns", [60, 41])
def test_show_narrow_terminals(slug, columns, monkeypatch, capsys):
    out = _show(slug, monkeypatch, capsys, columns)
    assert _problems(out, columns) == []


def test_show_uses_one_delta_notation(monkeypatch, capsys):
    # statements, steps and reasons all print δ_ij; the indicator spelling 1{i = j} is gone
    out = _show("softmax-jacobian", monkeypatch, capsys)
    assert "∂s_i/∂z_j = s_i (δ_ij − s_j)" in out
    assert "because: ∂z_i/∂z_j = δ_ij; chain rule with d/dx log x = 1/x" in out
    assert "1{" not in out


def test_show_readable_function_names(monkeypatch, capsys):
    out = _show("mlp-backprop", monkeypatch, capsys)
    assert "φ′(a_j)" in out and "∂/∂t (max(0, t)) = H(t)" in out
    out = _show("l1-regularization", monkeypatch, capsys)
    assert "lim_{h→0⁺} (λ |h|/h) = λ" in out and "|w_j|" in out
    out = _show("cross-entropy-kl", monkeypatch, capsys)
    assert "H(p, q) = H(p) + KL(p ‖ q)" in out
    out = _show("loss-function-derivatives", monkeypatch, capsys)
    assert "a_i := Π_{k=1..n} H(z_i − z_k)" in out and "ℓ_hinge := max(0, 1 − c ŷ)" in out
    assert "(margin 2.5 > 1) = 0\n" in out  # the hinge gradient at a confident prediction, not "-0"


def test_show_continuation_rows_line_up(monkeypatch, capsys):
    out = _show("softmax-jacobian", monkeypatch, capsys).splitlines()
    first = next(k for k, line in enumerate(out) if "Jacobian ∂s_i/∂z_j = [[" in line)
    column = out[first].index("[[") + 1
    assert out[first + 1].index("[") == column and out[first + 2].index("[") == column


def _run(slug, **env):
    full = {**os.environ, "COLUMNS": "100", **env}
    return subprocess.run([sys.executable, "-m", "gradproof", "show", slug], capture_output=True, env=full)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_show_spells_ascii_where_unicode_cannot_be_encoded(encoding):
    proc = _run("softmax-jacobian", PYTHONIOENCODING=encoding)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = proc.stdout.decode("ascii")  # every byte ASCII
    assert "ds_i/dz_j = s_i (delta_ij - s_j)" in out
    assert "sum_{l=1..n} e^{z_l}" in out
    assert "Traceback" not in proc.stderr.decode(errors="replace")
    assert _problems(out, 100) == []


def test_show_utf8_subprocess_matches_in_process(monkeypatch, capsys):
    proc = _run("cross-entropy-softmax-gradient", PYTHONIOENCODING="utf-8")
    assert proc.returncode == 0
    assert proc.stdout.decode("utf-8") == _show("cross-entropy-softmax-gradient", monkeypatch, capsys)


def test_ascii_output_is_laid_out_in_ascii_not_transliterated_after_wrapping():
    # the ASCII spellings are longer: the layout must be made from them, or lines overflow
    from gradproof.derivations.registry import derivation
    from gradproof.derivations.text import render_text

    proc = _run("softmax-regression-gradient", PYTHONIOENCODING="ascii")
    expected = render_text(derivation("softmax-regression-gradient"), width=100, ascii=True)
    assert proc.stdout.decode("ascii") == expected + "\n"
    assert expected != render_text(derivation("softmax-regression-gradient"), width=100)

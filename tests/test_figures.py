"""Figures: every one builds from computed data, in all four formats, byte-for-byte repeatable;
``gradproof figure`` and ``gradproof.figure``; placement beside the derivations in reports."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

import gradproof
from gradproof.cli import main
from gradproof.reports import figures as F

ALL = F.names()
ISSUE_NAMES = [
    "ce-vs-mse-gradient", "bias-variance", "sigmoid-derivative", "log-loss", "loss-zoo", "polynomial-fits",
    "train-test-error", "gd-step-sizes", "softmax-stability", "dropout-kept-count",
]  # fmt: skip
MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-", ".svg": b"<?xml"}


def test_the_issues_names_in_order():
    assert ALL == ISSUE_NAMES


@pytest.mark.parametrize("name", ALL)
def test_tikz_is_a_tikzpicture_with_computed_coordinates(name):
    tikz = F.figure(name).tikz
    assert tikz.startswith("\\begin{tikzpicture}") and tikz.rstrip().endswith("\\end{tikzpicture}")
    assert tikz.count("\\addplot") == len(F.figure(name).series)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.parametrize("name", ALL)
def test_images_in_every_format_and_repeatable(name, suffix, tmp_path):
    pytest.importorskip("matplotlib")
    fig = F.figure(name)
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    fig.save(a)
    fig.save(b)
    data = a.read_bytes()
    assert data.startswith(MAGIC[suffix]) and len(data) > 1000
    assert data == b.read_bytes()  # no dates, no random ids


@pytest.mark.tex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (TeX Live needed)")
def test_tex_fragments_need_only_pgfplots(tmp_path):
    for name in ALL:
        F.figure(name).save(tmp_path / f"{name}.tex")
    body = "".join(f"\\input{{{name}.tex}}\n\\newpage\n" for name in ALL)
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n"
                   f"\\begin{{document}}\n{body}\\end{{document}}\n")
    run = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull" not in log


def test_notebook_hooks():
    pytest.importorskip("matplotlib")
    fig = gradproof.figure("sigmoid-derivative")
    assert fig._repr_png_().startswith(MAGIC[".png"])
    svg = fig._repr_svg_()
    assert isinstance(svg, str) and "<svg" in svg
    assert "sigmoid-derivative" in repr(fig)


# -- the data is computed, and right --------------------------------------------------------------


def _series(name, label_start):
    return next(s for s in F.figure(name).series if s.label.startswith(label_start))


def test_sigmoid_figure_from_the_derivation():
    sigma = np.array(_series("sigmoid-derivative", "$\\sigma(z)").y)
    slope = np.array(_series("sigmoid-derivative", "$\\sigma'").y)
    z = np.array(_series("sigmoid-derivative", "$\\sigma(z)").x)
    np.testing.assert_allclose(sigma, 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(slope, sigma * (1 - sigma), rtol=1e-12)
    assert slope.max() == pytest.approx(0.25) and F.figure("sigmoid-derivative").lines[0].at == 0.25


def test_log_loss_figure():
    one, zero = _series("log-loss", "$y = 1$"), _series("log-loss", "$y = 0$")
    p = np.array(one.x)
    np.testing.assert_allclose(one.y, -np.log(p), rtol=1e-10)
    np.testing.assert_allclose(zero.y, -np.log(1 - p), rtol=1e-10)


def test_loss_zoo_figure():
    yhat = np.array(_series("loss-zoo", "L1").x)
    np.testing.assert_allclose(_series("loss-zoo", "L1").y, np.abs(yhat - 1))
    np.testing.assert_allclose(_series("loss-zoo", "L2").y, (yhat - 1) ** 2)
    np.testing.assert_allclose(_series("loss-zoo", "hinge").y, np.maximum(0, 1 - yhat))
    np.testing.assert_array_equal(_series("loss-zoo", "zero-one").y, (yhat < 0).astype(float))


def test_gd_step_sizes_converge_oscillate_diverge():
    fig = F.figure("gd-step-sizes")
    paths = {s.label.split("$")[1]: np.array(s.y) for s in fig.series}
    assert np.all(np.diff(np.abs(paths["\\alpha = 0.3"])) < 0) and np.all(paths["\\alpha = 0.3"] > 0)
    osc = paths["\\alpha = 1.7"]
    assert np.all(np.sign(osc[1:]) != np.sign(osc[:-1])) and abs(osc[-1]) < abs(osc[0])
    assert abs(paths["\\alpha = 2.1"][-1]) > 4
    np.testing.assert_allclose(paths["\\alpha = 0.3"], 0.7 ** np.arange(16))


def test_softmax_stability_figure():
    stable, naive = _series("softmax-stability", "stable"), _series("softmax-stability", "naive")
    c = np.array(naive.x)
    expected = 1 / (1 + np.exp(-1.0) + np.exp(-2.0))
    np.testing.assert_allclose(stable.y, expected, rtol=1e-12)
    nan = np.isnan(naive.y)
    assert not nan[c < 709].any() and nan[c > 710].all()
    assert "710" in F.figure("softmax-stability").caption


def test_dropout_kept_count_figure():
    pmf = F.figure("dropout-kept-count").series[0]
    k, q = np.array(pmf.x), np.array(pmf.y)
    assert k[np.argmax(q)] == 500 and q.sum() == pytest.approx(1.0, abs=1e-4)
    assert q.max() == pytest.approx(math.comb(1000, 500) / 2**1000, rel=1e-12)
    assert "15.8" in F.figure("dropout-kept-count").caption


def test_polynomial_and_train_test_figures():
    notes = F.figure("polynomial-fits").notes
    train = [float(n.split("train ")[1].split()[0]) for n in notes]
    assert train[0] > train[1] > train[2]  # more capacity fits the training set better
    rows = {s.label: np.array(s.y) for s in F.figure("train-test-error").series}
    assert np.all(np.diff(rows["training error"]) <= 1e-12)
    test = rows["test error"]
    assert int(np.argmin(test)) not in (0, len(test) - 1)  # falls, then rises


# -- the command line ------------------------------------------------------------------------------


def test_list_prints_name_and_title(capsys):
    assert main(["figure", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ALL
    width = max(map(len, ALL))
    assert all(line[width : width + 2] == "  " for line in lines)


def test_list_imports_nothing_heavy():
    code = ("import sys; from gradproof.cli import main; main(['figure', '--list']); "
            "print(sorted(m for m in ('torch', 'sympy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("suffix", [".tex", ".png"])
def test_cli_writes_a_figure(suffix, tmp_path, capsys):
    if suffix != ".tex":
        pytest.importorskip("matplotlib")
    out = tmp_path / f"fig{suffix}"
    assert main(["figure", "gd-step-sizes", "-o", str(out)]) == 0
    assert out.exists() and f"wrote {out}" in capsys.readouterr().out


def test_cli_prints_tex_without_output(capsys):
    assert main(["figure", "loss-zoo"]) == 0
    assert "\\begin{tikzpicture}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["figure", "sigmoid-derivativ", "-o", "x.png"], "did you mean 'sigmoid-derivative'"),
        (["figure", "gd-step-sizes", "-o", "x.jpg"], "use a .tex, .pdf, .png or .svg file"),
        (["figure"], "name a figure"),
        (["figure", "--list", "loss-zoo"], "--list"),
        (["figure", "loss-zoo", "-o", "/nonexistent-dir/x.png"], "does not exist"),
    ],
)
def test_cli_usage_errors_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_without_matplotlib_images_exit_2_with_the_install_command(tmp_path, capsys, monkeypatch):
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    out = tmp_path / "fig.png"
    assert main(["figure", "sigmoid-derivative", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'gradproof[plots]'" in err and not out.exists()
    assert main(["figure", "sigmoid-derivative", "-o", str(tmp_path / "fig.tex")]) == 0  # .tex needs none


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "fig.tex"
    target.write_text("old")
    import gradproof.reports.output as output

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", broken)
    with pytest.raises(gradproof.InputError, match="cannot write"):
        F.figure("loss-zoo").save(target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["fig.tex"]


def test_figure_api_errors():
    with pytest.raises(gradproof.InputError, match="did you mean 'log-loss'"):
        gradproof.figure("log_los")
    with pytest.raises(gradproof.InputError):
        gradproof.figure(3)
    assert gradproof.figure("Loss_Zoo").name == "loss-zoo"


# -- reports ---------------------------------------------------------------------------------------


def test_figures_sit_beside_their_derivations():
    from gradproof.reports import build_report

    names = ["softmax-shift-invariance", "sigmoid-derivative", "dropout-expectation"]
    tex = build_report(names, format="article", verify=False)
    sections = tex.split("\\section{")
    by_title = {part.split("}")[0]: part for part in sections[1:]}
    assert "logit scale $c$" in by_title["Softmax is invariant to adding a constant"]
    assert "Gradient descent" not in tex and "\\section{Figures}" not in tex
    assert "units kept $K$" in by_title[gradproof.derivation("dropout-expectation").title]
    beamer = build_report(names, format="beamer", verify=False)
    first_dropout_frame = beamer.index(gradproof.derivation("dropout-expectation").title)
    assert beamer.index("How many of 1,000 units dropout keeps") > first_dropout_frame

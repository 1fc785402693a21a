"""Reports without TeX: golden files, escaping, determinism, layout, latexify refusals, the CLI."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest

from gradproof.cli import main
from gradproof.errors import InputError
from gradproof.derivations.latex import to_latex
from gradproof.derivations.latex_text import escape_text, text_to_latex
from gradproof.derivations.layout import width
from gradproof.reports import build_report

from .reports_helpers import assert_golden

INJECTIONS = [r"\input{/etc/passwd}", r"\write18{rm -rf ~}", "$x$ & # % ^ _ ~ {}", "line\n\\immediate\\write18{x}"]


@pytest.mark.parametrize(
    ("name", "fmt", "names"),
    [
        ("fragment-two.tex", "fragment", ["softmax-jacobian", "cross-entropy-kl"]),
        ("article-softmax-jacobian.tex", "article", ["softmax-jacobian"]),
        ("beamer-cross-entropy-kl.tex", "beamer", ["cross-entropy-kl"]),
    ],
    ids=["fragment", "article", "beamer"],
)
def test_golden(name, fmt, names):
    tex = build_report(names, format=fmt, title="Golden", author="A. Teacher", verify=False, figures=False)
    assert_golden(name, tex)


def test_same_input_same_bytes():
    kwargs = dict(format="article", verify=False, figures=True)
    assert build_report(["cross-entropy-softmax-gradient"], **kwargs) == build_report(
        ["cross-entropy-softmax-gradient"], **kwargs
    )


@pytest.mark.parametrize("evil", INJECTIONS, ids=["input", "write18", "specials", "newline"])
@pytest.mark.parametrize("fmt", ["article", "beamer", "fragment"])
def test_title_and_author_are_inert(evil, fmt):
    tex = build_report(["softmax-jacobian"], format=fmt, title=evil, author=evil, verify=False, figures=False)
    for command in (r"\input{", r"\write18", r"\immediate"):
        assert command not in tex
    # no line may begin with what followed a newline in the title (it would escape a comment)
    assert not any(line.startswith("\\immediate") for line in tex.splitlines())


@pytest.mark.parametrize("evil", INJECTIONS)
def test_escape_text_has_no_live_commands(evil):
    out = escape_text(evil) + text_to_latex(evil)
    assert "\\input" not in out and "\\write" not in out and "\n" not in out


def test_reason_text_keeps_known_math_and_escapes_the_rest():
    out = text_to_latex(r"y_i \ge 0 and \sum_i y_i = 1 \input{x}")
    assert r"\ensuremath{\geq }" in out and r"\ensuremath{\sum _i}" in out
    assert r"\textbackslash{}input\{x\}" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bias–variance", "Bias--variance"),  # en dash: never "?"
        ("n_2, …, n_K", r"\ensuremath{n_2}, \ldots{}, \ensuremath{n_K}"),
        ("ε = ±σ", r"\ensuremath{\varepsilon } = \ensuremath{\pm }\ensuremath{\sigma }"),
        ("margin 0.3 < 1 |x|", r"margin 0.3 \ensuremath{<} 1 \ensuremath{|}x\ensuremath{|}"),  # OT1 prints ¡ and —
        ("M_train and ℓ_hinge", r"\ensuremath{M_{train}} and \ensuremath{\ell _{hinge}}"),
        ("see gradproof.bias_variance_experiment", r"see \texttt{gradproof.bias\_variance\_experiment}"),
        ("log a - log b", r"log a \ensuremath{-} log b"),
        ("café", r"caf\'{e}"),  # the accent kept, as an accent command
    ],
)
def test_text_to_latex_typography(text, expected):
    assert text_to_latex(text) == expected


def test_lecture_term_order():
    import sympy as sp

    i, j = sp.symbols("i j", integer=True)
    s = sp.IndexedBase("s")
    assert to_latex(sp.KroneckerDelta(i, j) - s[j]) == r"\delta_{ij} - {s}_{j}"


def test_long_right_hand_sides_are_broken():
    from gradproof.derivations.registry import derivation
    from gradproof.derivations.layout import layout_steps

    steps = layout_steps(derivation("cross-entropy-kl"), 24.0)
    assert any(len(s.pieces) > 1 for s in steps)


def _rows_fit(steps, budget):
    """Every row of a laid-out derivation fits: the widest unstacked lhs, the relation and the
    piece (continuation pieces indented) together within ``budget`` ems."""
    from gradproof.derivations.layout import CONTINUATION_INDENT, RELATION_WIDTH

    column = max((width(s.lhs) for s in steps if not s.stacked), default=0.0)
    for s in steps:
        if s.stacked:
            assert width(s.lhs) <= budget - column + 1e-9, s.lhs
        assert column + RELATION_WIDTH + width(s.pieces[0]) <= budget + 1e-9, s.pieces[0]
        for p in s.pieces[1:]:
            assert column + CONTINUATION_INDENT + width(p) <= budget + 1e-9, p


@pytest.mark.parametrize("budget", [24.0, 30.0])
def test_every_derivation_fits_its_budget_with_the_widest_left_side(budget):
    """The left column of an ``align`` is as wide as its widest left-hand side, for every row."""
    from gradproof.derivations.registry import catalog
    from gradproof.derivations.layout import layout_steps

    for d in catalog():
        _rows_fit(layout_steps(d, budget), budget)


def test_a_sum_inside_brackets_is_broken_inside_them():
    from gradproof.derivations.registry import derivation
    from gradproof.derivations.layout import layout_steps

    steps = layout_steps(derivation("bias-variance-decomposition"), 24.0)
    broken = [s for s in steps if s.pieces[0].startswith("\\mathbb{E}\\Bigl[")]
    assert broken and broken[0].pieces[-1].endswith("\\Bigr]")
    assert not any("resizebox" in p for s in steps for p in s.pieces)


def _toy(*steps):
    import sympy as sp

    x = sp.IndexedBase("x")
    i, n = sp.symbols("i n", integer=True)
    wide = sp.Sum(x[i] ** 2 * sp.exp(x[i]) * sp.log(1 + x[i]) * sp.sin(x[i]), (i, 1, n))
    rows = [
        SimpleNamespace(lhs=lhs(wide, x, i), rhs=rhs(wide, x, i), relation="=", reason=why) for lhs, rhs, why in steps
    ]
    return SimpleNamespace(steps=rows)


def test_a_left_side_too_wide_to_share_gets_a_row_of_its_own():
    from gradproof.derivations.fragment import align_rows
    from gradproof.derivations.layout import layout_steps

    d = _toy(
        (lambda w, x, i: x[i], lambda w, x, i: x[i] + 1, "short"),
        (lambda w, x, i: w * w, lambda w, x, i: w**2, "a left side of 20 ems"),
    )
    steps = layout_steps(d, 24.0)
    assert [s.stacked for s in steps] == [False, True]
    _rows_fit(steps, 24.0)
    rows = align_rows(steps)
    assert rows[1].startswith("  &\\rlap{$\\displaystyle ") and rows[2].startswith("  &= ")


def test_beamer_frames_share_steps_evenly():
    from gradproof.reports.beamer import MAX_STEPS, chunks
    from gradproof.derivations.layout import StepRows

    one_line = StepRows("x", "=", ("y",), "why")
    for count in range(1, 23):
        sizes = [len(c) for c in chunks([one_line] * count)]
        assert sum(sizes) == count and max(sizes) <= MAX_STEPS
        assert max(sizes) - min(sizes) <= 1, sizes  # never 5 + 5 + 1


def test_beamer_long_reasons_count_as_lines():
    from gradproof.reports.beamer import FRAME_HEIGHT, _height
    from gradproof.derivations.layout import StepRows

    short, long = StepRows("x", "=", ("y",), "why"), StepRows("x", "=", ("y",), "because " * 40)
    assert _height(long) > _height(short) + 2 * 0.8
    assert _height(long) < FRAME_HEIGHT


def test_continued_frame_repeats_its_left_side():
    tex = build_report(["training-memory"], format="beamer", verify=False, figures=False)
    frames = [part.split("\\end{frame}", 1)[0] for part in tex.split("(cont.)}")[1:]]
    cont = next(f for f in frames if "\\begin{align*}" in f)  # a continued steps frame
    first_row = cont.split("\\begin{align*}\n", 1)[1].splitlines()[0]
    assert first_row.startswith("  \\onslide<1->{M_{") and "{}" not in first_row.split("&")[0]


def test_verified_box_from_a_stand_in():
    from gradproof.reports.verified import box

    w = SimpleNamespace
    v = w(
        ok=True, device="cuda:0", proof=w(ok=True, shown=3, checked=1, steps=(1, 2, 3, 4)),
        witnesses=(w(method="SymPy proof", ok=True, max_error=None, tolerance=None, detail=""),
                   w(method="finite differences", ok=True, max_error=3.1e-9, tolerance=1e-6, detail=""),
                   w(method="autograd", ok=False, max_error=2e-16, tolerance=1e-9, detail="")),
        max_error=3.1e-9, seconds=0.5,
    )  # fmt: skip
    text = box(v)
    assert "finite differences" in text and "autograd (\\textbf{failed})" in text
    assert "$3.1\\times 10^{-9}$" in text and "cuda:0" in text and "0.5" not in text


def test_verified_box_names_each_method_once():
    from gradproof.reports.verified import summary_sentences

    w = SimpleNamespace
    fd = w(method="finite differences", ok=True, max_error=1e-9, tolerance=1e-6, detail="")
    bad = w(method="finite differences", ok=False, max_error=1e-3, tolerance=1e-6, detail="")
    v = w(ok=False, device="cpu", proof=None, witnesses=(fd, fd, bad, fd))
    assert summary_sentences(v).count("finite differences") == 2  # once as a method, once for the error
    assert "finite differences (\\textbf{failed})" in summary_sentences(v)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(79510, "$79{,}510$"), (1203400.0000000002, "$1{,}203{,}400$"), (3e11, "$3\\times 10^{11}$"), (0.5, "$0.5$"),
     (2.2941, "$2.294$")],
)  # fmt: skip
def test_table_numbers(value, expected):
    from gradproof.reports.tables import value_latex

    assert value_latex(value) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [("z", "$z$"), ("eta", "$\\eta$"), ("yhat", "$\\hat{y}$"), ("y_hat", "$\\hat{y}$"), ("x_k", "$x_{k}$"),
     ("the loss", "the loss")],
)  # fmt: skip
def test_table_labels(label, expected):
    from gradproof.reports.tables import label_latex

    assert label_latex(label) == expected


def test_wide_example_tables_shrink_to_the_line():
    from gradproof.reports.tables import example_table

    example = SimpleNamespace(
        title="A title far longer than any line of a table would comfortably hold on one line",
        inputs={"a label that is much too long to sit in a narrow column": [[1.23456] * 8] * 8}, values={},
        note="",
    )  # fmt: skip
    tex = example_table(example, max_height="0.7\\textheight")
    assert "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}" in tex
    assert "\\resizebox*{!}{\\ifdim\\totalheight>0.7\\textheight" in tex
    assert tex.count("\\parbox[t]") == 2  # the title and the label wrap
    assert tex.count("{") == tex.count("}")


def test_every_derivation_lays_out():
    from gradproof.derivations.registry import catalog

    tex = build_report(None, format="beamer", verify=False, figures=False)
    for d in catalog():
        assert escape_text(d.title) in tex


def test_figure_data_comes_from_sympy():
    import numpy as np

    from gradproof.reports.figures import gradient_magnitudes

    p, g_bce, g_mse, _ = gradient_magnitudes(11)
    np.testing.assert_allclose(g_bce, np.abs(p - 1))
    np.testing.assert_allclose(g_mse, np.abs((p - 1) * p * (1 - p)))


# -- the user's own function ------------------------------------------------------------------

USER_CODE = """
import numpy as np


def softmax_bad(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=-1, keepdims=True)


def reduce_bad(dz):
    return np.sum(dz, axis=0)


def reduce_positional(dz):
    return np.sum(dz, 0)


def looped(x):
    for _ in range(3):
        x = x + 1
    return x


def sneaky(x):
    return "\\\\input{/etc/passwd}"


def bce(p, y):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def grad(s, y):
    return s - y
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch, request):
    name = f"usercode_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(USER_CODE))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


@pytest.mark.parametrize(
    ("func", "words"),
    [
        ("softmax_bad", ["axis=", "keepdims=", "method call e.sum", "line 7"]),
        ("reduce_bad", ["axis=", "np.sum", "line 11"]),
        ("reduce_positional", ["axis argument", "np.sum(dz, 0)", "line 15"]),
        ("looped", ["loop", "line 19"]),
        ("sneaky", ["string constant", "line 25"]),
    ],
    ids=["keyword-and-receiver", "keyword", "positional-axis", "loop", "string"],
)
def test_latexify_refusals_name_construct_and_line(user_module, func, words):
    from gradproof.reports.code import function_report

    with pytest.raises(InputError) as info:
        function_report(f"{user_module}:{func}")
    for word in words:
        assert word in str(info.value)


def test_function_that_renders(user_module):
    from gradproof.reports.code import function_report

    tex = function_report(f"{user_module}:bce")
    assert r"\log p" in tex and r"\mathrm{bce}(p, y)" in tex


def test_function_cli_against(user_module, tmp_path, capsys):
    out = tmp_path / "code.tex"
    assert main(["report", "--function", f"{user_module}:grad", "--against", "cross-entropy-softmax-gradient",
                 "-o", str(out)]) == 0  # fmt: skip
    tex = out.read_text()
    assert r"\mathrm{grad}(s, y) = s - y" in tex and r"{s}_{j} - {y}_{j}" in tex


def test_function_cli_refusal_is_one_line(user_module, tmp_path, capsys):
    out = tmp_path / "code.tex"
    assert main(["report", "--function", f"{user_module}:softmax_bad", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "axis=" in err and "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "no-such-derivation", "-o", "{tmp}/x.tex"],
        ["report", "-o", "{tmp}"],
        ["report", "-o", "{tmp}/missing/x.tex"],
        ["report", "-o", "{tmp}/x.tex", "--format", "poster"],
        ["report", "--function", "nomodule_xyz:f", "-o", "{tmp}/x.tex"],
        ["report", "--function", "no-colon", "-o", "{tmp}/x.tex"],
        ["report", "--against", "softmax-jacobian", "-o", "{tmp}/x.tex"],
    ],
    ids=["unknown", "directory", "missing-folder", "format", "module", "spec", "against-alone"],
)
def test_cli_usage_errors_exit_2(argv, tmp_path, capsys):
    try:
        code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_writes_atomically_and_keeps_old_file_on_error(tmp_path):
    out = tmp_path / "notes.tex"
    out.write_text("my notes")
    assert main(["report", "nope", "-o", str(out)]) == 2
    assert out.read_text() == "my notes"
    assert main(["report", "softmax-jacobian", "-o", str(out), "--format", "fragment"]) == 0
    assert "\\begin{align*}" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tex"]


def test_pdf_without_tex_says_so_and_keeps_the_tex(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "notes.tex"
    code = main(["report", "softmax-jacobian", "-o", str(out), "--pdf", "--no-verify", "--no-figures"])
    assert code == 1
    assert "no TeX installation found" in capsys.readouterr().err
    assert out.read_text().startswith("% Generated by gradproof")


def test_sums_in_brackets_break_only_where_groups_are_closed():
    import sympy as sp

    from gradproof.derivations.layout import split_rhs

    k = sp.Symbol("k")
    terms = sum(sp.Symbol(f"a_{i}") * sp.exp(sp.Symbol(f"b_{i}")) for i in range(8))
    pieces = split_rhs(sp.Sum(terms * sp.Indexed("q", k), (k, 1, 3)), 12.0)
    assert len(pieces) > 1 and pieces[0].startswith(r"\sum_{k=1}^{3} {q}_{k} \Bigl(") and pieces[-1].endswith(r"\Bigr)")
    for rhs in (sp.Function("E")(terms), sp.sqrt(terms)):  # inside {…}: cannot be cut, shrunk instead
        (piece,) = split_rhs(rhs, 12.0)
        assert piece.startswith(r"\resizebox{\ifdim\width>12em 12em\else\width\fi}{!}")


# -- the latexify guard's corpus (tests/latexify_corpus.py) ----------------------------------
def _corpus_cases():
    from tests.latexify_corpus import EXPECT

    return sorted(EXPECT.items())


@pytest.mark.parametrize(("name", "expect"), _corpus_cases(), ids=[n for n, _ in _corpus_cases()])
def test_latexify_guard_corpus(name, expect):
    import inspect
    import re

    from gradproof.reports.code import render_function
    from tests import latexify_corpus

    func = inspect.unwrap(getattr(latexify_corpus, name))
    lines, first = inspect.getsourcelines(func)
    def_line = first + next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    kind, wanted = expect
    if kind == "render":
        assert wanted in render_function(func)
        return
    with pytest.raises(InputError) as info:
        render_function(func)
    message = str(info.value)
    for word in wanted:
        word = re.sub(r"def([+-]\d+)", lambda m: f"line {def_line + int(m.group(1))}", word)
        assert word in message, message

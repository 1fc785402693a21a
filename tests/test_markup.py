"""The reason markup ($…$ LaTeX in plain prose), its terminal printer and the catalog's use of it."""

import pytest
import sympy as sp

from gradproof.console import to_ascii
from gradproof.derivations import markup, texmath
from gradproof.derivations.markup import MarkupError, Segment, segments
from gradproof.derivations.registry import catalog
from gradproof.derivations.textprint import pretty, prose


def prose_texts(d):
    """Every marked-up text of a derivation, with where it comes from."""
    yield "summary", d.summary
    for k, st in enumerate(d.steps, 1):
        yield f"step {k} reason", st.reason
    for a in d.assumptions:
        yield "assumption", a.text
    for note in d.notes:
        yield "note", note
    for ex in d.examples:
        yield "example title", ex.title
        if ex.note:
            yield "example note", ex.note


CATALOG_TEXTS = [(d.name, where, text) for d in catalog() for where, text in prose_texts(d)]


def test_segments():
    assert segments("plain") == [Segment("text", "plain")]
    assert segments("$x$") == [Segment("math", "x")]
    assert segments(r"a $\frac{1}{2}$ b") == [Segment("text", "a "), Segment("math", r"\frac{1}{2}"),
                                              Segment("text", " b")]
    assert segments(r"costs \$5 or $\$5$") == [Segment("text", "costs $5 or "), Segment("math", r"\$5")]


@pytest.mark.parametrize("text", ["an $unclosed segment", "$a$ and $b", "empty $$ math"])
def test_bad_markup_is_refused_with_the_text(text):
    with pytest.raises(MarkupError, match="unclosed|empty"):
        segments(text)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\frac{d}{dx}\log x = \frac{1}{x}", "d/dx log x = 1/x"),
        (r"\frac{\partial z_i}{\partial z_j} = \delta_{ij}", "∂z_i/∂z_j = δ_ij"),
        (r"\frac{\partial \log s_i}{\partial z_j}", "∂ log s_i/∂z_j"),
        (r"\sum_{k=1}^{n} e^{z_k}", "Σ_{k=1..n} e^{z_k}"),
        (r"\sum_{a \in S} G_{ak}", "Σ_{a∈S} G_ak"),
        (r"\lim_{h \to 0^+} \frac{\lambda|h|}{h}", "lim_{h→0⁺} λ|h|/h"),
        (r"\sigma'(z) = \sigma(z)(1 - \sigma(z))", "σ′(z) = σ(z)(1 − σ(z))"),
        (r"\frac{d}{du} u^{-1} = -u^{-2}", "d/du u⁻¹ = −u⁻²"),
        (r"\frac{1}{2}(\hat{y} - y)^2", "(1/2)(ŷ − y)²"),
        (r"\frac{1}{1 + e^{-z}}", "1/(1 + e^{−z})"),
        (r"X^\top(\hat{Y} - Y)", "Xᵀ(Ŷ − Y)"),
        (r"w^\top x + b", "wᵀx + b"),
        (r"h_{l-1}", "h_{l−1}"),
        (r"\binom{N-1}{B-1} / \binom{N}{B} = B/N", "binom(N − 1, B − 1) / binom(N, B) = B/N"),
        (r"\operatorname{KL}(p \,\|\, q) \geq 0", "KL(p ‖ q) ≥ 0"),
        (r"\mathbb{E}[\varepsilon^2] = \operatorname{Var} \varepsilon", "E[ε²] = Var ε"),
        (r"\tanh'(t) = 1 - \tanh^2(t)", "tanh′(t) = 1 − tanh²(t)"),
        (r"m \in \{0, 1\}", "m ∈ {0, 1}"),
        (r"\max(0, u)", "max(0, u)"),
        (r"W_{l+1}^\top \delta_{l+1}", "W_{l+1}ᵀδ_{l+1}"),  # as TeX: the space ends the control word
        (r"\bar{g}_k", "ḡ_k"),
        (r"1/\ln 2 \approx 1.44", "1/ln 2 ≈ 1.44"),
        (r"-y\,H(1 - y\hat{y})", "−y H(1 − yŷ)"),
    ],
)
def test_latex_to_terminal_text(latex, text):
    assert texmath.to_text(latex) == text


@pytest.mark.parametrize(
    "latex",
    [
        r"\input{/etc/passwd}",
        r"\write18{rm -rf /}",
        r"\text{\input{x}}",
        r"\frac{1}{2",
        r"a}",
        r"\def\x{1}",
        r"a & b",
        r"\catcode`\$=11",
        r"\newcommand{\foo}{1}",
    ],
)
def test_commands_outside_the_subset_are_refused(latex):
    with pytest.raises(MarkupError):
        texmath.to_text(latex)


def test_every_catalog_text_parses_and_prints_cleanly():
    import re

    bad = []
    for name, where, text in CATALOG_TEXTS:
        try:
            out = prose(text)
        except MarkupError as exc:
            bad.append(f"{name} {where}: {exc}")
            continue
        if re.search(r"\\[A-Za-z]+|\$", out.replace("\\$", "")) or "1{" in out:
            bad.append(f"{name} {where}: {out!r}")
    assert bad == []


def test_catalog_uses_one_kronecker_delta_notation():
    # δ_ij everywhere: no "1{i = j}" or "indicator" spelling left in any prose
    offenders = [(n, w) for n, w, t in CATALOG_TEXTS if "1{" in t or "1[" in t or "indicator" in t]
    assert offenders == []


def test_legacy_plain_text_still_prints():
    assert prose("a ratio of positive numbers") == "a ratio of positive numbers"
    assert prose("no math at all, 3 < 4") == "no math at all, 3 < 4"


def test_pretty_never_prints_a_sympy_repr():
    x, t, h = sp.symbols("x t h")
    z = sp.IndexedBase("z")
    k, n = sp.symbols("k n", integer=True)
    cases = {
        sp.Max(0, t): "max(0, t)",
        sp.Abs(x - 1): "|x − 1|",
        sp.Heaviside(t): "H(t)",
        sp.Heaviside(t, 1): "H(t)",
        sp.Product(sp.Heaviside(z[1] - z[k]), (k, 1, n)): "Π_{k=1..n} H(z_1 − z_k)",
        sp.Limit(sp.Abs(h) / h, h, 0, "+"): "lim_{h→0⁺} (|h|/h)",
        sp.Function("phi")(x): "φ(x)",
        sp.Function("sigma")(x): "σ(x)",
        sp.Sum(sp.exp(z[k]), (k, 1, n)): "Σ_{k=1..n} e^{z_k}",
        sp.Piecewise((x, x > 0), (0, True)): "{x if x > 0; 0 otherwise}",
        -sp.Integer(0): "0",
        sp.Rational(-1, 2) * x: "−x/2",
    }
    for expr, text in cases.items():
        assert pretty(expr) == text


def test_pretty_refuses_unknown_objects_instead_of_a_repr():
    class Mystery(sp.Basic):
        pass

    with pytest.raises(TypeError, match="no terminal notation"):
        pretty(Mystery())


def test_ascii_spellings():
    assert to_ascii("Σ_{l=1..n} e^{z_l}") == "sum_{l=1..n} e^{z_l}"
    assert to_ascii("∂L/∂W_qr = λ w_k (1 − αλ)") == "dL/dW_qr = lambda w_k (1 - alpha lambda)"
    assert to_ascii("σ′(z) ≤ 1/4, x ∈ {0, 1}, ŷ, ‖w‖²") == "sigma'(z) <= 1/4, x in {0, 1}, y_hat, ||w||^2"
    assert to_ascii("é, ﬁ, 中").isascii()


def test_markup_api():
    assert markup.has_math("a $b$") and not markup.has_math("a \\$b")


@pytest.mark.parametrize("text", [r"a $\input{/etc/passwd}$ b", r"$\write18{ls}$", r"$\text{\def\x{1}}$"])
def test_latex_and_markdown_outputs_refuse_commands_outside_the_subset(text):
    from gradproof.derivations.latex_text import text_to_latex
    from gradproof.derivations.markdown import prose as markdown_prose
    from gradproof.derivations.markdown import reason_rows

    with pytest.raises(MarkupError):
        text_to_latex(text)
    with pytest.raises(MarkupError):
        markdown_prose(text)
    with pytest.raises(MarkupError):
        reason_rows(text)

"""One test per notation item of the step checker (issue 10): each reads a true identity that
must hold and a wrong twin that must fail, so a misreading cannot pass unnoticed."""

from __future__ import annotations

import pytest
import sympy as sp

from gradproof.steps.check import analyse, check_steps
from gradproof.steps.source import read_source
from tests.steps_helpers import statuses, tex

IJ = "index i, j, k = 1..n"


def sides(body: str, *declarations: str) -> tuple:
    """The built (lhs, rhs) of the single relation in ``body``."""
    analysis = analyse(read_source(tex(body, *declarations)))
    (b,) = [b for b in analysis.built if b.op != "defined"]
    return b.lhs, b.rhs


def check(true: str, wrong: str, *declarations: str) -> None:
    got = statuses(f"{true} \\\\\n{wrong}", *declarations)
    assert got[0] in ("proved", "checked"), got
    assert got[1] == "failed", got


def test_sum_with_limits():
    lhs, _ = sides(r"\sum_{i=1}^{n} z_i = 0", IJ)
    assert isinstance(lhs, sp.Sum) and lhs.limits[0][1:] == (1, sp.Symbol("n", integer=True, positive=True))
    check(r"\sum_{i=1}^{n} 1 = n", r"\sum_{i=1}^{n} 1 = n + 1", IJ)


def test_sum_over_a_declared_index_without_limits():
    check(r"\sum_i z_i = \sum_{k=1}^{n} z_k", r"\sum_i z_i = \sum_{k=1}^{n-1} z_k", IJ)


def test_sum_limits():
    check(r"\sum\limits_{i=1}^{n} z_i = \sum_{k=1}^{n} z_k", r"\sum\limits_{i=2}^{n} z_i = \sum_{k=1}^{n} z_k", IJ)


def test_sum_excluding_an_index():
    check(r"\sum_{k \neq i} z_k = \sum_{k=1}^{n} z_k - z_i", r"\sum_{k \neq i} z_k = \sum_{k=1}^{n} z_k", IJ)


def test_sum_range_written_with_inequalities():
    check(r"\sum_{1 \le k \le n} z_k = \sum_{k=1}^{n} z_k", r"\sum_{1 < k \le n} z_k = \sum_{k=1}^{n} z_k", IJ)


def test_prod():
    check(r"\prod_{k=1}^{n} e^{z_k} = e^{\sum_{k=1}^{n} z_k}", r"\prod_{k=1}^{n} e^{z_k} = e^{\sum_{k=2}^{n} z_k}", IJ)


@pytest.mark.parametrize("frac", [r"\frac", r"\tfrac", r"\dfrac"])
def test_fractions(frac):
    check(frac + r"{x}{2} + \frac12 x = x", frac + r"{x}{2} = x")


def test_left_right_and_big_delimiters():
    check(r"\left( x + 1 \right)^2 = \bigl(x+1\bigr)\Bigl(x + 1\Bigr)", r"\left( x + 1 \right)^2 = \bigl(x+1\bigr)")


def test_cdot_times_and_implicit_multiplication():
    check(r"2 \cdot x \times 3 = 6 x y y^{-1}", r"2 x \cdot 3 = 5x", "assume y > 0")


def test_powers_and_single_character_scripts():
    check(r"x^2 x^{3} = x^5 \cdot x^23 / (3 x^2)", r"x^23 = x^{23}")


def test_subscripts_are_indices():
    lhs, rhs = sides(r"W_{ij} + W_{i,j} = z_i", IJ)
    i, j = sp.symbols("i j", integer=True, positive=True)
    assert lhs == 2 * sp.IndexedBase("W", real=True)[i, j]
    check(r"W_{ij} = W_{i,j}", r"W_{ij} = W_{j,i}", IJ)


def test_kronecker_delta():
    lhs, _ = sides(r"\delta_{ij} = 0", IJ)
    assert isinstance(lhs, sp.KroneckerDelta)
    check(r"\sum_{i=1}^{n} z_i \delta_{ij} = z_j", r"\sum_{i=1}^{n} z_i \delta_{ij} = z_i", IJ)


@pytest.mark.parametrize("indicator", [r"\mathbb{1}\{i = j\}", r"\mathbf{1}[i=j]", r"1\{i = j\}", r"\mathbb{1}_{i=j}"])
def test_indicators(indicator):
    check(rf"\sum_{{i=1}}^{{n}} z_i {indicator} = z_j", rf"\sum_{{i=1}}^{{n}} z_i {indicator} = 0", IJ)


def test_indicator_of_not_equal():
    check(r"\sum_{i=1}^{n} \mathbb{1}\{i \neq j\} = n - 1", r"\sum_{i=1}^{n} \mathbb{1}\{i \neq j\} = n", IJ)


def test_log_ln_exp():
    check(r"\log(x y) = \ln x + \ln y", r"\log(x y) = \ln x \ln y", "assume x > 0", "assume y > 0")
    check(r"\exp(x) e^{y} = e^{x + y}", r"\exp(x) e^{y} = e^{x y}")


def test_log_without_parentheses_takes_the_following_factors():
    check(r"\log \sum_{k=1}^{n} e^{z_k} - z_j = -\log \frac{e^{z_j}}{\sum_{k=1}^{n} e^{z_k}}",
          r"\log \sum_{k=1}^{n} e^{z_k} - z_j = \log \frac{e^{z_j}}{\sum_{k=1}^{n} e^{z_k}}", IJ)  # fmt: skip


def test_sigma_is_the_sigmoid_when_called_and_a_scalar_alone():
    check(r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma(z) = \frac{1}{1 + e^{z}}")
    check(r"\sigma^2 + 1 = 1 + \sigma \sigma", r"\sigma^2 = \sigma")
    check(r"\sigma'(z) = \sigma(z)(1 - \sigma(z))", r"\sigma'(z) = \sigma(z)")


def test_tanh_and_max():
    check(r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}", r"\tanh(x) = \frac{e^{x} + e^{-x}}{e^{x} - e^{-x}}")
    check(r"\max(0, x) + \max(0, -x) = |x|", r"\max(0, x) = x")


@pytest.mark.parametrize("sign", [r"\operatorname{sign}", r"\mathrm{sign}", r"\text{sign}", r"\operatorname{sgn}"])
def test_sign(sign):
    check(sign + r"(x) |x| = x", sign + r"(x) x = x")


def test_absolute_values():
    check(r"|x| |y| = |x y|", r"|x - |y|| = |x| - |y|")
    check(r"\left| x \right| = \lvert -x \rvert", r"\left| x \right| = x")


def test_norms():
    check(r"\|w\|_2^2 = \sum_{k=1}^{d} w_k^2", r"\|w\|_2^2 = \sum_{k=1}^{d} w_k", "vector w : d")
    check(r"\|w\|_1 = \sum_{k=1}^{d} |w_k|", r"\|w\|_1 = \sum_{k=1}^{d} w_k", "vector w : d")


def test_partial_derivative_fraction():
    check(r"\frac{\partial L}{\partial z_j} = 2 z_j", r"\frac{\partial L}{\partial z_j} = z_j",
          "index j = 1..n", r"define L = \sum_{k=1}^{n} z_k^2")  # fmt: skip


def test_partial_derivative_operator_with_parentheses():
    check(r"\frac{\partial}{\partial z_j}\left(\sum_{k=1}^{n} z_k^2\right) = 2 z_j",
          r"\frac{\partial}{\partial z_j}\left(\sum_{k=1}^{n-1} z_k^2\right) = 2 z_j", "index j = 1..n")  # fmt: skip


def test_total_derivatives():
    check(r"\frac{d}{dw} w^3 = 3 w^2", r"\frac{d}{dw} w^3 = w^2")
    check(r"\frac{d\mathcal{L}}{dz} = 2z", r"\frac{d\mathcal{L}}{dz} = z", r"define \mathcal{L} = z^2")
    check(r"\frac{\mathrm{d}^2}{\mathrm{d} x^2} x^3 = 6x", r"\frac{\partial^2 }{\partial x^2} x^3 = 3x")


def test_partial_subscript_operator():
    check(r"\partial_{z_j} \sum_{k=1}^{n} z_k^2 = 2 z_j", r"\partial_{z_j} \sum_{k=1}^{n} z_k^2 = 2 z_1", "index j = 1..n")


def test_nabla_componentwise():
    check(r"\nabla_w \frac{\lambda}{2}\|w\|_2^2 = \lambda w", r"\nabla_w \frac{\lambda}{2}\|w\|_2^2 = 2\lambda w",
          "vector w : d")  # fmt: skip


def test_transposes_with_declared_shapes():
    check(r"w^T x = \sum_{k=1}^{d} w_k x_k", r"w^\top x = \sum_{k=1}^{d} w_k", "vector w, x : d")
    check(r"\frac{\partial}{\partial w_k} (w^\top x - y)^2 = 2 (w^T x - y) x_k",
          r"\frac{\partial}{\partial w_k} (w^\top x - y)^2 = (w^T x - y) x_k", "vector w, x : d", "index k = 1..d")  # fmt: skip


def test_matrix_vector_products():
    shapes = (r"matrix W : n \times m", "vector x : m", "index i = 1..n")
    check(r"(W x)_i = \sum_{k=1}^{m} W_{ik} x_k", r"(W x)_i = -\sum_{k=1}^{m} W_{ik} x_k", *shapes)
    # the indices swapped name entries W has not where n ≠ m: refused, never drawn freely
    report = check_steps(tex(r"(W x)_i &= \sum_{k=1}^{m} W_{ki} x_k", *shapes))
    assert report.error is not None and "W_{k, i}" in report.error.message and "second index" in report.error.message


def test_expectation_and_variance():
    check(r"\mathbb{E}[m a] = p a", r"\mathbb{E}[m a] = a", r"random m \sim \mathrm{Bernoulli}(p)")
    check(r"\operatorname{Var}[m] = p(1-p)", r"\operatorname{Var}[m] = p", r"random m \sim \mathrm{Bernoulli}(p)")
    check(r"\mathbb{E}[\epsilon^2] = s", r"\mathbb{E}[\epsilon^2] = 0", r"random \epsilon \sim \mathcal{N}(0, s)")


def test_limit():
    check(r"\lim_{h \to 0} \frac{(x+h)^2 - x^2}{h} = 2x", r"\lim_{h \to 0} \frac{(x+h)^2 - x^2}{h} = x")


def test_binomial():
    check(r"\binom{n}{2} = \frac{n(n-1)}{2}", r"\binom{n}{2} = \frac{n^2}{2}", "size n")


def test_greek_and_decorated_names_are_scalars():
    lhs, rhs = sides(r"\hat{y} + \bar x + \tilde w + \mathcal{L} + \lambda = 0")
    assert {str(s) for s in lhs.free_symbols} == {r"\hat{y}", r"\bar{x}", r"\tilde{w}", r"\mathcal{L}", "lambda"}
    check(r"\hat{y} - \bar x = \hat y - \bar{x}", r"\hat{y} - \bar x = \hat y + \bar{x}")


def test_call_only_for_declared_functions():
    # s_i(\delta_{ij} - s_j) is a product; f(x) a call once f is declared
    lhs, _ = sides(r"s_i(\delta_{ij} - s_j) = 0", IJ)
    assert isinstance(lhs, sp.Mul)
    check(r"f(x) - f(x) = 0", r"f(x) = f(y)", r"function f(x)")
    check(r"\phi'(t) = 1 - \tanh(t)^2", r"\phi'(t) = \tanh(t)", r"function \phi(t) = \tanh(t)")
    check(r"y(1 - y) = y - y^2", r"y(1 - y) = y")


def test_softmax_function_with_a_declared_vector():
    check(r"\text{softmax}(z)_k = \frac{e^{z_k}}{\sum_{l=1}^{n} e^{z_l}}", r"\text{softmax}(z)_k = e^{z_k}",
          "vector z : n", "index k = 1..n")  # fmt: skip


def test_superscript_in_brackets_is_an_index():
    lhs, _ = sides(r"x^{(i)}_j = 0", IJ)
    assert isinstance(lhs, sp.Indexed) and len(lhs.indices) == 2


def test_newcommand_without_arguments_is_expanded():
    src = tex(r"\R = \sum_{i=1}^{n} z_i", IJ)
    src = "\\newcommand{\\R}{\\sum_{k=1}^{n} z_k}\n" + src
    from gradproof.steps.check import check_steps

    assert check_steps(src).ok


def test_a_function_name_subscripted_is_its_defined_vector():
    # mlp-backprop's fragment: hidden units H_j beside the unit step H(t)
    step = r"function H(t, h = \frac{1}{2}) = \mathbb{1}\{t > 0\} + h \mathbb{1}\{t = 0\}"
    check(r"H_j + H(1) = \tanh(z_j) + 1", r"H_j + H(1) = \tanh(z_j)", IJ, step, r"define H_j = \tanh(z_j)")
    check(r"H_j H(-1) = 0", r"H_j H(-1) = H_j", IJ, step, "vector H : n")

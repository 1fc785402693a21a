"""Input the step checker cannot read: every error names the line and column, never a traceback,
never a silently wrong reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradproof.steps.check import check_steps
from tests.steps_helpers import tex


def error_of(src: str, **kw):
    report = check_steps(src, **kw)
    assert report.error is not None, str(report)
    assert report.exit_code == 2 and not report.ok
    return report.error


def test_parse_error_names_line_and_column():
    err = error_of("\\begin{align*}\na &= b + \\\\\n &= c\n\\end{align*}\n")
    assert (err.line, err.column) == (2, 9) or err.line == 2
    assert str(err).startswith("<string>:2:")


def test_unexpected_token_position():
    err = error_of("\\begin{align*}\n x &= (a + b))\n\\end{align*}\n")
    assert (err.line, err.column) == (2, 14)
    assert "')'" in err.message


def test_undeclared_free_index():
    err = error_of(tex("\\frac{\\partial L}{\\partial z_j} &= 0"))
    assert "index j is not declared" in err.message
    assert (err.line, err.column) == (2, 30)


def test_undeclared_sum_index_without_limits():
    err = error_of(tex("\\sum_k z_k &= 0"))
    assert "index k is not declared" in err.message


@pytest.mark.parametrize(
    "body, words",
    [
        ("a &= \\foo b", "unknown command \\foo"),
        ("a &= b \\pm c", "±"),
        ("a &= b + \\dots + c", "…"),
        ("a &= \\begin{cases} 1 \\end{cases}", "cases"),
        ("a &= \\{ b, c \\}", "indicator"),
        ("a &= \\langle b \\rangle", "\\langle"),
        ("a &= b \\\\ c &= d & e &= f", "second equation"),
        ("a &= \\mathcal{xy}", "single letter"),
    ],
)
def test_unsupported_constructs_are_clear_errors(body, words):
    err = error_of(tex(body))
    assert words in err.message, err.message
    assert err.line >= 1 and err.column >= 1


def test_newcommand_with_arguments_is_an_error_where_used():
    src = "\\newcommand{\\sq}[1]{#1^2}\n\\begin{align*}\n\\sq{x} &= x^2\n\\end{align*}\n"
    err = error_of(src)
    assert "\\sq takes 1 argument" in err.message and err.line == 3


def test_recursive_macro_is_an_error():
    err = error_of("\\newcommand{\\a}{\\a + 1}\n\\[ \\a = 2 \\]\n")
    assert "expands forever" in err.message


def test_unclosed_environment_and_braces():
    assert "never closed" in error_of("\\begin{align*}\n a &= b\n").message
    err = error_of("\\[ a = {b \\]")
    assert "never closed" in err.message and (err.line, err.column) == (1, 8)  # at the { itself
    err = error_of("\\begin{align*}\nx &= \\frac{1}{2 \\\\\n &= y\n\\end{align*}\n")
    assert (err.line, err.column) == (2, 14)
    assert "never opened" in error_of("\\[ a = b} \\]").message


def test_no_math_is_an_error_not_a_pass():
    err = error_of("Just prose, no formulas.\n")
    assert "no relation to check" in err.message


def test_a_row_starting_with_a_relation_needs_a_formula_before():
    assert "no formula comes before" in error_of(tex("&= b")).message


def test_bad_declarations():
    assert "range" in error_of(tex("a &= a", "index i")).message
    assert "lo..hi" in error_of(tex("a &= a", "index i = n")).message
    assert "assumptions the checker reads" in error_of(tex("a &= a", "assume x^2 + y > 3")).message
    assert "distribution" in error_of(tex("a &= a", "random m \\sim \\mathrm{Poisson}(3)")).message
    err = error_of(tex("a &= a", "define = 3"))
    assert err.line == 1


def test_a_name_declared_both_a_size_and_an_index():
    err = error_of(tex("\\sum_{k=1}^{n} z_k &= 0", "size n", "index n = 1..m"))
    assert "used as a size" in err.message and err.line == 2


def test_hostile_input_is_text_not_commands():
    # \input and \write18 are just unknown commands: nothing is executed or read
    err = error_of(tex("a &= \\input{/etc/passwd}"))
    assert "unknown command \\input" in err.message
    err = error_of(tex("a &= \\write18{rm -rf /}"))
    assert "\\write" in err.message


def test_deep_nesting_and_long_input_do_not_crash():
    deep = "(" * 40 + "x" + ")" * 40
    assert check_steps(tex(f"{deep} &= x")).ok
    deeper = "(" * 990 + "x" + ")" * 990  # under the row limit, deeper than the checker reads
    assert "nested too deeply" in error_of(tex(f"{deeper} &= x")).message
    long = " + ".join(f"x_{{{k}}}" for k in range(1, 60))
    report = check_steps(tex(f"{long} &= {long}"))
    assert report.ok


def test_binary_and_control_characters():
    err = error_of("\\[ a = b \x00 \\]")
    assert "unexpected character" in err.message
    err = error_of("\\[ a = b ☃ \\]")
    assert "☃" in err.message


def test_non_string_source_is_refused():
    from gradproof.errors import InputError

    with pytest.raises(InputError):
        check_steps(42)


def test_missing_file_is_an_input_error(tmp_path):
    from gradproof.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        check_steps(tmp_path / "nope.tex")


def test_a_subscripted_function_without_a_vector_is_an_error():
    # f_i(x) must not silently become a product f_i · x
    err = error_of(tex("f_i(x) &= 0", "index i = 1..n", "function f(x)"))
    assert "takes no subscript" in err.message and err.line == 4


def test_not_utf8_names_the_line_and_column_of_the_bad_byte(tmp_path):
    path = tmp_path / "latin1.tex"
    path.write_bytes("\\[ a = b \\]\n\\[ x = \xe9 \\]\n".encode("latin-1"))
    err = error_of(path)
    assert (err.line, err.column) == (2, 8) and "not UTF-8" in err.message and "0xe9" in err.message
    binary = tmp_path / "binary.tex"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "not UTF-8" in error_of(binary).message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tex"
    path.write_text("")
    err = error_of(path)
    assert "no relation to check" in err.message and (err.line, err.column) == (1, 1)


def test_size_limits_are_errors_not_hours_of_work(tmp_path):
    from gradproof.steps.check import MAX_FILE_BYTES, MAX_RELATIONS
    from gradproof.steps.tokens import MAX_ROW_TOKENS

    big = tmp_path / "big.tex"
    big.write_text(("%" + "a" * 99 + "\n") * (MAX_FILE_BYTES // 100 + 1))
    err = error_of(big)
    assert "larger than 4 MB" in err.message and err.line == MAX_FILE_BYTES // 101 + 1  # 101 bytes a line
    assert "longer than 4 MB" in error_of("%" * (MAX_FILE_BYTES + 1)).message
    long = " + ".join(["x"] * MAX_ROW_TOKENS)
    err = error_of(tex(f"{long} &= x"))
    assert f"more than the {MAX_ROW_TOKENS}" in err.message and err.line == 2
    many = "".join(f"x_{{{k}}} = x_{{{k}}} \\\\\n" for k in range(1, MAX_RELATIONS + 2))
    err = error_of(tex(many))
    assert f"more than {MAX_RELATIONS} relations" in err.message and err.line == MAX_RELATIONS + 2


def test_newcommands_that_double_at_each_level_stop(tmp_path):
    macros = "\\newcommand{\\a}{x+x+x+x+x+x+x+x+x+x}\n" + "".join(
        f"\\newcommand{{\\{chr(98 + k)}}}{{" + f"\\{chr(97 + k)}" * 10 + "}\n" for k in range(12)
    )
    err = error_of(macros + "\\[ \\m = 0 \\]\n")
    assert "symbols in one math block" in err.message and err.line == 14


def test_a_pipe_or_device_is_refused_not_read(tmp_path):
    import os

    from gradproof.errors import InputError

    fifo = tmp_path / "pipe.tex"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        check_steps(fifo)  # reading it would block forever
    with pytest.raises(InputError, match="not a regular file"):
        check_steps(Path("/dev/zero"))

"""The user's own function typeset with latexify-py beside the derived formula it implements.

latexify-py 0.4.4 prints some code *wrongly without an error*: it drops keyword arguments
(``axis=``), loses method receivers (``e / e.sum(axis=1)`` becomes a fraction over an empty
sum), prints ``np.sum(x, 0)`` as a sum of a pair, and prints ``@`` and ``*`` alike.  Before
rendering, :func:`refusals` walks the function's syntax tree and names every such construct with
its line; a function with any is refused (InputError), because a wrong formula must never reach
a handout.  The rendered LaTeX is then checked once more: only ASCII and known math commands.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
from collections.abc import Callable

from gradproof.errors import InputError
from gradproof.derivations.latex import to_latex
from gradproof.derivations.latex_text import escape_text
from gradproof.reports.output import comment_line

# reductions whose second positional argument is an axis latexify would print as an operand
_REDUCTIONS = {"sum", "mean", "max", "min", "prod", "amax", "amin", "argmax", "argmin", "std", "var", "norm"}
# commands latexify emits for the constructs that pass the checks; anything else is refused
_ALLOWED_COMMANDS = {
    "mathrm",
    "left",
    "right",
    "mathopen",
    "mathclose",
    "frac",
    "sum",
    "prod",
    "exp",
    "log",
    "sqrt",
    "cdot",
    "begin",
    "end",
    "mathbin",
    "lfloor",
    "rfloor",
    "lceil",
    "rceil",
    "le",
    "ge",
    "ne",
    "lor",
    "land",
    "lnot",
    "mathbf",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "arcsin",
    "arccos",
    "arctan",
    "max",
    "min",
    "mid",
    "pi",
    "infty",
    "times",
    "pm",
    "in",
    "notin",
    "gets",
    "quad",
    "equiv",
    "neq",
    "leq",
    "geq",
    "mathit",
    "operatorname",
}


def _where(node: ast.AST, first_line: int) -> str:
    return f"line {first_line + getattr(node, 'lineno', 1) - 1}"


def _name(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse covers every expression
        return type(node).__name__


def refusals(func: Callable) -> list[str]:
    """Constructs in ``func`` that latexify-py 0.4.4 would print wrongly, each with its line."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
        first = inspect.getsourcelines(func)[1]
    except (OSError, TypeError) as exc:
        raise InputError(f"{getattr(func, '__qualname__', func)!r}: cannot read its source ({exc})") from None
    tree = ast.parse(source)
    fdef = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    first += len(fdef.decorator_list) and (fdef.lineno - fdef.decorator_list[0].lineno)
    first -= fdef.lineno - 1
    found: list[str] = []

    def module_name(node: ast.AST) -> bool:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and isinstance(func.__globals__.get(root.id), types.ModuleType)

    args = fdef.args
    for star, label in ((args.vararg, "*"), (args.kwarg, "**")):
        if star is not None:
            found.append(
                f"parameter '{label}{star.arg}' ({_where(fdef, first)}): latexify-py leaves it out of the signature"
            )
    for kw in args.kwonlyargs:
        found.append(
            f"keyword-only parameter '{kw.arg}' ({_where(fdef, first)}): latexify-py leaves it out of the signature"
        )
    has_matmul = has_product = False
    callees = {id(n.func) for n in ast.walk(fdef) if isinstance(n, ast.Call)}
    for node in ast.walk(fdef):
        where = _where(node, first)
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            found.append(f"a loop ({where}): latexify-py renders loops only as pseudocode")
        elif isinstance(node, ast.Call):
            callee = _name(node.func)
            for kw in node.keywords:
                label = f"{kw.arg}=" if kw.arg else "**"
                found.append(
                    f"keyword argument '{label}' in the call to {callee} ({where}): latexify-py drops keyword arguments"
                )
            if isinstance(node.func, ast.Attribute) and not module_name(node.func.value):
                found.append(
                    f"method call {callee}(...) ({where}): latexify-py loses the receiver '{_name(node.func.value)}'"
                )
            elif isinstance(node.func, ast.Attribute) and node.func.attr in _REDUCTIONS and len(node.args) > 1:
                found.append(
                    f"axis argument in {callee}({', '.join(_name(a) for a in node.args)}) ({where}): "
                    "latexify-py prints it as an operand"
                )
        elif isinstance(node, ast.Attribute) and id(node) not in callees and not module_name(node.value):
            found.append(f"attribute {_name(node)} ({where}): latexify-py prints it verbatim (e.g. x.T)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and node is not _docstring(fdef):
            found.append(f"string constant {node.value!r} ({where}): strings are not mathematics")
        elif isinstance(node, ast.Name) and not node.id.isascii():
            found.append(f"non-ASCII name {node.id!r} ({where}): pdflatex cannot typeset it; use an ASCII name")
        elif isinstance(node, ast.arg) and not node.arg.isascii():
            found.append(f"non-ASCII parameter {node.arg!r} ({where}): use an ASCII name")
        elif isinstance(node, ast.BinOp):
            has_matmul |= isinstance(node.op, ast.MatMult)
            if isinstance(node.op, ast.Mult) and not any(
                isinstance(side, ast.Constant) for side in (node.left, node.right)
            ):
                has_product = True
    if has_matmul and has_product:
        found.append(
            f"both '@' and '*' in {func.__name__}: latexify-py prints a matrix product and an elementwise product alike"
        )
    return sorted(set(found), key=lambda s: (int(re.search(r"line (\d+)", s).group(1)) if "line " in s else 0, s))


def _docstring(fdef: ast.AST) -> ast.AST | None:
    body = getattr(fdef, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[0].value
    return None


def load_function(spec: str) -> Callable:
    """``MODULE:FUNC`` → the function; MODULE is a dotted name (the current folder is importable,
    as for ``python -m``) or a path to a ``.py`` file, as for ``gradproof check``."""
    from gradproof.usercode import resolve

    where = f"--function {spec!r}"
    obj = resolve(spec, where=where, what="MODULE:FUNC, e.g. mycode:softmax")
    if not inspect.isfunction(obj):
        raise InputError(f"{where}: {spec.rpartition(':')[2]!r} is a {type(obj).__name__}, not a function")
    if obj.__name__ == "<lambda>":
        raise InputError(f"{where}: is a lambda; latexify-py needs a function defined with 'def'")
    return obj


def render_function(func: Callable) -> str:
    """latexify-py's LaTeX for ``func``, or InputError naming each construct it would get wrong."""
    problems = refusals(func)
    where = f"{func.__module__}:{func.__qualname__}"
    if problems:
        raise InputError(f"{where}: not typeset, latexify-py would print a wrong formula: " + "; ".join(problems))
    import latexify

    try:
        tex = str(latexify.get_latex(func))
    except Exception as exc:  # latexify's own "not supported" errors name the construct
        raise InputError(f"{where}: latexify-py cannot render it: {type(exc).__name__}: {exc}") from None
    bad = sorted(set(re.findall(r"\\([A-Za-z]+)", tex)) - _ALLOWED_COMMANDS)
    if bad or not tex.isascii() or "\\textrm" in tex:
        raise InputError(f"{where}: latexify-py produced unexpected LaTeX ({', '.join(bad) or 'non-ASCII'})")
    return tex


def _code_block(func: Callable) -> str:
    source = textwrap.dedent(inspect.getsource(func)).rstrip("\n").splitlines()
    lines = [escape_text(line).replace(" ", "~") or "~" for line in source]
    return "{\\ttfamily\\small\n" + "\\\\\n".join(lines) + "\\par}\n"


def function_report(
    spec: str | Callable, against: str | None = None, *, title: str | None = None, author: str = ""
) -> str:
    """An article showing the function's code, its formula (latexify-py) and, with ``against``,
    the derived result it should implement."""
    from gradproof.derivations.latex_text import check_typesettable

    if title is not None:
        check_typesettable(title, "--title")
    check_typesettable(author, "--author")
    func = load_function(spec) if isinstance(spec, str) else spec
    formula = render_function(func)
    derived = ""
    if against is not None:
        from gradproof.derivations.registry import derivation

        d = derivation(against)
        derived = (
            "\\begin{minipage}[t]{0.47\\linewidth}\n\\textbf{The math} "
            f"({escape_text(d.title)})\n\\[\n{to_latex(d.statement)}\n\\]\n\\end{{minipage}}\n"
        )
    name = f"{func.__module__}:{func.__qualname__}"
    heading = title if title is not None else f"The code and the math: {name}"
    width = "0.47\\linewidth" if derived else "\\linewidth"
    return (
        f"% Generated by gradproof (gradproof report --function {comment_line(name)})\n"
        "\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2.2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n\\usepackage{graphicx}\n"
        f"\\title{{{escape_text(heading)}}}\n\\author{{{escape_text(author)}}}\n\\date{{}}\n"
        "\\begin{document}\n\\maketitle\n"
        "\\section*{The code}\n" + _code_block(func) + "\\section*{Side by side}\n\\noindent\n"
        f"\\begin{{minipage}}[t]{{{width}}}\n\\textbf{{The code}} (typeset by latexify-py)\n"
        f"\\[\n{formula}\n\\]\n\\end{{minipage}}\\hfill\n" + derived + "\\end{document}\n"
    )

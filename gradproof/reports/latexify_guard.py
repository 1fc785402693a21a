"""What latexify-py 0.4.4 would typeset wrongly, found before it renders: the guard's promise.

latexify-py prints many Python constructs *wrongly without an error*.  Each rule below names one
(measured on latexify-py 0.4.4; the corpus is ``tests/latexify_corpus.py``).  :func:`refusals`
walks the function's syntax tree and returns every such construct with its line; a function with
any is refused, because a wrong formula must never reach a handout.  :func:`repair` fixes the few
mistakes that can be fixed in the rendered LaTeX itself, and :func:`unexpected` rejects rendered
LaTeX that uses commands outside the known-good set.

Refused (latexify-py's output in brackets):

* signatures it shortens: ``*args``/``**kwargs``, keyword-only and positional-only parameters
  (``def f(x, /, y)`` → ``f(y) = x + y``); decorators (it typesets the undecorated body) and
  closures such as a decorator's wrapper (``2 f(x)``, with ``f`` bound to something unseen);
* calls it garbles: keyword arguments (dropped), method calls (receiver lost), a reduction's axis
  (``np.sum(x, 0)`` → ``\\sum (x, 0)``), a second argument of ``sum``/``prod``/``log``/``exp``…
  (``sum(x, 1)`` → ``\\sum(x, 1)``, the start value as an operand; ``math.log(x, 2)`` → ``\\log(x, 2)``);
* products it makes ambiguous: a prefix function with a bare argument on the left of ``*``, ``@``
  or ``%`` (``np.sum(a) * b`` → ``\\sum a \\cdot b``; ``-np.exp(a) * b`` → ``-\\exp a b``, which reads
  as exp(ab)); ``@`` and ``*`` in one function, or ``*`` beside a matrix-valued call (``inv(A) * b``
  prints like ``inv(A) @ b``);
* indexing it misreads: negative indices (``x[-1]`` → ``x_{-1}``, the last entry), an index of a
  computed value (``(x + 1)[0]`` → ``x + 1_{0}``), ``None``/``...`` indices;
* statements that become false equations: a name assigned twice or a parameter reassigned
  (``y = y \\cdot 2``), augmented assignment, assignment to an entry or attribute;
* loops (pseudocode only), attributes (``x.T``), strings, complex constants (``1j x``),
  non-ASCII names.

Repaired: scientific-notation constants (``1e-08`` in math mode reads as 1·e − 8) become
``1 \\times 10^{-8}``.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
from collections.abc import Callable

from gradproof.errors import InputError

# reductions whose second positional argument is an axis latexify would print as an operand
_REDUCTIONS = {"sum", "mean", "max", "min", "prod", "amax", "amin", "argmax", "argmin", "std", "var", "norm"}
# latexify-py 0.4.4's unary functions printed as a prefix operator (expression_rules.BUILTIN_FUNCS
# with is_unary and no closing delimiter): \exp x, \sum x, \log x, \tanh x, ...
_PREFIX = {
    "acos", "acosh", "arccos", "arccot", "arccsc", "arcosh", "arcoth", "arcsec", "arcsch", "arcsin", "arctan",
    "arsech", "arsinh", "artanh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "cot", "coth", "csc", "csch",
    "exp", "fsum", "log", "log10", "log2", "prod", "sec", "sech", "sin", "sinh", "sum", "tan", "tanh",
}  # fmt: skip
# what a second positional argument of these means (latexify prints it as a second operand)
_SECOND_ARGUMENT = {"sum": "the start value", "fsum": "a second argument", "prod": "the start value",
                    "log": "the base"}  # fmt: skip
# calls latexify prints as a matrix (bold, ^{-1}, ^{+}, ^\top, a literal array)
_MATRIX_CALLS = {"inv", "pinv", "transpose", "matrix_power", "array", "ndarray", "zeros", "identity"}
# decorators that leave the function's values unchanged
_VALUE_PRESERVING = {"cache", "lru_cache", "functools.cache", "functools.lru_cache"}
# precedence of a call in latexify's printer: an argument at or above it is printed bare (\exp x)
_CALL_PRECEDENCE = 111
_PRECEDENCE = {ast.Pow: 120, ast.UAdd: 110, ast.USub: 110, ast.Invert: 110, ast.Not: 110, ast.Mult: 100,
               ast.MatMult: 100, ast.Div: 100, ast.FloorDiv: 100, ast.Mod: 100}  # fmt: skip
# commands latexify emits for the constructs that pass the checks; anything else is refused
ALLOWED_COMMANDS = {
    "mathrm", "left", "right", "mathopen", "mathclose", "frac", "sum", "prod", "exp", "log", "sqrt", "cdot",
    "begin", "end", "mathbin", "lfloor", "rfloor", "lceil", "rceil", "le", "ge", "ne", "lor", "land", "lnot",
    "mathbf", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "max", "min", "mid",
    "pi", "infty", "times", "pm", "in", "notin", "gets", "quad", "equiv", "neq", "leq", "geq", "mathit",
    "operatorname",
}  # fmt: skip


def _name(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse covers every expression
        return type(node).__name__


def _callee(node: ast.Call) -> str | None:
    """The name latexify-py looks up for a call (``np.linalg.inv`` → ``inv``)."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _precedence(node: ast.AST) -> int:
    if isinstance(node, ast.Call):
        return _CALL_PRECEDENCE
    op = getattr(node, "op", None)
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return _PRECEDENCE.get(type(op), 90)
    if isinstance(node, (ast.BoolOp, ast.Compare, ast.IfExp, ast.Lambda)):
        return 40
    return 1_000_000


def _bare_prefix_call(node: ast.AST) -> ast.Call | None:
    """A call printed as a prefix operator whose argument is not in parentheses (``\\exp a``,
    ``\\sum_{i} (x_i)``): whatever follows it in a product reads as part of its argument."""
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    name = _callee(node)
    if name in ("sum", "fsum", "prod") and node.args and isinstance(node.args[0], ast.GeneratorExp):
        return node  # \sum_{i = 0}^{n - 1} (x_i): the sum's extent is unclear after it
    if name in _PREFIX and len(node.args) == 1:
        arg = node.args[0]
        if _precedence(arg) >= _CALL_PRECEDENCE and not (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Pow)):
            return _bare_prefix_call(arg) or node  # \exp \sum x: the innermost bare one ends it
    return None


def _right_edge_call(node: ast.AST) -> ast.AST | None:
    """The construct that ends ``node``'s printed form without a closing bracket, when it would
    swallow a factor printed after it: a bare prefix call, or a ``%`` (``a % b * 2``)."""
    call = _bare_prefix_call(node)
    if call is not None:
        return call
    if isinstance(node, ast.UnaryOp) and _precedence(node.operand) >= 110:
        return _right_edge_call(node.operand)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod):
            return node
        if isinstance(node.op, (ast.Mult, ast.MatMult)):
            return _right_edge_call(node.right)
    return None


def _is_matrix(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and _callee(node) in _MATRIX_CALLS) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)
    )


def function_def(func: Callable) -> tuple[ast.FunctionDef, int]:
    """The ``def`` of ``func`` and the file line of its source's first line; InputError when the
    source cannot be read or holds no ``def`` (a lambda, code built at run time)."""
    label = repr(getattr(func, "__qualname__", func))
    func = inspect.unwrap(func)  # what getsource reads: the innermost function of a @wraps chain
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise InputError(f"{label}: cannot read its source ({exc})") from None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:  # e.g. a lambda that is part of a larger expression
        tree = None
    name = getattr(getattr(func, "__code__", None), "co_name", None)
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return node, max(first, 1)
    lam = name == "<lambda>" or (tree is not None and any(isinstance(n, ast.Lambda) for n in ast.walk(tree)))
    what = "is a lambda" if lam else "has no 'def' in its source"
    raise InputError(f"{label}: {what} (line {first} of its file); latexify-py typesets functions defined with 'def'")


def refusals(func: Callable) -> list[str]:
    """Constructs in ``func`` that latexify-py 0.4.4 would print wrongly, each with its line."""
    func = inspect.unwrap(func)
    fdef, first = function_def(func)
    found: list[str] = []

    def where(node: ast.AST) -> str:
        return f"line {first + getattr(node, 'lineno', 1) - 1}"

    def module_name(node: ast.AST) -> bool:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and isinstance(func.__globals__.get(root.id), types.ModuleType)

    free = getattr(getattr(func, "__code__", None), "co_freevars", ())
    if free:  # a closure, e.g. the wrapper a decorator returned: its formula names what it cannot show
        found.append(
            f"{fdef.name} uses {', '.join(repr(v) for v in free)} from an enclosing function ({where(fdef)}): "
            "the formula cannot show what that is (a decorator's wrapper?)"
        )
    args = fdef.args
    for star, label in ((args.vararg, "*"), (args.kwarg, "**")):
        if star is not None:
            found.append(f"parameter '{label}{star.arg}' ({where(fdef)}): latexify-py leaves it out of the signature")
    for kw in args.kwonlyargs:
        found.append(f"keyword-only parameter '{kw.arg}' ({where(fdef)}): latexify-py leaves it out of the signature")
    for pos in args.posonlyargs:
        found.append(
            f"positional-only parameter '{pos.arg}' ({where(fdef)}): latexify-py leaves it out of the signature"
        )
    for deco in fdef.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if _name(target) not in _VALUE_PRESERVING:
            found.append(
                f"decorator @{_name(deco)} ({where(deco)}): latexify-py typesets the undecorated body, "
                "not what the decorator makes of it"
            )
    has_matrix = has_product = False
    callees = {id(n.func) for n in ast.walk(fdef) if isinstance(n, ast.Call)}
    assigned: dict[str, int] = {a.arg: 0 for a in (*args.posonlyargs, *args.args)}
    docstring = _docstring(fdef)
    for node in ast.walk(fdef):
        at = where(node)
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            found.append(f"a loop ({at}): latexify-py renders loops only as pseudocode")
        elif isinstance(node, ast.Call):
            callee = _name(node.func)
            name = _callee(node)
            for kw in node.keywords:
                label = f"{kw.arg}=" if kw.arg else "**"
                found.append(
                    f"keyword argument '{label}' in the call to {callee} ({at}): latexify-py drops keyword arguments"
                )
            if isinstance(node.func, ast.Attribute) and not module_name(node.func.value):
                found.append(
                    f"method call {callee}(...) ({at}): latexify-py loses the receiver '{_name(node.func.value)}'"
                )
            elif isinstance(node.func, ast.Attribute) and name in _REDUCTIONS and len(node.args) > 1:
                found.append(
                    f"axis argument in {callee}({', '.join(_name(a) for a in node.args)}) ({at}): "
                    "latexify-py prints it as an operand"
                )
            elif name in _SECOND_ARGUMENT and len(node.args) > 1 and not isinstance(node.args[0], ast.GeneratorExp):
                found.append(
                    f"{_name(node)} ({at}): latexify-py prints {_SECOND_ARGUMENT[name]} as a second operand "
                    f"(\\{'sum' if name == 'fsum' else name}(…, …))"
                    + ("; write math.log2(x), math.log10(x) or math.log(x) / math.log(b)" if name == "log" else "")
                )
            elif name in _PREFIX and len(node.args) > 1:
                found.append(f"{_name(node)} ({at}): latexify-py prints the extra argument as a second operand")
            has_matrix |= name in _MATRIX_CALLS
        elif isinstance(node, ast.Attribute) and id(node) not in callees and not module_name(node.value):
            found.append(f"attribute {_name(node)} ({at}): latexify-py prints it verbatim (e.g. x.T)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and node is not docstring:
            found.append(f"string constant {node.value!r} ({at}): strings are not mathematics")
        elif isinstance(node, ast.Constant) and isinstance(node.value, complex):
            found.append(f"complex constant {_name(node)} ({at}): latexify-py prints it as {_name(node)}, a product")
        elif isinstance(node, ast.Name) and not node.id.isascii():
            found.append(f"non-ASCII name {node.id!r} ({at}): pdflatex cannot typeset it; use an ASCII name")
        elif isinstance(node, ast.arg) and not node.arg.isascii():
            found.append(f"non-ASCII parameter {node.arg!r} ({at}): use an ASCII name")
        elif isinstance(node, ast.Subscript):
            found += _subscript_refusals(node, at)
        elif isinstance(node, ast.AugAssign):
            t = _name(node.target)
            found.append(
                f"augmented assignment {_name(node)} ({at}): latexify-py prints it as the equation "
                f"{t} = {t} {_op(node.op)} {_name(node.value)}, which is false; use a new name"
            )
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for t in ast.walk(target):
                    if isinstance(t, (ast.Subscript, ast.Attribute)) and isinstance(t.ctx, ast.Store):
                        found.append(
                            f"assignment to {_name(t)} ({at}): latexify-py prints it as an equation "
                            f"(it changes {_name(t.value)}, which the formula cannot show)"
                        )
                    elif isinstance(t, ast.Name):
                        if t.id in assigned:
                            line = assigned[t.id]
                            before = "a parameter" if line == 0 else f"already assigned on line {line}"
                            found.append(
                                f"'{t.id}' assigned again ({at}; {before}): latexify-py prints each assignment "
                                f"as an equation, so '{t.id} = …' would contradict the earlier one; use a new name"
                            )
                        assigned.setdefault(t.id, first + node.lineno - 1)
        elif isinstance(node, ast.BinOp):
            has_matrix |= isinstance(node.op, ast.MatMult) or _is_matrix(node.left) or _is_matrix(node.right)
            if isinstance(node.op, ast.Mult) and not any(
                isinstance(side, ast.Constant) for side in (node.left, node.right)
            ):
                has_product = True
            if isinstance(node.op, (ast.Mult, ast.MatMult, ast.Mod)):
                edge = _right_edge_call(node.left)
                if edge is not None:
                    found.append(
                        f"{_name(node)} ({at}): latexify-py prints {_name(edge)} without brackets, so what "
                        f"follows reads as part of it ({_printed_hint(edge)}); put the other factor first or name "
                        "the value"
                    )
    if has_matrix and has_product:
        found.append(
            f"both a matrix product and '*' in {func.__name__}: latexify-py prints a matrix product and an "
            "elementwise product alike (inv(A) * b looks like inv(A) @ b)"
        )
    return sorted(set(found), key=lambda s: (int(re.search(r"line (\d+)", s).group(1)) if "line " in s else 0, s))


def _op(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**",
            ast.FloorDiv: "//", ast.Mod: "%"}.get(type(op), "?")  # fmt: skip


def _printed_hint(edge: ast.AST) -> str:
    if isinstance(edge, ast.BinOp):
        return "a % b * c reads as a mod (b·c)"
    name = _callee(edge) if isinstance(edge, ast.Call) else None
    command = {"fsum": "sum"}.get(name or "", name)
    return f"\\{command} x · y reads as \\{command}(x · y)"


def _subscript_refusals(node: ast.Subscript, at: str) -> list[str]:
    out = []
    if not isinstance(node.value, (ast.Name, ast.Subscript)):
        out.append(
            f"index of a computed value {_name(node)} ({at}): latexify-py subscripts only the last symbol "
            f"({_name(node.value)} [{_name(node.slice)}] prints like its last term with a subscript); "
            "name the value first"
        )
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    for part in parts:
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
            out.append(
                f"negative index {_name(node)} ({at}): latexify-py prints x_{{-1}}, which is not the last entry "
                "in mathematics; index from the start (x[n - 1])"
            )
        elif isinstance(part, ast.Constant) and (part.value is None or part.value is Ellipsis):
            out.append(f"index {_name(part)} in {_name(node)} ({at}): latexify-py prints it verbatim as a subscript")
    return out


def _docstring(fdef: ast.AST) -> ast.AST | None:
    body = getattr(fdef, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[0].value
    return None


# a float printed by repr in scientific notation (1e-08, 2.5e+20), not part of a name or command
_SCIENTIFIC = re.compile(r"(?<![\w.\\{])(\d+(?:\.\d+)?)e([+-]?)0*(\d+)(?![\w.])")


def repair(tex: str) -> str:
    """Fix what latexify-py prints wrongly but unambiguously: ``1e-08`` → ``1 \\times 10^{-8}``."""

    def sci(m: re.Match) -> str:
        mantissa, sign, exponent = m.group(1), m.group(2), m.group(3)
        power = f"10^{{{'-' if sign == '-' else ''}{exponent}}}"
        return power if mantissa in ("1", "1.0") else f"{mantissa} \\times {power}"

    return _SCIENTIFIC.sub(sci, tex)


def unexpected(tex: str) -> list[str]:
    """LaTeX commands in latexify-py's output outside the known-good set (plus 'non-ASCII')."""
    bad = sorted(set(re.findall(r"\\([A-Za-z]+)", tex)) - ALLOWED_COMMANDS)
    if not tex.isascii():
        bad.append("non-ASCII")
    if "\\textrm" in tex and "textrm" not in bad:
        bad.append("textrm")
    return bad

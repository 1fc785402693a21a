"""Reading one row: classified tokens → a parse tree (the row grammar of ``grammar.lark``) → the
derivation model's SymPy objects (``Indexed``, ``Sum``, ``Derivative``, ``KroneckerDelta``).

What a name means depends on the declarations (:mod:`gradproof.steps.context`) and on the sums
around it: ``i`` inside ``\\sum_{i=1}^{n}`` is that sum's index, elsewhere the declared index.
Every error names the token it is about, so the message carries a line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import sympy as sp
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from gradproof.steps.tensors import Tensor, as_component, is_tensor
from gradproof.steps.tokens import GRAMMAR

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.steps.context import Context
    from gradproof.steps.source import Source


class _TokenList(Lexer):
    """The row parser reads tokens already classified by :mod:`gradproof.steps.tokens`."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any, *args: Any) -> Any:  # noqa: ARG002
        yield from data


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), start=["row", "inner"], parser="lalr", lexer=_TokenList)


# how a token type reads in an error message
_TOKEN_NAMES = {
    "REL": "a relation", "RGROUP": "'}'", "LGROUP": "'{'", "RPAREN": "')'", "LPAREN": "'('",
    "RBRACK": "']'", "LBRACK": "'['", "SUB": "'_'", "SUP": "'^'", "SEP": "','", "$END": "the end of the row",
    "ABSR": "a closing '|'", "NORMR": "a closing '\\|'", "RSET": "'\\}'", "RCEIL": "'\\rceil'", "RFLOOR": "'\\rfloor'",
}  # fmt: skip


def parse_tokens(source: Source, tokens: list[Token], *, start: str = "row", end_offset: int = 0) -> Tree:
    """The parse tree of a row (or, with ``start="inner"``, of a declaration's list)."""
    try:
        return _parser().parse(tokens, start=start)
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            where = tokens[-1].end_pos if tokens else end_offset
            raise source.error(where, "the formula ends too early (an operand or a closing bracket is missing)") from None
        expected = sorted(_TOKEN_NAMES.get(e, e.lower()) for e in exc.expected)[:6]
        what = getattr(tok, "value", "")
        raise source.error(tok.start_pos, f"unexpected {what!r} here (expected {', '.join(expected)})") from None
    except UnexpectedInput as exc:  # pragma: no cover - the token list lexer cannot fail
        raise source.error(end_offset, f"cannot read this formula: {exc}") from None


# ----------------------------------------------------------------------------------------------
# building SymPy objects


@dataclass
class Callee:
    """A function name not yet applied: ``\\sigma`` before ``(z)``, or ``\\log`` before ``x``."""

    name: str
    token: Token
    apply: Callable[..., Any]
    primes: int = 0
    power: Any = None  # \log^2 x, \sigma^2(z)
    log_base: Any = None
    bare: Any = None  # its value when no argument follows (σ alone is a scalar)
    always_call: bool = False  # \log, \exp: the next factors are the argument
    power_trees: list = field(default_factory=list)  # \sigma^2 before (z), or alone
    vector_args: bool = False  # a declared function of vectors (H(p, q)): never applied elementwise


class Builder:
    """Turns parse trees into SymPy expressions (or :class:`Tensor` s) within a context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.source = ctx.source

    def error(self, node: Any, message: str) -> Exception:
        return self.source.error(_offset(node), message)

    # -- expressions -------------------------------------------------------------------------

    def expr(self, tree: Any, scope: dict) -> Any:
        if isinstance(tree, Token):
            raise self.error(tree, f"unexpected {tree.value!r}")
        method = getattr(self, "_" + tree.data.rstrip("_"), None)
        if method is None:
            raise self.error(tree, f"the step checker does not read this here ({tree.data})")
        return method(tree, scope)

    def _add(self, t: Tree, scope: dict) -> Any:
        return _combine(self, t, self.expr(t.children[0], scope), self.expr(t.children[2], scope), 1)

    def _sub(self, t: Tree, scope: dict) -> Any:
        return _combine(self, t, self.expr(t.children[0], scope), self.expr(t.children[2], scope), -1)

    def _neg(self, t: Tree, scope: dict) -> Any:
        value = self.expr(t.children[1], scope)
        return value.map(lambda e: -e) if is_tensor(value) else -value

    def _pos(self, t: Tree, scope: dict) -> Any:
        return self.expr(t.children[1], scope)

    def _plusminus(self, t: Tree, scope: dict) -> Any:
        raise self.error(t.children[1], "± states two formulas at once; write each on its own row")

    def _num(self, t: Tree, scope: dict) -> Any:
        return sp.Rational(str(t.children[0]))

    def _infty(self, t: Tree, scope: dict) -> Any:
        return sp.oo

    def _dots(self, t: Tree, scope: dict) -> Any:
        raise self.error(t, "'…' cannot be checked: write the sum with \\sum")

    def _partial_sym(self, t: Tree, scope: dict) -> Any:
        raise self.error(t, "a lone \\partial: write \\frac{\\partial L}{\\partial x} or \\partial_x L")

    def _name(self, t: Tree, scope: dict) -> Any:
        return self.named(t.children[0], [], scope)

    def _group(self, t: Tree, scope: dict) -> Any:
        inner = [c for c in t.children if isinstance(c, Tree)]
        if not inner:
            raise self.error(t, "an empty group {}")
        return self.single(inner[0], scope, t)

    def _paren(self, t: Tree, scope: dict) -> Any:
        return self.single(t.children[1], scope, t)

    _bracket = _paren

    def _set(self, t: Tree, scope: dict) -> Any:
        """``\\left\\{ … \\right\\}`` used as brackets (a set with a condition belongs to an indicator)."""
        rels = [c for c in t.children[1].children if isinstance(c, Tree)]
        if len(rels) == 1 and len(rels[0].children) == 1:
            return self.expr(rels[0].children[0], scope)
        raise self.error(t, "a set \\{…\\} with a condition or a list: write \\mathbb{1}\\{i = j\\} for an indicator")

    def single(self, inner: Tree, scope: dict, where: Any) -> Any:
        """The one expression inside brackets (not a list, not a condition)."""
        parts = [c for c in inner.children if isinstance(c, Tree)]
        if len(parts) != 1:
            raise self.error(where, "a list (a, b) where one expression was expected")
        rel = parts[0]
        if len(rel.children) != 1:
            raise self.error(rel.children[1], "a relation inside brackets: only sums and indicators take conditions")
        return self.expr(rel.children[0], scope)

    def _frac(self, t: Tree, scope: dict) -> Any:
        num, den = t.children[1], t.children[2]
        derivative = self.derivative_fraction(num, den, scope)
        if derivative is not None:
            return derivative
        top, bottom = self.expr(num, scope), self.expr(den, scope)
        return _divide(self, t, top, bottom)

    def _sqrt(self, t: Tree, scope: dict) -> Any:
        args = [c for c in t.children if isinstance(c, Tree)]
        value = self.scalar(self.expr(args[-1], scope), t)
        if len(args) == 2:
            return value ** (1 / self.scalar(self.expr(args[0], scope), t))
        return sp.sqrt(value)

    def _binom(self, t: Tree, scope: dict) -> Any:
        a = self.scalar(self.expr(t.children[1], scope), t)
        b = self.scalar(self.expr(t.children[2], scope), t)
        return sp.binomial(a, b)

    def _abs(self, t: Tree, scope: dict) -> Any:
        value = self.expr(t.children[1], scope)
        return value.map(sp.Abs) if is_tensor(value) else sp.Abs(value)

    def _at_point(self, t: Tree, scope: dict) -> Any:
        """``\\left. f \\right|_{p = (\\frac12, \\frac12),\\ n = 2}``: f at exact values of
        declared vectors, scalars and sizes (an ``At``, a statement about numbers).  A vector's
        value lists every entry: its length must be its size at the point."""
        from gradproof.derivations.logic import At
        from gradproof.steps.context import _single_name

        value = self.scalar(self.expr(t.children[1], scope), t)
        arg = t.children[4]
        inner = next((c for c in arg.children if isinstance(c, Tree)), None) if isinstance(arg, Tree) else None
        rels = [c for c in inner.children if isinstance(c, Tree)] if inner is not None else []
        if not rels:
            raise self.error(t, "an evaluation bar names its point: \\right|_{x = 1,\\ n = 2}")
        ctx, sizes, point = self.ctx, {}, []
        pending, given = [], set()
        for rel in rels:
            kids = rel.children
            name_tok = _single_name(kids[0]) if len(kids) == 3 and str(kids[1].value) == "=" else None
            if name_tok is None:
                raise self.error(rel, "each part of the point is name = value (x = 1, p = (1/2, 1/2), n = 2)")
            name = str(name_tok.value)
            if name in given:
                raise self.error(rel, f"{name} is given twice in the point")
            given.add(name)
            if name in ctx.sizes:
                size = self.scalar(self.expr(kids[2], scope), rel)
                if not (size.is_Integer and size > 0):
                    raise self.error(rel, f"the size {name} at a point is a positive whole number")
                sizes[ctx.sizes[name]] = size
                point.append((ctx.sizes[name], size))
            elif name in ctx.vectors:
                pending.append((rel, name, kids[2]))
            elif name in ctx.indices or name in ctx.definitions or name in ctx.functions:
                raise self.error(rel, f"{name} is not an input: a point gives values to inputs and sizes")
            else:
                number = self._exact(self.expr(kids[2], scope), rel)
                point.append((ctx.symbol(name), number))
        for rel, name, tree in pending:
            while isinstance(tree, Tree) and tree.data in ("product", "postfix") and len(tree.children) == 1:
                tree = tree.children[0]
            entries = tree.children[1] if isinstance(tree, Tree) and tree.data in ("paren", "bracket") else None
            if entries is None:
                raise self.error(rel, f"the value of the vector {name} lists its entries: {name} = (a, b, …)")
            numbers = [self._exact(self.expr(c.children[0], scope), rel) for c in entries.children if isinstance(c, Tree)]
            if len(ctx.vectors[name]) != 1:
                raise self.error(rel, f"{name} is a matrix: a point gives values to scalars and vectors")
            lo, hi = ctx.vectors[name][0]
            length = sp.sympify(hi).xreplace(sizes) - sp.sympify(lo) + 1
            if not (length.is_Integer and int(length) == len(numbers)):
                raise self.error(rel, f"{name} has {sp.sstr(length)} entries at this point, {len(numbers)} given "
                                 "(give its size too: n = 2)")  # fmt: skip
            point.append((ctx.base(name), tuple(numbers)))
        return At.make(value, point)

    def _exact(self, value: Any, where: Any) -> Any:
        if not (isinstance(value, sp.Basic) and value.is_number and value.is_real and not value.has(sp.Float)):
            raise self.error(where, "a value at a point is an exact number (a fraction, not a decimal)")
        return value

    def _ceil(self, t: Tree, scope: dict) -> Any:
        return sp.ceiling(self.scalar(self.expr(t.children[1], scope), t))

    def _floor(self, t: Tree, scope: dict) -> Any:
        return sp.floor(self.scalar(self.expr(t.children[1], scope), t))

    def _norm(self, t: Tree, scope: dict) -> Any:
        return self.norm(t, self.expr(t.children[1], scope), None, scope)

    def norm(self, t: Tree, value: Any, p: Any, scope: dict) -> Any:
        if not is_tensor(value):
            raise self.error(t, "\\|…\\| of a scalar: declare the vector's length (% gradproof: vector w : n)")
        k = self.ctx.fresh_index("k", value.ranges[0][0])
        if len(value.ranges) != 1:
            raise self.error(t, "\\|…\\| of a matrix is not read; write the sum of squares")
        lo, hi = value.ranges[0]
        if p in (None, 2):
            return sp.sqrt(sp.Sum(value.at(k) ** 2, (k, lo, hi)))
        if p == 1:
            return sp.Sum(sp.Abs(value.at(k)), (k, lo, hi))
        raise self.error(t, f"the {p}-norm is not read (only \\|w\\|_1 and \\|w\\|_2)")

    def _indicator(self, t: Tree, scope: dict) -> Any:
        parts = [c for c in t.children if isinstance(c, Tree)]
        cond = None
        for c in parts:
            if c.data in ("set_", "bracket", "paren"):
                cond = c.children[1]
            elif cond is None:  # \mathbb{1}_{i=j}
                cond = _inner_of(c)
        if cond is None:
            raise self.error(t, "an indicator needs its condition: \\mathbb{1}\\{i = j\\}")
        return self.condition(cond, scope, t)

    def condition(self, inner: Tree, scope: dict, where: Any) -> Any:
        """1 where the condition holds, else 0: a Kronecker delta for indices."""
        rels = [c for c in inner.children if isinstance(c, Tree)]
        if len(rels) != 1 or len(rels[0].children) != 3:
            raise self.error(where, "a condition is one relation: i = j, i \\neq j, x > 0")
        rel = rels[0]
        left = self.scalar(self.expr(rel.children[0], scope), where)
        right = self.scalar(self.expr(rel.children[2], scope), where)
        op = str(rel.children[1].value)
        if op in ("=", "!=") and left.is_integer and right.is_integer:
            delta = sp.KroneckerDelta(left, right)
            return delta if op == "=" else 1 - delta
        relation = {"=": sp.Eq, "!=": sp.Ne, "<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge}.get(op)
        if relation is None:
            raise self.error(rel.children[1], f"{op} is not a condition")
        return sp.Piecewise((1, relation(left, right)), (0, True))

    def _expect(self, t: Tree, scope: dict) -> Any:
        parts = [c for c in t.children if isinstance(c, Tree)]
        over = None
        if len(parts) == 2:
            over = _inner_of(parts[0])
        body = parts[-1].children[1]
        value = self.single(body, scope, t)
        return self.ctx.expectation(self.scalar(value, t), over, t, self, scope)

    def _variance(self, t: Tree, scope: dict) -> Any:
        parts = [c for c in t.children if isinstance(c, Tree)]
        over = _inner_of(parts[0]) if len(parts) == 2 else None  # Var_{\text{with}}: over minibatches
        value = self.scalar(self.single(parts[-1].children[1], scope, t), t)
        mean = self.ctx.expectation(value, over, t, self, scope)
        return self.ctx.expectation(value**2, over, t, self, scope) - mean**2

    def _substack(self, t: Tree, scope: dict) -> Any:
        raise self.error(t, "\\substack belongs under a \\sum")

    # -- products and operators ----------------------------------------------------------------

    def _product(self, t: Tree, scope: dict) -> Any:
        return self.fold(list(t.children), 0, scope, t)

    def fold(self, items: list, k: int, scope: dict, where: Any) -> Any:
        """The product of ``items[k:]``; an operator takes everything after it."""
        factors: list = []
        divide_next = False
        elementwise = False
        while k < len(items):
            item = items[k]
            kind = item.data if isinstance(item, Tree) else None
            if kind == "times_op":
                k += 1
                continue
            if kind == "div_op":
                divide_next = True
                k += 1
                continue
            if kind == "odot_op":
                elementwise = True
                k += 1
                continue
            if kind == "negate_op":
                factors.append(sp.S.NegativeOne)
                k += 1
                continue
            if kind in ("sum_head", "prod_head"):
                factors.append(self.big_operator(item, items, k + 1, scope))
                break
            if kind in ("partial_head", "nabla_head"):
                var_tree = item.children[2] if kind == "partial_head" else (
                    item.children[2] if len(item.children) > 2 else None)  # fmt: skip
                if var_tree is None:
                    raise self.error(item, "\\nabla needs its variable: \\nabla_w L")
                body = self.fold(items, k + 1, scope, item)
                factors.append(self.differentiate(body, [self.variable(var_tree, scope, item)], item, scope,
                                                  gradient=kind == "nabla_head"))  # fmt: skip
                break
            if kind == "lim_head":
                factors.append(self.limit(item, self.fold(items, k + 1, scope, item), scope))
                break
            if kind == "func_head":
                callee = self.function_head(item, scope)
                value, k = self.apply(callee, items, k + 1, scope)
            elif _is_one(item) and k + 1 < len(items) and _is_set(items[k + 1]):
                value = self.condition(items[k + 1].children[0].children[1], scope, item)  # 1\{i = j\}
                k += 2
            else:
                value = self.expr(item, scope) if not _is_name_postfix(item) else self.postfix_name(item, scope)
                k += 1
                if isinstance(value, Callee):
                    value, k = self.apply(value, items, k, scope)
            if divide_next:
                value = _divide(self, item, sp.S.One, value)
                divide_next = False
            factors.append(value)
        if divide_next:
            raise self.error(where, "'/' with nothing after it")
        if not factors:
            raise self.error(where, "an operator with nothing to act on")
        return _multiply(self, where, factors, elementwise)

    def apply(self, callee: Callee, items: list, k: int, scope: dict) -> tuple[Any, int]:
        """``callee`` applied to what follows: a parenthesised argument list, or (for \\log and
        the like) the factors up to the next operator, function or explicit product sign."""
        nxt = items[k] if k < len(items) else None
        if nxt is not None and _is_paren_postfix(nxt):
            paren, scripts = _paren_of(nxt.children[0]), nxt.children[1:]
            args = [self.expr(r.children[0], scope) if len(r.children) == 1 else self._bad_arg(r)
                    for r in paren.children[1].children if isinstance(r, Tree)]  # fmt: skip
            value = self.call(callee, args, nxt)
            value = self.scripts(value, callee.power_trees + scripts, scope, nxt, name=None)
            return value, k + 1
        if not callee.always_call:
            if callee.primes:
                raise self.error(callee.token, f"{callee.name}' needs its argument in parentheses")
            if callee.bare is None:
                raise self.error(callee.token, f"{callee.name} needs an argument in parentheses")
            value = self.scripts(callee.bare, callee.power_trees, scope, callee.token, name=None)
            if callee.power is not None:
                value = value**callee.power
            return value, k
        # \log x y: the argument runs to the next explicit operator or function
        end = k
        while end < len(items):
            it = items[end]
            kind = it.data if isinstance(it, Tree) else None
            if kind in ("times_op", "div_op", "odot_op", "func_head") or (end > k and _is_callable_name(self, it)):
                break
            if kind in ("sum_head", "prod_head", "partial_head", "nabla_head", "lim_head"):
                end = len(items)
                break
            end += 1
        if end == k:
            raise self.error(callee.token, f"\\{callee.name} with no argument")
        arg = self.fold(items[:end], k, scope, callee.token)
        return self.call(callee, [arg], callee.token), end

    def _bad_arg(self, rel: Tree) -> Any:
        raise self.error(rel.children[1], "a relation inside a function's arguments")

    def call(self, callee: Callee, args: list, where: Any) -> Any:
        if len(args) == 1 and is_tensor(args[0]) and callee.name != "softmax" and not callee.vector_args:
            value = args[0].map(lambda e: self._call1(callee, [e], where))
        else:
            value = self._call1(callee, args, where)
        if callee.power is not None:
            value = value.map(lambda e: e**callee.power) if is_tensor(value) else value**callee.power
        return value

    def _call1(self, callee: Callee, args: list, where: Any) -> Any:
        try:
            value = callee.apply(*args, primes=callee.primes, base=callee.log_base)
        except TypeError as exc:
            raise self.error(where, f"{callee.name}: {exc}") from None
        return value

    def function_head(self, item: Tree, scope: dict) -> Callee:
        token = item.children[0]
        name = str(token.value)
        callee = self.ctx.known_function(name, token, self)
        for script in item.children[1:]:
            if script.data == "superscript":
                power = self.scalar(self.expr(script.children[1], scope), script)
                if power == -1 and name in ("sin", "cos", "tan", "tanh"):
                    raise self.error(script, f"\\{name}^{{-1}} is ambiguous (inverse or reciprocal)")
                callee.power = power
            elif script.data == "subscript" and name == "log":
                callee.log_base = self.scalar(self.expr(script.children[1], scope), script)
            elif script.data == "subscript" and name in ("max", "min"):
                raise self.error(script, f"\\{name} over an index is not read; write \\{name}(a, b)")
            elif script.data == "prime":
                callee.primes += 1
            else:
                raise self.error(script, f"unexpected script on \\{name}")
        return callee

    def big_operator(self, head: Tree, items: list, k: int, scope: dict) -> Any:
        """``\\sum_{i=1}^{n} body`` (body: everything after it in the product)."""
        limits, exclusions, inner_scope = self.ctx.summation_limits(head, scope, self)
        body = self.fold(items, k, inner_scope, head)
        body = self.scalar(body, head)
        for var, other in exclusions:  # \sum_{k \neq i}: the term k = i left out
            body = body * (1 - sp.KroneckerDelta(var, other))
        op = sp.Sum if head.data == "sum_head" else sp.Product
        return op(body, *limits)

    def limit(self, head: Tree, body: Any, scope: dict) -> Any:
        inner = _inner_of(head.children[2])
        rels = [c for c in inner.children if isinstance(c, Tree)]
        if len(rels) != 1 or len(rels[0].children) != 3 or rels[0].children[1].type != "TO":
            raise self.error(head, "\\lim needs _{h \\to a}")
        var = self.scalar(self.expr(rels[0].children[0], scope), head)
        target_tree = rels[0].children[2]
        if target_tree.data == "product" and len(target_tree.children) == 1:
            target_tree = target_tree.children[0]
        direction = "+-"
        if target_tree.data == "postfix" and target_tree.children[1:]:
            last = target_tree.children[-1]
            if last.data == "superscript" and last.children[1].data in ("plus_sign", "minus_sign"):
                direction = "+" if last.children[1].data == "plus_sign" else "-"
                target_tree = Tree("postfix", target_tree.children[:-1])
        target = self.scalar(self.expr(target_tree, scope), head)
        return sp.Limit(self.scalar(body, head), var, target, direction)

    # -- names ------------------------------------------------------------------------------------

    def postfix_name(self, t: Tree, scope: dict) -> Any:
        atom = t.children[0]
        token = atom.children[0] if atom.data == "name" else _group_name(atom)
        return self.named(token, t.children[1:], scope)

    def _postfix(self, t: Tree, scope: dict) -> Any:
        atom, scripts = t.children[0], list(t.children[1:])
        if isinstance(atom, Tree) and atom.data == "norm":  # \|w\|_2^2: the subscript is the norm's p
            p = None
            if scripts and scripts[0].data == "subscript":
                p = self.scalar(self.expr(scripts.pop(0).children[1], scope), t)
            value = self.norm(atom, self.expr(atom.children[1], scope), p, scope)
            return self.scripts(value, scripts, scope, t, name=None)
        if _is_name_postfix(t):
            value = self.postfix_name(t, scope)
            if isinstance(value, Callee):
                value, _ = self.apply(value, [], 0, scope)
            return value
        value = self.expr(t.children[0], scope)
        return self.scripts(value, t.children[1:], scope, t, name=None)

    def named(self, token: Token, scripts: list, scope: dict) -> Any:
        """A name with its sub- and superscripts: an index, a size, an input, a definition, a
        function, δ_ij, e^{x}."""
        return self.ctx.resolve_name(token, scripts, scope, self)

    def scripts(self, value: Any, scripts: list, scope: dict, where: Any, *, name: str | None) -> Any:
        """Superscripts (powers, transposes) and primes on an expression that is not a name."""
        for script in scripts:
            if script.data == "superscript":
                arg = script.children[1]
                if _is_transpose(arg):
                    if not is_tensor(value):
                        raise self.error(script, "a transpose of a scalar")
                    value = value.transpose()
                    continue
                power = self.scalar(self.expr(arg, scope), script)
                value = value.map(lambda e, p=power: e**p) if is_tensor(value) else value**power
            elif script.data == "transpose":
                value = value.transpose() if is_tensor(value) else self._scalar_transpose(script)
            elif script.data == "factorial":
                value = sp.factorial(self.scalar(value, script))
            elif script.data == "subscript":
                if is_tensor(value):
                    idx = self.ctx.subscript_indices(script.children[1], scope, self, need=len(value.ranges))
                    value = value.at(*idx)
                    continue
                if isinstance(value, sp.Basic) and value.is_number and self._is_norm_script(where, script):
                    continue
                raise self.error(script, "a subscript on a bracket: write the name with its index (z_j)")
            else:
                raise self.error(script, "a prime here: write f'(x) for a declared function f")
        return value

    def _scalar_transpose(self, script: Tree) -> Any:
        raise self.error(script, "a transpose of a scalar")

    def _is_norm_script(self, where: Any, script: Tree) -> bool:
        return False

    # -- derivatives ----------------------------------------------------------------------------

    def derivative_fraction(self, num: Tree, den: Tree, scope: dict) -> Any:
        """``\\frac{\\partial L}{\\partial z_j}``, ``\\frac{d}{dw}(…)``, ``\\frac{\\partial^2 L}{\\partial w^2}``;
        None when the fraction is an ordinary one."""
        num_items = _product_items(num)
        den_items = _product_items(den)
        if not num_items or not den_items:
            return None
        marker = _differential(num_items[0])
        if marker is None or _differential(den_items[0]) is None:
            return None
        order = marker[1]
        variables = []
        k = 0
        while k < len(den_items):
            mark = _differential(den_items[k])
            if mark is None or k + 1 >= len(den_items):
                raise self.error(den_items[k], "the denominator of a derivative is \\partial x (or dx) for each variable")
            var_tree = den_items[k + 1]
            power = 1
            if var_tree.data == "postfix" and var_tree.children[1:] and var_tree.children[-1].data == "superscript":
                power = int(self.scalar(self.expr(var_tree.children[-1].children[1], scope), var_tree))
                var_tree = Tree("postfix", var_tree.children[:-1])
            variables += [self.variable(var_tree, scope, den_items[k])] * power
            k += 2
        if len(variables) != order:
            raise self.error(den, f"a derivative of order {order} needs {order} variable(s) below")
        if len(num_items) == 1:
            return _Operator(self, variables, num)
        if len(num_items) == 2 and _is_callable_name(self, num_items[1]) and len(variables) >= 1:
            # d\sigma/dz: the function applied to the variable (a bare name is σ(z), not a constant)
            callee = self.postfix_name(num_items[1], scope)
            body = self.call(callee, [variables[0]], num)
            return self.differentiate(body, variables, num, scope)
        body = self.fold(num_items, 1, scope, num)
        return self.differentiate(body, variables, num, scope)

    def variable(self, tree: Any, scope: dict, where: Any) -> Any:
        value = self.expr(tree, scope) if not _is_name_postfix(tree) else self.postfix_name(tree, scope)
        if isinstance(value, Callee):
            value = value.bare
        if is_tensor(value):
            return value
        if not isinstance(value, (sp.Symbol, sp.Indexed)) or value.is_integer:
            raise self.error(where, "differentiate with respect to a variable (x, w_k), not an expression")
        return value

    def differentiate(self, body: Any, variables: list, where: Any, scope: dict, *, gradient: bool = False) -> Any:
        return self.ctx.differentiate(body, variables, where, self, gradient=gradient)

    def scalar(self, value: Any, where: Any) -> Any:
        if is_tensor(value):
            raise self.error(where, "a vector where a number was expected (write its component, w_k)")
        if isinstance(value, _Operator):
            raise self.error(where, "a derivative operator with nothing to act on")
        return value


class _Operator:
    """``\\frac{d}{dx}`` waiting for the expression after it (handled by :meth:`Builder.fold`)."""

    def __init__(self, builder: Builder, variables: list, where: Any) -> None:
        self.builder, self.variables, self.where = builder, variables, where


# ----------------------------------------------------------------------------------------------
# helpers on trees


def _offset(node: Any) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    if isinstance(node, Tree):
        for child in node.children:
            if child is None:
                continue
            off = _offset(child)
            if off is not None:
                return off
    return 0


def _inner_of(node: Tree) -> Tree:
    """The ``inner`` list of a group/paren/bracket, or a one-element one around an argument."""
    if isinstance(node, Tree) and node.data in ("group", "paren", "bracket", "set_"):
        found = [c for c in node.children if isinstance(c, Tree) and c.data == "inner"]
        if found:
            return found[0]
    return Tree("inner", [Tree("relexpr", [node])])


def _product_items(tree: Any) -> list:
    """The items of a one-expression group (``{\\partial L}`` → [∂, L]); [] otherwise."""
    if isinstance(tree, Tree) and tree.data == "group":
        inner = [c for c in tree.children if isinstance(c, Tree)]
        if len(inner) != 1 or len(inner[0].children) != 1 or len(inner[0].children[0].children) != 1:
            return []
        tree = inner[0].children[0].children[0]
    if isinstance(tree, Tree) and tree.data == "product":
        return list(tree.children)
    if isinstance(tree, Tree) and tree.data in ("postfix", "name", "partial_sym"):
        return [tree]
    return []


def _differential(item: Any) -> tuple[str, int] | None:
    """('∂' or 'd', order) when ``item`` is ∂, ∂^2, d or d^2."""
    if not isinstance(item, Tree):
        return None
    atom, scripts = (item.children[0], item.children[1:]) if item.data == "postfix" else (item, [])
    order = 1
    if scripts:
        if len(scripts) != 1 or scripts[0].data != "superscript" or scripts[0].children[1].data != "num":
            return None
        order = int(str(scripts[0].children[1].children[0]))
    if isinstance(atom, Tree) and atom.data == "partial_sym":
        return "∂", order
    if isinstance(atom, Tree) and atom.data == "name" and str(atom.children[0].value) == "d":
        return "d", order
    return None


def _is_name_postfix(t: Any) -> bool:
    if not isinstance(t, Tree) or t.data != "postfix":
        return False
    atom = t.children[0]
    return (isinstance(atom, Tree) and atom.data == "name") or _group_name(atom) is not None


def _group_name(atom: Any) -> Token | None:
    """``{s}`` and ``{w'}`` as SymPy's printer writes them (``{s}_{i}``): the name inside."""
    if not (isinstance(atom, Tree) and atom.data == "group"):
        return None
    items = _product_items(atom)
    if len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "postfix":
        inner = items[0].children[0]
        scripts = items[0].children[1:]
        if isinstance(inner, Tree) and inner.data == "name" and all(s.data == "prime" for s in scripts):
            tok = inner.children[0]
            if scripts:
                return Token("NAME", str(tok.value) + "'" * len(scripts), start_pos=tok.start_pos,
                             line=tok.line, column=tok.column, end_pos=tok.end_pos)  # fmt: skip
            return tok
    return None


def _is_one(t: Any) -> bool:
    return (isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1 and isinstance(t.children[0], Tree)
            and t.children[0].data == "num" and str(t.children[0].children[0]) == "1")  # fmt: skip


def _is_set(t: Any) -> bool:
    return (isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1 and isinstance(t.children[0], Tree)
            and t.children[0].data == "set_")  # fmt: skip


def _is_paren_postfix(t: Any) -> bool:
    """``(…)`` after a function name, also as SymPy prints it: ``{\\left(…\\right)}``."""
    return isinstance(t, Tree) and t.data == "postfix" and _paren_of(t.children[0]) is not None


def _paren_of(atom: Any) -> Tree | None:
    if isinstance(atom, Tree) and atom.data == "paren":
        return atom
    items = _product_items(atom) if isinstance(atom, Tree) and atom.data == "group" else []
    if len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "postfix" and len(items[0].children) == 1:
        inner = items[0].children[0]
        if isinstance(inner, Tree) and inner.data == "paren":
            return inner
    return None


def _is_callable_name(builder: Builder, t: Any) -> bool:
    if not _is_name_postfix(t):
        return False
    atom = t.children[0]
    token = atom.children[0] if atom.data == "name" else _group_name(atom)
    return builder.ctx.is_function_name(str(token.value))


def _is_transpose(arg: Any) -> bool:
    return isinstance(arg, Tree) and arg.data == "name" and str(arg.children[0].value) in ("T", "\\top")


def _combine(builder: Builder, where: Any, a: Any, b: Any, sign: int) -> Any:
    if isinstance(a, _Operator) or isinstance(b, _Operator):
        raise builder.error(where, "a derivative operator with nothing to act on")
    if is_tensor(a) or is_tensor(b):
        try:
            return Tensor.combine(a, b, sign)
        except ValueError as exc:
            raise builder.error(where, str(exc)) from None
    return a + sign * b


def _divide(builder: Builder, where: Any, a: Any, b: Any) -> Any:
    if is_tensor(b):
        if is_tensor(a):
            raise builder.error(where, "a vector divided by a vector: write the components")
        return b.map(lambda e: a / e)
    if is_tensor(a):
        return a.map(lambda e: e / b)
    if isinstance(b, _Operator) or isinstance(a, _Operator):
        raise builder.error(where, "a derivative operator in a fraction")
    return a / b


def _multiply(builder: Builder, where: Any, factors: list, elementwise: bool) -> Any:
    out = factors[-1]
    for f in reversed(factors[:-1]):
        if isinstance(f, _Operator):
            out = builder.differentiate(out, f.variables, f.where, {})
            continue
        if isinstance(out, _Operator):
            raise builder.error(where, "a derivative operator at the end of a product")
        if is_tensor(f) or is_tensor(out):
            try:
                out = Tensor.multiply(f, out, elementwise=elementwise, fresh=builder.ctx.fresh_index)
            except ValueError as exc:
                raise builder.error(where, str(exc)) from None
        else:
            out = f * out
    if isinstance(out, _Operator):
        raise builder.error(where, "a derivative operator with nothing to act on")
    return out


__all__ = ["Builder", "Callee", "as_component", "parse_tokens"]

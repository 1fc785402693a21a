"""What a file declares, and what each name in it means.

Declarations are comments (``% gradproof: KEYWORD …`` in LaTeX, ``<!-- gradproof: KEYWORD … -->``
in Markdown), so the file still compiles:

``index i, j = 1..n``      free indices and their range (``0..n-1`` and ``2..K`` work too)
``size n, N``              size symbols (names in sum limits and index ranges are sizes anyway)
``define s_i = …``         a definition, expanded wherever ``s_i`` occurs
``assume …``               ``p_i > 0``, ``y_i \\ge 0``, ``0 < p < 1``, ``y_i \\in \\{0, 1\\}``,
                           ``c \\in \\{-1, 1\\}``, ``\\sum_{i=1}^{n} y_i = 1``, ``n \\ge 2``
``function \\ell(w)``       an unknown differentiable function (``\\phi(t) = \\tanh(t)``: a known one)
``vector w, x : n``        vectors with components 1..n (``: 0..n-1``), read componentwise
``matrix W : n \\times m``  a matrix with entries W_ij
``random m \\sim \\mathrm{Bernoulli}(p)``   random quantities for \\mathbb{E} and \\operatorname{Var}
                           (also ``\\mathcal{N}(\\mu, s)``, ``\\mathrm{Uniform}(a, b)``, or none: any
                           distribution); distinct random quantities are independent
``scalar L_u, M_{params}`` names whose subscript is part of the name, not an index

Symbols carry exactly what is declared: an index is an integer, positive only when its range
starts at 1 or more; an input is real, positive only when assumed so.  The prover trusts these
assumptions, so nothing more is put on them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy as sp
from lark import Token, Tree

from gradproof.derivations.model import Assumption, Definition
from gradproof.steps.expectation import RandomQuantity, expectation_of
from gradproof.steps.tensors import Tensor, is_tensor

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.steps.parse import Builder, Callee
    from gradproof.steps.source import Directive, Source

KEYWORDS = ("index", "size", "define", "assume", "function", "vector", "matrix", "random", "scalar")

@dataclass
class Domain:
    """The values an input may take, from its assumptions: an interval (``lo``/``hi`` None when
    unbounded) or a finite set (``values``).  It decides both the SymPy assumptions on the
    input's symbol and the exact values it is sampled at."""

    lo: Any = None
    hi: Any = None
    lo_strict: bool = False
    hi_strict: bool = False
    values: tuple | None = None
    nonzero: bool = False
    integer: bool = False  # x \in \mathbb{N}: a count, 1, 2, 3, …

    def assumptions(self) -> dict:
        if self.integer:
            return {"integer": True, "positive": True}
        if self.values is not None:
            ints = all(sp.sympify(v).is_integer for v in self.values)
            out = {"integer": True} if ints else {"real": True}
            if all(v >= 0 for v in self.values):
                out["nonnegative"] = True
            if all(v != 0 for v in self.values):
                out["nonzero"] = True
            return out
        if self.lo is not None and (self.lo > 0 or (self.lo == 0 and self.lo_strict)):
            return {"positive": True}
        if self.lo is not None and self.lo >= 0:
            return {"nonnegative": True}
        if self.hi is not None and (self.hi < 0 or (self.hi == 0 and self.hi_strict)):
            return {"negative": True}
        if self.hi is not None and self.hi <= 0:
            return {"nonpositive": True}
        if self.nonzero:
            return {"real": True, "nonzero": True}
        return {"real": True}

    def is_default(self) -> bool:
        return self == Domain()


@dataclass
class IndexInfo:
    symbol: sp.Symbol
    lo: Any
    hi: Any


@dataclass
class FunctionInfo:
    """A declared function: unknown (``body_tree`` None; ``function`` is its SymPy function) or
    known by a formula, read again at each call with the parameters bound to the arguments, so
    a parameter may be a vector (``H(p, q) = -\\sum_i p_i \\log q_i``).  ``variants``: the
    declarations of the same name with other numbers of parameters (H(p) and H(p, q))."""

    name: str
    params: tuple  # Dummies, one per parameter (for the bare name and for f')
    body: Any  # the formula in ``params`` when every parameter is a number; None otherwise
    function: Any
    defaults: tuple = ()  # values of the last parameters when a call leaves them out
    param_names: tuple = ()
    body_tree: Any = None
    variants: list = field(default_factory=list)

    def accepts(self, count: int) -> bool:
        return len(self.params) - len(self.defaults) <= count <= len(self.params)


@dataclass
class SumFact:
    """``Σ_{k=lo}^{hi} base_k = value`` (an assumption): a rewrite for the prover and a constraint
    for the sampler.  For a matrix, ``pos`` is the summed axis and ``others`` the ranges of the
    other axes (Σ_c Y_{a,c} = 1 for every a)."""

    base: Any
    lo: Any
    hi: Any
    value: Any
    text: str
    pos: int = 0
    others: tuple = ()  # ((lo, hi), …) of the axes not summed, in axis order
    power: int = 1  # 2: a sum of squares (Σ_l u_l² = 1, a unit vector)


@dataclass
class Context:
    """The declarations of one file and the symbols made from them."""

    source: Source
    indices: dict[str, IndexInfo] = field(default_factory=dict)
    sizes: dict[str, sp.Symbol] = field(default_factory=dict)
    min_sizes: dict[Any, int] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    vectors: dict[str, tuple] = field(default_factory=dict)
    randoms: dict[str, RandomQuantity] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    domains: dict[str, Domain] = field(default_factory=dict)
    sum_facts: list[SumFact] = field(default_factory=list)
    definitions: dict[str, Definition] = field(default_factory=dict)
    definition_lines: dict[str, int] = field(default_factory=dict)
    assumption_texts: list[str] = field(default_factory=list)
    bound_ranges: dict[Any, tuple] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _symbols: dict[str, Any] = field(default_factory=dict)
    _bases: dict[str, Any] = field(default_factory=dict)
    _fresh: itertools.count = field(default_factory=itertools.count)

    # -- symbols ----------------------------------------------------------------------------------

    def domain(self, name: str) -> Domain:
        return self.domains.get(name, Domain())

    def symbol(self, name: str) -> sp.Symbol:
        """The scalar input (or defined quantity) called ``name``."""
        if name not in self._symbols:
            if name in self.randoms:
                self._symbols[name] = self.randoms[name].symbol
            elif name in self.definitions:
                # a defined name carries only what the file assumes of it (\|g\| > 0: the
                # hypothesis g ≠ 0); the point checks draw only inputs that satisfy it
                assumed = self.domains.get(name)
                self._symbols[name] = sp.Symbol(name, **assumed.assumptions()) if assumed else sp.Symbol(name)
            else:
                self._symbols[name] = sp.Symbol(name, **self.domain(name).assumptions())
        return self._symbols[name]

    def base(self, name: str) -> sp.IndexedBase:
        """The indexed input (or defined quantity) called ``name``: z in z_j."""
        if name not in self._bases:
            if name in self.definitions:
                self._bases[name] = sp.IndexedBase(name)
            else:
                self._bases[name] = sp.IndexedBase(name, **self.domain(name).assumptions())
        return self._bases[name]

    def size(self, name: str) -> sp.Symbol:
        if name not in self.sizes:
            self.sizes[name] = sp.Symbol(name, integer=True, positive=True)
        return self.sizes[name]

    def fresh_index(self, name: str, lo: Any) -> sp.Dummy:
        """A summation index made here (an inner product's k): integer, positive only from 1."""
        return _bound_symbol(name, lo)

    def is_function_name(self, name: str) -> bool:
        return name in self.functions or (name == "sigma" and self._sigma_is_function())

    def _sigma_is_function(self) -> bool:
        return "sigma" not in self.randoms and "sigma" not in self.vectors and "sigma" not in self.domains and "sigma" not in self.labels

    # -- names ------------------------------------------------------------------------------------

    def resolve_name(self, token: Token, scripts: list, scope: dict, builder: Builder) -> Any:
        from gradproof.steps.parse import Callee

        name = str(token.value)
        subs = [s for s in scripts if s.data == "subscript"]
        sups = [s for s in scripts if s.data == "superscript"]
        primes = sum(1 for s in scripts if s.data == "prime")
        others = [s for s in scripts if s.data in ("transpose", "factorial")]
        if len(subs) > 1:
            raise builder.error(subs[1], f"{name} has two subscripts")
        # x^{(i)}: a superscript in brackets is an index (sample i, layer l)
        upper_indices: list = []
        powers = []
        for s in sups:
            arg = s.children[1]
            bracketed = _bracketed_index(arg)
            if bracketed is not None and name != "e":
                upper_indices += self.subscript_indices(bracketed, scope, builder, base=name) or []
            else:
                powers.append(s)
        indices: list | None = None
        if subs and name in scope and is_tensor(scope[name]):  # a vector parameter: p_i in H(p, q)
            vec = scope[name]
            idx = self.subscript_indices(subs[0].children[1], scope, builder, base=name)
            if len(idx) != len(vec.ranges):
                raise builder.error(token, f"{name} has {len(vec.ranges)} index(es), got {len(idx)}")
            return builder.scripts(vec.at(*idx), powers + others, scope, token, name=name)
        if subs and name in scope:  # a summation index, or a function's parameter bound to a number
            raise builder.error(token, f"{name} is a number here (an index or a parameter) and takes no subscript")
        if subs:
            label = self.label_of(name, subs[0].children[1], builder)
            if label is not None:
                name = label
            else:
                indices = self.subscript_indices(subs[0].children[1], scope, builder, base=name)
        if upper_indices:
            indices = upper_indices + (indices or [])

        if indices is None:
            value = self._plain(name, token, scope, builder, primes, powers)
            if isinstance(value, Callee):
                return value
        else:
            if primes:
                raise builder.error(token, f"{name}' with a subscript: declare it as a function to use primes")
            value = self._indexed(name, token, indices, builder)
        value = builder.scripts(value, powers + others, scope, token, name=name)
        return sp.E if isinstance(value, _Euler) else value

    def _plain(self, name: str, token: Token, scope: dict, builder: Builder, primes: int, powers: list) -> Any:
        if name == "e" and powers and name not in self.definitions and name not in self.domains:
            return _Euler()  # e^{x} is exp(x), even where e names an index
        if name in scope:
            return scope[name]
        if name in self.indices:
            return self.indices[name].symbol
        if name in self.sizes:
            return self.sizes[name]
        if name in self.functions or (name == "sigma" and self._sigma_is_function()):
            callee = self.function_callee(name, token, builder=builder)
            callee.primes = primes
            callee.power_trees = powers  # \sigma^2(z) is σ(z)², while \sigma^2 alone is a scalar
            return callee
        if primes:
            raise builder.error(token, f"{name}' : declare the function (% gradproof: function {name}(x))")
        if name in self.vectors:
            return self.tensor(name)
        if name == "e" and name not in self.domains and name not in self.definitions:
            return _Euler()
        if name == "pi" and name not in self.domains and name not in self.definitions:
            return sp.pi
        if name in ("T",):
            return self.symbol(name)
        return self.symbol(name)

    def _indexed(self, name: str, token: Token, indices: list, builder: Builder) -> Any:
        if name == "delta" and len(indices) == 2 and "delta" not in self.definitions and "delta" not in self.domains:
            return sp.KroneckerDelta(*indices)
        # a function's name with a subscript is a separate vector only where the file defines or declares
        # that vector (H_j, hidden units, beside the unit step H(t)); otherwise f_i is an error, not a guess
        vector_too = name in self.definitions or name in self.vectors
        if name in self.indices or name in self.sizes or (name in self.functions and not vector_too):
            raise builder.error(token, f"{name} is an index, size or function and takes no subscript")
        if name in self.vectors:
            shape = self.vectors[name]
            if len(indices) != len(shape):
                raise builder.error(token, f"{name} has {len(shape)} index(es), got {len(indices)}")
        if name in self.randoms:
            raise builder.error(token, f"the random quantity {name} takes no subscript")
        if name == "e":
            raise builder.error(token, "e_i: e is Euler's number; declare another name for a vector")
        return self.base(name)[tuple(indices)]

    def tensor(self, name: str) -> Tensor:
        shape = self.vectors[name]
        base = self.base(name)
        if len(shape) == 1:
            return Tensor(shape, lambda i: base[i])
        return Tensor(shape, lambda i, j: base[i, j])

    def label_of(self, name: str, arg: Any, builder: Builder) -> str | None:
        """``L_u`` declared as a scalar (``% gradproof: scalar L_u``): the whole name, or None."""
        text = _script_text(builder.source, arg)
        label = f"{name}_{{{text}}}"
        if label in self.labels:
            return label
        if isinstance(arg, Tree) and arg.data == "name" and str(arg.children[0].value).startswith("\\mathrm"):
            return f"{name}_{{{arg.children[0].value}}}"
        if isinstance(arg, Tree) and arg.data == "group":
            items = _group_items(arg)
            if len(items) == 1 and _name_value(items[0]).startswith("\\mathrm"):
                return f"{name}_{{{_name_value(items[0])}}}"
        if isinstance(arg, Tree) and arg.data in ("num", "group") and text.startswith("0") and len(text) > 1:
            return label  # \ell_{01}: a leading zero is a label, not the number 1
        return None

    def subscript_indices(self, arg: Any, scope: dict, builder: Builder, *, base: str = "", need: int | None = None) -> list:
        """The indices of a subscript: ``_j``, ``_{ij}``, ``_{i,j}``, ``_{l-1}``, ``_2``."""
        if isinstance(arg, Tree) and arg.data == "num":
            value = sp.Rational(str(arg.children[0]))
            if not value.is_integer:
                raise builder.error(arg, f"index {value} is not an integer")
            return [value]
        if isinstance(arg, Tree) and arg.data == "name":
            return [self._index_name(arg.children[0], scope, builder, base)]
        if isinstance(arg, Tree) and arg.data == "group":
            inner = [c for c in arg.children if isinstance(c, Tree)]
            if not inner:
                raise builder.error(arg, "an empty subscript")
            parts = [c for c in inner[0].children if isinstance(c, Tree)]
            if len(parts) == 1 and len(parts[0].children) == 1:
                expr_tree = parts[0].children[0]
                letters = _letter_run(expr_tree)
                if letters is not None:
                    return [self._index_name(t, scope, builder, base) for t in letters]
                return [self._index_expr(expr_tree, scope, builder)]
            out = []
            for rel in parts:
                if len(rel.children) != 1:
                    raise builder.error(rel, "a relation inside a subscript")
                out.append(self._index_expr(rel.children[0], scope, builder))
            return out
        raise builder.error(arg, "this subscript is not an index")

    def _index_name(self, token: Token, scope: dict, builder: Builder, base: str) -> Any:
        name = str(token.value)
        if name in scope:
            return scope[name]
        if name in self.indices:
            return self.indices[name].symbol
        if name in self.sizes:
            return self.sizes[name]
        hint = f" (or, if {base}_{name} is one name, % gradproof: scalar {base}_{name})" if base else ""
        raise builder.error(
            token, f"index {name} is not declared: add % gradproof: index {name} = 1..n{hint}"
        )  # fmt: skip

    def _index_expr(self, tree: Any, scope: dict, builder: Builder) -> Any:
        value = builder.scalar(builder.expr(tree, scope), tree)
        for sym in value.free_symbols:
            if not sym.is_integer:
                raise builder.error(tree, f"index {sym} is not declared (an index expression needs declared indices)")
        return value

    # -- functions --------------------------------------------------------------------------------

    def known_function(self, name: str, token: Token, builder: Any = None) -> Callee:
        from gradproof.steps.parse import Callee

        if name == "sigmoid":
            return self.function_callee("sigma", token, always=True, builder=builder)
        if name in ("max", "min"):
            op = sp.Max if name == "max" else sp.Min
            return Callee(name, token, _plain_call(name, lambda *a: op(*a)))
        if name == "softmax":
            return Callee(name, token, _softmax_call(self))
        if name == "relu":
            return Callee("ReLU", token, _lambda_call("ReLU", lambda t: sp.Max(0, t)))
        table = {"log": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
                 "sinh": sp.sinh, "cosh": sp.cosh, "sign": sp.sign, "atan": sp.atan}  # fmt: skip
        f = table[name]
        return Callee(name, token, _lambda_call(name, f, log=name == "log"), always_call=True)

    def function_callee(self, name: str, token: Token, *, always: bool = False, builder: Any = None) -> Callee:
        from gradproof.steps.parse import Callee

        if name in self.functions:
            info = self.functions[name]
            if info.body_tree is None:
                return Callee(name, token, _undefined_call(info), bare=info.function(*info.params))
            scalar = all(v.body is not None for v in info.variants)
            return Callee(name, token, _known_call(info, builder), bare=info.body, vector_args=not scalar)
        # σ: the logistic sigmoid; alone (σ^2, σ_i) a scalar
        return Callee("sigma", token, _lambda_call("sigma", _sigmoid), bare=self.symbol("sigma"), always_call=always)

    # -- sums -------------------------------------------------------------------------------------

    def summation_limits(self, head: Tree, scope: dict, builder: Builder) -> tuple[list, list, dict]:
        """``(limits, exclusions, scope inside the sum)`` of ``\\sum_{…}^{…}``."""
        subs = [s for s in head.children[1:] if isinstance(s, Tree) and s.data == "subscript"]
        sups = [s for s in head.children[1:] if isinstance(s, Tree) and s.data == "superscript"]
        if len(subs) != 1 or len(sups) > 1:
            raise builder.error(head, "a sum needs its index: \\sum_{i=1}^{n}, \\sum_i or \\sum_{k \\neq i}")
        arg = subs[0].children[1]
        upper = sups[0].children[1] if sups else None
        parts = _condition_parts(arg)
        specs = []  # (name token, lo tree | None, hi tree | None, excluded trees, lo-strict, hi-strict)
        for rel in parts:
            specs.append(self._limit_spec(rel, builder))
        if upper is not None:  # \sum_{i=1}^{n}, and \sum_{i,j=1}^{n} for both
            lows = [s[1] for s in specs if s[1] is not None]
            for s in specs:
                if s[2] is not None:
                    raise builder.error(upper, "an upper limit given twice")
                s[2] = upper
                if s[1] is None and len(lows) == 1:
                    s[1] = lows[0]
                elif s[1] is None and not lows:  # \sum_j^C: from the index's declared start, else 1
                    name = str(s[0].value)
                    s[1] = Tree("num", [Token("NUM", str(self.indices[name].lo) if name in self.indices
                                              and self.indices[name].lo.is_Integer else "1")])  # fmt: skip
        # outermost (listed last) first: an inner range may mention an outer index
        inner_scope = dict(scope)
        limits, exclusions = [], []
        for token, lo_tree, hi_tree, excluded, strict in reversed(specs):
            name = str(token.value)
            if lo_tree is None and hi_tree is None:
                lo, hi = self._declared_range(name, excluded, token, inner_scope, builder)
            elif lo_tree is None or hi_tree is None:
                raise builder.error(token, f"the sum over {name} needs both limits (\\sum_{{{name}=1}}^{{n}})")
            else:
                lo = builder.scalar(builder.expr(lo_tree, inner_scope), lo_tree) + strict[0]
                hi = builder.scalar(builder.expr(hi_tree, inner_scope), hi_tree) - strict[1]
            for bound in (lo, hi):
                for sym in bound.free_symbols:
                    if not sym.is_integer:
                        raise builder.error(token, f"the limits of a sum must be integers; {sym} is not declared as a size")
            var = _bound_symbol(name, lo)
            self.bound_ranges[var] = (lo, hi)
            inner_scope[name] = var
            limits.append((var, lo, hi))
            for ex in excluded:
                exclusions.append((var, ex))
        # exclusions name other indices: build them inside the sum (they may be outer indices)
        built = []
        for var, ex in exclusions:
            built.append((var, self._index_expr(ex, inner_scope, builder)))
        return list(reversed(limits)), built, inner_scope

    def _limit_spec(self, rel: Tree, builder: Builder) -> list:
        kids = rel.children
        if len(kids) == 1:  # \sum_i
            tok = _single_name(kids[0])
            if tok is None:
                raise builder.error(rel, "a sum's index is a single name")
            return [tok, None, None, [], (0, 0)]
        ops = [str(k.value) for k in kids[1::2]]
        terms = kids[0::2]
        if ops == ["="]:
            tok = _single_name(terms[0])
            if tok is None:
                raise builder.error(rel, "write the sum's index on the left: \\sum_{i=1}^{n}")
            return [tok, terms[1], None, [], (0, 0)]
        if ops == ["!="]:
            tok = _single_name(terms[0])
            if tok is None:
                raise builder.error(rel, "write \\sum_{k \\neq i}")
            return [tok, None, None, [terms[1]], (0, 0)]
        if len(ops) == 2 and all(o in ("<=", "<") for o in ops):  # 1 \le k \le n
            tok = _single_name(terms[1])
            if tok is None:
                raise builder.error(rel, "write \\sum_{1 \\le k \\le n}")
            return [tok, terms[0], terms[2], [], (int(ops[0] == "<"), int(ops[1] == "<"))]
        raise builder.error(rel, "a sum's range is i=1 (with ^{n}), 1 \\le i \\le n, i \\neq j, or a declared index")

    def _declared_range(self, name: str, excluded: list, token: Token, scope: dict, builder: Builder) -> tuple:
        if name in self.indices:
            info = self.indices[name]
            return info.lo, info.hi
        if name in self.vectors:
            raise builder.error(token, f"{name} is a vector, not an index")
        for ex in excluded:  # \sum_{k \neq i}: k runs over i's range
            tok = _single_name(ex)
            other = str(tok.value) if tok is not None else None
            if other in self.indices:
                return self.indices[other].lo, self.indices[other].hi
            if other in scope and scope[other] in self.bound_ranges:
                return self.bound_ranges[scope[other]]
        raise builder.error(token, f"index {name} is not declared: \\sum_{name} needs its range "
                                   f"(% gradproof: index {name} = 1..n, or write \\sum_{{{name}=1}}^{{n}})")  # fmt: skip

    # -- derivatives and expectations -------------------------------------------------------------

    def differentiate(self, body: Any, variables: list, where: Any, builder: Builder, *, gradient: bool) -> Any:
        if any(is_tensor(v) for v in variables):
            if len(variables) != 1:
                raise builder.error(where, "a second derivative with respect to a vector is not read")
            vec = variables[0]
            if len(vec.ranges) != 1:
                raise builder.error(where, "a derivative with respect to a matrix: write it per entry (W_ij)")
            if is_tensor(body):
                raise builder.error(where, "the derivative of a vector with respect to a vector (a Jacobian): write it per entry")
            return Tensor(vec.ranges, lambda i: self._derivative(body, [vec.at(i)]))
        if gradient:
            raise builder.error(where, "\\nabla_x with x a scalar: write \\frac{\\partial}{\\partial x}")
        if is_tensor(body):
            return body.map(lambda e: self._derivative(e, variables))
        return self._derivative(body, variables)

    def _derivative(self, body: Any, variables: list) -> Any:
        # a defined variable (∂L/∂s_j with s_i := softmax): L as a function of s, s held as a variable
        defined = [v for v in variables if self.definition_of(v) is not None]
        if defined:
            keep = {self.definition_of(v) for v in defined}
            expanded = self.expand_except(body, keep)
            value = sp.Derivative(expanded, *variables).doit()
            # what SymPy leaves (∂φ(a_m)/∂a_m) is written at a point, so that expanding a's
            # definition later replaces the point, not the variable
            return value.replace(lambda e: isinstance(e, sp.Derivative) and any(v in defined for v in e.variables),
                                 _at_point)  # fmt: skip
        return sp.Derivative(body, *variables)

    def definition_of(self, var: Any) -> Definition | None:
        for d in self.definitions.values():
            if d is not None and d.matches(var):
                return d
        return None

    def expand_except(self, expr: Any, keep: set) -> Any:
        for _ in range(10):
            new = expr
            for d in self.definitions.values():
                if d is None or d in keep:
                    continue
                new = new.replace(d.matches, d.expand)
            if new == expr:
                return expr
            expr = new
        return expr

    def expectation(self, value: Any, over: Any, where: Any, builder: Builder, scope: dict) -> Any:
        if not self.randoms:
            raise builder.error(where, "\\mathbb{E} needs a random quantity: % gradproof: random m \\sim \\mathrm{Bernoulli}(p)")
        names = None
        if over is not None:
            names = []
            for rel in [c for c in over.children if isinstance(c, Tree)]:
                tok = _single_name(rel.children[0])
                if tok is None or str(tok.value) not in self.randoms:
                    raise builder.error(rel, "\\mathbb{E}_{m}: m must be a declared random quantity")
                names.append(str(tok.value))
        return expectation_of(value, [self.randoms[n] for n in names] if names else list(self.randoms.values()))

    # -- the derivation model -------------------------------------------------------------------

    def add_definition(self, name: str, target: Any, index: tuple, expr: Any, text: str, line: int) -> None:
        self.definitions[name] = Definition(target=target, index=index, expr=expr, text=text)
        self.definition_lines[name] = line

    def index_ranges(self) -> dict:
        return {info.symbol: (info.lo, info.hi) for info in self.indices.values()}

    def assumptions(self) -> tuple[Assumption, ...]:
        out = []
        for fact in self.sum_facts:
            out.append(Assumption(text=fact.text, rewrite=_sum_rewrite(fact)))
        for d in self.definitions.values():
            fact = _norm_fact(d)
            if fact is not None:  # \|g\| := √(Σ_l g_l²), so Σ_l g_l² = \|g\|² wherever it occurs
                out.append(Assumption(text=f"{d.text} squared", rewrite=_sum_rewrite(fact)))
        return tuple(out)


# ----------------------------------------------------------------------------------------------


class _Euler:
    """``e`` before its superscript is read: ``e^{x}`` is exp(x), ``e`` alone Euler's number."""

    def __rpow__(self, other: Any) -> Any:  # pragma: no cover - never the exponent
        return other**sp.E

    def __pow__(self, power: Any) -> Any:
        return sp.exp(power)


def _at_point(der: sp.Derivative) -> Any:
    """∂f(v)/∂v as (d/dt f(t)) at t = v, for each variable v."""
    expr, points = der.expr, []
    variables = []
    for v in der.variables:
        t = sp.Dummy("t", real=True)
        expr = expr.xreplace({v: t})
        variables.append(t)
        points.append((t, v))
    return sp.Subs(sp.Derivative(expr, *variables), [t for t, _ in points], [v for _, v in points])


def _bound_symbol(name: str, lo: Any) -> sp.Dummy:
    """A summation index: integer, positive only when its range starts at 1 or more, nonnegative
    when at 0 or more — nothing its range does not give it."""
    lo = sp.sympify(lo)
    if lo.is_positive:
        return sp.Dummy(name, integer=True, positive=True)
    if lo.is_nonnegative:
        return sp.Dummy(name, integer=True, nonnegative=True)
    return sp.Dummy(name, integer=True)


def index_symbol(name: str, lo: Any) -> sp.Symbol:
    """A declared free index: integer, and positive/nonnegative exactly as its range allows."""
    lo = sp.sympify(lo)
    if lo.is_positive:
        return sp.Symbol(name, integer=True, positive=True)
    if lo.is_nonnegative:
        return sp.Symbol(name, integer=True, nonnegative=True)
    return sp.Symbol(name, integer=True)


def _sigmoid(t: Any) -> Any:
    return 1 / (1 + sp.exp(-t))


def _lambda_call(name: str, f: Any, *, log: bool = False) -> Any:
    def call(*args: Any, primes: int = 0, base: Any = None) -> Any:
        if len(args) != 1:
            raise TypeError(f"takes one argument, got {len(args)}")
        (arg,) = args
        if primes:
            t = sp.Dummy("t", real=True)
            value = sp.diff(f(t), t, primes).subs(t, arg)
        else:
            value = f(arg)
        if log and base is not None:
            value = value / sp.log(base)
        return value

    return call


def _known_call(info: FunctionInfo, builder: Any) -> Any:
    """A declared function with a formula, read with its parameters bound to the arguments;
    trailing parameters with defaults may be left out; the variant is chosen by the count."""

    def call(*args: Any, primes: int = 0, base: Any = None) -> Any:
        chosen = next((v for v in info.variants if v.accepts(len(args))), None)
        if chosen is None:
            counts = sorted({len(v.params) for v in info.variants})
            raise TypeError(f"takes {' or '.join(map(str, counts))} argument(s), got {len(args)}")
        missing = len(chosen.params) - len(args)
        args = tuple(args) + tuple(chosen.defaults[len(chosen.defaults) - missing :] if missing else ())
        if primes:
            if len(chosen.params) != 1 or chosen.body is None:
                raise TypeError("primes on a function of several variables, or of a vector")
            t = chosen.params[0]
            return sp.Subs(sp.diff(chosen.body, t, primes), t, args[0])
        scope = dict(zip(chosen.param_names, args))
        return builder.expr(chosen.body_tree, scope)

    return call


def _plain_call(name: str, f: Any) -> Any:
    def call(*args: Any, primes: int = 0, base: Any = None) -> Any:
        if primes:
            raise TypeError("no derivative with primes")
        return f(*args)

    return call


def _undefined_call(info: FunctionInfo) -> Any:
    def call(*args: Any, primes: int = 0, base: Any = None) -> Any:
        if len(args) != len(info.params):
            raise TypeError(f"takes {len(info.params)} argument(s), got {len(args)}")
        if not primes:
            return info.function(*args)
        if len(args) != 1:
            raise TypeError("primes on a function of several variables")
        t = sp.Dummy("t", real=True)
        # at a point, not with respect to the argument: the argument may be a defined quantity
        # that is expanded later (φ'(a_m) with a_m := Σ W h + b)
        return sp.Subs(sp.Derivative(info.function(t), t, primes), t, args[0])

    return call


def _softmax_call(ctx: Context) -> Any:
    def call(*args: Any, primes: int = 0, base: Any = None) -> Any:
        if len(args) != 1 or not is_tensor(args[0]) or len(args[0].ranges) != 1:
            raise TypeError("softmax takes a declared vector (% gradproof: vector z : n)")
        vec = args[0]
        lo, hi = vec.ranges[0]

        def component(k: Any) -> Any:
            m = ctx.fresh_index("m", lo)
            return sp.exp(vec.at(k)) / sp.Sum(sp.exp(vec.at(m)), (m, lo, hi))

        return Tensor(vec.ranges, component)

    return call


def _norm_fact(d: Definition | None) -> SumFact | None:
    """For a scalar defined as the length of a vector, ``X := √(Σ_{l=lo}^{hi} b_l²)``, the fact
    ``Σ_{l=lo}^{hi} b_l² = X²`` (true by the definition alone: √S² = S), so that the prover can
    read the length back where the definition was expanded; None for any other definition."""
    if d is None or d.index or not isinstance(d.target, sp.Symbol):
        return None
    e = d.expr
    if not (isinstance(e, sp.Pow) and e.exp == sp.S.Half and isinstance(e.base, sp.Sum) and len(e.base.limits) == 1):
        return None
    var, lo, hi = e.base.limits[0]
    f = e.base.function
    if not (isinstance(f, sp.Pow) and f.exp == 2 and isinstance(f.base, sp.Indexed) and f.base.indices == (var,)):
        return None
    return SumFact(f.base.base, lo, hi, d.target**2, d.text, power=2)


def _sum_rewrite(fact: SumFact) -> Any:
    rank = len(fact.others) + 1

    def is_total(e: sp.Basic) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        var, lo, hi = e.limits[0]
        f = e.function
        if fact.power != 1:
            if not (isinstance(f, sp.Pow) and f.exp == fact.power):
                return False
            f = f.base
        if not (isinstance(f, sp.Indexed) and f.base == fact.base and len(f.indices) == rank):
            return False
        rest = [x for q, x in enumerate(f.indices) if q != fact.pos]
        return f.indices[fact.pos] == var and not any(x.has(var) for x in rest) and lo == fact.lo and hi == fact.hi

    def rewrite(expr: sp.Expr) -> sp.Expr:
        return expr.replace(is_total, lambda e: fact.value)

    return rewrite


def _bracketed_index(arg: Any) -> Tree | None:
    """``^{(l)}`` / ``^{[l]}``: the inside, as a group, when a superscript is an index."""
    if isinstance(arg, Tree) and arg.data == "group":
        items = _group_items(arg)
        if len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "postfix" and len(items[0].children) == 1:
            atom = items[0].children[0]
            if isinstance(atom, Tree) and atom.data in ("paren", "bracket"):
                return Tree("group", [Token("LGROUP", "{"), atom.children[1], Token("RGROUP", "}")])
    return None


def _group_items(arg: Tree) -> list:
    inner = [c for c in arg.children if isinstance(c, Tree)]
    if len(inner) != 1:
        return []
    parts = [c for c in inner[0].children if isinstance(c, Tree)]
    if len(parts) != 1 or len(parts[0].children) != 1:
        return []
    expr = parts[0].children[0]
    return list(expr.children) if isinstance(expr, Tree) and expr.data == "product" else [expr]


def _name_value(item: Any) -> str:
    if isinstance(item, Tree) and item.data == "postfix" and len(item.children) == 1:
        item = item.children[0]
    if isinstance(item, Tree) and item.data == "name":
        return str(item.children[0].value)
    return ""


def _letter_run(tree: Any) -> list[Token] | None:
    """``ij`` in ``W_{ij}``: the name tokens of a product of plain names, else None."""
    items = list(tree.children) if isinstance(tree, Tree) and tree.data == "product" else [tree]
    out = []
    for it in items:
        if isinstance(it, Tree) and it.data == "postfix" and len(it.children) == 1:
            it = it.children[0]
        if isinstance(it, Tree) and it.data == "name":
            out.append(it.children[0])
        else:
            return None
    return out


def _single_name(tree: Any) -> Token | None:
    run = _letter_run(tree)
    return run[0] if run is not None and len(run) == 1 else None


def _condition_parts(arg: Any) -> list[Tree]:
    """The relations of a sum's subscript: ``{i=1}``, ``{k \\neq i}``, ``{i, j}``, a substack."""
    if isinstance(arg, Tree) and arg.data == "name":
        return [Tree("relexpr", [arg])]
    if isinstance(arg, Tree) and arg.data == "group":
        inner = [c for c in arg.children if isinstance(c, Tree)]
        if not inner:
            return []
        inner = inner[0]
        parts = [c for c in inner.children if isinstance(c, Tree)]
        if len(parts) == 1 and len(parts[0].children) == 1:
            only = parts[0].children[0]
            if isinstance(only, Tree) and only.data == "product" and len(only.children) == 1:
                only = only.children[0]
            if isinstance(only, Tree) and only.data == "substack":
                return [r for c in only.children if isinstance(c, Tree) for r in c.children if isinstance(r, Tree)]
            if isinstance(only, Tree) and only.data == "postfix" and isinstance(only.children[0], Tree) and (
                    only.children[0].data == "substack"):  # fmt: skip
                sub = only.children[0]
                return [r for c in sub.children if isinstance(c, Tree) for r in c.children if isinstance(r, Tree)]
        return parts
    return [Tree("relexpr", [arg])]


def _script_text(source: Source, arg: Any) -> str:
    """A subscript's source text without braces and spaces: ``u``, ``params``, ``01``."""
    tokens = [t for t in _tokens(arg) if t.type not in ("LGROUP", "RGROUP")]
    return "".join(str(t.value) for t in tokens)


def _tokens(tree: Any) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    out = []
    for c in tree.children:
        if c is not None:
            out += _tokens(c)
    return out

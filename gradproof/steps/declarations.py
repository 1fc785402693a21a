"""Reading the ``gradproof:`` declarations of a file into a :class:`~gradproof.steps.context.Context`.

Two passes, because a name's meaning must be fixed before any formula is built: first every
declaration and every row is read as a tree and the names are sorted out (which are indices,
sizes, functions, definitions; which assumptions restrict which inputs), then the expressions in
the declarations (index ranges, definitions, assumed sums, distribution parameters) are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp
from lark import Token, Tree

from gradproof.steps.tensors import is_tensor
from gradproof.steps.context import KEYWORDS, Context, Domain, FunctionInfo, IndexInfo, SumFact, index_symbol
from gradproof.steps.expectation import DISTRIBUTIONS, random_quantity
from gradproof.steps.parse import Builder, parse_tokens
from gradproof.steps.phrases import declared_phrases
from gradproof.steps.source import Directive, Source
from gradproof.steps.tokens import _lex_text, classify

_DISTRIBUTION_NAMES = {
    "Bernoulli": "bernoulli", "Bern": "bernoulli", "Ber": "bernoulli", "N": "normal", "Normal": "normal",
    "Gaussian": "normal", "U": "uniform", "Uniform": "uniform", "Unif": "uniform",
}  # fmt: skip


@dataclass
class _Text:
    """A piece of a declaration: its text and where it starts in the file."""

    text: str
    offset: int

    def split(self, sep: str, maxsplit: int = -1) -> list[_Text]:
        out, start = [], 0
        pieces = self.text.split(sep, maxsplit)
        for piece in pieces:
            out.append(_Text(piece, self.offset + start))
            start += len(piece) + len(sep)
        return out

    def strip(self) -> _Text:
        lead = len(self.text) - len(self.text.lstrip())
        return _Text(self.text.strip(), self.offset + lead)


def _tokens(source: Source, piece: _Text) -> list[Token]:
    raw = _lex_text(source, piece.text, piece.offset, depth=0, at=None)
    return classify(source, raw)


def _tree(source: Source, piece: _Text, start: str = "inner") -> Tree:
    piece = piece.strip()
    if not piece.text:
        raise source.error(piece.offset, "this declaration is missing its formula")
    return parse_tokens(source, _tokens(source, piece), start=start, end_offset=piece.offset + len(piece.text))


def _names(source: Source, piece: _Text, what: str) -> list[tuple[str, Token]]:
    """``i, j, k`` → the name tokens (each a single name)."""
    tokens = _tokens(source, piece.strip())
    out, expect_name = [], True
    for t in tokens:
        if expect_name and t.type == "NAME":
            out.append((str(t.value), t))
            expect_name = False
        elif not expect_name and t.type == "SEP":
            expect_name = True
        else:
            raise source.error(t.start_pos, f"a {what} declaration lists names separated by commas")
    if not out:
        raise source.error(piece.offset, f"a {what} declaration needs at least one name")
    return out


class Declarations:
    """Collects the declarations (pass 1) and builds their expressions (pass 2)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.ctx = Context(source)
        self.ctx.warnings += source.warnings
        self.builder = Builder(self.ctx)
        self._ranges: list = []  # (info name, lo piece, hi piece)
        self._vectors: list = []
        self._functions: list = []
        self._defines: list = []
        self._assumes: list = []
        self._randoms: list = []
        self._minibatch: tuple | None = None  # (directive, name, its token, batch size, its token, lo, hi)
        self.trees: list = []  # every declaration's formula, for the scan of sum limits

    # -- pass 1 -----------------------------------------------------------------------------------

    def read(self) -> None:
        # scalar names first: they decide how every other formula reads L_u
        ordered = sorted(self.source.directives, key=lambda d: d.keyword != "scalar")
        for d in ordered:
            if d.keyword not in KEYWORDS:
                self.ctx.warnings.append(
                    f"line {d.line}: '% gradproof: {d.keyword}' ignored (keywords: {', '.join(KEYWORDS)})"
                )
                continue
            getattr(self, "_read_" + d.keyword)(d, _Text(d.rest, d.offset))

    def _read_index(self, d: Directive, rest: _Text) -> None:
        if "=" not in rest.text:
            raise self.source.error(d.offset, "index declarations give a range: % gradproof: index i, j = 1..n")
        names, rng = rest.split("=", 1)
        lo, hi = self._range(rng)
        for name, tok in _names(self.source, names, "index"):
            self._ranges.append((name, tok, lo, hi))

    def _range(self, piece: _Text) -> tuple[_Text, _Text]:
        piece = piece.strip()
        if ".." not in piece.text:
            raise self.source.error(piece.offset, "a range is written lo..hi (1..n, 0..n-1)")
        lo, hi = piece.split("..", 1)
        return lo.strip(), hi.strip()

    def _read_size(self, d: Directive, rest: _Text) -> None:
        for name, _ in _names(self.source, rest, "size"):
            self.ctx.size(name)

    def _read_scalar(self, d: Directive, rest: _Text) -> None:
        tree = _tree(self.source, rest)
        phrases = set(declared_phrases(self.source).values())
        for rel in [c for c in tree.children if isinstance(c, Tree)]:
            item = rel.children[0]
            tok = _name_token(item) if len(rel.children) == 1 else None
            if tok is not None and str(tok.value) in phrases:
                continue  # a name of several symbols (D_{u} L), one token since it was read
            if isinstance(item, Tree) and item.data == "product" and len(item.children) > 1:
                raise self.source.error(_first_offset(item), "a scalar declaration lists names such as L_u, "
                                        "D_{u} L, \\|g\\| (one per comma)")  # fmt: skip
            if len(rel.children) != 1 or not (isinstance(item, Tree) and item.data == "product" or item.data == "postfix"):
                raise self.source.error(d.offset, "a scalar declaration lists names such as L_u, M_{params}")
            post = item.children[0] if item.data == "product" and len(item.children) == 1 else item
            if post.data != "postfix" or len(post.children) != 2 or post.children[1].data != "subscript":
                raise self.source.error(d.offset, "a scalar declaration lists subscripted names such as L_u")
            name = str(post.children[0].children[0].value)
            from gradproof.steps.context import _script_text

            self.ctx.labels.add(f"{name}_{{{_script_text(self.source, post.children[1].children[1])}}}")

    def _read_vector(self, d: Directive, rest: _Text, matrix: bool = False) -> None:
        if ":" not in rest.text:
            shape = "n \\times m" if matrix else "n"
            raise self.source.error(d.offset, f"% gradproof: {d.keyword} NAMES : {shape}")
        names, dims = rest.split(":", 1)
        pieces = dims.split("\\times") if matrix else [dims]
        if matrix and len(pieces) != 2:
            raise self.source.error(dims.offset, "a matrix is declared n \\times m")
        ranges = []
        for p in pieces:
            p = p.strip()
            ranges.append(self._range(p) if ".." in p.text else (_Text("1", p.offset), p))
        for name, tok in _names(self.source, names, d.keyword):
            self._vectors.append((name, tok, ranges))

    def _read_matrix(self, d: Directive, rest: _Text) -> None:
        self._read_vector(d, rest, matrix=True)

    def _read_function(self, d: Directive, rest: _Text) -> None:
        tree = _tree(self.source, rest, start="row")
        self.trees.append(tree)
        kids = tree.children
        if not kids or not isinstance(kids[0], Tree):
            raise self.source.error(d.offset, "% gradproof: function f(x)  or  function f(x) = <formula>")
        head = kids[0]
        items = list(head.children) if head.data == "product" else [head]
        if len(items) != 2 or not _is_name(items[0]) or not _is_paren(items[1]):
            raise self.source.error(d.offset, "a function is declared by name and parameters: f(x), \\ell(w), g(x, y)")
        name = str(items[0].children[0].children[0].value)
        params, defaults = [], []
        for rel in [c for c in items[1].children[0].children[1].children if isinstance(c, Tree)]:
            tok = _name_token(rel.children[0])
            if len(rel.children) == 3 and str(rel.children[1].value) == "=" and tok is not None:
                defaults.append(rel.children[2])  # f(x, h = 1): h may be left out
            elif len(rel.children) != 1 or tok is None or defaults:
                raise self.source.error(d.offset, "a function's parameters are plain names: f(x, y) (or h = 1 last)")
            params.append(str(tok.value))
        body = None
        if len(kids) > 1:
            if len(kids) != 3 or str(kids[1].value) not in ("=", ":="):
                raise self.source.error(d.offset, "a known function is declared f(x) = <formula>")
            body = kids[2]
        info = FunctionInfo(name, tuple(sp.Dummy(p, real=True) for p in params), None,
                            sp.Function(name.lstrip("\\")), param_names=tuple(params), body_tree=body)  # fmt: skip
        first = self.ctx.functions.setdefault(name, info)
        if any(len(v.params) == len(params) for v in first.variants):
            raise self.source.error(d.offset, f"{name} is declared twice with {len(params)} parameter(s)")
        if (first.body_tree is None) != (body is None):
            raise self.source.error(d.offset, f"{name} is declared both unknown and with a formula")
        first.variants.append(info)
        self._functions.append((info, params, body, defaults))

    def _read_define(self, d: Directive, rest: _Text) -> None:
        tree = _tree(self.source, rest, start="row")
        self.trees.append(tree)
        kids = tree.children
        if len(kids) != 3 or not isinstance(kids[0], Tree) or str(kids[1].value) not in ("=", ":="):
            raise self.source.error(d.offset, "% gradproof: define NAME = <formula>  (s_i = …, L = …)")
        target = definition_target(kids[0], self.ctx.labels)
        if target is None:
            raise self.source.error(d.offset, "the left side of a definition is a name, with indices if any: s_i, L")
        name = target[0]
        self.ctx.definitions[name] = None  # type: ignore[assignment]  # built in pass 2
        self._defines.append((d, kids[0], kids[2]))

    def _read_assume(self, d: Directive, rest: _Text) -> None:
        tree = _tree(self.source, rest)
        self.trees.append(tree)
        rels = [c for c in tree.children if isinstance(c, Tree)]
        for rel in rels:
            self._assumption(d, rel)

    def _read_random(self, d: Directive, rest: _Text) -> None:
        tree = _tree(self.source, rest)
        for rel in [c for c in tree.children if isinstance(c, Tree)]:
            kids = rel.children
            tok = _name_token(kids[0])
            if tok is None:
                raise self.source.error(d.offset, "% gradproof: random m \\sim \\mathrm{Bernoulli}(p)  (or just: random X)")
            if len(kids) == 1:
                self._randoms.append((str(tok.value), "any", []))
                continue
            if len(kids) != 3 or kids[1].type != "SIM":
                raise self.source.error(d.offset, "a random quantity is declared m \\sim <distribution>")
            dist = kids[2]
            items = list(dist.children) if isinstance(dist, Tree) and dist.data == "product" else [dist]
            if len(items) != 2 or not _is_name(items[0]) or not _is_paren(items[1]):
                raise self.source.error(d.offset, "a distribution is \\mathrm{Bernoulli}(p), \\mathcal{N}(\\mu, s) or \\mathrm{Uniform}(a, b)")
            raw = str(items[0].children[0].children[0].value)
            key = raw.replace("\\mathrm{", "").replace("\\mathcal{", "").replace("\\operatorname{", "").rstrip("}")
            kind = _DISTRIBUTION_NAMES.get(key)
            if kind is None:
                raise self.source.error(d.offset, f"unknown distribution {raw}: use Bernoulli, N (normal), Uniform, "
                                                  "or none (any distribution)")  # fmt: skip
            params = [r.children[0] for r in items[1].children[0].children[1].children if isinstance(r, Tree)]
            need = {"bernoulli": 1, "normal": 2, "uniform": 2}[kind]
            if len(params) != need:
                raise self.source.error(d.offset, f"{key} takes {need} parameter(s)")
            self._randoms.append((str(tok.value), kind, params))
            if kind == "bernoulli":
                self._imply_domain(params[0], Domain(0, 1, True, True))
            if kind == "normal":
                self._imply_domain(params[1], Domain(0, None, True))

    def _read_minibatch(self, d: Directive, rest: _Text) -> None:
        usage = "% gradproof: minibatch K : B of 1..N  (K_a counts sample a in a minibatch of B of the N samples)"
        if ":" not in rest.text or " of " not in rest.text.split(":", 1)[1]:
            raise self.source.error(d.offset, usage)
        if self._minibatch is not None:
            raise self.source.error(d.offset, "one minibatch declaration per file")
        names, spec = rest.split(":", 1)
        size, rng = spec.split(" of ", 1)
        counts = _names(self.source, names, "minibatch")
        if len(counts) != 1:
            raise self.source.error(d.offset, usage)
        tokens = _tokens(self.source, size.strip())
        if len(tokens) != 1 or tokens[0].type != "NAME":
            raise self.source.error(size.strip().offset, "the batch size of a minibatch is a name (B), "
                                    "an input drawn between 1 and the number of samples")  # fmt: skip
        batch = [(str(tokens[0].value), tokens[0])]
        lo, hi = self._range(rng)
        (name, tok), (bname, btok) = counts[0], batch[0]
        self._minibatch = (d, name, tok, bname, btok, lo, hi)
        # the batch size is a count: 1, 2, 3, … (at most the number of samples, see points.py)
        self._restrict(bname, Domain(lo=sp.S.One, integer=True), d.offset)

    def _imply_domain(self, tree: Any, domain: Domain) -> None:
        tok = _name_token(tree)
        if tok is not None and str(tok.value) not in self.ctx.domains:
            self.ctx.domains[str(tok.value)] = domain

    # -- assumptions --------------------------------------------------------------------------

    def _assumption(self, d: Directive, rel: Tree) -> None:
        kids = rel.children
        terms, ops = kids[0::2], [str(k.value) if k.type != "IN" else "in" for k in kids[1::2]]
        where = d.offset
        if ops == ["in"] and len(terms) == 2:
            name = _target_name(terms[0], self.ctx.labels)
            values = _set_values(terms[1])
            if name is None or values is None:
                raise self.source.error(where, "write x \\in \\{0, 1\\}, x \\in \\{-1, 1\\}, x \\in (0, 1) or n \\in \\mathbb{N}")
            if isinstance(values, Domain):
                self._restrict(name, values, where)
            else:
                self._restrict(name, Domain(values=tuple(values)), where)
            self.ctx.assumption_texts.append(d.rest)
            return
        if len(ops) == 1 and ops[0] == "=" and _is_sum(terms[0]):
            self._assumes.append((d, terms[0], terms[1]))
            self.ctx.assumption_texts.append(d.rest)
            return
        if len(ops) in (1, 2) and all(o in ("<", ">", "<=", ">=", "!=") for o in ops):
            # a chain of bounds with one name: 0 < p < 1, p_i > 0, n \ge 2
            names = [(k, _target_name(t, self.ctx.labels)) for k, t in enumerate(terms) if _target_name(t, self.ctx.labels) is not None]
            numbers = {k: _number(t) for k, t in enumerate(terms)}
            if len(names) == 1 and all(numbers[k] is not None for k in range(len(terms)) if k != names[0][0]):
                pos, name = names[0]
                self._bounds(name, pos, terms, ops, numbers, where)
                self.ctx.assumption_texts.append(d.rest)
                return
        raise self.source.error(
            where, "assumptions the checker reads: x > 0, x \\ge 0, 0 < x < 1, x \\neq 0, x \\in \\{0, 1\\}, "
            "\\sum_{i=1}^{n} y_i = 1, n \\ge 2"
        )  # fmt: skip

    def _bounds(self, name: str, pos: int, terms: list, ops: list, numbers: dict, where: int) -> None:
        domain = Domain()
        for q, op in enumerate(ops):
            left, right = q, q + 1
            if op == "!=":
                if numbers.get(right if left == pos else left) != 0:
                    raise self.source.error(where, "only x \\neq 0 is read as an assumption")
                domain.nonzero = True
                continue
            # normalise to name ⋈ number
            if left == pos:
                number, flipped = numbers[right], op
            else:
                number, flipped = numbers[left], {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
            if flipped in (">", ">="):
                domain.lo, domain.lo_strict = number, flipped == ">"
            else:
                domain.hi, domain.hi_strict = number, flipped == "<"
        self._restrict(name, domain, where)

    def _restrict(self, name: str, domain: Domain, where: int) -> None:
        old = self.ctx.domains.get(name)
        if old is None:
            self.ctx.domains[name] = domain
            return
        merged = Domain(
            lo=_pick(old.lo, domain.lo, max), hi=_pick(old.hi, domain.hi, min),
            lo_strict=old.lo_strict or domain.lo_strict, hi_strict=old.hi_strict or domain.hi_strict,
            values=old.values if domain.values is None else domain.values, nonzero=old.nonzero or domain.nonzero,
            integer=old.integer or domain.integer,
        )  # fmt: skip
        self.ctx.domains[name] = merged

    def reserved(self) -> set[str]:
        """Every name the declarations give a meaning other than a definition: indices, sizes,
        vectors and matrices, functions, random quantities, the minibatch's counts and batch size,
        and vectors with an assumed sum.  A row ``K_a &= 1`` or ``u_k &= 0`` about one of them is a
        claim to check, never a definition (which would turn a false claim into an assumption)."""
        out = {name for name, *_ in self._ranges} | {name for name, *_ in self._vectors}
        out |= {name for name, *_ in self._randoms} | set(self.ctx.sizes) | set(self.ctx.functions)
        if self._minibatch is not None:
            out |= {self._minibatch[1], self._minibatch[3]}
        for _, total, _ in self._assumes:  # \sum_{l=1}^{d} u_l^2 = 1: u, not the summation index l
            head, body = total.children[0], total.children[1:]
            out |= set().union(*[_tree_names(t) for t in body]) - _tree_names(head)
        return out

    # -- pass 2 -----------------------------------------------------------------------------------

    def sizes_from(self, trees: list) -> None:
        """Names in sum limits and index ranges that are nothing else are sizes."""
        declared = {name for name, *_ in self._ranges}
        for name, tok, lo, hi in self._ranges:
            for piece in (lo, hi):
                for t in _tokens(self.source, piece):
                    if t.type == "NAME" and str(t.value) not in declared:
                        self.ctx.size(str(t.value))
        if self._minibatch is not None:
            for piece in self._minibatch[5:]:
                for t in _tokens(self.source, piece):
                    if t.type == "NAME" and str(t.value) not in declared:
                        self.ctx.size(str(t.value))
        for _, _, ranges in self._vectors:
            for lo, hi in ranges:
                for piece in (lo, hi):
                    for t in _tokens(self.source, piece):
                        if t.type == "NAME" and str(t.value) not in declared:
                            self.ctx.size(str(t.value))
        for tree in list(trees) + self.trees:
            for name in _limit_names(tree, set(declared)):
                if name not in self.ctx.functions and name not in self.ctx.vectors:
                    self.ctx.size(name)

    def build(self) -> None:
        ctx, b = self.ctx, self.builder
        for name, tok, lo, hi in self._ranges:
            if name in ctx.sizes:
                raise self.source.error(tok.start_pos, f"{name} is used as a size (a sum's limit) and declared as an index")
            lo_v = b.scalar(b.expr(_tree(self.source, lo).children[0].children[0], {}), tok)
            hi_v = b.scalar(b.expr(_tree(self.source, hi).children[0].children[0], {}), tok)
            for bound in (lo_v, hi_v):
                if not bound.is_integer:
                    raise self.source.error(lo.offset, f"the range of {name} must have integer ends")
            ctx.indices[name] = IndexInfo(index_symbol(name, lo_v), lo_v, hi_v)
        for name, tok, ranges in self._vectors:
            built = []
            for lo, hi in ranges:
                built.append(tuple(b.scalar(b.expr(_tree(self.source, p).children[0].children[0], {}), tok) for p in (lo, hi)))
            ctx.vectors[name] = tuple(built)
        if self._minibatch is not None:
            self._build_minibatch()
        for name, kind, params in self._randoms:
            values = [b.scalar(b.expr(p, {}), p) for p in params]
            ctx.randoms[name] = random_quantity(name, kind, tuple(values))
        for info, params, body, defaults in self._functions:
            if body is not None:
                info.defaults = tuple(b.scalar(b.expr(t, {}), t) for t in defaults)
                scope = {p: s for p, s in zip(params, info.params)}
                try:  # with numbers for parameters; a function of vectors has no such form
                    value = b.expr(body, scope)
                    info.body = None if is_tensor(value) else value  # (sp.Indexed has .ranges too)
                except Exception:  # noqa: BLE001 - the formula is read again at each call
                    info.body = None
            elif defaults:
                raise self.source.error(_first_offset(defaults[0]), "only a function with a formula has defaults")
        for d, target, body in self._defines:
            self.define(target, body, d.line)
        for d, total, value in self._assumes:
            s = b.scalar(b.expr(total, {}), total)
            v = b.scalar(b.expr(value, {}), value)
            fact = self._sum_fact(s, v, d)
            if any(f.base == fact.base for f in ctx.sum_facts):
                # the prover would use one, the points the other: Σu² = 1 and Σu² = 2 "held" together
                raise self.source.error(d.offset, f"a second assumed sum over {fact.base.label}: one sum fact per "
                                        "vector (the checker draws the vector whole from it)")  # fmt: skip
            ctx.sum_facts.append(fact)
            ctx.domains.setdefault(str(fact.base.label), Domain())
        for name, domain in ctx.domains.items():
            if name in ctx.sizes:  # n \ge 2: the smallest size checked
                if domain.lo is None or domain.hi is not None or domain.values is not None:
                    raise self.source.error(0, f"a size takes only a lower bound: {name} \\ge 2")
                low = int(sp.ceiling(domain.lo + (1 if domain.lo_strict else 0)))
                ctx.min_sizes[ctx.sizes[name]] = max(low, ctx.min_sizes.get(ctx.sizes[name], 1))

    def _build_minibatch(self) -> None:
        from gradproof.steps.minibatch import Minibatch

        ctx, b = self.ctx, self.builder
        d, name, tok, bname, btok, lo, hi = self._minibatch
        taken = {**ctx.indices, **ctx.sizes, **ctx.functions, **ctx.vectors, **ctx.definitions}
        taken |= {r[0]: None for r in self._randoms}
        for n, t in ((name, tok), (bname, btok)):
            if n == bname and n in ctx.sizes:
                raise self.source.error(t.start_pos, f"the batch size {n} is also a size (declared with size, or "
                                        f"bounding a sum such as \\sum_{{i=1}}^{{{n}}}): a minibatch is summed over "
                                        "its samples with their counts, \\sum_{a=1}^{N} K_a …")  # fmt: skip
            if n in taken:
                raise self.source.error(t.start_pos, f"{n} is declared twice (as the minibatch's and as something else)")
        if name == bname:
            raise self.source.error(btok.start_pos, "the counts and the batch size need two names")
        lo_v, hi_v = (b.scalar(b.expr(_tree(self.source, p).children[0].children[0], {}), tok) for p in (lo, hi))
        for bound in (lo_v, hi_v):
            if not bound.is_integer or bound.free_symbols - set(ctx.sizes.values()):
                raise self.source.error(lo.offset, "the samples a minibatch is drawn from run over sizes: 1..N")
        base = sp.IndexedBase(name, integer=True, nonnegative=True)
        ctx._bases[name] = base
        ctx.minibatch = Minibatch(name, base, lo_v, hi_v, ctx.symbol(bname))
        count = hi_v - lo_v + 1
        if len(count.free_symbols) == 1:  # the rules divide by N − 1: N ≥ 2 samples
            (size,) = count.free_symbols
            if (count - size).is_Integer:
                ctx.min_sizes[size] = max(ctx.min_sizes.get(size, 1), int(2 - (count - size)))

    def _sum_fact(self, s: Any, v: Any, d: Directive) -> SumFact:
        """``\\sum_{i=lo}^{hi} y_i = v``, or for a matrix ``\\sum_{c=1}^{C} Y_{a,c} = 1`` with the
        other indices declared (the fact holds for each of their values)."""
        shape_error = self.source.error(
            d.offset, "an assumed sum is \\sum_{i=lo}^{hi} y_i = value over one input y (or Y_{a,c} with a declared)"
        )  # fmt: skip
        if not isinstance(s, sp.Sum) or len(s.limits) != 1:
            raise shape_error
        entry, power = s.function, 1
        if isinstance(entry, sp.Pow) and entry.exp == 2:  # \sum_l u_l^2 = 1: a unit vector
            entry, power = entry.base, 2
        if not isinstance(entry, sp.Indexed):
            raise shape_error
        var, lo, hi = s.limits[0]
        indices = entry.indices
        if list(indices).count(var) != 1 or v.free_symbols - set(self.ctx.sizes.values()):
            raise shape_error
        pos = indices.index(var)
        others = []
        ranges = {info.symbol: (info.lo, info.hi) for info in self.ctx.indices.values()}
        for q, x in enumerate(indices):
            if q == pos:
                continue
            if x not in ranges:
                raise shape_error
            others.append(ranges[x])
        if power == 2:
            self._squares_domain(str(entry.base.label), d)
            if v.is_negative or v.is_nonnegative is False:  # a contradiction the prover would prove anything from
                raise self.source.error(d.offset, f"a sum of squares cannot be {sp.sstr(v)}")
        return SumFact(entry.base, lo, hi, v, d.rest, pos, tuple(others), power)

    def _squares_domain(self, name: str, d: Directive) -> None:
        """The entries of a vector with an assumed sum of squares are drawn on a sphere: any sign,
        or (assumed ``\\ge 0`` / ``> 0``) all of one sign; nothing else is drawn."""
        domain = self.ctx.domain(name)
        if domain.values is not None or domain.integer or domain.hi is not None or (
                domain.lo is not None and domain.lo != 0) or domain.nonzero:  # fmt: skip
            raise self.source.error(d.offset, f"{name} has an assumed sum of squares and another assumption "
                                    "the checker cannot draw both of (only > 0 or \\ge 0 combine with it)")  # fmt: skip

    def define(self, target_tree: Tree, body: Tree, line: int) -> None:
        """Build a definition ``name[_indices] = body``."""
        ctx, b = self.ctx, self.builder
        name, index_tokens = definition_target(target_tree, ctx.labels)
        scope: dict = {}
        indices = []
        for tok in index_tokens:
            iname = str(tok.value)
            if iname in ctx.indices:
                indices.append(ctx.indices[iname].symbol)
            else:  # a formal parameter of the definition
                sym = sp.Symbol(iname, integer=True)
                scope[iname] = sym
                indices.append(sym)
        ctx.definitions.pop(name, None)
        value = b.expr(body, scope)
        if is_tensor(value):  # not hasattr(value, "ranges"): an entry u_m (sp.Indexed) has one too
            raise self.source.error(_first_offset(body), "a definition of a vector: define it per component (p_a = …)")
        if indices:
            target = ctx.base(name) if name not in ctx._bases else ctx._bases[name]
            ctx.add_definition(name, target, tuple(indices), value, name, line)
        else:
            ctx.add_definition(name, ctx.symbol(name), (), value, name, line)


def declare(source: Source, trees: list[Tree]) -> Declarations:
    """Pass 1 over the declarations, and the sizes named in ``trees`` (every row's tree)."""
    decl = Declarations(source)
    decl.read()
    decl.sizes_from(trees)
    return decl


def definition_target(tree: Any, labels: set | frozenset = frozenset()) -> tuple[str, list[Token]] | None:
    """``s_i`` → ("s", [i]); ``L`` → ("L", []); ``L_u`` declared a scalar → ("L_{u}", []); None when
    the tree is not a (subscripted) name."""
    if isinstance(tree, Tree) and tree.data == "product" and len(tree.children) == 1:
        tree = tree.children[0]
    if not (isinstance(tree, Tree) and tree.data == "postfix"):
        return None
    from gradproof.steps.parse import _group_name

    atom, scripts = tree.children[0], tree.children[1:]
    grouped = _group_name(atom)
    if grouped is not None:
        name = str(grouped.value)
    elif isinstance(atom, Tree) and atom.data == "name":
        name = str(atom.children[0].value)
    else:
        return None
    if not scripts:
        return name, []
    if len(scripts) != 1 or scripts[0].data != "subscript":
        return None
    arg = scripts[0].children[1]
    from gradproof.steps.context import _script_text

    label = f"{name}_{{{_script_text(None, arg)}}}"
    if label in labels:
        return label, []
    if isinstance(arg, Tree) and arg.data == "name":
        return name, [arg.children[0]]
    if isinstance(arg, Tree) and arg.data == "group":
        from gradproof.steps.context import _letter_run

        inner = [c for c in arg.children if isinstance(c, Tree)]
        parts = [c for c in inner[0].children if isinstance(c, Tree)] if inner else []
        tokens = []
        for rel in parts:
            run = _letter_run(rel.children[0]) if len(rel.children) == 1 else None
            if run is None:
                return None
            tokens += run
        return (name, tokens) if tokens else None
    return None


def _pick(a: Any, b: Any, f: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return f(a, b)


def _is_name(t: Any) -> bool:
    return isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1 and isinstance(t.children[0], Tree) and (
        t.children[0].data == "name")  # fmt: skip


def _is_paren(t: Any) -> bool:
    return isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1 and isinstance(t.children[0], Tree) and (
        t.children[0].data == "paren")  # fmt: skip


def _name_token(t: Any) -> Token | None:
    if isinstance(t, Tree) and t.data == "product" and len(t.children) == 1:
        t = t.children[0]
    if _is_name(t):
        return t.children[0].children[0]
    return None


def _target_name(t: Any, labels: set | frozenset = frozenset()) -> str | None:
    """The input an assumption is about: ``p``, ``p_i`` (for every i), ``\\hat{y}``."""
    target = definition_target(t, labels)
    return target[0] if target is not None else None


def _number(t: Any) -> Any:
    neg = False
    if isinstance(t, Tree) and t.data == "neg":
        neg, t = True, t.children[1]
    if isinstance(t, Tree) and t.data == "product" and len(t.children) == 1:
        t = t.children[0]
    if isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1:
        t = t.children[0]
    if isinstance(t, Tree) and t.data == "num":
        value = sp.Rational(str(t.children[0]))
        return -value if neg else value
    return None


def _set_values(t: Any) -> Any:
    """``\\{0, 1\\}`` → [0, 1]; ``(0, 1)`` → an open interval Domain; ``\\mathbb{N}`` → counts."""
    if isinstance(t, Tree) and t.data == "product" and len(t.children) == 1:
        t = t.children[0]
    if isinstance(t, Tree) and t.data == "postfix" and len(t.children) == 1:
        t = t.children[0]
    if isinstance(t, Tree) and t.data == "name" and str(t.children[0].value) == "\\mathbb{N}":
        return Domain(lo=sp.S.One, integer=True)
    if isinstance(t, Tree) and t.data == "name" and str(t.children[0].value) == "\\mathbb{R}":
        return Domain()
    if not (isinstance(t, Tree) and t.data in ("set_", "paren", "bracket")):
        return None
    elems = [r.children[0] for r in t.children[1].children if isinstance(r, Tree)]
    values = [_number(e) for e in elems]
    if any(v is None for v in values):
        return None
    if t.data == "set_":
        return values
    if len(values) != 2:
        return None
    strict = t.data == "paren"
    return Domain(values[0], values[1], strict, strict)


def _tree_names(t: Any) -> set[str]:
    if isinstance(t, Token):
        return {str(t.value)} if t.type == "NAME" else set()
    if isinstance(t, Tree):
        return set().union(*[_tree_names(c) for c in t.children if c is not None])
    return set()


def _is_sum(t: Any) -> bool:
    if isinstance(t, Tree) and t.data == "product":
        return bool(t.children) and isinstance(t.children[0], Tree) and t.children[0].data == "sum_head"
    return False


def _limit_names(tree: Any, declared: set) -> set[str]:
    """Names in the limits of sums that are not summation indices or declared indices."""
    out: set[str] = set()

    def names_in(t: Any) -> set[str]:
        found = set()
        if isinstance(t, Tree):
            from gradproof.steps.parse import _group_name

            if t.data == "postfix" and _group_name(t.children[0]) is not None:
                if len(t.children) == 1:
                    found.add(str(_group_name(t.children[0]).value))
                return found
            if t.data == "postfix" and isinstance(t.children[0], Tree) and t.children[0].data == "name":
                # a subscripted name (n_{l-1}) is an input, not a size
                if len(t.children) == 1 or all(s.data == "superscript" for s in t.children[1:]):
                    found.add(str(t.children[0].children[0].value))
                for s in t.children[1:]:
                    if s.data == "superscript":
                        found |= names_in(s)
                return found
            if t.data == "name":
                return {str(t.children[0].value)}
            for c in t.children:
                found |= names_in(c)
        return found

    def walk(t: Any, bound: set) -> None:
        if not isinstance(t, Tree):
            return
        if t.data == "product":
            local = set(bound)
            for item in t.children:
                if isinstance(item, Tree) and item.data in ("sum_head", "prod_head"):
                    subs = [s for s in item.children[1:] if isinstance(s, Tree) and s.data == "subscript"]
                    sups = [s for s in item.children[1:] if isinstance(s, Tree) and s.data == "superscript"]
                    variables, limits = set(), []
                    for s in subs:
                        from gradproof.steps.context import _condition_parts

                        for rel in _condition_parts(s.children[1]):
                            kids = rel.children
                            ops = [str(k.value) for k in kids[1::2]]
                            if len(kids) == 1:
                                variables |= names_in(kids[0])
                            elif ops == ["="]:
                                variables |= names_in(kids[0])
                                limits.append(kids[2])
                            elif ops == ["!="]:
                                variables |= names_in(kids[0])
                            elif len(kids) == 5:
                                variables |= names_in(kids[2])
                                limits += [kids[0], kids[4]]
                    limits += [s.children[1] for s in sups]
                    for lim in limits:
                        out.update(n for n in names_in(lim) if n not in local and n not in variables and n not in declared)
                    local |= variables
                else:
                    walk(item, local)
            return
        for c in t.children:
            walk(c, bound)

    walk(tree, set())
    return out


def _first_offset(tree: Any) -> int:
    if isinstance(tree, Token):
        return tree.start_pos or 0
    for c in tree.children:
        if c is not None:
            return _first_offset(c)
    return 0


__all__ = ["DISTRIBUTIONS", "Declarations", "declare", "definition_target"]

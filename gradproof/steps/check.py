"""Checking a hand-written derivation line by line, with the one prover gradproof has.

The whole flow: find the math (:mod:`.source`), read the rows (:mod:`.tokens`, :mod:`.parse`),
chain them into relations (:mod:`.chains`), read the declarations (:mod:`.declarations`), then
hand every relation to :func:`gradproof.derivations.prove.prove_step` as a step of one
derivation, and explain the first one that fails (:mod:`.explain`).

Statuses: SHOWN → ``proved``; CHECKED → ``checked`` (at exact points, *not* proved); FAILED with
a point where the sides differ → ``failed``; FAILED without one (nothing could be evaluated) →
``unestablished``.  A wrong step is never reported proved: that is the prover's promise, and
this module adds no rule of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from gradproof.derivations.model import Input, Step
from gradproof.derivations.prove import CHECKED, FAILED, SHOWN, StepRecord, prove_step
from gradproof.errors import InputError
from gradproof.steps.chains import Relation, logical_rows, relations
from gradproof.steps.context import Domain, index_symbol
from gradproof.steps.declarations import declare, definition_target
from gradproof.steps.errors import StepsSyntaxError
from gradproof.steps.extents import check_extents
from gradproof.steps.points import StepsDerivation
from gradproof.steps.result import StepReport, StepResult
from gradproof.steps.source import Source, read_source
from gradproof.steps.tensors import as_component, is_tensor

# relations of the file → relations of the derivation model
# the largest file read, and the most relations checked in one file (each takes a second or more)
MAX_FILE_BYTES = 4_000_000
MAX_RELATIONS = 500
_MODEL_RELATION = {"=": "=", ":=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=", "=>": "=>"}
_SYMPY_RELATION = {"=": sp.Eq, "<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge, "!=": sp.Ne}
_COMPOSE = {("=", r): r for r in ("=", "<", ">", "<=", ">=")} | {(r, "="): r for r in ("<", ">", "<=", ">=")} | {
    ("<", "<"): "<", ("<", "<="): "<", ("<=", "<"): "<", ("<=", "<="): "<=",
    (">", ">"): ">", (">", ">="): ">", (">=", ">"): ">", (">=", ">="): ">=",
}  # fmt: skip


@dataclass
class Built:
    """A relation of the file with both sides built, ready for the prover."""

    relation: Relation
    lhs: Any
    rhs: Any
    op: str


@dataclass
class Analysis:
    """A file read and built: its relations and the derivation they are steps of."""

    source: Source
    built: list[Built]
    derivation: StepsDerivation
    context: Any


def check_steps(source: Any, *, format: str = "auto") -> StepReport:
    """Check every step of a hand-written derivation.

    ``source``: a :class:`pathlib.Path` (read as a file, ``.tex`` or ``.md``) or a string of
    LaTeX or Markdown.  ``format``: ``"auto"``, ``"tex"`` or ``"md"``.  A file that cannot be
    read gives a report whose ``error`` names the line and column (``.ok`` is False).

    >>> r = check_steps(r'''
    ... % gradproof: index j = 1..n
    ... \\begin{align*}
    ...   \\frac{\\partial}{\\partial z_j} \\sum_{k=1}^{n} z_k^2 &= 2 z_j
    ... \\end{align*}''')
    >>> r.ok, r.steps[0].status
    (True, 'proved')
    """
    return checked_source(source, format=format)[1]


def checked_source(source: Any, *, format: str = "auto") -> tuple[Source | None, StepReport]:
    """:func:`check_steps`, also returning the file as read (None when it could not be read), for
    reports that typeset the user's rows with their verdicts."""
    parsed = None
    try:
        text, name = _read(source)
    except StepsSyntaxError as exc:
        return None, StepReport(file=exc.file, error=exc)
    try:
        parsed = read_source(text, name=name, format=format)
        with _deep_recursion():
            analysis = analyse(parsed)
    except StepsSyntaxError as exc:
        return parsed, StepReport(file=name, error=exc)
    except RecursionError:
        where = parsed.blocks[0].start if parsed is not None and parsed.blocks else 0
        error = parsed.error(where, "a formula too long or nested too deeply to read (split it into steps)")
        return parsed, StepReport(file=name, error=error)
    return parsed, run(analysis)


def assert_steps(source: Any, *, format: str = "auto") -> StepReport:
    """:func:`check_steps`, raising ``AssertionError`` with the report unless every step holds."""
    __tracebackhide__ = True
    report = check_steps(source, format=format)
    if not report.ok:
        raise AssertionError(str(report))
    return report


def _read(source: Any) -> tuple[str, str]:
    """The text and its name; a file that is not text, or too large, is a StepsSyntaxError at the
    line and column of the first bad byte (or of the limit)."""
    if isinstance(source, Path):
        if source.is_dir():
            raise InputError(f"{source}: is a folder, not a .tex or .md file")
        if source.exists() and not source.is_file():  # a FIFO or a device would block or never end
            raise InputError(f"{source}: not a regular file (a pipe or a device); give a .tex or .md file")
        try:
            with source.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{source}: no such file") from None
        except OSError as exc:
            raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
        name = str(source)
        if len(data) > MAX_FILE_BYTES:
            raise _at_byte(data, MAX_FILE_BYTES, name, f"the file is larger than {MAX_FILE_BYTES // 10**6} MB, "
                           "more than the checker reads (split it)")  # fmt: skip
        try:
            return data.decode("utf-8"), name
        except UnicodeDecodeError as exc:
            raise _at_byte(data, exc.start, name, f"not UTF-8 text ({exc.reason}, byte 0x{data[exc.start]:02x})") from None
    if isinstance(source, str):
        if len(source) > MAX_FILE_BYTES:
            raise _at_byte(source.encode("utf-8", "replace"), MAX_FILE_BYTES, "<string>",
                           f"the text is longer than {MAX_FILE_BYTES // 10**6} MB, more than the checker reads")  # fmt: skip
        return source, "<string>"
    raise InputError(f"check_steps takes a pathlib.Path or a string of LaTeX/Markdown, got {type(source).__name__}")


@contextmanager
def _deep_recursion(limit: int = 8000) -> Iterator[None]:
    """Room for the recursive walks over a row's parse tree (a sum of n terms is n levels deep):
    a row of MAX_ROW_TOKENS symbols fits, deeper nesting is a RecursionError, reported as such."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _at_byte(data: bytes, offset: int, name: str, message: str) -> StepsSyntaxError:
    """The error at byte ``offset`` of ``data``: its line, and its column counted in characters."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return StepsSyntaxError(message, file=name, line=data.count(b"\n", 0, offset) + 1, column=column)


# ----------------------------------------------------------------------------------------------


def analyse(source: Source) -> Analysis:
    """Read, chain and build every relation of ``source`` (raises StepsSyntaxError)."""
    rows = logical_rows(source)
    rels = relations(source, rows)
    if len(rels) > MAX_RELATIONS:
        raise source.error(rels[MAX_RELATIONS].offset, f"more than {MAX_RELATIONS} relations in one file, more "
                           "than the checker reads (split the file)")  # fmt: skip
    if not rels:
        raise source.error(len(source.text.rstrip()) if not source.blocks else source.blocks[0].start,
                           "no relation to check: no math block (align*, equation, \\[…\\], $$…$$) with = or ≤ in it")  # fmt: skip
    decl = declare(source, [r.tree for r in rows])
    ctx = decl.ctx
    _mark_definitions(rels, ctx, decl.reserved())
    decl.build()
    for rel in rels:
        if rel.defines is not None:
            decl.define(rel.lhs, rel.rhs, rel.line)
    built: list[Built] = []
    hidden: dict = {}
    cache: dict[int, Any] = {}  # a row's right side is the next row's left side: build it once

    names: dict = {}  # summation indices named alike across the file (see _build_side)

    def side(tree: Any) -> Any:
        if id(tree) not in cache:
            cache[id(tree)] = (_build_side(source, decl.builder, tree, names), tree)  # the tree kept alive with its id
        return cache[id(tree)][0]

    for rel in rels:
        if rel.defines is not None:
            built.append(Built(rel, side(rel.lhs), side(rel.rhs), "defined"))
            continue
        if rel.relation == "=>":
            premise, conclusion = side(rel.lhs), side(rel.rhs)
            if not (isinstance(premise, sp.Rel) and isinstance(conclusion, sp.Rel)):
                raise source.error(rel.offset, "an implication joins two relations (a = b ⟹ c = d); "
                                   "the row before this ⟹ ends with a formula, not a relation")  # fmt: skip
            built.append(Built(rel, premise, conclusion, "=>"))
            continue
        lhs, rhs = _components(source, rel, side(rel.lhs), side(rel.rhs), hidden)
        built.append(Built(rel, lhs, rhs, rel.relation))
    derivation = _derivation(source, ctx, built, hidden)
    check_extents(derivation, [(side, source.position(b.relation.offset)) for b in built for side in (b.lhs, b.rhs)],
                  source.name)  # fmt: skip
    _hypotheses_can_hold(source, ctx, derivation)
    return Analysis(source, built, derivation, ctx)


def _hypotheses_can_hold(source: Source, ctx: Any, derivation: StepsDerivation) -> None:
    """An assumption on a defined name (``\\|g\\| > 0``) is a hypothesis the prover reasons from:
    one its definition can never meet (``define p = -3`` with ``assume p > 0``; a row ``p &= -3``
    under it) would let it prove anything.  So at every size the point checks use, some point
    of 50 random draws must satisfy it, else the file is refused (exit 2) at the definition."""
    import random

    from gradproof.steps.points import PointValues

    for name, domain in ctx.domains.items():
        lo, hi = domain.lo, domain.hi
        empty = domain.values is not None and not domain.values
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (domain.lo_strict or domain.hi_strict))):
            empty = True  # p ≥ 0 and p < 0: nothing satisfies both, and from that anything follows
        if empty:
            line = next((n for n, text in enumerate(source.text.splitlines(), 1)
                         if "gradproof:" in text and "assume" in text and name in text), 1)  # fmt: skip
            raise StepsSyntaxError(f"the assumptions on {name} contradict each other: no value satisfies them all",
                                   file=source.name, line=line, column=1)  # fmt: skip
        definition = ctx.definitions.get(name)
        if definition is None or domain.is_default():
            continue
        for sizes in derivation.proof_sizes():
            rng = random.Random(0)
            try:
                for entry in _entries(derivation, definition, sizes):  # p_k = -1 under p_i > 0: each p_k
                    derivation._draw_until(entry, domain, PointValues({k: int(v) for k, v in sizes.items()}, rng), sizes)
            except ValueError:
                at = ", ".join(f"{k} = {v}" for k, v in sizes.items())
                raise StepsSyntaxError(
                    f"what the file assumes of {name} held at none of 50 random points of its definition"
                    f"{' at ' + at if at else ''}: it contradicts the definition (or holds too rarely to check), "
                    "and no step is proved from it",
                    file=source.name, line=ctx.definition_lines.get(name, 1), column=1,
                ) from None


def _entries(derivation: StepsDerivation, definition: Any, sizes: dict) -> list:
    """The definition itself, or for one with indices (``p_k = …``) its entries at the first
    values of each index's range at ``sizes`` (an undeclared parameter: 1 and 2), as
    definitions of one entry each."""
    import itertools

    from gradproof.derivations.model import Definition

    if not definition.index:
        return [definition]
    if not isinstance(definition.target, sp.IndexedBase):
        return []  # a function's parameters: no entry to draw
    at = {s: sp.Integer(v) for s, v in sizes.items()}
    spans = []
    for idx in definition.index:
        if idx in derivation.index_ranges:
            lo, hi = (int(sp.sympify(b).xreplace(at)) for b in derivation.index_range(idx))
        else:
            lo, hi = 1, 2
        spans.append(range(lo, min(hi, lo + 2) + 1))
    return [Definition(target=definition.target[combo], text=definition.text)
            for combo in itertools.product(*spans)]  # fmt: skip


def _build_side(source: Source, builder: Any, tree: Any, names: dict) -> Any:
    """A side's SymPy value; a side of an implication is a relation, built unevaluated (so that
    x = x stays a statement, not True).  Its summation indices get one name per (name, range)
    across the file (:func:`~gradproof.derivations.prove.rename_bound`), so a sum written in two
    implications (or in a row and again in the next) is the same expression, and a chain of
    implications or of inequalities can be matched."""
    from gradproof.derivations.prove import rename_bound
    from gradproof.steps.chains import statement_of

    def build(t: Any) -> Any:
        value = builder.expr(t, {})
        if isinstance(value, sp.Basic) and value.has(sp.Sum, sp.Product):
            value = rename_bound(value, names)[0]
        return value

    statement = statement_of(tree)
    if statement is None:  # renamed too: a sum written twice (a row and its \rlap) is one expression
        return build(tree)
    lhs_tree, rel, rhs_tree = statement
    if rel not in _MODEL_RELATION or rel == ":=":
        raise source.error(tree.children[1].start_pos, f"{tree.children[1].value} cannot be a side of an implication")
    lhs, rhs = build(lhs_tree), build(rhs_tree)
    for value in (lhs, rhs):
        if is_tensor(value) or not isinstance(value, sp.Basic):
            raise source.error(tree.children[1].start_pos, "a side of an implication relates two scalar formulas")
    return _SYMPY_RELATION[rel](lhs, rhs, evaluate=False)


def _mark_definitions(rels: list[Relation], ctx: Any, reserved: set[str]) -> None:
    """The first row of a chain whose left side is an undefined name defines it (and ``:=``); a
    name the declarations give a meaning (``reserved``: an index, a vector, the minibatch's counts,
    a vector with an assumed sum, …) is never defined by a row: ``K_a &= 1`` is a claim."""
    used: set[str] = set()  # a name used as an input in an earlier row stays an input
    for rel in rels:
        earlier = set(used)
        used |= _names(rel.lhs) | _names(rel.rhs)
        if rel.relation == ":=" or (rel.starts_chain and rel.relation == "="):
            target = definition_target(rel.lhs, ctx.labels)
            if target is None:
                if rel.relation == ":=":
                    raise ctx.source.error(rel.offset, "the left side of := is a name (L, s_i)")
                continue
            name, _ = target
            if name in ctx.definitions or name in reserved or name in ("e", "pi", "sigma", "delta"):
                if rel.relation == ":=" and name in ctx.definitions:
                    raise ctx.source.error(rel.offset, f"{name} is defined twice")
                if rel.relation == ":=" and name in reserved:
                    raise ctx.source.error(rel.offset, f"{name} is declared (an index, size, vector, function, "
                                           "random quantity, minibatch or vector with an assumed sum): := cannot "
                                           "define it")  # fmt: skip
                continue
            if _mentions(rel.rhs, name) or name in earlier:
                continue
            rel.defines = name
            ctx.definitions[name] = None  # built once every name is known


def _names(tree: Any) -> set[str]:
    from lark import Token, Tree

    if isinstance(tree, Token):
        return {str(tree.value)} if tree.type == "NAME" else set()
    if isinstance(tree, Tree):
        return set().union(*[_names(c) for c in tree.children if c is not None])
    return set()


def _mentions(tree: Any, name: str) -> bool:
    from lark import Token, Tree

    if isinstance(tree, Token):
        return tree.type == "NAME" and str(tree.value) == name
    if isinstance(tree, Tree):
        return any(_mentions(c, name) for c in tree.children if c is not None)
    return False


def _components(source: Source, rel: Relation, lhs: Any, rhs: Any, hidden: dict) -> tuple[Any, Any]:
    """A vector (or matrix) relation states one relation per component: give it free component
    indices running over the shape."""
    shapes = [v.ranges for v in (lhs, rhs) if is_tensor(v)]
    if not shapes:
        return _scalar_side(source, rel, lhs), _scalar_side(source, rel, rhs)
    if len(shapes) == 2 and (len(shapes[0]) != len(shapes[1]) or any(
            sp.simplify(a[0] - b[0]) != 0 or sp.simplify(a[1] - b[1]) != 0 for a, b in zip(*shapes))):  # fmt: skip
        raise source.error(rel.offset, "the two sides have different shapes")
    indices = []
    for axis, (lo, hi) in enumerate(shapes[0]):
        key = (axis, lo, hi)
        if key not in hidden:
            hidden[key] = index_symbol(f"kappa{'' if axis == 0 else axis + 1}_{len(hidden) + 1}", lo)
        indices.append(hidden[key])
    return as_component(lhs, tuple(indices)), as_component(rhs, tuple(indices))


def _scalar_side(source: Source, rel: Relation, value: Any) -> Any:
    from gradproof.steps.parse import _Operator

    if isinstance(value, _Operator):
        raise source.error(rel.offset, "a derivative operator with nothing to act on")
    if not isinstance(value, sp.Basic):
        raise source.error(rel.offset, "this side is not a formula")
    return value


def _derivation(source: Source, ctx: Any, built: list[Built], hidden: dict) -> StepsDerivation:
    steps = tuple(Step(b.lhs, b.rhs, b.relation.latex, _MODEL_RELATION.get(b.op, "="))
                  for b in built if b.op in _MODEL_RELATION)  # fmt: skip
    ranges = ctx.index_ranges()
    for (_axis, lo, hi), sym in hidden.items():
        ranges[sym] = (lo, hi)
    sizes = {sym: 3 + k for k, sym in enumerate(sorted(ctx.sizes.values(), key=str))}
    sizes = {s: max(v, ctx.min_sizes.get(s, 1)) for s, v in sizes.items()}
    last = steps[-1].expr if steps else sp.true
    return StepsDerivation(
        inputs=_inputs(ctx),
        name=source.name, title=source.name, summary="", statement=last, steps=steps,
        definitions=tuple(d for d in ctx.definitions.values() if d is not None),
        assumptions=ctx.assumptions(), index_ranges=ranges, sizes=sizes, min_sizes=dict(ctx.min_sizes),
        context=ctx,
    )  # fmt: skip


def _inputs(ctx: Any) -> tuple[Input, ...]:
    """The file's free quantities, for the prover's rules that need to know them: a premise
    ``v = e`` may be substituted only for an input v (never for a defined name), and a fact
    ``F(x) ≥ 0`` instantiated only at values of x's whole domain — so the kind is ``positive``
    or ``real`` only when the file assumes exactly x > 0 or nothing about x (a vector with an
    assumed sum is ``constrained``)."""
    out = []
    summed = {str(fact.base.label) for fact in ctx.sum_facts}
    for table in (ctx._symbols, ctx._bases):
        for name, sym in table.items():
            if name in ctx.definitions or name in ctx.randoms or name in ctx.sizes or name in ctx.indices:
                continue
            if ctx.minibatch is not None and name == ctx.minibatch.name:
                continue  # the counts are random, not an input a rule may substitute for
            if name in ctx.functions or not isinstance(sym, (sp.Symbol, sp.IndexedBase)):
                continue
            domain = ctx.domain(name)
            kind = "real" if domain.is_default() else "positive" if domain == Domain(0, None, True) else "constrained"
            if name in summed:  # drawn whole on a sphere or simplex (Σ_l u_l² = 1): no entry is free
                kind = "constrained"
            out.append(Input(sym, (), kind))
    return tuple(out)


# ----------------------------------------------------------------------------------------------


def establish(
    analysis: Analysis, lhs: Any, rhs: Any, op: str, index: int, latex: str = "", earlier: Any = ()
) -> StepRecord:
    """``lhs op rhs`` through the prover (``≈`` and ``∝`` are never established); ``earlier``:
    the rows before it with their records, which the prover's rules may cite (an implication
    through earlier implications, an inequality from an earlier fact F ≥ 0) — only those that
    hold, and a rule resting on a row checked at points is itself reported checked."""
    if op not in _MODEL_RELATION:
        return StepRecord(index, latex, FAILED, f"{op} states an approximation, which is not checked")
    step = Step(lhs, rhs, latex, _MODEL_RELATION[op])
    try:
        # a point where a side is undefined (0/0 at N = 2) is left out by the point checks themselves
        return prove_step(analysis.derivation, step, index, seed=0, earlier=tuple(earlier))
    except Exception as exc:  # noqa: BLE001 - SymPy failing on a step is "not established", never a crash
        return StepRecord(index, latex, FAILED, f"could not be evaluated (SymPy raised {type(exc).__name__})")


def status_of(record: StepRecord) -> str:
    if record.method == SHOWN:
        return "proved"
    if record.method == CHECKED:
        return "checked"
    return "failed" if record.counterexample is not None else "unestablished"


def run(analysis: Analysis) -> StepReport:
    """Every relation of ``analysis`` through the prover, as :func:`~gradproof.derivations.prove.prove`
    runs a catalog derivation: with one set of normal forms for the whole file, so that a sum
    written in a premise and in its conclusion is renamed alike and the rules can match them."""
    from gradproof.derivations.prove import shared_forms

    with shared_forms(analysis.derivation):
        return _run(analysis)


def _run(analysis: Analysis) -> StepReport:
    from gradproof.steps.explain import counterexample_json, diagnose

    report = StepReport(file=analysis.source.name, warnings=list(analysis.context.warnings))
    first_failed: int | None = None
    # per chain: the last expression that follows from the chain's start, and the relation the
    # rows since then claim between it and the current row's left side
    good: dict[int, list] = {}
    earlier: list = []  # (step, record) of every row checked so far, for the prover's rules
    for k, b in enumerate(analysis.built):
        rel = b.relation
        if b.op == "defined":
            report.steps.append(StepResult(rel.line, "defined", rel.latex, "definition"))
            good[rel.chain] = [b.rhs, "="]
            continue
        record = establish(analysis, b.lhs, b.rhs, b.op, k + 1, rel.latex, earlier)
        earlier.append((Step(b.lhs, b.rhs, rel.latex, _MODEL_RELATION.get(b.op, "=")), record))
        result = StepResult(rel.line, status_of(record), rel.latex, record.detail)
        if rel.starts_chain or rel.chain not in good:
            good[rel.chain] = [b.lhs, "="]
        state = good[rel.chain]
        claimed = _COMPOSE.get((state[1], b.op)) if state[1] is not None else None
        if state[1] == "=" and state[0] is b.lhs:
            holds = result.ok  # on track: the row itself relates the last correct expression
        elif first_failed is not None or not result.ok:
            again = establish(analysis, state[0], b.rhs, claimed or b.op, k + 1, rel.latex) if claimed else None
            holds = again is not None and again.method in (SHOWN, CHECKED)
        else:
            holds = False
        if first_failed is None and not result.ok:
            first_failed = k
            if record.counterexample is not None:
                result.counterexample = counterexample_json(record.counterexample)
            try:
                result.diagnosis = diagnose(analysis, b, record)
            except Exception:  # noqa: BLE001 - a diagnosis is a hint; failing to find one is not an error
                result.diagnosis = None
        elif first_failed is not None:
            result.follows_from_last_correct = holds
        if holds:
            good[rel.chain] = [b.rhs, "="]
        else:
            state[1] = claimed
        report.steps.append(result)
    return report

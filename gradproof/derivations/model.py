"""The derivation model: a derivation is data, not prose.

A :class:`Derivation` holds a statement (a SymPy relation), the symbols it speaks about with
their assumptions, the definitions it expands (``s_i := e^{z_i}/Σ_k e^{z_k}``), an ordered list of
:class:`Step` s — each a relation plus the reason a reader would give — the numeric claims that
finite differences and autograd check, and worked examples.  Everything a report prints or a
check evaluates is computed from these expressions; no number is typed in.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from gradproof.derivations.numeric_checks import NumericExperiment
from gradproof.errors import InputError

# "!=" holds at every point (σ(z) ≠ 0 for all z); it is checked at points, never shown.
# "=>" is an implication between two relations (premise ⇒ conclusion, for every value of the free
# symbols): established only by the rules of gradproof.derivations.logic, never at random points
# (a premise such as KL(p‖q) = 0 holds on a set of measure zero, where no random point lands).
RELATIONS = {
    "=": sp.Eq, ">=": sp.Ge, "<=": sp.Le, ">": sp.Gt, "<": sp.Lt, "!=": sp.Ne,
    "=>": lambda a, b, evaluate=False: sp.Implies(a, b, evaluate=False),
}

@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs ⋈ rhs`` and why it holds."""

    lhs: Any
    rhs: Any
    reason: str
    relation: str = "="

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", sp.sympify(self.lhs))
        object.__setattr__(self, "rhs", sp.sympify(self.rhs))
        if self.relation not in RELATIONS:
            raise ValueError(f"unknown relation {self.relation!r}; use one of {sorted(RELATIONS)}")

    @property
    def expr(self) -> sp.Basic:
        """The step as an unevaluated SymPy relation."""
        return RELATIONS[self.relation](self.lhs, self.rhs, evaluate=False)


@dataclass(frozen=True)
class Definition:
    """``target[index] := expr``.  ``numeric`` optionally gives a numerically stable form
    ``numeric(sizes, *index_values)`` used when evaluating in floating point.

    A function of its arguments is defined with an applied undefined function as ``target`` and
    its parameters as ``index``: ``Definition(phi(x), (x,), x - 1 - log(x))`` expands
    ``phi(q_i/p_i)`` to ``q_i/p_i - 1 - log(q_i/p_i)``.  With ``index=()`` the target matches only
    itself (``KL(p, q)`` and ``KL(p, p)`` may have definitions of their own)."""

    target: Any  # sp.IndexedBase or sp.Symbol
    index: tuple = ()
    expr: Any = None
    text: str = ""
    numeric: Callable[..., Any] | None = None

    def matches(self, e: sp.Basic) -> bool:
        if isinstance(self.target, sp.IndexedBase):
            return isinstance(e, sp.Indexed) and e.base == self.target
        if self._is_function:
            return isinstance(e, AppliedUndef) and e.func == self.target.func and len(e.args) == len(self.index)
        return e == self.target

    @property
    def _is_function(self) -> bool:
        return bool(self.index) and isinstance(self.target, AppliedUndef)

    def expand(self, e: sp.Basic) -> sp.Expr:
        if isinstance(self.target, sp.IndexedBase):
            return self.expr.xreplace(dict(zip(self.index, e.indices)))
        if self._is_function:
            return self.expr.xreplace(dict(zip(self.index, e.args)))
        return self.expr


@dataclass(frozen=True)
class Input:
    """A quantity the derivation's result depends on, with its shape and the values it may take.

    ``kind``: ``real`` (any real), ``positive``, ``probability`` (in (0, 1)), ``simplex`` (a
    probability vector: positive, summing to 1), ``simplex-rows`` (a matrix whose rows are
    probability vectors, e.g. a batch of labels), ``onehot`` (a one-hot vector), ``onehot-rows``
    (a matrix whose rows are one-hot: a batch of class labels), ``unit`` (a vector of Euclidean
    norm 1: a direction), ``binary`` (0 or 1), ``sign`` (±1), ``count`` (a positive integer:
    layer widths, sample counts).
    """

    symbol: Any  # sp.IndexedBase or sp.Symbol
    shape: tuple = ()
    kind: str = "real"
    meaning: str = ""

    @property
    def name(self) -> str:
        return str(self.symbol.label) if isinstance(self.symbol, sp.IndexedBase) else str(self.symbol)


@dataclass(frozen=True)
class Assumption:
    """A stated assumption.  ``predicate`` (a SymPy ``Q`` fact) feeds ``refine``; ``rewrite``
    applies a fact such as ``Σ_i y_i = 1`` as a substitution."""

    text: str
    predicate: Any = None
    rewrite: Callable[[sp.Expr], sp.Expr] | None = None


@dataclass(frozen=True)
class GradientClaim:
    """Numerically checkable: ``∂ function[function_index] / ∂ wrt[wrt_index] = gradient``."""

    function: Any
    wrt: Any
    gradient: Any
    function_index: tuple = ()
    wrt_index: tuple = ()
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "function", sp.sympify(self.function))
        object.__setattr__(self, "gradient", sp.sympify(self.gradient))


@dataclass(frozen=True)
class IdentityClaim:
    """Numerically checkable without a derivative: ``lhs ⋈ rhs`` for all free indices."""

    lhs: Any
    rhs: Any
    index: tuple = ()
    relation: str = "="
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", sp.sympify(self.lhs))
        object.__setattr__(self, "rhs", sp.sympify(self.rhs))


@dataclass(frozen=True)
class ExampleSpec:
    """A worked example: inputs, and the quantities to compute from the derived expressions."""

    title: str
    inputs: Mapping[str, Any]
    quantities: Sequence[tuple[str, Any, tuple]]  # (label, expr, free indices)
    note: str = ""


@dataclass(frozen=True)
class Example:
    """A computed worked example."""

    title: str
    inputs: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]
    note: str = ""

    def __str__(self) -> str:
        lines = [self.title]
        lines += [f"  {k} = {_fmt(v)}" for k, v in self.inputs.items()]
        lines += [f"  → {k} = {_fmt(v)}" for k, v in self.values.items()]
        if self.note:
            lines.append(f"  ({self.note})")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        value = float(arr)
        whole = round(value)
        if 1e3 <= abs(value) < 1e18 and abs(value - whole) <= 1e-9 * abs(value):
            # counts and byte totals: every digit, grouped (.4g would drop some); the tolerance
            # absorbs float rounding of exact quantities such as 1.2e15 bytes / 10^9
            return f"{whole:,}"
        return f"{value:.4g}"
    if arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)) and np.max(np.abs(arr)) < 1e15:
        arr = arr.astype(np.int64)  # layer widths, labels, counts: no trailing dots
    return np.array2string(arr, precision=3, suppress_small=True, separator=", ")


@dataclass(eq=False)
class Derivation:
    """A result with its proof.  See the module docstring."""

    name: str
    title: str
    summary: str
    statement: Any
    steps: tuple[Step, ...]
    inputs: tuple[Input, ...] = ()
    definitions: tuple[Definition, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    index_ranges: Mapping[Any, Any] = field(default_factory=dict)
    sizes: Mapping[Any, int] = field(default_factory=dict)
    # the smallest size each size symbol may take (default 1): softmax's outputs lie strictly
    # inside (0, 1) only from two classes on
    min_sizes: Mapping[Any, int] = field(default_factory=dict)
    claims: tuple[Any, ...] = ()
    result: tuple[Any, tuple] | None = None
    example_specs: tuple[ExampleSpec, ...] = ()
    notes: tuple[str, ...] = ()
    # numeric experiments beyond the claims, described as data (gradproof.derivations.numeric_checks:
    # e.g. backprop on random networks of several depths); gradproof.verify runs and judges them
    numeric_checks: tuple[NumericExperiment, ...] = ()
    symbols: tuple[tuple[Any, str], ...] = ()
    # the ``% gradproof:`` declarations its LaTeX fragment needs for ``gradproof check-steps``, when
    # they cannot be computed from the derivation (an expectation's distribution); see
    # gradproof.derivations.directives
    declarations: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<Derivation {self.name!r}: {self.title}>"

    # -- symbolic -------------------------------------------------------------------------------

    def expand_definitions(self, expr: sp.Expr, *, numeric_sizes: Mapping | None = None) -> sp.Expr:
        """Replace every defined symbol by its definition (repeatedly: definitions may nest).
        With ``numeric_sizes``, a definition's numerically stable form is used where it has one.
        Memoised per derivation (the prover and the witnesses expand the same sides many times),
        keyed by the definitions too, so that replacing them never reads back a stale expansion."""
        sizes_key = None if numeric_sizes is None else frozenset(numeric_sizes.items())
        key = (expr, sizes_key, self.definitions)
        memo = self.__dict__.setdefault("_expanded", {})
        if key not in memo:
            memo[key] = self._expand_definitions(expr, numeric_sizes)
        return memo[key]

    def _expand_definitions(self, expr: sp.Expr, numeric_sizes: Mapping | None) -> sp.Expr:
        for _ in range(10):
            changed = False
            for d in self.definitions:
                if not expr.has(d.target.func if d._is_function else d.target):
                    continue
                if numeric_sizes is not None and d.numeric is not None:
                    repl = (
                        (lambda e, d=d: d.numeric(numeric_sizes, *e.indices))
                        if isinstance(d.target, sp.IndexedBase)
                        else (lambda e, d=d: d.numeric(numeric_sizes))
                    )
                else:
                    repl = d.expand
                new = expr.replace(d.matches, repl)
                if new != expr:
                    expr, changed = new, True
            if not changed:
                return expr
        raise RuntimeError(f"{self.name}: definitions do not terminate")

    def index_range(self, idx: Any) -> tuple[Any, Any]:
        """``(lo, hi)`` of a free index: ``index_ranges`` maps an index to its upper end (the
        range is then 1..upper) or to a ``(lo, hi)`` pair (e.g. ``(0, n - 1)``)."""
        value = self.index_ranges[idx]
        if isinstance(value, tuple):
            return sp.sympify(value[0]), sp.sympify(value[1])
        return sp.S.One, sp.sympify(value)

    @cached_property
    def _refine_assumptions(self) -> Any:
        facts = [a.predicate for a in self.assumptions if a.predicate is not None]
        for idx in self.index_ranges:
            lo, hi = self.index_range(idx)
            facts += [sp.Q.ge(idx, lo), sp.Q.le(idx, hi)]
        return sp.And(*facts) if facts else True

    def apply_facts(self, expr: sp.Expr) -> sp.Expr:
        for a in self.assumptions:
            if a.rewrite is not None:
                expr = a.rewrite(expr)
        return expr

    def normalize(self, expr: sp.Expr) -> sp.Expr:
        """Definitions expanded, derivatives evaluated, sums reduced, assumptions applied."""
        from gradproof.derivations.prove import normalize

        return normalize(self, expr)[0]

    def prove(self, *, seed: int = 0, sizes: Sequence[int] | None = None):
        """Prove every step; see :mod:`gradproof.derivations.prove`.  ``sizes`` are the values
        every size symbol takes where a step is checked at exact points (default
        :data:`~gradproof.derivations.prove.DEFAULT_PROOF_SIZES`)."""
        from gradproof.derivations.prove import prove

        return prove(self, seed=seed, sizes=sizes)

    # -- concrete sizes -------------------------------------------------------------------------

    def proof_sizes(self, values: Sequence[int] | None = None) -> list[dict]:
        """Concrete sizes at which undecided steps are checked exactly: every size symbol at each
        of ``values`` in turn, then the derivation's own sizes (which may differ per symbol, so a
        claim that holds only when two sizes are equal is caught) and those sizes plus one."""
        from gradproof.derivations.prove import DEFAULT_PROOF_SIZES

        if not self.sizes:
            return [{}]
        values = DEFAULT_PROOF_SIZES if values is None else values
        out = [{s: int(v) for s in self.sizes} for v in values]
        out += [{s: int(v) for s, v in self.sizes.items()}, {s: int(v) + 1 for s, v in self.sizes.items()}]
        unique = []
        for sizes in out:
            sizes = {s: max(v, int(self.min_sizes.get(s, 1))) for s, v in sizes.items()}
            if sizes not in unique:
                unique.append(sizes)
        return unique

    def proof_size_text(self, values: Sequence[int] | None = None) -> str:
        if not self.sizes:
            return "none"
        return "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in self.proof_sizes(values))

    def concretize(self, expr: sp.Expr, sizes: Mapping, *, numeric: bool = False) -> sp.Expr:
        expr = self.expand_definitions(expr, numeric_sizes=sizes if numeric else None)
        return expr.xreplace({k: sp.Integer(v) for k, v in sizes.items()})

    def shape_of(self, inp: Input, sizes: Mapping) -> tuple[int, ...]:
        return tuple(int(sp.sympify(dim).xreplace({k: sp.Integer(v) for k, v in sizes.items()})) for dim in inp.shape)

    def sample_exact(self, sizes: Mapping, rng: random.Random) -> dict:
        """Exact rational values for every input entry, respecting each input's kind."""
        values: dict = {}
        for inp in self.inputs:
            shape = self.shape_of(inp, sizes)
            count = int(np.prod(shape)) if shape else 1
            raw = [_exact_value(inp.kind, rng) for _ in range(count)]
            if inp.kind == "simplex":
                total = sum(raw)
                raw = [r / total for r in raw]
            elif inp.kind == "onehot":
                hot = rng.randrange(count)
                raw = [sp.Integer(int(k == hot)) for k in range(count)]
            elif inp.kind == "simplex-rows":  # each row (last axis) a probability vector
                width = shape[-1]
                for start in range(0, count, width):
                    total = sum(raw[start : start + width])
                    raw[start : start + width] = [r / total for r in raw[start : start + width]]
            elif inp.kind == "onehot-rows":
                width = shape[-1]
                for start in range(0, count, width):
                    hot = rng.randrange(width)
                    raw[start : start + width] = [sp.Integer(int(k == hot)) for k in range(width)]
            elif inp.kind == "unit":
                raw = _rational_unit_vector(count, rng)
            if isinstance(inp.symbol, sp.IndexedBase):
                for flat, idx in enumerate(np.ndindex(*shape)):
                    values[inp.symbol[tuple(i + 1 for i in idx)]] = raw[flat]
            else:
                values[inp.symbol] = raw[0]
        return values

    def substitute(self, expr: sp.Expr, values: Mapping) -> sp.Expr:
        return expr.xreplace(dict(values))

    # -- numeric --------------------------------------------------------------------------------

    def sizes_from(self, values: Mapping[str, np.ndarray]) -> dict:
        """Infer concrete sizes from input arrays; inconsistent shapes raise InputError."""
        sizes: dict = {}
        for inp in self.inputs:
            if inp.name not in values:
                continue
            arr = np.asarray(values[inp.name])
            if arr.ndim != len(inp.shape):
                raise InputError(
                    f"{self.name}: input {inp.name!r} must have {len(inp.shape)} dimension(s) "
                    f"({inp.meaning or inp.kind}), got shape {arr.shape}"
                )
            for dim, got in zip(inp.shape, arr.shape):
                dim = sp.sympify(dim)
                if dim.is_Symbol:
                    if sizes.setdefault(dim, got) != got:
                        raise InputError(
                            f"{self.name}: inconsistent sizes: {dim} is {sizes[dim]} from one input "
                            f"but {got} from {inp.name!r}"
                        )
        for s, v in sizes.items():
            if v < 1:
                raise InputError(f"{self.name}: size {s} must be at least 1, got {v}")
        return sizes

    def check_inputs(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        known = {inp.name for inp in self.inputs}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"{self.name}: unknown input(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(sorted(known)) or 'none'}"
            )
        missing = sorted(known - set(values))
        if missing:
            raise InputError(f"{self.name}: missing input(s) {', '.join(map(repr, missing))}")
        arrays = {}
        for name, value in values.items():
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(f"{self.name}: input {name!r} is not numeric: {value!r}") from None
            if not np.all(np.isfinite(arr)):
                raise InputError(f"{self.name}: input {name!r} contains NaN or infinity")
            kind = next(inp.kind for inp in self.inputs if inp.name == name)
            if kind == "count" and not np.all((arr >= 1) & (arr == np.round(arr))):
                raise InputError(
                    f"{self.name}: input {name!r} must be positive integers (counts), got {value!r}"
                )
            if kind == "unit" and not (arr.ndim == 1 and abs(float(np.linalg.norm(arr)) - 1.0) <= 1e-9):
                raise InputError(f"{self.name}: input {name!r} must be a vector of norm 1 (a direction), got {value!r}")
            if kind == "onehot-rows" and not (
                arr.ndim == 2 and np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=-1) == 1)
            ):
                raise InputError(f"{self.name}: input {name!r} must have one-hot rows (one 1 per row), got {value!r}")
            arrays[name] = arr
        return arrays

    def evaluate(self, **inputs: Any) -> np.ndarray:
        """Numeric value of the derived result at the given inputs (float64)."""
        from gradproof.derivations.numeric import tabulate

        if self.result is None:
            raise InputError(f"{self.name}: has no numeric result to evaluate")
        arrays = self.check_inputs(inputs)
        expr, index = self.result
        return tabulate(self, expr, index, self.sizes_from(arrays), arrays)

    @cached_property
    def examples(self) -> tuple[Example, ...]:
        """Worked examples, computed from the derived expressions."""
        from gradproof.derivations.numeric import tabulate

        out = []
        for spec in self.example_specs:
            arrays = self.check_inputs(spec.inputs)
            sizes = self.sizes_from(arrays)
            values = {label: tabulate(self, expr, idx, sizes, arrays) for label, expr, idx in spec.quantities}
            out.append(Example(spec.title, arrays, values, spec.note))
        return tuple(out)

    def _repr_markdown_(self) -> str:
        """Jupyter: title, statement, the steps with reasons as one ``aligned`` block, worked
        examples as a table (:mod:`gradproof.derivations.markdown`)."""
        from gradproof.derivations.markdown import derivation_markdown

        return derivation_markdown(self, level=3)

    def _repr_latex_(self) -> str:
        """Jupyter/nbconvert: the statement and the steps with reasons, as display math."""
        from gradproof.derivations.markdown import statement_block, steps_block

        statement = statement_block(self)[2:-2].strip()
        steps = steps_block(self)[2:-2].strip()
        return f"$$\n\\begin{{gathered}}\n{statement} \\\\[1ex]\n{steps}\n\\end{{gathered}}\n$$"

    def latex(self) -> str:
        """A paste-ready ``align*`` fragment with each step's reason as ``\\text{}``."""
        from gradproof.derivations.fragment import derivation_align

        return derivation_align(self)


def _rational(rng: random.Random, lo: float, hi: float) -> sp.Rational:
    value = Fraction(rng.randint(1, 999), 1000) * Fraction(hi - lo).limit_denominator(100) + Fraction(
        lo
    ).limit_denominator(100)
    return sp.Rational(value.numerator, value.denominator)


def _exact_value(kind: str, rng: random.Random) -> sp.Rational:
    if kind == "real":
        return _rational(rng, -2, 2)
    if kind in ("positive", "simplex", "onehot", "simplex-rows", "onehot-rows", "unit"):
        return _rational(rng, 0.05, 2)
    if kind == "probability":
        return _rational(rng, 0.02, 0.98)
    if kind == "binary":
        return sp.Integer(rng.randrange(2))
    if kind == "sign":
        return sp.Integer(rng.choice((-1, 1)))
    if kind == "count":
        return sp.Integer(rng.randint(1, 6))
    raise ValueError(f"unknown input kind {kind!r}")


def _rational_unit_vector(count: int, rng: random.Random) -> list:
    """A random unit vector with exact rational entries: the inverse stereographic projection of a
    rational point t of R^(count-1), (2t, S - 1)/(S + 1) with S = ‖t‖², has norm exactly 1."""
    t = [_rational(rng, -2, 2) for _ in range(count - 1)]
    total = sp.Integer(0) + sum(v**2 for v in t)
    out = [2 * v / (total + 1) for v in t] + [(total - 1) / (total + 1)]
    return [v * rng.choice((-1, 1)) for v in out] if count == 1 else out


def closest(name: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(name, candidates, n=n, cutoff=0.3)

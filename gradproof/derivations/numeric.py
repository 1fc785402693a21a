"""From derived SymPy expressions to numbers, at concrete sizes.

``compile_expr`` turns an expression with free indices into a function of the input arrays
that returns an array over those indices.  Definitions are expanded in their numerically stable
form where one is given (softmax with the maximum subtracted, justified by
``softmax-shift-invariance``), so large but legal inputs (logits of ±50) do not overflow.
The same expression compiles for NumPy and, lazily, for PyTorch (for autograd).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gradproof.derivations.instantiate import Instantiator, can_instantiate
from gradproof.derivations.prove import unroll

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

_CACHE: dict = {}


def _entry_symbol(base: sp.IndexedBase, idx: tuple[int, ...]) -> sp.Symbol:
    return sp.Symbol(f"{base.label}_{'_'.join(map(str, idx))}", real=True)


def compile_expr(
    derivation: Derivation, expr: sp.Expr, index: tuple, sizes: Mapping, backend: str = "numpy"
) -> Callable[[Mapping[str, Any]], Any]:
    """Compile ``expr`` over ``index`` at ``sizes`` for ``backend`` ('numpy' or 'torch')."""
    size_key = tuple(sorted((str(k), v) for k, v in sizes.items()))
    # the derivation itself (compared by identity), not its id, which a later object may reuse; the
    # expression itself, not its srepr (printing it costs more than compiling a small one)
    key = (derivation, expr, index, size_key)
    if (key, backend) in _CACHE:
        return _CACHE[key, backend]
    if key not in _CACHE:
        _CACHE[key] = _entries(derivation, expr, index, sizes)
    shape, arg_symbols, layout, entries, cse = _CACHE[key]

    if backend == "numpy":
        fn = sp.lambdify(
            arg_symbols, entries, modules=[{"StableMax": _np_max}, "numpy"], cse=cse, printer=_numpy_printer(),
            docstring_limit=0,  # printing the expression into the docstring costs as much as compiling it
        )

        def run(values: Mapping[str, Any]) -> np.ndarray:
            args = [np.asarray(values[name], dtype=np.float64)[idx] for name, _, idx in layout]
            return np.asarray(fn(*args), dtype=np.float64).reshape(shape)

    elif backend == "torch":
        import torch

        fn = sp.lambdify(
            arg_symbols,
            entries,
            modules=[{"StableMax": _torch_max, "torch": _torch_module()}, "torch"],
            cse=cse,
            printer=_torch_printer(),
            docstring_limit=0,
        )

        def run(values: Mapping[str, Any]) -> Any:
            args = [values[name][idx] for name, _, idx in layout]
            ref = args[0] if args else torch.zeros((), dtype=torch.float64)
            out = [torch.as_tensor(v, dtype=torch.float64, device=ref.device) + 0 * ref for v in fn(*args)]
            return torch.stack(out).reshape(shape)

    else:  # pragma: no cover
        raise ValueError(f"unknown backend {backend!r}")

    _CACHE[key, backend] = run
    return run


def _entries(derivation: Derivation, expr: sp.Expr, index: tuple, sizes: Mapping) -> tuple:
    """The scalar entries of ``expr`` over ``index`` at ``sizes``, in the input entries' symbols,
    with everything both backends share: (shape, argument symbols, their layout, entries, cse)."""
    expanded = derivation.expand_definitions(expr, numeric_sizes=sizes)
    bounds = [tuple(int(b.xreplace(_ints(sizes))) for b in derivation.index_range(i)) for i in index]
    ranges = [range(lo, hi + 1) for lo, hi in bounds]
    shape = tuple(len(r) for r in ranges)
    # one scalar argument per input entry, in a fixed order
    arg_symbols: list[sp.Symbol] = []
    layout: list[tuple[str, tuple[int, ...], tuple]] = []  # (name, shape, idx)
    replace: dict = {}
    for inp in derivation.inputs:
        in_shape = derivation.shape_of(inp, sizes)
        if isinstance(inp.symbol, sp.IndexedBase):
            for idx in np.ndindex(*in_shape):
                one_based = tuple(i + 1 for i in idx)
                sym = _entry_symbol(inp.symbol, one_based)
                replace[inp.symbol, one_based] = sym
                arg_symbols.append(sym)
                layout.append((inp.name, in_shape, idx))
        else:
            arg_symbols.append(inp.symbol)
            layout.append((inp.name, (), ()))
    # sums written out term by term (SymPy's Sum.doit would first try its summation algorithms on
    # the symbolic summand: seconds per entry for a softmax of inner sums), input entries replaced
    # by their symbols and what remains evaluated, in one pass (see instantiate.py)
    combos = [dict(zip(index, combo)) for combo in itertools.product(*ranges)]
    if can_instantiate(expanded):
        fill = Instantiator({(base, idx): sym for (base, idx), sym in replace.items()})
        if _substitutes_plainly(expanded):
            # the sizes substituted in the same pass as the indices: what substituting them first
            # (concretize) builds, without building that tree as well
            source, at_sizes = expanded, {size: int(value) for size, value in sizes.items()}
        else:
            source, at_sizes = derivation.concretize(expr, sizes, numeric=True), {}
        entries = [sp.sympify(fill(source, {**at_sizes, **combo})) for combo in combos]
    else:  # a Subs, Lambda or Integral: the general path
        concrete = derivation.concretize(expr, sizes, numeric=True)
        memo: dict = {}
        entries = [sp.sympify(_evaluate(unroll(concrete.xreplace(combo), memo), memo, replace)) for combo in combos]
    leftover = set().union(*(e.free_symbols for e in entries)) - set(arg_symbols) if entries else set()
    if leftover:
        raise ValueError(f"{derivation.name}: cannot evaluate, free symbols left: {sorted(map(str, leftover))}")
    found: list = []

    def cse(exprs: Any) -> Any:  # common subexpressions found once for both backends
        if not found:
            found.append(sp.cse(exprs, order="none"))
        return found[0]

    return shape, arg_symbols, layout, entries, cse


def _substitutes_plainly(expr: sp.Basic) -> bool:
    """Whether every node of ``expr`` substitutes values as SymPy's ``xreplace`` does, so that
    substituting the sizes while writing the entries out builds what substituting them first
    would.  An evaluation at a point (:class:`gradproof.derivations.logic.At`) has rules of its
    own: the sizes go in first there."""
    return all(type(node)._xreplace is sp.Basic._xreplace for node in sp.preorder_traversal(expr))


def _evaluate(expr: sp.Basic, memo: dict, entries: Mapping) -> sp.Basic:
    """``expr.doit()`` with each input entry (``X[1, 2]``) replaced by its symbol from
    ``entries``, rebuilding only what changes: sums and products, already written out by
    :func:`~gradproof.derivations.prove.unroll`, are the only nodes left unevaluated."""
    if isinstance(expr, sp.Indexed):
        if all(i.is_Integer for i in expr.indices):
            return entries.get((expr.base, tuple(int(i) for i in expr.indices)), expr)
        return expr
    if not expr.args or isinstance(expr, sp.IndexedBase):
        return expr
    key = ("evaluated", expr)
    if key in memo:
        return memo[key]
    args = [_evaluate(a, memo, entries) for a in expr.args]
    new = expr if all(a is b for a, b in zip(args, expr.args)) else expr.func(*args)
    if not isinstance(new, (sp.Add, sp.Mul)):  # built evaluated; doit(deep=False) would only rebuild them
        new = new.doit(deep=False)
    memo[key] = new
    return new


def _np_max(*args: Any) -> Any:
    return np.max(np.stack(np.broadcast_arrays(*args)), axis=0)


def _torch_max(*args: Any) -> Any:
    import torch

    ref = next(a for a in args if isinstance(a, torch.Tensor))
    tensors = [torch.as_tensor(a, dtype=ref.dtype, device=ref.device) for a in args]
    return torch.max(torch.stack(torch.broadcast_tensors(*tensors)), dim=0).values


def _torch_module() -> Any:
    import torch

    return torch


def _torch_printer() -> Any:
    from sympy.printing.pytorch import TorchPrinter

    class _Printer(TorchPrinter):
        def _print_StableMax(self, expr: sp.Expr) -> str:
            return f"StableMax({', '.join(self._print(a) for a in expr.args)})"

        def _print_log1p(self, expr: sp.Expr) -> str:
            return f"torch.log1p({self._print(expr.args[0])})"

    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True, "order": "none"})


def _numpy_printer() -> Any:
    """lambdify's own NumPy printer, except that terms print in the order they are stored
    (sorting the terms of every sum costs more than the rest of the printing)."""
    from sympy.printing.numpy import NumPyPrinter

    return NumPyPrinter({
        "fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
        "user_functions": {"StableMax": "StableMax"}, "order": "none",
    })


def _ints(sizes: Mapping) -> dict:
    return {k: sp.Integer(v) for k, v in sizes.items()}


def tabulate(derivation: Derivation, expr: sp.Expr, index: tuple, sizes: Mapping, values: Mapping) -> np.ndarray:
    """Evaluate ``expr`` over ``index`` in float64 (NumPy)."""
    result = compile_expr(derivation, expr, index, sizes, "numpy")(values)
    return result


def sample_inputs(
    derivation: Derivation, sizes: Mapping, rng: np.random.Generator, *, adversarial: bool = False
) -> dict:
    """Random float64 inputs respecting each input's kind; ``adversarial`` gives large but legal
    values (logits of ±50, near-one-hot probabilities, near-saturated probabilities)."""
    values = {}
    for inp in derivation.inputs:
        shape = derivation.shape_of(inp, sizes)
        if inp.kind == "real":
            v = rng.normal(size=shape)
            if adversarial:
                v = rng.choice([-50.0, 50.0], size=shape) + v
        elif inp.kind == "positive":
            v = rng.uniform(0.1, 2.0, size=shape) if not adversarial else 10.0 ** rng.uniform(-6, 3, size=shape)
        elif inp.kind == "probability":
            v = rng.uniform(0.05, 0.95, size=shape)
            if adversarial:
                v = np.where(rng.random(size=shape) < 0.5, 1e-9, 1 - 1e-9) * np.ones(shape)
        elif inp.kind == "simplex":
            v = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
            if adversarial:
                v = np.full(shape, 1e-12)
                v.flat[rng.integers(v.size)] = 1.0
                v = v / v.sum()
        elif inp.kind == "simplex-rows":  # each row (last axis) a probability vector
            v = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).reshape(shape)
            if adversarial:  # near-one-hot rows
                v = np.full(shape, 1e-12)
                hot = rng.integers(shape[-1], size=shape[:-1])
                np.put_along_axis(v, hot[..., None], 1.0, axis=-1)
                v = v / v.sum(axis=-1, keepdims=True)
        elif inp.kind == "onehot":
            v = np.zeros(shape)
            v.flat[rng.integers(v.size)] = 1.0
        elif inp.kind == "onehot-rows":  # each row (last axis) one-hot
            v = np.zeros(shape)
            hot = rng.integers(shape[-1], size=shape[:-1])
            np.put_along_axis(v, hot[..., None], 1.0, axis=-1)
        elif inp.kind == "unit":
            v = rng.normal(size=shape)
            if adversarial:  # nearly along one axis
                v = v * 1e-6
                v.flat[rng.integers(v.size)] = 1.0
            v = v / np.linalg.norm(v)
        elif inp.kind == "binary":
            v = rng.integers(0, 2, size=shape).astype(float)
        elif inp.kind == "sign":
            v = rng.choice([-1.0, 1.0], size=shape)
        elif inp.kind == "count":
            v = rng.integers(1, 10, size=shape) if not adversarial else rng.integers(1, 10**6, size=shape)
        else:  # pragma: no cover
            raise ValueError(f"unknown input kind {inp.kind!r}")
        values[inp.name] = np.asarray(v, dtype=np.float64)
    return values

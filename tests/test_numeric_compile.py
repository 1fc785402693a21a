"""Compiled claims (gradproof.derivations.numeric) against SymPy's own evaluation.

The compiler writes sums out itself, evaluates only what needs evaluating, shares common
subexpressions between the NumPy and the PyTorch function and prints terms unsorted (all for
speed); here SymPy evaluates the same expressions its own way (``Sum.doit`` at concrete sizes,
exact inputs substituted) and the results must agree to float64 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations.common import StableMax
from gradproof.derivations.model import GradientClaim
from gradproof.derivations.numeric import compile_expr, sample_inputs

CASES = [  # (derivation, claim number): sums of sums, softmax of inner sums, definitions that nest
    ("softmax-regression-gradient", 0),
    ("bce-sigmoid-gradient", 2),
    ("mlp-backprop", 1),
    ("cross-entropy-kl", 0),
    ("minibatch-mean-gradient", 0),
]


def _by_sympy(d, expr, index, sizes, values):
    concrete = d.concretize(expr, sizes).doit()  # the plain definitions, SymPy's summation
    concrete = concrete.replace(lambda e: isinstance(e, StableMax), lambda e: sp.Max(*e.args))
    subs = {}
    for inp in d.inputs:
        arr = np.asarray(values[inp.name])
        if isinstance(inp.symbol, sp.IndexedBase):
            for idx in np.ndindex(*arr.shape):
                subs[inp.symbol[tuple(i + 1 for i in idx)]] = sp.Float(float(arr[idx]), 30)
        else:
            subs[inp.symbol] = sp.Float(float(arr), 30)
    ranges = [range(1, int(d.index_ranges[i].xreplace({k: sp.Integer(v) for k, v in sizes.items()})) + 1)
              for i in index]
    shape = tuple(len(r) for r in ranges)
    combos = [tuple(r[c] for r, c in zip(ranges, combo)) for combo in np.ndindex(*shape)]
    out = [float(sp.N(concrete.xreplace(dict(zip(index, combo))).doit().xreplace(subs), 30)) for combo in combos]
    return np.array(out).reshape(shape)


@pytest.mark.parametrize("name, number", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_compiled_claims_agree_with_sympy(name, number):
    torch = pytest.importorskip("torch")
    d = gradproof.derivation(name)
    claim = d.claims[number]
    sizes = dict(d.sizes)
    values = sample_inputs(d, sizes, np.random.default_rng(7))
    if isinstance(claim, GradientClaim):
        exprs = [(claim.function, claim.function_index), (claim.gradient, claim.function_index + claim.wrt_index)]
    else:
        exprs = [(claim.lhs, claim.index), (claim.rhs, claim.index)]
    for expr, index in exprs:
        want = _by_sympy(d, expr, index, sizes, values)
        got = compile_expr(d, expr, index, sizes, "numpy")(values)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
        tensors = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in values.items()}
        got_t = compile_expr(d, expr, index, sizes, "torch")(tensors).numpy()
        np.testing.assert_allclose(got_t, want, rtol=1e-12, atol=1e-300)


def test_sizes_substituted_while_writing_out_build_what_substituting_them_first_builds():
    """The entries are built with the sizes substituted in the same pass as the indices; what
    substituting them first (``concretize``) and then writing the entries out builds is the
    reference, node for node."""
    from gradproof.derivations.instantiate import Instantiator
    from gradproof.derivations.numeric import _entries

    for name, number in CASES:
        d = gradproof.derivation(name)
        claim = d.claims[number]
        expr, index = (claim.gradient, claim.function_index + claim.wrt_index) if isinstance(
            claim, GradientClaim) else (claim.lhs, claim.index)
        sizes = {k: v + 1 for k, v in d.sizes.items()}
        _, args, layout, entries, _ = _entries(d, expr, index, sizes)
        leaves = {}
        for sym, (name_, _, idx) in zip(args, layout):
            base = next(i.symbol for i in d.inputs if i.name == name_)
            if idx:
                leaves[base, tuple(i + 1 for i in idx)] = sym
        concrete = d.concretize(expr, sizes, numeric=True)
        bounds = [d.index_range(i) for i in index]
        ranges = [range(int(lo.xreplace({k: sp.Integer(v) for k, v in sizes.items()})),
                        int(hi.xreplace({k: sp.Integer(v) for k, v in sizes.items()})) + 1) for lo, hi in bounds]
        fill = Instantiator(leaves)
        want = [fill(concrete, dict(zip(index, combo))) for combo in __import__("itertools").product(*ranges)]
        assert entries == want, name


def test_an_evaluation_at_a_point_keeps_its_point():
    """``H(p, q)`` at the coin is log(5/2) whatever the inputs: the point's own substitution rules
    run before the entries are written out."""
    d = gradproof.derivation("cross-entropy-asymmetry")
    claim = d.claims[0]
    f = compile_expr(d, claim.lhs, claim.index, dict(d.sizes), "numpy")
    rng = np.random.default_rng(3)
    for _ in range(3):
        values = sample_inputs(d, dict(d.sizes), rng)
        assert float(f(values)) == pytest.approx(float(sp.log(sp.Rational(5, 2))), rel=1e-14)

"""counting: MLP parameter count and training memory — proofs, lecture numbers, wrong variants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations.model import Step
from gradproof.errors import InputError

SLUGS = ("mlp-parameter-count", "training-memory")


@pytest.mark.parametrize("slug", SLUGS)
def test_proves(slug):
    result = gradproof.derivation(slug).prove()
    assert result.ok, str(result)
    assert result.checked == 0, str(result)  # every step shown symbolically


def test_parameter_count_lecture_example():
    ex = gradproof.derivation("mlp-parameter-count").examples[0]
    assert ex.values["weights"] == 20
    assert ex.values["biases"] == 6
    assert ex.values["neurons"] == 6
    assert ex.values["learnable parameters"] == 26
    assert "learnable parameters = 26" in str(ex)


def test_parameter_count_matches_numpy():
    d = gradproof.derivation("mlp-parameter-count")
    rng = np.random.default_rng(0)
    for depth in (2, 3, 5):
        widths = rng.integers(1, 50, size=depth)
        # independent count: build the weight matrices and bias vectors and count their entries
        layers = [(np.zeros((widths[q], widths[q - 1])), np.zeros(widths[q])) for q in range(1, depth)]
        expected = sum(W.size + b.size for W, b in layers)
        assert d.evaluate(n=widths) == expected


def test_parameter_count_rejects_non_counts():
    d = gradproof.derivation("mlp-parameter-count")
    with pytest.raises(InputError, match="positive integers"):
        d.evaluate(n=[3, 4.5, 2])
    with pytest.raises(InputError, match="positive integers"):
        d.evaluate(n=[3, 0, 2])


def test_parameter_count_wrong_step_fails():
    d = gradproof.derivation("mlp-parameter-count")
    W, width, l, K = (
        sp.Symbol("N_W", integer=True, positive=True),
        sp.IndexedBase("n", integer=True, positive=True),
        sp.Symbol("l", integer=True, positive=True),
        sp.Symbol("K", integer=True, positive=True),
    )
    # forgetting that layer l - 1 feeds layer l: n_l² weights instead of n_{l-1} n_l
    wrong = Step(W, sp.Sum(width[l] ** 2, (l, 2, K)), "wrong")
    bad = dataclasses.replace(d, steps=d.steps[:2] + (wrong,) + d.steps[3:])
    assert not bad.prove().ok


MEMORY_GB = {  # (samples per step, bytes per number) -> lecture figure in GB (10^9 bytes)
    (1, 4): 3_601,
    (1, 8): 7_201,
    (1000, 4): 1_203_400,
    (1000, 8): 2_405_800,
}


def test_training_memory_lecture_figures():
    d = gradproof.derivation("training-memory")
    seen = {}
    for ex in d.examples:
        key = (int(ex.inputs["B"]), int(ex.inputs["b"]))
        seen[key] = ex
        assert float(ex.values["memory [GB]"]) == pytest.approx(MEMORY_GB[key], rel=1e-12)
    assert set(seen) == set(MEMORY_GB)
    # PB = 1024² GB as in the lecture: 1.15 and 2.29
    assert round(float(seen[(1000, 4)].values["memory [PB = 1024² GB]"]), 2) == 1.15
    assert round(float(seen[(1000, 8)].values["memory [PB = 1024² GB]"]), 2) == 2.29
    assert "memory [GB] = 1,203,400" in str(seen[(1000, 4)])
    assert "memory [GB] = 2,405,800" in str(seen[(1000, 8)])
    assert "memory [GB] = 3,601" in str(seen[(1, 4)])


def test_training_memory_matches_numpy():
    d = gradproof.derivation("training-memory")
    rng = np.random.default_rng(1)
    for _ in range(20):
        P, b, B = (float(v) for v in rng.integers(1, 10**6, size=3))
        S = float(rng.uniform(1, 1e6))
        expected = P * b + P * b + B * (P * b) + B * S
        assert d.evaluate(P=P, b=b, S=S, B=B) == pytest.approx(expected, rel=1e-14)


def test_training_memory_wrong_step_fails():
    d = gradproof.derivation("training-memory")
    grads = d.steps[1]
    # one gradient copy per sample would be B·P·b, not P·b: the step must not prove
    wrong = dataclasses.replace(grads, rhs=sp.Symbol("B", positive=True) * grads.rhs)
    bad = dataclasses.replace(d, steps=(d.steps[0], wrong) + d.steps[2:])
    assert not bad.prove().ok
    wrong_statement = sp.Eq(d.statement.lhs, d.statement.rhs + sp.Symbol("S", positive=True))
    assert not dataclasses.replace(d, statement=wrong_statement).prove().ok


@pytest.mark.parametrize("slug", SLUGS)
def test_verifies_numerically(slug):
    from gradproof.verify.derivation_check import verify_derivation

    result = verify_derivation(slug)
    assert result.ok, str(result)

"""Tests that pin check_gradient's refusals and verdicts: each fails for a one-line mutation of
gradproof/verify/ that the rest of the suite let through (see benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gradproof


# -- check_gradient: nondeterminism, overflow, every direction counts ------------------------------
def _quadratic(scale: float = 1.0):
    x = np.array([1.0, -2.0, 0.5, 3.0])
    return x, (lambda p: scale * float(np.sum(p**2))), (lambda p: 2 * scale * p)


def test_nondeterminism_of_one_in_a_million_is_refused():
    x, loss, grad = _quadratic()
    rng = np.random.default_rng(0)
    with pytest.raises(gradproof.InputError, match="nondeterministic"):
        gradproof.check_gradient(lambda p: loss(p) * (1 + 1e-6 * rng.random()), grad, x)


def test_losses_far_beyond_the_limit_are_refused():
    x, loss, grad = _quadratic(1e200)
    with pytest.raises(gradproof.InputError, match="too large to check"):
        gradproof.check_gradient(loss, lambda p: -grad(p), x)  # a sign bug, never to be passed


@pytest.mark.parametrize("directions", [1, 2])
def test_one_disagreeing_direction_fails(directions):
    x, loss, grad = _quadratic()
    result = gradproof.check_gradient(loss, lambda p: -grad(p), x, directions=directions)
    assert not result.ok
    assert result.failures[0].disagree == directions

"""Numeric experiments: derivations describe them as data, gradproof.verify runs and judges them."""

from __future__ import annotations

import numpy as np
import pytest

from gradproof.derivations import regression
from gradproof.derivations.numeric_checks import EqualityCase, GradientCase, NumericExperiment
from gradproof.verify.judge import EVALUATION_RTOL
from gradproof.verify.numeric_checks import run_numeric_check


def _quadratic_case(gradient_scale: float = 1.0) -> GradientCase:
    # L = ½ xᵀAx + bᵀx, ∂L/∂x = Ax + b, ∂L/∂b = x
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    A = A + A.T
    x, b = rng.normal(size=3), rng.normal(size=3)

    def loss(p):
        return 0.5 * p["x"] @ A @ p["x"] + p["b"] @ p["x"]

    def torch_loss(p):
        import torch

        At = torch.as_tensor(A, dtype=torch.float64)
        return 0.5 * p["x"] @ At @ p["x"] + p["b"] @ p["x"]

    return GradientCase("a quadratic", {"x": x, "b": b}, {"x": gradient_scale * (A @ x + b), "b": x}, loss, torch_loss)


def test_a_right_gradient_passes_both_witnesses():
    witnesses = run_numeric_check(NumericExperiment("quadratic", lambda seed: [_quadratic_case()]))
    assert [w.method for w in witnesses] == ["finite differences", "autograd"]
    assert all(w.ok for w in witnesses), witnesses


@pytest.mark.parametrize("scale", [1 + 1e-6, -1.0, 0.0])
def test_a_wrong_gradient_fails_both_witnesses(scale):
    witnesses = run_numeric_check(NumericExperiment("quadratic", lambda seed: [_quadratic_case(scale)]))
    assert not any(w.ok for w in witnesses)
    assert all("mismatch at a quadratic, ∂L/∂x" in w.detail for w in witnesses)


def test_a_gradient_of_the_wrong_shape_is_a_programming_error():
    case = _quadratic_case()
    bad = GradientCase(case.where, case.point, {**case.gradient, "x": np.zeros(2)}, case.loss, case.torch_loss)
    with pytest.raises(ValueError, match="shape"):
        run_numeric_check(NumericExperiment("quadratic", lambda seed: [bad]))


def test_equality_cases_are_judged_to_float64_rounding():
    a = np.array([1.0, 2.0, 3.0])
    close = run_numeric_check(NumericExperiment("eq", lambda seed: [EqualityCase("c", a, a * (1 + 1e-13))]))
    far = run_numeric_check(NumericExperiment("eq", lambda seed: [EqualityCase("c", a, a * (1 + 3 * EVALUATION_RTOL))]))
    assert [w.method for w in close] == ["evaluation"] and close[0].ok
    assert not far[0].ok and "mismatch at c" in far[0].detail


@pytest.mark.parametrize(
    "case",
    [EqualityCase("nan", np.array([np.nan]), np.array([np.nan])), EqualityCase("shape", np.zeros(2), np.zeros(3))],
    ids=["non-finite", "shape"],
)
def test_equality_cases_that_cannot_hold(case):
    (w,) = run_numeric_check(NumericExperiment("eq", lambda seed: [case]))
    assert not w.ok


def test_an_experiment_without_cases_fails():
    (w,) = run_numeric_check(NumericExperiment("nothing", lambda seed: []))
    assert not w.ok and "no cases" in w.detail


def test_minibatch_enumeration_passes_and_a_biased_estimate_fails():
    (w,) = run_numeric_check(regression.MINIBATCH_ENUMERATION, seed=3)
    assert w.ok and w.method == "evaluation", w

    def biased(seed):
        # a wrong normalisation of the minibatch average (3/4 of it)
        return [EqualityCase(c.where, c.derived * len(c.derived) / (len(c.derived) + 1), c.expected)
                for c in regression.minibatch_cases(seed)]

    (w,) = run_numeric_check(NumericExperiment("biased", biased), seed=3)
    assert not w.ok


def test_cases_depend_on_the_seed():
    a, b = regression.minibatch_cases(0), regression.minibatch_cases(1)
    assert not np.allclose(a[0].expected, b[0].expected)
    np.testing.assert_array_equal(a[0].expected, regression.minibatch_cases(0)[0].expected)

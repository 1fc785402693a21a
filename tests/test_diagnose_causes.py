"""Each named cause: a bug that triggers it, and a bug (or correct code) that must not.

Bugs come from the layer corpus (tests/corpus) or are written here; every claim is checked to be
absent where its test cannot pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradproof.verify.check import check_gradient
from gradproof.verify.diagnose import Context, _unexplained
from tests.corpus import build


def _diagnoses(layer, bug, size="small", dtype="float64", seed=0):
    case = build(layer, size, dtype, seed, bug)
    result = check_gradient(case.loss, case.grad, case.params, seed=seed)
    assert not result.ok, f"{layer}/{bug} passed"
    return {p.name: p.diagnosis or "" for p in result.parameters if not p.ok}


def _all(text_by_param):
    return " | ".join(text_by_param.values())


# -- √d and 1/√d ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size,d", [("small", 5), ("large", 12)])
def test_attention_scale_is_named_as_root_d(size, d):
    texts = _diagnoses("attention", "scale-forgotten", size)
    assert set(texts) == {"Q", "K"}
    for text in texts.values():
        assert f"√{d}" in text and "1/√" in text and "left out" in text


def test_one_over_root_d_applied_twice():
    case = build("attention", "small", "float64", 0)

    def grad(p):
        g = case.grad(p)
        return {**g, "Q": g["Q"] / math.sqrt(5)}

    result = check_gradient(case.loss, grad, case.params)
    assert "1/√5" in result["Q"].diagnosis and "once too often" in result["Q"].diagnosis


def test_a_factor_that_is_no_root_of_a_dimension_is_just_a_factor():
    X = np.random.default_rng(0).normal(size=(4, 3))  # dimensions 3 and 4: √5 is none of their roots

    def loss(w):
        return float(np.sum(np.tanh(X @ w)))

    def grad(w):
        return math.sqrt(5) * X.T @ (1 - np.tanh(X @ w) ** 2)

    result = check_gradient(loss, grad, np.array([0.3, -0.2, 0.5]))
    assert "√" not in result["x"].diagnosis and "constant factor" in result["x"].diagnosis


def test_batch_size_only_for_a_leading_axis():
    assert "batch size 4" in _all(_diagnoses("softmax_ce", "sum-not-mean"))
    text = _all(_diagnoses("mse", "mean-over-batch-only"))  # 6 is the feature axis of a 4×6 prediction
    assert "6, an input dimension" in text and "batch size" not in text


# -- activation derivatives ---------------------------------------------------------------------
@pytest.mark.parametrize("layer,factor", [("relu", "1[u > 0]"), ("sigmoid", "σ(u)(1 − σ(u))")])
def test_left_out_activation_derivative(layer, factor):
    text = _diagnoses(layer, "no-derivative")["x"]
    assert "without the factor" in text and factor in text and "left out" in text and "the parameter `x`" in text


@pytest.mark.parametrize(
    "layer,bug,factor", [("softmax_ce", "softmax-jacobian-diagonal", "u(1 − u)"), ("bce", "extra-sigmoid-derivative", "σ(u)")]
)
def test_extra_activation_derivative(layer, bug, factor):
    text = _all(_diagnoses(layer, bug))
    assert "extra factor" in text and factor in text


@pytest.mark.parametrize(
    "layer,bug,wrong,right",
    [
        ("tanh", "derivative-at-input", "the parameter `x`", "tanh(the parameter `x`)"),
        ("sigmoid", "derivative-at-input", "the parameter `x`", "what _sigmoid returned"),
        ("softplus", "sigmoid-of-minus-x", "`x` in _sigmoid", "the parameter `x`"),  # σ(−x) for σ(x)
    ],
)
def test_derivative_at_the_wrong_tensor(layer, bug, wrong, right):
    text = _diagnoses(layer, bug)["x"]
    assert f"evaluated at u = {wrong} where the true gradient has it at u = {right}" in text


@pytest.mark.parametrize("layer,bug", [("rnn", "off-by-one-step"), ("batchnorm", "dropped-mean-term")])
def test_no_activation_claim_where_none_fits(layer, bug):
    text = _all(_diagnoses(layer, bug))
    assert "without the factor" not in text and "extra factor" not in text and "evaluated at u" not in text


def test_a_dense_random_error_names_no_activation():
    case = build("tanh", "small", "float64", 0)
    noise = np.random.default_rng(3).normal(size=case.params["x"].shape)

    def grad(p):
        return {"x": case.grad(p)["x"] + 0.3 * noise}

    text = check_gradient(case.loss, grad, case.params)["x"].diagnosis
    assert "factor" not in text and "evaluated at" not in text and "no simple transform" in text


# -- where the wrong entries are ---------------------------------------------------------------------
@pytest.mark.parametrize("layer,bug,size", [("maxpool", "zero-padded-argmax", "small"), ("avgpool", "padding-counted", "large")])
def test_border_of_a_spatial_tensor(layer, bug, size):
    text = _diagnoses(layer, bug, size)["x"]
    assert "border of the spatial dimensions" in text and "top" in text and "left" in text


def test_one_interior_entry_is_not_a_border():
    case = build("conv2d", "small", "float64", 0)

    def grad(p):
        g = case.grad(p)
        g["x"] = g["x"].copy()
        g["x"][0, 1, 3, 3] += 0.5
        return g

    text = check_gradient(case.loss, grad, case.params)["x"].diagnosis
    assert "border" not in text and "confined to 1 of 294 entries" in text


def test_border_entries_of_a_matrix_are_not_a_spatial_border():
    case = build("linear", "large", "float64", 0)  # x is 16×20: two axes, not a spatial tensor

    def grad(p):
        g = case.grad(p)
        g["x"] = g["x"].copy()
        g["x"][0, :] += 1.0
        return g

    assert "border" not in check_gradient(case.loss, grad, case.params)["x"].diagnosis


@pytest.mark.parametrize("size", ["small", "large"])
def test_repeated_indices(size):
    text = _diagnoses("embedding", "fancy-index-scatter", size)["E"]
    assert "indexed more than once by `C['ids']`" in text and "np.add.at" in text


def test_a_wrong_row_indexed_once_is_not_a_scatter_bug():
    case = build("embedding", "small", "float64", 0)
    ids = case.consts["ids"]
    once = int(np.flatnonzero(np.bincount(ids, minlength=6) == 1)[0])

    def grad(p):
        g = case.grad(p)
        g["E"] = g["E"].copy()
        g["E"][once] *= 1.5
        return g

    text = check_gradient(case.loss, grad, case.params)["E"].diagnosis
    assert "indexed more than once" not in text


def test_sign_region():
    assert "entries where `x` < 0" in _diagnoses("leaky_relu", "relu-derivative", "large")["x"]


def test_entries_of_mixed_sign_are_no_sign_region():
    case = build("leaky_relu", "large", "float64", 0)
    x = case.params["x"]
    pick = (np.arange(x.size) % 7 == 0).reshape(x.shape)  # every 7th entry, whatever its sign

    def grad(p):
        g = case.grad(p)["x"].copy()
        g[pick] *= 1.3
        return {"x": g}

    assert "< 0" not in check_gradient(case.loss, grad, case.params)["x"].diagnosis


# -- the right gradient held, and what is known otherwise ----------------------------------------------
def test_right_gradient_held_but_not_returned():
    case = build("mlp", "small", "float64", 0)

    def grad(p):
        g = case.grad(p)
        return {**g, "W1": g["W1"] + 0.01}

    text = check_gradient(case.loss, grad, case.params)["W1"].diagnosis
    assert "held the right gradient" in text


def test_a_wrong_gradient_computed_from_scratch_is_not_said_to_be_held():
    assert "held the right gradient" not in _all(_diagnoses("mlp", "no-tanh-derivative"))


def test_what_is_known_without_a_cause():
    text = _diagnoses("layernorm", "dropped-eps")["x"]
    assert "no simple transform" in text and "× the tolerance" in text and "of the gradient's norm" in text
    assert "missing" not in text and "ε" in text  # small: a constant, not a missing term


def test_rounding_level_is_called_that_and_never_a_missing_term():
    from gradproof.verify.directional import Directions

    dirs = Directions(step=0.1)
    dirs.fd[:] = [1.0, -2.0, 0.5]
    for rel, word in ((1e-15, "level of rounding"), (1e-5, "small"), (0.3, "missing or extra term")):
        user = np.array(dirs.fd) * (1 + rel)
        text = _unexplained(np.zeros(3), user, np.array(dirs.fd), None, Context(error=rel, tolerance=rel / 10))
        assert word in text
        if rel < 1e-3:
            assert "missing" not in text.replace("not a missing term", "")


# -- the pattern tests on their own --------------------------------------------------------------------
def _entries(shape, index, bad):
    from gradproof.verify.localize import Entries

    index = np.asarray(index)
    expected = np.zeros(len(index))
    got = np.where(np.asarray(bad), 1.0, 0.0)
    return Entries(index, expected, got, np.full(len(index), 0.1), complete=False)


def test_border_needs_interior_entries_that_agree():
    from gradproof.verify.patterns import MIN_CLEAN, border

    shape = (1, 1, 12, 12)
    edge = [np.ravel_multi_index((0, 0, 0, j), shape) for j in range(12)]
    inner = [np.ravel_multi_index((0, 0, 6, j), shape) for j in range(3, 3 + MIN_CLEAN)]
    assert border(shape, _entries(shape, edge + inner, [True] * 12 + [False] * MIN_CLEAN))
    assert border(shape, _entries(shape, edge + inner[:-1], [True] * 12 + [False] * (MIN_CLEAN - 1))) is None
    assert border(shape, _entries(shape, edge, [True] * 12)) is None


def test_border_is_a_narrow_band():
    from gradproof.verify.patterns import border

    shape = (1, 1, 20, 20)
    deep = [np.ravel_multi_index((0, 0, 4, j), shape) for j in range(5, 15)]  # 4 rows in: not a border
    inner = [np.ravel_multi_index((0, 0, 10, j), shape) for j in range(5, 15)]
    assert border(shape, _entries(shape, deep + inner, [True] * 10 + [False] * 10)) is None
    rim = [np.ravel_multi_index((0, 0, 1, j), shape) for j in range(5, 15)]  # 1 row in: within 2 of the edge
    assert "within 2 of the top edge" in border(shape, _entries(shape, rim + inner, [True] * 10 + [False] * 10))

"""gradproof.strategies: every draw keeps the guarantee its docstring states, the extreme values are
actually drawn, and a stable softmax survives them while a naive one does not."""

from __future__ import annotations

import doctest
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import NoSuchExample
from hypothesis import strategies as st

import gradproof
from gradproof import strategies as gs
from gradproof.errors import InputError

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
#: searches for an example: deterministic, so a test never passes or fails by luck
FIND = settings(database=None, max_examples=500, derandomize=True)
EPS = np.finfo(np.float64).eps
SHAPES = st.one_of(st.integers(1, 6), st.tuples(st.integers(1, 5), st.integers(1, 7)),
                   st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 4)))


def _float64_array(x, shape):
    assert isinstance(x, np.ndarray)
    assert x.dtype == np.float64
    assert x.shape == shape
    assert np.all(np.isfinite(x))


def _stable_log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


@SETTINGS
@given(st.data(), SHAPES, st.booleans())
def test_logits_are_finite_float64_within_their_bound(data, shape, extreme):
    z = data.draw(gs.logits(shape, extreme=extreme))
    dims = (shape,) if isinstance(shape, int) else shape
    _float64_array(z, dims)
    bound = gs.LOGIT_BOUND if extreme else gs.MODERATE_LOGIT_BOUND
    assert np.max(np.abs(z)) <= bound
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is legal
        logp = _stable_log_softmax(z)
        assert np.all(np.isfinite(logp))
        np.testing.assert_allclose(np.exp(logp).sum(axis=-1), 1.0, rtol=0, atol=dims[-1] * 4 * EPS)


@pytest.mark.parametrize("extreme", [True, False])
def test_no_logit_exceeds_its_bound_however_hard_hypothesis_looks(extreme):
    bound = gs.LOGIT_BOUND if extreme else gs.MODERATE_LOGIT_BOUND
    with pytest.raises(NoSuchExample):
        find(gs.logits((2, 3), extreme=extreme), lambda z: np.abs(z).max() > bound,
             settings=settings(database=None, max_examples=400, derandomize=True))


def test_extreme_logits_break_a_naive_softmax_and_moderate_ones_do_not():
    def naive_breaks(z):
        with np.errstate(all="ignore"):
            e = np.exp(z)
            s = e / e.sum(axis=-1, keepdims=True)
        return not np.all(np.isfinite(s))

    # extreme draws reach the overflow range of exp (and a large common offset per row)
    z = find(gs.logits((3, 4)), naive_breaks, settings=FIND)
    assert np.max(np.abs(z)) > 700
    with pytest.raises(NoSuchExample):
        find(gs.logits((3, 4), extreme=False), naive_breaks, settings=FIND)


def test_extreme_logits_include_offsets_ties_and_one_hot_softmaxes():
    settings_ = FIND
    offset = find(gs.logits((2, 5)), lambda z: np.all(z.min(axis=1) > 100), settings=settings_)
    assert np.all(offset > 100)
    one_hot = find(gs.logits((2, 5)), lambda z: np.all(np.exp(_stable_log_softmax(z)).max(axis=1) == 1.0),
                   settings=settings_)
    assert np.all(np.exp(_stable_log_softmax(one_hot)).max(axis=1) == 1.0)
    tie = find(gs.logits(4), lambda z: len(set(z.tolist())) < 4, settings=settings_)
    assert len(set(tie.tolist())) < 4


@SETTINGS
@given(st.data(), st.integers(1, 40))
def test_probability_vectors_are_positive_and_sum_to_one(data, n):
    p = data.draw(gs.probability_vectors(n))
    _float64_array(p, (n,))
    assert np.all(p > 0) and np.all(p <= 1)
    assert p.min() >= 1e-100 / n
    assert abs(p.sum() - 1.0) <= n * 2.0**-52
    assert np.all(np.isfinite(np.log(p)))


def test_probability_vectors_reach_tiny_entries_and_near_one_hot():
    settings_ = FIND
    tiny = find(gs.probability_vectors(5), lambda p: p.min() < 1e-90, settings=settings_)
    assert tiny.min() < 1e-90 and tiny.min() > 0
    assert find(gs.probability_vectors(5), lambda p: p.max() > 1 - 1e-12, settings=settings_).max() > 1 - 1e-12


@SETTINGS
@given(st.data(), st.integers(1, 8), st.integers(1, 9))
def test_one_hot_labels_have_exactly_one_one_per_row(data, batch, classes):
    y = data.draw(gs.one_hot_labels(batch, classes))
    _float64_array(y, (batch, classes))
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert np.all(y.sum(axis=1) == 1.0)
    assert np.all((y == 1.0).sum(axis=1) == 1)


def test_one_hot_labels_reach_every_class():
    seen = set()
    for c in range(4):
        y = find(gs.one_hot_labels(3, 4), lambda y, c=c: y[0, c] == 1.0, settings=FIND)
        seen.add(int(np.argmax(y[0])))
    assert seen == {0, 1, 2, 3}


@SETTINGS
@given(st.data(), st.integers(1, 8), st.integers(1, 9))
def test_soft_labels_are_rows_of_probabilities(data, batch, classes):
    y = data.draw(gs.soft_labels(batch, classes))
    _float64_array(y, (batch, classes))
    assert np.all(y >= 0) and np.all(y <= 1)
    assert np.all(np.abs(y.sum(axis=1) - 1.0) <= classes * 2.0**-52)


def test_soft_labels_include_exact_one_hot_smoothed_and_tiny_rows():
    settings_ = FIND
    assert find(gs.soft_labels(2, 4), lambda y: np.all(y.max(axis=1) == 1.0), settings=settings_).min() == 0.0
    smoothed = find(gs.soft_labels(2, 4), lambda y: 0.5 < y.max() < 0.9 and y.min() > 0.01, settings=settings_)
    assert 0.5 < smoothed.max() < 0.9
    assert find(gs.soft_labels(2, 4), lambda y: 0 < y.min() < 1e-90, settings=settings_).min() > 0
    # not only smoothed one-hots (whose other entries are all equal): rows of any shape
    general = find(gs.soft_labels(1, 4), lambda y: len(set(y[0].tolist())) == 4, settings=settings_)
    assert len(set(general[0].tolist())) == 4


@SETTINGS
@given(st.data(), st.integers(1, 7), st.integers(1, 7), st.sampled_from([1.5, 10.0, 1e3, 1e8]))
def test_weight_matrices_respect_the_condition_bound(data, rows, cols, max_condition):
    w = data.draw(gs.weight_matrices(rows, cols, max_condition=max_condition))
    _float64_array(w, (rows, cols))
    assert np.linalg.cond(w) <= max_condition
    top = np.linalg.svd(w, compute_uv=False).max()
    assert 1e-3 * (1 - 1e-12) <= top <= 1e3 * (1 + 1e-12)


def test_weight_matrices_use_the_condition_range():
    """The bound is approached, not just respected by drawing orthogonal matrices."""
    w = find(gs.weight_matrices(4, 3), lambda w: np.linalg.cond(w) > 500, settings=FIND)
    assert 500 < np.linalg.cond(w) <= 1e3


def test_weight_matrices_default_bound_is_1e3():
    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(gs.weight_matrices(5, 5))
    def check(w):
        assert np.linalg.cond(w) <= 1e3

    check()


@pytest.mark.parametrize(
    "call",
    [
        lambda: gs.logits(0),
        lambda: gs.logits(()),
        lambda: gs.logits((3, -1)),
        lambda: gs.logits("3"),
        lambda: gs.logits(2.5),
        lambda: gs.probability_vectors(0),
        lambda: gs.probability_vectors(True),
        lambda: gs.one_hot_labels(2, 0),
        lambda: gs.soft_labels(0, 3),
        lambda: gs.weight_matrices(3, 3, max_condition=1.0),
        lambda: gs.weight_matrices(3, 3, max_condition=float("inf")),
        lambda: gs.weight_matrices(3, 3, max_condition=float("nan")),
        lambda: gs.weight_matrices(3, 3, max_condition="big"),
        lambda: gs.weight_matrices(0, 3),
    ],
    ids=["logits-0", "logits-empty", "logits-negative", "logits-str", "logits-float", "prob-0", "prob-bool",
         "onehot-0", "soft-0", "cond-1", "cond-inf", "cond-nan", "cond-str", "weights-0"],
)
def test_bad_arguments_are_input_errors(call):
    with pytest.raises(InputError):
        call()


# --- the strategies in use: assert_gradient under @given ----------------------------------------

def _softmax_ce(y):
    def loss(z):
        return -np.sum(y * _stable_log_softmax(z)) / len(y)

    def grad(z):
        return (np.exp(_stable_log_softmax(z)) - y) / len(y)

    return loss, grad


#: gradients below this are not judged (see test_a_loss_flat_in_float64_is_not_failed_and_says_so)
FLOOR = 1e-12


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(gs.logits((4, 3)), gs.soft_labels(4, 3))
def test_correct_softmax_cross_entropy_passes_on_extreme_logits(z, y):
    loss, grad = _softmax_ce(y)
    gradproof.assert_gradient(loss, grad, z, floor_atol=FLOOR)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(gs.logits((4, 3)), gs.one_hot_labels(4, 3))
def test_a_wrong_softmax_cross_entropy_fails_wherever_its_error_is_visible(z, y):
    loss, grad = _softmax_ce(y)
    wrong = lambda z: grad(z) + y / len(y)  # noqa: E731 - forgot the "- y": softmax only
    assert not gradproof.check_gradient(loss, wrong, z, floor_atol=FLOOR).ok


def test_a_loss_flat_in_float64_is_not_failed_and_says_so():
    z = np.array([[250.0, 0.0, 0.0]] * 4)  # the correct class dominates: the loss rounds to 0
    y = np.eye(3)[[0, 0, 0, 0]]
    loss, grad = _softmax_ce(y)
    assert loss(z) == 0.0 and 0 < np.abs(grad(z)).max() < 1e-100
    # the noise probe hears no change at all, however far it reaches: the loss's rounding there is
    # unknown, so a true gradient of 1e-109 is not reported FAILED, and the report says what was assumed
    result = gradproof.check_gradient(loss, grad, z)
    assert result.ok, str(result)
    assert result.parameters[0].silent > 0 and "exactly the same value" in str(result)
    # a gradient that would move the loss far beyond float64's rounding of it and the input still fails
    assert not gradproof.check_gradient(loss, lambda z: grad(z) + 1e-3, z).ok


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(gs.weight_matrices(3, 4), gs.logits((5, 3), extreme=False), gs.one_hot_labels(5, 4))
# inputs of 1e-178 make a gradient of 1e-178 beside a loss of ~1.4: no finite difference resolves it,
# and assert_gradient says so (CoarseCheckWarning)
@pytest.mark.filterwarnings("ignore::gradproof.CoarseCheckWarning")
def test_a_linear_layer_gradient_is_checked_on_conditioned_weights(w, x, y):
    def loss(w):
        return -np.sum(y * _stable_log_softmax(x @ w)) / len(y)

    def grad(w):
        return x.T @ (np.exp(_stable_log_softmax(x @ w)) - y) / len(y)

    gradproof.assert_gradient(loss, grad, w)
    assert not gradproof.check_gradient(loss, lambda w: 2 * grad(w), w).ok or np.allclose(grad(w), 0)


def test_module_doctest():
    assert doctest.testmod(gs).failed == 0


def test_without_hypothesis_the_import_error_says_how_to_install_it():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import gradproof\n"
        "try:\n"
        "    import gradproof.strategies\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ERR" in out and "pip install 'gradproof[hypothesis]'" in out


def test_import_gradproof_does_not_import_hypothesis():
    code = "import sys, gradproof; gradproof.check_gradient; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_readme_example_runs():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Property-based tests: `gradproof.strategies`"):]
    code = section[section.index("```python\n") + 10: section.index("```\n", section.index("```python"))]
    previous = settings.default  # the example's own @settings inherit the profile loaded now
    settings.register_profile("gradproof-readme", settings(previous, derandomize=True, database=None))
    settings.load_profile("gradproof-readme")
    try:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
        namespace["test_softmax_cross_entropy_gradient"]()  # hypothesis runs its examples, not by luck
    finally:
        settings.register_profile("gradproof-previous", previous)
        settings.load_profile("gradproof-previous")

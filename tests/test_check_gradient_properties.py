"""Property-based tests of the numeric core: random shapes, extreme but legal values."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradproof import strategies as gs
from gradproof.verify.check import check_gradient

SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def softmax_problems(draw):
    """Logits of any spread up to ±1000 (offsets, ties, one dominant class) and one-hot labels,
    from gradproof.strategies."""
    b = draw(st.integers(1, 12))
    c = draw(st.integers(2, 12))
    return draw(gs.logits((b, c))), draw(gs.one_hot_labels(b, c))


def _softmax_ce(y):
    def loss(z):
        m = z.max(axis=1, keepdims=True)
        logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        return -np.sum(y * logp) / len(y)

    def grad(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True) - y) / len(y)

    return loss, grad


@SETTINGS
@given(softmax_problems())
def test_correct_softmax_ce_always_passes(problem):
    z, y = problem
    loss, grad = _softmax_ce(y)
    # floor: where a class dominates by hundreds the loss rounds to exactly 0 and the true gradient
    # is below 1e-100 (see tests/test_strategies.py::test_a_loss_flat_in_float64_is_judged_too_strictly)
    result = check_gradient(loss, grad, z, floor_atol=1e-12)
    assert result.ok, str(result)


@st.composite
def mislabelled_softmax_problems(draw):
    """Like softmax_problems, but each row's label is not its most likely class, so s_y ≤ 1/2
    and the gradient has an entry of at least 1/(2b): a sign flip is always visible (no draw
    is skipped for having a near-zero gradient)."""
    z, _ = draw(softmax_problems())
    b, c = z.shape
    shift = draw(st.lists(st.integers(1, c - 1), min_size=b, max_size=b))
    labels = (np.argmax(z, axis=1) + np.array(shift)) % c
    return z, np.eye(c)[labels]


@SETTINGS
@given(mislabelled_softmax_problems())
def test_sign_flipped_softmax_ce_always_fails(problem):
    z, y = problem
    loss, grad = _softmax_ce(y)
    assert np.max(np.abs(grad(z))) >= 0.5 / len(z) - 1e-12  # guaranteed by the draw, not skipped
    result = check_gradient(loss, lambda zz: -grad(zz), z)
    assert not result.ok


@st.composite
def quadratic_problems(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * scale
    a = rng.uniform(0.5, 2.0, size=shape)
    return x, a


@SETTINGS
@given(quadratic_problems(), st.booleans())
def test_weighted_quartic_and_sign_flip(problem, flip):
    x, a = problem
    loss = lambda v: float(np.sum(a * v**2 + 0.1 * a * v**4))  # noqa: E731
    grad = lambda v: (2 * a * v + 0.4 * a * v**3) * (-1 if flip else 1)  # noqa: E731
    assert check_gradient(loss, grad, x).ok is (not flip)


@SETTINGS
@given(quadratic_problems())
def test_float32_parameters_and_float32_code_pass(problem):
    x, a = problem
    x32, a32 = x.astype(np.float32), a.astype(np.float32)
    loss = lambda v: np.sum(a32 * np.asarray(v, np.float32) ** 2)  # noqa: E731
    grad = lambda v: 2 * a32 * np.asarray(v, np.float32)  # noqa: E731
    result = check_gradient(loss, grad, x32)
    assert result.ok, str(result)

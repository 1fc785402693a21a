"""Property tests for the finite-difference core: estimates within their own error bound."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradproof.verify import finite_diff

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 6), elements=finite))
def test_softmax_jacobian_within_error_estimate(z):
    fd = finite_diff.jacobian(softmax, z)
    s = softmax(z)
    exact = np.diag(s) - np.outer(s, s)
    assert np.all(np.abs(fd.value - exact) <= 10 * fd.error + 1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 5), elements=st.floats(-3, 3)), st.floats(0.5, 3))
def test_smooth_scalar_function(x, a):
    def f(v):
        return np.sum(np.sin(a * v) * v**2)

    fd = finite_diff.jacobian(f, x)
    exact = 2 * x * np.sin(a * x) + a * x**2 * np.cos(a * x)
    assert np.all(np.abs(fd.value - exact) <= 10 * fd.error + 1e-12)
    assert np.max(np.abs(fd.value - exact)) < 1e-7


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(2, 5), elements=finite))
def test_wrong_derivative_exceeds_error_estimate(z):
    fd = finite_diff.jacobian(lambda v: np.sum(v**3) / 3.0, z)
    exact = z**2
    wrong = -exact  # a flipped sign must stand out wherever the gradient is not tiny
    big = np.abs(exact) > 1e-3
    # rounding in intermediate terms (16³ - 16³) is not visible in |f|: judge as verify does, with a
    # floor relative to the gradient's scale
    floor = 1e-9 * max(1.0, np.max(np.abs(exact)))
    assert np.all(np.abs(fd.value - exact) <= 10 * fd.error + floor)
    assert np.all((np.abs(fd.value - wrong) > 10 * fd.error + floor)[big])


def test_does_not_mutate_input():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    finite_diff.jacobian(lambda v: v * 2, x)
    np.testing.assert_array_equal(x, before)

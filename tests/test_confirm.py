"""The confirmation stage: stated false-alarm probability, kink exclusion, power, and its quantiles.

Synthetic functions carry *controlled* rounding-like noise: a deterministic pseudo-random value per
distinct point (like rounding, the same point always gives the same value), of known σ.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradproof.verify.confirm import (
    ALPHA,
    CENTRAL_NOISE,
    JUMP_NOISE,
    MARGIN,
    RUNGS,
    Remeasured,
    Stencil,
    confirm,
    judge,
    noise_line,
    remeasure,
)
from gradproof.verify.directional import Directions
from gradproof.verify.stats import betainc, t_quantile, t_two_sided_tail


# -- quantiles -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alpha,dof,expected",
    [(0.05, 1, 12.7062), (0.05, 10, 2.2281), (0.01, 20, 2.8453), (1e-3, 10, 4.5869), (0.05, math.inf, 1.95996)],
)
def test_t_quantile_matches_tables(alpha, dof, expected):
    assert t_quantile(alpha, dof) == pytest.approx(expected, rel=1e-4)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.floats(1e-9, 0.5), st.integers(1, 200))
def test_t_quantile_inverts_the_tail(alpha, dof):
    assert t_two_sided_tail(t_quantile(alpha, dof), dof) == pytest.approx(alpha, rel=1e-6)


def test_t_quantile_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for alpha in (0.3, 1e-2, 1e-4, 1e-6 / 15, 1e-9):
        for dof in (1, 3, 8, 20, 57):
            assert t_quantile(alpha, dof) == pytest.approx(stats.t.isf(alpha / 2, dof), rel=1e-8)


def test_betainc_edges_and_symmetry():
    assert betainc(2.0, 3.0, 0.0) == 0.0 and betainc(2.0, 3.0, 1.0) == 1.0
    assert betainc(2.5, 1.5, 0.3) == pytest.approx(1.0 - betainc(1.5, 2.5, 0.7), rel=1e-12)


def test_t_quantile_rejects_bad_alpha():
    with pytest.raises(ValueError):
        t_quantile(0.0, 5)


# -- synthetic functions with controlled noise ---------------------------------------------------
def _noise(x: np.ndarray, sigma: float, salt: int) -> float:
    digest = hashlib.blake2b(x.tobytes() + salt.to_bytes(8, "little"), digest_size=8).digest()
    return sigma * float(np.random.default_rng(int.from_bytes(digest, "little")).standard_normal())


def _smooth(sigma: float, salt: int = 0):
    a = np.array([0.7, -1.3, 0.4, 2.0])

    def f(x):
        return float(np.sum(np.sin(a * x)) + 0.3 * np.sum(x**2)) + _noise(x, sigma, salt)

    def grad(x):
        return a * np.cos(a * x) + 0.6 * x

    return f, grad


def _run(f, g, x, v, h, sigma, target=None):
    f0 = f(x)
    quantile = t_quantile(ALPHA / 5, 20)
    return remeasure(
        f, lambda z: z, x, g, v, f0, h, sigma=sigma, quantile=quantile,
        extra=lambda step: 0.0, target=target if target is not None else 1.0,
    )


X0 = np.array([0.3, -0.2, 1.1, 0.5])


def test_noise_line_measures_the_noise_it_is_given():
    estimates = []
    for salt in range(30):
        f, grad = _smooth(1e-6, salt)
        fit = noise_line(f, lambda z: z, X0, grad(X0), f(X0), 1e-4, np.random.default_rng(salt))
        assert fit.dof == 20
        estimates.append(fit.sigma)
    assert 0.8e-6 < float(np.median(estimates)) < 1.25e-6


def test_correct_gradient_is_never_confirmed_under_noise():
    sigma = 1e-7
    strengths = []
    for salt in range(300):
        f, grad = _smooth(sigma, salt)
        v = np.random.default_rng(salt).standard_normal(4)
        _, strength, _ = _run(f, grad(X0), X0, v, 0.05, sigma)
        strengths.append(strength)
    assert 0.0 < max(strengths) < 1.0 / MARGIN  # far from confirming: the bound is set at ALPHA


def test_the_stated_probability_sets_the_quantile():
    """ALPHA = 1e-6 per parameter, split over the directions and the tests on each (README)."""
    f, grad = _smooth(1e-8)
    g = grad(X0) * 1.1
    screen = Directions(step=0.05)
    for k in range(3):
        v = np.random.default_rng(k).standard_normal(4)
        screen.vectors.append(v)
        screen.user.append(float(v @ g))
        screen.residual.append(1.0)
        screen.tolerance.append(0.1)
        screen.ok.append(False)
        screen.steps.append(0.05)
        screen.scale.append(1.0)
        screen.resolution.append(1.0)
    conf = confirm(
        f, lambda z: z, X0, g, f(X0), [screen, None], grad_eps=2.2e-16, step_eps=0.0, sigma_floor=0.0,
        tau=1e-6, rng=np.random.default_rng(0),
    )
    assert ALPHA == 1e-6
    assert conf.quantile == pytest.approx(t_quantile(1e-6 / (3 * (RUNGS + 1)), conf.noise.dof))
    assert conf.confirmed and all(d.confirmed for d in conf.directions)


def _stencil(central, trunc=0.0, jump=0.0, change=0.0, h=0.1):
    return Stencil(h, central, trunc, jump, change)


def test_judge_needs_the_margin_over_the_bound():
    assert MARGIN == 2.0  # as the README states
    sigma, quantile, h = 1e-6, 5.0, 0.1
    noise = quantile * CENTRAL_NOISE * sigma / h
    jump_noise = quantile * JUMP_NOISE * sigma / h
    kink_part = noise + 0.5 * MARGIN * jump_noise  # threshold from the (noise-only) jump bound
    for factor in (0.9, 1.1):
        at = factor * max(MARGIN * noise, kink_part)
        assert (judge([_stencil(at, h=h)], sigma, quantile, 0.0).strength > 1.0) is (factor > 1.0)
    # truncation counts twice in B
    big = judge([_stencil(1.0, trunc=0.3, h=h)], sigma, quantile, 0.0)
    assert big.bound == pytest.approx(noise + 0.6) and big.threshold >= MARGIN * (noise + 0.6)


def test_judge_a_slope_jump_can_explain_the_residual():
    sigma, quantile, h = 1e-12, 5.0, 0.1
    # R = 0.5 with a measured slope jump of 1.0: a kink with the gradient on one side — not confirmed
    assert judge([_stencil(0.5, jump=1.0, h=h)], sigma, quantile, 0.0).strength < 1.0
    # the same residual with no jump is a wrong gradient
    assert judge([_stencil(0.5, jump=0.0, h=h)], sigma, quantile, 0.0).strength > 1.0
    # an off-centre kink (jump changing with the step) counts too
    assert judge([_stencil(0.5, jump=0.0, change=0.5, h=h)], sigma, quantile, 0.0).strength < 1.0


def test_confirmed_means_strength_above_one():
    verdict = judge([_stencil(1e-3)], 1e-9, 5.0, 0.0)
    for strength, confirmed in ((0.8, False), (1.2, True)):
        assert Remeasured(0, verdict, strength, "", 1.0, 1.0, 0).confirmed is confirmed


def test_judge_averaging_divides_the_noise():
    sigma, quantile, h = 1e-6, 5.0, 0.1
    one = judge([_stencil(1e-4, h=h)], sigma, quantile, 0.0)
    nine = judge([_stencil(1e-4, h=h)] * 9, sigma, quantile, 0.0)
    assert nine.noise == pytest.approx(one.noise / 3)


@pytest.mark.parametrize("rel", [1e-2, 1e-3])
def test_wrong_gradient_is_confirmed(rel):
    sigma = 1e-9
    f, grad = _smooth(sigma)
    v = np.random.default_rng(1).standard_normal(4)
    g = grad(X0) * (1 + rel)
    target = abs(float(np.vdot(g - grad(X0), v)))
    _, strength, _ = _run(f, g, X0, v, 0.05, sigma, target)
    assert strength > 1.0


def test_error_within_the_bound_is_not_confirmed_but_far_beyond_it_is():
    sigma = 1e-6
    f, grad = _smooth(sigma)
    v = np.array([1.0, 0.0, 0.0, 0.0])
    quantile = t_quantile(ALPHA / 5, 20)
    h = 0.01
    noise_bound = quantile * 3.8 * sigma / h
    for factor, confirmed in ((1.5, False), (50.0, True)):
        g = grad(X0) + factor * noise_bound * v
        _, strength, _ = _run(f, g, X0, v, h, sigma, factor * noise_bound)
        assert (strength > 1.0) is confirmed, factor


@pytest.mark.parametrize("side", ["right", "left", "between"])
def test_a_kink_exactly_at_the_point_is_never_a_confirmed_failure(side):
    """|x| along v with the gradient one of the one-sided slopes (or between): noise-free, so only
    the kink test can keep it from being confirmed."""
    a = np.array([1.0, 2.0, -1.0])

    def f(x):
        return float(abs(x[0]) + np.dot(a[1:], x[1:]))

    x = np.array([0.0, 0.3, 0.4])
    slope = {"right": 1.0, "left": -1.0, "between": 0.25}[side]
    g = np.array([slope, 2.0, -1.0])
    v = np.array([1.0, 0.5, -0.25])
    _, strength, kink = _run(f, g, x, v, 0.1, 1e-16, target=1.0)
    assert strength <= 1.0 and kink == "near"


def test_a_kink_near_the_point_with_a_wrong_gradient_is_confirmed_on_a_shorter_step():
    def f(x):
        return float(abs(x[0] - 0.02) + x[1] ** 2)

    x = np.array([0.0, 0.5])
    true = np.array([-1.0, 1.0])
    g = true + np.array([0.0, 0.3])  # wrong in the smooth coordinate
    v = np.array([1.0, 1.0])
    _, strength, _ = _run(f, g, x, v, 0.2, 1e-16, target=0.3)
    assert strength > 1.0


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(-0.3, 0.3), st.floats(0.5, 3.0), st.sampled_from([1.0, -1.0]))
def test_relu_kinks_with_a_correct_one_sided_gradient_are_not_confirmed(offset, jump, sign):
    """max(0, jump·(x − offset)) + smooth: at any distance from the kink, a correct gradient passes."""

    def f(x):
        return float(max(0.0, jump * sign * (x[0] - offset)) + 0.5 * x[1] ** 2)

    x = np.array([0.0, 0.7])
    active = sign * (x[0] - offset) > 0
    g = np.array([jump * sign if active else 0.0, 0.7])
    v = np.array([0.8, -0.6])
    _, strength, _ = _run(f, g, x, v, 0.5, 1e-15, target=1.0)
    assert strength <= 1.0


# -- end to end on corpus layers that once cried wolf or hid a bug ----------------------------------
@pytest.mark.parametrize(
    "layer,size,dtype,seed",
    [
        ("huber", "large", "float32", 0),  # C¹ corners under float32's long steps (15 of 40 false alarms before)
        ("huber", "small", "float32", 12),
        ("relu", "large", "float32", 5),  # kinks everywhere within a float32 step
        ("leaky_relu", "large", "float32", 8),
        ("rnn", "large", "float64", 4),  # float64 rounding underestimated by one probe
        ("linear", "small", "float64", 8),
        ("batchnorm", "large", "float64", 29),
        ("attention", "large", "float64", 0),
    ],
)
def test_former_false_alarms_pass(layer, size, dtype, seed):
    from gradproof.verify.check import check_gradient
    from tests.corpus import build

    case = build(layer, size, dtype, seed)
    result = check_gradient(case.loss, case.grad, case.params, seed=seed)
    assert result.ok, str(result)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_border_bug_behind_float32_kinks_is_caught(seed):
    """max-pool's backward reading a zero-padded input: hidden by kink leniency before (a 13 % error)."""
    from gradproof.verify.check import check_gradient
    from tests.corpus import build

    case = build("maxpool", "large", "float32", seed, "zero-padded-argmax")
    result = check_gradient(case.loss, case.grad, case.params, seed=seed)
    assert not result.ok and result["x"].confirmed


@pytest.mark.parametrize("salt", range(4))
def test_averaged_repeats_confirm_an_error_that_one_stencil_leaves_in_the_noise(salt):
    """An error at 0.7 of one stencil's threshold: no rung confirms it alone (shorter steps only
    add noise), the average of 9 stencils (noise / 3) does."""
    sigma, h, quantile = 1e-6, 0.01, t_quantile(ALPHA / 5, 20)
    f, grad = _smooth(sigma, salt)
    v = np.array([1.0, 0.0, 0.0, 0.0])
    one = judge([Stencil.from_residuals(_residuals(f, grad(X0), X0, v, h), h)], sigma, quantile, 0.0)
    error = 0.7 * one.threshold
    g = grad(X0) + error * v
    first = judge([Stencil.from_residuals(_residuals(f, g, X0, v, h), h)], sigma, quantile, 0.0)
    assert first.strength < 1.0  # one stencil does not confirm it
    verdict, strength, _ = _run(f, g, X0, v, h, sigma, error)
    assert strength > 1.0
    assert abs(verdict.residual) > verdict.threshold  # the verdict reported is the one that confirmed


def _residuals(f, g, x, v, h):
    f0 = f(x)
    return {s: f(x + s * v) - f0 - float(np.vdot(g, s * v)) for s in (h, h / 2, h / 4, -h, -h / 2, -h / 4)}


def test_the_noise_constants_are_the_stencils_rounding_std():
    """CENTRAL_NOISE and JUMP_NOISE are the std, in units of σ/h, of the central and jump estimates
    when every evaluation of f carries independent noise of std σ (Monte Carlo, 4000 stencils; the
    residuals share f(x)'s noise, which cancels from the central difference but not from the jump)."""
    rng = np.random.default_rng(0)
    h, sigma = 0.1, 1.0
    steps = (h, h / 2, h / 4, -h, -h / 2, -h / 4)
    stencils = []
    for _ in range(4000):
        e = rng.standard_normal(7) * sigma  # the noise of f at the six points and at x itself (e[6])
        stencils.append(Stencil.from_residuals(dict(zip(steps, e[:6] - e[6])), h))  # r(s) = f(x+sv) − f(x) − …
    central = np.std([st.central for st in stencils]) * h / sigma
    jump = np.std([st.jump for st in stencils]) * h / sigma
    assert central == pytest.approx(CENTRAL_NOISE, rel=0.05)
    assert jump == pytest.approx(JUMP_NOISE, rel=0.05)

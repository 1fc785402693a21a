"""The noise model never cries wolf on a loss it could not hear, and never mistakes noise for a kink.

Two defects of the noise probe (:func:`~gradproof.verify.directional.measure_noise`):

* *a probe that heard nothing was trusted*: a float32 loss handed back as a Python float
  (``loss.item()``, ``float(np.float32(...))``) with large intermediates changes in steps of its
  float32 quantum, larger than anything the probe's 1e-6 step produces; the probe saw identical
  values, assumed float64 rounding, and a *correct* gradient was reported FAILED, "confirmed"
  (25 of 30 seeds with targets offset by 1e5).  Now a silent probe is widened until it hears the
  loss, values on the float32 grid are read as float32 results, and a loss that stays exactly
  constant is reported as such, with the rounding assumed for it.
* *one ratio of two fourth differences decided kink or noise*: white noise grew 2.5-fold between
  the probe's steps in a quarter of the probes, was read as a kink, its σ dropped to float64's,
  and a gradient 50 % wrong on a loss with 1e-4 deterministic noise passed 9 of 30 seeds.  Now
  four independent differences per step are compared by an F test at a stated false-positive rate
  (:func:`~gradproof.verify.hearing.grows_with_step`).

The 30-seed sweeps are in ``benchmarks/bench_noise_model.py`` (results in
benchmarks/RESULTS_calibration.md); these tests run the same losses over fewer seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradproof
from gradproof.verify.directional import measure_noise
from gradproof.verify.hearing import KINK_ALPHA, grows_with_step, lone_float32, result_grid
from gradproof.verify.stats import f_quantile
from tests import noise_losses as bench

SEEDS = range(12)
NO_FALSE_ALARM_SEEDS = range(30)  # seed 23 at 1e5 is a probe that never hears the loss change
OFFSETS = [1e3, 1e4, 1e5, 1e6]


# -- defect 1: float32 results as Python floats --------------------------------------------------
@pytest.mark.parametrize("offset", OFFSETS)
def test_correct_float32_loss_returned_as_python_float_is_never_failed(offset):
    for seed in NO_FALSE_ALARM_SEEDS:
        loss, grad, w = bench.float32_mse(offset, seed)
        assert type(loss(w)) is float
        result = gradproof.check_gradient(loss, grad, w, seed=seed)
        assert result.ok, f"seed {seed}: {result}"
        assert "float32 grid" in str(result)  # the report says how the loss's rounding was judged


@pytest.mark.parametrize("offset", OFFSETS)
def test_wrong_float32_loss_gradient_fails_or_the_report_says_it_cannot_be_resolved(offset):
    caught = 0
    for seed in SEEDS:
        loss, grad, w = bench.float32_mse(offset, seed)
        result = gradproof.check_gradient(loss, lambda w, g=grad: 1.5 * g(w), w, seed=seed)
        if result.ok:  # 50 % of the true gradient is a third of the returned one's norm
            assert result.parameters[0].resolution > 1 / 3, f"seed {seed}: {result}"
            assert "not resolvable" in str(result)
        caught += not result.ok
    if offset <= 1e4:  # where float32 resolves it, the error is caught
        assert caught == len(SEEDS)


@pytest.mark.parametrize("offset", OFFSETS)
def test_declared_float32_loss_that_the_first_probe_cannot_hear_is_not_called_silent(offset):
    # returned as np.float32: its grid is declared; a probe widened until it hears one quantum
    # heard the loss's own grid, not a loss that never changes
    for seed in range(6):
        loss, grad, w = bench.float32_mse(offset, seed)
        result = gradproof.check_gradient(lambda w, loss=loss: np.float32(loss(w)), grad, w, seed=seed)
        assert result.ok and result.parameters[0].silent == 0.0, f"seed {seed}: {result}"


def test_a_loss_exactly_constant_everywhere_is_silent_and_a_visible_slope_still_fails():
    x = np.array([-0.5, -0.3, -0.4])  # a ReLU sum, dead at every entry: exactly 0 all around
    loss = lambda x: float(np.sum(np.maximum(x, 0.0)))  # noqa: E731
    result = gradproof.check_gradient(loss, lambda x: 0.0 * x, x)
    assert result.ok and result.parameters[0].silent > 0
    assert "exactly the same value" in str(result)
    assert not gradproof.check_gradient(loss, lambda x: 0.0 * x + 1e-6, x).ok


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


@pytest.mark.parametrize("logit", [36.0, 37.0, 38.5, 40.0])
def test_a_cross_entropy_that_rounds_to_a_constant_is_not_failed(logit):
    # the correct class dominates: the loss is 0 or 4.4e-16 (1 + e^-36 rounded), and stays so over
    # every step the first probe takes; the widened probe hears it move by whole float64 steps of
    # the intermediate 1.0, far more than the loss's own grid: silent there, not float64-exact
    z = np.array([[logit, 0.0, 0.0]] * 4)
    y = np.eye(3)[[0, 0, 0, 0]]
    loss = lambda z: float(-np.sum(y * _log_softmax(z)) / len(y))  # noqa: E731
    grad = lambda z: (np.exp(_log_softmax(z)) - y) / len(y)  # noqa: E731
    assert loss(z) < 1e-15 and 0 < np.abs(grad(z)).max() < 2e-16
    result = gradproof.check_gradient(loss, grad, z)
    assert result.ok and result.parameters[0].silent > 0, str(result)
    assert not gradproof.check_gradient(loss, lambda z: grad(z) + 1e-3, z).ok


def test_result_grid():
    f32 = [float(np.float32(v)) for v in (1.2345678e10, 1.2345679e10, 3.3e10)]
    assert result_grid(f32) == ("float32", 2.0**-23)
    assert result_grid([0.1, 0.2, 0.3]) == ("float64", 2.0**-52)  # float64 results
    assert result_grid([float(np.float16(v)) for v in (0.1, 0.3)])[0] == "float16"
    assert result_grid([1.0, 0.0, 0.0])[0] == "float64"  # one distinct nonzero value is no evidence
    assert lone_float32(float(np.float32(1e10 / 3))) and not lone_float32(1.0) and not lone_float32(0.1)


@pytest.mark.parametrize("constant", [1000001.0, 4097.0, 16777215.0, 2.0e7])
def test_a_float64_loss_constant_at_a_round_float32_number_keeps_float64_rounding(constant):
    """A float64 loss never heard to change whose one value is a count (1,000,001; 4097; 2²⁴ − 1)
    lies on float32's grid too; it is not judged as a float32 result: a wrong gradient of it failed
    0/20 seeds before the grid detection and passed 20/20 with it (found by the attack)."""

    def loss(w):
        return constant + float(np.sum(np.maximum(w - 10.0, 0.0)))  # flat here: the true gradient is 0

    for seed in range(4):
        w = np.random.default_rng(seed).normal(size=5)
        assert not gradproof.check_gradient(loss, lambda w: np.full_like(w, 0.1), w, seed=seed).ok
        assert gradproof.check_gradient(loss, lambda w: np.zeros_like(w), w, seed=seed).ok


def test_a_lone_value_reads_as_float32_only_when_it_looks_like_one():
    assert lone_float32(float(np.float32(1e10 / 3))) and lone_float32(float(np.float32(0.1)))
    for value in (1.0, 0.1, 0.75, 4097.0, 1000001.0, 16777215.0, 2.0e7):
        assert not lone_float32(value), value


# -- defect 2: noise read as a kink ----------------------------------------------------------------
def test_growth_test_false_positive_rate_on_white_noise():
    rng = np.random.default_rng(0)
    trials = 20000
    noise = rng.standard_normal((trials, 2, 4))
    rate = np.mean([grows_with_step(list(a), list(b)) for a, b in noise])
    assert rate < 5 * KINK_ALPHA  # stated 1e-4; the single ratio |d₂| > 2.5|d₁| fires in 24 %
    assert np.mean(np.abs(noise[:, 1, 0]) > 2.5 * np.abs(noise[:, 0, 0])) > 0.2
    assert f_quantile(1e-3, 4, 4) == pytest.approx(53.4358, rel=1e-5)  # SciPy's stats.f.ppf


def test_growth_test_sees_a_kink_and_curvature():
    d = np.array([0.3, -1.0, 0.7, 2.0])
    assert grows_with_step(list(d), list(32 * d))  # a kink through the point: d4 ∝ step
    assert grows_with_step([0.0] * 4, [1e-9] * 4)
    assert not grows_with_step(list(d), list(d[::-1]))


@pytest.mark.parametrize("seed", range(30))
def test_the_probe_reads_white_noise_as_noise_and_a_kink_as_a_kink(seed):
    loss, _, w = bench.noisy_smooth(seed)
    noise = measure_noise(loss, lambda a: a, w, loss(w), 1.0, np.random.default_rng(seed), 2.0**-52)
    assert not noise.nonsmooth and noise.sigma > 1e-5  # uniform ±1e-4: σ ≈ 5.8e-5
    relu = lambda a: float(np.sum(np.maximum(a, 0.0) ** 1)) + float(np.sum(np.tanh(a)))  # noqa: E731
    x = np.zeros(4)  # every entry at ReLU's kink
    assert measure_noise(relu, lambda a: a, x, relu(x), 1.0, np.random.default_rng(seed), 2.0**-52).nonsmooth


def test_noisy_losses_correct_passes_wrong_fails():
    for seed in range(30):
        loss, grad, w = bench.noisy_smooth(seed)
        assert gradproof.check_gradient(loss, grad, w, seed=seed).ok, seed
        assert not gradproof.check_gradient(loss, lambda w, g=grad: 1.5 * g(w), w, seed=seed).ok, seed


def test_ten_percent_wrong_on_a_noisy_loss_fails_or_is_below_the_stated_resolution():
    caught = 0
    for seed in range(30):
        loss, grad, w = bench.noisy_smooth(seed)
        result = gradproof.check_gradient(loss, lambda w, g=grad: 1.1 * g(w), w, seed=seed)
        if result.ok:
            assert result.parameters[0].resolution > 0.09, f"seed {seed}: {result}"
        caught += not result.ok
    assert caught >= 29  # one seed (29) states a resolution of 2e-1 and passes


@pytest.mark.parametrize("level", [1e-4, 0.0], ids=["noisy", "exact"])
def test_kinked_losses_correct_passes_wrong_fails(level):
    for seed in range(30):
        loss, grad, w = bench.kinked(seed, level)
        assert gradproof.check_gradient(loss, grad, w, seed=seed).ok, seed
        assert not gradproof.check_gradient(loss, lambda w, g=grad: 1.5 * g(w), w, seed=seed).ok, seed


def test_a_silent_loss_undefined_farther_out_is_still_checked():
    # the widened probe may step where the loss is NaN or raises: it stops there, silent that far
    x = np.full(3, 0.1)

    def loss(x):
        if np.any(x < 0.05):
            raise ValueError("outside the domain")
        return 0.0

    result = gradproof.check_gradient(loss, lambda x: 0.0 * x, x)
    assert result.ok and 0 < result.parameters[0].silent < 0.1
    nan_far = lambda x: 0.0 if np.all(x > 0.05) else float("nan")  # noqa: E731
    assert gradproof.check_gradient(nan_far, lambda x: 0.0 * x, x).ok
    assert not gradproof.check_gradient(nan_far, lambda x: 0.0 * x + 1e-3, x).ok


def test_stats_and_hearing_doctests():
    import doctest

    import gradproof.verify.hearing as hearing
    import gradproof.verify.stats as stats

    assert doctest.testmod(stats).failed == 0
    assert doctest.testmod(hearing).failed == 0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=2, max_size=8))
def test_float32_values_are_read_as_float32_or_coarser(values):
    name, eps = result_grid(values)
    if len({v for v in values if v != 0.0}) >= 2:
        assert name in ("bfloat16", "float16", "float32") and eps >= 2.0**-23
    else:
        assert name == "float64"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(min_value=1e-30, max_value=1e30), min_size=2, max_size=8, unique=True))
def test_values_off_the_float32_grid_are_float64(values):
    off = [np.nextafter(float(np.float32(v)), np.inf) for v in values]  # one float64 ulp past a float32 number
    assert result_grid(off) == ("float64", 2.0**-52)


@pytest.mark.parametrize("offset", [1e4, 1e5])
def test_torch_float32_loss_item_is_read_on_its_grid(offset):
    # before: FAILED (a correct gradient) in 8 and 10 of 10 seeds
    torch = pytest.importorskip("torch")
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X = torch.tensor(rng.normal(size=(20, 5)), dtype=torch.float32)
        t = torch.tensor(rng.normal(size=20) + offset, dtype=torch.float32)
        w0 = rng.normal(size=5)

        def loss(w, X=X, t=t):  # float32 all the way, handed back as a Python float
            r = X @ torch.as_tensor(w, dtype=torch.float32) - t
            return (r * r).mean().item()

        def grad(w, X=X, t=t):
            Xd, td = X.double().numpy(), t.double().numpy()
            return 2.0 * Xd.T @ (Xd @ w - td) / len(td)

        result = gradproof.check_gradient(loss, grad, w0, seed=seed)
        assert result.ok and "float32 grid" in str(result), f"seed {seed}: {result}"

"""Confirmation: a screen failure becomes FAILED only when a fresh, careful measurement agrees.

The screen (:mod:`~gradproof.verify.directional`) sizes its tolerance from one quick noise probe,
so a correct gradient fails it now and then (1.2 % of float64 checks on the layer corpus, at
1–3× the tolerance).  Every direction that fails the screen (up to ``CONFIRM_AT_MOST`` per screen)
is therefore measured again here:

1. the loss's rounding noise σ, from a least-squares fit of a degree-4 polynomial to
   ``f(x + kτu) − f(x) − ⟨g, x_k − x⟩`` at ``NOISE_POINTS`` points of a tiny line
   (``NOISE_POINTS − 5`` degrees of freedom; curvature over the line is far below the noise);
2. along the failing direction, on a ladder of steps h (from 3× the screen's down by 4×): the
   residual ``R = fd − ⟨g, v⟩`` from central differences at h/2 and h/4 (Richardson), its
   truncation ``T`` (change from the pair h, h/2), and the slope jump ``J`` between the right and
   left one-sided derivatives (Richardson from the same points) with its change over the step;
3. the bound ``B = q·3.8σ/h + 2T + 16·u_g·‖g‖·‖v‖``, ``q`` the two-sided Student-t quantile at
   ``ALPHA / (m·(RUNGS + 1))`` (m directions, each tested on up to RUNGS rungs and one averaged
   repeat) with the noise fit's degrees of freedom, ``3.8σ/h`` the rounding std of R;
4. FAILED only when, at some rung, ``|R| > MARGIN·B`` *and* ``|R| > B + MARGIN·J⁺/2``, where
   ``J⁺ = |J| + q·16.7σ/h + 2·(change of J)`` bounds the slope jump: a correct gradient at a kink
   is a one-sided derivative or between them, which leaves ``|R| ≤ |J|/2`` — so no kink, however
   placed, is reported as a wrong gradient.  Where the jump is significant (kinks within the
   step: several may be at work, their jumps partly cancelling, and truncation off its h⁴ law),
   ``|R| > B + MARGIN·J⁺`` instead, with ``4T`` in B;
5. when rounding noise alone keeps the closest rung from confirming, ``REPEATS`` fresh stencils at
   steps just above it are averaged (noise down by √(REPEATS + 1)) and tested once more.

Under the assumptions written in the README (rounding errors of distinct evaluations independent,
zero-mean and of equal spread near the point; Richardson in its asymptotic range on smooth
stretches; a backward accurate to 16 units of roundoff of its dtype), a correct gradient passes
the central test with probability at least ``1 − ALPHA`` per parameter; ``MARGIN`` is kept on top
against those assumptions holding only roughly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradproof.verify.determinism import repeat_change
from gradproof.verify.directional import Directions
from gradproof.verify.options import GRID64
from gradproof.verify.stats import t_quantile

ALPHA = 1e-6  # stated probability that a correct gradient is reported FAILED, per parameter
MARGIN = 2.0  # a confirmed error must exceed its bound B (and the largest kink's) by this factor
CONFIRM_AT_MOST = 3  # failing directions measured again per screen (the furthest beyond tolerance)
NOISE_POINTS = 25  # points on the noise line (24 new evaluations)
NOISE_DEGREE = 4
RECHECKED = 3  # noise-line points furthest from the fit that are evaluated a second time
RUNGS = 4  # steps tried per direction: h, h/4, h/16, h/64
REPEATS = 8  # extra stencils averaged when rounding noise alone keeps the closest rung from confirming
FRESH_STEP = 3.0  # the ladder starts at this multiple of the screen's step: new points, less noise
# rounding-noise standard deviations, in units of σ/h, of the estimates (from their stencils)
CENTRAL_NOISE = 3.8  # Richardson of central differences at h/2, h/4: √130 / 3
JUMP_NOISE = 16.7  # right minus left one-sided Richardson at h/2, h/4: √280
TINY = GRID64  # guards ratios; see GRID64


@dataclass(frozen=True)
class NoiseFit:
    """The loss's rounding noise σ from a polynomial fit with ``dof`` residual degrees of freedom."""

    sigma: float
    dof: int


def noise_line(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    f0: float,
    tau: float,
    rng: np.random.Generator,
    points: int = NOISE_POINTS,
    output_eps: float = 2.0**-52,
) -> NoiseFit:
    """σ of one loss evaluation from ``points`` evaluations on the line x + kτu, k = −m … m.

    The :data:`RECHECKED` points furthest from the fit are evaluated again: an outlier that a
    second call does not reproduce is code that is random on some calls, refused
    (:func:`~gradproof.verify.determinism.repeat_change`) rather than read as rounding noise
    that would clear a wrong gradient.
    """
    half = points // 2
    u = rng.standard_normal(x.shape)
    ks = np.arange(-half, half + 1, dtype=float)
    values = np.empty(len(ks))
    raw: dict[int, tuple[np.ndarray, float]] = {}
    for n, k in enumerate(ks):
        if k == 0:
            values[n] = 0.0
            continue
        xk = q(x + (k * tau) * u)
        raw[n] = (xk, f(xk))
        values[n] = raw[n][1] - f0 - float(np.vdot(g, xk - x))  # exact over the point received
    design = np.vander(ks / half, NOISE_DEGREE + 1)
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    misfit = values - design @ coef
    change = 0.0
    for n in np.argsort(-np.abs(misfit), kind="stable")[:RECHECKED]:
        if int(n) in raw:
            xk, first = raw[int(n)]
            change = max(change, repeat_change(first, f(xk), output_eps))
    rss = float(np.sum(misfit**2))
    dof = len(ks) - (NOISE_DEGREE + 1)
    return NoiseFit(max(math.sqrt(rss / dof), change), dof)


@dataclass(frozen=True)
class Stencil:
    """Estimates along one direction from the points ±h, ±h/2, ±h/4 (residuals r(s) = f − f0 − ⟨g, Δx⟩).

    ``central`` is fd − ⟨g, v⟩ from central differences at h/2, h/4 (Richardson) and
    ``central_trunc`` its change from the pair h, h/2; ``jump`` is the right one-sided derivative
    minus the left one (each Richardson-extrapolated from h/2, h/4), the slope jump of a kink,
    and ``jump_change`` its change from the pair h, h/2 (large when a kink is off-centre).
    """

    h: float
    central: float
    central_trunc: float
    jump: float
    jump_change: float

    @classmethod
    def from_residuals(cls, r: dict[float, float], h: float) -> Stencil:
        def central(s: float) -> float:
            return (r[s] - r[-s]) / (2.0 * s)

        def side(s: float, sign: float) -> float:
            return r[sign * s] / (sign * s)

        c_long = (4.0 * central(h / 2) - central(h)) / 3.0
        c_short = (4.0 * central(h / 4) - central(h / 2)) / 3.0
        jumps = [
            (2.0 * side(a, 1.0) - side(b, 1.0)) - (2.0 * side(a, -1.0) - side(b, -1.0))
            for a, b in ((h / 2, h), (h / 4, h / 2))
        ]
        return cls(h, c_short, abs(c_long - c_short), jumps[1], abs(jumps[0] - jumps[1]))


@dataclass(frozen=True)
class Verdict:
    """What one stencil (or the average of several at nearly the same step) shows."""

    residual: float  # R = fd − ⟨g, v⟩
    bound: float  # B
    threshold: float  # max(MARGIN·B, B + MARGIN·J⁺/2): what |R| must exceed to be confirmed
    noise: float  # the rounding part of B
    jump_noise: float  # the rounding part of J⁺
    jump_seen: bool  # a slope jump beyond its noise and its change with the step: a kink within the step
    step: float

    @property
    def strength(self) -> float:
        """|R| / threshold: above 1 a failure is confirmed; on correct code, the headroom left."""
        return abs(self.residual) / max(self.threshold, TINY)


def judge(
    stencils: list[Stencil], sigma: float, quantile: float, extra: float, shrink: float | None = None
) -> Verdict:
    """The averaged estimates of stencils at (nearly) the same step, against their bounds.

    Rounding noise averages down by √(number of stencils) (``shrink`` overrides that, to ask what
    averaging would give); truncation and the kink terms are averaged as measured.
    """
    n = len(stencils)
    h = min(st.h for st in stencils)
    root = shrink if shrink is not None else math.sqrt(n)
    noise_c = quantile * CENTRAL_NOISE * sigma / h / root
    noise_j = quantile * JUMP_NOISE * sigma / h / root
    central = sum(st.central for st in stencils) / n
    trunc = sum(st.central_trunc for st in stencils) / n
    jump = sum(st.jump for st in stencils) / n
    change = sum(st.jump_change for st in stencils) / n
    # Where a slope jump is seen, kinks lie within the step: truncation no longer follows the h⁴
    # law that makes 2T a bound, and several kinks may be at work (their jumps partly cancelling
    # while their residuals add) — so count truncation four times, and ask for the whole jump
    # rather than half of it.
    seen = abs(jump) > noise_j
    bound = noise_c + (4.0 if seen else 2.0) * trunc + extra
    jump_max = abs(jump) + noise_j + 2.0 * change
    threshold = max(MARGIN * bound, bound + (1.0 if seen else 0.5) * MARGIN * jump_max)
    # reported as a kink only when the jump does not shrink with the step as a smooth function's does
    return Verdict(central, bound, threshold, noise_c, noise_j, abs(jump) > noise_j + 2.0 * change, h)


@dataclass(frozen=True)
class Remeasured:
    """One failing screen direction, measured again."""

    index: int  # position among the screen's directions
    verdict: Verdict  # the rung that decided (confirmed), or the tightest one (not confirmed)
    strength: float  # the largest |R|/threshold over the rungs tried: > 1 means confirmed
    kink: str  # "near" when a slope jump was seen along the way
    scale: float  # ‖v‖·max(‖g‖, typical |fd|), to express errors relative
    typical: float  # a typical |⟨g, v⟩| (the screen's resolution scale), to express resolution
    screen: int  # which of the screens given to :func:`confirm` the direction came from (its position)

    @property
    def confirmed(self) -> bool:
        return self.strength > 1.0 or not math.isfinite(self.verdict.threshold)

    @property
    def residual(self) -> float:
        return self.verdict.residual

    @property
    def threshold(self) -> float:
        """What the error had to exceed (for a pass, at least the error itself)."""
        t = self.verdict.threshold
        return t if self.confirmed else max(t, abs(self.verdict.residual))


@dataclass(frozen=True)
class Confirmation:
    """Outcome of confirming a parameter's screen failures."""

    noise: NoiseFit
    quantile: float
    directions: tuple[Remeasured, ...]

    @property
    def confirmed(self) -> bool:
        return any(d.confirmed for d in self.directions)

    def worst(self) -> Remeasured:
        return max(self.directions, key=lambda d: d.strength)


def remeasure(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    v: np.ndarray,
    f0: float,
    h: float,
    *,
    sigma: float,
    quantile: float,
    extra: Callable[[float], float],
    target: float,
) -> tuple[Verdict, float, str]:
    """(deciding verdict, strength, kink) of ``g`` along ``v``, on a ladder of steps from ``h`` down.

    The ladder stops at the first rung that confirms; at a rung that clearly passes with rounding
    noise dominating its bound (shorter steps only add noise); or once noise alone would keep an
    error of size ``target`` (what the screen saw) from being confirmed.  Then, if averaging
    ``REPEATS`` more stencils at the closest rung could confirm, they are measured and judged.
    """
    r: dict[float, float] = {}

    def stencil(step: float) -> Stencil:
        for s in (step, step / 2, step / 4, -step, -step / 2, -step / 4):
            if s not in r:
                xs = q(x + s * v)
                r[s] = f(xs) - f0 - float(np.vdot(g, xs - x))
        return Stencil.from_residuals(r, step)

    kink = ""
    tightest: Verdict | None = None
    closest: Verdict | None = None
    for _ in range(RUNGS):
        rung = stencil(h)
        verdict = judge([rung], sigma, quantile, extra(h))
        if verdict.strength > 1.0:
            return verdict, verdict.strength, ""
        kink = kink or ("near" if verdict.jump_seen else "")
        if tightest is None or verdict.bound < tightest.bound:
            tightest = verdict
        if closest is None or verdict.strength > closest.strength:
            closest = verdict
        if abs(verdict.residual) <= MARGIN * verdict.bound and 2.0 * rung.central_trunc <= verdict.noise:
            break  # a clean pass: shorter steps only add noise
        if 4.0 * max(MARGIN * verdict.noise, verdict.noise + 0.5 * MARGIN * verdict.jump_noise) >= target:
            break  # the next rung's noise alone would keep an error of the size seen from confirming
        h /= 4.0
    # noise may be all that keeps the closest rung from confirming: average fresh stencils at
    # steps just above it (new points, independent rounding), if that could be enough
    strength = closest.strength
    h = closest.step
    first = [stencil(h)]
    if judge(first, sigma, quantile, extra(h), shrink=math.sqrt(REPEATS + 1)).strength > 1.0:
        averaged = judge(
            first + [stencil(h * (1.0 + 0.05 * j)) for j in range(1, REPEATS + 1)], sigma, quantile, extra(h)
        )
        strength = max(strength, averaged.strength)
        if averaged.strength > 1.0:
            return averaged, averaged.strength, ""
    return tightest, strength, kink


def confirm(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    f0: float,
    screens: list[Directions | None],
    *,
    grad_eps: float,
    step_eps: float,
    sigma_floor: float,
    tau: float,
    rng: np.random.Generator,
    output_eps: float = 2.0**-52,
) -> Confirmation:
    """Measure the screens' failing directions again and decide whether they are real.

    Up to ``CONFIRM_AT_MOST`` failing directions of each screen (random directions, entries;
    ``None`` for a screen not taken) are re-measured, those furthest beyond the screen's
    tolerance first.  ``sigma_floor`` is the least noise a loss value carries (its final
    rounding), ``tau`` the spacing of the noise line, ``output_eps`` the unit roundoff of the
    loss's dtype (what a repeated call may change by, see :func:`~.determinism.repeat_change`).
    """
    chosen = []
    for n, screen in enumerate(screens):
        if screen is None:
            continue
        failing = [k for k in range(screen.n) if not screen.ok[k]]
        failing.sort(key=lambda k: -abs(screen.residual[k]) / max(screen.tolerance[k], TINY))
        chosen += [(n, k) for k in failing[:CONFIRM_AT_MOST]]
    fit = noise_line(f, q, x, g, f0, tau, rng, output_eps=output_eps)
    sigma = max(fit.sigma, sigma_floor)
    # Bonferroni over the directions and the tests on each: the rungs and the averaged repeat
    quantile = t_quantile(ALPHA / (max(len(chosen), 1) * (RUNGS + 1)), fit.dof)
    gnorm = float(np.linalg.norm(g))
    step_term = 4.0 * step_eps * float(np.linalg.norm(g * x)) if step_eps else 0.0
    out = []
    for n, k in chosen:
        screen = screens[n]
        assert screen is not None
        v = screen.vectors[k]
        fixed = 16.0 * grad_eps * gnorm * float(np.linalg.norm(v))

        def extra(h: float, fixed: float = fixed) -> float:
            return fixed + step_term / h

        verdict, strength, kink = remeasure(
            f, q, x, g, v, f0, FRESH_STEP * screen.steps[k], sigma=sigma, quantile=quantile, extra=extra,
            target=abs(screen.residual[k]),
        )
        out.append(Remeasured(k, verdict, strength, kink, screen.scale[k], screen.resolution[k], n))
    return Confirmation(fit, quantile, tuple(out))

"""Confirmation: a screen failure becomes FAILED only when a fresh, careful measurement agrees.

The screen (:mod:`~gradproof.verify.directional`) sizes its tolerance from one quick noise probe,
so a correct gradient fails it now and then (about 1 % of float64 checks on the layer corpus, at
1–3× the tolerance).  Every direction that fails the screen is therefore measured again here:

1. the loss's rounding noise σ, from a least-squares fit of a degree-4 polynomial to the residual
   ``f(x + kτu) − f(x) − ⟨g, kτu⟩`` at ``NOISE_POINTS`` points on a tiny line (``NOISE_POINTS − 5``
   degrees of freedom; curvature over the line is far below the noise);
2. the residual ``R = fd − ⟨g, v⟩`` along the failing direction at fresh points (steps ¾ of the
   screen's, halved while truncation dominates): ``R₂``, Richardson-extrapolated from steps t/2
   and t/4, and its truncation ``T = |R₁ − R₂|`` against the same from t and t/2;
3. the bound ``B = q·3.8σ/t + 2T + 16·u_g·‖g‖·‖v‖`` where ``q`` is the two-sided Student-t
   quantile at ``ALPHA / m`` (m directions confirmed) with the noise fit's degrees of freedom, and
   ``3.8σ/t`` the standard deviation of ``R₂`` from rounding.

Under the assumptions written in the README (rounding errors of distinct evaluations independent,
zero-mean and of equal spread near the point; Richardson in its asymptotic range; a backward
accurate to 16 units of roundoff of its dtype), a correct gradient exceeds ``B`` along a confirmed
direction with probability at most ``ALPHA`` per parameter.  A failure is reported only when
``|R| > MARGIN·B``, a margin against those assumptions holding only roughly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradproof.verify.directional import Directions
from gradproof.verify.stats import t_quantile

ALPHA = 1e-6  # stated probability that a correct gradient is reported FAILED, per parameter
MARGIN = 2.0  # a confirmed error must exceed its bound B by this factor
CONFIRM_AT_MOST = 3  # failing directions measured again (the furthest beyond the screen's tolerance)
NOISE_POINTS = 25  # points on the noise line (24 new evaluations)
NOISE_DEGREE = 4
TINY = 1e-300
FRESH_STEP = 3.0  # the ladder starts at this multiple of the screen's step: new points, less noise


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
) -> NoiseFit:
    """σ of one loss evaluation from ``points`` evaluations on the line x + kτu, k = −m … m."""
    half = points // 2
    u = rng.standard_normal(x.shape)
    ks = np.arange(-half, half + 1, dtype=float)
    values = np.empty(len(ks))
    for n, k in enumerate(ks):
        if k == 0:
            values[n] = 0.0
            continue
        xk = q(x + (k * tau) * u)
        values[n] = f(xk) - f0 - float(np.vdot(g, xk - x))  # exact over the point received
    design = np.vander(ks / half, NOISE_DEGREE + 1)
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    rss = float(np.sum((values - design @ coef) ** 2))
    dof = len(ks) - (NOISE_DEGREE + 1)
    return NoiseFit(math.sqrt(rss / dof), dof)


@dataclass(frozen=True)
class Remeasured:
    """One failing screen direction, measured again."""

    index: int  # position among the screen's directions
    residual: float  # fd − ⟨g, v⟩ at the confirmation's steps
    bound: float  # B: what a correct gradient stays within, with probability 1 − ALPHA/m
    step: float
    kink: str  # "" or the side accepted at a kink
    scale: float  # ‖v‖·max(‖g‖, typical |fd|), to express errors relative
    strength: float  # > 1: confirmed (see :func:`remeasure`); on correct code, the headroom left
    typical: float  # a typical |⟨g, v⟩| (the screen's resolution scale), to express resolution
    screen: int  # which of the screens given to :func:`confirm` the direction came from (its position)

    @property
    def threshold(self) -> float:
        """MARGIN·B: the error a failure must exceed."""
        return MARGIN * self.bound

    @property
    def confirmed(self) -> bool:
        return self.strength > 1.0 or not math.isfinite(self.bound)


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
        return max(self.directions, key=lambda d: abs(d.residual) / max(d.bound, 1e-300))


RUNGS = 4  # steps tried per direction: h, h/4, h/16, h/64
REPEATS = 8  # extra stencils averaged when rounding noise alone keeps the closest rung from confirming
# rounding-noise standard deviations, in units of σ/h, of the estimates below (from their stencils)
CENTRAL_NOISE = 3.8  # Richardson of central differences at h/2, h/4: √(130)/3
JUMP_NOISE = 16.7  # right minus left one-sided Richardson at h/2, h/4: √280


@dataclass
class _Rung:
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


def _rung(r: dict[float, float], h: float) -> _Rung:
    def central(s: float) -> float:
        return (r[s] - r[-s]) / (2.0 * s)

    def side(s: float, sign: float) -> float:
        return r[sign * s] / (sign * s)

    c_long = (4.0 * central(h / 2) - central(h)) / 3.0
    c_short = (4.0 * central(h / 4) - central(h / 2)) / 3.0
    jumps = []
    for a, b in ((h / 2, h), (h / 4, h / 2)):
        jumps.append((2.0 * side(a, 1.0) - side(b, 1.0)) - (2.0 * side(a, -1.0) - side(b, -1.0)))
    return _Rung(h, c_short, abs(c_long - c_short), jumps[1], abs(jumps[0] - jumps[1]))


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
) -> tuple[float, float, float, str, float]:
    """(residual, bound B, step, kink, strength) of ``g`` along ``v``, on a ladder of steps from ``h`` down.

    At each rung the residual R = fd − ⟨g, v⟩ comes from central differences at h/2 and h/4
    (Richardson), with bound B.  A rung confirms a failure when |R| > MARGIN·B *and* no kink
    can explain it: a correct gradient at a kink is one of the one-sided derivatives or lies
    between them, and then |R| is at most half their difference (the slope jump) — so the jump
    measured from the same points, at its upper bound, must be smaller than 2(|R| − B), by the
    margin again since several kinks within the step can add up.  An off-centre kink shows as a
    jump that changes with the step, which raises that upper bound.
    The ladder stops at a rung that clearly passes with rounding noise dominating its bound, or
    once noise alone would keep an error of size ``target`` (what the screen saw) from being
    confirmed.  ``strength`` is how far the most convincing rung came towards confirming: the
    smaller of |R|/(MARGIN·B) and 2(|R| − B)/(MARGIN·jump bound); a failure is confirmed when it
    exceeds 1, and on correct code it shows the headroom left.
    """
    r: dict[float, float] = {}

    def stencil(h: float) -> _Rung:
        for s in (h, h / 2, h / 4, -h, -h / 2, -h / 4):
            if s not in r:
                xs = q(x + s * v)
                r[s] = f(xs) - f0 - float(np.vdot(g, xs - x))
        return _rung(r, h)

    kink = ""
    best = None
    strength = 0.0
    most = None  # (strength, h) of the rung that came closest
    for _ in range(RUNGS):
        rung = stencil(h)
        v_ = _verdict([rung], sigma, quantile, extra(h))
        strength = max(strength, v_.strength)
        if v_.strength > 1.0:
            return v_.central, v_.bound, h, "", strength
        if v_.jump_seen:
            kink = "near"  # a slope jump beyond noise: a kink within the step
        if best is None or v_.bound < best[1]:
            best = (v_.central, v_.bound, h)
        if most is None or v_.strength > most[0]:
            most = (v_.strength, h)
        if abs(v_.central) <= MARGIN * v_.bound and 2.0 * rung.central_trunc <= v_.noise:
            return v_.central, v_.bound, h, kink, strength  # a clean pass: shorter steps only add noise
        # a shorter step only helps while its noise could still confirm an error of this size
        if 4.0 * max(MARGIN * v_.noise, v_.noise + 0.5 * MARGIN * v_.jump_noise) >= target:
            break
        h /= 4.0
    # Noise may be all that keeps the closest rung from confirming: average REPEATS fresh stencils
    # at steps just above it (new points, independent rounding), if that could be enough.
    h = most[1]
    single = [stencil(h)]
    if _verdict(single, sigma, quantile, extra(h), shrink=math.sqrt(REPEATS + 1)).strength > 1.0:
        stencils = single + [stencil(h * (1.0 + 0.05 * j)) for j in range(1, REPEATS + 1)]
        v_ = _verdict(stencils, sigma, quantile, extra(h))
        strength = max(strength, v_.strength)
        if v_.strength > 1.0:
            return v_.central, v_.bound, h, "", strength
    central, bound, step = best
    # not confirmed: reported against a bound it stays within
    return central, max(bound, abs(central) / MARGIN), step, kink, strength


@dataclass(frozen=True)
class _Verdict:
    central: float
    bound: float
    noise: float
    jump_noise: float
    jump_seen: bool
    strength: float


def _verdict(stencils: list[_Rung], sigma: float, quantile: float, extra: float, shrink: float | None = None) -> _Verdict:
    """The averaged estimates of stencils at (nearly) the same step, and how strongly they confirm.

    Rounding noise averages down by √(number of stencils) (``shrink`` overrides that, to ask what
    averaging would give); truncation is averaged as measured.
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
    bound = noise_c + 2.0 * trunc + extra
    jump_max = abs(jump) + noise_j + 2.0 * change
    strength = min(
        abs(central) / max(MARGIN * bound, TINY), 2.0 * (abs(central) - bound) / max(MARGIN * jump_max, TINY)
    )
    return _Verdict(central, bound, noise_c, noise_j, abs(jump) > noise_j + 2.0 * change, strength)


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
) -> Confirmation:
    """Measure the screens' failing directions again and decide whether they are real.

    Up to ``CONFIRM_AT_MOST`` failing directions of each screen (random directions, entries;
    ``None`` for a screen not taken) are re-measured, those furthest beyond the screen's tolerance first.  ``sigma_floor`` is
    the least noise a loss value carries (its final rounding), ``tau`` the spacing of the noise line.
    """
    chosen = []
    for n, screen in enumerate(screens):
        if screen is None:
            continue
        failing = [k for k in range(screen.n) if not screen.ok[k]]
        failing.sort(key=lambda k: -abs(screen.residual[k]) / max(screen.tolerance[k], 1e-300))
        chosen += [(n, k) for k in failing[:CONFIRM_AT_MOST]]
    fit = noise_line(f, q, x, g, f0, tau, rng)
    sigma = max(fit.sigma, sigma_floor)
    # Bonferroni over the directions and the tests on each: the rungs and the averaged repeat
    quantile = t_quantile(ALPHA / (max(len(chosen), 1) * (RUNGS + 1)), fit.dof)
    gnorm = float(np.linalg.norm(g))
    step_term = 4.0 * step_eps * float(np.linalg.norm(g * x)) if step_eps else 0.0
    out = []
    for n, k in chosen:
        screen = screens[n]
        v = screen.vectors[k]
        fixed = 16.0 * grad_eps * gnorm * float(np.linalg.norm(v))

        def extra(h: float, fixed: float = fixed) -> float:
            return fixed + step_term / h

        residual, bound, step, kink, strength = remeasure(
            f, q, x, g, v, f0, FRESH_STEP * screen.steps[k], sigma=sigma, quantile=quantile, extra=extra,
            target=abs(screen.residual[k]),
        )
        out.append(
            Remeasured(
                k, float(residual), float(bound), float(step), kink, screen.scale[k], strength,
                screen.resolution[k], n,
            )
        )
    return Confirmation(fit, quantile, tuple(out))

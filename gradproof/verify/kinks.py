"""Kinks: points where the loss is not differentiable (ReLU, max, abs, hinge).

When a central difference straddles a kink it estimates neither side's derivative, so a correct
gradient looks wrong.  Two tests settle it (caffe#1334's remedy):

* *is the function smooth here?*  For a smooth function the second differences at steps t and
  t/2 scale as t², so ``f(−t) − 4f(−t/2) + 6f(0) − 4f(t/2) + f(t)`` is O(t⁴); noise alone keeps it
  near ``√70·σ``.  Anything far larger means a kink lies within the step;
* *does the gradient match a one-sided derivative?*  Each side is estimated at steps t/4, t/2 and
  t, Richardson-extrapolated, and accepted only if that side is itself smooth.  A gradient that
  matches either side, or lies between them, is accepted and the point reported as a kink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gradproof.verify.options import GRID64

# how far beyond the noise level the fourth difference must be to call the point non-smooth
NONSMOOTH_FACTOR = 50.0


def looks_nonsmooth(
    fm1: float,
    fm2: float,
    f0: float,
    fp2: float,
    fp1: float,
    sigma: float,
    fm4: float | None = None,
    fp4: float | None = None,
    fm8: float | None = None,
    fp8: float | None = None,
) -> bool:
    """Whether the central points (−t, −t/2, 0, t/2, t) show a kink rather than noise.

    With the quarter points (±t/4) as well, a fourth difference far above the noise is still
    called smooth when it scales as a smooth function's does: halving the spacing divides it by
    16 (a kink's shrinks only about 2×, or vanishes once the shorter stencil misses it).  That
    keeps long steps, where curvature alone lifts the fourth difference, from looking kinked.
    """
    d4 = fm1 - 4.0 * fm2 + 6.0 * f0 - 4.0 * fp2 + fp1
    floor = NONSMOOTH_FACTOR * max(sigma, GRID64)
    if abs(d4) <= floor:
        return False
    if fm4 is None or fp4 is None:
        return True
    d4_half = fm2 - 4.0 * fm4 + 6.0 * f0 - 4.0 * fp4 + fp2
    if abs(d4 - 16.0 * d4_half) > max(16.0 * floor, 0.25 * abs(d4)):
        return True
    if fm8 is None or fp8 is None or abs(d4_half) <= floor:
        return False
    # several kinks can mimic the 16× once; a smooth function repeats it at the next spacing
    d4_quarter = fm4 - 4.0 * fm8 + 6.0 * f0 - 4.0 * fp8 + fp4
    return abs(d4_half - 16.0 * d4_quarter) > max(16.0 * floor, 0.25 * abs(d4_half))


@dataclass(frozen=True)
class OneSided:
    """Outcome of the one-sided test along one direction."""

    accepted: bool
    side: str  # "right", "left", "between" or ""
    residual: float  # FD − ⟨g, v⟩ of the accepted side (or the smaller one)
    tolerance: float


def one_sided(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    v: np.ndarray,
    t: float,
    f0: float,
    known: dict[float, float],
    sigma: float,
    extra_tol: float,
    scale: float,
) -> OneSided:
    """Compare ⟨g, v⟩ with the left and right derivatives along ``v``.

    ``known`` maps signed steps (±t, ±t/2) to loss values already computed; ``extra_tol`` is the
    part of the tolerance that does not come from finite differences (the gradient's own
    rounding); ``scale`` is ‖g‖·‖v‖, used to decide that a side is smooth.
    """
    results = {}
    for sign, name in ((1.0, "right"), (-1.0, "left")):
        res = []
        for h in (t / 4.0, t / 2.0, t):
            xs = q(x + (sign * h) * v)
            fs = known.get(sign * h)
            if fs is None:
                fs = f(xs)
            res.append((fs - f0 - float(np.vdot(g, xs - x))) / (sign * h))
        r4, r2, r1 = res
        rich1 = 2.0 * r4 - r2
        rich2 = 2.0 * r2 - r1
        noise = 10.0 * 14.0 * sigma / t
        spread = abs(rich1 - rich2)
        smooth = spread <= max(5.0 * noise, 1e-6 * scale)
        tol = 2.0 * spread + noise + extra_tol
        results[name] = (smooth, rich1, tol)
    best = None
    for name in ("right", "left"):
        smooth, res, tol = results[name]
        if smooth and abs(res) <= tol:
            if best is None or abs(res) < abs(best.residual):
                best = OneSided(True, name, res, tol)
    if best is not None:
        return best
    (sr, rr, tr), (sl, rl, tl) = results["right"], results["left"]
    if sr and sl and rr * rl < 0:  # ⟨g, v⟩ lies between the two one-sided derivatives
        return OneSided(True, "between", min(rr, rl, key=abs), max(tr, tl))
    res, tol = min(((rr, tr), (rl, tl)), key=lambda p: abs(p[0]))
    return OneSided(False, "", res, tol)


LADDER_STEPS = 6  # central differences at t, t/4, …, t/4⁵
LADDER_SIGMAS = 3.0  # standard deviations of rounding noise that count as a real difference


def settle_on_ladder(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    v: np.ndarray,
    user: float,
    t: float,
    sigma: float,
    limit: float = float("inf"),
) -> tuple[float, float] | None:
    """(residual, tolerance) when a failing direction is explained by a kink, else None.

    Nothing is accepted with a tolerance above ``limit``: a rung that noisy cannot tell.

    Low-precision code needs long steps, and a long step in a ReLU network crosses kinks that
    the fourth-difference test cannot tell from noise.  Central differences on a ladder of
    steps t, t/4, t/16, … tell them apart: for a smooth function successive differences shrink
    about 16× per rung (the h² law), so a change between two rungs larger than the rounding
    noise *and* than the h² law allows means a kink lies between those two steps.  The gradient
    is then accepted if it agrees, within noise, with a difference at a shorter step, which no
    longer straddles that kink.  On a smooth function the ladder converges, no kink is seen, and
    a wrong gradient still fails.
    """
    fds, stds = [], []
    h = t
    for _ in range(LADDER_STEPS):
        xp, xm = q(x + h * v), q(x - h * v)
        span = float(np.vdot(xp - xm, v)) / float(np.vdot(v, v))  # 2 × the step actually taken
        if span <= 0:
            break
        fds.append((f(xp) - f(xm)) / span)
        stds.append(np.sqrt(2.0) * sigma / span)  # std of a central difference from noise σ
        h /= 4
    for j in range(2, len(fds)):
        change = abs(fds[j] - fds[j - 1])
        allowed = LADDER_SIGMAS * np.hypot(stds[j], stds[j - 1]) + abs(fds[j - 1] - fds[j - 2]) / 4.0
        if change > allowed:  # a kink lies within step j − 1 but not within step j
            for k in range(j, len(fds)):
                if abs(fds[k] - user) <= LADDER_SIGMAS * stds[k] <= limit:
                    return fds[k] - user, LADDER_SIGMAS * stds[k]
            return None
    return None

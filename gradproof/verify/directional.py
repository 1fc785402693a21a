"""Directional checks: ⟨g, v⟩ against central differences along seeded signed directions.

A full finite-difference Jacobian costs two loss evaluations per entry; a directional check
costs four per direction whatever the size.  Signed Gaussian directions matter: a non-negative
direction (torch's ``fast_mode``) cancels against gradients whose entries sum to zero.

Every difference is taken as a *residual* ``f(x₊) − f(x₋) − ⟨g, x₊ − x₋⟩`` over the points the
code really received (after rounding to its dtype), so rounded steps cost nothing.  Steps t and
t/2 are Richardson-extrapolated; the tolerance is built from

* truncation — ``|r(t) − r(t/2)|``, an upper bound on what Richardson leaves;
* rounding — the loss's *measured* noise σ (ECnoise-style fourth differences) over the step;
* the gradient's own precision — its dtype's roundoff times ‖g‖·‖v‖;

all relative to ‖g‖·‖v‖, never entry by entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradproof.errors import InputError
from gradproof.verify.batching import prefetch
from gradproof.verify.determinism import repeat_change
from gradproof.verify.hearing import GROWTH_RATIO, STENCILS, grows_with_step, lone_float32, result_grid
from gradproof.verify.kinks import looks_nonsmooth, one_sided
from gradproof.verify.options import DTYPE_EPS, GRID64, relative_noise

EPS64 = DTYPE_EPS["float64"]
NOISE_SAFETY = 6.0  # rounding-noise standard deviations a residual may reach
RICHARDSON_NOISE = 1.9  # std of the extrapolated residual, in units of σ/t


@dataclass(frozen=True)
class Noise:
    """The loss's rounding noise near the point, as measured."""

    sigma: float  # absolute std of one loss evaluation
    relative: float  # sigma / |loss|, at least float64's roundoff
    low_precision: bool  # the code computes in less than float64
    nonsmooth: bool  # the noise probe straddled a kink
    # the four probe calls and the loss at the point agree to within float64 rounding: fresh calls
    # of the code returned consistent values, so it is deterministic there (no re-run needed)
    quiet: bool = False
    # unit roundoff of the loss's results: its declared dtype's, or a coarser one its values lie on
    # (a float32 result handed back as a Python float), see hearing.result_grid
    output_eps: float = EPS64
    grid: str = ""  # the dtype whose grid the values were found on, when coarser than declared
    # the probe heard no change at all within ±silent of the point (0.0: it heard one): the loss's
    # resolution there is unknown, and ``floor`` states the rounding assumed for it
    silent: float = 0.0
    floor: float = 0.0  # no later noise estimate (the confirmation's) may go below this σ


START_DENSE, START_BASIS = 1.0 / 6.0, 1.0 / 8.0  # first step ε^a·scale, halved while truncation dominates
RETRY_SHRINK = (1 / 8, 1 / 8, 1 / 16, 1e-3, 1e-3)  # successive step reductions at a kink
# A direction passes only when its tolerance resolves errors of this size relative to the typical
# projection ‖g‖·‖v‖/√n (what a gradient off by that share of its norm changes ⟨g, v⟩ by); a
# coarser direction (long steps across kinks, float32 noise) is inconclusive and measured again.
RESOLUTION_TARGET = 3e-3
POOL_AT_LEAST = 32  # vectors from which the residual noise is measured rather than probed
GAUSSIAN_UP_TO = 2048  # entries; larger parameters get random signs (Rademacher)


def direction(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A seeded signed random direction.

    Gaussian for small parameters; random ±1 for large ones, which is 5× cheaper to draw and,
    unlike a Gaussian, never nearly zero at the one entry that is wrong.
    """
    size = int(np.prod(shape, dtype=np.int64))
    if size <= GAUSSIAN_UP_TO:
        return rng.standard_normal(shape)
    bits = np.unpackbits(np.frombuffer(rng.bytes((size + 7) // 8), dtype=np.uint8), count=size)
    return (bits * 2.0 - 1.0).reshape(shape)


def measure_noise(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    f0: float,
    scale: float,
    rng: np.random.Generator,
    output_eps: float,
) -> Noise:
    """Estimate the loss's rounding noise from fourth differences on tiny uniform grids.

    1. A first fourth difference at step τ = 10⁻⁶·scale (4 calls).  One that *heard nothing*
       (every value equal to f(x)) says nothing about the noise: the step is widened (×10, up to
       :data:`WIDEST`·scale) until the loss changes.  Values that then lie on a float32 (float16,
       bfloat16) grid are that dtype's results, whatever type carried them; changes of a few
       steps of the loss's own grid mean the first probe was right (a loss of 1e-320); a loss
       still exactly constant is *silent*, and its rounding is assumed to be float64's on values
       of the size of the loss and of its input (:data:`Noise.floor`), which the report states.
    2. Within float64 rounding the loss is quiet (deterministic, float64 noise).  Otherwise the
       same four points are evaluated again (code that answers differently is refused, see
       :func:`~gradproof.verify.determinism.repeat_change`), and :data:`~.hearing.STENCILS`
       independent fourth differences at the step and at :data:`~.hearing.GROWTH_RATIO` times it
       decide between noise and a kink (:func:`~gradproof.verify.hearing.grows_with_step`, a
       stated false-positive rate); noise is then their pooled root mean square.
    """
    u = direction(rng, x.shape)

    def probe(tau: float) -> tuple[float, float, dict[int, np.ndarray], dict[int, float]]:
        points = {k: q(x + (k * tau) * u) for k in (-2, -1, 1, 2)}
        prefetch(f, lambda: list(points.values()))
        vals = {k: f(p) for k, p in points.items()}
        d4 = vals[-2] - 4 * vals[-1] + 6 * f0 - 4 * vals[1] + vals[2]
        return abs(d4) / math.sqrt(70.0), max(abs(f0), *(abs(v) for v in vals.values())), points, vals

    tau = PROBE_START * scale
    s1, fmax, points, vals = probe(tau)
    heard = [f0, *vals.values()]
    first = (s1, fmax, points, vals)
    while all(v == f0 for v in vals.values()) and tau * WIDEN <= WIDEST * scale * (1 + 1e-9):
        try:  # heard nothing: no noise estimate rests on that; reach further
            wider = probe(tau * WIDEN)
        except InputError:  # the loss is not defined that far out (NaN, an error): silent this far
            break
        tau *= WIDEN
        s1, fmax, points, vals = wider
        heard += vals.values()
    grid, output_eps = _coarser_grid(heard, output_eps)
    # a nonzero loss value is never rounded more finely than its dtype's grid (float64's at least)
    own_grid = max(output_eps * fmax, GRID64) if fmax else 0.0
    silent = 0.0
    if tau > PROBE_START * scale and not grid:
        changes = [abs(v - f0) for v in vals.values()]
        if 0.0 < max(changes) <= OWN_GRID_SILENCE * own_grid:
            s1, fmax, points, vals = first  # the loss's own grid was all the first probe did not hear
            tau = PROBE_START * scale
        elif max(changes) == 0.0 and output_eps < DTYPE_EPS["float32"] and lone_float32(f0):
            # never heard to change, but its one value is a float32 number: a float32 result whose
            # quantum exceeds every change probed, judged as one (as if returned as np.float32)
            grid, output_eps = "float32", DTYPE_EPS["float32"]
        else:  # exactly constant over ±2τ/10 (or everywhere probed), with no grid to explain it
            silent = 2.0 * (tau / WIDEN if max(changes) > 0 else tau)
    floor = max(output_eps * fmax, GRID64) if fmax else 0.0
    if silent:
        assumed = EPS64 * max(fmax, scale)
        sigma = max(floor, assumed)
        return Noise(sigma, max(EPS64, relative_noise(sigma, f0, fmax)), output_eps > EPS64, False, True,
                     output_eps, grid, silent, assumed)
    if s1 <= 1e3 * EPS64 * fmax:
        sigma = max(s1, floor, EPS64 * fmax)
        return Noise(sigma, max(EPS64, relative_noise(sigma, f0, fmax)), output_eps > EPS64, False, quiet=True,
                     output_eps=output_eps, grid=grid)
    # noise this large rests on four calls: the same four points must give the same values again
    # (asked for the same way, batched where the first were, so that only the code can differ)
    prefetch(f, lambda: list(points.values()))
    floor = max(floor, *(repeat_change(vals[k], f(p), output_eps) for k, p in points.items()))
    short, long_, values, again = _growth_probe(f, q, x, tau, rng)
    if not grid:  # forty more values: a float32 result shows its grid where four did not
        grid, output_eps = _coarser_grid(heard + values, output_eps)
        floor = max(floor, output_eps * fmax)
    floor = max(floor, *(repeat_change(a, b, output_eps) for a, b in again))
    if grows_with_step(short, long_):  # grows with the step: a kink inside the probe, not rounding noise
        sigma = max(floor, EPS64 * fmax)
        return Noise(sigma, max(EPS64, relative_noise(sigma, f0, fmax)), output_eps > EPS64, True,
                     output_eps=output_eps, grid=grid)
    pooled = math.sqrt((70.0 * s1**2 + float(np.sum(np.square(short + long_)))) / (70.0 * (1 + len(short + long_))))
    # float32 code rounds at least its result: never assume less than a third of an ulp of it
    sigma = max(pooled, floor, DTYPE_EPS["float32"] * fmax / 3.0)
    rel = min(1e-3, max(EPS64, relative_noise(sigma, f0, fmax)))
    return Noise(sigma, rel, True, False, output_eps=output_eps, grid=grid)


def _coarser_grid(values: list[float], output_eps: float) -> tuple[str, float]:
    """(the dtype whose grid ``values`` lie on, its unit roundoff) when coarser than the declared
    ``output_eps``; else ("", ``output_eps``)."""
    grid, grid_eps = result_grid(values)
    return (grid, grid_eps) if grid_eps > output_eps else ("", output_eps)


PROBE_START = 1e-6  # the first probe's step, relative to the input's scale
WIDEN, WIDEST = 10.0, 0.1  # a probe that heard nothing is widened this much at a time, up to WIDEST·scale
# changes within this many steps of the loss's own grid (its declared dtype's) after a ×WIDEN wider
# probe: the silence was that grid's, as for a loss of 1e-320 on float64's or a float32 result
OWN_GRID_SILENCE = 4.0 * WIDEN
# offsets of a growth-test stencil, in steps: five points around x, x itself not among them (its
# rounding would be shared by every stencil), a kink at x inside
STENCIL_AT = (-1.5, -0.5, 0.5, 1.5, 2.5)
D4 = (1.0, -4.0, 6.0, -4.0, 1.0)


def _growth_probe(f, q, x, tau, rng) -> tuple[list[float], list[float], list[float], list[tuple[float, float]]]:
    """Fourth differences of :data:`~.hearing.STENCILS` stencils along independent directions at
    step ``tau`` and along the same directions at ``GROWTH_RATIO·tau`` (new points: independent
    rounding); all their values; and (first, again) pairs for the stencil with the largest
    difference, evaluated a second time (code random on some calls must not pass for noise)."""
    # the same directions at both steps: a kink through x then grows exactly GROWTH_RATIO-fold in
    # each, while rounding, at other points, stays independent
    ws = [direction(rng, x.shape) for _ in range(STENCILS)]
    stencils = [[q(x + (s * step) * w) for s in STENCIL_AT] for step in (tau, GROWTH_RATIO * tau) for w in ws]
    prefetch(f, lambda: [p for st in stencils for p in st])
    values = [[f(p) for p in st] for st in stencils]
    d4 = [float(np.dot(D4, vs)) for vs in values]
    worst = int(np.argmax(np.abs(d4)))
    prefetch(f, lambda: stencils[worst])
    again = [(v, f(p)) for v, p in zip(values[worst], stencils[worst], strict=True)]
    return d4[:STENCILS], d4[STENCILS:], [v for vs in values for v in vs], again


@dataclass
class Directions:
    """Everything measured along the directions of one parameter."""

    step: float
    vectors: list[np.ndarray] = field(default_factory=list)
    user: list[float] = field(default_factory=list)  # ⟨g, v⟩
    fd: list[float] = field(default_factory=list)  # finite-difference directional derivative
    residual: list[float] = field(default_factory=list)  # fd − user
    tolerance: list[float] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)
    kink: list[str] = field(default_factory=list)  # "", "right", "left", "between"
    scale: list[float] = field(default_factory=list)  # ‖v‖·max(‖g‖, typical |fd|)
    steps: list[float] = field(default_factory=list)  # the step each direction settled on
    resolution: list[float] = field(default_factory=list)  # ‖v‖·max(‖g‖, typical |fd|)/√n: a typical |⟨g, v⟩|

    @property
    def n(self) -> int:
        return len(self.vectors)

    @property
    def n_bad(self) -> int:
        return sum(not ok for ok in self.ok)

    @property
    def n_kink(self) -> int:
        return sum(bool(k) for k in self.kink)

    def worst(self) -> tuple[float, float]:
        """(relative error, relative tolerance) of the direction furthest beyond its tolerance."""
        ratios = [abs(r) / max(t, GRID64) for r, t in zip(self.residual, self.tolerance, strict=True)]
        k = int(np.argmax(ratios))
        s = max(self.scale[k], GRID64)
        return abs(self.residual[k]) / s, self.tolerance[k] / s


def _residual(f, q, x, g, v, h, vals) -> float:
    """(f(x+hv) − f(x−hv) − ⟨g, x₊ − x₋⟩) / 2h over the points the code received; caches values."""
    xp, xm = q(x + h * v), q(x - h * v)
    prefetch(f, [xp, xm])
    vals[h], vals[-h] = f(xp), f(xm)
    return (vals[h] - vals[-h] - float(np.vdot(g, xp - xm))) / (2 * h)


def _pooled_noise(truncs: np.ndarray, probe: float) -> float:
    """The residuals' noise std measured from many vectors' |R(t) − R(t/2)|.

    That difference does not involve g, so a wrong gradient cannot inflate it; with steps t,
    t/2, t/4 its noise std is 4.45σ/t against R(t)'s 1.9σ/t.  Robust quantiles of |N(0, 1)|
    (median 0.674, 90th percentile 1.645) turn it into a std; truncation only makes it larger.
    """
    est = max(float(np.median(truncs)) / 0.674, float(np.quantile(truncs, 0.9)) / 1.645)
    return max(est * RICHARDSON_NOISE / 4.45, 0.1 * probe)


def _richardson(res: dict[float, float], t: float) -> tuple[float, float]:
    """(R(t), |R(t) − R(t/2)|): extrapolated residual from steps t, t/2 and its truncation bound."""
    rich = (4.0 * res[t / 2] - res[t]) / 3.0
    return rich, abs(rich - (4.0 * res[t / 4] - res[t / 2]) / 3.0)


def check_directions(
    f: Callable[[np.ndarray], float],
    q: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    g: np.ndarray,
    f0: float,
    noise: Noise,
    *,
    count: int,
    rng: np.random.Generator,
    grad_eps: float,
    step_eps: float,
    scale: float,
    rtol: float | None = None,
    atol: float | None = None,
    vectors: list[np.ndarray] | None = None,
) -> Directions:
    """Test ``g`` along ``count`` seeded signed directions (or along the given ``vectors``).

    ``step_eps`` is the roundoff of steps the code rounds silently (it computes in float32 on
    float64 input); it adds ``4·step_eps·‖g⊙x‖/t`` to the tolerance.

    The step is chosen on the first direction: rounding noise over the step (σ/t) limits a
    check long before Richardson's truncation does, so start long, at ε^(1/6), and halve while
    the measured truncation |R(t) − R(t/2)| outweighs the noise term — down to ε^(1/4), the
    step that was safe for every function.  Each direction's tolerance still carries its own
    measured truncation.
    """
    sigma = noise.sigma
    floor_t = noise.relative**0.25 * scale
    # one coordinate at a time sees far less curvature than a dense direction: start longer
    t0 = noise.relative ** (START_BASIS if vectors is not None else START_DENSE) * scale
    gnorm = float(np.linalg.norm(g))
    vectors_given = vectors
    vectors = list(vectors) if vectors is not None else [direction(rng, x.shape) for _ in range(count)]
    pending = []
    for k, v in enumerate(vectors):
        if k <= 1:  # the first direction's six points; once its step is settled, every other's
            prefetch(f, lambda k=k: [q(x + s * h * w) for w in vectors[k : k + 1 if k == 0 else None]
                                     for h in (t0, t0 / 2, t0 / 4) for s in (1, -1)])
        vals: dict[float, float] = {}
        res = {h: _residual(f, q, x, g, v, h, vals) for h in (t0, t0 / 2, t0 / 4)}
        rich, trunc = _richardson(res, t0)
        t = t0
        while t / 2 >= 0.999 * floor_t and (
            4.0 * trunc > NOISE_SAFETY * RICHARDSON_NOISE * sigma / t
            or looks_nonsmooth(vals[-t], vals[-t / 2], f0, vals[t / 2], vals[t], sigma, vals[-t / 4], vals[t / 4])
        ):
            t /= 2
            res[t / 4] = _residual(f, q, x, g, v, t / 4, vals)
            rich, trunc = _richardson(res, t)
        if k == 0:
            t0 = t  # later directions start where the first settled, and may go shorter
        pending.append((v, rich, trunc, vals, t))
    out = Directions(step=float(t0))
    pooled = None
    if len(pending) >= POOL_AT_LEAST:  # std of R(t)·t, measured over many vectors
        pooled = _pooled_noise(np.array([p[2] * p[4] for p in pending]), RICHARDSON_NOISE * sigma)
    step_num = 4.0 * step_eps * float(np.linalg.norm(g * x)) if step_eps else 0.0
    root_n = math.sqrt(max(x.size, 1))
    users = [float(np.vdot(g, v)) for v, *_ in pending]
    fds = np.array([a + p[1] for a, p in zip(users, pending, strict=True)])
    top = float(np.max(np.abs(fds), initial=0.0))  # scaled, so losses near 1e300 cannot overflow
    typical = top * math.sqrt(np.mean((fds / top) ** 2)) if top > 0 and math.isfinite(top) else top
    for a, (v, rich, trunc, vals, t) in zip(users, pending, strict=True):
        noise_r = (pooled if pooled is not None else RICHARDSON_NOISE * sigma) / t
        vnorm = float(np.linalg.norm(v))
        extra = 16.0 * grad_eps * gnorm * vnorm + step_num / t
        scale_k = vnorm * max(gnorm, typical)  # typical |fd| ≈ ‖true gradient‖ for Gaussian v
        limit = RESOLUTION_TARGET * scale_k / root_n
        tol = math.hypot(2.0 * trunc, NOISE_SAFETY * noise_r) + extra
        own = rtol is None and atol is None
        if rtol is not None:
            tol = rtol * scale_k
        if atol is not None:
            tol = tol + atol * vnorm
        residual, kink, ok = rich, "", abs(rich) <= tol and math.isfinite(tol)  # inf passes nothing
        if ok and own and vectors_given is None and tol > limit:
            ok = False  # inconclusive: too coarse to pass, left to the confirmation's shorter steps
        elif not ok and t / 8 not in vals:
            _residual(f, q, x, g, v, t / 8, vals)  # two more calls, only for a failing direction
        if not ok and t / 8 in vals and looks_nonsmooth(
            *(vals[-t], vals[-t / 2], f0, vals[t / 2], vals[t], sigma),
            *(vals[-t / 4], vals[t / 4], vals[-t / 8], vals[t / 8]),
        ):
            accepted = _kink_retry(f, q, x, g, v, t, f0, vals, sigma, extra, scale_k, limit if own else math.inf)
            if accepted is not None:
                residual, kink, tol_k = accepted
                ok = True
                tol = max(tol, tol_k)
        out.vectors.append(v)
        out.user.append(a)
        out.fd.append(a + residual)
        out.residual.append(residual)
        out.tolerance.append(tol)
        out.ok.append(ok)
        out.kink.append(kink)
        out.scale.append(scale_k)
        out.steps.append(float(t))
        out.resolution.append(scale_k / root_n)
    return out


def _kink_retry(f, q, x, g, v, t, f0, vals, sigma, extra, scale_k, limit):
    """(residual, side, tolerance) if ``g`` passes at a kink along ``v``, else None.

    First the one-sided derivatives at step t; then, since a kink a little way off is no longer
    straddled by a shorter step (and a long step may straddle several, as in a ReLU network),
    central and one-sided differences at steps 8×, 64×, 1024×, 10⁶× … shorter while rounding
    allows.  Nothing is accepted with a tolerance above ``limit`` (too coarse to tell).
    """
    step, known = t, vals
    for shrink in RETRY_SHRINK:
        side = one_sided(f, q, x, g, v, step, f0, known, sigma, extra, scale_k)
        if side.accepted and side.tolerance <= limit:
            return side.residual, side.side, side.tolerance
        step = step * shrink
        noise_tol = NOISE_SAFETY * RICHARDSON_NOISE * sigma / step
        if noise_tol > limit:
            return None
        known = {}
        res = []
        for h in (step, step / 2):
            xp, xm = q(x + h * v), q(x - h * v)
            known[h], known[-h] = f(xp), f(xm)
            res.append((known[h] - known[-h] - float(np.vdot(g, xp - xm))) / (2 * h))
        rich = (4.0 * res[1] - res[0]) / 3.0
        tol = 2.0 * abs(res[0] - res[1]) + noise_tol + extra
        if abs(rich) <= tol <= limit:
            return rich, "near", tol
        if not looks_nonsmooth(known[-step], known[-step / 2], f0, known[step / 2], known[step], sigma):
            return None
    return None
